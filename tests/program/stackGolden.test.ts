/**
 * What an existing stack holds must not change under a refactoring: every resource's URN, parent, provider, options
 * and inputs (Helm values, step command lines, environments and stdin, the kind config), for the kind lab with and
 * without TLS and for an existing cluster. A difference here is a change every existing stack would see in its next
 * preview (a replaced Command re-runs a step; a renamed kind Command deletes the cluster). The golden files were
 * written from the program as released; regenerate them only for a change that is meant to reach existing stacks:
 * VAULT_HA_UPDATE_GOLDEN=1 npx mocha tests/program/stackGolden.test.ts, and say why in the commit.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { runProgramOnce, registrationState } from "../support/program";

const STACKS: Record<string, Record<string, string>> = {
    "kind-tls": {},
    "kind-plain": { tls: "false" },
    "existing-tls": { cluster: "existing", kubeContext: "prod-eu" },
};

describe("existing stacks see no change: the program's resources, byte for byte against the golden files", function () {
    this.timeout(60_000);
    for (const [name, config] of Object.entries(STACKS)) {
        it(`${name}: ${JSON.stringify(config)}`, async () => {
            const run = await runProgramOnce(config);
            const now = JSON.parse(JSON.stringify(run.registrations.map(registrationState).sort((a, b) => a.urn.localeCompare(b.urn))));
            const file = path.join(__dirname, "golden", `${name}.json`);
            if (process.env.VAULT_HA_UPDATE_GOLDEN === "1") fs.writeFileSync(file, JSON.stringify(now, null, 1) + "\n");
            const golden = JSON.parse(fs.readFileSync(file, "utf8"));
            assert.deepEqual(
                now.map((r: { urn: string }) => r.urn),
                golden.map((r: { urn: string }) => r.urn),
                "the same resources (URNs)",
            );
            for (const [i, r] of now.entries()) assert.deepEqual(r, golden[i], r.urn);
        });
    }
});
