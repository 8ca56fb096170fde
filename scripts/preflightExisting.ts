/**
 * The preflight of a stack with `cluster: existing` (scripts/preflight.ts runs it instead of the kind checks): the
 * kubeconfig context exists and its API server answers, the user may do there what `pulumi up`, later `up`s and
 * `pulumi destroy` do (`kubectl auth can-i`), the storage class exists (or a default one does), cert-manager and the
 * ingress class are where the settings say, no other ingress-nginx holds the objects `ingress: install` would install,
 * and there are enough schedulable nodes for one Vault pod each. No docker and no kind: the cluster is not ours to
 * create.
 *
 * Every check is a kubectl call through the Runner, with the context (and, when the stack holds its own kubeconfig as
 * the secret vault-ha:kubeconfig, `--kubeconfig <a private temporary file>`) as flags: the kubeconfig's contents
 * never reach an argv, a log line or a message.
 */
import { ingressMode, vaultServiceType, whoamiEnabled } from "../components/config/clusterModes";
import { Settings } from "../components/config/settings";
import { OWNER_LABEL_KEY, ownerLabelValue } from "../components/kind/kindConfig";
import { INGRESS_CLASS } from "../components/ingress/ingressNginxValues";
import { WEBHOOK_SELECTOR } from "../components/runner/steps/clusterFacts";
import { CertManagerFacts, certManagerPlan } from "../components/tls/certManagerMode";
import type { Finding, Runner, RunResult } from "./preflight";

/** Where kubectl finds the cluster: the context, and the stack's own kubeconfig file when it has one. */
export interface KubeTarget {
    /** The setting kubeContext: "" means the current context of `kubeconfigFile`. */
    context: string;
    /** A private temporary copy of the secret vault-ha:kubeconfig; absent: the user's kubeconfig (KUBECONFIG or ~/.kube/config). */
    kubeconfigFile?: string;
}

/** kubectl's global flags for the target: --kubeconfig (a path) and --context. Never the kubeconfig's contents. */
export function targetFlags(target: KubeTarget): string[] {
    return [...(target.kubeconfigFile ? ["--kubeconfig", target.kubeconfigFile] : []), ...(target.context ? ["--context", target.context] : [])];
}

/** The flags of a command the user can run later: the context only (the temporary kubeconfig file is gone by then). */
function hintFlags(target: KubeTarget): string {
    return target.context ? `--context ${target.context} ` : "";
}

/** How the target is named in messages. */
function describeTarget(target: KubeTarget): string {
    const where = target.kubeconfigFile ? "the kubeconfig in vault-ha:kubeconfig" : "your kubeconfig";
    return target.context ? `context ${target.context} (${where})` : `the current context of ${where}`;
}

/** The first line kubectl printed on stderr, for a message (kubectl's errors name the server, never credentials). */
function reason(result: RunResult): string {
    const line = (result.stderr ?? "")
        .split("\n")
        .map((l) => l.trim())
        .find(Boolean);
    return line ? `: ${line.replace(/^error:\s*/i, "")}` : "";
}

/** One permission `pulumi up` needs, as `kubectl auth can-i` asks it. */
export interface Permission {
    verb: string;
    /** resource.group, as kubectl takes it (`statefulsets.apps`); a core resource without a group. */
    resource: string;
    namespace?: string;
    subresource?: string;
    /** Why vault-ha needs it. */
    why: string;
}

/** `kubectl auth can-i` arguments of a permission. */
export function canIArgs(p: Permission): string[] {
    return ["auth", "can-i", p.verb, p.resource, ...(p.subresource ? [`--subresource=${p.subresource}`] : []), ...(p.namespace ? ["-n", p.namespace] : [])];
}

function describePermission(p: Permission): string {
    return `${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ""}${p.namespace ? ` in namespace ${p.namespace}` : " (cluster-wide)"}`;
}

/** What the cluster has that decides which permissions are needed: cert-manager, as the up's cluster-facts step reads it. */
export interface ClusterView {
    certManager: CertManagerFacts;
}

/**
 * Whether `pulumi up` installs cert-manager: the program's own decision (components/tls/certManagerMode.ts), from the
 * same facts. Without TLS there is no cert-manager at all.
 */
export function installsCertManager(settings: Settings, view: ClusterView, owner: string): boolean {
    return settings.tls && certManagerPlan(settings.certManager, view.certManager, owner, settings.cluster).action === "install";
}

/**
 * kubectl exec and port-forward: `get` and `create` on the subresource. kubectl (1.31 and later) opens them over
 * WebSockets, a GET request that the API server authorizes as `get`; SPDY, its fallback, is a POST (`create`); and
 * from Kubernetes 1.35 the API server also requires `create` for the WebSocket upgrade (feature gate
 * AuthorizePodWebsocketUpgradeCreatePermission, beta and on: kubernetes/kubernetes#134577). The built-in edit and
 * admin roles grant both.
 */
function streaming(subresource: "exec" | "portforward", namespace: string, why: string): Permission[] {
    return (["create", "get"] as const).map((verb) => ({ verb, resource: "pods", subresource, namespace, why }));
}

/** A kind a chart renders or the program creates: its resource as can-i takes it, and how a message names it. */
interface ObjectKind {
    resource: string;
    what: string;
    /** Cluster-scoped: asked without -n. */
    cluster?: boolean;
}

