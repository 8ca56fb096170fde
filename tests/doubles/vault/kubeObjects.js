// @ts-check
/**
 * SIMULATOR — the cluster around Vault, for the existing-cluster steps (cluster-facts, vault-address, the kv proof's
 * port-forward): Nodes, StorageClasses, cert-manager's CRD and webhook Deployment, Services, and what the user may
 * not read (RBAC). Not Kubernetes: each object has the fields the API serves and vault-ha reads, and each answer is the
 * one the API server and kubectl give.
 *
 * Sources:
 * - Node, Service, LoadBalancerStatus: k8s.io/api core/v1 types.go (conditions, spec.unschedulable, spec.taints,
 *   status.addresses; status.loadBalancer.ingress[].ip / .hostname, empty until a load balancer controller fills it).
 * - The default StorageClass annotation: k8s.io/kubernetes pkg/apis/storage/util IsDefaultAnnotation.
 * - cert-manager's webhook Deployment labels: the pinned chart's templates/webhook-deployment.yaml (v1.21.1).
 * - Forbidden: k8s.io/apiserver pkg/endpoints/handlers/responsewriters/errors.go forbiddenMessage ("User %q cannot
 *   %s resource %q in API group %q at the cluster scope" / "in the namespace %q"), wrapped by apimachinery's
 *   NewForbidden as `<resource>[ "<name>"] is forbidden: ...`; kubectl prints it as "Error from server (Forbidden): ...".
 * - NotFound: `Error from server (NotFound): <resource> "<name>" not found`.
 * - `kubectl get ... -o name --ignore-not-found` prints nothing and exits 0 for a missing object (kubectl get.go).
 * - `kubectl api-resources -o name` prints "<plural>.<group>" per resource (kubectl pkg/cmd/apiresources).
 * - The Gateway API (Gateways, TLSRoutes, HTTPRoutes, discovery of their group, and the namespaces a listener's
 *   selector reads): gatewayObjects.js.
 * - Services: the ones Helm renders from the pinned chart for the program's values (tests/support/helm.ts
 *   renderedVaultRelease), never written here: a Service without spec.type is a ClusterIP (the API server's default,
 *   pkg/apis/core/v1/defaults.go SetDefaults_Service). Only a load balancer controller fills status.loadBalancer, and
 *   only for type LoadBalancer (k8s.io/cloud-provider controllers/service: wantsLoadBalancer).
 */

const gatewayObjects = require("./gatewayObjects.js");

const USER = "jane@example.com";

/** @typedef {{ name: string, ready: boolean, labels?: Record<string, string>, unschedulable?: boolean, taints?: Array<{ key: string, value?: string, effect: string }>, addresses?: Array<{ type: string, address: string }> }} SimNode */
/** @typedef {{ name: string, annotations?: Record<string, string> }} SimStorageClass */
/** @typedef {{ namespace: string, name: string, labels: Record<string, string>, image: string, availableReplicas: number,
 *   args?: string[], env?: Array<{ name: string, value?: string, valueFrom?: any }> }} SimDeployment */
/** @typedef {{ type: string, selector: Record<string, string>, ports: Array<{ name: string, port: number, targetPort: number, nodePort?: number }>,
 *   labels: Record<string, string>, clusterIP?: string, publishNotReadyAddresses?: boolean, externalTrafficPolicy?: string,
 *   loadBalancer: null | { at: number, ingress: Array<{ ip?: string, hostname?: string }> }, backend?: string }} SimService
 * `loadBalancer` is the controller's work (set by giveLoadBalancer); `backend` (host:port) is the test's fake Vault a
 * port-forward relays to. */
/** @typedef {{ nodes: SimNode[], storageClasses: SimStorageClass[], crds: string[], deployments: SimDeployment[], services: Record<string, SimService>, forbidden: string[],
 *   gatewayWorld?: import("./gatewayObjects.js").GatewayWorld, hostPortPods?: import("./podScheduling.js").HostPortPod[] }} Kube
 * `gatewayWorld`: the Gateway API (gatewayObjects.js), made on first use. `hostPortPods`: pods holding host ports
 * (podScheduling.js). */

