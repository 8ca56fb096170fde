/**
 * The Gateway front door in the program's graph (issue 22, `ingress: gateway`), under Pulumi mocks: on kind Envoy
 * Gateway's release and vault-ha's own EnvoyProxy, GatewayClass and Gateway, after the release; Vault's TLSRoute (an
 * HTTPRoute without TLS) and whoami's HTTPRoute; the readiness step after the route and the Vault release; nothing of
 * ingress-nginx. On an existing cluster the routes attach to the user's Gateway, which the facts found fit.
 */
import { strict as assert } from "assert";
import { COMMAND, dependsOn, FAKE_FACTS, RELEASE, runProgram } from "../support/program";
import { GATEWAY_CHART } from "../../components/config/versions";

const CUSTOM = (apiVersion: string, kind: string) => `kubernetes:${apiVersion}:${kind}`;
const GW = "gateway.networking.k8s.io/v1";

describe("the Gateway front door in the program", () => {
    it("on kind: Envoy Gateway, its Gateway objects after the release, the routes, the readiness step; no ingress-nginx, no Ingress", async () => {
        const run = await runProgram({ ingress: "gateway" });
        const release = run.one(RELEASE, "envoy-gateway-release");
        // Helm leaves a chart's CRDs: the step that records them deletes them after the release (it depends on it).
        const crds = run.one(COMMAND, "envoy-gateway-crds");
        assert.match(String(crds.inputs.delete), /delete-gateway-crds$/);
        dependsOn(release, crds);
        assert.equal(release.inputs.chart, GATEWAY_CHART.oci);
        assert.equal(release.inputs.version, GATEWAY_CHART.version);
        assert.deepEqual(release.inputs.values, { topologyInjector: { enabled: false } });
        assert.equal(
            run.all(RELEASE).find((r) => r.inputs.chart === "ingress-nginx"),
            undefined,
            "no ingress-nginx",
        );
        assert.equal(run.all("kubernetes:networking.k8s.io/v1:Ingress").length, 0, "no Ingress");
        for (const [type, name] of [
            [CUSTOM("gateway.envoyproxy.io/v1alpha1", "EnvoyProxy"), "envoy-gateway-envoy-proxy"],
            [CUSTOM(GW, "GatewayClass"), "envoy-gateway-gateway-class"],
            [CUSTOM(GW, "Gateway"), "envoy-gateway-gateway"],
        ]) {
            dependsOn(run.one(type, name), release);
        }
        const gateway = run.one(CUSTOM(GW, "Gateway"), "envoy-gateway-gateway");
        const listeners = (gateway.inputs.spec as { listeners: Array<{ name: string; tls?: { mode: string } }> }).listeners;
        assert.deepEqual(
            listeners.map((l) => [l.name, l.tls?.mode]),
            [
                ["http", undefined],
                ["vault-tls", "Passthrough"],
            ],
        );
        const route = run.one(CUSTOM(GW, "TLSRoute"), "vault-route-route");
        assert.equal(route.inputs.metadata.namespace, "vault");
        dependsOn(route, gateway);
        const whoami = run.one(CUSTOM(GW, "HTTPRoute"), "whoami-route");
        assert.equal(whoami.inputs.metadata.namespace, "whoami");
        const ready = run.one(COMMAND, "vault-route-ready");
        dependsOn(ready, route);
        dependsOn(ready, run.one(RELEASE, "vault-release"));
        assert.equal(ready.inputs.environment.VAULT_HA_GATEWAY_NAME, "vault-ha");
        assert.equal(ready.inputs.environment.VAULT_HA_GATEWAY_NAMESPACE, "envoy-gateway-system");
        assert.equal(ready.inputs.environment.VAULT_HA_ROUTE_KIND, "TLSRoute");
        assert.equal(run.outputs.ingressUrl?.value, "https://vault.localhost");
    });

    it("on kind with tls false: Vault on an HTTPRoute, no TLS listener", async () => {
        const run = await runProgram({ ingress: "gateway", tls: "false" });
        assert.equal(run.one(CUSTOM(GW, "HTTPRoute"), "vault-route-route").inputs.spec.hostnames[0], "vault.localhost");
        const listeners = (run.one(CUSTOM(GW, "Gateway"), "envoy-gateway-gateway").inputs.spec as { listeners: unknown[] }).listeners;
        assert.equal(listeners.length, 1);
        assert.equal(run.outputs.ingressUrl?.value, "http://vault.localhost");
    });

    it("on an existing cluster: no controller installed; the routes attach to the user's Gateway the facts found fit", async () => {
        const listener = {
            name: "tls",
            protocol: "TLS",
            port: 443,
            tlsMode: "Passthrough",
            allowedRoutes: { from: "All" },
        };
        const http = { ...listener, name: "http", protocol: "HTTP", port: 80, tlsMode: undefined };
        const facts = {
            ...FAKE_FACTS,
            gateway: {
                name: "public",
                namespace: "gateways",
                served: { gateways: "v1", tlsroutes: "v1", httproutes: "v1" },
                exists: true,
                listeners: [listener, http],
            },
        };
        const run = await runProgram(
            { cluster: "existing", kubeContext: "prod-eu", ingress: "gateway", gatewayName: "public", gatewayNamespace: "gateways" },
            [],
            { "cluster-facts": facts },
        );
        assert.equal(run.all(RELEASE).filter((r) => String(r.inputs.chart).includes("gateway")).length, 0, "no Envoy Gateway");
        assert.equal(run.all(CUSTOM(GW, "Gateway")).length, 0, "the Gateway is the user's");
        const route = run.one(CUSTOM(GW, "TLSRoute"), "vault-route-route");
        assert.deepEqual(route.inputs.spec.parentRefs, [{ name: "public", namespace: "gateways" }]);
        assert.equal(run.one(COMMAND, "vault-route-ready").inputs.environment.VAULT_HA_GATEWAY_NAME, "public");
    });

    it("on a running kind stack, the Gateway while ingress-nginx holds the node's ports is refused before either release changes", async () => {
        const holders = [{ namespace: "ingress-nginx", pod: "ingress-nginx-controller-1", kind: "ingress-nginx", hostPorts: [80, 443] }];
        const refused = new Promise<Error>((resolve) => {
            const listener = (reason: unknown) => {
                if (!/holds the host ports 80 and 443/.test(String((reason as Error)?.message))) return;
                process.off("unhandledRejection", listener);
                resolve(reason as Error);
            };
            process.prependListener("unhandledRejection", listener);
        });
        runProgram({ ingress: "gateway" }, [], { "front-door-facts": { holders } }).catch(() => undefined);
        const err = await refused;
        assert.match(err.message, /Switch in two ups: npm run config -- set vault-ha:ingress none && npm run up/);
        // The same front door goes ahead.
        const same = await runProgram({}, [], { "front-door-facts": { holders } });
        assert.ok(same.one(RELEASE, "ingress-nginx-release"));
    });
});
