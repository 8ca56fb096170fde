/**
 * The Gateway API front door as plain Kubernetes objects: Envoy Gateway's EnvoyProxy, the GatewayClass and the
 * Gateway that vault-ha creates on kind, and the routes to Vault and whoami (on kind, or on a Gateway the user names).
 *
 * Sources, cited per field below: Gateway API v1.6.1 `apis/v1/*.go` (what Envoy Gateway v1.9.0 bundles and watches),
 * Envoy Gateway v1.9.0 `api/v1alpha1/*.go` and `internal/`, as read for /work/research/gateway.md. The chart tests
 * (tests/charts/gateway.test.ts) validate every object here against the CRDs the pinned chart bundles.
 */
import { INGRESS_NODE_LABEL } from "../kind/kindConfig";
import { VAULT_API_PORT, VAULT_RELEASE_NAME } from "../vault/names";

/** Where the chart installs the controller, and where vault-ha's Gateway and EnvoyProxy live on kind. */
export const GATEWAY_NAMESPACE = "envoy-gateway-system";
export const GATEWAY_CLASS_NAME = "vault-ha";
export const GATEWAY_NAME = "vault-ha";
export const ENVOY_PROXY_NAME = "vault-ha-kind";
/** The chart's default `config.envoyGateway.gateway.controllerName` (templates/envoy-gateway-config.yaml). */
export const GATEWAY_CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller";

export const HTTP_LISTENER = "http";
export const VAULT_TLS_LISTENER = "vault-tls";
/** Both routes are named as Vault's and whoami's Ingresses are. */
export const VAULT_ROUTE_NAME = VAULT_RELEASE_NAME;
export const WHOAMI_ROUTE_NAME = "whoami";

/** The chart's Service that selects the active pod only (vault-helm templates/server-ha-active-service.yaml). */
export const VAULT_ACTIVE_SERVICE = `${VAULT_RELEASE_NAME}-active`;
/** As components/ingress/whoami.ts serves it: Service `whoami`, port 80, answering under /_whoami. */
export const WHOAMI_SERVICE = "whoami";
export const WHOAMI_SERVICE_PORT = 80;
export const WHOAMI_ROUTE_PATH = "/_whoami";

/**
 * Envoy listens on the listener port + 10000 when the port is below 1024, so it needs no privileged bind
 * (internal/gatewayapi/listener.go servicePortToContainerPort; translator.go constants).
 */
export const ENVOY_HTTP_CONTAINER_PORT = 10080;
export const ENVOY_TLS_CONTAINER_PORT = 10443;

const GATEWAY_API = "gateway.networking.k8s.io/v1";
const ENVOY_GATEWAY_API = "gateway.envoyproxy.io/v1alpha1";

/** A Kubernetes object as Pulumi's CustomResource (or `kubectl apply`) takes it. */
export interface KubernetesObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
    spec: Record<string, unknown>;
}

/** The Gateway routes attach to: vault-ha's own on kind, or one the user names on an existing cluster. */
export type GatewayTarget = { cluster: "kind" } | { cluster: "existing"; gatewayName: string; gatewayNamespace: string };

export interface GatewayOptions {
    tls: boolean;
    /** Vault's host name: the TLS listener's hostname (SNI), and the routes' hostname. */
    ingressHost: string;
    vaultNamespace: string;
    whoamiNamespace: string;
}

export interface VaultRouteOptions {
    tls: boolean;
    ingressHost: string;
    vaultNamespace: string;
    gateway: GatewayTarget;
}

export interface WhoamiRouteOptions {
    whoamiNamespace: string;
    gateway: GatewayTarget;
    /**
     * On an existing cluster: the ingress host, which the route then matches only. As with the Ingress, a request for
     * a host that another route names goes by that route's rules alone (Gateway API HTTPRouteSpec.Hostnames: precedence
     * goes to the route with the longest matching non-wildcard hostname, before any path), so without it /_whoami at Vault's host would reach Vault. On kind: none, any host.
     */
    host?: string;
}

/**
 * Envoy on kind: its pod on the ingress-ready control-plane node, taking the host's ports 80/443 that kind maps there
 * (components/kind/kindConfig.ts), through host ports to Envoy's shifted container ports.
 */