/**
 * A Service as the API server serves it, from a manifest the chart rendered: spec.type defaulted to ClusterIP; no
 * load balancer address and no backend yet.
 * @param {any} manifest @returns {SimService}
 */
function serviceFromManifest(manifest) {
    const spec = manifest.spec ?? {};
    return {
        type: spec.type ?? "ClusterIP",
        selector: spec.selector ?? {},
        ports: (spec.ports ?? []).map((/** @type {any} */ p) => ({ ...p })),
        labels: manifest.metadata?.labels ?? {},
        ...(spec.clusterIP ? { clusterIP: spec.clusterIP } : {}),
        ...(spec.publishNotReadyAddresses !== undefined ? { publishNotReadyAddresses: spec.publishNotReadyAddresses } : {}),
        ...(spec.externalTrafficPolicy ? { externalTrafficPolicy: spec.externalTrafficPolicy } : {}),
        loadBalancer: null,
    };
}

/**
 * A `helm install|upgrade` applies the chart's Services: their spec is the chart's, what the cluster added (a load
 * balancer's address, while the Service stays a LoadBalancer) and the test's backend stay; Services the chart no longer
 * renders are deleted. @param {Kube} kube @param {string} namespace @param {any[]} manifests
 */
function applyServices(kube, namespace, manifests) {
    const rendered = new Set();
    for (const m of manifests) {
        const key = `${m.metadata.namespace ?? namespace}/${m.metadata.name}`;
        rendered.add(key);
        const old = kube.services[key];
        const svc = serviceFromManifest(m);
        kube.services[key] = {
            ...svc,
            loadBalancer: old && svc.type === "LoadBalancer" ? old.loadBalancer : null,
            ...(old?.backend ? { backend: old.backend } : {}),
        };
    }
    for (const key of Object.keys(kube.services)) if (key.startsWith(`${namespace}/`) && !rendered.has(key)) delete kube.services[key];
}

/**
 * The cluster's load balancer controller gives a LoadBalancer Service its ingress points `afterMs` from now (never,
 * with null). It serves nothing else: a test cannot give a NodePort or ClusterIP Service an address.
 * @param {{ now: number, kube: Kube }} s @param {string} key namespace/name @param {number | null} afterMs @param {Array<{ ip?: string, hostname?: string, ipMode?: string }>} ingress
 */
function giveLoadBalancer(s, key, afterMs, ingress) {
    const svc = s.kube.services[key];
    if (!svc) throw new Error(`simulator: no Service ${key} (the chart renders ${Object.keys(s.kube.services).join(", ")})`);
    if (svc.type !== "LoadBalancer") throw new Error(`simulator: Service ${key} is of type ${svc.type}: no load balancer controller serves it`);
    svc.loadBalancer = afterMs === null ? null : { at: s.now + afterMs, ingress };
}

/**
 * A kind-shaped cluster: a tainted control plane and three workers, kind's default StorageClass, no cert-manager, and
 * Vault's Services as the chart rendered them for the program's values.
 * @param {string} namespace @param {any[]} serviceManifests the Service manifests of the chart's render @returns {Kube}
 */
function defaultKube(namespace, serviceManifests) {
    const worker = (/** @type {number} */ i) => ({
        name: `vault-worker${i ? i + 1 : ""}`,
        ready: true,
        addresses: [
            { type: "InternalIP", address: `172.18.0.${3 + i}` },
            { type: "Hostname", address: `vault-worker${i ? i + 1 : ""}` },
        ],
    });
    return {
        nodes: [
            {
                name: "vault-control-plane",
                ready: true,
                // kubeadm taints control-plane nodes (cmd/kubeadm/app/constants ControlPlaneTaint).
                taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
                addresses: [{ type: "InternalIP", address: "172.18.0.2" }],
            },
            worker(0),
            worker(1),
            worker(2),
        ],
        // kind installs local-path-provisioner as "standard", annotated as the default.
        storageClasses: [{ name: "standard", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } }],
        crds: [],
        deployments: [],
        services: Object.fromEntries(serviceManifests.map((m) => [`${m.metadata.namespace ?? namespace}/${m.metadata.name}`, serviceFromManifest(m)])),
        forbidden: [],
    };
}

