/**
 * Unsealing a pod with the cluster's key shares, and the error for a node the raft cluster removed (which no unseal
 * or join can take back). Shared by the unseal, join and roll steps and by a forced restore.
 */
import type { UnsealOutcome } from "../../stepCommand/contract";
import { shellFixes } from "../../config/configProblems";
import { dataClaimName } from "../../vault/names";
import { pollUntil, StepError } from "../poll";
import { SealStatus, VaultRefused, VaultUnavailable } from "../vaultOps";
import type { StepContext } from "./context";
import { isAutoSealed, retiringSealFailureError, waitForSelfUnseal } from "./autoUnseal";
import { SEAL_MIGRATION_DOCS } from "../../seal/runningSeal";
import { migrationWords, sealMigrationOf } from "./sealMigration";

/**
 * A node that holds raft data of a member the cluster removed (its peer was removed while its volume was kept, or
 * by hand) is refused for good by Vault 1.19+: the active node answers it NotHAMember, it marks itself removed in
 * its raft store and seals (physical/raft/raft.go, vault/request_forwarding.go; GH-28875, GH-29090), and unseal and
 * join fail from then on. Only new raft data clears the mark, and the cluster's data is on its members, so the way
 * out is to start the pod on an empty volume. The same mark can hit a node that joined empty while it replays old
 * configuration entries (hashicorp/vault#32099, #31732, open): the way out is the same.
 */
export class RemovedNodeError extends StepError {}

export function removedNodeError(ctx: StepContext, pod: string): RemovedNodeError {
    const ns = ctx.namespace ?? "vault";
    if (/-0$/.test(pod)) {
        // The pod the bootstrap initialises and joins the others to: started empty, the init step would see a Vault
        // without data and (were it not for its own check) start a second cluster.
        return new RemovedNodeError(
            `${pod} reports removed_from_cluster: the raft cluster removed it, and Vault refuses to take it back. It is the pod ` +
                `vault-ha initialises and joins the others to, so it must not simply be started empty. The cluster lives on the ` +
                `other pods: save a snapshot from their active node (npm run snapshot), rebuild (pulumi destroy, pulumi up) and ` +
                `restore it (npm run restore -- <the snapshot>)`,
        );
    }
    return new RemovedNodeError(
        `${pod} reports removed_from_cluster: it holds raft data of a node this Vault cluster removed, and Vault refuses to take it ` +
            `back. Nothing of the cluster's data is only there (the members hold it). Start ${pod} on an empty volume, then run ` +
            `pulumi up again to join it as a new node: kubectl -n ${ns} delete pvc ${dataClaimName(pod)} --wait=false && kubectl -n ${ns} delete pod ${pod}`,
    );
}

/** Vault's refusal of a key sent without migrate to a node in seal migration mode (vault/core.go unsealFragment). */
const MIGRATION_PENDING = /seal migration is pending/;
/**
 * Vault's refusal of migrate once a migration back to Shamir is done (vault/core.go getUnsealKey: the old seal's
 * recovery configuration is gone), on a node that still has the disabled seal in its configuration.
 */
const MIGRATION_DONE = /failed to obtain seal\/recovery configuration/;
/**
 * A migrate unseal back to Shamir whose old seal did not answer: the recovery key is decrypted through it (vault/
 * seal_autoseal.go getRecoveryKeyInternal), and newest Vault answers that as an invalid key (400: getUnsealKey wraps
 * it in ErrInvalidKey), which is not a wrong key.
 */
const RETIRING_SEAL_UNREACHABLE = /failed to decrypt encrypted stored keys/;

/**
 * Unseals a pod whose status was just read; the node's own threshold wins over the configured one. A node whose seal
 * opens itself (it says so, or the stack has an auto seal and so no unseal keys) is never sent a key: recovery keys
 * cannot unseal (vault/core.go getUnsealKey only verifies them), so this waits for it to unseal itself. A node in seal
 * migration mode (the roll's migration: storage holds one seal, the configuration names the other) opens only with the
 * keys of the seal storage holds sent with migrate (the Shamir keys toward an auto seal, the recovery keys back to
 * Shamir), whatever its seal type says, and never by itself (vault/core.go "cannot auto-unseal during seal migration").
 */
