/**
 * verify: raft lists every pod as a voter, exactly one of them the leader.
 */
import type { RaftPeer } from "../../steps/contract";
import { pollUntil, StepError } from "../poll";
import { VaultRefused } from "../vaultOps";
import { podNames } from "../../vault/names";
import { Handler, withVault } from "../runtime";
import type { StepContext } from "./context";

function describePeers(peers: RaftPeer[]): string {
    return peers.map((p) => `${p.node_id}${p.leader ? " (leader)" : ""}${p.voter ? "" : " (non-voter)"}`).join(", ") || "no peers";
}

/**
 * After a scale-down the removed pods stay in raft's configuration as voters that never answer again: they count
 * towards the quorum, and verify would wait for a configuration it never gets. A peer is removed only when it is one
 * of this release's pods (`<release>-<n>`), its ordinal is at or above the replica count, and the pod is gone: never
 * a live peer. Removing dead voters can only make the quorum easier to reach.
 */
export async function removeDepartedPeers(ctx: StepContext, leader: string, release: string, replicas: number, token: string): Promise<string[]> {
    const ordinal = (id: string) => (new RegExp(`^${release}-(\\d+)$`).exec(id) ? Number(id.slice(release.length + 1)) : -1);
    let peers: RaftPeer[] = [];
    await pollUntil(
        ctx,
        "raft to list its peers",
        async () => (peers = await ctx.ops.raftPeers(leader, token)),
        () => "",
    );
    const beyond = peers.filter((p) => ordinal(p.node_id) >= replicas);
    if (beyond.length === 0) return [];
    const pods = await ctx.ops.listPods();
    const removed: string[] = [];
    for (const peer of beyond) {
        if (pods.some((p) => p.name === peer.node_id)) {
            ctx.log(`${peer.node_id} is beyond ${replicas} replicas but its pod still exists: not removing a live peer (waiting for the scale-down)`);
            continue;
        }
        await ctx.ops.removeRaftPeer(leader, token, peer.node_id);
        ctx.log(`removed ${peer.node_id} from raft: the scale-down to ${replicas} replicas deleted its pod`);
        removed.push(peer.node_id);
    }
    return removed;
}

/** Step 5: raft lists every pod as a voter, exactly one of them the leader. */
export async function verifyRaft(ctx: StepContext, leader: string, expected: string[], token: string): Promise<RaftPeer[]> {
    let seen: RaftPeer[] = [];
    const peers = await pollUntil(
        ctx,
        `raft to list ${expected.length} voters (${expected.join(", ")}) with exactly one leader`,
        async () => {
            try {
                seen = await ctx.ops.raftPeers(leader, token);
            } catch (err) {
                if (err instanceof VaultRefused && err.kind === "refused") {
                    throw new StepError(`listing the raft peers was refused (${err.message}); is vault-ha's root token still valid?`);
                }
                if (err instanceof VaultRefused) throw new StepError(`listing the raft peers failed: ${err.message}`);
                throw err;
            }
            const ids = seen.map((p) => p.node_id).sort();
            const complete = ids.join() === [...expected].sort().join() && seen.every((p) => p.voter) && seen.filter((p) => p.leader).length === 1;
            // New followers start as non-voters until autopilot promotes them: keep polling until it has.
            return complete ? seen : undefined;
        },
        () => describePeers(seen),
    );
    ctx.log(`raft: ${describePeers(peers)}`);
    return peers;
}

export const verifyStep: Handler<"verify"> = (p, secrets, ctx) =>
    withVault(ctx, secrets.kubeconfig, p, async (vault) => {
        const pods = podNames(p.release, p.replicas);
        await removeDepartedPeers(vault, pods[0], p.release, p.replicas, secrets.rootToken);
        // Init's answer staged in the leader is needed only until the key file or the state holds it, which is
        // the case once the bootstrap reaches verify: a copy that init could not remove goes now.
        await vault.ops.dropStagedInit(pods[0]).catch(() => undefined);
        return { peers: await verifyRaft(vault, pods[0], pods, secrets.rootToken) };
    });
