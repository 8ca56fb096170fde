/**
 * The steps as the Command resources run them: `/bin/sh -c "node --require ts-node/register/transpile-only
 * components/bootstrap/cli.ts <step>"` in the project folder, secrets on stdin, the real Kubectl class spawning the
 * fake kubectl (tests/doubles/vault/bin) with a private kubeconfig file. The model runs on the wall clock here; the
 * scenarios themselves run in-process on simulated time (bootstrap.simulator.test.ts).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { assertNothingExposed } from "../doubles/vault/exposure";

describe("step processes (the exact command lines) against the simulator", function () {
    before(function () {
        requireRenderedPods(this);
    });
    // Each step starts node with ts-node: seconds on a loaded machine, never a correctness question.
    this.timeout(120_000);
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("bootstraps over TLS through the real entry point, kubectl class and command lines", async () => {
        sim = await Simulation.create({ tls: true, clock: "wall" });
        const out = await sim.bootstrap(undefined, (step, options) => sim.runStepProcess(step, options));
        assert.equal(out.peers.length, 3);
        assert.ok(out.peers.every((p) => p.voter));
        assert.equal(out.peers.filter((p) => p.leader).length, 1);
        // The kubeconfig reached kubectl as a file that the step removed afterwards.
        const kubeconfigFiles = new Set(
            sim
                .calls()
                .filter((c) => c.tool === "kubectl")
                .map((c) => c.env.KUBECONFIG),
        );
        assert.ok(kubeconfigFiles.size >= 5, "one private file per step");
        for (const file of kubeconfigFiles) assert.ok(!fs.existsSync(file), `${file} was removed`);
        assertNothingExposed(sim);
    });

    it("survives the init step being killed right after Vault was initialised: same keys, cluster unsealed", async () => {
        sim = await Simulation.create({ clock: "wall" });
        // Only init runs as a process (to be killed); the rest in-process on the wall clock, to keep the suite quick.
        const inProcess = (step: Parameters<Simulation["runStep"]>[0], options: Parameters<Simulation["runStep"]>[1] = {}) =>
            sim.runStep(step, { ...options, realTime: true });
        assert.equal((await inProcess("wait-pods")).code, 0);
        // Kill the step the moment the key file exists (before it can print anything or report back to Pulumi).
        let pid = 0;
        const watcher = setInterval(() => {
            if (pid && fs.existsSync(sim.keyFile)) {
                try {
                    process.kill(pid, "SIGKILL");
                } catch {
                    // Already gone: the step finished, and Pulumi lost its result anyway in this scenario.
                }
                clearInterval(watcher);
            }
        }, 1);
        await sim.runStepProcess("init", { onSpawn: (p) => (pid = p) });
        clearInterval(watcher);
        assert.equal(sim.state().inits, 1, "Vault was initialised");

        const out = await sim.bootstrap(undefined, inProcess);
        assert.equal(sim.state().inits, 1, "and never again");
        assert.deepEqual(out.keys.unsealKeys, sim.state().cluster.keys);
        assert.equal(out.keys.source, "key-file");
        assert.equal(Object.values<{ vault: { sealed: boolean } }>(sim.state().pods).filter((p) => !p.vault.sealed).length, 3);
        assertNothingExposed(sim);
    });

    it("a Command from a state written before the runner moved (components/bootstrap/cli.ts) still works: destroy's forget-keys", async () => {
        sim = await Simulation.create({ clock: "wall" });
        await sim.bootstrap(undefined, (step, options) => sim.runStep(step, { ...options, realTime: true }));
        assert.ok(fs.existsSync(sim.keyFile));
        // Exactly what such a state holds as the init step's delete, run as the Command provider runs it.
        const old = spawnSync("/bin/sh", ["-c", "node --require ts-node/register/transpile-only components/bootstrap/cli.ts forget-keys"], {
            cwd: path.resolve(__dirname, "../.."),
            env: { ...process.env, VAULT_HA_KEY_FILE: sim.keyFile },
            input: "{}",
            encoding: "utf8",
        });
        assert.equal(old.status, 0, old.stderr);
        assert.deepEqual(JSON.parse(old.stdout), { deleted: true });
        assert.ok(!fs.existsSync(sim.keyFile));
    });
});
