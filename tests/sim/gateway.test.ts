/**
 * `ingress: gateway` against the SIMULATOR (tests/doubles/vault/gatewayObjects.js: the Gateway API served per bundle,
 * status as Envoy Gateway v1.9 writes it): cluster-facts reading the Gateway API and the Gateway, decided by the
 * program's existingPlan; and the real gateway-ready step waiting for a Gateway and Vault's TLSRoute, failing fast on
 * a refused route, and explaining a Gateway left without an address (a LoadBalancer on kind). Simulated time.
 */
import { strict as assert } from "assert";
import { existingPlan } from "../../components/cluster/existingPlan";
import { clusterFactsParams } from "../../components/cluster/existingCluster";
import { FixCommands, parseSettings } from "../../components/config/settings";
import type { ClusterFacts } from "../../components/stepCommand/contract";
import { stepEnvironment } from "../../components/stepCommand/contract";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { runClusterStep } from "../doubles/vault/clusterStep";

/* eslint-disable @typescript-eslint/no-require-imports */
const { applyGatewayObject, installGatewayApi } = require("../doubles/vault/gatewayObjects.js");

const HOST = "vault.example.com";
const settings = (raw: Record<string, string> = {}) =>
    parseSettings({ cluster: "existing", kubeContext: "prod", ingress: "gateway", ingressHost: HOST, ...raw }).settings;

const gatewayManifest = (listener: Record<string, unknown> = {}) => ({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "Gateway",
    metadata: { name: "vault-ha", namespace: "envoy-gateway-system" },
    spec: {
        gatewayClassName: "envoy",
        listeners: [{ name: "tls", protocol: "TLS", port: 443, tls: { mode: "Passthrough" }, allowedRoutes: { namespaces: { from: "All" } }, ...listener }],
    },
});
const TLS_ROUTE = {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "TLSRoute",
    metadata: { name: "vault", namespace: "vault" },
    spec: {
        parentRefs: [{ name: "vault-ha", namespace: "envoy-gateway-system" }],
        hostnames: [HOST],
        rules: [{ backendRefs: [{ name: "vault-active", port: 8200 }] }],
    },
};
const READY_ENV = stepEnvironment("gateway-ready", {
    gatewayName: "vault-ha",
    gatewayNamespace: "envoy-gateway-system",
    routeKind: "TLSRoute",
    routeName: "vault",
    routeNamespace: "vault",
    timeoutSeconds: 300,
});

