/**
 * Values for Envoy Gateway's chart (gateway-helm, pinned in components/config/versions.ts), which vault-ha installs on
 * kind only: on a cluster the user already has, routes attach to their Gateway. Every key exists in the pinned chart
 * (tests/charts/gateway.test.ts).
 */

/**
 * The Helm release name: upstream's docs install as `eg`, so the chart's objects (eg-gateway-helm-certgen, ...) are
 * named as Envoy Gateway's own documentation and troubleshooting name them.
 */
export const ENVOY_GATEWAY_RELEASE = "eg";

export function envoyGatewayValues(): Record<string, unknown> {
    return {
        // The topology injector is a MutatingWebhookConfiguration plus the certgen ClusterRole and ClusterRoleBinding,
        // all Helm hooks: Helm never deletes hooks on uninstall, so they would outlive the release as cluster-scoped
        // leftovers. It only labels Envoy pods with their node's zone, for zone-aware routing a kind lab does not use.
        topologyInjector: { enabled: false },
    };
}
