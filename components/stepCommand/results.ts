/**
 * What the steps answer (one JSON line on stdout each) and the facts and keys those answers carry: the result half of
 * the step contract (contract.ts re-exports it), read by the Pulumi side (parseStepResult) and written by the runner.
 */
import type { SealType } from "../seal/sealTypes";
import type { PortHolder } from "../frontDoor/frontDoorSwitch";

/**
 * What opens a Vault and what administers it: the unseal key shares (base64) and the root token. With an auto seal
 * Vault opens itself: unsealKeys is empty, and recoveryKeys holds the recovery key shares, which open nothing (they
 * authorise generate-root and rekey) but are kept as carefully.
 */
export interface VaultKeys {
    unsealKeys: string[];
    rootToken: string;
    /** Absent for Shamir, and in results of versions before auto seals. */
    recoveryKeys?: string[];
}

/** What the active node says of its seal: t of n key shares open it; the cluster's id. */
export interface SealFacts {
    threshold: number;
    shares: number;
    clusterId: string;
}

export interface RaftPeer {
    node_id: string;
    address: string;
    leader: boolean;
    voter: boolean;
}

/** What a running Vault pod was made from, as far as vault-ha's settings decide it. */
export interface PodTemplate {
    pod: string;
    /** The vault container's image. */
    image: string;
    /** The pod mounts Vault's TLS secret, i.e. it serves HTTPS. */
    tls: boolean;
    /** Its vault container runs: only then has its image's Vault version ever touched the data. */
    running?: boolean;
    /** Its vault-ha.dev/telemetry annotation ("" without one: no metrics); absent from results of older versions. */
    telemetry?: string;
}

/** A StorageClass, and whether it is the cluster's default. */
export interface StorageClassFact {
    name: string;
    isDefault: boolean;
}

/** A list the kubeconfig's user may not read: what was refused, for the message and `kubectl auth can-i`. */
export interface UnreadableFact {
    verb: string;
    /** e.g. "nodes", "storageclasses.storage.k8s.io" */
    resource: string;
    /** "cluster" or the namespace. */
    scope: string;
    /** One line for the user, with the `kubectl auth can-i` command that shows it. */
    message: string;
}

/** What the cluster offers Vault, read by cluster-facts. A field is absent when it could not be read (see unreadable). */
export interface ClusterFacts {
    /** Ready nodes, not cordoned, without a NoSchedule/NoExecute taint (Vault's pods tolerate none). */
    schedulableNodes?: number;
    /** The first such node's ExternalIP, else its InternalIP. */
    nodeAddress?: string;
    storageClasses?: StorageClassFact[];
    certManager: {
        /** The certificates.cert-manager.io CRD exists. */
        crds: boolean;
        /** A cert-manager webhook Deployment has an available replica. */
        webhookReady: boolean;
        /** Where that webhook Deployment is. */
        namespace?: string;
        /** Its vault-ha.dev/owner label: set when a vault-ha stack installed it. */
        owner?: string;
        /**
         * Where its ClusterIssuers read their secrets: the controller's --cluster-resource-namespace, resolved
         * ($(POD_NAMESPACE) is the controller's namespace; without the flag, cert-manager's default kube-system).
         * Absent when the controller Deployment could not be read or takes its settings from a --config file.
         */
        clusterResourceNamespace?: string;
    };
    /** With `ingress: gateway` only (the step is given the Gateway's name): what the routes will attach to. */
    gateway?: GatewayFacts;
    /** The cluster serves monitoring.coreos.com's servicemonitors and prometheusrules (the Prometheus Operator). */
    prometheusOperator?: boolean;
    /** What the kubeconfig's user may not read: each absent field above has its reason here. */
    unreadable: UnreadableFact[];
}