/**
 * What the pinned vault-helm 0.34.1 renders for vault-ha's values, the same kinds with every vaultServiceType and with
 * TLS off (tests/unit/scripts/preflightExisting.test.ts checks these lists against the pinned charts' renders): a
 * StatefulSet, Services (vault, vault-active, vault-standby, vault-internal, vault-ui), a ServiceAccount, a ConfigMap
 * (the server configuration), the discovery Role and RoleBinding (service registration), a PodDisruptionBudget, and
 * the ClusterRoleBinding vault-server-binding to system:auth-delegator (server.authDelegator.enabled defaults to true).
 */
export const VAULT_CHART_KINDS: readonly ObjectKind[] = [
    { resource: "statefulsets.apps", what: "StatefulSet" },
    { resource: "services", what: "Services" },
    { resource: "serviceaccounts", what: "ServiceAccount" },
    { resource: "configmaps", what: "ConfigMap (the server configuration)" },
    { resource: "roles.rbac.authorization.k8s.io", what: "service-registration Role" },
    { resource: "rolebindings.rbac.authorization.k8s.io", what: "service-registration RoleBinding" },
    { resource: "poddisruptionbudgets.policy", what: "PodDisruptionBudget" },
    { resource: "clusterrolebindings.rbac.authorization.k8s.io", what: "ClusterRoleBinding to system:auth-delegator", cluster: true },
];

/**
 * What the pinned ingress-nginx 4.15.1 renders with the existing-cluster values (ingressNginxValues("existing")),
 * hooks included: the admission Jobs and their ServiceAccount, Role, RoleBinding, ClusterRole and ClusterRoleBinding
 * are Helm hooks, which Helm creates and deletes on each install and upgrade.
 */
export const INGRESS_NGINX_CHART_KINDS: readonly ObjectKind[] = [
    { resource: "deployments.apps", what: "controller Deployment" },
    { resource: "services", what: "Services" },
    { resource: "serviceaccounts", what: "ServiceAccounts" },
    { resource: "configmaps", what: "ConfigMap" },
    { resource: "roles.rbac.authorization.k8s.io", what: "Roles" },
    { resource: "rolebindings.rbac.authorization.k8s.io", what: "RoleBindings" },
    { resource: "jobs.batch", what: "admission Jobs (hooks)" },
    { resource: "clusterroles.rbac.authorization.k8s.io", what: "ClusterRoles", cluster: true },
    { resource: "clusterrolebindings.rbac.authorization.k8s.io", what: "ClusterRoleBindings", cluster: true },
    { resource: "ingressclasses.networking.k8s.io", what: "IngressClass", cluster: true },
    { resource: "validatingwebhookconfigurations.admissionregistration.k8s.io", what: "admission webhook", cluster: true },
];

/**
 * What the pinned cert-manager v1.21.1 renders with vault-ha's values (certManagerChartValues), hooks included. Its
 * leader-election Roles and RoleBindings go to kube-system (the chart's global.leaderElection.namespace), not to
 * cert-manager's namespace: CERT_MANAGER_LEADER_ELECTION_KINDS.
 */
export const CERT_MANAGER_CHART_KINDS: readonly ObjectKind[] = [
    { resource: "deployments.apps", what: "Deployments" },
    { resource: "services", what: "Services" },
    { resource: "serviceaccounts", what: "ServiceAccounts" },
    { resource: "roles.rbac.authorization.k8s.io", what: "Roles" },
    { resource: "rolebindings.rbac.authorization.k8s.io", what: "RoleBindings" },
    { resource: "jobs.batch", what: "startupapicheck Job (a hook)" },
    { resource: "customresourcedefinitions.apiextensions.k8s.io", what: "CRDs", cluster: true },
    { resource: "clusterroles.rbac.authorization.k8s.io", what: "ClusterRoles", cluster: true },
    { resource: "clusterrolebindings.rbac.authorization.k8s.io", what: "ClusterRoleBindings", cluster: true },
    { resource: "validatingwebhookconfigurations.admissionregistration.k8s.io", what: "webhook", cluster: true },
    { resource: "mutatingwebhookconfigurations.admissionregistration.k8s.io", what: "webhook", cluster: true },
];
export const CERT_MANAGER_LEADER_ELECTION_NAMESPACE = "kube-system";
export const CERT_MANAGER_LEADER_ELECTION_KINDS: readonly ObjectKind[] = [
    { resource: "roles.rbac.authorization.k8s.io", what: "leader-election Roles" },
    { resource: "rolebindings.rbac.authorization.k8s.io", what: "leader-election RoleBindings" },
];

/**
 * A Helm release's objects, through the whole life of the stack: `create` at its install (the first up), `patch` at
 * an upgrade (a later up: Helm 3 patches each changed object, kube client Update without --force), `delete` at its
 * uninstall (pulumi destroy).
 */
function chartObjects(chart: string, namespace: string, kinds: readonly ObjectKind[]): Permission[] {
    return kinds.flatMap((k) => {
        const ns = k.cluster ? {} : { namespace };
        return [
            { verb: "create", resource: k.resource, ...ns, why: `Helm installs the ${chart} chart's ${k.what} (the first up)` },
            { verb: "patch", resource: k.resource, ...ns, why: `Helm upgrades the ${chart} chart's ${k.what} (a later up)` },
            { verb: "delete", resource: k.resource, ...ns, why: `Helm uninstalls the ${chart} chart's ${k.what} (pulumi destroy)` },
        ];
    });
}

