/**
 * Vault's metrics in the program (issue 23, vault-ha:telemetry): the server's telemetry from the first up on both
 * cluster modes; the ServiceMonitor and alert rules only on a cluster whose facts show the Prometheus Operator.
 */
import { strict as assert } from "assert";
import { FAKE_FACTS, RELEASE, runProgram } from "../support/program";

const EXISTING = { cluster: "existing", kubeContext: "prod-eu" };
const valuesOf = async (config: Record<string, string>, facts?: Record<string, unknown>) =>
    (await runProgram(config, [], facts ? { "cluster-facts": { ...FAKE_FACTS, ...facts } } : {})).one(RELEASE, "vault-release").inputs.values as Record<
        string,
        any
    >;

describe("Vault's metrics in the program", () => {
    it("on by default: the server configuration's telemetry, on kind and on an existing cluster", async () => {
        for (const config of [{}, EXISTING]) {
            const values = await valuesOf(config);
            assert.match(values.server.ha.raft.config, /prometheus_retention_time/);
            assert.equal(values.serverTelemetry, undefined, "no ServiceMonitor without the Prometheus Operator");
        }
    });

    it("with the Prometheus Operator: the ServiceMonitor and the rules; telemetry false turns all of it off", async () => {
        const values = await valuesOf(EXISTING, { prometheusOperator: true });
        assert.equal(values.serverTelemetry.serviceMonitor.enabled, true);
        assert.equal(values.serverTelemetry.prometheusRules.enabled, true);
        const off = await valuesOf({ ...EXISTING, telemetry: "false" }, { prometheusOperator: true });
        assert.equal(off.serverTelemetry, undefined);
        assert.doesNotMatch(off.server.ha.raft.config, /telemetry/);
    });
});
