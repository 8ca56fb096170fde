/**
 * join: a follower joins the leader's raft cluster (once the leader is active), then is unsealed with the cluster's
 * own threshold.
 */
import type { UnsealOutcome } from "../../stepCommand/contract";
import { dataClaimName, podNames } from "../../vault/names";
import { pollUntil, retrying, StepError } from "../poll";
import { Handler, withVault } from "../runtime";
import { JoinTarget, SealStatus, VaultRefused } from "../vaultOps";
import { StepContext, waitForApi } from "../primitives/context";
import { recreatePod, replaceIfStuck } from "../primitives/podReplacement";
import { RemovedNodeError, removedNodeError, unsealFrom } from "../primitives/unseal";
import { statusOrSealFailure } from "../primitives/autoUnseal";

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

/**
 * The pod is a member of the raft configuration, as the active node has it. `initialized` alone does not say so:
 * a node with raft data of a member the cluster removed reports initialised too, and unseals, and only then is told
 * it was removed (see removedNodeError). A follower that has just answered its challenge is added by the leader
 * when it unseals, so this waits for that; a node that learns it was removed stops the wait at once. Asked through
 * `leader`, which forwards to the active node: after a full restart there is one only once enough pods are unsealed.
 */
async function confirmMembership(ctx: StepContext, pod: string, leader: string, token: string): Promise<void> {
    let last = "";
    await pollUntil(
        ctx,
        `${pod} to be a member of raft's configuration`,
        async () => {
            const status = await ctx.ops.status(pod);
            if (status.removedFromCluster) throw removedNodeError(ctx, pod);
            let members: string[];
            try {
                members = (await ctx.ops.raftPeers(leader, token)).map((p) => p.node_id);
            } catch (err) {
                if (err instanceof VaultRefused)
                    throw new StepError(`listing the raft peers was refused (${err.message}); is vault-ha's root token still valid?`);
                last = (err as Error).message;
                throw err;
            }
            last = `members: ${members.join(", ") || "none"}`;
            return members.includes(pod) ? true : undefined;
        },
        () => last,
    );
}

/** What a join needs: the pod, the leader it joins (by pod name and API address), the keys and the root token. */
export interface JoinArgs {
    pod: string;
    leader: string;
    target: JoinTarget;
    keys: string[];
    threshold: number;
    token: string;
}

/** Step 4: join a follower to the leader's raft cluster unless it is a member already, then unseal it. */
export async function joinAndUnseal(ctx: StepContext, a: JoinArgs): Promise<UnsealOutcome> {
    const { pod, leader, keys, threshold, token } = a;
    await replaceIfStuck(ctx, pod);
    const status = await waitForApi(ctx, pod);
    if (status.removedFromCluster) throw removedNodeError(ctx, pod);
    if (status.initialized) {
        // Raft data (a member, or a node the cluster removed), or a challenge an earlier join holds in memory: a join
        // would change nothing. Unsealed first (after a full restart the active node needs this pod's vote), then
        // raft's configuration says whether it is a member.
        ctx.log(`${pod} has raft state (a member, a join waiting for its keys, or a node the cluster removed): not joining again`);
        const outcome = await unsealFrom(ctx, pod, status, keys, threshold);
        await confirmMembership(ctx, pod, leader, token);
        ctx.log(`${pod} is a member of the raft cluster`);
        return outcome;
    }
    for (let attempt = 1; ; attempt++) {
        try {
            return await joinEmptyPod(ctx, a);
        } catch (err) {
            // The pod came into this run without raft data, so whatever it holds now came from the cluster in this
            // join: starting it empty again loses nothing. Vault's open hashicorp/vault#32099 (#31732) marks such a
            // node removed at random while it replays old configuration entries; another try usually passes.
            if (!(err instanceof RemovedAfterJoin) || attempt >= EMPTY_JOIN_ATTEMPTS) throw err instanceof RemovedAfterJoin ? err.error : err;
            ctx.log(
                `${pod} marked itself removed while joining empty (hashicorp/vault#32099): starting it empty again (attempt ${attempt + 1} of ${EMPTY_JOIN_ATTEMPTS})`,
            );
            await restartEmpty(ctx, pod);
        }
    }
}

/** How often a pod that joined empty is started empty again after Vault marked it removed. */
const EMPTY_JOIN_ATTEMPTS = 2;

/** A pod that joined empty in this run and then reported removed_from_cluster. */
class RemovedAfterJoin extends Error {
    constructor(readonly error: RemovedNodeError) {
        super(error.message);
    }
}