/**
 * Helm keeps each release in Secrets of the release's namespace (its default secrets driver, pkg/storage/driver/
 * secrets.go): it lists and gets them to find the release, creates one per revision, updates the previous one at an
 * upgrade (superseded) and deletes them at the uninstall.
 */
function releaseRecords(chart: string, namespace: string): Permission[] {
    return (
        [
            ["create", "records each revision of the release"],
            ["get", "reads the release"],
            ["list", "finds the release's revisions"],
            ["update", "marks the previous revision superseded at an upgrade"],
            ["delete", "removes the release's records at the uninstall"],
        ] as const
    ).map(([verb, does]) => ({ verb, resource: "secrets", namespace, why: `Helm keeps the ${chart} release in Secrets and ${does}` }));
}

/**
 * An object the program creates itself: the Kubernetes provider creates by server-side apply, a PATCH that the API
 * server authorizes as `patch` and, when it creates the object, also as `create` (pulumi-kubernetes provider/pkg/
 * await/await.go Creation; kubernetes apiserver pkg/endpoints/handlers/patch.go createAuthorizerAttributes); a later up
 * patches it; pulumi destroy deletes it (unless `kept`).
 */
function programObjects(k: ObjectKind, namespace: string | undefined, kept = false): Permission[] {
    const ns = namespace === undefined ? {} : { namespace };
    return [
        { verb: "create", resource: k.resource, ...ns, why: `the up creates ${k.what} (server-side apply, which creates with a patch)` },
        { verb: "patch", resource: k.resource, ...ns, why: `the up creates and updates ${k.what} by server-side apply (a patch)` },
        ...(kept ? [] : [{ verb: "delete", resource: k.resource, ...ns, why: `pulumi destroy deletes ${k.what}` }]),
    ];
}

/**
 * The permissions the stack needs on an existing cluster, through `pulumi up`, later `up`s and `pulumi destroy`:
 *
 * - each component's Namespace (Vault's; cert-manager's and ingress-nginx's when the up installs them; whoami's),
 *   deleted at destroy except Vault's with raftVolumesOnDestroy: keep. With `delete`, the raft volume claims go with
 *   the namespace (the StatefulSet controller made them, Helm does not delete them): `delete namespaces`, cluster-wide;
 * - Helm's install, upgrade and uninstall of the Vault chart (and of cert-manager's and ingress-nginx's when the up
 *   installs them): create, patch and delete on every kind the chart renders, and its release records;
 * - the steps (components/runner): the bootstrap and the roll `kubectl exec` into the Vault pods (get and create
 *   pods/exec, after kubectl has read the pod) and list them; the roll reads the StatefulSet and deletes pods; read-ca
 *   reads the server certificate's secret and delete-secrets deletes it at destroy (TLS); vault-address reads the
 *   LoadBalancer Service; a ClusterIP proof port-forwards to a Service (get the Service, list and get its pods, get
 *   and create pods/portforward); cluster-facts lists nodes and StorageClasses;
 * - the CA chain's Issuers and Certificates in Vault's namespace, and the Ingresses per the ingress setting.
 *
 * Not asked: what can-i cannot answer before the up: kinds whose CRD is not installed yet (kubectl auth can-i maps a
 * type the server does not know to a resource of the core group: kubernetes/kubectl pkg/cmd/auth/cani.go,
 * resourceFor); and RBAC's escalation rules (creating a Role or binding needs the rights it grants, or `bind`).
 * Each question is asked once; a question several parts need names every reason.
 */
