/**
 * Whole bootstraps against the SIMULATOR (a model of a Vault raft cluster behind fake kubectl and vault; see
 * tests/doubles/vault/model.js), in-process on simulated time: every step in the plan's order, as Pulumi runs them.
 * Each scenario asserts what happened to the cluster, and ends by scanning all that was exposed for key material.
 * The single steps' own cases are in init, unseal, join, verify, pods and keys.test.ts beside this file.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import { assertNothingExposed } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { unsealed, vaultCalls } from "../doubles/vault/inspect";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

describe("bootstrap against the Vault simulator", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("bootstraps 3 pods: init once, all unsealed, 1 leader + 2 voting followers", async () => {
        sim = await Simulation.create();
        const out = await sim.bootstrap();
        const state = sim.state();
        assert.equal(state.inits, 1);
        assert.deepEqual(out.keys.unsealKeys, state.cluster.keys);
        assert.equal(out.keys.rootToken, state.cluster.rootToken);
        assert.equal(out.keys.source, "vault-init");
        assert.deepEqual(unsealed(sim), ["vault-0", "vault-1", "vault-2"]);
        assert.deepEqual(
            out.peers.map((p) => [p.node_id, p.leader, p.voter]),
            [
                ["vault-0", true, true],
                ["vault-1", false, true],
                ["vault-2", false, true],
            ],
        );
        // Only vault-0 was ever initialised; the others joined it.
        assert.deepEqual(
            vaultCalls(sim).filter((c) => c.includes("operator init")),
            ["vault-0 operator init -key-shares=5 -key-threshold=3 -format=json"],
        );
        assert.deepEqual(
            vaultCalls(sim)
                .filter((c) => c.includes("raft join"))
                .sort(),
            ["vault-1 operator raft join http://vault-0.vault-internal:8200", "vault-2 operator raft join http://vault-0.vault-internal:8200"],
        );
        assertNothingExposed(sim);
    });

    it("bootstraps 5 pods with 7 shares and threshold 4", async () => {
        sim = await Simulation.create({ replicas: 5, keyShares: 7, keyThreshold: 4 });
        const out = await sim.bootstrap();
        assert.equal(out.keys.unsealKeys.length, 7);
        assert.equal(sim.state().cluster.threshold, 4);
        assert.equal(out.peers.length, 5);
        assert.equal(out.peers.filter((p) => p.leader).length, 1);
        assert.ok(out.peers.every((p) => p.voter));
        assert.equal(unsealed(sim).length, 5);
        // Each pod got exactly the threshold of keys: no wasted round trips.
        assert.equal(vaultCalls(sim).filter((c) => c.includes("sys/unseal")).length, 5 * 4);
        assertNothingExposed(sim);
    });

    it("a second run changes nothing: no init, no join, no unseal key submitted, same keys", async () => {
        sim = await Simulation.create();
        const first = await sim.bootstrap();
        const before = sim.calls().length;
        const second = await sim.bootstrap();
        const calls = vaultCalls(sim, before);
        assert.deepEqual(
            calls.filter((c) => !c.includes(" status ") && !c.includes("list-peers")),
            [],
        );
        assert.deepEqual(second.keys.unsealKeys, first.keys.unsealKeys);
        assert.equal(second.keys.source, "key-file");
        assert.equal(sim.state().inits, 1);
        assert.match(second.runs["unseal-vault-0"].stderr, /vault-0 is already unsealed/);
        assert.match(second.runs["join-vault-1"].stderr, /vault-1 has raft state .*not joining again[^]*vault-1 is a member of the raft cluster/);
        assertNothingExposed(sim);
    });

    it("lost answers of unseal and join calls are retried: the bootstrap completes", async () => {
        sim = await Simulation.create();
        sim.change((s) => (s.faults.dropAnswers = { "write -format=json sys/unseal": 2, "operator raft join": 1 }));
        const out = await sim.bootstrap();
        assert.deepEqual(unsealed(sim), ["vault-0", "vault-1", "vault-2"]);
        assert.equal(out.peers.length, 3);
        assert.deepEqual(sim.state().faults.dropAnswers, { "write -format=json sys/unseal": 0, "operator raft join": 0 }, "every fault fired");
        assertNothingExposed(sim);
    });

    it("moves keys of an earlier cluster aside when it finds an uninitialised Vault", async () => {
        sim = await Simulation.create();
        const first = await sim.bootstrap();
        // The cluster is rebuilt (new volumes): Vault is uninitialised again, the old key file remains.
        sim.change((s) => model.rebuild(s));
        const second = await sim.bootstrap();
        assert.notDeepEqual(second.keys.unsealKeys, first.keys.unsealKeys);
        const retired = fs.readdirSync(sim.keyFile.replace(/\/init\.json$/, "")).filter((f) => f.startsWith("init.json.stale-"));
        assert.equal(retired.length, 1);
        assert.match(second.runs.init.stderr, /found keys of an earlier cluster .* moved them to/);
    });
});
