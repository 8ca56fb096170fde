/**
 * Vault's metrics in the pinned vault chart, rendered by the real Helm (components/vault/telemetry.ts): the server
 * configuration's telemetry, and with the Prometheus Operator the ServiceMonitor on every pod (the headless Service,
 * https verified with the cluster CA as a name the certificate holds) and the alert rules.
 */
import { strict as assert } from "assert";
import { DEPTH } from "../support/depth";
import { parseSettings } from "../../components/config/settings";
import { vaultCertificateSans, certificateCovers } from "../../components/tls/tlsConfig";
import { vaultHelmValues } from "../../components/vault/vaultValues";
import { Manifest, oneManifest, renderChart, requireHelm } from "../support/helm";

describe("Vault's metrics in the vault chart, rendered by Helm", function () {
    before(function () {
        requireHelm(this, "chart rendering tests (telemetry)");
    });

    for (const tls of [true, false]) {
        describe(`TLS ${tls ? "on" : "off"}, on a cluster with the Prometheus Operator${tls ? "" : DEPTH}`, () => {
            const settings = parseSettings({ cluster: "existing", kubeContext: "prod", tls: String(tls) }).settings;
            const values = vaultHelmValues(settings, { telemetry: true, monitoring: { namespace: "vault" } });
            let manifests: Manifest[];
            before(async () => {
                manifests = await renderChart({ chart: "vault", release: "vault", namespace: "vault", values });
            });

            it("the server configuration turns Prometheus metrics on, without the host name in the names, readable without a token; the pods roll for it", () => {
                const config = String(Object.values(oneManifest(manifests, "ConfigMap", "vault-config").data)[0]);
                assert.match(config, /telemetry \{\n\s+prometheus_retention_time = "24h"\n\s+disable_hostname\s+= true\n\s*\}/);
                assert.match(config, /listener "tcp" \{[^]*?telemetry \{\n\s+unauthenticated_metrics_access = true\n\s+\}\n\}/);
                // The chart stamps no checksum of its ConfigMap on the pods: the annotation makes a new template.
                const sts: any = oneManifest(manifests, "StatefulSet", "vault");
                assert.equal(sts.spec.template.metadata.annotations["vault-ha.dev/telemetry"], "prometheus, unauthenticated");
            });

            it("the ServiceMonitor scrapes every pod through the headless Service, as the chart's metrics path", () => {
                const monitor: any = oneManifest(manifests, "ServiceMonitor", "vault");
                assert.equal(monitor.spec.selector.matchLabels["vault-internal"], "true");
                const internal: any = manifests.find((m: any) => m.kind === "Service" && m.metadata.name === "vault-internal");
                for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
                    assert.equal(internal.metadata.labels[k], v, `the headless Service has ${k}`);
                assert.equal(internal.spec.publishNotReadyAddresses, true, "sealed pods are scraped too");
                const endpoint = monitor.spec.endpoints[0];
                assert.equal(endpoint.path, "/v1/sys/metrics");
                assert.deepEqual(endpoint.params, { format: ["prometheus"] });
                assert.equal(endpoint.scheme, tls ? "https" : "http");
                if (tls) {
                    assert.deepEqual(endpoint.tlsConfig.ca, { secret: { name: "vault-server-tls", key: "ca.crt" } });
                    const sans = vaultCertificateSans({ release: "vault", namespace: "vault", replicas: 3, ingressHost: settings.ingressHost });
                    assert.ok(certificateCovers(sans, endpoint.tlsConfig.serverName), `Vault's certificate holds ${endpoint.tlsConfig.serverName}`);
                    assert.equal(endpoint.tlsConfig.insecureSkipVerify, undefined, "verified, not skipped");
                }
            });

            it("the PrometheusRule alerts on a sealed pod, no active node, raft failure tolerance 0 and (with TLS) the certificate", () => {
                const rule: any = oneManifest(manifests, "PrometheusRule", "vault");
                const alerts = rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert));
                assert.deepEqual(alerts, [
                    "VaultPodNotReady",
                    "VaultNoActiveNode",
                    "VaultMetricsDown",
                    "VaultRaftFailureToleranceZero",
                    ...(tls ? ["VaultCertificateExpiring"] : []),
                ]);
                // Readiness, not Vault's own gauge: a sealed node stops refreshing vault_core_unsealed.
                const notReady = rule.spec.groups[0].rules[0];
                assert.equal(notReady.expr, 'kube_pod_container_status_ready{namespace="vault", container="vault"} == 0');
                assert.match(
                    rule.spec.groups[0].rules[3].expr,
                    /and on\(pod\) \(vault_core_active\{namespace="vault"\} == 1\)/,
                    "the current leader's tolerance only",
                );
            });
        });
    }

    it("without the Prometheus Operator (kind), no ServiceMonitor or rules, and the metrics need a token: the listener is the front door", async () => {
        const settings = parseSettings({}).settings;
        const manifests = await renderChart({ chart: "vault", release: "vault", namespace: "vault", values: vaultHelmValues(settings, { telemetry: true }) });
        const config = String(Object.values(oneManifest(manifests, "ConfigMap", "vault-config").data)[0]);
        assert.match(config, /prometheus_retention_time/);
        assert.doesNotMatch(config, /unauthenticated_metrics_access/);
        assert.equal(manifests.filter((m: any) => ["ServiceMonitor", "PrometheusRule"].includes(m.kind)).length, 0);
    });
});
