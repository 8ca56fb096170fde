/**
 * Removing what a scale-down leaves behind: the departed pods' raft peers and volume claims, in the only safe order.
 */
import { dataClaimName, podOrdinal } from "../../vault/names";
import { pollUntil, retrying, StepError } from "../poll";
import { PodInfo, RaftPeer, VaultRefused } from "../vaultOps";
import type { StepContext } from "./context";

/**
 * What a scale-down leaves behind, removed in the only safe order, by verify and by the roll (before its health check):
 *
 * 1. The departed pods (ordinal at or above the replica count) are waited for until they are gone. The chart's
 *    StatefulSet deletes them all at once (podManagementPolicy Parallel), and each stays Terminating through the
 *    chart's preStop sleep and Vault's shutdown; while a pod exists its Vault may still be a live voter, so nothing
 *    is removed before.
 * 2. Their raft peers are removed. Until then they count as voters that never answer again: the quorum counts them,
 *    and autopilot calls the cluster unhealthy. Removing dead voters can only make the quorum easier to reach.
 * 3. Their volume claims are deleted. A StatefulSet keeps a departed pod's claim (the chart leaves
 *    persistentVolumeClaimRetentionPolicy at Retain), so a later scale-up would start `vault-N` on its old raft data
 *    as a node the cluster removed, which Vault 1.19+ refuses to take back. Only after its peer is gone: a claim
 *    deleted first would lose data of a node the cluster still counts.
 * Returns the peers removed.
 */
export async function removeDepartedPeers(ctx: StepContext, leader: string, release: string, replicas: number, token: string): Promise<string[]> {
    const departed = (name: string) => (podOrdinal(release, name) ?? -1) >= replicas;
    let lingering: PodInfo[] = [];
    await pollUntil(
        ctx,
        `the pods beyond ${replicas} replicas to be gone (a scale-down deletes them after the chart's preStop pause)`,
        async () => {
            lingering = (await ctx.ops.listPods()).filter((p) => departed(p.name));
            return lingering.length === 0 ? true : undefined;
        },
        () =>
            lingering
                .map((p) => `${p.name} ${p.terminating ? "terminating" : `not being deleted (does the StatefulSet ${release} ask for ${replicas} replicas?)`}`)
                .join(", "),
    );

    let peers: RaftPeer[] = [];
    await pollUntil(
        ctx,
        "raft to list its peers",
        async () => (peers = await ctx.ops.raftPeers(leader, token)),
        () => "",
    );
    const removed: string[] = [];
    for (const peer of peers.filter((p) => departed(p.node_id))) {
        // Repeated when the answer is lost: removing a peer raft no longer has answers success and changes nothing
        // (vault/logical_system_raft.go handleRaftRemovePeerUpdate; hashicorp/raft RemoveServer).
        try {
            await retrying(ctx, `raft to remove ${peer.node_id}`, () => ctx.ops.removeRaftPeer(leader, token, peer.node_id));
        } catch (err) {
            if (err instanceof VaultRefused)
                throw new StepError(`removing ${peer.node_id} from raft was refused (${err.message}); is vault-ha's root token still valid?`);
            throw err;
        }
        ctx.log(`removed ${peer.node_id} from raft: the scale-down to ${replicas} replicas deleted its pod`);
        removed.push(peer.node_id);
    }

    const claims = await retrying(ctx, "the volume claims to be listed", () => ctx.ops.listClaims());
    for (const claim of claims.filter((c) => !c.terminating)) {
        const pod = claim.name.replace(/^data-/, "");
        if (dataClaimName(pod) !== claim.name || !departed(pod)) continue;
        // --ignore-not-found: a deletion whose answer was lost is the same done twice.
        await retrying(ctx, `kubectl to delete ${claim.name}`, () => ctx.ops.deleteClaim(claim.name));
        ctx.log(`deleted ${claim.name}, the raft volume of ${pod}: a later scale-up starts ${pod} empty, to join as a new node`);
    }
    return removed;
}