export function requiredPermissions(settings: Settings, view: ClusterView, owner: string): Permission[] {
    const vault = settings.vaultNamespace;
    const ingress = ingressMode(settings);
    const certManager = installsCertManager(settings, view, owner);
    const serviceType = vaultServiceType(settings);
    // Each component's Namespace; all but a kept Vault namespace are deleted at destroy.
    const created = [
        vault,
        ...(certManager ? [settings.certManagerNamespace] : []),
        ...(ingress === "install" ? [settings.ingressNginxNamespace] : []),
        ...(whoamiEnabled(settings) ? [settings.whoamiNamespace] : []),
    ];
    const deleted = [
        ...(settings.raftVolumesOnDestroy === "delete" ? [`${vault} (raftVolumesOnDestroy: delete; the raft volume claims go with it)`] : []),
        ...created.slice(1),
    ];
    const namespaces = `the Namespace${created.length > 1 ? "s" : ""} ${created.join(", ")}`;
    const permissions: Permission[] = [
        ...programObjects({ resource: "namespaces", what: namespaces, cluster: true }, undefined, true),
        ...(deleted.length
            ? [{ verb: "delete", resource: "namespaces", why: `pulumi destroy deletes the Namespace${deleted.length > 1 ? "s" : ""} ${deleted.join(", ")}` }]
            : []),
        ...chartObjects("Vault", vault, VAULT_CHART_KINDS),
        ...releaseRecords("Vault", vault),
        { verb: "list", resource: "pods", namespace: vault, why: "the bootstrap and the roll list the Vault pods" },
        { verb: "get", resource: "pods", namespace: vault, why: "kubectl exec reads the pod before it runs a command in it" },
        ...streaming("exec", vault, "the bootstrap and the roll run kubectl exec in the Vault pods (init, unseal, join, raft)"),
        { verb: "delete", resource: "pods", namespace: vault, why: "the roll replaces the Vault pods one at a time (kubectl delete pod)" },
        { verb: "get", resource: "statefulsets.apps", namespace: vault, why: "the roll and the pod templates read the Vault StatefulSet" },
        {
            verb: "get",
            resource: "pods",
            subresource: "log",
            namespace: vault,
            why: "join reads a follower's log for why it failed; npm run restore reads the active node's for the restore's progress",
        },
        { verb: "list", resource: "persistentvolumeclaims", namespace: vault, why: "after a scale-down, verify finds the raft volumes of the departed pods" },
        {
            verb: "delete",
            resource: "persistentvolumeclaims",
            namespace: vault,
            why: "after a scale-down, verify deletes the departed pods' raft volumes once their peers are removed",
        },
        { verb: "list", resource: "nodes", why: "the up counts schedulable nodes to choose the anti-affinity" },
        { verb: "list", resource: "storageclasses.storage.k8s.io", why: "the up checks the storage class of the raft volumes" },
    ];
    if (serviceType === "LoadBalancer") {
        permissions.push({ verb: "get", resource: "services", namespace: vault, why: "the up waits for the load balancer's address on Vault's Service" });
    }
    if (serviceType === "ClusterIP") {
        permissions.push(
            { verb: "get", resource: "services", namespace: vault, why: "kubectl port-forward reads the Service it forwards to" },
            ...streaming("portforward", vault, "with vaultServiceType ClusterIP the proof reaches Vault through kubectl port-forward"),
        );
    }
    if (settings.tls) {
        permissions.push(
            { verb: "get", resource: "secrets", namespace: vault, why: "read-ca reads the CA certificate from the server certificate's secret" },
            {
                verb: "delete",
                resource: "secrets",
                namespace: vault,
                why: "delete-secrets removes the secrets cert-manager wrote for the certificates at destroy",
            },
        );
    }
    if (certManager) {
        const ns = settings.certManagerNamespace;
        permissions.push(
            ...chartObjects("cert-manager", ns, CERT_MANAGER_CHART_KINDS),
            ...chartObjects("cert-manager", CERT_MANAGER_LEADER_ELECTION_NAMESPACE, CERT_MANAGER_LEADER_ELECTION_KINDS),
            ...releaseRecords("cert-manager", ns),
        );
    }
    if (settings.tls && view.certManager.crds) {
        // On a cluster vault-ha does not own, the CA chain is namespaced: Issuers in Vault's namespace (tlsConfig.ts).
        permissions.push(
            ...programObjects({ resource: "issuers.cert-manager.io", what: "the CA chain's Issuers in Vault's namespace" }, vault),
            ...programObjects({ resource: "certificates.cert-manager.io", what: "Vault's CA and server Certificates" }, vault),
            { verb: "create", resource: "issuers.cert-manager.io", namespace: vault, why: "cert-manager-ready probes the webhook with a dry-run Issuer there" },
        );
    }
    if (ingress === "install") {
        const ns = settings.ingressNginxNamespace;
        permissions.push(...chartObjects("ingress-nginx", ns, INGRESS_NGINX_CHART_KINDS), ...releaseRecords("ingress-nginx", ns));
    }
    if (ingress !== "none") {
        permissions.push(...programObjects({ resource: "ingresses.networking.k8s.io", what: "Vault's Ingress" }, vault));
    }
    if (whoamiEnabled(settings)) {
        const ns = settings.whoamiNamespace;
        permissions.push(
            ...programObjects({ resource: "deployments.apps", what: "whoami's Deployment" }, ns),
            ...programObjects({ resource: "services", what: "whoami's Service" }, ns),
            ...programObjects({ resource: "ingresses.networking.k8s.io", what: "whoami's Ingress" }, ns),
        );
    }
    // One question per permission, in the order first asked; its reasons joined.
    const byQuestion = new Map<string, Permission>();
    for (const p of permissions) {
        const key = canIArgs(p).join(" ");
        const seen = byQuestion.get(key);
        if (!seen) byQuestion.set(key, { ...p });
        else if (!seen.why.split("; ").includes(p.why)) seen.why = `${seen.why}; ${p.why}`;
    }
    return [...byQuestion.values()];
}

/**
 * Asks `kubectl auth can-i` for each permission. Exit 0 with "yes" is allowed; a denial exits 1 and prints "no" (and
 * the authorizer's reason) on stdout; an error (the server, the kubeconfig) also exits 1, through cmdutil.CheckErr,
 * but prints nothing on stdout (kubernetes/kubectl pkg/cmd/auth/cani.go NewCmdCanI and RunAccessCheck;
 * pkg/cmd/util/helpers.go DefaultErrorExitCode = 1). So the answer is read from stdout, not from the exit code alone,
 * and without --quiet, which would discard it. A subresource goes in --subresource: `pods/exec` would be the pod
 * named "exec" (cani.go Complete splits TYPE/NAME).
 */
