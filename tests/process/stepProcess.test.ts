/**
 * The steps as the Command resources run them: `/bin/sh -c "node --require ts-node/register/transpile-only
 * components/bootstrap/cli.ts <step>"` in the project folder, secrets on stdin, the real Kubectl class spawning the
 * fake kubectl (tests/doubles/vault/bin) with a private kubeconfig file. The model runs on the wall clock here; the
 * scenarios themselves run in-process on simulated time (bootstrap.simulator.test.ts).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
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

    it("the command line existing states hold (components/bootstrap/cli.ts) still runs the runner: destroy's forget-keys", async () => {
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

    describe("a step that does not end normally leaves no kubeconfig behind", () => {
        let tmp: string;
        beforeEach(() => {
            tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vault-ha-signal-test-"));
        });
        afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

        /** Starts wait-pods on pods that never run (so it waits), with its temporary files in `tmp`. */
        async function waitingStep(): Promise<{ shell: number; node: number; folder: string; done: Promise<{ code: number }> }> {
            sim = await Simulation.create({ clock: "wall" });
            sim.change((s) => (s.pods["vault-2"].reason = "ImagePullBackOff"));
            let shell = 0;
            const done = sim.runStepProcess("wait-pods", { env: { TMPDIR: tmp }, onSpawn: (pid) => (shell = pid) });
            // The step's private folder is named after its process: vault-ha-<pid>-XXXXXX, holding the kubeconfig.
            for (let i = 0; i < 400; i++) {
                const folder = fs.readdirSync(tmp).find((name) => /^vault-ha-\d+-/.test(name));
                if (folder && fs.existsSync(path.join(tmp, folder, "kubeconfig"))) return { shell, node: Number(folder.split("-")[2]), folder, done };
                await new Promise((r) => setTimeout(r, 50));
            }
            throw new Error("the step never wrote its kubeconfig");
        }
        /** vault-ha's folders in the step's TMPDIR (node's compile cache lives there too). */
        const ours = () => fs.readdirSync(tmp).filter((name) => name.startsWith("vault-ha-"));
        const alive = (pid: number) => {
            try {
                process.kill(pid, 0);
                return true;
            } catch {
                return false;
            }
        };
        async function gone(pid: number): Promise<boolean> {
            for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
            return !alive(pid);
        }

        it("SIGTERM (Ctrl-C, pulumi cancel): removes its folder and exits with 128+15", async () => {
            const step = await waitingStep();
            process.kill(step.node, "SIGTERM");
            const { code } = await step.done;
            assert.equal(code, 143);
            assert.deepEqual(ours(), [], "the kubeconfig's folder is gone");
        });

        it("its /bin/sh killed: notices within a second that its parent is gone, stops and cleans up", async () => {
            const step = await waitingStep();
            process.kill(step.shell, "SIGKILL");
            await step.done;
            assert.ok(await gone(step.node), "the orphaned step stopped instead of waiting out its deadline");
            assert.deepEqual(ours(), []);
        });

        it("SIGKILL, which nothing can catch: the next step removes what it left", async () => {
            const step = await waitingStep();
            process.kill(step.node, "SIGKILL");
            await step.done;
            assert.ok(await gone(step.node));
            assert.deepEqual(ours(), [step.folder], "left behind, as SIGKILL allows no clean-up");
            const next = await sim.runStepProcess("pod-identities", { env: { TMPDIR: tmp } });
            assert.equal(next.code, 0, next.stderr);
            assert.deepEqual(ours(), [], "the next step removed it (and its own)");
        });
    });
});