describe("ingress gateway against the simulator", function () {
    before(function () {
        requireRenderedPods(this);
    });
    this.timeout(60_000);
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    async function factsAndPlan(raw: Record<string, string> = {}) {
        const s = settings(raw);
        const run = await sim.runStep("cluster-facts", { env: stepEnvironment("cluster-facts", clusterFactsParams(s)) });
        assert.equal(run.code, 0, run.stderr);
        const facts: ClusterFacts = JSON.parse(run.stdout);
        return { facts, plan: existingPlan(s, facts, "o", new FixCommands("prod")) };
    }

    describe("cluster-facts and the plan", () => {
        it("Gateway API v1.6.1 and a passthrough listener: TLSRoute v1 served, the Gateway read, Vault's route decided", async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                installGatewayApi(s.kube, "v1.6.1");
                applyGatewayObject(s.kube, gatewayManifest());
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
                applyGatewayObject(s.kube, gatewayManifest());
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
            assert.match((await factsAndPlan()).plan.problems[0].what, /Gateway envoy-gateway-system\/vault-ha does not exist/);
        });

        it("a namespace selector: Vault's namespace is read, and its labels decide", async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                installGatewayApi(s.kube, "v1.6.1");
                applyGatewayObject(
                    s.kube,
                    gatewayManifest({ allowedRoutes: { namespaces: { from: "Selector", selector: { matchLabels: { shared: "yes" } } } } }),
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
                applyGatewayObject(s.kube, gatewayManifest());
                s.kube.forbidden.push("get gateways.gateway.networking.k8s.io envoy-gateway-system");
            });
            const { facts, plan } = await factsAndPlan();
            assert.equal(facts.gateway?.exists, undefined);
            assert.match(facts.unreadable[0].message, /kubectl auth can-i get gateways\.gateway\.networking\.k8s\.io -n envoy-gateway-system/);
            assert.deepEqual(plan.problems, []);
            assert.match(plan.warnings.map((w) => w.what).join("\n"), /could not be read/);
        });
    });

    describe("gateway-ready", () => {
        it("waits for the Envoy replica, then answers the address and the listener's attached routes", async () => {
            sim = await Simulation.create();
            const start = sim.clock.now();
            sim.change((s) => {
                installGatewayApi(s.kube, "v1.6.1");
                applyGatewayObject(s.kube, gatewayManifest(), { serviceType: "ClusterIP", availableAt: s.now + 45_000 });
                applyGatewayObject(s.kube, TLS_ROUTE);
            });
            const run = await runClusterStep(sim, "gateway-ready", READY_ENV);
            assert.equal(run.code, 0, run.stderr);
            const result = JSON.parse(run.stdout);
            assert.equal(result.listeners.length, 1);
            assert.deepEqual(result.listeners[0], { name: "tls", attachedRoutes: 1 });
            assert.match(result.addresses[0], /^10\.96\./);
            assert.ok(sim.clock.now() - start >= 45_000, "it waited for Programmed (NoResources until the replica)");
        });

        it("fails at once when the listener does not admit the route (NotAllowedByListeners), naming allowedRoutes", async () => {
            sim = await Simulation.create();
            const start = sim.clock.now();
            sim.change((s) => {
                installGatewayApi(s.kube, "v1.6.1");
                applyGatewayObject(s.kube, gatewayManifest({ allowedRoutes: { namespaces: { from: "Same" } } }), { serviceType: "ClusterIP" });
                applyGatewayObject(s.kube, TLS_ROUTE);
            });
            const run = await runClusterStep(sim, "gateway-ready", READY_ENV);
            assert.notEqual(run.code, 0);
            assert.match(
                run.stderr,
                /refuses TLSRoute vault\/vault \(NotAllowedByListeners: No listeners included by this parent ref allowed this attachment\.\)/,
            );
            assert.match(run.stderr, /allowedRoutes/);
            assert.ok(sim.clock.now() - start < 10_000, "no wait for a verdict");
        });

        it("a Gateway without an address (AddressNotAssigned: a LoadBalancer nothing serves, as on kind) times out saying so", async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                installGatewayApi(s.kube, "v1.6.1");
                applyGatewayObject(s.kube, gatewayManifest(), { serviceType: "LoadBalancer" });
                applyGatewayObject(s.kube, TLS_ROUTE);
            });
            const run = await runClusterStep(sim, "gateway-ready", { ...READY_ENV, VAULT_HA_TIMEOUT_SECONDS: "120" });
            assert.notEqual(run.code, 0);
            assert.match(run.stderr, /timed out after \d+s waiting for Gateway envoy-gateway-system\/vault-ha to be accepted and programmed/);
            assert.match(run.stderr, /AddressNotAssigned \(No addresses have been assigned to the Gateway\)/);
            assert.match(run.stderr, /LoadBalancer that no load balancer controller serves \(kind has none\)/);
        });

        it("no controller (status as the CRD defaults it) times out asking whether the GatewayClass's controller runs", async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                installGatewayApi(s.kube, "v1.6.1");
                applyGatewayObject(s.kube, gatewayManifest(), { serviceType: "ClusterIP" });
                applyGatewayObject(s.kube, TLS_ROUTE);
                s.kube.gatewayWorld.controller = false;
            });
            const run = await runClusterStep(sim, "gateway-ready", { ...READY_ENV, VAULT_HA_TIMEOUT_SECONDS: "60" });
            assert.notEqual(run.code, 0);
            assert.match(run.stderr, /not accepted yet \(Pending: Waiting for controller\)/);
        });
    });
});