/**
 * cert-manager as its chart installs it: the CRDs, the controller (with the chart's --cluster-resource-namespace, or
 * the one given) and the webhook Deployment.
 * @param {Kube} kube @param {{ namespace?: string, ready?: boolean, owner?: string, clusterResourceNamespace?: string }} [options]
 */
function installCertManager(kube, options = {}) {
    kube.crds.push("certificates.cert-manager.io", "issuers.cert-manager.io", "clusterissuers.cert-manager.io", "certificaterequests.cert-manager.io");
    const namespace = options.namespace ?? "cert-manager";
    kube.deployments.push({
        namespace,
        name: "cert-manager",
        labels: {
            app: "cert-manager",
            "app.kubernetes.io/name": "cert-manager",
            "app.kubernetes.io/instance": "cert-manager",
            "app.kubernetes.io/component": "controller",
        },
        image: "quay.io/jetstack/cert-manager-controller:v1.21.1",
        availableReplicas: 1,
        // templates/deployment.yaml: the flag, and POD_NAMESPACE from the pod's own namespace.
        args: ["--v=2", `--cluster-resource-namespace=${options.clusterResourceNamespace ?? "$(POD_NAMESPACE)"}`, "--leader-election-namespace=kube-system"],
        env: [{ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }],
    });
    kube.deployments.push({
        namespace,
        name: "cert-manager-webhook",
        labels: {
            app: "webhook",
            "app.kubernetes.io/name": "webhook",
            "app.kubernetes.io/instance": "cert-manager",
            "app.kubernetes.io/component": "webhook",
            ...(options.owner ? { "vault-ha.dev/owner": options.owner } : {}),
        },
        image: "quay.io/jetstack/cert-manager-webhook:v1.21.1",
        availableReplicas: options.ready === false ? 0 : 1,
    });
}

/** @param {string} text */
const fail = (text) => ({ code: 1, stdout: "", stderr: `${text}\n` });
/** @param {unknown} body */
const ok = (body) => ({ code: 0, stdout: typeof body === "string" ? body : JSON.stringify(body, null, 2) + "\n", stderr: "" });

/**
 * The API server's refusal, if the user may not do this. `rule` is "<verb> <resource>" for cluster scope, or
 * "<verb> <resource> <namespace>" / "<verb> <resource> *" (every namespace).
 * @param {Kube} kube @param {string} verb @param {string} resource plural.group @param {string | null} namespace null: cluster-scoped; "*": all namespaces @param {string} [name]
 */
function forbidden(kube, verb, resource, namespace, name) {
    const rule = [verb, resource, ...(namespace === null ? [] : [namespace])].join(" ");
    if (!kube.forbidden.includes(rule)) return undefined;
    const [plural, ...group] = resource.split(".");
    const where = namespace === null || namespace === "*" ? "at the cluster scope" : `in the namespace "${namespace}"`;
    return fail(
        `Error from server (Forbidden): ${resource}${name ? ` "${name}"` : ""} is forbidden: User "${USER}" cannot ${verb} resource "${plural}" in API group "${group.join(".")}" ${where}`,
    );
}

/** @param {SimNode} n */
function nodeJson(n) {
    return {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: n.name, ...(n.labels ? { labels: n.labels } : {}) },
        spec: { ...(n.unschedulable ? { unschedulable: true } : {}), ...(n.taints?.length ? { taints: n.taints } : {}) },
        status: {
            addresses: n.addresses ?? [],
            conditions: [
                { type: "MemoryPressure", status: "False" },
                { type: "Ready", status: n.ready ? "True" : "Unknown", reason: n.ready ? "KubeletReady" : "NodeStatusUnknown" },
            ],
        },
    };
}

