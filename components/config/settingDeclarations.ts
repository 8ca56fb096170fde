/**
 * Every setting of vault-ha, declared once: its default, its grammar, the example a fix suggests, the cluster modes it
 * means something in, its one-line description and its row of the README's table. The `Settings` type, DEFAULTS,
 * the parsers, the kind-only rule, Pulumi.yaml's declarations and the README's table (both kept equal by tests) all
 * follow from here.
 *
 * The Pulumi CLI applies Pulumi.yaml defaults, but the SDK under test mocks and `npm run render` do not, so the code
 * holds them too. To add a setting: declare it here, add it to Pulumi.yaml and paste its row of configurationTable()
 * (settingsTable.ts) into the README (tests fail until both agree), and write its rules between settings, if any, in
 * settingRules.ts or modeRules.ts.
 */
import * as g from "./grammars";
import { SEAL_DECLARATIONS } from "./sealDeclarations";
import { GATEWAY_DECLARATIONS } from "./gatewayDeclarations";
import { TELEMETRY_DECLARATIONS } from "./telemetryDeclarations";
import { CERT_MANAGER_CHART, INGRESS_NGINX_CHART, KIND_NODE_IMAGE, VAULT_CHART, VAULT_IMAGE } from "./versions";

/** Where Vault goes: a kind cluster vault-ha creates (the lab), or a cluster that already exists (a kubeconfig context). */
export const CLUSTER_MODES = ["kind", "existing"] as const;
export type ClusterMode = (typeof CLUSTER_MODES)[number];
/** How Vault's API is reached from outside the cluster; auto is NodePort on kind, LoadBalancer on an existing cluster. */
export const VAULT_SERVICE_TYPES = ["auto", "NodePort", "LoadBalancer", "ClusterIP"] as const;
export type VaultServiceTypeSetting = (typeof VAULT_SERVICE_TYPES)[number];
export type VaultServiceType = Exclude<VaultServiceTypeSetting, "auto">;
/**
 * install ingress-nginx, use an ingress class already in the cluster, the Gateway API (Envoy Gateway on kind, a named
 * Gateway elsewhere), or no front door; auto is install on kind, none elsewhere.
 */
export const INGRESS_MODES = ["auto", "install", "existing", "gateway", "none"] as const;
export type IngressSetting = (typeof INGRESS_MODES)[number];
export type IngressMode = Exclude<IngressSetting, "auto">;
/** auto: required when there are enough schedulable nodes for one Vault pod each, preferred otherwise. */
export const ANTI_AFFINITIES = ["auto", "required", "preferred"] as const;
export type AntiAffinitySetting = (typeof ANTI_AFFINITIES)[number];
export type AntiAffinity = Exclude<AntiAffinitySetting, "auto">;
/** auto: use a cert-manager that already runs in the cluster (and is not vault-ha's), install one otherwise. */
export const CERT_MANAGER_MODES = ["auto", "install", "existing"] as const;
export type CertManagerSetting = (typeof CERT_MANAGER_MODES)[number];
/** none: a sealed pod waits for the next pulumi up; in-cluster: a pod in Vault's namespace unseals it (components/unsealer/). */
export const AUTO_UNSEAL_MODES = ["none", "in-cluster"] as const;
export type AutoUnsealSetting = (typeof AUTO_UNSEAL_MODES)[number];
export const RAFT_VOLUMES_ON_DESTROY = ["keep", "delete"] as const;
export type RaftVolumesOnDestroy = (typeof RAFT_VOLUMES_ON_DESTROY)[number];

