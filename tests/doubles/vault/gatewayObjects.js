// @ts-check
/**
 * SIMULATOR — the Gateway API in the cluster around Vault (`ingress: gateway`): which of its resources the API server
 * serves, Gateways and routes as the program (or the cluster's owner) applied them, and the status Envoy Gateway v1.9
 * writes on them, computed from the cluster as it is at the moment of each read (the controller is taken to be
 * instantaneous; a test stops it with `controller: false`). Not Envoy Gateway: only what vault-ha reads.
 *
 * Sources:
 * - Discovery: `kubectl api-resources --api-group=G -o json` prints one APIResourceList (kind APIResourceList,
 *   apiVersion v1, groupVersion "", resources[] with group and version set; `null` when none matched), JSON with
 *   four-space indents (kubectl pkg/cmd/apiresources/apiresources.go RunAPIResources, cli-runtime JSONPrinter). The
 *   version shown is the preferred one (client-go discovery ServerPreferredResources: the group's preferred version
 *   when the resource is served there, else the first version that serves it, in kube-aware order).
 * - Served versions per bundle: the Gateway API CRDs of v1.6.1 as Envoy Gateway v1.9's chart ships them (tlsroutes
 *   v1, v1alpha2/v1alpha3 deprecated; tcproutes/udproutes v1), v1.4.1 experimental (tlsroutes v1alpha2/v1alpha3
 *   only) and v1.4.1 standard (no TLSRoute): research/gateway.md §1 and §3.
 * - An unserved resource type: `error: the server doesn't have a resource type "<name>"` (kubectl's RESTMapper).
 * - The CRD's status default: Accepted and Programmed Unknown/Pending, "Waiting for controller" (gateway_types.go).
 * - Envoy Gateway v1.9 status (envoyproxy/gateway v1.9.0):
 *   - Gateway Accepted True/Accepted "The Gateway has been scheduled by Envoy Gateway" when all listeners are
 *     accepted (status/gateway.go computeGatewayAcceptedFromListeners);
 *   - Programmed: addresses from the Envoy Service (LoadBalancer: its ingress, none on kind; ClusterIP: the cluster
 *     IP); none -> False/AddressNotAssigned "No addresses have been assigned to the Gateway"; then True/Programmed
 *     "Address assigned to the Gateway, n/m envoy replicas available" once a replica is available, else
 *     False/NoResources "Envoy replicas unavailable" (status/gateway.go updateGatewayProgrammedCondition);
 *   - only Gateways of a GatewayClass whose controllerName is Envoy Gateway's are reconciled (internal/provider/
 *     kubernetes/predicates.go: "bypassing reconciliation due to controller name"); others keep the CRD's default;
 *   - Programmed and the addresses from the Envoy Service and Deployment the infra provider made: envoyInfra.js;
 *   - listener conditions (validate.go 305-311) and attachedRoutes: +1 on each listener of the parent ref whose
 *     hostnames intersect the route's, whether or not the route's backends resolve (route.go
 *     processHTTPRouteParentRefListener and the TLSRoute loop, computeHosts; contexts.go IncrementAttachedRoutes:
 *     "The count of AttachedRoutes should include Routes that are valid or invalid", gateway-api issue 2402);
 *   - route parents: NoMatchingParent "No listeners match this parent ref", NotAllowedByListeners "No listeners
 *     included by this parent ref allowed this attachment." (route.go processAllowedListenersForParentRefs: kind and
 *     namespace), ResolvedRefs True "Resolved all the Object references for the Route" or False/BackendNotFound
 *     "service NS/NAME not found", or False/PortNotFound "TCP Port P not found on Service NS/NAME" (validate.go
 *     validateBackendRefService), NoMatchingListenerHostname "There were no
 *     hostname intersections between the <Kind> and this parent ref's Listener(s).", else Accepted True "Route is
 *     accepted"; controllerName gateway.envoyproxy.io/gatewayclass-controller.
 */

const envoyInfra = require("./envoyInfra.js");

const GROUP = "gateway.networking.k8s.io";
const CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller";