export function checkPermissions(permissions: Permission[], run: Runner, target: KubeTarget, fixContext: string): Finding[] {
    const denied: Finding[] = [];
    const allowed: string[] = [];
    for (const p of permissions) {
        const answer = run("kubectl", [...targetFlags(target), ...canIArgs(p)]);
        const said = answer.stdout.trim();
        if (answer.ok && /^yes\b/.test(said)) {
            allowed.push(describePermission(p));
            continue;
        }
        if (/^no\b/.test(said)) {
            denied.push({
                ok: false,
                what: `${describeTarget(target)} may not ${describePermission(p)} (kubectl auth can-i: ${said.split("\n")[0]}); needed because ${p.why}`,
                fix: `ask the cluster's admin for it (check with: kubectl ${hintFlags(target)}${canIArgs(p).join(" ")}), or use a context that has it: ${fixContext}`,
            });
        } else {
            denied.push({
                ok: false,
                what: `could not ask whether ${describeTarget(target)} may ${describePermission(p)}${reason(answer)}`,
                fix: `run kubectl ${hintFlags(target)}${canIArgs(p).join(" ")} and fix what it reports`,
            });
        }
    }
    return denied.length
        ? denied
        : [{ ok: true, what: `${describeTarget(target)} may create what the up needs (${allowed.length} kubectl auth can-i checks)` }];
}

interface K8sList<T> {
    items?: T[];
}
interface StorageClass {
    metadata?: { name?: string; annotations?: Record<string, string> };
}
interface Node {
    metadata?: { name?: string };
    spec?: { unschedulable?: boolean; taints?: { key?: string; effect?: string }[] };
    status?: { conditions?: { type?: string; status?: string }[] };
}

function parseList<T>(result: RunResult): T[] | undefined {
    if (!result.ok) return undefined;
    try {
        return (JSON.parse(result.stdout) as K8sList<T>).items ?? [];
    } catch {
        return undefined;
    }
}

/**
 * The default StorageClass is the one annotated storageclass.kubernetes.io/is-default-class=true (the beta annotation
 * storageclass.beta.kubernetes.io/is-default-class is still honoured):
 * https://kubernetes.io/docs/tasks/administer-cluster/change-default-storage-class/
 */
export function isDefaultStorageClass(sc: StorageClass): boolean {
    const a = sc.metadata?.annotations ?? {};
    return a["storageclass.kubernetes.io/is-default-class"] === "true" || a["storageclass.beta.kubernetes.io/is-default-class"] === "true";
}

export function checkStorageClass(settings: Settings, run: Runner, target: KubeTarget, fixes: { set: (name: string, value: string) => string }): Finding[] {
    const classes = parseList<StorageClass>(run("kubectl", [...targetFlags(target), "get", "storageclasses", "-o", "json"]));
    if (!classes) {
        return [
            { ok: false, what: `could not list the StorageClasses of ${describeTarget(target)}`, fix: "see the permission findings above, then run again" },
        ];
    }
    const names = classes.map((c) => `${c.metadata?.name ?? "?"}${isDefaultStorageClass(c) ? " (default)" : ""}`);
    const there = names.length ? `the StorageClasses there: ${names.join(", ")}` : "it has no StorageClass";
    if (settings.storageClass) {
        if (classes.some((c) => c.metadata?.name === settings.storageClass)) return [{ ok: true, what: `StorageClass ${settings.storageClass} exists` }];
        return [
            {
                ok: false,
                what: `storageClass ${settings.storageClass} does not exist in ${describeTarget(target)} (${there})`,
                fix: names.length
                    ? `${fixes.set("storageClass", "<one of them>")}, or create ${settings.storageClass}`
                    : `create a StorageClass there, then ${fixes.set("storageClass", "<its name>")}`,
            },
        ];
    }
    const defaults = classes.filter(isDefaultStorageClass).map((c) => c.metadata?.name ?? "?");
    if (!defaults.length) {
        return [
            {
                ok: false,
                what: `storageClass is not set and ${describeTarget(target)} has no default StorageClass (${there}): the raft volumes would stay Pending`,
                fix: names.length
                    ? `${fixes.set("storageClass", "<one of them>")}, or mark one the default: kubectl annotate storageclass <name> storageclass.kubernetes.io/is-default-class=true`
                    : `install a storage provisioner with a StorageClass, then ${fixes.set("storageClass", "<its name>")}`,
            },
        ];
    }
    // Several defaults: Kubernetes uses the newest (since 1.26); say which ones.
    return [{ ok: true, what: `storageClass not set: the raft volumes use the default StorageClass ${defaults.join(", ")}` }];
}

/** A node a Vault pod can run on: Ready, not cordoned, and without a NoSchedule or NoExecute taint (Vault tolerates none). */
export function schedulable(node: Node): boolean {
    const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
    const tainted = (node.spec?.taints ?? []).some((t) => t.effect === "NoSchedule" || t.effect === "NoExecute");
    return ready && !node.spec?.unschedulable && !tainted;
}