/** A Kubernetes label selector (meta/v1 LabelSelector), as a listener's allowedRoutes.namespaces.selector holds it. */
export interface LabelSelectorFact {
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** One listener of the Gateway, with the fields that decide which routes it takes (Gateway API v1 Listener). */
export interface GatewayListenerFact {
    name: string;
    protocol: string;
    port: number;
    /** Absent: the listener takes every hostname. */
    hostname?: string;
    /** tls.mode (the API server defaults it to Terminate); absent without tls. */
    tlsMode?: string;
    allowedRoutes: {
        /** namespaces.from: Same (the API server's default), All, Selector. */
        from: string;
        selector?: LabelSelectorFact;
        /** Absent or empty: the kinds the protocol takes. */
        kinds?: Array<{ group?: string; kind: string }>;
    };
}

/**
 * The Gateway API as the cluster serves it and the Gateway vault-ha's routes attach to. A field is absent when it
 * could not be read (its reason is among ClusterFacts.unreadable).
 */
export interface GatewayFacts {
    name: string;
    namespace: string;
    /**
     * gateway.networking.k8s.io resources -> the version discovery prefers for each (e.g. tlsroutes: "v1" from Gateway
     * API v1.5 on, "v1alpha3" before); empty when the API is not installed.
     */
    served?: Record<string, string>;
    /** false: the API server answered NotFound (or the Gateway API is not installed). */
    exists?: boolean;
    listeners?: GatewayListenerFact[];
    /** Vault's namespace and its labels, which a listener's namespace selector is matched against. */
    vaultNamespace?: { name: string; exists: boolean; labels: Record<string, string> };
}

/** Where a route attached, as the Gateway's controller reports it (gateway-ready). */
export interface GatewayReadyResult {
    /** The Gateway's status.addresses values (an IP or a host name each). */
    addresses: string[];
    /** The listeners Vault's route attached to, and how many routes each holds (status.listeners[].attachedRoutes). */
    listeners: Array<{ name: string; attachedRoutes: number }>;
}

export type UnsealOutcome = "unsealed" | "already-unsealed";

/** What each step prints on stdout. */
export interface StepResults {
    "wait-pods": { pods: string[] };
    /** Pod name -> incarnation ("pod <uid> started <time>", "absent", "unknown"). */
    "pod-identities": Record<string, string>;
    /** The pods that exist, each with the Vault image it runs and whether it mounts the TLS secret. */
    /**
     * dataClaim: the running StatefulSet's raft volume claim template; antiAffinity: how its pod template keeps the pods
     * apart. Both absent before the first install.
     */
    /** replicas: the running StatefulSet's spec.replicas, so a scale-down the quorum would not survive is refused. */
    "pod-templates": {
        pods: PodTemplate[];
        dataClaim?: { storage?: string; storageClassName?: string };
        antiAffinity?: "required" | "preferred";
        replicas?: number;
        /** The raft volume claims (data-<pod>) that exist: one beyond the replica count may hold a peer raft still counts. */
        claims?: string[];
        /** The seal the release's server configuration names; absent before the first install. */
        seal?: SealType;
        /** That seal stanza's attributes (never a secret: vault-ha keeps the transit token out of the configuration). */
        sealStanza?: Record<string, string>;
        /** With a seal stanza: the seal Vault's storage holds, as the nodes report it (absent when they do not tell). */
        storedSeal?: SealType;
    };
    init: VaultKeys & { source: "vault-init" | "key-file" | "pod-staging" | "config" };
    unseal: { pod: string; result: UnsealOutcome };
    /** The pods replaced (in order) to bring them to the StatefulSet's revision. */
    roll: { rolled: string[]; revision: string };
    join: { pod: string; result: UnsealOutcome };
    /**
     * seal: the seal configuration and cluster id the leader reports once the cluster is whole (the in-cluster
     * unsealer sends keys only to a pod that reports the same). Absent from results of versions before it.
     */
    verify: { peers: RaftPeer[]; seal?: SealFacts };
    /** keptAs: where the key file went instead (with keepKeysIn). */
    "forget-keys": { deleted: boolean; keptAs?: string };
    "cert-manager-ready": { ready: true };
    "read-ca": { caCert: string };
    "kv-proof": { path: string; version: number };
    "cluster-facts": ClusterFacts;
    /** The LoadBalancer's IP or host name (status.loadBalancer.ingress[0]), as it was given. */
    "vault-address": { address: string };
    /** The secrets that were there and are gone now. */
    "delete-secrets": { deleted: string[] };
    "gateway-ready": GatewayReadyResult;
    /** The pods holding host port 80 or 443; unknown when the cluster could not be read (a preview before it exists). */
    "front-door-facts": { holders: PortHolder[]; unknown?: string };
    "gateway-crds": { crds: string[] };
    "delete-gateway-crds": { deleted: string[] };
}
