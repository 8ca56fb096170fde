/**
 * The preflight of a stack with `cluster: existing` (scripts/preflight.ts runs it instead of the kind checks): the
 * kubeconfig context exists and its API server answers, the user may create what `pulumi up` creates there (`kubectl
 * auth can-i`), the storage class exists (or a default one does), cert-manager and the ingress class are where the
 * settings say, and there are enough schedulable nodes for one Vault pod each. No docker and no kind: the cluster is
 * not ours to create.
 *
 * Every check is a kubectl call through the Runner, with the context (and, when the stack holds its own kubeconfig as
 * the secret vault-ha:kubeconfig, `--kubeconfig <a private temporary file>`) as flags: the kubeconfig's contents
 * never reach an argv, a log line or a message.
 */
import { ingressMode, vaultServiceType } from "../components/config/clusterModes";
import { Settings } from "../components/config/settings";
import { OWNER_LABEL_KEY, ownerLabelValue } from "../components/kind/kindConfig";
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

/**
 * The permissions `pulumi up` needs on an existing cluster, from what it creates: each component's Namespace; the
 * Vault chart's objects (pinned vault-helm 0.34.1: a StatefulSet, Services, a ConfigMap, a ServiceAccount, the
 * discovery Role and RoleBinding, a PodDisruptionBudget, and a ClusterRoleBinding to system:auth-delegator, since
 * server.authDelegator.enabled defaults to true); Helm's release records (Secrets in the release's namespace);
 * `kubectl exec` in the Vault pods for the bootstrap (pods/exec) and `kubectl port-forward` for a ClusterIP proof
 * (pods/portforward); the nodes and StorageClasses the up reads; cert-manager's cluster-wide objects
 * when it installs it, its issuers and certificates when the CRDs exist; the ingress objects per the ingress setting.
 *
 * PVCs are created by the StatefulSet controller, not by the user, so only raftVolumesOnDestroy: delete needs a
 * permission on them (delete). Kinds whose CRD is not installed yet are not asked: kubectl auth can-i maps a type the
 * server does not know to a resource of the core group (kubernetes/kubectl pkg/cmd/auth/cani.go, resourceFor), which
 * answers for another resource than the one the up creates.
 */
export function requiredPermissions(settings: Settings, view: ClusterView, owner: string): Permission[] {
    const vault = settings.vaultNamespace;
    const permissions: Permission[] = [
        { verb: "create", resource: "namespaces", why: "each component creates its namespace" },
        ...(
            [
                ["statefulsets.apps", "the Vault release: its StatefulSet"],
                ["services", "the Vault release: its Services"],
                ["secrets", "Helm keeps each release in a Secret"],
                ["configmaps", "the Vault release: its server configuration"],
                ["serviceaccounts", "the Vault release: its ServiceAccount"],
                ["roles.rbac.authorization.k8s.io", "the Vault release: its service-registration Role"],
                ["rolebindings.rbac.authorization.k8s.io", "the Vault release: its service-registration RoleBinding"],
                ["poddisruptionbudgets.policy", "the Vault release: its PodDisruptionBudget"],
            ] as const
        ).map(([resource, why]) => ({ verb: "create", resource, namespace: vault, why })),
        {
            verb: "create",
            resource: "clusterrolebindings.rbac.authorization.k8s.io",
            why: "the Vault chart binds its ServiceAccount to system:auth-delegator (server.authDelegator)",
        },
        ...streaming("exec", vault, "the bootstrap runs kubectl exec in the Vault pods"),
        { verb: "list", resource: "nodes", why: "the up counts schedulable nodes to choose the anti-affinity" },
        { verb: "list", resource: "storageclasses.storage.k8s.io", why: "the up checks the storage class of the raft volumes" },
    ];
    if (vaultServiceType(settings) === "ClusterIP") {
        permissions.push(...streaming("portforward", vault, "with vaultServiceType ClusterIP the proof reaches Vault through kubectl port-forward"));
    }
    if (settings.raftVolumesOnDestroy === "delete") {
        permissions.push({
            verb: "delete",
            resource: "persistentvolumeclaims",
            namespace: vault,
            why: "raftVolumesOnDestroy: delete removes the raft volumes at destroy",
        });
    }
    if (installsCertManager(settings, view, owner)) {
        const ns = settings.certManagerNamespace;
        permissions.push(
            { verb: "create", resource: "customresourcedefinitions.apiextensions.k8s.io", why: "installing cert-manager installs its CRDs" },
            { verb: "create", resource: "clusterroles.rbac.authorization.k8s.io", why: "installing cert-manager: its ClusterRoles" },
            { verb: "create", resource: "validatingwebhookconfigurations.admissionregistration.k8s.io", why: "installing cert-manager: its webhook" },
            { verb: "create", resource: "mutatingwebhookconfigurations.admissionregistration.k8s.io", why: "installing cert-manager: its webhook" },
            { verb: "create", resource: "deployments.apps", namespace: ns, why: "installing cert-manager: its Deployments" },
        );
    }
    if (settings.tls && view.certManager.crds) {
        permissions.push(
            // On a cluster vault-ha does not own, the CA chain is namespaced: Issuers in Vault's namespace (tlsConfig.ts).
            { verb: "create", resource: "issuers.cert-manager.io", namespace: vault, why: "Vault's CA chain is made of Issuers in its namespace" },
            { verb: "create", resource: "certificates.cert-manager.io", namespace: vault, why: "Vault's CA and server certificates" },
        );
    }
    const ingress = ingressMode(settings);
    if (ingress === "install") {
        permissions.push(
            { verb: "create", resource: "ingressclasses.networking.k8s.io", why: "installing ingress-nginx: its IngressClass" },
            { verb: "create", resource: "clusterroles.rbac.authorization.k8s.io", why: "installing ingress-nginx: its ClusterRole" },
            { verb: "create", resource: "deployments.apps", namespace: settings.ingressNginxNamespace, why: "installing ingress-nginx: its controller" },
        );
    }
    if (ingress !== "none") {
        permissions.push({ verb: "create", resource: "ingresses.networking.k8s.io", namespace: vault, why: "Vault's Ingress" });
    }
    // One question per permission, in this order.
    const seen = new Set<string>();
    return permissions.filter((p) => {
        const key = canIArgs(p).join(" ");
        return seen.has(key) ? false : (seen.add(key), true);
    });
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
    return findings;
}