/** Preferred version of each served resource, per Gateway API bundle. */
const BUNDLES = /** @type {Record<string, Record<string, string>>} */ ({
    "v1.6.1": {
        gatewayclasses: "v1",
        gateways: "v1",
        httproutes: "v1",
        grpcroutes: "v1",
        referencegrants: "v1",
        tlsroutes: "v1",
        tcproutes: "v1",
        udproutes: "v1",
        backendtlspolicies: "v1",
        listenersets: "v1",
    },
    "v1.4.1-experimental": {
        gatewayclasses: "v1",
        gateways: "v1",
        httproutes: "v1",
        grpcroutes: "v1",
        referencegrants: "v1",
        tlsroutes: "v1alpha3",
        tcproutes: "v1alpha2",
        udproutes: "v1alpha2",
        backendtlspolicies: "v1",
    },
    "v1.4.1-standard": { gatewayclasses: "v1", gateways: "v1", httproutes: "v1", grpcroutes: "v1", referencegrants: "v1", backendtlspolicies: "v1" },
});

const KINDS = /** @type {Record<string, string>} */ ({
    gatewayclasses: "GatewayClass",
    gateways: "Gateway",
    httproutes: "HTTPRoute",
    grpcroutes: "GRPCRoute",
    referencegrants: "ReferenceGrant",
    tlsroutes: "TLSRoute",
    tcproutes: "TCPRoute",
    udproutes: "UDPRoute",
    backendtlspolicies: "BackendTLSPolicy",
    listenersets: "ListenerSet",
});

/**
 * @typedef {{ clusterIP: string, createdAt: number, startMs: number, loadBalancer: Array<{ ip?: string, hostname?: string }> }} SimEnvoy
 * What Envoy Gateway made for a Gateway when it first saw it: its Service's cluster IP, what the cluster's load
 * balancer controller gave that Service (a LoadBalancer only), and its Deployment, created at `createdAt`, whose pod
 * is available `startMs` after the scheduler places it (envoyInfra.js).
 * @typedef {{ manifest: any, generation: number, envoy: SimEnvoy }} SimGateway
 * @typedef {{ manifest: any, generation: number }} SimRoute
 * @typedef {{ served: Record<string, string> | null, controller: boolean, gateways: SimGateway[], routes: SimRoute[],
 *   classes: any[], envoyProxies: any[], namespaceLabels: Record<string, Record<string, string>> }} GatewayWorld
 * `classes` and `envoyProxies`: GatewayClass and EnvoyProxy manifests as applied. `namespaceLabels`: namespaces that
 * exist, with their own labels (kubernetes.io/metadata.name is added on read).
 */

/** @returns {GatewayWorld} */
function emptyGatewayWorld() {
    return { served: null, controller: true, gateways: [], routes: [], classes: [], envoyProxies: [], namespaceLabels: {} };
}

/** @param {{ gatewayWorld?: GatewayWorld }} kube @returns {GatewayWorld} */
function world(kube) {
    kube.gatewayWorld ??= emptyGatewayWorld();
    return kube.gatewayWorld;
}

/** Installs a Gateway API bundle's CRDs. @param {any} kube @param {keyof typeof BUNDLES} bundle */
function installGatewayApi(kube, bundle) {
    world(kube).served = { ...BUNDLES[bundle] };
}

/**
 * Applies a GatewayClass, an EnvoyProxy, a Gateway (with what Envoy Gateway makes for it) or a route, as
 * `kubectl apply` / Pulumi would: a changed spec is a new generation.
 * @param {{ kube: any, now: number }} s @param {any} manifest
 * @param {{ startMs?: number, loadBalancer?: Array<{ ip?: string, hostname?: string }> }} [envoy] Gateways only:
 *   how long Envoy's pod takes from scheduled to available (default 5 s), and the address the cluster's load
 *   balancer controller gives its Service when that is a LoadBalancer (default none, as on kind).
 */
function applyGatewayObject(s, manifest, envoy = {}) {
    const kube = s.kube;
    const w = world(kube);
    const key = (/** @type {any} */ m) => `${m.kind}/${m.metadata.namespace}/${m.metadata.name}`;
    if (manifest.kind === "GatewayClass" || manifest.kind === "EnvoyProxy") {
        const objects = manifest.kind === "GatewayClass" ? w.classes : w.envoyProxies;
        const at = objects.findIndex((o) => key(o) === key(manifest));
        objects.splice(at >= 0 ? at : objects.length, at >= 0 ? 1 : 0, JSON.parse(JSON.stringify(manifest)));
        return;
    }
    if (!["Gateway", "TLSRoute", "HTTPRoute"].includes(manifest.kind)) throw new Error(`simulator: ${manifest.kind} is not modelled`);
    const list = /** @type {Array<SimGateway | SimRoute>} */ (manifest.kind === "Gateway" ? w.gateways : w.routes);
    const old = list.find((o) => key(o.manifest) === key(manifest));
    const generation = old ? (JSON.stringify(old.manifest.spec) === JSON.stringify(manifest.spec) ? old.generation : old.generation + 1) : 1;
    const entry = { manifest: JSON.parse(JSON.stringify(manifest)), generation };
    if (manifest.kind === "Gateway") {
        const prior = /** @type {SimGateway | undefined} */ (old);
        envoyInfra.envoyProxyFor(w, manifest);
        Object.assign(entry, {
            envoy: {
                clusterIP: prior?.envoy.clusterIP ?? `10.96.${w.gateways.length + 10}.${20 + w.gateways.length}`,
                createdAt: prior?.envoy.createdAt ?? s.now,
                startMs: envoy.startMs ?? prior?.envoy.startMs ?? 5_000,
                loadBalancer: envoy.loadBalancer ?? prior?.envoy.loadBalancer ?? [],
            },
        });
    }
    if (old) list.splice(list.indexOf(old), 1, /** @type {any} */ (entry));
    else list.push(/** @type {any} */ (entry));
}

