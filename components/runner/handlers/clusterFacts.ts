/**
 * cluster-facts: what an existing cluster offers Vault, read before anything is decided (an invoke on every preview
 * and up): schedulable nodes, a node address, storage classes, and a cert-manager that may already run.
 *
 * It reads with the user's kubeconfig, which on a shared cluster may be namespace-scoped: a list the user may not
 * read is not a crash but a fact ("unreadable"), named with its verb, resource and scope and the `kubectl auth can-i`
 * command that shows it; the fields it would have given are left out.
 *
 * Upstream definitions followed:
 * - Node (k8s.io/api core/v1 types.go): NodeStatus.Conditions with type "Ready" and status "True" is a node that
 *   takes pods; NodeSpec.Unschedulable is a cordoned node; NodeSpec.Taints with effect NoSchedule or NoExecute keep
 *   pods that do not tolerate them off the node (PreferNoSchedule only discourages). Vault's pods carry no
 *   tolerations (the chart's server.tolerations is empty and vault-ha sets none); the not-ready/unreachable
 *   NoExecute tolerations the DefaultTolerationSeconds admission plugin adds only matter on nodes that are not
 *   Ready, which are not counted anyway. NodeStatus.Addresses holds typed addresses (ExternalIP, InternalIP, ...).
 * - StorageClass default: the annotation storageclass.kubernetes.io/is-default-class (or its older beta form
 *   storageclass.beta.kubernetes.io/is-default-class) equal to "true" (k8s.io/kubernetes pkg/apis/storage/util
 *   IsDefaultAnnotation); any other value is not a default.
 * - cert-manager: the CRD certificates.cert-manager.io; its webhook Deployment carries
 *   app.kubernetes.io/name=webhook and app.kubernetes.io/component=webhook (the pinned chart's
 *   templates/webhook-deployment.yaml, cert-manager v1.21.1) and runs the cert-manager-webhook image.
 * - Where cert-manager's ClusterIssuers read secrets: its controller Deployment (app.kubernetes.io/name=cert-manager,
 *   app.kubernetes.io/component=controller in the chart's templates/deployment.yaml) passes
 *   --cluster-resource-namespace=$(POD_NAMESPACE) (POD_NAMESPACE from metadata.namespace) unless the chart's
 *   clusterResourceNamespace value is set; without the flag the controller's default is kube-system (cert-manager
 *   internal/apis/config/controller/v1alpha1/defaults.go). `$(VAR)` is expanded by the kubelet from the container's
 *   environment (pkg/kubelet/kubelet_pods.go, third_party/forked/golang/expansion).
 * - Discovery (`kubectl api-resources`) is readable by every authenticated user (the system:discovery
 *   ClusterRole, bound to system:authenticated: plugin/pkg/auth/authorizer/rbac/bootstrappolicy), so a user who may
 *   not read CRDs still learns whether cert-manager's API exists.
 * - The Gateway API (with `ingress: gateway`): `kubectl api-resources --api-group=G -o json` prints one
 *   APIResourceList whose resources[] carry group and version (kubectl pkg/cmd/apiresources/apiresources.go
 *   RunAPIResources; -o json since kubectl 1.30, and vault-ha needs 1.34). The version is the one discovery prefers
 *   for that resource (client-go discovery ServerPreferredResources: the group's preferred version when the resource
 *   is served there, else the first that serves it), so tlsroutes shows v1 exactly when TLSRoute v1 is served, which
 *   is Envoy Gateway's own test before it watches TLSRoutes (internal/provider/kubernetes/controller.go crdExists).
 *   A group that fails discovery (an aggregated API down) makes kubectl exit 1 after printing the rest.
 */
import type { ClusterFacts, GatewayFacts, StorageClassFact, UnreadableFact } from "../../stepCommand/contract";
import { GATEWAY_API_GROUP, listenersOf } from "../../cluster/gatewayFacts";
import { classifyFailure, lastLines } from "../failures";
import type { KubectlRunner } from "../kubectl";
import { PollContext, pollUntil, StepError } from "../poll";
import { Handler, withKubectl } from "../runtime";
import { VaultUnavailable } from "../vaultOps";
import { OWNER_LABEL_KEY } from "../../vault/names";

/* eslint-disable @typescript-eslint/no-explicit-any -- these read JSON whose shape the Kubernetes API defines */

