/**
 * `ingress: gateway` against the SIMULATOR (tests/doubles/vault/gatewayObjects.js: the Gateway API served per bundle,
 * status as Envoy Gateway v1.9 writes it; envoyInfra.js and podScheduling.js: Envoy's Deployment and where the
 * scheduler puts its pod): cluster-facts reading the Gateway API and the user's Gateway, decided by the program's
 * existingPlan; and the real gateway-ready step against the program's own objects (components/gateway/
 * gatewayManifests.ts) on kind and on a user's Gateway, with and without TLS. Simulated time.
 */
import { strict as assert } from "assert";
import { existingPlan } from "../../components/cluster/existingPlan";
import { vaultRouteKind } from "../../components/cluster/gatewayFacts";
import { clusterFactsParams } from "../../components/cluster/existingCluster";
import { FixCommands, parseSettings } from "../../components/config/settings";
import {
    envoyProxyManifest,
    gatewayClassManifest,
    gatewayManifest,
    type GatewayTarget,
    GATEWAY_CONTROLLER_NAME,
    vaultRouteManifest,
    VAULT_ROUTE_NAME,
    whoamiRouteManifest,
    WHOAMI_ROUTE_NAME,
} from "../../components/gateway/gatewayManifests";
import { ingressNginxValues } from "../../components/ingress/ingressNginxValues";
import { buildKindConfig } from "../../components/kind/kindConfig";
import type { ClusterFacts } from "../../components/stepCommand/contract";
import { stepEnvironment } from "../../components/stepCommand/contract";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { runClusterStep } from "../doubles/vault/clusterStep";

/* eslint-disable @typescript-eslint/no-require-imports */
const { applyGatewayObject, installGatewayApi } = require("../doubles/vault/gatewayObjects.js");
const { envoyDeployment } = require("../doubles/vault/envoyInfra.js");
const { labelKindNodes, runHostPortPod, stopHostPortPod } = require("../doubles/vault/podScheduling.js");

const HOST = "vault.example.com";
const VAULT_NS = "vault";
const WHOAMI_NS = "whoami";
const USER_GATEWAY = { name: "shared", namespace: "gateways" };
const KIND_GATEWAY = { name: "vault-ha", namespace: "envoy-gateway-system" };
const LB_ADDRESS = "203.0.113.10";

const existingSettings = (raw: Record<string, string> = {}) =>
    // whoami's listener check is unit-tested (tests/unit/cluster/gatewayFacts.test.ts); here Vault's route alone is decided.
    parseSettings({ cluster: "existing", kubeContext: "prod", ingress: "gateway", ingressHost: HOST, whoami: "false", ...raw }).settings;

/** A Gateway the cluster's owner made, with their own class served by Envoy Gateway. */
const userGateway = (listeners: Record<string, unknown>[]) => ({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "Gateway",
    metadata: USER_GATEWAY,
    spec: { gatewayClassName: "shared", listeners },
});
const USER_CLASS = {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "GatewayClass",
    metadata: { name: "shared" },
    spec: { controllerName: GATEWAY_CONTROLLER_NAME },
};
const FROM_ALL = { namespaces: { from: "All" } };
const USER_TLS = { name: "tls", protocol: "TLS", port: 443, tls: { mode: "Passthrough" }, allowedRoutes: FROM_ALL };
const USER_HTTP = { name: "web", protocol: "HTTP", port: 80, allowedRoutes: FROM_ALL };

/** gateway-ready's parameters as VaultRoute (components/gateway/vaultRoute.ts) passes them, for Vault's route or whoami's. */
function readyEnv(gateway: { name: string; namespace: string }, route: { kind: string; name: string; namespace: string }, timeoutSeconds = 300) {
    return stepEnvironment("gateway-ready", {
        gatewayName: gateway.name,
        gatewayNamespace: gateway.namespace,
        routeKind: route.kind,
        routeName: route.name,
        routeNamespace: route.namespace,
        timeoutSeconds,
    });
}
const vaultRoute = (tls: boolean) => ({ kind: vaultRouteKind(tls), name: VAULT_ROUTE_NAME, namespace: VAULT_NS });
const WHOAMI_ROUTE = { kind: "HTTPRoute", name: WHOAMI_ROUTE_NAME, namespace: WHOAMI_NS };

