/**
 * The join step (components/runner/handlers/join.ts) against the simulator: the wait for an active node, the cluster's own
 * threshold, a follower that finishes unsealing after the call returned, and what a failed join says. The HA timing
 * runs in both TLS modes.
 */
import { strict as assert } from "assert";
import { assertNothingExposed } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { unsealed, vaultCalls } from "../doubles/vault/inspect";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

describe("join against the simulator", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("unseals followers with the cluster's own threshold, read after the join, not the configured one", async () => {
        // Adopted keys of a Vault initialised with threshold 4, while the stack still says 3.
        sim = await Simulation.create({ keyThreshold: 3 });
        sim.change((s) => model.init(s, "vault-0", 6, 4));
        const { keys, rootToken } = sim.state().cluster;
        const out = await sim.bootstrap({ unsealKeys: keys, rootToken });
        assert.deepEqual(unsealed(sim), ["vault-0", "vault-1", "vault-2"]);
        assert.ok(out.peers.every((p) => p.voter));
        for (const pod of sim.pods) assert.equal(vaultCalls(sim).filter((c) => c.startsWith(`${pod} write`)).length, 4, `${pod} got 4 keys`);
        assertNothingExposed(sim);
    });

    it("a follower restarted between its join and its unseal forgot the challenge: the re-run joins it again", async () => {
        sim = await Simulation.create();
        const { keys } = await sim.bootstrap();
        sim.recreate("vault-1");
        // Its join was the last thing it did: it holds a challenge in memory, no raft state.
        sim.change((s) => Object.assign(s.pods["vault-1"].vault, { initialized: false, member: false, voter: false, sealed: true }));
        sim.change((s) => (s.pods["vault-1"].vault.pending = { at: s.now }));
        sim.restart("vault-1");
        assert.equal(sim.state().pods["vault-1"].vault.pending, null, "the challenge lived in memory only");
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } });
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stderr, /vault-1 joined the raft cluster/);
        assert.equal(sim.state().pods["vault-1"].vault.sealed, false);
        assert.equal(sim.state().pods["vault-1"].vault.member, true);
    });

    it("a join waits for a sealed leader, and times out saying what it waited for", async () => {
        sim = await Simulation.create({ timeoutSeconds: 30 });
        const { keys } = await sim.bootstrap();
        sim.restart("vault-0");
        sim.recreate("vault-1");
        sim.change((s) => Object.assign(s.pods["vault-1"].vault, { initialized: false, member: false, voter: false }));
        const before = sim.calls().length;
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } });
        assert.equal(run.code, 1);
        assert.match(
            run.stderr,
            /timed out after \d+s waiting for vault-0 to be unsealed with an active node elected \(a join needs one\); last seen: vault-0 sealed/,
        );
        assert.ok(!vaultCalls(sim, before).some((c) => c.includes("raft join")), "no join was sent to a sealed leader");
    });

    it("the CA file is read from the pod: a missing one is a local error (exit 1) and the step fails at once, naming file and mount", async () => {
        sim = await Simulation.create({ tls: true });
        await sim.runStep("wait-pods");
        const keys = JSON.parse((await sim.runStep("init")).stdout);
        await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } });
        (sim.params as { leaderCaCertFile?: string }).leaderCaCertFile = "/vault/userconfig/other/ca.crt";
        const started = sim.clock.now();
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /Failed to parse leader CA certificate: error reading file: open \/vault\/userconfig\/other\/ca.crt/);
        assert.match(
            run.stderr,
            /The CA file \/vault\/userconfig\/other\/ca.crt could not be read in vault-1: it comes from the TLS secret that the Vault chart mounts/,
        );
        assert.ok(sim.clock.now() - started < 10_000, "not retried for minutes");
    });

    it("a CA that did not sign the leader's certificate: Vault says only 'failed to get raft challenge'; the step finds x509 in the log and stops", async () => {
        sim = await Simulation.create({ tls: true });
        await sim.runStep("wait-pods");
        const keys = JSON.parse((await sim.runStep("init")).stdout);
        await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } });
        // A file that holds a certificate, but not the CA that signed the leader's.
        (sim.params as { leaderCaCertFile?: string }).leaderCaCertFile = "/vault/userconfig/vault-tls/tls.crt";
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /x509: certificate signed by unknown authority/);
        assert.match(
            run.stderr,
            /The leader's certificate must be signed by the CA in \/vault\/userconfig\/vault-tls\/tls.crt and hold the name vault-0.vault-internal/,
        );
    });
});

