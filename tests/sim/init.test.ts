/** The init step (components/runner/handlers/init.ts) against the simulator: once, keys on disk first, adoption. */
import { strict as assert } from "assert";
import * as fs from "fs";
import { assertNothingExposed } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation, stagedCopies } from "../doubles/vault/harness";
import { unsealed } from "../doubles/vault/inspect";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

describe("init against the simulator", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("keeps the init response in a 0600 file in a 0700 folder, written before anything else", async () => {
        sim = await Simulation.create();
        const out = await sim.bootstrap();
        assert.equal(fs.statSync(sim.keyFile).mode & 0o777, 0o600);
        assert.equal(fs.statSync(sim.keyFile.replace(/\/init\.json$/, "")).mode & 0o777, 0o700);
        const saved = JSON.parse(fs.readFileSync(sim.keyFile, "utf8"));
        assert.deepEqual(saved.unseal_keys_b64, out.keys.unsealKeys);
        assert.equal(saved.root_token, out.keys.rootToken);
    });

    it("keeps the keys when the key file cannot be written: the step succeeds, so they reach the encrypted state", async () => {
        sim = await Simulation.create();
        // A file where the key folder should be: creating the folder fails (as on a full or read-only disk).
        fs.writeFileSync(`${sim.dir}/.vault-ha`, "in the way");
        await sim.runStep("wait-pods");
        const run = await sim.runStep("init");
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(JSON.parse(run.stdout).unsealKeys, sim.state().cluster.keys);
        assert.match(run.stderr, /WARNING: initialised vault-0 but could not save the keys to .* They are kept only in the Pulumi state/);
        assertNothingExposed(sim);
    });

    it("stops with a clear message when Vault is initialised and no keys are known, without touching it", async () => {
        sim = await Simulation.create();
        sim.change((s) => model.init(s, "vault-0", 5, 3));
        const run = await sim.runStep("init");
        assert.equal(run.code, 1);
        assert.match(run.stderr, /vault-0 is already initialised, but vault-ha has no unseal keys for it/);
        assert.match(run.stderr, /It will not initialise again over existing data/);
        assert.match(run.stderr, /npm run config -- set --secret vault-ha:unsealKeys/);
        assert.equal(run.stdout, "");
        assert.equal(sim.state().inits, 1);
        assert.ok(!fs.existsSync(sim.keyFile));
        assertNothingExposed(sim);
    });

    it("never starts a second cluster: vault-0 without raft data while another pod has it is a stop, and vault-0 removed gets its own way out", async () => {
        sim = await Simulation.create({ timeoutSeconds: 60 });
        const { keys } = await sim.bootstrap();
        const clusterId = sim.state().cluster.id;
        // vault-0 wiped (a user following the way out for another pod, on vault-0), while vault-1 and vault-2 hold the cluster.
        sim.change((s) => {
            model.markRemoved(s, "vault-0");
        });
        const unseal = await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } });
        assert.equal(unseal.code, 1);
        assert.match(unseal.stderr, /vault-0 reports removed_from_cluster: .*must not simply be started empty.*npm run snapshot/);
        assert.doesNotMatch(unseal.stderr, /delete pvc data-vault-0/);

        sim.change((s) => {
            model.deleteClaim(s, "data-vault-0");
            model.deletePod(s, "vault-0");
        });
        await sim.wait(10_000);
        fs.rmSync(sim.keyFile, { force: true });
        const init = await sim.runStep("init");
        assert.equal(init.code, 1);
        assert.match(init.stderr, /vault-0 has no raft data, but vault-1 has: .*would start a second one with new keys\. Nothing was initialised/);
        assert.equal(sim.state().inits, 1, "no second vault operator init");
        assert.equal(sim.state().cluster.id, clusterId);
    });

    it("adopts an initialised Vault with keys and token handed in through config", async () => {
        sim = await Simulation.create();
        sim.change((s) => model.init(s, "vault-0", 5, 3));
        const { keys, rootToken } = sim.state().cluster;
        const out = await sim.bootstrap({ unsealKeys: keys.slice(2), rootToken });
        assert.equal(out.keys.source, "config");
        assert.equal(sim.state().inits, 1);
        assert.deepEqual(unsealed(sim), ["vault-0", "vault-1", "vault-2"]);
        assert.equal(out.peers.length, 3);
        assert.ok(!fs.existsSync(sim.keyFile), "adopted keys already live in config; no second copy on disk");
        assertNothingExposed(sim);
    });

    it("an init whose answer was lost on the way: the keys come from the copy staged in the pod, never a second init", async () => {
        sim = await Simulation.create();
        sim.change((s) => (s.faults.dropAnswers = { "operator init": 1 }));
        await sim.runStep("wait-pods");
        const run = await sim.runStep("init");
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stderr, /the answer of vault operator init was lost on the way \(.*connection reset by peer\); took it from the pod instead/);
        assert.deepEqual(JSON.parse(run.stdout).unsealKeys, sim.state().cluster.keys);
        assert.deepEqual(JSON.parse(fs.readFileSync(sim.keyFile, "utf8")).unseal_keys_b64, sim.state().cluster.keys);
        assert.equal(sim.state().inits, 1);
        assert.deepEqual(stagedCopies(sim), [], "the pod's copy is removed once the key file holds the keys");
        assertNothingExposed(sim);
    });

    it("init killed between Vault's answer and the key file: the next run takes the keys from the pod", async () => {
        sim = await Simulation.create();
        await sim.runStep("wait-pods");
        // The step dies the moment the init call returns, before it can write anything on this side.
        sim.killAfter((args) => args.join(" ").includes("operator init"));
        const killed = await sim.runStep("init");
        assert.equal(killed.code, 137);
        assert.ok(!fs.existsSync(sim.keyFile));
        assert.equal(stagedCopies(sim).length, 1, "Vault's answer waits in the pod");
        const again = await sim.runStep("init");
        assert.equal(again.code, 0, again.stderr);
        assert.equal(JSON.parse(again.stdout).source, "pod-staging");
        assert.deepEqual(JSON.parse(again.stdout).unsealKeys, sim.state().cluster.keys);
        assert.ok(fs.existsSync(sim.keyFile));
        assert.deepEqual(stagedCopies(sim), []);
        assert.equal(sim.state().inits, 1);
        assertNothingExposed(sim);
    });

    it("refuses adoption keys for a Vault that is not initialised", async () => {
        sim = await Simulation.create();
        const run = await sim.runStep("init", { secrets: { unsealKeys: ["a", "b", "c"], rootToken: "hvs.not-this-cluster" } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /are set, but vault-0 is not initialised, so they cannot belong to this cluster/);
        assert.equal(sim.state().inits, 0);
    });

    it("a corrupt key file next to an initialised Vault: the step names the file, the problem and the way out", async () => {
        sim = await Simulation.create();
        await sim.bootstrap();
        fs.writeFileSync(sim.keyFile, '{"unseal_keys_b64": ["cut off');
        const run = await sim.runStep("init");
        assert.equal(run.code, 1);
        assert.match(run.stderr, new RegExp(`ERROR: the key file ${sim.keyFile.replace(/[.]/g, "\\.")} is not valid JSON`));
        assert.match(run.stderr, /mv .*init\.json .*init\.json\.broken/);
        assert.ok(!run.stderr.includes("unexpected failure"), "no JavaScript stack");
        assert.equal(sim.state().inits, 1, "and Vault is not touched");
    });

    it("init's shell stopped before it renamed the answer: the next run finds the '.partial' copy", async () => {
        sim = await Simulation.create();
        await sim.runStep("wait-pods");
        sim.killAfter((args) => args.join(" ").includes("operator init"));
        await sim.runStep("init");
        // As if the pod's shell had been stopped between vault's write and the rename.
        const [staged] = stagedCopies(sim);
        fs.renameSync(staged, `${staged}.partial`);
        const again = await sim.runStep("init");
        assert.equal(again.code, 0, again.stderr);
        assert.equal(JSON.parse(again.stdout).source, "pod-staging");
        assert.deepEqual(JSON.parse(again.stdout).unsealKeys, sim.state().cluster.keys);
        assert.ok(!fs.existsSync(`${staged}.partial`), "removed once the key file holds the keys");
    });
});