/** whoami's Service as components/ingress/whoami.ts makes it. */
function addWhoamiService(s: any) {
    s.kube.services[`${WHOAMI_NS}/whoami`] = {
        type: "ClusterIP",
        selector: { app: "whoami" },
        ports: [{ name: "http", port: 80, targetPort: 80 }],
        labels: {},
        loadBalancer: null,
    };
}

/** The routes the program applies to a Gateway: Vault's and whoami's (with Vault's host on an existing cluster). */
function applyRoutes(s: any, tls: boolean, gateway: GatewayTarget) {
    addWhoamiService(s);
    applyGatewayObject(s, vaultRouteManifest({ tls, ingressHost: HOST, vaultNamespace: VAULT_NS, gateway }));
    applyGatewayObject(s, whoamiRouteManifest({ whoamiNamespace: WHOAMI_NS, gateway, ...(gateway.cluster === "existing" ? { host: HOST } : {}) }));
}

/**
 * vault-ha's front door on kind as the program creates it (components/gateway/envoyGateway.ts): the nodes labelled by
 * the program's kind config, Envoy Gateway's bundle, the EnvoyProxy, the GatewayClass and the Gateway, then the routes.
 */
function kindFrontDoor(
    s: any,
    tls: boolean,
    envoy: { startMs?: number } = {},
    gateway = gatewayManifest({ tls, ingressHost: HOST, vaultNamespace: VAULT_NS, whoamiNamespace: WHOAMI_NS }),
) {
    labelAsKind(s);
    installGatewayApi(s.kube, "v1.6.1");
    applyGatewayObject(s, envoyProxyManifest());
    applyGatewayObject(s, gatewayClassManifest());
    applyGatewayObject(s, gateway, envoy);
    applyRoutes(s, tls, { cluster: "kind" });
}

/** The nodes' labels as the program's kind config gives them (the ingress-ready control plane). */
function labelAsKind(s: any) {
    labelKindNodes(s.kube, buildKindConfig(parseSettings({ ingress: "gateway", ingressHost: HOST }).settings));
}

/** ingress-nginx's controller as its chart places it from the program's kind values: host ports 80/443 on the ingress-ready node. */
const INGRESS_NGINX_POD = "ingress-nginx-controller-5c8d66c76d-x7k2p";
function runIngressNginx(s: any) {
    const controller = (ingressNginxValues("kind") as any).controller;
    runHostPortPod(s, {
        namespace: "ingress-nginx",
        name: INGRESS_NGINX_POD,
        nodeSelector: controller.nodeSelector,
        tolerations: controller.tolerations,
        // The chart's controller-deployment.yaml: hostPort from controller.hostPort.ports per container port, TCP.
        hostPorts: Object.values(controller.hostPort.ports as Record<string, number>).map((hostPort) => ({ hostPort, protocol: "TCP" })),
    });
}

