/**
 * CertManager (components/tls/certManager.ts): the cert-manager chart. Its webhook gate is checked where the
 * issuers wait for it (vaultTls.test.ts).
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { CertManager, CertManagerArgs } from "../../components/tls/certManager";
import { VaultTls } from "../../components/tls/vaultTls";
import { COMMAND, CR, dependsOn, FAKE_KUBECONFIG, ProgramRun, runComponents, runProgramOnce, RELEASE } from "../support/program";

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

    it("install on an existing cluster: a plain Helm Release that carries this stack's owner label, the gate waits for it", async () => {
        const run = await runComponents(
            build({ namespace: "cert-manager", chartVersion: "v1.21.1", owner: "vault-ha.dev", kubeconfig: FAKE_KUBECONFIG, probeNamespace: "vault" }),
        );
        // Not the @pulumi/kubernetes-cert-manager wrapper: it decodes its typed `global` (no commonLabels) over the
        // values and would drop the owner label (components/tls/certManager.ts).
        assert.equal(run.all("kubernetes-cert-manager:index:CertManager").length, 0);
        const release = run.one(RELEASE, "cert-manager-release");
        assert.deepEqual(release.inputs.values, {
            crds: { enabled: true, keep: false },
            global: { commonLabels: { "vault-ha.dev/owner": "vault-ha.dev" } },
        });
        assert.deepEqual([release.inputs.name, release.inputs.chart, release.inputs.version], ["cert-manager", "cert-manager", "v1.21.1"]);
        assert.equal(release.inputs.repositoryOpts.repo, "https://charts.jetstack.io");
        assert.equal(run.one("kubernetes:core/v1:Namespace").inputs.metadata.name, "cert-manager");
        dependsOn(run.one(COMMAND, "cert-manager-webhook-ready"), release);
        assert.equal(run.outputs.namespace.value, "cert-manager");
    });

    it("install on kind: the chart wrapper as before (existing kind stacks keep their cert-manager), no owner label", async () => {
        const run = await runComponents(
            build({ namespace: "cert-manager", chartVersion: "v1.21.1", owner: undefined, kubeconfig: FAKE_KUBECONFIG, probeNamespace: undefined }),
        );
        const chart = run.one("kubernetes-cert-manager:index:CertManager");
        assert.deepEqual(chart.inputs.helmOptions.values, { crds: { enabled: true } });
        assert.equal(run.all(RELEASE).length, 0);
        dependsOn(run.one(COMMAND, "cert-manager-webhook-ready"), chart);
    });

    it("use existing: creates no Namespace and no chart, only the webhook gate; its namespace is the running one's", async () => {
        const run = await runComponents(build({ use: "existing", namespace: "security", kubeconfig: FAKE_KUBECONFIG, probeNamespace: "vault" }));
        assert.deepEqual(run.all("kubernetes-cert-manager:index:CertManager"), []);
        assert.deepEqual(run.all("kubernetes:core/v1:Namespace"), []);
        const gate = run.one(COMMAND, "cert-manager-webhook-ready");
        assert.match(gate.inputs.create, /cli\.ts cert-manager-ready$/);
        assert.deepEqual(gate.secretInputs, ["stdin"]);
        assert.equal(run.outputs.namespace.value, "security");
    });

    it("use existing: the CA chain's secret goes to the running cert-manager's namespace, after the gate", async () => {
        const run = await runComponents(() => {
            const certManager = new CertManager("cert-manager", {
                use: "existing",
                namespace: "security",
                kubeconfig: FAKE_KUBECONFIG,
                probeNamespace: undefined,
            });
            new VaultTls("vault-tls", {
                certManagerNamespace: certManager.namespace,
                vaultNamespace: "vault",
                replicas: 3,
                ingressHost: "vault.example.com",
                kubeconfig: FAKE_KUBECONFIG,
                issuerScope: "cluster",
                certManagerReady: certManager.webhookReady,
            });
            return {};
        });
        assert.equal(run.one(CR("Certificate"), "vault-tls-ca-certificate").inputs.metadata.namespace, "security");
        dependsOn(run.one(CR("ClusterIssuer"), "vault-tls-selfsigned-issuer"), run.one(COMMAND, "cert-manager-webhook-ready"));
    });
});
