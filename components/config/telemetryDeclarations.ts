/**
 * The metrics setting (issue 23): Vault's Prometheus metrics on every pod, and, where the cluster runs the Prometheus
 * Operator, the ServiceMonitor and alert rules (components/vault/telemetry.ts). Declared as in settingDeclarations.ts.
 */
import * as g from "./grammars";
import type { Declaration } from "./settingDeclarations";

const declare = <T>(declaration: Declaration<T>): Declaration<T> => declaration;

export const TELEMETRY_DECLARATIONS = {
    telemetry: declare<boolean>({
        default: true,
        parse: g.bool,
        row: {
            meaning:
                "Prometheus metrics on every Vault pod (`/v1/sys/metrics?format=prometheus`); on a cluster with the Prometheus Operator also readable without a token, a ServiceMonitor and alert rules (pod not ready, no active node, raft failure tolerance 0, certificate expiry); see [Metrics](#metrics)",
        },
        doc: "Prometheus metrics on every Vault pod (/v1/sys/metrics?format=prometheus); where the cluster runs the Prometheus Operator, readable without a token and scraped by a ServiceMonitor, with alert rules. A change restarts the pods one at a time.",
    }),
};
