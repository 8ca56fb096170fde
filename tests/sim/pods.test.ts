/** wait-pods and pod-identities (components/runner/handlers/pods.ts) against the simulator. */
import { strict as assert } from "assert";
import { podIdentity } from "../../components/runner/handlers/pods";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";

describe("pods against the simulator", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("a pod sealed on purpose, without a restart, keeps its identity: vault-ha does not undo the seal", async () => {
        sim = await Simulation.create();
        await sim.bootstrap();
        const before = JSON.parse((await sim.runStep("pod-identities")).stdout);
        sim.change((s) => (s.pods["vault-2"].vault.sealed = true));
        const after = JSON.parse((await sim.runStep("pod-identities")).stdout);
        assert.deepEqual(after, before);
    });

    it("pod-templates reports the running StatefulSet's raft volume claim, as the rendered chart made it", async () => {
        sim = await Simulation.create();
        const result = JSON.parse((await sim.runStep("pod-templates")).stdout);
        // raftStorageSize 10Gi, no storageClass: the chart renders no storageClassName (the cluster's default class).
        assert.deepEqual(result.dataClaim, { storage: "10Gi" });
        // The chart's own rule (server.affinity unset): one pod per node, required.
        assert.equal(result.antiAffinity, "required");
        assert.equal(result.pods.length, 3);
        // Why the program checks it first: the API server refuses a new claim template, failing the Helm upgrade.
        await assert.rejects(sim.upgrade({ raftStorageSize: "20Gi" }), /spec: Forbidden: updates to statefulset spec for fields other than 'replicas'/);
        assert.equal(sim.state().statefulSet.generation, 1, "nothing changed");
    });

    it("times out naming each pod and its state when the pods never run", async () => {
        sim = await Simulation.create({ timeoutSeconds: 60 });
        sim.change((s) => {
            s.pods["vault-1"].reason = "ImagePullBackOff";
            s.pods["vault-2"].reason = "Unschedulable: 0/4 nodes are available: 4 node(s) didn't match pod anti-affinity rules";
        });
        const started = sim.clock.now();
        const run = await sim.runStep("wait-pods");
        assert.equal(run.code, 1);
        assert.match(
            run.stderr,
            /timed out after \d+s waiting for the Vault pods vault-0, vault-1, vault-2 to be Running; last seen: vault-0 Running, vault-1 Pending \(ImagePullBackOff\), vault-2 Pending \(Unschedulable: 0\/4 nodes are available: 4 node\(s\) didn't match pod anti-affinity rules\)/,
        );
        const waited = sim.clock.now() - started;
        assert.ok(waited >= 58_000 && waited <= 60_000, `gave up at the deadline (${waited} ms)`);
    });

    it("waits for pods that start late, polling every 2 s without fixed sleeps", async () => {
        sim = await Simulation.create();
        sim.change((s) => (s.pods["vault-2"].runningAt = s.now + 7000));
        const started = sim.clock.now();
        const run = await sim.runStep("wait-pods");
        assert.equal(run.code, 0, run.stderr);
        const waited = sim.clock.now() - started;
        assert.ok(waited >= 7000 && waited < 7000 + 2000 + 200, `stopped polling within one interval of the pod running (${waited} ms)`);
    });

    it("identities read 'absent' for pods that do not exist and never fail a preview", async () => {
        sim = await Simulation.create();
        sim.change((s) => (s.pods["vault-2"].created = false));
        const run = await sim.runStep("pod-identities");
        assert.equal(run.code, 0);
        const ids = JSON.parse(run.stdout);
        assert.equal(ids["vault-2"], "absent");
        assert.match(ids["vault-0"], /^pod [0-9a-f-]{36} started 2026-11-28T04:00:00Z$/);
        assert.equal(podIdentity(undefined), "absent");
        sim.change((s) => (s.kubeconfig = "another cluster"));
        const unreachable = await sim.runStep("pod-identities");
        assert.equal(unreachable.code, 0);
        assert.deepEqual(JSON.parse(unreachable.stdout), { "vault-0": "unknown", "vault-1": "unknown", "vault-2": "unknown" });
    });

    it("identities of an unreachable cluster are 'unknown' at once: a preview with Docker stopped does not wait", async () => {
        sim = await Simulation.create();
        sim.change((s) => (s.faults.apiServerDown = true));
        const started = sim.clock.now();
        const run = await sim.runStep("pod-identities");
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(JSON.parse(run.stdout), { "vault-0": "unknown", "vault-1": "unknown", "vault-2": "unknown" });
        assert.ok(sim.clock.now() - started < 1000, `answered after ${sim.clock.now() - started} ms`);
    });

    it("identities wait for a pod that is starting, not for one stuck in a back-off", async () => {
        sim = await Simulation.create();
        sim.change((s) => {
            s.pods["vault-1"].runningAt = s.now + 5000;
            s.pods["vault-2"].reason = "ImagePullBackOff";
        });
        const started = sim.clock.now();
        const ids = JSON.parse((await sim.runStep("pod-identities")).stdout);
        assert.match(ids["vault-1"], /^pod .* started /, "the starting pod's identity is its running incarnation");
        assert.match(ids["vault-2"], /not running$/);
        assert.ok(sim.clock.now() - started < 10_000, "no wait for the stuck pod");
    });
});
