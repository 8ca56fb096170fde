/**
 * What a change of vaultReplicas does to a running raft cluster, decided before the release changes: a pure function
 * of what the StatefulSet runs now (the pod-templates invoke) and what the settings ask for.
 *
 * The chart's StatefulSet has podManagementPolicy Parallel (vault-helm templates/server-statefulset.yaml), so the
 * controller deletes every excess pod in the same sync (kubernetes pkg/controller/statefulset/
 * stateful_set_control.go: with Parallel it does not wait for one pod before the next). Raft still counts the
 * departed pods as voters until verify removes their peers, and it can only do that through an active node, which
 * needs a quorum of the old configuration: floor(voters / 2) + 1 live voters. So a scale-down may take away at most
 * as many pods as the old configuration tolerates losing; more would leave raft without a leader, unable to remove
 * anything, and Vault down until someone recovers it by hand (peers.json).
 */
import { FixCommands } from "../config/settings";
import { dataClaimName, podNames, podOrdinal } from "./names";
import type { PlanFixes } from "../cluster/existingPlan";

export interface RunningReplicas {
    /** The running StatefulSet's spec.replicas; undefined on a first install. */
    replicas?: number;
    /**
     * The raft volume claims that exist (data-<pod>). verify deletes a departed pod's claim only after its raft peer
     * is gone, so a claim beyond the replica count is a peer raft may still count as a voter (an earlier scale-down
     * whose up failed before verify): the quorum is reckoned with it.
     */
    claims?: string[];
}

export type ScaleDecision =
    | { kind: "none" }
    | { kind: "up"; from: number; to: number; notice: string }
    | { kind: "down"; from: number; to: number; notice: string }
    | { kind: "refused"; from: number; to: number; message: string };

/** The voters a raft configuration of `voters` can lose and still elect a leader. */
export function failureTolerance(voters: number): number {
    return voters < 1 ? 0 : Math.floor((voters - 1) / 2);
}

/**
 * Each step of the safe way from `from` down to `to`: the largest reduction the quorum allows at each step. Stops
 * where no in-place step is possible (2 -> 1: two voters tolerate no loss).
 */
export function safeScaleDownPath(from: number, to: number): number[] {
    const path: number[] = [];
    let at = from;
    while (at > to) {
        const next = Math.max(to, at - failureTolerance(at));
        if (next === at) break;
        path.push(next);
        at = next;
    }
    return path;
}

export function scaleDecision(release: string, running: RunningReplicas, desired: number, fixes: PlanFixes = new FixCommands()): ScaleDecision {
    const from = running.replicas;
    if (from === undefined || from === desired) return { kind: "none" };
    const pods = (n: number, m: number) => podNames(release, m).slice(n);
    if (desired > from) {
        const added = pods(from, desired);
        return {
            kind: "up",
            from,
            to: desired,
            notice:
                `vaultReplicas ${from} -> ${desired}: the StatefulSet starts ${added.join(", ")} on new, empty raft volumes; ` +
                `each joins the raft cluster and is unsealed, and verify waits until autopilot has made it a voter`,
        };
    }
    const departing = pods(desired, from);
    const leftovers = (running.claims ?? [])
        .filter((claim) => claim.startsWith("data-"))
        .map((claim) => claim.slice("data-".length))
        .filter((pod) => (podOrdinal(release, pod) ?? -1) >= from)
        .sort((a, b) => (podOrdinal(release, a) ?? 0) - (podOrdinal(release, b) ?? 0));
    if (leftovers.length > 0) {
        const voters = from + leftovers.length;
        if (desired < Math.floor(voters / 2) + 1) {
            return {
                kind: "refused",
                from,
                to: desired,
                message:
                    `vault-ha:vaultReplicas ${from} -> ${desired}: the raft volumes of ${leftovers.join(", ")} are still there, so an earlier ` +
                    `scale-down has not finished (verify removes a departed pod's raft peer before its volume) and raft may still count ` +
                    `them as voters: ${voters} in all, of which ${desired} would stay, fewer than the ${Math.floor(voters / 2) + 1} a quorum ` +
                    `needs. Nothing was changed. Finish the earlier one first: pulumi up with vaultReplicas ${from} (its verify removes ` +
                    `their peers, then their volumes), then lower the count. If vault operator raft list-peers shows none of them (a ` +
                    `volume an older vault-ha kept), delete the volumes: kubectl -n <vault-ha:vaultNamespace> delete pvc ` +
                    `${leftovers.map(dataClaimName).join(" ")}`,
            };
        }
    }
    const tolerance = failureTolerance(from);
    if (from - desired > tolerance) {
        const path = safeScaleDownPath(from, desired);
        const reached = path.length ? path[path.length - 1] : from;
        const steps = path.map((n) => `${fixes.set("vaultReplicas", n)} && pulumi up`).join(", then ");
        const rebuild =
            `npm run snapshot, pulumi destroy, ${fixes.set("vaultReplicas", desired)}, pulumi up, ` +
            `npm run restore -- <the snapshot> (see docs/operations.md, Backups)`;
        return {
            kind: "refused",
            from,
            to: desired,
            message:
                `vault-ha:vaultReplicas ${from} -> ${desired} would delete ${departing.join(", ")} at once (the chart's StatefulSet ` +
                `removes pods in parallel), leaving ${desired} of ${from} raft voters: fewer than the ${Math.floor(from / 2) + 1} a ` +
                `quorum needs, so no leader could be elected, the departed peers could not be removed, and Vault would stop ` +
                `answering. Nothing was changed. ` +
                (path.length
                    ? `Lower it in steps the quorum survives: ${steps}` +
                      (reached > desired ? `; ${reached} -> ${desired} cannot keep a quorum in place: ${rebuild}` : "")
                    : `${from} -> ${desired} cannot keep a quorum in place: ${rebuild}`) +
                `; or keep ${from} (${fixes.set("vaultReplicas", from)})`,
        };
    }
    return {
        kind: "down",
        from,
        to: desired,
        notice:
            `vaultReplicas ${from} -> ${desired}: the StatefulSet deletes ${departing.join(", ")} together; ${desired} of the ${from} ` +
            `raft voters stay, which keeps the quorum. Once the pods are gone, verify removes their raft peers and then deletes ` +
            `their raft volumes (${departing.map(dataClaimName).join(", ")}), so a later scale-up starts them empty`,
    };
}
