/**
 * The golden check of stackGolden.test.ts for the choices its three stacks leave untried: each mode-dependent branch
 * of the stack plan (components/stackPlan.ts) under the arguments index.ts passed before the plan existed: kind's
 * own host ports, an existing cluster with an ingress class it already has, raftVolumesOnDestroy keep, a NodePort at
 * a node's address, a ClusterIP Vault behind an ingress-nginx vault-ha installs, and a cert-manager already running.
 * Regenerate only for a change meant to reach existing stacks: VAULT_HA_UPDATE_GOLDEN=1 npx mocha <this file>.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { FAKE_FACTS, runProgram, registrationState } from "../support/program";

const EXISTING = { cluster: "existing", kubeContext: "prod-eu" };

const STACKS: Record<string, { config: Record<string, string>; answers?: Record<string, unknown> }> = {
    "kind-ports": { config: { ingressHttpPort: "8080", ingressHttpsPort: "8443" } },
    "existing-plain-class-keep-nodeport": {
        config: {
            ...EXISTING,
            tls: "false",
            ingress: "existing",
            ingressClassName: "public",
            ingressHost: "vault.example.com",
            raftVolumesOnDestroy: "keep",
            vaultServiceType: "NodePort",
        },
    },
    "existing-tls-install-clusterip": { config: { ...EXISTING, ingress: "install", ingressHost: "vault.example.com", vaultServiceType: "ClusterIP" } },
    "existing-tls-running-cert-manager": {
        config: EXISTING,
        answers: {
            "cluster-facts": {
                ...FAKE_FACTS,
                certManager: { crds: true, webhookReady: true, namespace: "security", clusterResourceNamespace: "security" },
            },
        },
    },
};

describe("existing stacks see no change, in every mode-dependent choice: byte for byte against the golden files", function () {
    this.timeout(60_000);
    for (const [name, { config, answers }] of Object.entries(STACKS)) {
        it(`${name}: ${JSON.stringify(config)}`, async () => {
            const run = await runProgram(config, [], answers);
            const now = JSON.parse(
                JSON.stringify({ resources: run.registrations.map(registrationState).sort((a, b) => a.urn.localeCompare(b.urn)), outputs: run.outputs }),
            );
            const file = path.join(__dirname, "golden", `${name}.json`);
            if (process.env.VAULT_HA_UPDATE_GOLDEN === "1") fs.writeFileSync(file, JSON.stringify(now, null, 1) + "\n");
            const golden = JSON.parse(fs.readFileSync(file, "utf8"));
            assert.deepEqual(
                now.resources.map((r: { urn: string }) => r.urn),
                golden.resources.map((r: { urn: string }) => r.urn),
                "the same resources (URNs)",
            );
            for (const [i, r] of now.resources.entries()) assert.deepEqual(r, golden.resources[i], r.urn);
            assert.deepEqual(now.outputs, golden.outputs, "the stack outputs");
        });
    }
});
