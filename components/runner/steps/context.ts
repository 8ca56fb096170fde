/**
 * What the Vault steps share: the context they run in, and waiting for a pod's Vault API to answer.
 */
import { PollContext, pollUntil, retrying, StepError } from "../poll";
import { SealStatus, VaultOps, VaultRefused } from "../vaultOps";

export interface StepContext extends PollContext {
    ops: VaultOps;
    /** Vault's namespace, for the commands a message tells the user to run. */
    namespace?: string;
    /** Told about every secret as soon as it exists, so that nothing printed afterwards can contain it. */
    onSecret?(...values: string[]): void;
}

/** Polls `vault status` until the pod's Vault API answers (its container may still be starting). */
export async function waitForApi(ctx: StepContext, pod: string): Promise<SealStatus> {
    try {
        return await pollUntil(
            ctx,
            `the Vault API in ${pod} to answer`,
            () => ctx.ops.status(pod),
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

/**
 * Deletes a pod and waits until the StatefulSet's new one (another uid) runs; `why` completes the wait's message.
 * For pods that serve nothing at that moment (sealed, or to be started empty): the roll replaces serving pods itself.
 */
export async function recreatePod(ctx: StepContext, pod: string, why: string): Promise<void> {
    const before = (await retrying(ctx, "the Vault pods to be listed", () => ctx.ops.listPods())).find((p) => p.name === pod)?.uid;
    await retrying(ctx, `kubectl to delete ${pod}`, () => ctx.ops.deletePod(pod));
    await pollUntil(
        ctx,
        `${pod} to be made again ${why}`,
        async () => {
            const now = (await ctx.ops.listPods()).find((p) => p.name === pod);
            return now && now.uid !== before && now.running && !now.terminating ? true : undefined;
        },
        () => "",
    );
}
