/**
 * Values for the ingress-nginx chart on kind. Every key exists in the pinned chart (tests/chartKeys.test.ts).
 */
import { INGRESS_NODE_LABEL } from "../kind/kindConfig";

export const INGRESS_CLASS = "nginx";

export function ingressNginxValues(): Record<string, unknown> {
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
