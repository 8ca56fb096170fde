/** The unseal step (components/runner/handlers/unseal.ts) against the simulator: keys, restarts, half-finished unseals. */
import { strict as assert } from "assert";
import * as crypto from "crypto";
import { assertNothingExposed } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { unsealed, vaultCalls } from "../doubles/vault/inspect";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

describe("unseal against the simulator", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("re-unseals a restarted follower without joining again, and only that pod", async () => {
        sim = await Simulation.create();
        const { keys } = await sim.bootstrap();
        const identitiesBefore = JSON.parse((await sim.runStep("pod-identities")).stdout);
        sim.restart("vault-1");
        assert.deepEqual(unsealed(sim), ["vault-0", "vault-2"]);

        const identitiesAfter = JSON.parse((await sim.runStep("pod-identities")).stdout);
        assert.notEqual(identitiesAfter["vault-1"], identitiesBefore["vault-1"], "the restarted pod's trigger changes");
        assert.equal(identitiesAfter["vault-0"], identitiesBefore["vault-0"], "the others' triggers do not");
        assert.equal(identitiesAfter["vault-2"], identitiesBefore["vault-2"]);

        const before = sim.calls().length;
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } });
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stderr, /has raft state .*not joining again/);
        assert.deepEqual(unsealed(sim), ["vault-0", "vault-1", "vault-2"]);
        assert.ok(!vaultCalls(sim, before).some((c) => c.includes("raft join")));
        assertNothingExposed(sim);
    });

    it("re-unseals the leader after a restart, and a recreated pod (new uid) too", async () => {
        sim = await Simulation.create();
        const { keys } = await sim.bootstrap();
        sim.restart("vault-0");
        sim.recreate("vault-2");
        assert.deepEqual(unsealed(sim), ["vault-1"]);
        assert.equal((await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } })).code, 0);
        assert.equal((await sim.runStep("join", { pod: "vault-2", secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } })).code, 0);
        assert.deepEqual(unsealed(sim), ["vault-0", "vault-1", "vault-2"]);
        const verify = await sim.runStep("verify", { secrets: { rootToken: keys.rootToken } });
        assert.equal(verify.code, 0, verify.stderr);
        assert.equal(JSON.parse(verify.stdout).peers.length, 3);
    });

    it("a wrong key gives a clear error at once, and Vault's unseal progress is reset", async () => {
        sim = await Simulation.create();
        sim.change((s) => model.init(s, "vault-0", 5, 3));
        const { keys, rootToken } = sim.state().cluster;
        const wrong = crypto.randomBytes(33).toString("base64");
        await sim.runStep("wait-pods");
        await sim.runStep("init", { secrets: { unsealKeys: [keys[0], keys[1], wrong], rootToken } });
        const started = sim.clock.now();
        const run = await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: [keys[0], keys[1], wrong] } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /vault-0 rejected the unseal keys .*Unseal failed, invalid key.*they do not belong to this Vault cluster/);
        assert.ok(sim.clock.now() - started < 2000, "a 400 is not retried");
        assert.equal(sim.state().pods["vault-0"].vault.sealed, true);
        assert.equal(sim.state().pods["vault-0"].vault.progress.length, 0);
        assertNothingExposed(sim, [wrong]);
    });

    it("retries while a pod's Vault API does not answer yet, then unseals", async () => {
        sim = await Simulation.create();
        const { keys } = await sim.bootstrap();
        sim.restart("vault-0");
        sim.change((s) => (s.pods["vault-0"].apiUpAt = s.pods["vault-0"].runningAt + 5000));
        const run = await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(sim.state().pods["vault-0"].vault.sealed, false);
    });

    it("discards a half-finished unseal before submitting its own keys", async () => {
        sim = await Simulation.create();
        const { keys } = await sim.bootstrap();
        sim.restart("vault-0");
        await sim.wait(3000);
        sim.change((s) => model.unseal(s, "vault-0", crypto.randomBytes(33).toString("base64")));
        assert.equal(sim.state().pods["vault-0"].vault.progress.length, 1);
        const run = await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } });
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stderr, /discarded a half-finished unseal \(1\/3\)/);
        assert.equal(sim.state().pods["vault-0"].vault.sealed, false);
    });
});
