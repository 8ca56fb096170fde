/**
 * Whether an existing cluster's Gateway can take Vault's route (components/cluster/gatewayFacts.ts), decided from the
 * facts alone: every refusal, every "not checked" warning, and the matching rules (hostnames, label selectors, kinds).
 */
import { strict as assert } from "assert";
import { existingPlan } from "../../../components/cluster/existingPlan";
import { admissionRefusal, gatewayPlan, hostnameMatches, listenersOf, listenerTakesKind, selectorMatches } from "../../../components/cluster/gatewayFacts";
import { FixCommands, parseSettings } from "../../../components/config/settings";
import type { ClusterFacts, GatewayFacts, GatewayListenerFact } from "../../../components/stepCommand/contract";

const settings = (raw: Record<string, string> = {}) =>
    // whoami's own listener check has its test below: off here, so that each test looks at Vault's route alone.
    parseSettings({ cluster: "existing", kubeContext: "prod", ingress: "gateway", ingressHost: "vault.example.com", whoami: "false", ...raw }).settings;
const fixes = new FixCommands("prod");

const passthrough = (change: Partial<GatewayListenerFact> = {}): GatewayListenerFact => ({
    name: "tls",
    protocol: "TLS",
    port: 443,
    tlsMode: "Passthrough",
    allowedRoutes: { from: "All" },
    ...change,
});
const GATEWAY: GatewayFacts = {
    name: "vault-ha",
    namespace: "envoy-gateway-system",
    served: { gateways: "v1", httproutes: "v1", tlsroutes: "v1" },
    exists: true,
    listeners: [passthrough()],
};
const facts = (gateway: Partial<GatewayFacts> | undefined, unreadable: ClusterFacts["unreadable"] = []) => ({
    gateway: gateway === undefined ? undefined : { ...GATEWAY, ...gateway },
    unreadable,
});
const plan = (gateway: Partial<GatewayFacts> | undefined, raw: Record<string, string> = {}, unreadable: ClusterFacts["unreadable"] = []) =>
    gatewayPlan(settings(raw), facts(gateway, unreadable), fixes);

