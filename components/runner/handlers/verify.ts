/**
 * verify: raft lists every pod as a voter, exactly one of them the leader, once what a scale-down left behind is gone
 * (primitives/departedPeers.ts).
 */
import { podNames } from "../../vault/names";
import { pollUntil, retrying, StepError } from "../poll";
import { Handler, withVault } from "../runtime";
import { RaftPeer, VaultRefused } from "../vaultOps";
import type { StepContext } from "../primitives/context";
import { removeDepartedPeers } from "../primitives/departedPeers";

function describePeers(peers: RaftPeer[]): string {
    return peers.map((p) => `${p.node_id}${p.leader ? " (leader)" : ""}${p.voter ? "" : " (non-voter)"}`).join(", ") || "no peers";
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
        const peers = await verifyRaft(vault, pods[0], pods, secrets.rootToken);
        const leader = peers.find((peer) => peer.leader)?.node_id ?? pods[0];
        // A lost answer must not fail a cluster that is whole: the read is retried like verify's others.
        const status = await retrying(vault, `${leader}'s seal status to be read`, () => vault.ops.status(leader));
        return { peers, ...(status.clusterId && status.t > 0 ? { seal: { threshold: status.t, shares: status.n, clusterId: status.clusterId } } : {}) };
    });
