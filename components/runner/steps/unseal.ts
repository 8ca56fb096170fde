/**
 * unseal and join: unseal the leader; join each follower to its raft cluster and unseal it.
 */
import type { UnsealOutcome } from "../../steps/contract";
import { pollUntil, StepError } from "../poll";
import { JoinTarget, SealStatus, VaultRefused } from "../vaultOps";
import { podNames } from "../../vault/names";
import { Handler, withVault } from "../runtime";
import { StepContext, waitForApi } from "./context";

export type { UnsealOutcome };

async function unsealFrom(ctx: StepContext, pod: string, status: SealStatus, keys: string[], threshold: number): Promise<UnsealOutcome> {
    if (!status.sealed) {
        ctx.log(`${pod} is already unsealed`);
        return "already-unsealed";
    }
    // The node's own threshold wins over config: after adopting keys or a rekey the two can differ.
    const needed = status.t > 0 ? status.t : threshold;
    if (keys.length < needed) {
        throw new StepError(`${pod} needs ${needed} unseal keys but vault-ha has ${keys.length}; hand in more with pulumi config set --secret vault-ha:unsealKeys '[...]'`);
    }
    let last = "";
    let submitted = false;
    await pollUntil(
        ctx,
        `${pod} to accept ${needed} unseal keys`,
        async () => {
            const now = submitted ? await ctx.ops.status(pod) : status;
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
                await Promise.all(keys.slice(0, needed).map((key) => ctx.ops.submitUnsealKey(pod, key)));
            } catch (err) {
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
            last = `sealed, progress ${now.progress}/${now.t}`;
            return now.sealed ? undefined : now;
        },
        () => last,
    );
    ctx.log(`${pod} unsealed`);
    return "unsealed";
}

/** Step 3: unseal an initialised pod (the leader), or do nothing if it already is. */
export async function unsealPod(ctx: StepContext, pod: string, keys: string[], threshold: number): Promise<UnsealOutcome> {
    const status = await waitForApi(ctx, pod);
    if (!status.initialized) throw new StepError(`${pod} is not initialised; the init step must run first`);
    return unsealFrom(ctx, pod, status, keys, threshold);
}

/**
 * Waits until `leader` is unsealed and the cluster has an active node. An unsealed node is a standby until raft elects
 * a leader; until then the challenge a joining node asks for answers 500 "local node not active but active cluster
 * node not found" (http/sys_raft.go, hashicorp/vault#22063).
 */
export async function waitForActiveNode(ctx: StepContext, leader: string): Promise<SealStatus> {
    let last = "";
    const status = await pollUntil(
        ctx,
        `${leader} to be unsealed with an active node elected (a join needs one)`,
        async () => {
            const s = await ctx.ops.status(leader);
            last = s.sealed ? `${leader} sealed` : `${leader} unsealed, standby, no active node yet`;
            return !s.sealed && (s.isSelf || s.leaderAddress !== "") ? s : undefined;
        },
        () => last,
    );
    ctx.log(`active node: ${status.isSelf ? leader : status.leaderAddress}`);
    return status;
}

/** Step 4: join a follower to the leader's raft cluster unless it is a member already, then unseal it. */
export async function joinAndUnseal(ctx: StepContext, pod: string, leader: string, target: JoinTarget, keys: string[], threshold: number): Promise<UnsealOutcome> {
    let status = await waitForApi(ctx, pod);
    if (status.initialized) {
        // A raft member, or a node that joined and waits for its keys: a join would change nothing.
        ctx.log(`${pod} is already a raft member; not joining again`);
        return unsealFrom(ctx, pod, status, keys, threshold);
    }
    await waitForActiveNode(ctx, leader);
    let last = "";
    await pollUntil(
        ctx,
        `${pod} to join ${target.leaderApiAddr}`,
        async () => {
            try {
                await ctx.ops.join(pod, target);
                return true;
            } catch (err) {
                if (err instanceof VaultRefused) throw joinRefused(pod, target, err);
                last = (err as Error).message;
                throw err;
            }
        },
        () => last,
    );
    ctx.log(`${pod} joined the raft cluster at ${target.leaderApiAddr}`);
    // Only now does the follower know the cluster's seal (the leader's threshold, not necessarily the configured one).
    status = await waitForApi(ctx, pod);
    if (!status.initialized) throw new StepError(`${pod} reports uninitialised right after joining ${target.leaderApiAddr}; run pulumi up again`);
    return unsealFrom(ctx, pod, status, keys, threshold);
}

function joinRefused(pod: string, target: JoinTarget, err: VaultRefused): StepError {
    const head = `${pod} could not join the raft cluster at ${target.leaderApiAddr}: ${err.message}. `;
    if (err.kind === "tls") {
        return new StepError(
            head + `The leader's certificate must be signed by the CA in ${target.leaderCaCertFile ?? "(no CA file given)"} and hold the name ${new URL(target.leaderApiAddr).hostname}`,
        );
    }
    if (err.kind === "local" && target.leaderCaCertFile) {
        return new StepError(
            head +
                `The CA file ${target.leaderCaCertFile} could not be read in ${pod}: it comes from the TLS secret that the Vault chart mounts ` +
                `(server.volumes/volumeMounts); check that the Certificate is Ready and the pod mounts it (kubectl describe pod ${pod})`,
        );
    }
    return new StepError(head + "Vault refused the join; fix the cause above and run pulumi up again");
}


export const unsealStep: Handler<"unseal"> = (p, secrets, ctx) =>
    withVault(ctx, secrets.kubeconfig, p, async (vault) => ({ pod: p.pod, result: await unsealPod(vault, p.pod, secrets.unsealKeys, p.keyThreshold) }));

export const joinStep: Handler<"join"> = (p, secrets, ctx) =>
    withVault(ctx, secrets.kubeconfig, p, async (vault) => {
        const target = { leaderApiAddr: p.leaderAddr, leaderCaCertFile: p.leaderCaFile };
        return { pod: p.pod, result: await joinAndUnseal(vault, p.pod, podNames(p.release, 1)[0], target, secrets.unsealKeys, p.keyThreshold) };
    });