export function checkNodes(settings: Settings, run: Runner, target: KubeTarget, fixes: { set: (name: string, value: string) => string }): Finding[] {
    const nodes = parseList<Node>(run("kubectl", [...targetFlags(target), "get", "nodes", "-o", "json"]));
    if (!nodes) return [{ ok: false, what: `could not list the nodes of ${describeTarget(target)}`, fix: "see the permission findings above, then run again" }];
    const count = nodes.filter(schedulable).length;
    const replicas = settings.vaultReplicas;
    if (count >= replicas) return [{ ok: true, what: `${count} schedulable nodes for ${replicas} Vault pods: one pod per node (anti-affinity required)` }];
    const few = `${describeTarget(target)} has ${count} schedulable node${count === 1 ? "" : "s"} (Ready, not cordoned, not tainted NoSchedule) for ${replicas} Vault pods`;
    if (settings.antiAffinity === "required") {
        return [
            {
                ok: false,
                what: `${few}, and antiAffinity is required: ${replicas - count} pod${replicas - count === 1 ? "" : "s"} would stay Pending`,
                fix: `add nodes, or ${fixes.set("antiAffinity", "preferred")} (pods may share a node), or ${fixes.set("vaultReplicas", String(Math.max(1, count)))}`,
            },
        ];
    }
    return [
        {
            ok: true,
            warn: true,
            what: `${few}: anti-affinity becomes preferred, so some raft peers share a node, and losing that node loses more than one`,
            fix: `add nodes for one pod each, or ${fixes.set("vaultReplicas", String(Math.max(1, count)))}`,
        },
    ];
}

interface Deployment {
    metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
    spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
    status?: { availableReplicas?: number };
}

/**
 * cert-manager as the up's cluster-facts step sees it (components/runner/steps/clusterFacts.ts): its CRD, and its
 * webhook Deployment (the chart's labels, a cert-manager-webhook image or name), an available one first, with its
 * namespace and vault-ha.dev/owner label. A list across namespaces that is not allowed falls back to
 * certManagerNamespace, as the step does.
 */
export function readClusterView(settings: Settings, run: Runner, target: KubeTarget): ClusterView {
    const facts: CertManagerFacts = { crds: false, webhookReady: false };
    const crd = run("kubectl", [
        ...targetFlags(target),
        "get",
        "customresourcedefinitions.apiextensions.k8s.io",
        "certificates.cert-manager.io",
        "-o",
        "name",
        "--ignore-not-found",
    ]);
    facts.crds = crd.ok && crd.stdout.trim() !== "";
    let list = parseList<Deployment>(
        run("kubectl", [...targetFlags(target), "get", "deployments.apps", "--all-namespaces", "-l", WEBHOOK_SELECTOR, "-o", "json"]),
    );
    list ??= parseList<Deployment>(
        run("kubectl", [...targetFlags(target), "get", "deployments.apps", "-n", settings.certManagerNamespace, "-l", WEBHOOK_SELECTOR, "-o", "json"]),
    );
    const webhooks = (list ?? []).filter(
        (d) =>
            (d.spec?.template?.spec?.containers ?? []).some((c) => /cert-manager-webhook/.test(c.image ?? "")) || /cert-manager/.test(d.metadata?.name ?? ""),
    );
    const available = (d: Deployment) => Number(d.status?.availableReplicas ?? 0) > 0;
    const chosen = webhooks.find(available) ?? webhooks[0];
    if (chosen) {
        facts.webhookReady = available(chosen);
        facts.namespace = chosen.metadata?.namespace;
        const owner = chosen.metadata?.labels?.[OWNER_LABEL_KEY];
        if (owner) facts.owner = owner;
    }
    return { certManager: facts };
}

/** What the up will do about cert-manager, or why it will stop: certManagerPlan's own message. */
function checkCertManager(settings: Settings, view: ClusterView, owner: string): Finding[] {
    if (!settings.tls) return [];
    const plan = certManagerPlan(settings.certManager, view.certManager, owner, settings.cluster);
    const cm = view.certManager;
    if (plan.action === "error") {
        const [what, ...rest] = plan.message.split(/(?<=\.) /);
        return [{ ok: false, what: what.replace(/\.$/, ""), fix: rest.join(" ") || "see the message" }];
    }
    if (plan.action === "use-existing") {
        return [
            {
                ok: true,
                what: `cert-manager: the one running in namespace ${plan.namespace} is used${cm.owner ? ` (installed by vault-ha stack ${cm.owner})` : ""}`,
            },
        ];
    }
    return [
        {
            ok: true,
            what: cm.namespace
                ? `cert-manager: this stack's own, in namespace ${cm.namespace}, kept up to date`
                : "cert-manager: none runs there; the up installs it",
        },
    ];
}

function checkIngressClass(settings: Settings, run: Runner, target: KubeTarget, fixes: { set: (name: string, value: string) => string }): Finding[] {
    if (ingressMode(settings) !== "existing") return [];
    const name = settings.ingressClassName;
    const found = run("kubectl", [...targetFlags(target), "get", "ingressclasses", name, "--ignore-not-found", "-o", "name"]);
    if (found.ok && found.stdout.trim()) return [{ ok: true, what: `IngressClass ${name} exists` }];
    return [
        {
            ok: false,
            what: `ingress is existing, but ${describeTarget(target)} has no IngressClass ${name}`,
            fix: `${fixes.set("ingressClassName", "<a class from kubectl get ingressclasses>")}, or ${fixes.set("ingress", "install")}, or ${fixes.set("ingress", "none")}`,
        },
    ];
}

/** The release name vault-ha installs ingress-nginx as (components/ingress/ingressNginx.ts). */
export const INGRESS_NGINX_RELEASE = "ingress-nginx";

