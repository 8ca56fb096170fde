/**
 * Reading what kubectl and the Vault CLI print: pods, StatefulSets, claims, seal status, raft peers and autopilot.
 * Pure functions of the text, so that each shape is tested without a cluster.
 */
import type { AutopilotState, ClaimInfo, DataClaim, PodInfo, RaftPeer, SealStatus, StatefulSetInfo } from "./vaultOps";

/* eslint-disable @typescript-eslint/no-explicit-any -- these read JSON whose shape kubectl and Vault define */

/** `kubectl get pods -o json` -> what the bootstrap needs to know of each pod. */
export function parsePodList(json: string): PodInfo[] {
    const list = JSON.parse(json) as { items: any[] };
    return list.items.map((pod) => {
        const container = (pod.status?.containerStatuses ?? []).find((c: { name: string }) => c.name === "vault");
        const unscheduled = (pod.status?.conditions ?? []).find((c: { type: string; status: string }) => c.type === "PodScheduled" && c.status === "False");
        const waiting = container?.state?.waiting;
        const spec = (pod.spec?.containers ?? []).find((c: { name: string }) => c.name === "vault");
        return {
            name: pod.metadata.name,
            uid: pod.metadata.uid,
            phase: pod.status?.phase ?? "Unknown",
            running: Boolean(container?.state?.running),
            startedAt: container?.state?.running?.startedAt,
            restartCount: Number(container?.restartCount ?? 0),
            reason: waiting
                ? `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`
                : unscheduled
                  ? `${unscheduled.reason}: ${unscheduled.message}`
                  : undefined,
            // The StatefulSet controller labels each pod with the revision it was made from (apps/v1
            // ControllerRevisionHashLabelKey; pkg/controller/statefulset/stateful_set_utils.go setPodRevision).
            revision: pod.metadata.labels?.["controller-revision-hash"],
            image: spec?.image,
            secretVolumes: (pod.spec?.volumes ?? []).filter((v: any) => v.secret?.secretName).map((v: any) => v.secret.secretName as string),
            terminating: Boolean(pod.metadata.deletionTimestamp),
            // vault-ha's own pod annotations (vault-ha.dev/*): what the pod was made with, for the roll's preview.
            ...(vaultHaAnnotations(pod.metadata.annotations) ? { annotations: vaultHaAnnotations(pod.metadata.annotations) } : {}),
        };
    });
}

function vaultHaAnnotations(all: Record<string, string> | undefined): Record<string, string> | undefined {
    const own = Object.entries(all ?? {}).filter(([key]) => key.startsWith("vault-ha.dev/"));
    return own.length ? Object.fromEntries(own) : undefined;
}

/** `kubectl get pvc -o json`: each claim's name, and whether it is being deleted. */
export function parseClaimList(json: string): ClaimInfo[] {
    const list = JSON.parse(json) as { items?: Array<{ metadata?: { name?: string; deletionTimestamp?: string } }> };
    return (list.items ?? []).map((item) => ({ name: item.metadata?.name ?? "", terminating: Boolean(item.metadata?.deletionTimestamp) }));
}

/** `kubectl get statefulset NAME -o json` */
export function parseStatefulSet(json: string): StatefulSetInfo {
    const sts = JSON.parse(json);
    return {
        generation: Number(sts.metadata?.generation ?? 0),
        observedGeneration: Number(sts.status?.observedGeneration ?? 0),
        updateRevision: String(sts.status?.updateRevision ?? ""),
        currentRevision: String(sts.status?.currentRevision ?? ""),
        replicas: Number(sts.spec?.replicas ?? 0),
        ...(dataClaimOf(sts) ? { dataClaim: dataClaimOf(sts) } : {}),
        ...(antiAffinityOf(sts) ? { antiAffinity: antiAffinityOf(sts) } : {}),
    };
}

