/**
 * KindCluster's checks (components/kind/kindCluster.ts, kindShape.ts), index.ts under Pulumi mocks with what Docker
 * and the state hold (tests/support/kindWorld.ts):
 * - a change of the cluster's shape, seen against the shape this stack recorded or against the running cluster,
 *   stops the program before the kind Command is registered, and so before anything inside the cluster;
 * - a cluster the state holds but Docker does not stops it after the kind Command, before anything inside it;
 * - a matching cluster, a brand-new stack and stopped node containers go on as before.
 */
import { strict as assert } from "assert";
import { kindConfigYaml } from "../../components/kind/kindConfig";
import { KIND_NODES_SCRIPT } from "../../components/kind/kindCluster";
import { KindShape, kindShape } from "../../components/kind/kindShape";
import { parseSettings } from "../../components/config/settings";
import { COMMAND, runProgram } from "../support/program";
import { FailedRun, KindWorld, nodesOf, resetKindWorld, runProgramFailing, setKindWorld } from "../support/kindWorld";

const shapeOf = (config: Record<string, string> = {}): KindShape => {
    const { settings } = parseSettings(config);
    return kindShape(settings, kindConfigYaml(settings));
};
const DEFAULT = shapeOf();
/** What the kind component registers before the kind Command: itself and the shape record. */
const names = (run: { registrations: Array<{ type: string; name: string }> }) => run.registrations.map((r) => `${r.type} ${r.name}`);

async function runWith(world: KindWorld, config: Record<string, string> = {}) {
    setKindWorld(world);
    try {
        return await runProgram(config);
    } finally {
        resetKindWorld();
    }
}

/** The run stopped with this message: as the component's error, and as the first line of the program's error. */
function assertStopped(run: FailedRun, ...patterns: RegExp[]) {
    assert.ok(run.error, "the program failed");
    assert.equal(run.logged.length, 1, `one error logged: ${run.logged.join("\n---\n")}`);
    for (const p of patterns) assert.match(run.logged[0], p);
    assert.match(run.error!.message, new RegExp(`${run.logged[0].split("\n")[0].replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} Stopped before changing anything`));
    assert.doesNotMatch(run.logged[0], /client-key-data|BEGIN|FAKE-KEY/, "no kubeconfig in the message");
}