export async function unsealFrom(
    ctx: StepContext,
    pod: string,
    status: SealStatus,
    unsealKeys: string[],
    threshold: number,
    /** For a node in migration mode when there are no unseal keys: the recovery keys, the same shares once migrated. */
    recoveryKeys: string[] = [],
): Promise<UnsealOutcome> {
    if (status.removedFromCluster) throw removedNodeError(ctx, pod);
    if (!status.sealed) {
        ctx.log(`${pod} is already unsealed`);
        return "already-unsealed";
    }
    let migrate = status.migration === true;
    if (!migrate && isAutoSealed(status)) return waitForSelfUnseal(ctx, pod, (p) => removedNodeError(ctx, p), status);
    const migration = sealMigrationOf(ctx);
    // Keys handed in through config on an auto-sealed stack arrive as recovery keys (init.ts): the Shamir shares.
    const keys = migrate && unsealKeys.length === 0 ? recoveryKeys : unsealKeys;
    if (migrate && !migration) {
        throw new StepError(
            `${pod} is in seal migration mode, but the stack's seal is shamir and it retires no auto seal (vault-ha:sealDisabled): its ` +
                `configuration names a seal vault-ha did not write. Nothing was sent. See ${SEAL_MIGRATION_DOCS}`,
        );
    }
    if (migrate && keys.length === 0) {
        const which = migration!.toward === "auto" ? "Shamir unseal keys" : "recovery keys";
        throw new StepError(
            `${pod} is in seal migration mode (${migrationWords(migration!)}, the ${migration!.seal.description}): ` +
                `it opens only with the ${which} sent with migrate, and vault-ha has none. Hand them in (a JSON list, typed when asked) with ` +
                `${shellFixes().askSecret("unsealKeys")}, then run pulumi up again`,
        );
    }
    if (ctx.seal && keys.length === 0) {
        throw new StepError(
            `${pod} is sealed with Shamir keys, but the stack's seal is ${ctx.seal.type} (the ${ctx.seal.description}), and vault-ha has no unseal keys: ` +
                `the roll migrates a Shamir cluster to an auto seal with its unseal keys, and without them it cannot. Hand them in (a JSON list, typed when asked) ` +
                `with ${shellFixes().askSecret("unsealKeys")}, or set vault-ha:seal back to shamir, and run pulumi up again`,
        );
    }
    // The node's own threshold wins over config: after adopting keys or a rekey the two can differ.
    const needed = status.t > 0 ? status.t : threshold;
    if (keys.length < needed) {
        throw new StepError(
            `${pod} needs ${needed} unseal keys but vault-ha has ${keys.length}; hand in more (a JSON list, typed when asked) with ${shellFixes().askSecret("unsealKeys")}`,
        );
    }
    let last = "";
    let submitted = false;
    if (migrate) {
        const which = migration!.toward === "auto" ? "the Shamir keys" : "the recovery keys";
        ctx.log(`${pod} is in seal migration mode (${migrationWords(migration!)}): unsealing it with ${which} and migrate`);
    }
    await pollUntil(
        ctx,
        `${pod} to accept ${needed} unseal keys${migrate ? " with migrate" : ""}`,
        async () => {
            const now = submitted ? await ctx.ops.status(pod) : status;
            if (now.removedFromCluster) throw removedNodeError(ctx, pod);
            if (!now.sealed) return true;
            if (now.progress > 0) {
                // Someone (or an interrupted run, or a submission that failed half-way) left part of a key set:
                // start from zero so that our keys are counted.
                await ctx.ops.resetUnseal(pod);
                ctx.log(`${pod}: discarded a half-finished unseal (${now.progress}/${needed})`);
            }
            submitted = true;
            try {
                // Key shares combine in any order, so they are submitted together rather than one round trip at a time.
                await Promise.all(keys.slice(0, needed).map((key) => (migrate ? ctx.ops.submitUnsealKey(pod, key, true) : ctx.ops.submitUnsealKey(pod, key))));
            } catch (err) {
                if (err instanceof VaultRefused && MIGRATION_PENDING.test(err.message) && migration && !migrate) {
                    // The status read before did not say so (a Vault that does not report it): send the set again, with migrate.
                    migrate = true;
                    throw new VaultUnavailable(`${pod} is in seal migration mode: Vault asks for the keys with migrate`);
                }
                if (err instanceof VaultRefused && MIGRATION_DONE.test(err.message) && migration?.toward === "shamir" && migrate) {
                    // The migration back to Shamir completed since the status was read: the same keys, without migrate.
                    migrate = false;
                    throw new VaultUnavailable(`${pod}: the migration to Shamir is done; Vault takes the keys without migrate now`);
                }
                if (err instanceof VaultRefused && migrate && migration?.toward === "shamir" && RETIRING_SEAL_UNREACHABLE.test(err.message)) {
                    // The recovery keys are checked, and the root key read, through the seal Vault moves off.
                    throw retiringSealFailureError(pod, migration.seal, err.message);
                }
                if (err instanceof VaultRefused) {
                    throw new StepError(
                        `${pod} rejected the unseal keys (${err.message}): they do not belong to this Vault cluster. ` +
                            `Check the keys in vault-ha:unsealKeys or in the saved key file`,
                    );
                }
                // A joined follower's last key sends the challenge answer to the active node, which can fail while
                // that node changes (vault/core.go unsealWithRaft): submit the set again after a pause.
                last = (err as Error).message;
                throw err;
            }
            return true;
        },
        () => last,
    );
    // `vault write sys/unseal` can return while still sealed (a follower finishes unsealing once it has the leader's
    // snapshot): only the status tells.
    await pollUntil(
        ctx,
        `${pod} to report sealed: false after ${needed} unseal keys`,
        async () => {
            const now = await ctx.ops.status(pod);
            if (now.removedFromCluster) throw removedNodeError(ctx, pod);
            last = `sealed, progress ${now.progress}/${now.t}`;
            return now.sealed ? undefined : now;
        },
        () => last,
    );
    ctx.log(`${pod} unsealed`);
    return "unsealed";
}