/** The pod template's podAntiAffinity: required when it has a required term, preferred when only preferred ones. */
function antiAffinityOf(sts: any): "required" | "preferred" | undefined {
    const anti = sts.spec?.template?.spec?.affinity?.podAntiAffinity;
    if ((anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []).length > 0) return "required";
    if ((anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []).length > 0) return "preferred";
    return undefined;
}

/** The "data" claim template of a StatefulSet's JSON (vault-helm templates/_helpers.tpl vault.volumeclaims). */
function dataClaimOf(sts: any): DataClaim | undefined {
    const claim = (sts.spec?.volumeClaimTemplates ?? []).find((c: any) => c?.metadata?.name === "data");
    if (!claim) return undefined;
    const storage = claim.spec?.resources?.requests?.storage;
    const storageClassName = claim.spec?.storageClassName;
    return { ...(storage !== undefined ? { storage: String(storage) } : {}), ...(storageClassName ? { storageClassName: String(storageClassName) } : {}) };
}

/**
 * `vault operator raft autopilot state -format=json`: the Go field names the CLI prints (see AutopilotState); the
 * snake_case names of the HTTP API are read too, should a later CLI add json tags.
 */
export function parseAutopilotState(json: string): AutopilotState {
    const s = JSON.parse(json);
    const pick = (o: any, goName: string, apiName: string) => (o?.[goName] !== undefined ? o[goName] : o?.[apiName]);
    const healthy = pick(s, "Healthy", "healthy");
    if (typeof healthy !== "boolean") throw new Error("not an autopilot state");
    const servers = (pick(s, "Servers", "servers") ?? {}) as Record<string, any>;
    return {
        healthy,
        failureTolerance: Number(pick(s, "FailureTolerance", "failure_tolerance") ?? 0),
        servers: Object.entries(servers).map(([id, srv]) => ({
            id: String(pick(srv, "ID", "id") ?? id),
            healthy: Boolean(pick(srv, "Healthy", "healthy")),
            status: String(pick(srv, "Status", "status") ?? ""),
        })),
    };
}

/**
 * `active_time` (RFC 3339, Go's time.Time): ms since the epoch, or undefined for Go's zero time (0001-01-01, what a
 * standby or a sealed node prints: command/format.go shows "Active Since" only when it is not zero) or no value.
 */
function activeTimeOf(value: unknown): number | undefined {
    const ms = typeof value === "string" ? Date.parse(value) : NaN;
    return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** `vault status -format=json` */
export function parseSealStatus(json: string): SealStatus {
    const s = JSON.parse(json);
    if (typeof s?.initialized !== "boolean" || typeof s?.sealed !== "boolean") throw new Error("not a seal status");
    return {
        initialized: s.initialized,
        sealed: s.sealed,
        t: Number(s.t ?? 0),
        n: Number(s.n ?? 0),
        type: typeof s.type === "string" && s.type ? s.type : undefined,
        recoverySeal: s.recovery_seal === true,
        progress: Number(s.progress ?? 0),
        migration: s.migration === true,
        isSelf: Boolean(s.is_self),
        leaderAddress: typeof s.leader_address === "string" ? s.leader_address : "",
        activeTime: activeTimeOf(s.active_time),
        version: typeof s.version === "string" ? s.version : undefined,
        clusterId: typeof s.cluster_id === "string" && s.cluster_id ? s.cluster_id : undefined,
        raftCommittedIndex: typeof s.raft_committed_index === "number" ? s.raft_committed_index : undefined,
        raftAppliedIndex: typeof s.raft_applied_index === "number" ? s.raft_applied_index : undefined,
        removedFromCluster: s.removed_from_cluster === true,
    };
}

/** `vault operator raft list-peers -format=json` */
export function parseRaftPeers(json: string): RaftPeer[] {
    const servers = JSON.parse(json)?.data?.config?.servers as any[] | undefined;
    return (servers ?? []).map((s) => ({ node_id: s.node_id, address: s.address, leader: Boolean(s.leader), voter: Boolean(s.voter) }));
}

/* eslint-enable @typescript-eslint/no-explicit-any */