export interface Declaration<T> {
    default: T;
    /** Reads the value as Pulumi hands it over (text, lists as JSON) or as YAML or a test gives it. */
    parse: g.Field<T>;
    /**
     * What a fix suggests for a value wrong on its own, when the default is not the most helpful example. Where a
     * setting depends on another, settingRules.ts computes the value instead. A list setting's hint is its items.
     */
    hint?: T extends readonly unknown[] ? T : string;
    /** The cluster modes in which the setting means something; absent: both. A setting set outside them is refused. */
    modes?: readonly ClusterMode[];
    /** One line: what the setting does (Pulumi.yaml's description). */
    doc: string;
    /**
     * The row of the README's configuration table that this setting starts (settingsTable.ts renders it): the meaning
     * cell, and the settings shown in the same row. Absent for a setting shown in another's row.
     */
    row?: { meaning: string; with?: readonly string[] };
}

const declare = <T>(declaration: Declaration<T>): Declaration<T> => declaration;

/** In the order the messages list their problems, and Pulumi.yaml its settings. */
export const DECLARATIONS = {
    cluster: declare<ClusterMode>({
        default: "kind",
        parse: g.oneOf(CLUSTER_MODES),
        row: {
            meaning:
                "`kind`: a kind cluster vault-ha creates and deletes (the lab); `existing`: a cluster you have (see [On your own cluster](docs/existing-cluster.md#on-your-own-cluster))",
        },
        doc: "Where Vault goes: kind (a kind cluster vault-ha creates and deletes) or existing (a cluster you have, by kubeContext or the kubeconfig secret; nothing of it but what vault-ha created is deleted).",
    }),
    kubeContext: declare<string>({
        default: "",
        parse: g.kubeContextName,
        hint: "<a name from: kubectl config get-contexts -o name>",
        modes: ["existing"],
        row: { meaning: "with `cluster: existing`, the kubeconfig context to deploy to; empty on kind" },
        doc: "With cluster existing: the kubeconfig context to deploy to (kubectl config get-contexts -o name). Empty on kind.",
    }),
    clusterName: declare<string>({
        default: "vault",
        parse: g.kindClusterName,
        modes: ["kind"],
        row: { meaning: "kind cluster name (DNS-1123 label, ≤ 49 characters); the kubectl context is `kind-<name>`" },
        doc: "Name of the kind cluster (a DNS-1123 label, at most 49 characters); the kubectl context is kind-<name>.",
    }),
    kindNodeImage: declare<string>({
        default: KIND_NODE_IMAGE,
        parse: g.kindNodeImage,
        hint: "kindest/node:<version>@sha256:<digest from your kind release's notes>",
        modes: ["kind"],
        row: { meaning: "node image, pinned by digest; must be listed in your kind release's notes" },
        doc: "kind node image pinned by digest. It must be listed in the release notes of your kind version (default needs kind v0.33.0).",
    }),
    workers: declare<number>({
        default: 3,
        parse: g.wholeNumber(1, 20),
        modes: ["kind"],
        row: { meaning: "kind worker nodes; Vault runs one pod per node" },
        doc: "Number of kind worker nodes. Vault runs one pod per node, so it needs at least vaultReplicas workers.",
    }),
    ingressHttpPort: declare<number>({
        default: 80,
        parse: g.hostPort,
        // The defaults need root on some systems: the example is the usual unprivileged alternative.
        hint: "8080",
        modes: ["kind"],
        row: { meaning: "host ports mapped to the ingress controller", with: ["ingressHttpsPort"] },
        doc: "Host port mapped to the ingress controller's HTTP port.",
    }),
    ingressHttpsPort: declare<number>({
        default: 443,
        parse: g.hostPort,
        hint: "8443",
        modes: ["kind"],
        doc: "Host port mapped to the ingress controller's HTTPS port.",
    }),
    nodePorts: declare<number[]>({
        default: [30000, 30001],
        parse: g.nodePorts,
        modes: ["kind"],
        row: { meaning: "NodePorts (30000–32767) mapped one to one to localhost; at least one, none twice, none an ingress host port" },
        doc: "NodePorts (30000-32767) mapped one to one from the control-plane node to localhost; at least one (uiNodePort's), none twice, none an ingress host port.",
    }),
    vaultNamespace: declare<string>({
        default: "vault",
        parse: g.namespace,
        row: { meaning: "namespace of the Vault release (not another component's, `default`, `kube-*` or `local-path-storage`)" },
        doc: "Namespace of the Vault release. Not another component's namespace, default, kube-* or local-path-storage (kind's storage).",
    }),
    vaultChartVersion: declare<string>({
        default: VAULT_CHART.version,
        parse: g.chartVersion,
        row: { meaning: "hashicorp/vault chart version (Vault 2.0.4)" },
        doc: "Version of the hashicorp/vault Helm chart.",
    }),
    vaultImage: declare<string>({
        default: VAULT_IMAGE,
        parse: g.vaultImage,
        hint: "hashicorp/vault:<version>@sha256:<digest>",
        row: {
            meaning:
                "Vault server image, `<repository>:<version>[@sha256:<digest>]`. A change rolls the pods one at a time (see [Changing a running stack](docs/operations.md#changing-a-running-stack)); a lower version than the pods run is refused",
        },
        doc: "Vault server image, <repository>:<version>[@sha256:<digest>]. A change rolls the pods one at a time (standbys first, the active node last), each unsealed again; a lower version than the pods run is refused.",
    }),
    vaultReplicas: declare<number>({
        default: 3,
        parse: g.wholeNumber(1, 20),
        row: { meaning: "Vault pods = raft peers; at most `workers`; an even number is allowed with a warning" },
        doc: "Number of Vault pods (raft peers). Use an odd number; at most the number of workers.",
    }),
    uiNodePort: declare<number>({
        default: 30000,
        parse: g.nodePort,
        row: { meaning: "NodePort of Vault's UI/API service; must be one of `nodePorts`" },
        doc: "NodePort of the Vault UI/API service; must be one of nodePorts. VAULT_ADDR is localhost on this port.",
    }),
    raftStorageSize: declare<string>({
        default: "10Gi",
        parse: g.raftStorageSize,
        row: { meaning: "size of each pod's raft volume, a Kubernetes quantity from 1Gi to 1Ti" },
        doc: "Size of each Vault pod's raft data volume, a Kubernetes quantity from 1Gi to 1Ti (kind's local-path storage does not enforce it).",
    }),
    keyShares: declare<number>({
        default: 5,
        parse: g.wholeNumber(1, 255),
        row: {
            meaning:
                "unseal key shares created at init / shares needed to unseal (Vault requires threshold ≥ 2 when shares > 1); with an auto seal, recovery key shares. Read once, at init: vault-ha does not rekey",
            with: ["keyThreshold"],
        },
        doc: "Number of unseal key shares created by `vault operator init`.",
    }),
    keyThreshold: declare<number>({
        default: 3,
        parse: g.wholeNumber(1, 255),
        doc: "Number of unseal key shares needed to unseal Vault.",
    }),
    autoUnseal: declare<AutoUnsealSetting>({
        default: "none",
        parse: g.oneOf(AUTO_UNSEAL_MODES),
        row: {
            meaning:
                "`none`: a Vault pod that restarts stays sealed until the next `up`; `in-cluster`: a small pod in Vault's namespace unseals it within seconds, with the threshold of keys in a Secret there (anyone who can read that Secret can unseal Vault); see [Unsealing](#unsealing)",
        },
        doc: "none (a restarted Vault pod stays sealed until the next pulumi up) or in-cluster (a pod in Vault's namespace unseals it, with keyThreshold keys in a Secret there: anyone who can read that Secret can unseal Vault).",
    }),
    ...SEAL_DECLARATIONS,
    ...GATEWAY_DECLARATIONS,
    ...TELEMETRY_DECLARATIONS,
    ingressNginxNamespace: declare<string>({
        default: "ingress-nginx",
        parse: g.namespace,
        row: { meaning: "namespace of the ingress controller" },
        doc: "Namespace of the ingress-nginx release. Not another component's namespace, default, kube-* or local-path-storage.",
    }),
    ingressNginxChartVersion: declare<string>({
        default: INGRESS_NGINX_CHART.version,
        parse: g.chartVersion,
        row: { meaning: "ingress-nginx chart version" },
        doc: "Version of the ingress-nginx Helm chart.",
    }),
    whoami: declare<boolean>({
        default: true,
        parse: g.bool,
        row: { meaning: "deploy the whoami check" },
        doc: "Deploy traefik/whoami behind an Ingress at /_whoami to prove that ingress works.",
    }),
    whoamiNamespace: declare<string>({
        default: "whoami",
        parse: g.namespace,
        row: { meaning: "namespace of whoami" },
        doc: "Namespace of the whoami app. Not another component's namespace, default, kube-* or local-path-storage.",
    }),
    tls: declare<boolean>({
        default: true,
        parse: g.bool,
        row: { meaning: "Vault over HTTPS with a cert-manager certificate; `false` reproduces the blog's plain-HTTP lab (no cert-manager)" },
        doc: "Serve Vault over HTTPS with a certificate from a cert-manager CA. false reproduces the blog's plain-HTTP lab.",
    }),
    ingressHost: declare<string>({
        default: "vault.localhost",
        parse: g.ingressHost,
        row: { meaning: "host name of Vault's Ingress (and a name in its certificate)" },
        doc: "Host name of Vault's Ingress (TLS passthrough through ingress-nginx on the HTTPS host port).",
    }),
    certManagerNamespace: declare<string>({
        default: "cert-manager",
        parse: g.namespace,
        row: { meaning: "namespace of cert-manager" },
        doc: "Namespace of cert-manager (with tls true). Not another component's namespace, default, kube-* or local-path-storage.",
    }),
    certManagerChartVersion: declare<string>({
        default: CERT_MANAGER_CHART.version,
        parse: g.chartVersion,
        row: { meaning: "cert-manager chart version" },
        doc: "Version of the cert-manager Helm chart (with tls true).",
    }),
    kvMount: declare<string>({
        default: "mysecret",
        parse: g.kvMount,
        row: { meaning: "where the proof enables kv-v2 and writes `logins/study` (not `sys`, `auth`, `audit`, `cubbyhole` or `identity`)" },
        doc: "Path of the kv-v2 engine that the proof step enables, writes logins/study to and reads back through VAULT_ADDR. Not one Vault reserves (sys, auth, audit, cubbyhole, identity).",
    }),
    snapshotsToKeep: declare<number>({
        default: 5,
        parse: g.wholeNumber(1, 100),
        row: {
            meaning:
                "how many backups (raft snapshot + the keys that open it) to keep in `backups/<project>.<stack>/`; see [Backups](docs/operations.md#backups)",
        },
        doc: "How many raft snapshots (each with the keys that open it) to keep in backups/<project>.<stack>/; taken by npm run snapshot and before every Vault pod roll. 1-100.",
    }),
    vaultServiceType: declare<VaultServiceTypeSetting>({
        default: "auto",
        parse: g.oneOf(VAULT_SERVICE_TYPES),
        row: {
            meaning:
                "how Vault's API is reached: `NodePort`, `LoadBalancer` (its address awaited and made `vaultAddr`) or `ClusterIP` (a `kubectl port-forward`); `auto` is NodePort on kind, LoadBalancer on an existing cluster",
        },
        doc: "How Vault's API is reached: NodePort, LoadBalancer (its address awaited and made VAULT_ADDR) or ClusterIP (a kubectl port-forward). auto is NodePort on kind, LoadBalancer on an existing cluster.",
    }),
    ingress: declare<IngressSetting>({
        default: "auto",
        parse: g.oneOf(INGRESS_MODES),
        row: {
            meaning:
                "`install` (ingress-nginx with SSL passthrough), `existing` (an ingress class in the cluster: `ingressClassName`), `gateway` (the Gateway API with TLS passthrough: Envoy Gateway on kind, your Gateway elsewhere; see [Front door](#front-door)) or `none`; `auto` is install on kind, none on an existing cluster",
        },
        doc: "install (ingress-nginx with SSL passthrough), existing (an ingress class already in the cluster, see ingressClassName), gateway (the Gateway API with TLS passthrough: Envoy Gateway installed on kind, the Gateway named by gatewayName/gatewayNamespace elsewhere) or none. auto is install on kind, none on an existing cluster.",
    }),
    ingressClassName: declare<string>({
        default: "nginx",
        parse: g.ingressClassName,
        row: { meaning: "with `ingress: existing`, the IngressClass of Vault's and whoami's Ingresses; with TLS it must pass TLS through" },
        doc: "With ingress existing: the IngressClass Vault's and whoami's Ingresses use. With tls, it must pass TLS through (ingress-nginx started with --enable-ssl-passthrough).",
    }),
    storageClass: declare<string>({
        default: "",
        parse: g.storageClass,
        hint: "<a name from: kubectl get storageclass>",
        row: { meaning: "StorageClass of the raft volumes; empty for the cluster's default. Fixed at the first install" },
        doc: "StorageClass of the raft volumes; empty for the cluster's default. Fixed at the first install (a StatefulSet's volume claims cannot change).",
    }),
    vaultCpu: declare<string>({
        default: "auto",
        parse: g.vaultCpu,
        hint: "250m",
        row: {
            meaning:
                "CPU request / memory request and limit of each Vault pod: a quantity, `none`, or `auto` (none on kind; `250m` / `256Mi` on an existing cluster)",
            with: ["vaultMemory"],
        },
        doc: "CPU request of each Vault pod: a quantity (250m), none, or auto (none on kind, 250m on an existing cluster). No CPU limit is set.",
    }),
    vaultMemory: declare<string>({
        default: "auto",
        parse: g.vaultMemory,
        hint: "256Mi",
        doc: "Memory request and limit of each Vault pod: a quantity (256Mi), none, or auto (none on kind, 256Mi on an existing cluster).",
    }),
    antiAffinity: declare<AntiAffinitySetting>({
        default: "auto",
        parse: g.oneOf(ANTI_AFFINITIES),
        row: {
            meaning:
                "one Vault pod per node: `required`, `preferred`, or `auto` (required when the cluster has a schedulable node per replica, else preferred with a warning; decided at `up`)",
        },
        doc: "One Vault pod per node: required, preferred, or auto (required when the cluster has a schedulable node per replica, preferred otherwise, decided at up; kind always has one per replica).",
    }),
    tlsExtraNames: declare<string[]>({
        default: [],
        parse: g.tlsExtraNames,
        hint: ["vault.example.com"],
        row: {
            meaning:
                "more DNS names or IP addresses in Vault's certificate (the load balancer's, the ingress host's); Vault reloads a re-issued certificate without a restart",
        },
        doc: "More DNS names or IP addresses for Vault's server certificate (with tls true): the load balancer's or the ingress host's name. A change re-issues the certificate, which Vault reloads without a restart.",
    }),
    certManager: declare<CertManagerSetting>({
        default: "auto",
        parse: g.oneOf(CERT_MANAGER_MODES),
        row: {
            meaning:
                "`install`, `existing` (use the cert-manager that runs in the cluster) or `auto` (use one that runs and is not vault-ha's own, else install; kind always installs)",
        },
        doc: "With tls true: install cert-manager, use the existing one in the cluster, or auto (use one that runs already and is not vault-ha's own, else install; kind always installs).",
    }),
    raftVolumesOnDestroy: declare<RaftVolumesOnDestroy>({
        default: "keep",
        parse: g.oneOf(RAFT_VOLUMES_ON_DESTROY),
        modes: ["existing"],
        row: {
            meaning:
                "with `cluster: existing`: `keep` or `delete` the raft volumes (Vault's data) on `pulumi destroy`; see [On your own cluster](docs/existing-cluster.md#on-your-own-cluster)",
        },
        doc: "With cluster existing: keep or delete the raft volumes (PVCs, Vault's data) on pulumi destroy. keep leaves the Vault namespace with them; the README says how to remove them.",
    }),
    vaultLoadBalancerSourceRanges: declare<string[]>({
        default: [],
        parse: g.cidrList,
        hint: ["203.0.113.0/24"],
        row: { meaning: "with a LoadBalancer: the client networks (CIDRs) it admits; empty is the cloud's default, on most clouds anyone (a warning says so)" },
        doc: 'With a LoadBalancer: the client networks (CIDRs) it admits, e.g. ["203.0.113.0/24"]. Empty: the cloud\'s default, on most clouds anyone.',
    }),
    vaultServiceAnnotations: declare<string[]>({
        default: [],
        parse: g.annotationList,
        hint: ["service.beta.kubernetes.io/aws-load-balancer-scheme=internal"],
        row: {
            meaning:
                "`key=value` annotations of Vault's API Service, e.g. an internal load balancer (`service.beta.kubernetes.io/aws-load-balancer-scheme=internal` on EKS, `networking.gke.io/load-balancer-type=Internal` on GKE, `service.beta.kubernetes.io/azure-load-balancer-internal=true` on AKS)",
        },
        doc: "key=value annotations of Vault's API Service, e.g. a cloud's internal load balancer: service.beta.kubernetes.io/aws-load-balancer-scheme=internal.",
    }),
};