const condition = (
    /** @type {string} */ type,
    /** @type {boolean} */ ok,
    /** @type {string} */ reason,
    /** @type {string} */ message,
    /** @type {number} */ gen,
) => ({
    type,
    status: ok ? "True" : "False",
    reason,
    message,
    observedGeneration: gen,
    lastTransitionTime: "2026-01-01T00:00:00Z",
});

const PENDING = [
    { type: "Accepted", status: "Unknown", reason: "Pending", message: "Waiting for controller", lastTransitionTime: "1970-01-01T00:00:00Z" },
    { type: "Programmed", status: "Unknown", reason: "Pending", message: "Waiting for controller", lastTransitionTime: "1970-01-01T00:00:00Z" },
];

/** @param {any} l */
function listenerKinds(l) {
    const kinds = l.allowedRoutes?.kinds;
    if (Array.isArray(kinds) && kinds.length) return kinds.map((/** @type {any} */ k) => ({ group: k.group ?? GROUP, kind: k.kind }));
    const byProtocol = /** @type {Record<string, string[]>} */ ({
        HTTP: ["HTTPRoute", "GRPCRoute"],
        HTTPS: ["HTTPRoute", "GRPCRoute"],
        TLS: ["TLSRoute"],
        TCP: ["TCPRoute"],
        UDP: ["UDPRoute"],
    });
    return (byProtocol[l.protocol] ?? []).map((kind) => ({ group: GROUP, kind }));
}

/** @param {GatewayWorld} w @param {string} namespace */
function labelsOf(w, namespace) {
    return { ...(w.namespaceLabels[namespace] ?? {}), "kubernetes.io/metadata.name": namespace };
}

/** meta/v1 LabelSelector. @param {any} sel @param {Record<string, string>} labels */
function selects(sel, labels) {
    const byLabels = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    return (
        byLabels &&
        (sel.matchExpressions ?? []).every((/** @type {any} */ e) => {
            const has = e.key in labels;
            if (e.operator === "In") return has && e.values.includes(labels[e.key]);
            if (e.operator === "NotIn") return !has || !e.values.includes(labels[e.key]);
            if (e.operator === "Exists") return has;
            return !has;
        })
    );
}

/** @param {GatewayWorld} w @param {any} listener @param {string} gatewayNamespace @param {string} routeNamespace */
function allowsNamespace(w, listener, gatewayNamespace, routeNamespace) {
    const ns = listener.allowedRoutes?.namespaces ?? {};
    const from = ns.from ?? "Same";
    if (from === "All") return true;
    if (from === "Same") return gatewayNamespace === routeNamespace;
    return from === "Selector" && !!ns.selector && selects(ns.selector, labelsOf(w, routeNamespace));
}

/** @param {string | undefined} listenerHost @param {string[]} routeHosts */
function intersects(listenerHost, routeHosts) {
    if (!listenerHost || routeHosts.length === 0) return true;
    return routeHosts.some((h) => {
        if (listenerHost === h) return true;
        if (listenerHost.startsWith("*.")) return h.endsWith(listenerHost.slice(1)) && h.length > listenerHost.length - 1;
        if (h.startsWith("*.")) return listenerHost.endsWith(h.slice(1));
        return false;
    });
}

/**
 * Every route's parent statuses, and each listener's attached route count, as the controller computes them now.
 * @param {any} kube @returns {{ parents: Map<SimRoute, any[]>, attached: Map<string, number> }}
 */