/** Deletes the pod's raft volume claim, then the pod; waits for its successor (a new claim, empty) to run. */
async function restartEmpty(ctx: StepContext, pod: string): Promise<void> {
    // The claim first: it stays until the pod is gone (pvc-protection), and the controller makes the new pod only
    // once it is (stateful_set_control.go), so the new pod cannot start on the old volume.
    await retrying(ctx, `kubectl to delete ${dataClaimName(pod)}`, () => ctx.ops.deleteClaim(dataClaimName(pod)));
    await recreatePod(ctx, pod, "on an empty volume");
}

/**
 * How long an auto-sealed follower is given to join by itself before it is asked to. Its server config has one
 * retry_join stanza per pod (components/vault/vaultValues.ts), which Vault tries every 2 s while it has no raft data, and with
 * an auto seal it answers the leader's challenge with its own seal and unseals itself (vault/raft.go
 * InitiateRetryJoin, JoinRaftCluster; command/server.go runUnseal). An explicit join on top is not needed, and two
 * joins racing in one node is what this avoids; after this long (a config without retry_join, say) the join is sent,
 * which is harmless even if retry_join has just succeeded: JoinRaftCluster answers true for a node with raft data.
 */
const RETRY_JOIN_GRACE_MS = 30_000;

/** An empty auto-sealed follower: joins by retry_join (or, late, by an explicit join) and unseals itself. */
async function awaitRetryJoin(ctx: StepContext, a: JoinArgs): Promise<SealStatus> {
    const { pod, leader, target } = a;
    await waitForActiveNode(ctx, leader);
    const started = ctx.clock.now();
    let sent = false;
    let last = "";
    const status = await pollUntil(
        ctx,
        `${pod} to join the raft cluster at ${target.leaderApiAddr} by itself (retry_join)`,
        async () => {
            const now = await statusOrSealFailure(ctx, pod, (message) => (last = message));
            if (now.removedFromCluster) throw removedNodeError(ctx, pod);
            if (now.initialized) return now;
            last = sent ? "asked to join; not a raft member yet" : "not a raft member yet";
            if (!sent && ctx.clock.now() - started >= RETRY_JOIN_GRACE_MS) {
                try {
                    await ctx.ops.join(pod, target);
                } catch (err) {
                    if (err instanceof VaultRefused) throw joinRefused(pod, target, err);
                    throw err;
                }
                sent = true;
                ctx.log(`${pod} had not joined by retry_join after ${RETRY_JOIN_GRACE_MS / 1000}s: asked it to join ${target.leaderApiAddr}`);
            }
            return undefined;
        },
        () => last,
    );
    ctx.log(`${pod} joined the raft cluster at ${target.leaderApiAddr}${sent ? "" : " by itself (retry_join)"}`);
    return status;
}

async function joinEmptyPod(ctx: StepContext, a: JoinArgs): Promise<UnsealOutcome> {
    const { pod, leader, target, keys, threshold, token } = a;
    let status = await waitForApi(ctx, pod);
    if (ctx.seal) {
        // Without keys to wait for: the follower may well join by itself between the caller's look and this one.
        const joined = status.initialized ? status : await awaitRetryJoin(ctx, a);
        try {
            const outcome = await unsealFrom(ctx, pod, joined, keys, threshold);
            await confirmMembership(ctx, pod, leader, token);
            return outcome;
        } catch (err) {
            if (err instanceof RemovedNodeError) throw new RemovedAfterJoin(err);
            throw err;
        }
    }
    if (status.initialized) throw new StepError(`${pod} reports raft state where an empty node was expected; run pulumi up again`);
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
    try {
        const outcome = await unsealFrom(ctx, pod, status, keys, threshold);
        await confirmMembership(ctx, pod, leader, token);
        return outcome;
    } catch (err) {
        if (err instanceof RemovedNodeError) throw new RemovedAfterJoin(err);
        throw err;
    }
}

function joinRefused(pod: string, target: JoinTarget, err: VaultRefused): StepError {
    const head = `${pod} could not join the raft cluster at ${target.leaderApiAddr}: ${err.message}. `;
    if (err.kind === "tls") {
        return new StepError(
            head +
                `The leader's certificate must be signed by the CA in ${target.leaderCaCertFile ?? "(no CA file given)"} and hold the name ${new URL(target.leaderApiAddr).hostname}`,
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

export const joinStep: Handler<"join"> = (p, secrets, ctx) =>
    withVault(ctx, secrets.kubeconfig, p, async (vault) => {
        const target = { leaderApiAddr: p.leaderAddr, leaderCaCertFile: p.leaderCaFile };
        return {
            pod: p.pod,
            result: await joinAndUnseal(vault, {
                pod: p.pod,
                leader: podNames(p.release, 1)[0],
                target,
                keys: secrets.unsealKeys,
                threshold: p.keyThreshold,
                token: secrets.rootToken,
            }),
        };
    });
