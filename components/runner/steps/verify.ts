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
        return { peers: await verifyRaft(vault, pods[0], pods, secrets.rootToken) };
    });
