/**
 * CertManager (components/tls/certManager.ts): the cert-manager chart. Its webhook gate is checked where the
 * issuers wait for it (vaultTls.test.ts).
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { ProgramRun, runProgramOnce } from "../support/program";

describe("CertManager (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramOnce();
    });

    it("installs cert-manager pinned at v1.21.1 as release cert-manager, with its CRDs through crds.enabled", () => {
        const chart = run.one("kubernetes-cert-manager:index:CertManager");
        const helm = chart.inputs.helmOptions;
        assert.equal(helm.name, "cert-manager");
        assert.equal(helm.namespace, "cert-manager");
        assert.equal(helm.version, "v1.21.1");
        assert.deepEqual(helm.repositoryOpts, { repo: "https://charts.jetstack.io" });
        assert.deepEqual(helm.values, { crds: { enabled: true } });
        assert.equal(chart.inputs.installCRDs, undefined, "the deprecated switch stays off");
    });
});