/** @param {Record<string, string>} selector @param {Record<string, string>} labels */
const selects = (selector, labels) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * The `kubectl get|api-resources` calls of the existing-cluster steps; undefined for anything else.
 * @param {import("./model.js").State & { kube: Kube }} s @param {string[]} positional @param {Record<string, string | true>} flags @param {(sel: string, labels: Record<string, string>) => boolean} matches
 */
function kubectlGet(s, positional, flags, matches) {
    const kube = s.kube;
    const namespace = typeof flags.n === "string" ? flags.n : "default";
    const all = flags.A === true || flags.A === "true";
    const [verb, kind, name] = positional;
    const gateway = gatewayObjects.kubectlGateway(s, positional, flags, forbidden, fail, ok);
    if (gateway) return gateway;
    if (verb === "api-resources") {
        if (flags.o !== "name") return fail("(simulator: vault-ha lists API resources with -o name)");
        const group = typeof flags["api-group"] === "string" ? flags["api-group"] : undefined;
        const names = kube.crds.filter((c) => group === undefined || c.endsWith(`.${group}`));
        return ok(names.map((c) => `${c}\n`).join(""));
    }
    if (verb !== "get") return undefined;
    if (kind === "nodes" || kind === "node" || kind === "no") {
        if (flags.o !== "json") return fail("(simulator: vault-ha reads nodes as -o json)");
        return (
            forbidden(kube, "list", "nodes", null) ?? ok({ apiVersion: "v1", kind: "List", items: kube.nodes.map(nodeJson), metadata: { resourceVersion: "" } })
        );
    }
    if (kind === "storageclasses.storage.k8s.io" || kind === "storageclasses" || kind === "sc") {
        if (flags.o !== "json") return fail("(simulator: vault-ha reads storage classes as -o json)");
        return (
            forbidden(kube, "list", "storageclasses.storage.k8s.io", null) ??
            ok({
                apiVersion: "v1",
                kind: "List",
                items: kube.storageClasses.map((c) => ({
                    apiVersion: "storage.k8s.io/v1",
                    kind: "StorageClass",
                    metadata: { name: c.name, ...(c.annotations ? { annotations: c.annotations } : {}) },
                    provisioner: "rancher.io/local-path",
                })),
                metadata: { resourceVersion: "" },
            })
        );
    }
    if (kind === "customresourcedefinitions.apiextensions.k8s.io" || kind === "customresourcedefinitions" || kind === "crd") {
        const refused = forbidden(kube, "get", "customresourcedefinitions.apiextensions.k8s.io", null, name);
        if (refused) return refused;
        if (flags.o !== "name") return fail("(simulator: vault-ha reads a CRD with -o name)");
        if (kube.crds.includes(name)) return ok(`customresourcedefinition.apiextensions.k8s.io/${name}\n`);
        if (flags["ignore-not-found"] === true || flags["ignore-not-found"] === "true") return ok("");
        return fail(`Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "${name}" not found`);
    }
    if (kind === "deployments.apps" || kind === "deployments" || kind === "deploy") {
        if (flags.o !== "json") return fail("(simulator: vault-ha reads deployments as -o json)");
        const refused = forbidden(kube, "list", "deployments.apps", all ? "*" : namespace);
        if (refused) return refused;
        const selector = typeof flags.l === "string" ? flags.l : "";
        const items = kube.deployments
            .filter((d) => (all || d.namespace === namespace) && matches(selector, d.labels))
            .map((d) => ({
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: d.name, namespace: d.namespace, labels: d.labels },
                spec: {
                    replicas: 1,
                    template: {
                        spec: { containers: [{ name: d.name, image: d.image, ...(d.args ? { args: d.args } : {}), ...(d.env ? { env: d.env } : {}) }] },
                    },
                },
                status: { replicas: 1, ...(d.availableReplicas ? { availableReplicas: d.availableReplicas, readyReplicas: d.availableReplicas } : {}) },
            }));
        return ok({ apiVersion: "v1", kind: "List", items, metadata: { resourceVersion: "" } });
    }
    if (kind === "service" || kind === "services" || kind === "svc") {
        const refused = forbidden(kube, "get", "services", namespace, name);
        if (refused) return refused;
        const svc = kube.services[`${namespace}/${name}`];
        if (!svc) return fail(`Error from server (NotFound): services "${name}" not found`);
        if (flags.o !== "json") return fail("(simulator: vault-ha reads a Service as -o json)");
        const lb = svc.loadBalancer && svc.loadBalancer.at <= s.now ? svc.loadBalancer.ingress : [];
        return ok({
            apiVersion: "v1",
            kind: "Service",
            metadata: { name, namespace, labels: svc.labels },
            spec: {
                type: svc.type,
                ...(svc.clusterIP ? { clusterIP: svc.clusterIP } : {}),
                selector: svc.selector,
                ports: svc.ports.map((p) => ({ ...p, protocol: "TCP" })),
                ...(svc.publishNotReadyAddresses !== undefined ? { publishNotReadyAddresses: svc.publishNotReadyAddresses } : {}),
                ...(svc.externalTrafficPolicy ? { externalTrafficPolicy: svc.externalTrafficPolicy } : {}),
            },
            // An empty LoadBalancerStatus is served as {} (ingress is omitempty).
            status: { loadBalancer: lb.length ? { ingress: lb } : {} },
        });
    }
    return undefined;
}