export type SettingName = keyof typeof DECLARATIONS;
/** The settings, each as its grammar returns it. */
export type Settings = { [K in SettingName]: (typeof DECLARATIONS)[K]["default"] };
export const SETTING_NAMES = Object.keys(DECLARATIONS) as SettingName[];

export const DEFAULTS = Object.fromEntries(SETTING_NAMES.map((name) => [name, DECLARATIONS[name].default])) as Settings;

/** Each setting's grammar. */
export const FIELDS = Object.fromEntries(SETTING_NAMES.map((name) => [name, DECLARATIONS[name].parse])) as { [K in SettingName]: g.Field<Settings[K]> };

/** What a user may type for each setting, shown in the fix line of an error: the hint, else the default. */
export const HINTS = Object.fromEntries(SETTING_NAMES.map((name) => [name, DECLARATIONS[name].hint ?? DEFAULTS[name]])) as Record<
    SettingName,
    string | number | boolean | readonly string[] | readonly number[]
>;

const onlyIn = (mode: ClusterMode): SettingName[] =>
    SETTING_NAMES.filter((name) => {
        const modes = DECLARATIONS[name].modes;
        return modes !== undefined && modes.length === 1 && modes[0] === mode;
    });

/** Settings that only mean something for a kind cluster vault-ha creates: with cluster=existing they must stay unset. */
export const KIND_ONLY_SETTINGS: readonly SettingName[] = onlyIn("kind");
/** Settings that only mean something on a cluster that exists; modeRules.ts says why each is refused on kind. */
export const EXISTING_ONLY_SETTINGS: readonly SettingName[] = onlyIn("existing");

/**
 * Optional secrets that hand vault-ha the keys of an already initialised Vault (adoption). They are not declared in
 * Pulumi.yaml: the CLI treats a declared key without a default as required, and these must stay optional.
 */
export const ADOPTION_SETTINGS = ["unsealKeys", "rootToken"] as const;

/**
 * Every optional secret: the adoption keys, the kubeconfig of an existing cluster (for a cluster that is not in the
 * user's own kubeconfig), and the token of a transit seal. Not declared in Pulumi.yaml either, for the same reason.
 */
export const SECRET_SETTINGS = [...ADOPTION_SETTINGS, "kubeconfig", "sealTransitToken"] as const;

/** The names vault-ha reads: its settings and its optional secrets. */
export const KNOWN_NAMES: string[] = [...SETTING_NAMES, ...SECRET_SETTINGS];

/** The namespace settings, in the order their components are described; each component creates its own Namespace. */
export const NAMESPACE_SETTINGS = ["vaultNamespace", "ingressNginxNamespace", "certManagerNamespace", "whoamiNamespace", "gatewayNamespace"] as const;
