/**
 * The existing cluster's facts: whether it runs the Prometheus Operator (its ServiceMonitor and PrometheusRule CRDs
 * served), which decides Vault's ServiceMonitor and alert rules (components/vault/telemetry.ts).
 */
import { strict as assert } from "assert";
import { readClusterFacts } from "../../../components/runner/handlers/clusterFacts";

function kubectl(monitoring: { code: number; stdout: string }) {
    return {
        run: async (args: string[]) => {
            if (args[0] === "api-resources" && args.includes("--api-group=monitoring.coreos.com")) return { ...monitoring, stderr: "" };
            if (args.includes("-o") && args[args.indexOf("-o") + 1] === "json") return { code: 0, stdout: JSON.stringify({ items: [] }), stderr: "" };
            return { code: 0, stdout: "", stderr: "" };
        },
    };
}

describe("cluster facts: the Prometheus Operator", () => {
    it("is there when both its ServiceMonitor and PrometheusRule CRDs are served", async () => {
        const both = "alertmanagers.monitoring.coreos.com\nprometheusrules.monitoring.coreos.com\nservicemonitors.monitoring.coreos.com\n";
        assert.equal((await readClusterFacts(kubectl({ code: 0, stdout: both }))).prometheusOperator, true);
        assert.equal((await readClusterFacts(kubectl({ code: 0, stdout: "servicemonitors.monitoring.coreos.com\n" }))).prometheusOperator, false);
        assert.equal((await readClusterFacts(kubectl({ code: 0, stdout: "" }))).prometheusOperator, false);
        assert.equal((await readClusterFacts(kubectl({ code: 1, stdout: "" }))).prometheusOperator, undefined, "unknown: no ServiceMonitor");
        // Another group failing discovery makes kubectl exit 1, with what it found on stdout.
        assert.equal((await readClusterFacts(kubectl({ code: 1, stdout: both }))).prometheusOperator, true);
    });
});