/**
 * A Go duration as kubectl's --pod-running-timeout takes it ("30s", "1m0s", "1h2m3.5s", "500ms"); undefined when it
 * is not one. @param {string} text
 */
function durationMs(text) {
    const units = /** @type {Record<string, number>} */ ({ ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 });
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
    return parts.reduce((ms, p) => ms + Number(p[1]) * units[p[2]], 0);
}

/**
 * What kubectl knows of a pod when it picks one: its phase, its Ready condition and since when, its restarts.
 * @typedef {{ assigned: boolean, running: boolean, ready: boolean, readySince: number | null, restartCount: number }} PodView
 */

/**
 * The pod kubectl attaches to among those a selector matches: the first of sort.Reverse(podutils.ActivePods)
 * (k8s.io/kubectl pkg/util/podutils/podutils.go ActivePods.Less, reversed): assigned before unassigned, Running before
 * Pending, Ready before not, of two Ready pods the one ready longer, then fewer restarts; then by name (inference:
 * ActivePods goes on to creation time, which the model does not keep).
 * @param {string[]} pods @param {(name: string) => PodView} view
 */
function attachablePod(pods, view) {
    const rank = (/** @type {string} */ n) => view(n);
    return [...pods].sort((a, b) => {
        const x = rank(a);
        const y = rank(b);
        if (x.assigned !== y.assigned) return x.assigned ? -1 : 1;
        if (x.running !== y.running) return x.running ? -1 : 1;
        if (x.ready !== y.ready) return x.ready ? -1 : 1;
        if (x.ready && y.ready && x.readySince !== y.readySince) return (x.readySince ?? 0) - (y.readySince ?? 0);
        if (x.restartCount !== y.restartCount) return x.restartCount - y.restartCount;
        return a.localeCompare(b);
    })[0];
}

