/**
 * What every operation on the Vault pods shares: the context it runs in, and waiting for a pod's Vault API to answer.
 */
import { PollContext, pollUntil, StepError } from "../poll";
import { SealStatus, VaultOps, VaultRefused, VaultUnavailable } from "../vaultOps";
import { AutoSeal, retiringSealFailureError, sealFailure, sealFailureError } from "./autoUnseal";

export interface StepContext extends PollContext {
    ops: VaultOps;
    /** Vault's namespace, for the commands a message tells the user to run. */
    namespace?: string;
    /** Told about every secret as soon as it exists, so that nothing printed afterwards can contain it. */
    onSecret?(...values: string[]): void;
    /** The stack's auto seal, if it has one: no key is sent, and a seal that cannot reach its key is told at once. */
    seal?: AutoSeal;
    /**
     * The auto seal the stack is moving off, back to Shamir (the roll's migration): it stays in the configuration,
     * disabled, and must answer at every pod start until it is gone; its failures are told like the stack's seal's.
     */
    retiringSeal?: AutoSeal;
    /**
     * Each pod's last "seal migration error" log line before this run's step-downs: a failure an earlier run already
     * reported (and the user fixed) is not this run's, though the container still shows it.
     */
    earlierMigrationFailures?: Map<string, string>;
}

/**
 * Polls `vault status` until the pod's Vault API answers (its container may still be starting). With an auto seal, a
 * Vault that exits at start because its seal cannot reach the key (a crash loop) fails this at once (autoUnseal.ts).
 */
export async function waitForApi(ctx: StepContext, pod: string): Promise<SealStatus> {
    try {
        return await pollUntil(
            ctx,
            `the Vault API in ${pod} to answer`,
            async () => {
                try {
                    return await ctx.ops.status(pod);
                } catch (err) {
                    const seal = ctx.seal ?? ctx.retiringSeal;
                    if (!(err instanceof VaultUnavailable) || !seal) throw err;
                    const failure = await sealFailure(ctx, pod);
                    if (failure) throw ctx.seal ? sealFailureError(pod, seal, failure) : retiringSealFailureError(pod, seal, failure);
                    throw err;
                }
            },
            () => "",
        );
    } catch (err) {
        if (err instanceof VaultRefused && err.kind === "tls") {
            throw new StepError(
                `the Vault CLI in ${pod} cannot verify Vault's certificate with the CA in VAULT_CACERT (${err.message}); check the certificate's names and the mounted CA`,
            );
        }
        if (err instanceof VaultRefused) throw new StepError(`vault status failed in ${pod}: ${err.message}`);
        throw err;
    }
}