export const WEBHOOK_SELECTOR = "app.kubernetes.io/name=webhook,app.kubernetes.io/component=webhook";
const DEFAULT_CLASS_ANNOTATIONS = ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"];
const BLOCKING_EFFECTS = new Set(["NoSchedule", "NoExecute"]);

type Read = { json: any } | { forbidden: UnreadableFact };

/** All the reader needs of kubectl: the step passes its runner, the preflight (scripts/preflightExisting.ts) its own. */
export type KubectlReads = Pick<KubectlRunner, "run">;

/** The API server's refusal: `Error from server (Forbidden): nodes is forbidden: User "x" cannot list resource ...`. */
function isForbidden(stderr: string): boolean {
    return /\(Forbidden\)/.test(stderr);
}

/** scope: "cluster" (a cluster-scoped resource), "all namespaces", or a namespace. */
function unreadable(verb: string, resource: string, scope: string, consequence: string): UnreadableFact {
    const flags = scope === "cluster" ? "" : scope === "all namespaces" ? " --all-namespaces" : ` -n ${scope}`;
    const where = scope === "cluster" ? "at the cluster scope" : scope === "all namespaces" ? "in all namespaces" : `in namespace ${scope}`;
    return {
        verb,
        resource,
        scope,
        message: `cannot ${verb} ${resource} ${where}: the kubeconfig's user is not allowed (\`kubectl auth can-i ${verb} ${resource}${flags}\` shows it); ${consequence}`,
    };
}

/** One kubectl read: JSON, a Forbidden as a fact, "not yet" for what is transient, a stop for anything else. */
async function read(kubectl: KubectlReads, args: string[], what: string, onForbidden: () => UnreadableFact): Promise<Read> {
    const r = await kubectl.run(args);
    // `--ignore-not-found` prints nothing for a missing object: null, not a parse error.
    if (r.code === 0 && args.includes("json") && args.includes("--ignore-not-found") && r.stdout.trim() === "") return { json: null };
    if (r.code === 0) {
        try {
            return { json: args.includes("json") ? JSON.parse(r.stdout) : r.stdout };
        } catch {
            throw new StepError(`kubectl ${args.slice(0, 3).join(" ")} did not print JSON: ${lastLines(r.stdout)}`);
        }
    }
    if (isForbidden(r.stderr)) return { forbidden: onForbidden() };
    const failure = classifyFailure(r);
    if (failure.kind === "transient") throw new VaultUnavailable(`${what}: ${failure.summary}`);
    throw new StepError(`could not read ${what}: ${failure.summary}`);
}

