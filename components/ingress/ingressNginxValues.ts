/**
 * Values for the ingress-nginx chart, on kind and on a cluster the user already has. Every key exists in the pinned
 * chart (tests/charts/chartKeys.test.ts).
 */
import { INGRESS_NODE_LABEL } from "../kind/kindConfig";

export const INGRESS_CLASS = "nginx";

/** Where vault-ha installs the controller: its own kind cluster, or a cluster the user already has. */
export type IngressNginxTarget = "kind" | "existing";

export function ingressNginxValues(target: IngressNginxTarget = "kind"): Record<string, unknown> {
    return target === "kind" ? kindValues() : existingClusterValues();
}

function kindValues(): Record<string, unknown> {
    return {
        controller: {
            // kind maps the host's ports to 80/443 of the control-plane node; hostPort hands them to the controller.
            hostPort: { enabled: true, ports: { http: 80, https: 443 } },
            // Upstream's kind values dropped this selector; with workers present the controller must still land on
            // the one node whose ports are mapped.
            nodeSelector: { "kubernetes.io/os": "linux", [INGRESS_NODE_LABEL.key]: INGRESS_NODE_LABEL.value },
            // kind keeps the control-plane taint once the cluster has workers.
            tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
            extraArgs: {
                "enable-ssl-passthrough": "true",
                // Ingress status then reads `localhost`, which is where kind exposes it.
                "publish-status-address": "localhost",
            },
            publishService: { enabled: false },
            // kind never assigns LoadBalancer addresses; a LoadBalancer Service would leave installs waiting.
            service: { type: "NodePort" },
            ingressClass: INGRESS_CLASS,
            ingressClassResource: { name: INGRESS_CLASS, enabled: true, default: true },
            // A hostPort pod cannot surge next to its predecessor on the same node: replace it in place, at once.
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
            terminationGracePeriodSeconds: 0,
        },
    };
}

/**
 * On a cluster the user already has: the chart's defaults for a cloud cluster, stated where they matter. The
 * controller is reached through its LoadBalancer Service (no host ports, on any Linux node: the chart's default
 * nodeSelector, no kind label, no tolerations), and Ingress status carries that load balancer's address
 * (--publish-service, rendered by the chart's ingress-nginx.params when publishService and the Service are enabled).
 * SSL passthrough stays on: Vault's Ingress uses it when TLS is on (components/vault/vaultIngress.ts).
 *
 * The IngressClass is not made the cluster's default: a shared cluster's Ingresses without a class must keep going
 * where they went. Helm waits for the LoadBalancer Service's address (helm pkg/kube/ready.go), so on a cluster without
 * a load-balancer implementation the install times out: use `ingress: existing` or `none` there.
 */
function existingClusterValues(): Record<string, unknown> {
    return {
        controller: {
            hostPort: { enabled: false },
            extraArgs: { "enable-ssl-passthrough": "true" },
            publishService: { enabled: true },
            service: { type: "LoadBalancer" },
            ingressClass: INGRESS_CLASS,
            ingressClassResource: { name: INGRESS_CLASS, enabled: true, default: false },
        },
    };
}
