/**
 * Raft's health as the roll and the hand-over need it: each pod's seal status, autopilot's verdict on the cluster
 * and on one node, and a replaced node having caught up with the log.
 */
import { pollUntil, StepError } from "../poll";
import { AutopilotState, SealStatus, VaultRefused, VaultUnavailable } from "../vaultOps";
import type { StepContext } from "./context";

/** The answer of the first node that gives one; the last "not yet" when none does. */
export async function askAny<T>(nodes: string[], ask: (node: string) => Promise<T>): Promise<T> {
    let last: unknown = new VaultUnavailable("no Vault node to ask");
    for (const node of nodes) {
        try {
            return await ask(node);
        } catch (err) {
            if (!(err instanceof VaultUnavailable)) throw err;
            last = err;
        }
    }
    throw last;
}

function describeAutopilot(state: AutopilotState | undefined): string {
    if (!state) return "no answer yet";
    const servers = state.servers.map((s) => `${s.id} ${s.status}${s.healthy ? "" : " (unhealthy)"}`).join(", ");
    return `${state.healthy ? "healthy" : "not healthy"}, failure tolerance ${state.failureTolerance}: ${servers}`;
}

/**
 * Autopilot reports the cluster healthy, and (when given) `pod` a healthy voter. Asked through the first of `via`
 * that answers (a standby forwards the request to the active node; a node that restarted meanwhile answers 503).
 */
export async function waitForHealthyRaft(ctx: StepContext, via: string[], token: string, pod?: string): Promise<void> {
    let seen: AutopilotState | undefined;
    await pollUntil(
        ctx,
        pod ? `raft to be healthy again with ${pod} a healthy voter` : "raft to be healthy before any pod is replaced",
        async () => {
            try {
                seen = await askAny(via, (node) => ctx.ops.autopilotState(node, token));
            } catch (err) {
                if (err instanceof VaultRefused && err.kind === "refused") {
                    throw new StepError(`reading raft's autopilot state was refused (${err.message}); is vault-ha's root token still valid?`);
                }
                throw err;
            }
            const node = pod ? seen.servers.find((s) => s.id === pod) : undefined;
            const nodeReady = !pod || (node !== undefined && node.healthy && (node.status === "voter" || node.status === "leader"));
            return seen.healthy && nodeReady ? true : undefined;
        },
        () => describeAutopilot(seen),
    );
    ctx.log(`raft healthy: ${describeAutopilot(seen)}`);
}

/** Each pod's seal status, or undefined when its Vault does not answer. */
export async function sealStatuses(ctx: StepContext, pods: string[]): Promise<Map<string, SealStatus | undefined>> {
    const entries = await Promise.all(
        pods.map(async (pod) => {
            try {
                return [pod, await ctx.ops.status(pod)] as const;
            } catch (err) {
                if (err instanceof VaultUnavailable) return [pod, undefined] as const;
                throw err;
            }
        }),
    );
    return new Map(entries);
}

/**
 * The replaced node has applied the log up to the index it knows to be committed. Autopilot's state is refreshed
 * periodically, so right after a replacement it may still describe the node as it was before; the node's own indexes
 * (`vault status` raft_committed_index / raft_applied_index, api/sys_seal.go) are current.
 */
export async function waitForCaughtUp(ctx: StepContext, pod: string): Promise<void> {
    let last = "";
    await pollUntil(
        ctx,
        `${pod} to catch up with raft's log`,
        async () => {
            const s = await ctx.ops.status(pod);
            if (s.raftAppliedIndex === undefined || s.raftCommittedIndex === undefined) return true;
            last = `applied ${s.raftAppliedIndex} of ${s.raftCommittedIndex}`;
            return s.raftAppliedIndex >= s.raftCommittedIndex ? true : undefined;
        },
        () => last,
    );
}
