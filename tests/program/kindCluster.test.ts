/**
 * KindCluster (components/kind/kindCluster.ts): the `kind-cluster` command and the Kubernetes provider it feeds.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { parse } from "yaml";
import { buildKindConfig, kindConfigYaml, withOwnerLabel } from "../../components/kind/kindConfig";
import { KIND_CREATE_SCRIPT, KIND_DELETE_SCRIPT } from "../../components/kind/kindCluster";
import { parseSettings } from "../../components/config/settings";
import { COMMAND, FAKE_KUBECONFIG, ProgramRun, PROVIDER, runProgramOnce } from "../support/program";

describe("KindCluster: the kind cluster command (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramOnce();
    });

    let cluster: ReturnType<ProgramRun["one"]>;
    before(() => {
        cluster = run.one(COMMAND, "kind-cluster");
    });

    it("creates idempotently and deletes with kind", () => {
        assert.equal(cluster.inputs.create, KIND_CREATE_SCRIPT);
        assert.equal(cluster.inputs.delete, KIND_DELETE_SCRIPT);
        assert.deepEqual(cluster.inputs.environment, {
            KIND_CLUSTER_NAME: "vault",
            KIND_NODE_IMAGE: parseSettings({}).settings.kindNodeImage,
            VAULT_HA_OWNER: "vault-ha.dev",
        });
    });

    it("passes the kind config on stdin, as YAML of the built config with every node marked as this stack's", () => {
        assert.deepEqual(parse(cluster.inputs.stdin), withOwnerLabel(buildKindConfig(parseSettings({}).settings), "vault-ha.dev"));
    });

    it("keeps the kubeconfig out of logs, later runs' environment and plain-text state", () => {
        assert.equal(cluster.inputs.logging, "stderr");
        assert.equal(cluster.inputs.addPreviousOutputInEnv, false);
        assert.deepEqual(cluster.additionalSecretOutputs, ["stdout"]);
    });

    it("rebuilds the cluster when its name, image or config changes, deleting the old one first", () => {
        // The unmarked config: adding the owner mark must not rebuild clusters made before it existed.
        assert.deepEqual(cluster.inputs.triggers, [
            cluster.inputs.environment.KIND_CLUSTER_NAME,
            cluster.inputs.environment.KIND_NODE_IMAGE,
            kindConfigYaml(parseSettings({}).settings),
        ]);
        assert.equal(cluster.deleteBeforeReplace, true);
    });

    it("bounds create with a timeout", () => {
        assert.equal(cluster.customTimeouts?.create, "15m");
    });

    it("feeds the provider a secret kubeconfig and a cluster identity that changes with the cluster", () => {
        const provider = run.one(PROVIDER, "kind-k8s");
        assert.equal(provider.inputs.kubeconfig, FAKE_KUBECONFIG);
        assert.ok(provider.secretInputs.includes("kubeconfig"));
        assert.match(provider.inputs.clusterIdentifier, /^vault-[0-9a-f]{12}$/);
    });
});