export function envoyProxyManifest(): KubernetesObject {
    return {
        apiVersion: ENVOY_GATEWAY_API,
        kind: "EnvoyProxy",
        // Gateway.spec.infrastructure.parametersRef is a LocalParametersReference: the EnvoyProxy must be in the
        // Gateway's namespace (gateway_types.go).
        metadata: { name: ENVOY_PROXY_NAME, namespace: GATEWAY_NAMESPACE },
        spec: {
            provider: {
                type: "Kubernetes",
                kubernetes: {
                    // The default LoadBalancer never gets an address on kind, which leaves the Gateway
                    // Programmed=False/AddressNotAssigned; a ClusterIP's address is the cluster IP
                    // (internal/gatewayapi/status/gateway.go).
                    envoyService: { type: "ClusterIP" },
                    envoyDeployment: {
                        replicas: 1,
                        // The default rolling update surges a second pod, which cannot bind the same host ports on
                        // the one node: replace the pod instead.
                        strategy: { type: "Recreate" },
                        pod: {
                            nodeSelector: { [INGRESS_NODE_LABEL.key]: INGRESS_NODE_LABEL.value },
                            // kind keeps the control-plane taint once the cluster has workers.
                            tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
                        },
                        // The API has no host-port field, and the envoy container declares only its metrics and
                        // readiness ports (internal/infrastructure/kubernetes/proxy/resource.go): a strategic merge
                        // (merge key containerPort) adds them to container `envoy`, as the controller applies it
                        // (utils.MergeWithPatch, proxy/resource_provider.go).
                        patch: {
                            type: "StrategicMerge",
                            value: {
                                spec: {
                                    template: {
                                        spec: {
                                            containers: [
                                                {
                                                    name: "envoy",
                                                    ports: [
                                                        { containerPort: ENVOY_HTTP_CONTAINER_PORT, hostPort: 80, protocol: "TCP", name: "http-80" },
                                                        { containerPort: ENVOY_TLS_CONTAINER_PORT, hostPort: 443, protocol: "TCP", name: "tls-443" },
                                                    ],
                                                },
                                            ],
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    };
}

/** The class vault-ha's Gateway uses on kind, served by the controller the chart installs. */
export function gatewayClassManifest(): KubernetesObject {
    return {
        apiVersion: GATEWAY_API,
        kind: "GatewayClass",
        metadata: { name: GATEWAY_CLASS_NAME },
        // No parametersRef here: the EnvoyProxy attaches at the Gateway (upstream discourages class-level parameters
        // when Gateways share a class: site/content/en/v1.9/tasks/operations/customize-envoyproxy.md).
        spec: { controllerName: GATEWAY_CONTROLLER_NAME },
    };
}

/** Routes from these namespaces only (Selector on the namespace name label every namespace carries). */
function fromNamespaces(namespaces: string[]): Record<string, unknown> {
    return {
        from: "Selector",
        selector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [...new Set(namespaces)] }] },
    };
}

/**
 * vault-ha's Gateway on kind. Listener `http` (port 80, any host) takes whoami's route, and Vault's when TLS is off;
 * listener `vault-tls` (port 443, Vault's host) hands TLS connections unopened to Vault, so clients verify Vault's
 * own certificate. Routes in other namespaces attach through allowedRoutes alone: no ReferenceGrant
 * (referencegrant_types.go: cross-namespace Gateway-route attachment is the exception).
 */
export function gatewayManifest(o: GatewayOptions): KubernetesObject {
    const listeners: Record<string, unknown>[] = [
        {
            name: HTTP_LISTENER,
            protocol: "HTTP",
            port: 80,
            allowedRoutes: { namespaces: fromNamespaces([o.vaultNamespace, o.whoamiNamespace]) },
        },
    ];
    if (o.tls) {
        listeners.push({
            name: VAULT_TLS_LISTENER,
            protocol: "TLS",
            port: 443,
            hostname: o.ingressHost,
            // A TLS listener must state its mode (CEL on spec.listeners); Passthrough needs no certificate.
            tls: { mode: "Passthrough" },
            allowedRoutes: { namespaces: fromNamespaces([o.vaultNamespace]), kinds: [{ kind: "TLSRoute" }] },
        });
    }
    return {
        apiVersion: GATEWAY_API,
        kind: "Gateway",
        metadata: { name: GATEWAY_NAME, namespace: GATEWAY_NAMESPACE },
        spec: {
            gatewayClassName: GATEWAY_CLASS_NAME,
            infrastructure: { parametersRef: { group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: ENVOY_PROXY_NAME } },
            listeners,
        },
    };
}

/** A route's parent: vault-ha's Gateway at one listener, or the user's Gateway (whose listener names are theirs). */
function parentRef(gateway: GatewayTarget, listener: string): Record<string, unknown> {
    return gateway.cluster === "kind"
        ? { name: GATEWAY_NAME, namespace: GATEWAY_NAMESPACE, sectionName: listener }
        : { name: gateway.gatewayName, namespace: gateway.gatewayNamespace };
}

/**
 * Vault's route to the active pod only. With TLS: a TLSRoute v1 (the version Envoy Gateway v1.9.0 watches:
 * internal/provider/kubernetes/controller.go), which needs its hostnames and exactly one rule (tlsroute_types.go),
 * and a port on each Service backend (CEL). Without TLS Vault speaks plain HTTP: an HTTPRoute on the HTTP listener.
 */
export function vaultRouteManifest(o: VaultRouteOptions): KubernetesObject {
    return {
        apiVersion: GATEWAY_API,
        kind: o.tls ? "TLSRoute" : "HTTPRoute",
        metadata: { name: VAULT_ROUTE_NAME, namespace: o.vaultNamespace },
        spec: {
            parentRefs: [parentRef(o.gateway, o.tls ? VAULT_TLS_LISTENER : HTTP_LISTENER)],
            hostnames: [o.ingressHost],
            rules: [{ backendRefs: [{ name: VAULT_ACTIVE_SERVICE, port: VAULT_API_PORT }] }],
        },
    };
}

/** whoami's route: the same path and backend as its Ingress (components/ingress/whoami.ts), over plain HTTP. */
export function whoamiRouteManifest(o: WhoamiRouteOptions): KubernetesObject {
    return {
        apiVersion: GATEWAY_API,
        kind: "HTTPRoute",
        metadata: { name: WHOAMI_ROUTE_NAME, namespace: o.whoamiNamespace },
        spec: {
            parentRefs: [parentRef(o.gateway, HTTP_LISTENER)],
            ...(o.host !== undefined ? { hostnames: [o.host] } : {}),
            rules: [
                {
                    matches: [{ path: { type: "PathPrefix", value: WHOAMI_ROUTE_PATH } }],
                    backendRefs: [{ name: WHOAMI_SERVICE, port: WHOAMI_SERVICE_PORT }],
                },
            ],
        },
    };
}
