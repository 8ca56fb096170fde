/**
 * The permission matrix of a stack on an existing cluster: every `kubectl auth can-i` question that `pulumi up`, later
 * `up`s and `pulumi destroy` need answered "yes", each with why vault-ha needs it. Pure: the preflight
 * (scripts/preflightExisting.ts) asks the questions; what decides them (which components the up installs) is the
 * program's own decision, taken from the same cluster facts.
 */
import { ingressMode, vaultServiceType, whoamiEnabled } from "../config/clusterModes";
import { Settings } from "../config/settings";
import type { ClusterFacts } from "../stepCommand/contract";
import { certManagerPlan } from "../tls/certManagerMode";

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

export function describePermission(p: Permission): string {
    return `${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ""}${p.namespace ? ` in namespace ${p.namespace}` : " (cluster-wide)"}`;
}

/** What the cluster has that decides which permissions are needed: cert-manager, as the cluster-facts reader reads it. */
export type ClusterView = Pick<ClusterFacts, "certManager">;

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
    if (ingress === "gateway") {
        // Routes on the user's Gateway (components/gateway/vaultRoute.ts), which the preview and gateway-ready read.
        const route = settings.tls ? "tlsroutes.gateway.networking.k8s.io" : "httproutes.gateway.networking.k8s.io";
        permissions.push(...programObjects({ resource: route, what: `Vault's ${settings.tls ? "TLSRoute" : "HTTPRoute"}` }, vault), {
            verb: "get",
            resource: "gateways.gateway.networking.k8s.io",
            namespace: settings.gatewayNamespace,
            why: "the preview and gateway-ready read the Gateway the routes attach to",
        });
    } else if (ingress !== "none") {
        permissions.push(...programObjects({ resource: "ingresses.networking.k8s.io", what: "Vault's Ingress" }, vault));
    }
    if (whoamiEnabled(settings)) {
        const ns = settings.whoamiNamespace;
        const front =
            ingress === "gateway"
                ? { resource: "httproutes.gateway.networking.k8s.io", what: "whoami's HTTPRoute" }
                : { resource: "ingresses.networking.k8s.io", what: "whoami's Ingress" };
        permissions.push(
            ...programObjects({ resource: "deployments.apps", what: "whoami's Deployment" }, ns),
            ...programObjects({ resource: "services", what: "whoami's Service" }, ns),
            ...programObjects(front, ns),
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
