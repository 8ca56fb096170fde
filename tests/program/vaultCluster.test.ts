/**
 * VaultCluster (components/vault/vaultCluster.ts): the Vault release, what it waits for and what it does not.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { parseSettings } from "../../components/config/settings";
import { vaultHelmValues } from "../../components/vault/vaultValues";
import { COMMAND, CR, dependsOn, ProgramRun, RELEASE, runProgramOnce } from "../support/program";

describe("VaultCluster (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramOnce();
    });

    it("does not make Vault wait for ingress: the two install in parallel", () => {
        const vault = run.one(RELEASE, "vault-release");
        assert.ok(!vault.dependencies.includes(run.one(RELEASE, "ingress-nginx-release").urn));
    });

    it("starts Vault only after its certificate exists, and bootstraps after both", () => {
        const release = run.one(RELEASE, "vault-release");
        dependsOn(release, run.one(CR("Certificate"), "vault-tls-server-certificate"));
        dependsOn(run.one(COMMAND, "bootstrap-wait-pods"), release);
        assert.equal(release.inputs.values.global.tlsDisable, false);
    });

    it("installs Vault as release `vault`, pinned, with the values built for these settings, without waiting", () => {
        const vault = run.one(RELEASE, "vault-release");
        assert.equal(vault.inputs.name, "vault");
        assert.equal(vault.inputs.chart, "vault");
        assert.equal(vault.inputs.version, "0.34.1");
        assert.deepEqual(vault.inputs.repositoryOpts, { repo: "https://helm.releases.hashicorp.com" });
        assert.equal(vault.inputs.namespace, "vault");
        assert.equal(vault.inputs.skipAwait, true);
        assert.deepEqual(vault.inputs.values, vaultHelmValues(parseSettings({}).settings));
    });
});