for (const tls of [false, true]) {
    describe(`join: Vault's HA timing against the simulator (tls ${tls})`, () => {
        before(function () {
            requireRenderedPods(this);
        });
        let sim: Simulation;
        afterEach(() => sim?.dispose());

        it("the standby window: joins wait until raft has elected vault-0, then succeed", async () => {
            sim = await Simulation.create({ tls });
            sim.change((s) => (s.faults.electionDelayMs = 20_000));
            await sim.runStep("wait-pods");
            const keys = JSON.parse((await sim.runStep("init")).stdout);
            assert.equal((await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } })).code, 0);
            // vault-0 is unsealed but a standby: the model refuses a join as Vault does.
            const early = JSON.parse(sim.state().pods["vault-0"].vault.sealed ? "{}" : JSON.stringify(model.sealStatus(sim.state(), "vault-0")));
            assert.equal(early.sealed, false);
            assert.equal(early.is_self, undefined, "a standby without an active node prints no is_self");
            assert.equal(early.leader_address, undefined);
            const unsealedAt = sim.clock.now();
            const runs = await Promise.all(
                ["vault-1", "vault-2"].map((pod) => sim.runStep("join", { pod, secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } })),
            );
            for (const run of runs) assert.equal(run.code, 0, run.stderr);
            const state = sim.state();
            assert.equal(state.active, "vault-0");
            const joinTimes = sim.calls().filter((c) => c.tool === "vault" && c.argv.includes("join"));
            assert.equal(joinTimes.length, 2, "each follower joined once, without a failed attempt");
            assert.ok(sim.clock.now() - unsealedAt >= 23_000, "the joins came after the election");
            assert.deepEqual(unsealed(sim).sort(), ["vault-0", "vault-1", "vault-2"]);
            assertNothingExposed(sim);
        });

        it("the old behaviour fails: a join sent during the standby window gets Vault's 500", async () => {
            sim = await Simulation.create({ tls });
            sim.change((s) => (s.faults.electionDelayMs = 20_000));
            await sim.runStep("wait-pods");
            const keys = JSON.parse((await sim.runStep("init")).stdout);
            await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } });
            const cli = require("../doubles/vault/cli.js");
            const args = ["operator", "raft", "join", ...(tls ? ["-leader-ca-cert=@/vault/userconfig/vault-tls/ca.crt"] : []), sim.params.leaderApiAddr];
            const state = sim.state();
            const result = cli.vault(state, "vault-1", args, state.pods["vault-1"].containers[0].env, "", undefined);
            assert.equal(result.code, 2);
            assert.match(result.stderr, /Code: 500\. Errors:\n\n\* failed to join raft cluster: failed to get raft challenge/);
            assert.match(state.pods["vault-1"].logs.join("\n"), /local node not active but active cluster node not found/);
        });

        it("a follower's unseal returns still sealed and finishes after the snapshot; a failed answer to the leader is retried", async () => {
            sim = await Simulation.create({ tls });
            sim.change((s) => (s.timing.followerUnsealMs = 5000));
            await sim.runStep("wait-pods");
            const keys = JSON.parse((await sim.runStep("init")).stdout);
            await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } });
            // The leader changes while vault-1 answers its challenge: the first answer fails with a 500.
            sim.change((s) => (s.faults.answerFailures = 1));
            const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } });
            assert.equal(run.code, 0, run.stderr);
            const writes = vaultCalls(sim).filter((c) => c.startsWith("vault-1 write"));
            assert.equal(writes.length, 6, "the key set went twice: once refused at the answer, once accepted");
            const statusAfter = vaultCalls(sim).filter((c) => c.startsWith("vault-1 status"));
            assert.ok(statusAfter.length >= 4, "polled status until the follower finished unsealing");
            assert.equal(sim.state().pods["vault-1"].vault.sealed, false);
            assertNothingExposed(sim);
        });
    });
}