/**
 * `kubectl port-forward -n NS service/NAME --address 127.0.0.1 [--pod-running-timeout=D] :PORT`, up to the moment
 * it listens: which pod it goes to, or why it fails, or that it is still waiting for a pod. kubectl
 * (kubernetes/kubectl pkg/cmd/portforward/portforward.go Complete and RunPortForwardContext):
 * - the Service is read (NotFound if missing); its selector (none: "invalid service 'NAME': Service is defined without
 *   a selector", polymorphichelpers SelectorsForObject) lists the pods with the labels they carry now, so a Service
 *   that selects on Vault's own vault-active label reaches only the pod Vault labelled active;
 * - AttachablePodForObjectFn → GetFirstPod takes one of them (attachablePod above). When none matches, GetPodList
 *   watches for up to --pod-running-timeout (default 1m0s) for a pod to be added or modified into the selector, and
 *   fails with "timed out waiting for the condition" (client-go tools/watch UntilWithoutRetry, wait.ErrWaitTimeout;
 *   kubectl prints "error: " before it): this returns `waitForPod` with that deadline, and the caller asks again;
 * - translateServicePortToTargetPort: the port must be one of the Service's;
 * - the pod must be Running ("unable to forward port because pod is not running. Current status=...").
 * @param {import("./model.js").State & { kube: Kube }} s @param {string[]} positional @param {Record<string, string | true>} flags
 * @param {(name: string) => PodView} view
 * @returns {{ error: { code: number, stdout: string, stderr: string } } | { forward: { pod: string, uid: string, remotePort: number, backend: string } } | { waitForPod: { timeoutMs: number } }}
 */
function portForward(s, positional, flags, view) {
    const namespace = typeof flags.n === "string" ? flags.n : "default";
    const [, target, ports, ...rest] = positional;
    if (!target || !ports || rest.length) return { error: fail("(simulator: vault-ha forwards one port of one service)") };
    if (flags.address !== "127.0.0.1") return { error: fail("(simulator: vault-ha forwards with --address 127.0.0.1)") };
    const m = /^(?:service|services|svc)\/(.+)$/.exec(target);
    if (!m) return { error: fail("(simulator: vault-ha forwards to service/NAME)") };
    const pm = /^(\d*):(\d+)$/.exec(ports);
    if (!pm) return { error: fail("(simulator: vault-ha forwards :PORT, a local port of kubectl's choosing)") };
    const timeoutFlag = flags["pod-running-timeout"];
    const timeoutMs = typeof timeoutFlag === "string" ? durationMs(timeoutFlag) : 60_000;
    if (timeoutMs === undefined || timeoutMs <= 0)
        return { error: fail(`error: invalid argument "${timeoutFlag}" for "--pod-running-timeout" flag: time: invalid duration "${timeoutFlag}"`) };
    const refused = forbidden(s.kube, "create", "pods/portforward", namespace);
    const svc = s.kube.services[`${namespace}/${m[1]}`];
    if (!svc) return { error: fail(`Error from server (NotFound): services "${m[1]}" not found`) };
    if (Object.keys(svc.selector).length === 0)
        return { error: fail(`error: cannot attach to *v1.Service: invalid service '${m[1]}': Service is defined without a selector`) };
    const pods = Object.keys(s.pods).filter((n) => s.pods[n].created && s.namespace === namespace && selects(svc.selector, s.pods[n].labels));
    if (pods.length === 0) return { waitForPod: { timeoutMs } };
    const pod = attachablePod(pods, view);
    const remotePort = Number(pm[2]);
    // translateServicePortToTargetPort: the port must be one of the Service's.
    if (!svc.ports.some((p) => p.port === remotePort)) return { error: fail(`error: Service ${m[1]} does not have a service port ${remotePort}`) };
    if (!view(pod).running) return { error: fail("error: unable to forward port because pod is not running. Current status=Pending") };
    // The refusal comes on the upgrade request to the pod's portforward subresource (client-go ForwardPorts:
    // "error upgrading connection: %s"), not as a kubectl "Error from server" line.
    if (refused)
        return {
            error: fail(
                `error: error upgrading connection: pods "${pod}" is forbidden: User "${USER}" cannot create resource "pods/portforward" in API group "" in the namespace "${namespace}"`,
            ),
        };
    if (!svc.backend) return { error: fail("(simulator: the test gave this Service no backend to forward to)") };
    return { forward: { pod, uid: s.pods[pod].uid, remotePort, backend: svc.backend } };
}

/** kubectl's words when no pod came within --pod-running-timeout (see portForward). */
const NO_POD_IN_TIME = fail("error: timed out waiting for the condition");

module.exports = { applyServices, defaultKube, durationMs, forbidden, giveLoadBalancer, installCertManager, kubectlGet, NO_POD_IN_TIME, portForward, USER };
