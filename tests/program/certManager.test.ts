/**
 * CertManager (components/tls/certManager.ts): the cert-manager chart. Its webhook gate is checked where the
 * issuers wait for it (vaultTls.test.ts).
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { CertManager, CertManagerArgs } from "../../components/tls/certManager";
import { VaultTls } from "../../components/tls/vaultTls";
import { COMMAND, CR, dependsOn, FAKE_KUBECONFIG, ProgramRun, runComponents, runProgramOnce } from "../support/program";

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

describe("CertManager in each mode (the component under Pulumi mocks, with the program's arguments for that mode)", () => {
    const build = (args: CertManagerArgs) => () => {
        const certManager = new CertManager("cert-manager", args);
        return { namespace: certManager.namespace };
    };

    it("install on an existing cluster: the chart carries this stack's owner label, the gate waits for the chart", async () => {
        const run = await runComponents(build({ namespace: "cert-manager", chartVersion: "v1.21.1", owner: "vault-ha.dev", kubeconfig: FAKE_KUBECONFIG }));
        const chart = run.one("kubernetes-cert-manager:index:CertManager");
        assert.deepEqual(chart.inputs.helmOptions.values, {
            crds: { enabled: true, keep: false },
            global: { commonLabels: { "vault-ha.dev/owner": "vault-ha.dev" } },
        });
        assert.equal(run.one("kubernetes:core/v1:Namespace").inputs.metadata.name, "cert-manager");
        dependsOn(run.one(COMMAND, "cert-manager-webhook-ready"), chart);
        assert.equal(run.outputs.namespace.value, "cert-manager");
    });

    it("use existing: creates no Namespace and no chart, only the webhook gate; its namespace is the running one's", async () => {
        const run = await runComponents(build({ use: "existing", namespace: "security", kubeconfig: FAKE_KUBECONFIG }));
        assert.deepEqual(run.all("kubernetes-cert-manager:index:CertManager"), []);
        assert.deepEqual(run.all("kubernetes:core/v1:Namespace"), []);
        const gate = run.one(COMMAND, "cert-manager-webhook-ready");
        assert.match(gate.inputs.create, /cli\.ts cert-manager-ready$/);
        assert.deepEqual(gate.secretInputs, ["stdin"]);
        assert.equal(run.outputs.namespace.value, "security");
    });

    it("use existing: the CA chain's secret goes to the running cert-manager's namespace, after the gate", async () => {
        const run = await runComponents(() => {
            const certManager = new CertManager("cert-manager", { use: "existing", namespace: "security", kubeconfig: FAKE_KUBECONFIG });
            new VaultTls("vault-tls", {
                certManagerNamespace: certManager.namespace,
                vaultNamespace: "vault",
                replicas: 3,
                ingressHost: "vault.example.com",
                kubeconfig: FAKE_KUBECONFIG,
                certManagerReady: certManager.webhookReady,
            });
            return {};
        });
        assert.equal(run.one(CR("Certificate"), "vault-tls-ca-certificate").inputs.metadata.namespace, "security");
        dependsOn(run.one(CR("ClusterIssuer"), "vault-tls-selfsigned-issuer"), run.one(COMMAND, "cert-manager-webhook-ready"));
    });
});