function translate(kube) {
    const w = world(kube);
    const parents = new Map();
    const attached = new Map();
    for (const route of w.routes) {
        const m = route.manifest;
        const ns = m.metadata.namespace;
        const statuses = [];
        for (const ref of m.spec.parentRefs ?? []) {
            const gwNs = ref.namespace ?? ns;
            const gw = w.gateways.find((g) => g.manifest.metadata.name === ref.name && g.manifest.metadata.namespace === gwNs);
            if (!gw || !w.controller || !reconciled(w, gw.manifest)) continue;
            const conds = [];
            const selected = (gw.manifest.spec.listeners ?? []).filter((/** @type {any} */ l) => !ref.sectionName || l.name === ref.sectionName);
            const allowed = selected.filter(
                (/** @type {any} */ l) => listenerKinds(l).some((/** @type {any} */ k) => k.kind === m.kind) && allowsNamespace(w, l, gwNs, ns),
            );
            const backend = m.spec.rules?.[0]?.backendRefs?.[0];
            const backendNs = backend?.namespace ?? ns;
            const service = backend && kube.services[`${backendNs}/${backend.name}`];
            if (selected.length === 0) conds.push(condition("Accepted", false, "NoMatchingParent", "No listeners match this parent ref", route.generation));
            else if (allowed.length === 0)
                conds.push(
                    condition(
                        "Accepted",
                        false,
                        "NotAllowedByListeners",
                        "No listeners included by this parent ref allowed this attachment.",
                        route.generation,
                    ),
                );
            conds.push(
                !service
                    ? condition("ResolvedRefs", false, "BackendNotFound", `service ${backendNs}/${backend?.name} not found`, route.generation)
                    : !service.ports.some((/** @type {any} */ p) => p.port === backend.port)
                      ? condition(
                            "ResolvedRefs",
                            false,
                            "PortNotFound",
                            `TCP Port ${backend.port} not found on Service ${backendNs}/${backend.name}`,
                            route.generation,
                        )
                      : condition("ResolvedRefs", true, "ResolvedRefs", "Resolved all the Object references for the Route", route.generation),
            );
            if (allowed.length > 0) {
                const hosts = allowed.filter((/** @type {any} */ l) => intersects(l.hostname, m.spec.hostnames ?? []));
                for (const l of hosts) {
                    const key = `${gwNs}/${ref.name}/${l.name}`;
                    attached.set(key, (attached.get(key) ?? 0) + 1);
                }
                conds.unshift(
                    hosts.length === 0
                        ? condition(
                              "Accepted",
                              false,
                              "NoMatchingListenerHostname",
                              `There were no hostname intersections between the ${m.kind} and this parent ref's Listener(s).`,
                              route.generation,
                          )
                        : condition("Accepted", true, "Accepted", "Route is accepted", route.generation),
                );
            }
            statuses.push({ parentRef: { group: GROUP, kind: "Gateway", ...ref }, controllerName: CONTROLLER, conditions: conds });
        }
        parents.set(route, statuses);
    }
    return { parents, attached };
}

/** Envoy Gateway reconciles the Gateway: its class names Envoy Gateway's controller. @param {GatewayWorld} w @param {any} gateway */
function reconciled(w, gateway) {
    return w.classes.some((c) => c.metadata.name === gateway.spec.gatewayClassName && c.spec.controllerName === CONTROLLER);
}

/** @param {any} kube @param {SimGateway} gw @param {number} now @param {Map<string, number>} attached */
function gatewayJson(kube, gw, now, attached) {
    const m = gw.manifest;
    const meta = { ...m.metadata, generation: gw.generation };
    const w = world(kube);
    if (!w.controller || !reconciled(w, m)) return { ...m, metadata: meta, status: { conditions: PENDING } };
    const gen = gw.generation;
    const listeners = (m.spec.listeners ?? []).map((/** @type {any} */ l) => ({
        name: l.name,
        supportedKinds: listenerKinds(l),
        attachedRoutes: attached.get(`${m.metadata.namespace}/${m.metadata.name}/${l.name}`) ?? 0,
        conditions: [
            condition("Programmed", true, "Programmed", "Sending translated listener configuration to the data plane", gen),
            condition("Accepted", true, "Accepted", "Listener has been successfully translated", gen),
            condition("ResolvedRefs", true, "ResolvedRefs", "Listener references have been resolved", gen),
        ],
    }));
    const e = gw.envoy;
    const type = envoyInfra.serviceType(envoyInfra.envoyProxyFor(w, m));
    const nodeIPs = () =>
        kube.nodes.flatMap((/** @type {any} */ n) =>
            (n.addresses ?? []).filter((/** @type {any} */ a) => a.type === "InternalIP").map((/** @type {any} */ a) => a.address),
        );
    const addresses =
        type === "ClusterIP"
            ? [{ type: "IPAddress", value: e.clusterIP }]
            : type === "NodePort"
              ? nodeIPs().map((/** @type {string} */ ip) => ({ type: "IPAddress", value: ip }))
              : e.loadBalancer.map((i) => (i.ip ? { type: "IPAddress", value: i.ip } : { type: "Hostname", value: i.hostname }));
    const replicas = envoyInfra.envoyDeployment(kube, w, gw, now).availableReplicas;
    const programmed =
        addresses.length === 0
            ? condition("Programmed", false, "AddressNotAssigned", "No addresses have been assigned to the Gateway", gen)
            : replicas > 0
              ? condition("Programmed", true, "Programmed", `Address assigned to the Gateway, ${replicas}/1 envoy replicas available`, gen)
              : condition("Programmed", false, "NoResources", "Envoy replicas unavailable", gen);
    return {
        ...m,
        metadata: meta,
        status: {
            ...(addresses.length ? { addresses } : {}),
            conditions: [condition("Accepted", true, "Accepted", "The Gateway has been scheduled by Envoy Gateway", gen), programmed],
            listeners,
        },
    };
}

