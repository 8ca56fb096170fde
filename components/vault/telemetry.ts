/**
 * Vault's metrics (issue 23), as data: the server configuration's telemetry, and on a cluster that runs the Prometheus
 * Operator the chart's ServiceMonitor and alert rules (vault-helm 0.34.1 values.yaml serverTelemetry.*, rendered by
 * templates/prometheus-servicemonitor.yaml and prometheus-prometheusrules.yaml; research: /work/research/issue23.md §4).
 *
 * - `prometheus_retention_time` turns the Prometheus format of /v1/sys/metrics on; `disable_hostname` keeps the
 *   gauge names without the pod's host name (vault_core_unsealed, not vault_<host>_core_unsealed), which the rules
 *   below match (docs configuration/telemetry).
 * - `unauthenticated_metrics_access` on the listener only where the ServiceMonitor scrapes: Prometheus then needs no
 *   Vault token, and every pod answers for itself, standbys included (vault http/handler.go
 *   handleMetricsUnauthenticated serves the node's own sink). Elsewhere the listener is also the front door (NodePort,
 *   load balancer, ingress), and metrics (mounts, token counts) are read with a token.
 * - The ServiceMonitor scrapes every pod through the headless Service (its endpoints include pods that are not ready:
 *   publishNotReadyAddresses), not the chart's default of the active pod only; with TLS it verifies Vault's
 *   certificate with the cluster CA as the headless Service's name, which the certificate holds (tls/tlsConfig.ts).
 */
import type { HclBlock } from "./hcl";
import { headlessService, VAULT_RELEASE_NAME } from "./names";
import { SERVER_TLS_SECRET } from "../tls/tlsConfig";

/** The server's `telemetry` block. */
export const SERVER_TELEMETRY: HclBlock = { type: "telemetry", attributes: { prometheus_retention_time: "24h", disable_hostname: true } };

/** The listener's `telemetry` block. */
export const LISTENER_TELEMETRY: HclBlock = { type: "telemetry", attributes: { unauthenticated_metrics_access: true } };

export interface MonitoringOptions {
    /** With TLS the scrape is https, verified with the CA in Vault's certificate Secret. */
    tls: boolean;
    namespace: string;
    replicas: number;
}

/**
 * The pod annotation that carries telemetry into the StatefulSet's template: the chart stamps no checksum of its
 * ConfigMap on the pods (server.includeConfigAnnotation is false), so without it a change of the server's telemetry
 * would restart no pod (the roll follows template revisions).
 */
export const TELEMETRY_ANNOTATION = "vault-ha.dev/telemetry";

export function telemetryAnnotation(o: { telemetry?: boolean; monitoring?: unknown }): Record<string, string> {
    return o.telemetry ? { [TELEMETRY_ANNOTATION]: o.monitoring ? "prometheus, unauthenticated" : "prometheus" } : {};
}

/** An alert rule of the PrometheusRule. */
export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    labels: { severity: "critical" | "warning" };
    annotations: { summary: string; description: string };
}

/**
 * The alerts: a sealed pod, no active node, raft that would lose its quorum with one more node (only with 3 or more
 * voters: 1 or 2 tolerate no failure by design), and Vault's certificate expiring. The last reads cert-manager's own
 * metric (certmanager_certificate_expiration_timestamp_seconds): Vault exports none for its listener's certificate,
 * so it fires only where cert-manager's metrics are scraped too.
 */
export function vaultAlertRules(o: MonitoringOptions): AlertRule[] {
    const ns = `namespace="${o.namespace}"`;
    // Vault's gauges are refreshed only while a node is unsealed, and a sealed former leader keeps its last values
    // (research: issue23-part1-review.md): a pod's readiness (kube-state-metrics; the probe is sys/health, which a
    // sealed node fails), a present active node, and the failure tolerance of the current leader only.
    const rules: AlertRule[] = [
        {
            alert: "VaultPodNotReady",
            expr: `kube_pod_container_status_ready{${ns}, container="vault"} == 0`,
            for: "2m",
            labels: { severity: "critical" },
            annotations: {
                summary: "Vault pod {{ $labels.pod }} is not ready: sealed, or not serving",
                description: "A sealed pod serves nothing. npm run status says which; npm run up (or autoUnseal: in-cluster) unseals it.",
            },
        },
        {
            alert: "VaultNoActiveNode",
            expr: `absent(vault_core_active{${ns}} == 1)`,
            for: "2m",
            labels: { severity: "critical" },
            annotations: {
                summary: "Vault has no active node",
                description: "No pod reports itself active: Vault answers no request. npm run status says why.",
            },
        },
        {
            alert: "VaultMetricsDown",
            expr: `up{${ns}, service="vault-internal"} == 0`,
            for: "5m",
            labels: { severity: "warning" },
            annotations: { summary: "Prometheus cannot scrape Vault pod {{ $labels.pod }}", description: "The pod is down or its metrics do not answer." },
        },
    ];
    if (o.replicas >= 3) {
        rules.push({
            alert: "VaultRaftFailureToleranceZero",
            expr: `(vault_autopilot_failure_tolerance{${ns}} == 0) and on(pod) (vault_core_active{${ns}} == 1)`,
            for: "5m",
            labels: { severity: "warning" },
            annotations: {
                summary: "Vault's raft cluster tolerates no more failures",
                description: "Losing one more voter loses the quorum. npm run status lists the voters and which is unhealthy.",
            },
        });
    }
    if (o.tls) {
        rules.push({
            alert: "VaultCertificateExpiring",
            expr: `certmanager_certificate_expiration_timestamp_seconds{exported_namespace="${o.namespace}"} - time() < 7 * 24 * 3600`,
            for: "1h",
            labels: { severity: "warning" },
            annotations: {
                summary: "Vault's certificate {{ $labels.name }} expires within 7 days",
                description: "cert-manager renews it before then; if it does not, kubectl describe certificate -n " + o.namespace + " says why.",
            },
        });
    }
    return rules;
}

/** The chart's serverTelemetry values: a ServiceMonitor on every pod and the alert rules. */
export function serverTelemetryValues(o: MonitoringOptions): Record<string, unknown> {
    return {
        serviceMonitor: {
            enabled: true,
            // templates/prometheus-servicemonitor.yaml selects on these labels plus the release's: the headless Service.
            matchLabels: { "vault-internal": "true" },
            ...(o.tls
                ? {
                      tlsConfig: {
                          ca: { secret: { name: SERVER_TLS_SECRET, key: "ca.crt" } },
                          serverName: `${headlessService(VAULT_RELEASE_NAME)}.${o.namespace}.svc`,
                      },
                  }
                : {}),
        },
        prometheusRules: { enabled: true, rules: vaultAlertRules(o) },
    };
}