/**
 * The cluster-scoped objects of the pinned ingress-nginx chart (release ingress-nginx, the existing-cluster values)
 * that are not Helm hooks: another ingress-nginx installation on the cluster has them under the same names. Namespaced
 * objects live in ingressNginxNamespace, which the up creates itself; hooks are not checked by Helm (they are deleted
 * and created again, helm.sh/hook-delete-policy before-hook-creation).
 */
export const INGRESS_NGINX_CLUSTER_OBJECTS: readonly { kind: string; resource: string; name: string }[] = [
    { kind: "IngressClass", resource: "ingressclasses.networking.k8s.io", name: INGRESS_CLASS },
    { kind: "ClusterRole", resource: "clusterroles.rbac.authorization.k8s.io", name: "ingress-nginx" },
    { kind: "ClusterRoleBinding", resource: "clusterrolebindings.rbac.authorization.k8s.io", name: "ingress-nginx" },
    { kind: "ValidatingWebhookConfiguration", resource: "validatingwebhookconfigurations.admissionregistration.k8s.io", name: "ingress-nginx-admission" },
];

interface ObjectMeta {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

/**
 * Why Helm would refuse to take an existing object into the release, or undefined when it would adopt it: Helm's
 * checkOwnership (helm/helm pkg/action/validate.go; the same since Helm 3.2 and in v4) requires the label
 * app.kubernetes.io/managed-by=Helm and the annotations meta.helm.sh/release-name and meta.helm.sh/release-namespace
 * to name the release. existingResourceConflict runs it at an install on every object of the chart (not its hooks)
 * that already exists, and fails with "<kind> "<name>" in namespace "" exists and cannot be imported into the current
 * release" (pkg/action/install.go).
 */
export function helmOwnershipConflict(obj: ObjectMeta, release: string, namespace: string): string | undefined {
    const labels = obj.metadata?.labels ?? {};
    const annotations = obj.metadata?.annotations ?? {};
    const name = annotations["meta.helm.sh/release-name"];
    const ns = annotations["meta.helm.sh/release-namespace"];
    if (labels["app.kubernetes.io/managed-by"] === "Helm" && name === release && ns === namespace) return undefined;
    if (name || ns) return `it belongs to Helm release ${name ?? "?"} in namespace ${ns ?? "?"}`;
    return "it was not installed by Helm";
}

/**
 * With `ingress: install`, the up installs ingress-nginx with IngressClass nginx and cluster-wide objects named after
 * the release: if another installation has them, Helm stops the up half-way (after Vault's namespace, cert-manager and
 * the certificates were made). Here it is a FAIL before the up, naming each object and its owner.
 */
export function checkIngressNginxCollision(
    settings: Settings,
    run: Runner,
    target: KubeTarget,
    fixes: { set: (name: string, value: string) => string },
): Finding[] {
    if (ingressMode(settings) !== "install") return [];
    const ns = settings.ingressNginxNamespace;
    const taken: string[] = [];
    const unreadable: string[] = [];
    const owners = new Set<string>();
    for (const o of INGRESS_NGINX_CLUSTER_OBJECTS) {
        const got = run("kubectl", [...targetFlags(target), "get", o.resource, o.name, "-o", "json", "--ignore-not-found"]);
        if (!got.ok) {
            unreadable.push(`${o.kind} ${o.name}${reason(got)}`);
            continue;
        }
        if (!got.stdout.trim()) continue;
        let obj: ObjectMeta;
        try {
            obj = JSON.parse(got.stdout) as ObjectMeta;
        } catch {
            unreadable.push(`${o.kind} ${o.name}: kubectl printed no JSON`);
            continue;
        }
        const conflict = helmOwnershipConflict(obj, INGRESS_NGINX_RELEASE, ns);
        if (!conflict) continue;
        taken.push(`${o.kind} ${o.name} (${conflict})`);
        const a = obj.metadata?.annotations ?? {};
        if (a["meta.helm.sh/release-name"] && a["meta.helm.sh/release-namespace"])
            owners.add(`helm -n ${a["meta.helm.sh/release-namespace"]} uninstall ${a["meta.helm.sh/release-name"]}`);
    }
    const findings: Finding[] = [];
    if (taken.length) {
        findings.push({
            ok: false,
            what:
                `ingress is install, but ${describeTarget(target)} already has ${taken.join(", ")}: Helm would stop the up half-way, ` +
                `"exists and cannot be imported into the current release" (vault-ha installs ingress-nginx as release ${INGRESS_NGINX_RELEASE} in namespace ${ns})`,
            fix:
                `use the ingress controller that is there: ${fixes.set("ingress", "existing")} and ${fixes.set("ingressClassName", "<its class, from kubectl get ingressclasses>")}` +
                ` (with TLS its controller must run with --enable-ssl-passthrough), or remove the other installation${owners.size ? ` (${[...owners].join("; ")})` : ""}`,
        });
    }
    if (unreadable.length) {
        findings.push({
            ok: false,
            what: `could not read whether ${describeTarget(target)} already has ingress-nginx's cluster-wide objects (Helm reads them before it installs): ${unreadable.join("; ")}`,
            fix: `run kubectl ${hintFlags(target)}get ingressclasses ${INGRESS_CLASS} and fix what it reports, or ${fixes.set("ingress", "existing")}`,
        });
    }
    if (!findings.length) {
        findings.push({
            ok: true,
            what: `ingress-nginx: no other installation has IngressClass ${INGRESS_CLASS} or its cluster-wide objects (${INGRESS_NGINX_CLUSTER_OBJECTS.slice(1)
                .map((o) => `${o.kind} ${o.name}`)
                .join(", ")})`,
        });
    }
    return findings;
}

/** The kubeconfig context names, or undefined when kubectl cannot read the kubeconfig. */
function contexts(run: Runner, target: KubeTarget): { names?: string[]; current?: string; error: string } {
    const file = target.kubeconfigFile ? ["--kubeconfig", target.kubeconfigFile] : [];
    const list = run("kubectl", [...file, "config", "get-contexts", "-o", "name"]);
    if (!list.ok) return { error: reason(list) };
    const current = run("kubectl", [...file, "config", "current-context"]);
    return {
        names: list.stdout
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean),
        current: current.ok ? current.stdout.trim() : undefined,
        error: "",
    };
}

