/**
 * The Gateway front door as data (components/gateway/gatewayManifests.ts and envoyGatewayValues.ts): the exact objects
 * for each TLS mode and each cluster mode. Whether the CRDs accept them: tests/charts/gateway.test.ts.
 */
import { strict as assert } from "assert";
import { ENVOY_GATEWAY_RELEASE, envoyGatewayValues } from "../../../components/gateway/envoyGatewayValues";
import {
    ENVOY_HTTP_CONTAINER_PORT,
    ENVOY_TLS_CONTAINER_PORT,
    envoyProxyManifest,
    gatewayClassManifest,
    gatewayManifest,
    GatewayTarget,
    vaultRouteManifest,
    WHOAMI_ROUTE_PATH,
    WHOAMI_SERVICE,
    whoamiRouteManifest,
} from "../../../components/gateway/gatewayManifests";
import { WHOAMI_PATH } from "../../../components/ingress/whoami";
import { buildKindConfig, INGRESS_NODE_LABEL } from "../../../components/kind/kindConfig";
import { PORT_FORWARD_SERVICE } from "../../../components/vault/exposure";

const KIND: GatewayTarget = { cluster: "kind" };
const EXISTING: GatewayTarget = { cluster: "existing", gatewayName: "shared", gatewayNamespace: "gateways" };
const namespaces = (values: string[]) => ({
    from: "Selector",
    selector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values }] },
});