/**
 * The Gateway API calls of vault-ha's steps; undefined for anything else.
 * @param {any} s the model state (s.kube, s.now) @param {string[]} positional @param {Record<string, string | true>} flags
 * @param {(kube: any, verb: string, resource: string, namespace: string | null, name?: string) => any} forbidden
 * @param {(text: string) => any} fail @param {(body: unknown) => any} ok
 */
function kubectlGateway(s, positional, flags, forbidden, fail, ok) {
    const kube = s.kube;
    const w = world(kube);
    const [verb, kind, name] = positional;
    if (verb === "api-resources" && flags["api-group"] === GROUP) {
        if (flags.o !== "json") return fail("(simulator: vault-ha lists the Gateway API's resources with -o json)");
        const resources = Object.entries(w.served ?? {}).map(([plural, version]) => ({
            name: plural,
            singularName: KINDS[plural].toLowerCase(),
            namespaced: plural !== "gatewayclasses",
            group: GROUP,
            version,
            kind: KINDS[plural],
            verbs: ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
        }));
        return {
            code: 0,
            stdout:
                JSON.stringify({ kind: "APIResourceList", apiVersion: "v1", groupVersion: "", resources: resources.length ? resources : null }, null, 4) + "\n",
            stderr: "",
        };
    }
    if (verb === "get" && kind === "namespaces") {
        const refused = forbidden(kube, "get", "namespaces", null, name);
        if (refused) return refused;
        if (flags.o !== "json") return fail("(simulator: vault-ha reads a namespace as -o json)");
        if (!(name in w.namespaceLabels)) return flags["ignore-not-found"] ? ok("") : fail(`Error from server (NotFound): namespaces "${name}" not found`);
        return ok({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: labelsOf(w, name) }, status: { phase: "Active" } });
    }
    const m = verb === "get" && typeof kind === "string" ? /^(gateways|tlsroutes|httproutes)\.gateway\.networking\.k8s\.io$/.exec(kind) : null;
    if (!m) return undefined;
    const namespace = typeof flags.n === "string" ? flags.n : "default";
    if (!w.served || !(m[1] in w.served)) return fail(`error: the server doesn't have a resource type "${m[1]}"`);
    const refused = forbidden(kube, "get", kind, namespace, name);
    if (refused) return refused;
    if (flags.o !== "json") return fail("(simulator: vault-ha reads Gateway API objects as -o json)");
    const { parents, attached } = translate(kube);
    const notFound = () => (flags["ignore-not-found"] ? ok("") : fail(`Error from server (NotFound): ${kind} "${name}" not found`));
    if (m[1] === "gateways") {
        const gw = w.gateways.find((g) => g.manifest.metadata.name === name && g.manifest.metadata.namespace === namespace);
        return gw ? ok(gatewayJson(kube, gw, s.now, attached)) : notFound();
    }
    const routeKind = m[1] === "tlsroutes" ? "TLSRoute" : "HTTPRoute";
    const route = w.routes.find((r) => r.manifest.kind === routeKind && r.manifest.metadata.name === name && r.manifest.metadata.namespace === namespace);
    if (!route) return notFound();
    const status = { parents: parents.get(route) ?? [] };
    return ok({ ...route.manifest, metadata: { ...route.manifest.metadata, generation: route.generation }, status });
}

module.exports = { applyGatewayObject, emptyGatewayWorld, installGatewayApi, kubectlGateway, BUNDLES };