/**
 * Every check of an existing cluster, in order; the later ones only when the context answers. `stack` names the
 * stack in fixes (--stack for any but dev) and in the owner label.
 */
export function checkExistingCluster(settings: Settings, run: Runner, target: KubeTarget, stack: string, project = "vault-ha"): Finding[] {
    // npm run config works on PULUMI_STACK (scripts/config.sh passes --stack itself).
    const env = stack === "dev" ? "" : `PULUMI_STACK=${stack} `;
    const fixes = { set: (name: string, value: string) => `${env}npm run config -- set vault-ha:${name} ${value}` };
    const setSecret = `${env}npm run config -- set --secret vault-ha:kubeconfig < path/to/kubeconfig`;
    const fixContext = fixes.set("kubeContext", "<context>");

    const ctx = contexts(run, target);
    if (!ctx.names) {
        return [
            {
                ok: false,
                what: `kubectl cannot read ${target.kubeconfigFile ? "the kubeconfig in vault-ha:kubeconfig" : "your kubeconfig (KUBECONFIG or ~/.kube/config)"}${ctx.error}`,
                fix: target.kubeconfigFile
                    ? `set it again from a working file: ${setSecret}`
                    : `check it with kubectl config view, or give the stack a kubeconfig of its own: ${setSecret}`,
            },
        ];
    }
    const context = target.context || ctx.current || "";
    if (!context || !ctx.names.includes(context)) {
        const known = ctx.names.length ? `the contexts there: ${ctx.names.join(", ")}` : "it has no context";
        return [
            {
                ok: false,
                what: target.context
                    ? `kubeContext ${target.context} is not a context of ${target.kubeconfigFile ? "the kubeconfig in vault-ha:kubeconfig" : "your kubeconfig"} (${known})`
                    : `the kubeconfig in vault-ha:kubeconfig has no current context (${known})`,
                fix: ctx.names.length
                    ? fixes.set("kubeContext", ctx.names.length === 1 ? ctx.names[0] : "<one of them>")
                    : "add the cluster to your kubeconfig (your provider's CLI does it, e.g. aws eks update-kubeconfig)",
            },
        ];
    }

    const findings: Finding[] = [];
    // --request-timeout bounds each call to an unreachable server (a kubectl global flag).
    const version = run("kubectl", [...targetFlags(target), "--request-timeout=10s", "version", "-o", "json"]);
    let server: string | undefined;
    try {
        server = version.ok ? (JSON.parse(version.stdout) as { serverVersion?: { gitVersion?: string } }).serverVersion?.gitVersion : undefined;
    } catch {
        server = undefined;
    }
    if (!server) {
        return [
            {
                ok: false,
                what: `the API server of ${describeTarget(target)} does not answer${reason(version)}`,
                fix: `check the cluster, the network and your credentials (kubectl ${hintFlags(target)}get --raw /readyz), or use another context: ${fixContext}`,
            },
        ];
    }
    const ready = run("kubectl", [...targetFlags(target), "--request-timeout=10s", "get", "--raw", "/readyz"]);
    if (!ready.ok || ready.stdout.trim() !== "ok") {
        return [
            {
                ok: false,
                what: `the API server of ${describeTarget(target)} (Kubernetes ${server}) is not ready${reason(ready)}`,
                fix: `wait for it, or read what is not ready: kubectl ${hintFlags(target)}get --raw '/readyz?verbose'`,
            },
        ];
    }
    findings.push({ ok: true, what: `${describeTarget(target)} answers: Kubernetes ${server}` });

    // The program's owner: the project and the stack's own name (pulumi.getStack() drops an org/project/ prefix).
    const owner = ownerLabelValue(project, stack.split("/").pop() ?? stack);
    const view = readClusterView(settings, run, target);
    findings.push(...checkPermissions(requiredPermissions(settings, view, owner), run, target, fixContext));
    findings.push(...checkStorageClass(settings, run, target, fixes));
    findings.push(...checkNodes(settings, run, target, fixes));
    findings.push(...checkCertManager(settings, view, owner));
    findings.push(...checkIngressClass(settings, run, target, fixes));
    findings.push(...checkIngressNginxCollision(settings, run, target, fixes));
    return findings;
}
