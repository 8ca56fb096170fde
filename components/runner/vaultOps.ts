/**
 * What the bootstrap needs from Vault and Kubernetes, as an interface: production drives it through `kubectl exec`
 * (kubectl.ts); the simulator answers those kubectl calls itself (tests/doubles/vault).
 */
import type { RaftPeer } from "../stepCommand/contract";

/** `vault status -format=json`, reduced to what the bootstrap reads (api/sys_seal.go SealStatusResponse + HA fields). */
export interface SealStatus {
    initialized: boolean;
    sealed: boolean;
    /** The threshold of the seal this node knows: after a raft join, the leader's (which config may not match). */
    t: number;
    /** The number of key shares of that seal (`n`); with an auto seal, t and n are the recovery key shares'. */
    n: number;
    /** The seal's type (`type`): "shamir", or the auto seal's ("awskms", "transit", ...). */
    type?: string;
    /** The seal opens itself and `vault operator init` made recovery keys (`recovery_seal`): no key is ever sent to it. */
    recoverySeal?: boolean;
    progress: number;
    /**
     * The node is in seal migration mode and the migration is not done yet (`migration`: vault/core.go GetSealStatus,
     * IsInSealMigrationMode and not IsSealMigrated): its configuration names another seal than its storage holds. It
     * does not unseal by itself ("cannot auto-unseal during seal migration"), and a key sent without migrate is refused
     * ("migrate option not provided and seal migration is pending").
     */
    migration?: boolean;
    /** This node is the active one (`is_self`). */
    isSelf: boolean;
    /** The active node's API address as this node knows it; empty while there is none (`leader_address`). */
    leaderAddress: string;
    /**
     * When this node last became active, in ms since the epoch (`active_time`, api/sys_leader.go LeaderResponse,
     * copied by command/status.go): set while it is the active node, the zero time (here undefined) on a standby or a
     * sealed node. A newer value on any node is a new term of leadership.
     */
    activeTime?: number;
    /** The Vault version this node runs (`version`). */
    version?: string;
    /** The cluster's id, while unsealed (`cluster_id`): a snapshot restores without -force only onto its own cluster. */
    clusterId?: string;
    /** Raft's committed and applied log indexes, while unsealed (`raft_committed_index`, `raft_applied_index`). */
    raftCommittedIndex?: number;
    raftAppliedIndex?: number;
    /**
     * The node learned that the raft cluster removed it (`removed_from_cluster`, Vault 1.19+): it sealed itself and
     * refuses to unseal or join again until its raft data is gone (physical/raft/raft.go keeps the mark in raft.db).
     */
    removedFromCluster?: boolean;
}

/**
 * The parts of `vault operator init -format=json` that vault-ha keeps (command/operator_init.go machineInit). With an
 * auto seal unseal_keys_b64 is empty and the recovery_keys_* fields hold the recovery keys.
 */
export interface InitResponse {
    unseal_keys_b64: string[];
    root_token: string;
    unseal_shares?: number;
    unseal_threshold?: number;
    recovery_keys_b64?: string[];
    recovery_keys_shares?: number;
    recovery_keys_threshold?: number;
}

/** A raft peer as `vault operator raft list-peers` lists it: the verify step's result (steps/contract.ts) too. */
export type { RaftPeer };

export interface PodInfo {
    name: string;
    uid: string;
    phase: string;
    /** The vault container is in state running. */
    running: boolean;
    /** When the vault container last started; a restart seals Vault. */
    startedAt?: string;
    /** How often the vault container restarted (`restartCount`): rising while Vault exits at start (a crash loop). */
    restartCount?: number;
    /** Why the pod is not running yet (Unschedulable, ImagePullBackOff, ...), when Kubernetes says. */
    reason?: string;
    /** The StatefulSet revision the pod was made from: its `controller-revision-hash` label. */
    revision?: string;
    /** The vault container's image. */
    image?: string;
    /** The names of the Secrets the pod mounts. */
    secretVolumes: string[];
    /** The pod is being deleted (metadata.deletionTimestamp is set). */
    terminating: boolean;
    /** vault-ha's own annotations on the pod (vault-ha.dev/*), when it has any. */
    annotations?: Record<string, string>;
}

/**
 * What the roll needs of the StatefulSet (apps/v1 StatefulSetStatus): the revision pods should run, and whether the
 * controller has seen the latest spec yet. Until observedGeneration reaches generation, updateRevision may still
 * name the previous template (kubernetes pkg/controller/statefulset/stateful_set_control.go updateStatefulSetStatus).
 */
export interface StatefulSetInfo {
    generation: number;
    observedGeneration: number;
    updateRevision: string;
    currentRevision: string;
    replicas: number;
    /** The raft volume's claim template ("data", vault-helm's vault.volumeclaims), as the API server stores it. */
    dataClaim?: DataClaim;
    /** How the pod template keeps Vault pods apart: a required or only a preferred podAntiAffinity term. */
    antiAffinity?: "required" | "preferred";
}

/** What a StatefulSet's claim template asks for; Kubernetes forbids changing it on a running StatefulSet. */
export interface DataClaim {
    storage?: string;
    /** Absent: the cluster's default StorageClass at the time each claim is made. */
    storageClassName?: string;
}

/**
 * `vault operator raft autopilot state -format=json`, reduced to what the roll reads. The CLI prints the api
 * package's AutopilotState struct with encoding/json (command/operator_raft_autopilot_state.go OutputData,
 * command/format.go JsonFormatter), and that struct has only mapstructure tags (api/sys_raft.go), so the keys are
 * the Go field names: Healthy, FailureTolerance, Servers{ID, Healthy, Status}.
 */