/** Ready, not cordoned, no taint Vault's pods do not tolerate. */
export function schedulable(node: any): boolean {
    const ready = (node.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
    const blocked = (node.spec?.taints ?? []).some((t: any) => BLOCKING_EFFECTS.has(t.effect));
    return ready && node.spec?.unschedulable !== true && !blocked;
}

/** The address a user reaches a NodePort on: ExternalIP when the node has one, else InternalIP. */
export function nodeAddressOf(node: any): string | undefined {
    const addresses: Array<{ type: string; address: string }> = node.status?.addresses ?? [];
    return (addresses.find((a) => a.type === "ExternalIP") ?? addresses.find((a) => a.type === "InternalIP"))?.address;
}

export function storageClassFacts(list: any): StorageClassFact[] {
    return (list.items ?? []).map((sc: any) => ({
        name: String(sc.metadata?.name),
        isDefault: DEFAULT_CLASS_ANNOTATIONS.some((a) => sc.metadata?.annotations?.[a] === "true"),
    }));
}

/** The cert-manager webhook Deployments among those the selector found (another project's "webhook" is not one). */
function certManagerWebhooks(list: any): any[] {
    return (list.items ?? []).filter((d: any) => {
        const images: string[] = (d.spec?.template?.spec?.containers ?? []).map((c: any) => String(c.image ?? ""));
        return images.some((i) => /cert-manager-webhook/.test(i)) || /cert-manager/.test(String(d.metadata?.name ?? ""));
    });
}

const available = (d: any) => Number(d.status?.availableReplicas ?? 0) > 0;

export const CONTROLLER_SELECTOR = "app.kubernetes.io/name=cert-manager,app.kubernetes.io/component=controller";

/**
 * The controller's --cluster-resource-namespace, as the running container sees it; undefined when it cannot be told
 * (no such container, or a --config file that may set it).
 */
export function clusterResourceNamespaceOf(deployment: any): string | undefined {
    const containers: any[] = deployment?.spec?.template?.spec?.containers ?? [];
    const container = containers.find((c) => /cert-manager-controller/.test(String(c.image ?? ""))) ?? containers[0];
    if (!container) return undefined;
    const args: string[] = [...(container.command ?? []), ...(container.args ?? [])].map(String);
    let value: string | undefined;
    args.forEach((a, i) => {
        if (a.startsWith("--cluster-resource-namespace=")) value = a.slice("--cluster-resource-namespace=".length);
        else if (a === "--cluster-resource-namespace" && i + 1 < args.length) value = args[i + 1];
    });
    if (value === undefined) return args.some((a) => a === "--config" || a.startsWith("--config=")) ? undefined : "kube-system";
    const namespace = String(deployment.metadata?.namespace ?? "");
    const env: any[] = container.env ?? [];
    const expanded = value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => {
        const e = env.find((v) => v.name === name);
        if (e?.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") return namespace;
        return typeof e?.value === "string" ? e.value : whole;
    });
    return /\$\(/.test(expanded) || expanded === "" ? undefined : expanded;
}

/** Where the routes of `ingress: gateway` will attach: the Gateway, and the namespace they will be in (Vault's). */
export interface GatewayTarget {
    name: string;
    namespace: string;
    vaultNamespace: string;
}

/** resources[] of `kubectl api-resources -o json` -> name: version; stdout also when kubectl failed on another group. */
function servedResources(r: { code: number; stdout: string; stderr: string }): Record<string, string> | undefined {
    const partial = r.code !== 0 && /unable to retrieve the complete list of server APIs/.test(r.stderr) && !r.stderr.includes(GATEWAY_API_GROUP);
    if (r.code !== 0 && !partial) return undefined;
    if (r.stdout.trim() === "") return {};
    try {
        const list = JSON.parse(r.stdout);
        return Object.fromEntries(
            (list.resources ?? [])
                .filter((x: any) => (x.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP)
                .map((x: any) => [String(x.name), String(x.version)]),
        );
    } catch {
        throw new StepError(`kubectl api-resources did not print JSON: ${lastLines(r.stdout)}`);
    }
}

/** The Gateway API's resources, the Gateway, and (for a namespace selector) Vault's namespace's labels. */
export async function readGatewayFacts(kubectl: KubectlReads, target: GatewayTarget, unreadableFacts: UnreadableFact[]): Promise<GatewayFacts> {
    const gateway: GatewayFacts = { name: target.name, namespace: target.namespace };
    const args = ["api-resources", `--api-group=${GATEWAY_API_GROUP}`, "-o", "json"];
    const r = await kubectl.run(args);
    const served = servedResources(r);
    if (served !== undefined) gateway.served = served;
    else if (isForbidden(r.stderr))
        unreadableFacts.push(unreadable("get", "the API discovery documents", "cluster", "whether the cluster serves the Gateway API is unknown"));
    else {
        const failure = classifyFailure(r);
        if (failure.kind === "transient") throw new VaultUnavailable(`the Gateway API's resources: ${failure.summary}`);
        throw new StepError(`could not list the Gateway API's resources: ${failure.summary}`);
    }
    if (served !== undefined && !("gateways" in served)) {
        gateway.exists = false;
        return gateway;
    }

    const found = await read(
        kubectl,
        ["get", `gateways.${GATEWAY_API_GROUP}`, target.name, "-n", target.namespace, "-o", "json", "--ignore-not-found"],
        `Gateway ${target.namespace}/${target.name}`,
        () => unreadable("get", `gateways.${GATEWAY_API_GROUP}`, target.namespace, `whether Gateway ${target.name} takes Vault's route is unknown`),
    );
    if ("forbidden" in found) {
        unreadableFacts.push(found.forbidden);
        return gateway;
    }
    gateway.exists = found.json !== null;
    if (found.json === null) return gateway;
    gateway.listeners = listenersOf(found.json);

    if (gateway.listeners.some((l) => l.allowedRoutes.from === "Selector")) {
        const ns = await read(
            kubectl,
            ["get", "namespaces", target.vaultNamespace, "-o", "json", "--ignore-not-found"],
            `namespace ${target.vaultNamespace}`,
            () => unreadable("get", "namespaces", "cluster", `whether the Gateway's namespace selector selects ${target.vaultNamespace} is unknown`),
        );
        if ("forbidden" in ns) unreadableFacts.push(ns.forbidden);
        else gateway.vaultNamespace = { name: target.vaultNamespace, exists: ns.json !== null, labels: { ...(ns.json?.metadata?.labels ?? {}) } };
    }
    return gateway;
}

/**
 * Reads everything once; "not yet" failures (VaultUnavailable) are retried by the caller, anything else is a
 * StepError. The one reader of a cluster: the cluster-facts step and the preflight both call it.
 */
export async function readClusterFacts(kubectl: KubectlReads, certManagerNamespace?: string, gatewayTarget?: GatewayTarget): Promise<ClusterFacts> {
    const facts: ClusterFacts = { certManager: { crds: false, webhookReady: false }, unreadable: [] };

    const nodes = await read(kubectl, ["get", "nodes", "-o", "json"], "the cluster's nodes", () =>
        unreadable("list", "nodes", "cluster", "the number of schedulable nodes is unknown"),
    );
    if ("forbidden" in nodes) facts.unreadable.push(nodes.forbidden);
    else {
        const usable = (nodes.json.items ?? []).filter(schedulable);
        facts.schedulableNodes = usable.length;
        const address = usable.map(nodeAddressOf).find((a: string | undefined) => a !== undefined);
        if (address !== undefined) facts.nodeAddress = address;
    }

    const classes = await read(kubectl, ["get", "storageclasses.storage.k8s.io", "-o", "json"], "the cluster's storage classes", () =>
        unreadable("list", "storageclasses.storage.k8s.io", "cluster", "the storage classes (and which is the default) are unknown"),
    );
    if ("forbidden" in classes) facts.unreadable.push(classes.forbidden);
    else facts.storageClasses = storageClassFacts(classes.json);

    const crd = await read(
        kubectl,
        ["get", "customresourcedefinitions.apiextensions.k8s.io", "certificates.cert-manager.io", "-o", "name", "--ignore-not-found"],
        "cert-manager's CRD",
        () => unreadable("get", "customresourcedefinitions.apiextensions.k8s.io", "cluster", "cert-manager's API was looked for through discovery instead"),
    );
    if ("forbidden" in crd) {
        facts.unreadable.push(crd.forbidden);
        const discovery = await read(kubectl, ["api-resources", "--api-group=cert-manager.io", "-o", "name"], "the cluster's API resources", () =>
            unreadable("get", "the API discovery documents", "cluster", "whether cert-manager is installed is unknown"),
        );
        if ("forbidden" in discovery) throw new StepError(discovery.forbidden.message);
        facts.certManager.crds = String(discovery.json).split("\n").includes("certificates.cert-manager.io");
    } else {
        facts.certManager.crds = String(crd.json).trim() !== "";
    }

    let deployments = await read(
        kubectl,
        ["get", "deployments.apps", "--all-namespaces", "-l", WEBHOOK_SELECTOR, "-o", "json"],
        "cert-manager's webhook Deployment",
        () =>
            unreadable(
                "list",
                "deployments.apps",
                "all namespaces",
                certManagerNamespace ? `cert-manager's webhook was looked for in ${certManagerNamespace} only` : "cert-manager's webhook is unknown",
            ),
    );
    if ("forbidden" in deployments) {
        facts.unreadable.push(deployments.forbidden);
        if (certManagerNamespace) {
            deployments = await read(
                kubectl,
                ["get", "deployments.apps", "-n", certManagerNamespace, "-l", WEBHOOK_SELECTOR, "-o", "json"],
                `cert-manager's webhook Deployment in ${certManagerNamespace}`,
                () => unreadable("list", "deployments.apps", certManagerNamespace, "cert-manager's webhook is unknown"),
            );
            if ("forbidden" in deployments) facts.unreadable.push(deployments.forbidden);
        }
    }
    if (!("forbidden" in deployments)) {
        const webhooks = certManagerWebhooks(deployments.json);
        const chosen = webhooks.find(available) ?? webhooks[0];
        if (chosen) {
            facts.certManager.webhookReady = available(chosen);
            facts.certManager.namespace = String(chosen.metadata.namespace);
            const owner = chosen.metadata?.labels?.[OWNER_LABEL_KEY];
            if (owner) facts.certManager.owner = String(owner);
            const controllers = await read(
                kubectl,
                ["get", "deployments.apps", "-n", facts.certManager.namespace, "-l", CONTROLLER_SELECTOR, "-o", "json"],
                `cert-manager's controller Deployment in ${facts.certManager.namespace}`,
                () =>
                    unreadable(
                        "list",
                        "deployments.apps",
                        String(chosen.metadata.namespace),
                        "where cert-manager's ClusterIssuers read their secrets is unknown",
                    ),
            );
            if ("forbidden" in controllers) facts.unreadable.push(controllers.forbidden);
            else {
                const resourceNamespace = clusterResourceNamespaceOf(controllers.json.items?.[0]);
                if (resourceNamespace) facts.certManager.clusterResourceNamespace = resourceNamespace;
            }
        }
    }
    if (gatewayTarget) facts.gateway = await readGatewayFacts(kubectl, gatewayTarget, facts.unreadable);
    // The Prometheus Operator's CRDs: Vault's ServiceMonitor and alert rules only where they exist (the chart would
    // fail to install them otherwise). Discovery needs no right beyond what kubectl always has; a failure is "no".
    const monitoring = await kubectl.run(["api-resources", "--api-group=monitoring.coreos.com", "-o", "name"]);
    // kubectl exits 1 when any other API group fails discovery (a metrics-server down is common), yet prints what it
    // found: its stdout decides, unless it printed nothing at all after a failure.
    if (monitoring.code === 0 || monitoring.stdout.trim() !== "") {
        const served = monitoring.stdout.split("\n").map((line) => line.trim());
        facts.prometheusOperator = served.includes("servicemonitors.monitoring.coreos.com") && served.includes("prometheusrules.monitoring.coreos.com");
    }
    return facts;
}

/** Reads the facts within the step's deadline: an API server that is not answering yet is waited for. */
export async function clusterFacts(
    ctx: PollContext,
    kubectl: KubectlRunner,
    certManagerNamespace?: string,
    gatewayTarget?: GatewayTarget,
): Promise<ClusterFacts> {
    const facts = await pollUntil(
        ctx,
        "the cluster's API server to answer",
        () => readClusterFacts(kubectl, certManagerNamespace, gatewayTarget),
        () => "",
    );
    for (const u of facts.unreadable) ctx.log(`note: ${u.message}`);
    const cm = facts.certManager;
    ctx.log(
        `schedulable nodes: ${facts.schedulableNodes ?? "unknown"}; storage classes: ${
            facts.storageClasses ? facts.storageClasses.map((c) => `${c.name}${c.isDefault ? " (default)" : ""}`).join(", ") || "none" : "unknown"
        }; cert-manager: ${cm.crds ? "CRDs" : "no CRDs"}, ${cm.namespace ? `webhook in ${cm.namespace} ${cm.webhookReady ? "ready" : "not ready"}${cm.owner ? `, owned by ${cm.owner}` : ""}` : "no webhook found"}`,
    );
    const gw = facts.gateway;
    if (gw) {
        const served = gw.served === undefined ? "unknown" : Object.keys(gw.served).length === 0 ? "none" : `tlsroutes ${gw.served.tlsroutes ?? "not served"}`;
        ctx.log(
            `Gateway API: ${served}; Gateway ${gw.namespace}/${gw.name}: ${gw.exists === undefined ? "unknown" : gw.exists ? `${gw.listeners?.length ?? 0} listener(s)` : "not found"}`,
        );
    }
    return facts;
}

/** The Gateway to look at, when the step was given one (`ingress: gateway`): all three parameters or none. */
function gatewayTargetOf(p: { gatewayName?: string; gatewayNamespace?: string; namespace?: string }): GatewayTarget | undefined {
    const given = [p.gatewayName, p.gatewayNamespace, p.namespace].filter((v) => v !== undefined).length;
    if (given === 0) return undefined;
    if (given !== 3) throw new StepError("cluster-facts takes the Gateway's name and namespace and Vault's namespace together, or none of them");
    return { name: p.gatewayName!, namespace: p.gatewayNamespace!, vaultNamespace: p.namespace! };
}

export const clusterFactsStep: Handler<"cluster-facts"> = (p, secrets, ctx) =>
    withKubectl(ctx, secrets.kubeconfig, (kubectl) => clusterFacts(ctx, kubectl, p.certManagerNamespace, gatewayTargetOf(p)));