describe("gatewayManifests", () => {
    describe("on kind: vault-ha's EnvoyProxy, GatewayClass and Gateway in envoy-gateway-system", () => {
        it("the GatewayClass names Envoy Gateway's controller, and nothing else", () => {
            assert.deepEqual(gatewayClassManifest(), {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "GatewayClass",
                metadata: { name: "vault-ha" },
                spec: { controllerName: "gateway.envoyproxy.io/gatewayclass-controller" },
            });
        });

        it("with TLS: listener http for whoami (and Vault's namespace), listener vault-tls passing Vault's host through, TLSRoutes only", () => {
            const gateway = gatewayManifest({ tls: true, ingressHost: "vault.localhost", vaultNamespace: "vault", whoamiNamespace: "whoami" });
            assert.deepEqual(gateway, {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "Gateway",
                metadata: { name: "vault-ha", namespace: "envoy-gateway-system" },
                spec: {
                    gatewayClassName: "vault-ha",
                    infrastructure: { parametersRef: { group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: "vault-ha-kind" } },
                    listeners: [
                        { name: "http", protocol: "HTTP", port: 80, allowedRoutes: { namespaces: namespaces(["vault", "whoami"]) } },
                        {
                            name: "vault-tls",
                            protocol: "TLS",
                            port: 443,
                            hostname: "vault.localhost",
                            tls: { mode: "Passthrough" },
                            allowedRoutes: { namespaces: namespaces(["vault"]), kinds: [{ kind: "TLSRoute" }] },
                        },
                    ],
                },
            });
        });

        it("without TLS: the http listener only; one namespace named once when Vault and whoami share it", () => {
            const gateway = gatewayManifest({ tls: false, ingressHost: "vault.localhost", vaultNamespace: "vault", whoamiNamespace: "whoami" });
            assert.deepEqual(
                (gateway.spec.listeners as any[]).map((l) => l.name),
                ["http"],
            );
            const shared = gatewayManifest({ tls: false, ingressHost: "vault.localhost", vaultNamespace: "lab", whoamiNamespace: "lab" });
            assert.deepEqual((shared.spec.listeners as any[])[0].allowedRoutes, { namespaces: namespaces(["lab"]) });
        });

        it("the EnvoyProxy sits beside the Gateway and puts Envoy on the node whose ports kind maps, host ports 80/443 to Envoy's", () => {
            const proxy = envoyProxyManifest();
            assert.deepEqual(proxy.metadata, { name: "vault-ha-kind", namespace: "envoy-gateway-system" });
            const k = (proxy.spec as any).provider.kubernetes;
            assert.equal((proxy.spec as any).provider.type, "Kubernetes");
            assert.deepEqual(k.envoyService, { type: "ClusterIP" });
            assert.equal(k.envoyDeployment.replicas, 1);
            assert.deepEqual(k.envoyDeployment.strategy, { type: "Recreate" });
            assert.deepEqual(k.envoyDeployment.pod.nodeSelector, { "ingress-ready": "true" });
            assert.deepEqual(k.envoyDeployment.pod.tolerations, [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }]);
            assert.equal(k.envoyDeployment.patch.type, "StrategicMerge");
            const [container] = k.envoyDeployment.patch.value.spec.template.spec.containers;
            assert.equal(container.name, "envoy");
            const hostPorts = container.ports.map((p: any) => [p.hostPort, p.containerPort]);
            assert.deepEqual(hostPorts, [
                [80, ENVOY_HTTP_CONTAINER_PORT],
                [443, ENVOY_TLS_CONTAINER_PORT],
            ]);
            // Envoy Gateway shifts listener ports below 1024 by 10000 (internal/gatewayapi/listener.go).
            assert.deepEqual([ENVOY_HTTP_CONTAINER_PORT, ENVOY_TLS_CONTAINER_PORT], [80 + 10000, 443 + 10000]);
            // The node those ports are mapped on: kind's ingress-ready control plane, unchanged.
            const kind = buildKindConfig({ clusterName: "lab", workers: 2, ingressHttpPort: 8080, ingressHttpsPort: 8443, nodePorts: [] });
            const mapped = kind.nodes.find((n) => n.labels?.[INGRESS_NODE_LABEL.key] === INGRESS_NODE_LABEL.value);
            assert.deepEqual(
                mapped?.extraPortMappings?.map((m) => m.containerPort),
                hostPorts.map(([hostPort]: number[]) => hostPort),
            );
        });
    });

    describe("routes", () => {
        const vault = (tls: boolean, gateway: GatewayTarget) => vaultRouteManifest({ tls, ingressHost: "vault.example.com", vaultNamespace: "vault", gateway });

        it("with TLS: a TLSRoute v1 to vault-active:8200 at Vault's host, on listener vault-tls of vault-ha's Gateway", () => {
            assert.deepEqual(vault(true, KIND), {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "TLSRoute",
                metadata: { name: "vault", namespace: "vault" },
                spec: {
                    parentRefs: [{ name: "vault-ha", namespace: "envoy-gateway-system", sectionName: "vault-tls" }],
                    hostnames: ["vault.example.com"],
                    rules: [{ backendRefs: [{ name: "vault-active", port: 8200 }] }],
                },
            });
            // The Service a port-forward uses: the one that selects the active pod.
            assert.equal((vault(true, KIND).spec.rules as any[])[0].backendRefs[0].name, PORT_FORWARD_SERVICE);
        });

        it("without TLS: an HTTPRoute, same host and backend, on listener http", () => {
            const route = vault(false, KIND);
            assert.equal(route.kind, "HTTPRoute");
            assert.deepEqual(route.spec.parentRefs, [{ name: "vault-ha", namespace: "envoy-gateway-system", sectionName: "http" }]);
            assert.deepEqual(route.spec.hostnames, ["vault.example.com"]);
            assert.deepEqual(route.spec.rules, [{ backendRefs: [{ name: "vault-active", port: 8200 }] }]);
        });

        it("on an existing cluster: the user's Gateway, by name and namespace, no listener name (theirs to choose)", () => {
            for (const tls of [true, false]) assert.deepEqual(vault(tls, EXISTING).spec.parentRefs, [{ name: "shared", namespace: "gateways" }]);
            assert.deepEqual(whoamiRouteManifest({ whoamiNamespace: "whoami", gateway: EXISTING, host: "vault.example.com" }).spec.parentRefs, [
                { name: "shared", namespace: "gateways" },
            ]);
        });

        it("whoami: an HTTPRoute on listener http, its Ingress's path prefix and Service; any host on kind, the ingress host elsewhere", () => {
            assert.equal(WHOAMI_ROUTE_PATH, WHOAMI_PATH);
            const onKind = whoamiRouteManifest({ whoamiNamespace: "whoami", gateway: KIND });
            assert.deepEqual(onKind, {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: { name: "whoami", namespace: "whoami" },
                spec: {
                    parentRefs: [{ name: "vault-ha", namespace: "envoy-gateway-system", sectionName: "http" }],
                    rules: [{ matches: [{ path: { type: "PathPrefix", value: "/_whoami" } }], backendRefs: [{ name: WHOAMI_SERVICE, port: 80 }] }],
                },
            });
            assert.deepEqual(whoamiRouteManifest({ whoamiNamespace: "whoami", gateway: EXISTING, host: "vault.example.com" }).spec.hostnames, [
                "vault.example.com",
            ]);
        });
    });

    describe("envoyGatewayValues", () => {
        it("turns the topology injector off and leaves everything else at the chart's defaults; release eg", () => {
            assert.deepEqual(envoyGatewayValues(), { topologyInjector: { enabled: false } });
            assert.equal(ENVOY_GATEWAY_RELEASE, "eg");
        });
    });
});
