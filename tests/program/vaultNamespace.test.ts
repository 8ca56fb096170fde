/**
 * VaultNamespace (components/vault/vaultNamespace.ts): Vault's namespace and the identity it keeps.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { ProgramRun, runProgramOnce } from "../support/program";

describe("VaultNamespace (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramOnce();
    });

    it("keeps the vault namespace's identity from when VaultCluster created it, so that moving it replaces nothing", () => {
        const ns = run.one("kubernetes:core/v1:Namespace", "vault-namespace-ns");
        assert.deepEqual(ns.aliases, [
            { name: "vault-ns", parentUrn: run.one("vault-ha:vault:VaultCluster", "vault").urn, type: undefined, noParent: undefined },
        ]);
        assert.deepEqual(ns.dependencies, [], "the namespace waits for nothing that lives in it");
    });
});