describe("gatewayFacts: the matching rules of Gateway API v1", () => {
    it("hostnames: none takes any, exact matches, a wildcard is a suffix match of one label or more", () => {
        assert.equal(hostnameMatches(undefined, "vault.example.com"), true);
        assert.equal(hostnameMatches("vault.example.com", "vault.example.com"), true);
        assert.equal(hostnameMatches("VAULT.example.com", "vault.example.com"), true);
        assert.equal(hostnameMatches("other.example.com", "vault.example.com"), false);
        assert.equal(hostnameMatches("*.example.com", "vault.example.com"), true);
        assert.equal(hostnameMatches("*.example.com", "a.vault.example.com"), true);
        assert.equal(hostnameMatches("*.example.com", "example.com"), false);
        assert.equal(hostnameMatches("*.example.com", "vaultexample.com"), false);
    });

    it("label selectors: matchLabels and each matchExpressions operator; an empty selector selects all", () => {
        const labels = { "kubernetes.io/metadata.name": "vault", team: "sec" };
        assert.equal(selectorMatches({}, labels), true);
        assert.equal(selectorMatches({ matchLabels: { team: "sec" } }, labels), true);
        assert.equal(selectorMatches({ matchLabels: { team: "web" } }, labels), false);
        assert.equal(selectorMatches({ matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["vault", "x"] }] }, labels), true);
        assert.equal(selectorMatches({ matchExpressions: [{ key: "team", operator: "NotIn", values: ["sec"] }] }, labels), false);
        assert.equal(selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["a"] }] }, labels), true, "NotIn holds without the key");
        assert.equal(selectorMatches({ matchExpressions: [{ key: "team", operator: "Exists" }] }, labels), true);
        assert.equal(selectorMatches({ matchExpressions: [{ key: "team", operator: "DoesNotExist" }] }, labels), false);
        assert.equal(selectorMatches({ matchExpressions: [{ key: "tier", operator: "In", values: ["a"] }] }, labels), false);
    });

    it("kinds: the protocol's own when allowedRoutes.kinds is empty, else the list (group defaulting to the Gateway API's)", () => {
        assert.equal(listenerTakesKind(passthrough(), "TLSRoute"), true);
        assert.equal(listenerTakesKind(passthrough(), "HTTPRoute"), false);
        assert.equal(listenerTakesKind(passthrough({ protocol: "HTTP", tlsMode: undefined }), "HTTPRoute"), true);
        assert.equal(listenerTakesKind(passthrough({ allowedRoutes: { from: "All", kinds: [{ kind: "TCPRoute" }] } }), "TLSRoute"), false);
        assert.equal(listenerTakesKind(passthrough({ allowedRoutes: { from: "All", kinds: [{ kind: "TLSRoute" }] } }), "TLSRoute"), true);
        assert.equal(
            listenerTakesKind(passthrough({ allowedRoutes: { from: "All", kinds: [{ group: "example.com", kind: "TLSRoute" }] } }), "TLSRoute"),
            false,
        );
    });

    it("reads listeners with the API server's defaults: from Same, tls.mode Terminate", () => {
        const [l] = listenersOf({ spec: { listeners: [{ name: "https", protocol: "HTTPS", port: 443, tls: {} }] } });
        assert.deepEqual(l, { name: "https", protocol: "HTTPS", port: 443, tlsMode: "Terminate", allowedRoutes: { from: "Same" } });
    });

    it("namespaces: Same admits the Gateway's own namespace only; Selector without known labels cannot be told", () => {
        const same = passthrough({ allowedRoutes: { from: "Same" } });
        assert.equal(admissionRefusal(same, "vault", "vault", undefined, "TLSRoute"), "");
        assert.match(admissionRefusal(same, "gw", "vault", undefined, "TLSRoute") ?? "", /own namespace gw only/);
        const selector = passthrough({ allowedRoutes: { from: "Selector", selector: { matchLabels: { gateway: "yes" } } } });
        assert.equal(admissionRefusal(selector, "gw", "vault", undefined, "TLSRoute"), undefined);
        assert.equal(admissionRefusal(selector, "gw", "vault", { gateway: "yes" }, "TLSRoute"), "");
        assert.match(admissionRefusal(passthrough({ allowedRoutes: { from: "Selector" } }), "gw", "vault", {}, "TLSRoute") ?? "", /without a selector/);
    });
});

