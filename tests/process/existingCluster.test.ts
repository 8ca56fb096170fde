/**
 * The existing-cluster steps as the Command resources run them (tests/sim/existingCluster.test.ts has the scenarios,
 * in-process on simulated time): `/bin/sh -c "node --require ts-node/register/transpile-only components/bootstrap/cli.ts
 * <step>"`, the real Kubectl class spawning the fake kubectl binary (tests/doubles/vault/bin), the model on the wall
 * clock. The process tier: `npm run test:process`, run by .ci/run after `npm test`.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { stepEnvironment } from "../../components/stepCommand/contract";
import { PORT_FORWARD_SERVICE } from "../../components/vault/exposure";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { FakeVaultFrontDoor, makePki } from "../doubles/vault/frontDoor";
import { assertNothingExposed } from "../doubles/vault/exposure";

describe("existing clusters against the simulator, as processes: the exact command line, the real Kubectl class, the fake kubectl binary", function () {
    before(function () {
        requireRenderedPods(this);
    });
    // Each step starts node with ts-node: seconds on a loaded machine, never a correctness question.
    this.timeout(120_000);
    const token = "hvs.process-proof-token";
    const password = "process-proof-password";
    let door: FakeVaultFrontDoor | undefined;
    afterEach(async () => door?.stop());
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("cluster-facts", async () => {
        sim = await Simulation.create({ clock: "wall" });
        const run = await sim.runStepProcess("cluster-facts", { env: stepEnvironment("cluster-facts", { timeoutSeconds: 30 }) });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(JSON.parse(run.stdout).schedulableNodes, 3);
        assertNothingExposed(sim);
    });

    it("kv-proof through a real background kubectl port-forward, which is gone when the step ends (success and failure)", async () => {
        const pki = makePki(["vault.vault.svc"], ["127.0.0.1"]);
        for (const corruptReads of [false, true]) {
            door = new FakeVaultFrontDoor({ token, pki, corruptReads });
            const port = Number(new URL(await door.start()).port);
            sim = await Simulation.create({ clock: "wall", chart: { serviceType: "ClusterIP" } });
            // The in-process steps on the wall clock: one pod active and labelled so by Vault.
            await sim.bootstrap(undefined, (step, o) => sim.runStep(step, { ...o, realTime: true }));
            const active = sim.state().active;
            sim.change((s) => (s.kube.services[`vault/${PORT_FORWARD_SERVICE}`].backend = `127.0.0.1:${port}`));
            const run = await sim.runStepProcess("kv-proof", {
                env: stepEnvironment("kv-proof", {
                    vaultAddr: "https://127.0.0.1:8200",
                    kvMount: "mysecret",
                    kvPath: "logins/study",
                    kvUsername: "demo",
                    timeoutSeconds: 20,
                    portForwardNamespace: "vault",
                    portForwardService: PORT_FORWARD_SERVICE,
                    portForwardPort: 8200,
                }),
                secrets: { rootToken: token, password, caCert: pki.caPem },
            });
            assert.equal(run.code, corruptReads ? 1 : 0, run.stderr);
            const forwards = fs
                .readFileSync(path.join(sim.dir, "forwards.jsonl"), "utf8")
                .trim()
                .split("\n")
                .map((l) => JSON.parse(l) as { pid: number; pod: string });
            assert.equal(forwards.length, 1);
            assert.equal(forwards[0].pod, active, "the fake kubectl binary forwarded to the active pod");
            assert.throws(() => process.kill(forwards[0].pid, 0), /ESRCH/, "kubectl port-forward was stopped");
            const kubeconfigs = sim
                .calls()
                .filter((c) => c.tool === "kubectl")
                .map((c) => c.env.KUBECONFIG);
            for (const file of kubeconfigs) assert.ok(!fs.existsSync(file), `${file} was removed`);
            assertNothingExposed(sim, [token, password]);
            await door.stop();
            door = undefined;
            sim.dispose();
        }
    });
});