describe("ingress gateway against the simulator", function () {
    before(function () {
        requireRenderedPods(this);
    });
    this.timeout(60_000);
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    async function factsAndPlan(raw: Record<string, string> = {}) {
        const s = existingSettings({ gatewayName: USER_GATEWAY.name, gatewayNamespace: USER_GATEWAY.namespace, ...raw });
        const run = await sim.runStep("cluster-facts", { env: stepEnvironment("cluster-facts", clusterFactsParams(s)) });
        assert.equal(run.code, 0, run.stderr);
        const facts: ClusterFacts = JSON.parse(run.stdout);
        return { facts, plan: existingPlan(s, facts, "o", new FixCommands("prod")) };
    }

    async function ready(env: Record<string, string>) {
        const run = await runClusterStep(sim, "gateway-ready", env);
        assert.equal(run.code, 0, run.stderr);
        return JSON.parse(run.stdout);
    }

    describe("cluster-facts and the plan", () => {
        it("Gateway API v1.6.1 and a passthrough listener: TLSRoute v1 served, the Gateway read, Vault's route decided", async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                installGatewayApi(s.kube, "v1.6.1");
                applyGatewayObject(s, userGateway([USER_TLS]));
            });
            const { facts, plan } = await factsAndPlan();
            assert.equal(facts.gateway?.served?.tlsroutes, "v1");
            assert.equal(facts.gateway?.exists, true);
            assert.deepEqual(facts.gateway?.listeners, [{ name: "tls", protocol: "TLS", port: 443, tlsMode: "Passthrough", allowedRoutes: { from: "All" } }]);
            assert.deepEqual(plan.problems, []);
            assert.ok(plan.decided.some((d) => /takes Vault's TLSRoute on listener tls/.test(d.what)));
        });

        it("Gateway API v1.4 (TLSRoute v1alpha3 only) is refused before anything is created; standard v1.4 has none", async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                installGatewayApi(s.kube, "v1.4.1-experimental");
                applyGatewayObject(s, userGateway([USER_TLS]));
            });
            const old = await factsAndPlan();
            assert.equal(old.facts.gateway?.served?.tlsroutes, "v1alpha3");
            assert.match(old.plan.problems[0].what, /serves TLSRoute only as v1alpha3/);
            sim.change((s) => installGatewayApi(s.kube, "v1.4.1-standard"));
            assert.match((await factsAndPlan()).plan.problems[0].what, /has no TLSRoute/);
        });

        it("no Gateway API at all, and a Gateway that is not there", async () => {
            sim = await Simulation.create();
            const none = await factsAndPlan();
            assert.deepEqual(none.facts.gateway?.served, {});
            assert.match(none.plan.problems[0].what, /does not serve the Gateway API/);
            sim.change((s) => installGatewayApi(s.kube, "v1.6.1"));
            assert.match((await factsAndPlan()).plan.problems[0].what, /Gateway gateways\/shared does not exist/);
        });

        it("a namespace selector: Vault's namespace is read, and its labels decide", async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                installGatewayApi(s.kube, "v1.6.1");
                applyGatewayObject(
                    s,
                    userGateway([{ ...USER_TLS, allowedRoutes: { namespaces: { from: "Selector", selector: { matchLabels: { shared: "yes" } } } } }]),
                );
                s.kube.gatewayWorld.namespaceLabels.vault = {};
            });
            const refused = await factsAndPlan();
            assert.deepEqual(refused.facts.gateway?.vaultNamespace, { name: "vault", exists: true, labels: { "kubernetes.io/metadata.name": "vault" } });
            assert.match(refused.plan.problems[0].fix, /kubectl label namespace vault shared=yes/);
            sim.change((s) => (s.kube.gatewayWorld.namespaceLabels.vault = { shared: "yes" }));
            assert.deepEqual((await factsAndPlan()).plan.problems, []);
        });

        it("a Gateway the user may not read is a warning with its `kubectl auth can-i`, not a refusal", async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                installGatewayApi(s.kube, "v1.6.1");
                applyGatewayObject(s, userGateway([USER_TLS]));
                s.kube.forbidden.push("get gateways.gateway.networking.k8s.io gateways");
            });
            const { facts, plan } = await factsAndPlan();
            assert.equal(facts.gateway?.exists, undefined);
            assert.match(facts.unreadable[0].message, /kubectl auth can-i get gateways\.gateway\.networking\.k8s\.io -n gateways/);
            assert.deepEqual(plan.problems, []);
            assert.match(plan.warnings.map((w) => w.what).join("\n"), /could not be read/);
        });
    });

    describe("gateway-ready with the program's objects", () => {
        for (const tls of [true, false]) {
            const vault = vaultRoute(tls);
            // Upstream counts a route once on each listener of its parent ref whose hostnames intersect its own
            // (envoyproxy/gateway v1.9.0 internal/gatewayapi/route.go, contexts.go IncrementAttachedRoutes).
            const httpRoutes = tls ? 1 : 2;

            it(`kind, TLS ${tls ? "on" : "off"}: Vault's ${vault.kind} ready on listener ${tls ? "vault-tls" : "http"}, whoami's HTTPRoute on http`, async () => {
                sim = await Simulation.create();
                sim.change((s) => kindFrontDoor(s, tls));
                const result = await ready(readyEnv(KIND_GATEWAY, vault));
                assert.deepEqual(result.listeners, [tls ? { name: "vault-tls", attachedRoutes: 1 } : { name: "http", attachedRoutes: httpRoutes }]);
                assert.match(result.addresses[0], /^10\.96\./, "the EnvoyProxy's ClusterIP Service gives the address");
                assert.deepEqual((await ready(readyEnv(KIND_GATEWAY, WHOAMI_ROUTE))).listeners, [{ name: "http", attachedRoutes: httpRoutes }]);
            });

            it(`an existing cluster, TLS ${tls ? "on" : "off"}: the user's Gateway found fit, then Vault's ${vault.kind} and whoami's HTTPRoute ready on it`, async () => {
                sim = await Simulation.create();
                sim.change((s) => {
                    installGatewayApi(s.kube, "v1.6.1");
                    applyGatewayObject(s, USER_CLASS);
                    applyGatewayObject(s, userGateway([USER_HTTP, USER_TLS]), { loadBalancer: [{ ip: LB_ADDRESS }] });
                });
                const { plan } = await factsAndPlan({ tls: String(tls) });
                assert.deepEqual(plan.problems, []);
                sim.change((s) => applyRoutes(s, tls, { cluster: "existing", gatewayName: USER_GATEWAY.name, gatewayNamespace: USER_GATEWAY.namespace }));
                const result = await ready(readyEnv(USER_GATEWAY, vault));
                assert.deepEqual(result, {
                    addresses: [LB_ADDRESS],
                    listeners: [tls ? { name: "tls", attachedRoutes: 1 } : { name: "web", attachedRoutes: httpRoutes }],
                });
                assert.deepEqual((await ready(readyEnv(USER_GATEWAY, WHOAMI_ROUTE))).listeners, [{ name: "web", attachedRoutes: httpRoutes }]);
            });
        }

        it("kind: waits while Envoy's replica starts (Programmed False/NoResources), then answers", async () => {
            sim = await Simulation.create();
            const start = sim.clock.now();
            sim.change((s) => kindFrontDoor(s, true, { startMs: 45_000 }));
            await ready(readyEnv(KIND_GATEWAY, vaultRoute(true)));
            assert.ok(sim.clock.now() - start >= 45_000, "it waited for Programmed");
        });

        it("kind: Envoy stays Pending while ingress-nginx holds host ports 80/443 on the ingress-ready node; the step times out, and succeeds once it is gone", async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                labelAsKind(s);
                runIngressNginx(s);
                kindFrontDoor(s, true);
            });
            sim.change((s) => {
                const w = s.kube.gatewayWorld;
                assert.deepEqual(envoyDeployment(s.kube, w, w.gateways[0], s.now), {
                    availableReplicas: 0,
                    pending:
                        "0/4 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 3 node(s) didn't match Pod's node affinity/selector.",
                });
            });
            const run = await runClusterStep(sim, "gateway-ready", { ...readyEnv(KIND_GATEWAY, vaultRoute(true)), VAULT_HA_TIMEOUT_SECONDS: "120" });
            assert.notEqual(run.code, 0);
            assert.match(run.stderr, /timed out after \d+s waiting for Gateway envoy-gateway-system\/vault-ha to be accepted and programmed/);
            assert.match(run.stderr, /not programmed yet \(NoResources: Envoy replicas unavailable\)/);
            sim.change((s) => stopHostPortPod(s, INGRESS_NGINX_POD));
            await ready(readyEnv(KIND_GATEWAY, vaultRoute(true)));
        });

        it("kind: Vault's Service missing: ResolvedRefs False/BackendNotFound stops the step at once", async () => {
            sim = await Simulation.create();
            const start = sim.clock.now();
            sim.change((s) => {
                kindFrontDoor(s, true);
                delete s.kube.services[`${VAULT_NS}/vault-active`];
            });
            const run = await runClusterStep(sim, "gateway-ready", readyEnv(KIND_GATEWAY, vaultRoute(true)));
            assert.notEqual(run.code, 0);
            assert.match(run.stderr, /TLSRoute vault\/vault names a backend that does not exist \(BackendNotFound: service vault\/vault-active not found\)/);
            assert.ok(sim.clock.now() - start < 10_000, "no wait for a verdict");
        });

        it("the program's Gateway without its EnvoyProxy (a LoadBalancer, AddressNotAssigned on kind) times out saying so", async () => {
            sim = await Simulation.create();
            const gateway = gatewayManifest({ tls: true, ingressHost: HOST, vaultNamespace: VAULT_NS, whoamiNamespace: WHOAMI_NS });
            delete gateway.spec.infrastructure;
            sim.change((s) => kindFrontDoor(s, true, {}, gateway));
            const run = await runClusterStep(sim, "gateway-ready", { ...readyEnv(KIND_GATEWAY, vaultRoute(true)), VAULT_HA_TIMEOUT_SECONDS: "120" });
            assert.notEqual(run.code, 0);
            assert.match(run.stderr, /timed out after \d+s waiting for Gateway envoy-gateway-system\/vault-ha to be accepted and programmed/);
            assert.match(run.stderr, /AddressNotAssigned \(No addresses have been assigned to the Gateway\)/);
            assert.match(run.stderr, /LoadBalancer that no load balancer controller serves \(kind has none\)/);
        });

        it("no controller (status as the CRD defaults it) times out asking whether the GatewayClass's controller runs", async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                kindFrontDoor(s, true);
                s.kube.gatewayWorld.controller = false;
            });
            const run = await runClusterStep(sim, "gateway-ready", { ...readyEnv(KIND_GATEWAY, vaultRoute(true)), VAULT_HA_TIMEOUT_SECONDS: "60" });
            assert.notEqual(run.code, 0);
            assert.match(run.stderr, /not accepted yet \(Pending: Waiting for controller\)/);
        });

        it("a user's listener that does not admit Vault's namespace (NotAllowedByListeners) fails at once, naming allowedRoutes", async () => {
            sim = await Simulation.create();
            const start = sim.clock.now();
            sim.change((s) => {
                installGatewayApi(s.kube, "v1.6.1");
                applyGatewayObject(s, USER_CLASS);
                applyGatewayObject(s, userGateway([{ ...USER_TLS, allowedRoutes: { namespaces: { from: "Same" } } }]), { loadBalancer: [{ ip: LB_ADDRESS }] });
                applyRoutes(s, true, { cluster: "existing", gatewayName: USER_GATEWAY.name, gatewayNamespace: USER_GATEWAY.namespace });
            });
            const run = await runClusterStep(sim, "gateway-ready", readyEnv(USER_GATEWAY, vaultRoute(true)));
            assert.notEqual(run.code, 0);
            assert.match(
                run.stderr,
                /refuses TLSRoute vault\/vault \(NotAllowedByListeners: No listeners included by this parent ref allowed this attachment\.\)/,
            );
            assert.match(run.stderr, /allowedRoutes/);
            assert.ok(sim.clock.now() - start < 10_000, "no wait for a verdict");
        });
    });
});