describe("gatewayPlan: the existing Gateway, before anything is created", () => {
    it("says nothing when the ingress is not a Gateway", () => {
        assert.deepEqual(gatewayPlan(settings({ ingress: "existing" }), facts(GATEWAY), fixes), { decided: [], warnings: [], problems: [] });
    });

    it("decides a TLS passthrough listener that admits Vault's namespace", () => {
        const p = plan({});
        assert.deepEqual(p.problems, []);
        assert.deepEqual(p.warnings, []);
        assert.match(p.decided[0].what, /Gateway envoy-gateway-system\/vault-ha takes Vault's TLSRoute on listener tls \(TLS Passthrough port 443\)/);
    });

    it("refuses when the Gateway API is not installed, naming the install and the other ingress", () => {
        const [p] = plan({ served: {}, exists: false }).problems;
        assert.match(p.what, /does not serve the Gateway API/);
        assert.match(p.fix, /standard-install\.yaml/);
        assert.match(p.fix, /set vault-ha:ingress existing to use an Ingress class/);
    });

    it("refuses a Gateway API older than v1.5 (TLSRoute v1alpha3 only, or none), with the upgrade and the safe-upgrades policy", () => {
        const [old] = plan({ served: { gateways: "v1", httproutes: "v1", tlsroutes: "v1alpha3" } }).problems;
        assert.match(old.what, /serves TLSRoute only as v1alpha3 \(TLSRoute v1 came with Gateway API v1\.5\)/);
        assert.match(old.fix, /v1\.5 or newer/);
        assert.match(old.fix, /safe-upgrades ValidatingAdmissionPolicy/);
        assert.match(old.fix, /restart the Gateway controller/);
        const [none] = plan({ served: { gateways: "v1", httproutes: "v1" } }).problems;
        assert.match(none.what, /has no TLSRoute/);
        const http = passthrough({ name: "http", protocol: "HTTP", port: 80, tlsMode: undefined });
        assert.deepEqual(plan({ served: { gateways: "v1", httproutes: "v1" }, listeners: [http] }, { tls: "false" }).problems, [], "without TLS an HTTPRoute");
    });

    it("refuses a Gateway that does not exist, with the command that lists them and the two settings", () => {
        const [p] = plan({ exists: false, listeners: undefined }).problems;
        assert.match(p.what, /Gateway envoy-gateway-system\/vault-ha does not exist/);
        assert.match(p.fix, /kubectl get gateways\.gateway\.networking\.k8s\.io --all-namespaces/);
        assert.match(p.fix, /vault-ha:gatewayName <its name>.*vault-ha:gatewayNamespace <its namespace>/);
    });

    it("refuses when no listener fits: Terminate, the wrong protocol, another hostname", () => {
        for (const listener of [
            passthrough({ tlsMode: "Terminate" }),
            passthrough({ protocol: "HTTPS" }),
            passthrough({ hostname: "*.other.org" }),
            passthrough({ hostname: "example.com" }),
        ]) {
            const [p] = plan({ listeners: [listener] }).problems;
            assert.match(
                p.what,
                /none of the Gateway envoy-gateway-system\/vault-ha's listeners can take Vault's TLSRoute: it needs protocol TLS with tls\.mode Passthrough/,
            );
            assert.match(p.fix, /tls: \{mode: Passthrough\}/);
        }
        assert.deepEqual(plan({ listeners: [passthrough({ hostname: "*.example.com" })] }).problems, [], "a wildcard listener takes the host");
    });

    it("without TLS: an HTTP listener, and a TLS one does not do", () => {
        const http = passthrough({ name: "http", protocol: "HTTP", port: 80, tlsMode: undefined });
        assert.deepEqual(plan({ listeners: [http] }, { tls: "false" }).problems, []);
        const [p] = plan({ listeners: [passthrough()] }, { tls: "false" }).problems;
        assert.match(p.what, /can take Vault's HTTPRoute: it needs protocol HTTP/);
    });

    it("refuses a listener that does not admit Vault's namespace or kind, saying which and how to widen it", () => {
        const [same] = plan({ listeners: [passthrough({ allowedRoutes: { from: "Same" } })] }).problems;
        assert.match(same.what, /does not admit it from namespace vault: tls: it admits routes from its own namespace envoy-gateway-system only/);
        assert.match(same.fix, /namespaces: \{from: All\}/);
        assert.deepEqual(
            plan({ namespace: "vault", listeners: [passthrough({ allowedRoutes: { from: "Same" } })] }, { gatewayNamespace: "vault" }).problems,
            [],
        );
        const [kinds] = plan({ listeners: [passthrough({ allowedRoutes: { from: "All", kinds: [{ kind: "TCPRoute" }] } })] }).problems;
        assert.match(kinds.what, /allowedRoutes\.kinds \(TCPRoute\) do not include TLSRoute/);
    });

    it("a namespace selector is matched against Vault's namespace's labels, kubernetes.io/metadata.name always among them", () => {
        const byName = passthrough({
            allowedRoutes: { from: "Selector", selector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["vault"] }] } },
        });
        assert.deepEqual(plan({ listeners: [byName], vaultNamespace: { name: "vault", exists: false, labels: {} } }).problems, [], "not created yet");
        const byLabel = passthrough({ allowedRoutes: { from: "Selector", selector: { matchLabels: { "gateway-access": "true" } } } });
        assert.deepEqual(plan({ listeners: [byLabel], vaultNamespace: { name: "vault", exists: true, labels: { "gateway-access": "true" } } }).problems, []);
        const [p] = plan({ listeners: [byLabel], vaultNamespace: { name: "vault", exists: true, labels: {} } }).problems;
        assert.match(p.what, /does not select namespace vault/);
        assert.match(p.fix, /`kubectl label namespace vault gateway-access=true`/);
        const [notYet] = plan({ listeners: [byLabel], vaultNamespace: { name: "vault", exists: false, labels: {} } }).problems;
        assert.doesNotMatch(notYet.fix, /kubectl label/, "a namespace that does not exist yet cannot be labelled");
    });

    it("what could not be read is a warning, never a refusal", () => {
        const discovery = { verb: "get", resource: "the API discovery documents", scope: "cluster", message: "cannot get discovery" };
        assert.match(plan({ served: undefined }, {}, [discovery]).warnings[0].what, /could not be listed.*cannot get discovery/);
        const gw = { verb: "get", resource: "gateways.gateway.networking.k8s.io", scope: "envoy-gateway-system", message: "cannot get gateways" };
        const hidden = plan({ exists: undefined, listeners: undefined }, {}, [gw]);
        assert.deepEqual(hidden.problems, []);
        assert.match(hidden.warnings[0].what, /could not be read.*cannot get gateways/);
        const selector = passthrough({ allowedRoutes: { from: "Selector", selector: { matchLabels: { a: "b" } } } });
        const ns = { verb: "get", resource: "namespaces", scope: "cluster", message: "cannot get namespaces" };
        const unknown = plan({ listeners: [selector], vaultNamespace: undefined }, {}, [ns]);
        assert.deepEqual(unknown.problems, []);
        assert.match(unknown.warnings[0].what, /namespace vault's labels could not be read.*cannot get namespaces/);
        assert.match(plan(undefined).warnings[0].what, /was not looked at/);
    });

    it("existingPlan carries the Gateway's refusal: the up stops with nothing created", () => {
        const base: ClusterFacts = {
            schedulableNodes: 3,
            storageClasses: [{ name: "gp3", isDefault: true }],
            certManager: { crds: false, webhookReady: false },
            unreadable: [],
        };
        const refused = existingPlan(settings(), { ...base, gateway: { ...GATEWAY, exists: false } }, "o", fixes);
        assert.equal(refused.problems.length, 1);
        assert.match(refused.problems[0].what, /does not exist/);
        const fine = existingPlan(settings(), { ...base, gateway: GATEWAY }, "o", fixes);
        assert.deepEqual(fine.problems, []);
        assert.ok(fine.decided.some((d) => /takes Vault's TLSRoute/.test(d.what)));
        assert.deepEqual(existingPlan(settings({ ingress: "none" }), base, "o", fixes).warnings, [], "no Gateway, nothing said of one");
    });

    it("whoami's HTTPRoute needs an HTTP listener for the host that admits whoami's namespace; the URL names the TLS listener's port", () => {
        const http = passthrough({ name: "web", protocol: "HTTP", port: 80, tlsMode: undefined });
        const withWhoami = { whoami: "true" };
        const missing = plan({ listeners: [passthrough({ port: 8443 })] }, withWhoami);
        assert.match(missing.problems[0].what, /no HTTP listener for vault\.example\.com that admits whoami's HTTPRoute from namespace whoami/);
        assert.match(missing.problems[0].fix, /npm run config -- set vault-ha:whoami false/);
        const fine = plan({ listeners: [passthrough({ port: 8443 }), http] }, withWhoami);
        assert.deepEqual(fine.problems, []);
        assert.equal(fine.vaultPort, 8443);
        const same = plan({ listeners: [passthrough(), { ...http, allowedRoutes: { from: "Same" } }] }, withWhoami);
        assert.match(same.problems[0].what, /whoamiUrl would never answer/);
    });
});