export interface AutopilotState {
    healthy: boolean;
    failureTolerance: number;
    servers: Array<{ id: string; healthy: boolean; status: string }>;
}

/** A PersistentVolumeClaim in Vault's namespace, as the bootstrap reads it. */
export interface ClaimInfo {
    name: string;
    /** Being deleted (metadata.deletionTimestamp is set): a pod still uses it, or its finalizers have not run yet. */
    terminating: boolean;
}

/** How a follower reaches the leader to join its raft cluster; TLS fields stay empty for plain HTTP. */
export interface JoinTarget {
    /** e.g. http://vault-0.vault-internal:8200 */
    leaderApiAddr: string;
    /** Path, inside the pod, of the CA certificate that signed the leader's certificate. */
    leaderCaCertFile?: string;
}

/** The Vault API did not answer (pod starting, container restarting): worth retrying. */
export class VaultUnavailable extends Error {
    constructor(message: string) {
        super(message);
        this.name = "VaultUnavailable";
    }
}

/**
 * Vault or kubectl answered with an error that waiting does not fix: a 4xx (a wrong key, a bad token), a certificate
 * that does not verify (`tls`), or a local error of the CLI such as an unreadable file (`local`). See failures.ts.
 */
export class VaultRefused extends Error {
    constructor(
        message: string,
        readonly kind: "refused" | "tls" | "local" = "refused",
    ) {
        super(message);
        this.name = "VaultRefused";
    }
}

export interface VaultOps {
    listPods(): Promise<PodInfo[]>;
    status(pod: string): Promise<SealStatus>;
    /**
     * Initialises Vault; the answer is staged in the pod (see vaultScripts.ts STAGED_INIT_FILE) before it is returned.
     * recovery: the seal is an auto seal, and shares/threshold are the recovery keys'.
     */
    init(pod: string, shares: number, threshold: number, recovery?: boolean): Promise<InitResponse>;
    /** The init answer staged in the pod by a run that died before saving it, if any. */
    takeStagedInit(pod: string): Promise<InitResponse | undefined>;
    /** Removes the staged answer once the key file holds it. */
    dropStagedInit(pod: string): Promise<void>;
    /**
     * Submits one unseal key share; the key travels on stdin. migrate: the share is the old (Shamir) seal's, sent for a
     * seal migration (`vault operator unseal -migrate`: sys/unseal with "migrate": true, http/sys_seal.go).
     */
    submitUnsealKey(pod: string, key: string, migrate?: boolean): Promise<void>;
    /** Discards a half-finished unseal (progress > 0) so that a fresh set of keys starts from zero. */
    resetUnseal(pod: string): Promise<void>;
    join(pod: string, target: JoinTarget): Promise<void>;
    /** Removes a peer from the raft configuration (a server that is gone for good); the token travels on stdin. */
    removeRaftPeer(pod: string, token: string, nodeId: string): Promise<void>;
    /** The Vault StatefulSet's revisions and generations. */
    statefulSet(): Promise<StatefulSetInfo>;
    /** The server configuration the release's ConfigMap holds; undefined before the first install. */
    serverConfig(): Promise<string | undefined>;
    /** The volume claims in Vault's namespace. */
    listClaims(): Promise<ClaimInfo[]>;
    /** Deletes a volume claim (and so, with the usual Delete reclaim policy, its volume); a missing one is no error. */
    deleteClaim(name: string): Promise<void>;
    /** Deletes a pod; its StatefulSet makes it again from the update revision (OnDelete). */
    deletePod(pod: string): Promise<void>;
    /** `vault operator step-down` on the active node; the token travels on stdin. */
    stepDown(pod: string, token: string): Promise<void>;
    /** Autopilot's view of the raft cluster; the token travels on stdin. */
    autopilotState(pod: string, token: string): Promise<AutopilotState>;
    /** Told the running byte count of a streamed snapshot (save or restore), for progress. */
    onBytes?: (total: number) => void;
    /** Streams a raft snapshot from `pod` (the active node) into `file`; the token travels on stdin. */
    saveSnapshot(pod: string, token: string, file: string): Promise<void>;
    /** Uploads `file` into `pod` for a restore (vaultScripts.ts STAGED_SNAPSHOT_FILE); changes nothing in Vault. */
    stageSnapshot(pod: string, file: string): Promise<void>;
    /** The size and SHA-256 of the snapshot uploaded to `pod`, as the pod computes them; undefined when there is none. */
    stagedSnapshot(pod: string): Promise<{ bytes: number; sha256: string } | undefined>;
    /** Removes the uploaded snapshot (also done by restoreStagedSnapshot, whatever its outcome). */
    dropStagedSnapshot(pod: string): Promise<void>;
    /**
     * `vault operator raft snapshot restore` of the uploaded file, over loopback; the token travels on stdin. Throws
     * VaultRefused when Vault answered with an error (nothing was restored), VaultUnavailable when the answer was lost;
     * "not-active" when the pod was no longer the active node, so nothing was sent.
     */
    restoreStagedSnapshot(pod: string, token: string, force: boolean): Promise<"sent" | "not-active">;
    /** The vault container's log lines of `pod` written at or after `since` (kubectl logs --since-time). */
    restoreLog(pod: string, since: Date): Promise<string[]>;
    /**
     * The last lines of the vault container's log (kubectl logs --tail); previous: of the container that ran before
     * the current one (kubectl logs --previous), where a Vault that exited at start said why.
     */
    vaultLog(pod: string, previous: boolean): Promise<string[]>;
    /** Lists the raft peers as seen by `pod`; the token travels on stdin. */
    raftPeers(pod: string, token: string): Promise<RaftPeer[]>;
}