describe("KindCluster's checks: a shape change or a vanished cluster stops the program before anything is touched", function () {
    this.timeout(60_000);
    afterEach(resetKindWorld);

    describe("nothing changes", () => {
        it("a stack whose running cluster and record match its settings registers the kind Command as before, without a warning", async () => {
            const run = await runWith({ beforeKind: nodesOf(DEFAULT), afterKind: nodesOf(DEFAULT) });
            const cluster = run.one(COMMAND, "kind-cluster");
            const record = run.one(COMMAND, "kind-shape");
            // The kind Command's inputs are exactly those of before the checks (kindCluster.test.ts pins them); only a
            // dependency on the record was added, and a dependency is no input.
            assert.deepEqual(cluster.inputs.triggers, [DEFAULT.clusterName, DEFAULT.nodeImage, kindConfigYaml(parseSettings({}).settings)]);
            assert.ok(cluster.dependencies.includes(record.urn), "the kind Command waits for the shape record");
            assert.deepEqual(record.inputs.environment, { VAULT_HA_KIND_SHAPE: JSON.stringify(DEFAULT) });
            assert.deepEqual(record.ignoreChanges, ["environment"]);
            assert.deepEqual(run.warnings, []);
            // Everything inside the cluster is registered, the bootstrap included.
            assert.ok(run.all("kubernetes:helm.sh/v3:Release").length >= 2);
            assert.equal(run.invokes.filter((i) => i.inputs.command === KIND_NODES_SCRIPT).length, 2, "one check before, one after the kind Command");
        });

        it("a brand-new stack (no node containers yet, the record created with the cluster) deploys as before", async () => {
            const run = await runWith({});
            run.one(COMMAND, "kind-cluster");
            run.one("pulumi:providers:kubernetes", "kind-k8s");
            assert.deepEqual(run.warnings, []);
        });

        it("the preview of a brand-new stack (the kind Command to be created: no kubeconfig, no containers, no record yet) goes on", async () => {
            const run = await runWith({ beforeKind: [], afterKind: [], kindCommandStdout: "", shapeRecord: "" });
            run.one(COMMAND, "kind-cluster");
            run.one("pulumi:providers:kubernetes", "kind-k8s");
            assert.deepEqual(run.warnings, []);
        });

        it("stopped node containers (Docker restarted) are not a vanished cluster: a warning with the docker start command, and the up goes on", async () => {
            // A Docker restart stops every node container: docker ps -a still lists them all.
            const stopped = nodesOf(DEFAULT, () => "exited");
            const run = await runWith({ beforeKind: stopped, afterKind: stopped });
            run.one("pulumi:providers:kubernetes", "kind-k8s");
            assert.deepEqual(run.warnings, [
                "kind cluster vault: node containers not running: vault-control-plane, vault-worker, vault-worker2, vault-worker3. Start them (docker start vault-control-plane vault-worker vault-worker2 vault-worker3), wait about a minute for the API server, then run again.",
            ]);
        });
    });

    describe("a shape change stops before the kind Command is registered", () => {
        const beforeCluster = ["vault-ha:kind:KindCluster kind", "command:local:Command kind-shape"];

        it("workers 3 → 5 against the recorded shape: names the change, the rebuild sequence and the revert", async () => {
            const run = await runProgramFailing({ shapeRecord: JSON.stringify(DEFAULT), beforeKind: [] }, { workers: "5", vaultReplicas: "3" });
            assert.deepEqual(names(run), beforeCluster);
            assertStopped(
                run,
                /^vault-ha: these settings change the shape of the kind cluster vault this stack created:\n {2}- workers: 3 → 5\n/,
                /would delete cluster vault and everything in it \(Vault's data included\)/,
                /1\. take a snapshot \(npm run snapshot\)\n {2}2\. pulumi destroy\n {2}3\. pulumi up\n {2}4\. restore the snapshot \(npm run restore -- FILE\)/,
                /put the setting back:\n {4}npm run config -- set vault-ha:workers 3$/,
            );
        });

        it("a renamed cluster (the old one still runs, the new name has no containers) is caught by the record, with the old name", async () => {
            const run = await runProgramFailing({ shapeRecord: JSON.stringify(DEFAULT), beforeKind: [] }, { clusterName: "vault2" });
            assert.deepEqual(names(run), beforeCluster);
            assertStopped(run, /- clusterName: vault → vault2/, /would delete cluster vault and/, /npm run config -- set vault-ha:clusterName vault$/m);
        });

        it("host ports, node ports and the node image, each named with its revert", async () => {
            const image = "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a";
            const config = { ingressHttpPort: "8080", nodePorts: "[30000,30001,30002]", kindNodeImage: image };
            const run = await runProgramFailing({ shapeRecord: JSON.stringify(DEFAULT), beforeKind: [] }, config);
            assert.deepEqual(names(run), beforeCluster);
            assertStopped(
                run,
                new RegExp(`- kindNodeImage: ${DEFAULT.nodeImage.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} → kindest/node:v1\\.34\\.0@`),
                /- ingressHttpPort: 80 → 8080/,
                /- nodePorts: \[30000, 30001\] → \[30000, 30001, 30002\]/,
                /npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts\[0\]' 30000 && npm run config -- set --path 'vault-ha:nodePorts\[1\]' 30001/,
                /put the settings back/,
            );
        });

        it("against the running cluster (the first up after upgrading vault-ha, no record yet): stops before the record is created", async () => {
            const run = await runProgramFailing({ beforeKind: nodesOf(DEFAULT) }, { workers: "4" });
            assert.deepEqual(names(run), ["vault-ha:kind:KindCluster kind"], "neither the record nor the kind Command");
            assertStopped(
                run,
                /the running kind cluster vault \(its node containers, as Docker reports them\)/,
                /- workers: 3 → 4/,
                /npm run config -- set vault-ha:workers 3$/m,
            );
        });
    });

    describe("a vanished cluster stops after the kind Command, before anything inside the cluster", () => {
        const kindOnly = ["vault-ha:kind:KindCluster kind", "command:local:Command kind-shape", "command:local:Command kind-cluster"];

        it("no node container of the cluster the state holds: destroy, then up", async () => {
            const run = await runProgramFailing({ beforeKind: [], afterKind: [] });
            assert.deepEqual(names(run), kindOnly);
            assertStopped(
                run,
                /^vault-ha: the kind cluster vault is gone: this stack created it and its state still holds it/,
                /1\. pulumi destroy {4}\(it works with the cluster gone/,
                /2\. pulumi up\n/,
                /npm run restore -- FILE/,
            );
        });

        it("Docker does not answer: says to start Docker", async () => {
            const run = await runProgramFailing({ beforeKind: "docker-unavailable", afterKind: "docker-unavailable" });
            assert.deepEqual(names(run), kindOnly);
            assertStopped(run, /Docker does not answer, so the kind cluster vault cannot be checked or reached/, /Start Docker/);
        });
    });
});
