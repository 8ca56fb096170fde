/**
 * The bootstrap's steps against the SIMULATOR (a model of a Vault raft cluster behind fake kubectl and vault; see
 * tests/doubles/vault/model.js), in-process on simulated time. Each scenario asserts what happened to the cluster, not
 * only exit codes, and ends by scanning all that was exposed for key material. The Vault behaviours that bit real
 * clusters (the standby window before the first election, the election after a full restart, a follower that
 * finishes unsealing after the call returned) run in both TLS modes.
 */
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import { podIdentity } from "../../components/runner/steps/pods";
import { assertNothingExposed } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

function vaultCalls(sim: Simulation, since = 0): string[] {
    return sim
        .calls()
        .slice(since)
        .filter((c) => c.tool === "vault")
        .map((c) => `${c.pod} ${c.argv.join(" ")}`);
}

const unsealed = (sim: Simulation) => Object.entries(sim.state().pods).filter(([, p]: [string, any]) => !p.vault.sealed).map(([name]) => name);

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
        assert.deepEqual(out.peers.map((p) => [p.node_id, p.leader, p.voter]), [
            ["vault-0", true, true],
            ["vault-1", false, true],
            ["vault-2", false, true],
        ]);
        // Only vault-0 was ever initialised; the others joined it.
        assert.deepEqual(vaultCalls(sim).filter((c) => c.includes("operator init")), ["vault-0 operator init -key-shares=5 -key-threshold=3 -format=json"]);
        assert.deepEqual(vaultCalls(sim).filter((c) => c.includes("raft join")).sort(), [
            "vault-1 operator raft join http://vault-0.vault-internal:8200",
            "vault-2 operator raft join http://vault-0.vault-internal:8200",
        ]);
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

    it("a second run changes nothing: no init, no join, no unseal key submitted, same keys", async () => {
        sim = await Simulation.create();
        const first = await sim.bootstrap();
        const before = sim.calls().length;
        const second = await sim.bootstrap();
        const calls = vaultCalls(sim, before);
        assert.deepEqual(calls.filter((c) => !c.includes(" status ") && !c.includes("list-peers")), []);
        assert.deepEqual(second.keys.unsealKeys, first.keys.unsealKeys);
        assert.equal(second.keys.source, "key-file");
        assert.equal(sim.state().inits, 1);
        assert.match(second.runs["unseal-vault-0"].stderr, /vault-0 is already unsealed/);
        assert.match(second.runs["join-vault-1"].stderr, /vault-1 is already a raft member; not joining again/);
        assertNothingExposed(sim);
    });

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
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys } });
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stderr, /already a raft member; not joining again/);
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
        assert.equal((await sim.runStep("join", { pod: "vault-2", secrets: { unsealKeys: keys.unsealKeys } })).code, 0);
        assert.deepEqual(unsealed(sim), ["vault-0", "vault-1", "vault-2"]);
        const verify = await sim.runStep("verify", { secrets: { rootToken: keys.rootToken } });
        assert.equal(verify.code, 0, verify.stderr);
        assert.equal(JSON.parse(verify.stdout).peers.length, 3);
    });

    it("a pod sealed on purpose, without a restart, keeps its identity: vault-ha does not undo the seal", async () => {
        sim = await Simulation.create();
        await sim.bootstrap();
        const before = JSON.parse((await sim.runStep("pod-identities")).stdout);
        sim.change((s) => (s.pods["vault-2"].vault.sealed = true));
        const after = JSON.parse((await sim.runStep("pod-identities")).stdout);
        assert.deepEqual(after, before);
    });

    it("stops with a clear message when Vault is initialised and no keys are known, without touching it", async () => {
        sim = await Simulation.create();
        sim.change((s) => model.init(s, "vault-0", 5, 3));
        const run = await sim.runStep("init");
        assert.equal(run.code, 1);
        assert.match(run.stderr, /vault-0 is already initialised, but vault-ha has no unseal keys for it/);
        assert.match(run.stderr, /It will not initialise again over existing data/);
        assert.match(run.stderr, /pulumi config set --secret vault-ha:unsealKeys/);
        assert.equal(run.stdout, "");
        assert.equal(sim.state().inits, 1);
        assert.ok(!fs.existsSync(sim.keyFile));
        assertNothingExposed(sim);
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

    it("an init whose answer was lost on the way: says the keys are gone, never initialises twice", async () => {
        sim = await Simulation.create();
        sim.change((s) => (s.faults.dropAnswers = { "operator init": 1 }));
        await sim.runStep("wait-pods");
        const run = await sim.runStep("init");
        assert.equal(run.code, 1);
        assert.match(run.stderr, /vault-0 was initialised, but its answer \(the unseal keys\) was lost on the way: .*connection reset by peer.*start over: npm run down && npm run up/);
        assert.equal(sim.state().inits, 1);
        assert.equal(vaultCalls(sim).filter((c) => c.includes("operator init")).length, 1);
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

    it("refuses adoption keys for a Vault that is not initialised", async () => {
        sim = await Simulation.create();
        const run = await sim.runStep("init", { secrets: { unsealKeys: ["a", "b", "c"], rootToken: "hvs.not-this-cluster" } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /are set, but vault-0 is not initialised, so they cannot belong to this cluster/);
        assert.equal(sim.state().inits, 0);
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

    it("verify waits for autopilot to promote new followers to voters", async () => {
        sim = await Simulation.create();
        sim.change((s) => (s.timing.stabilizationMs = 30_000));
        const out = await sim.bootstrap();
        assert.ok(out.peers.every((p) => p.voter));
        assert.ok(vaultCalls(sim).filter((c) => c.includes("list-peers")).length >= 5, "verify polled until promotion");
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

    it("destroy forgets the keys without needing the cluster, and succeeds when they are gone", async () => {
        sim = await Simulation.create();
        await sim.bootstrap();
        const before = sim.calls().length;
        const first = await sim.runStep("forget-keys");
        assert.equal(first.code, 0, first.stderr);
        assert.deepEqual(JSON.parse(first.stdout), { deleted: true });
        assert.ok(!fs.existsSync(sim.keyFile));
        const again = await sim.runStep("forget-keys");
        assert.equal(again.code, 0);
        assert.deepEqual(JSON.parse(again.stdout), { deleted: false });
        assert.equal(sim.calls().length, before, "no kubectl call: it works with the cluster already deleted");
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
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys } });
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
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /timed out after \d+s waiting for vault-0 to be unsealed with an active node elected \(a join needs one\); last seen: vault-0 sealed/);
        assert.ok(!vaultCalls(sim, before).some((c) => c.includes("raft join")), "no join was sent to a sealed leader");
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
});

for (const tls of [false, true]) {
    describe(`Vault's HA timing against the simulator (tls ${tls})`, () => {
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
            const runs = await Promise.all(["vault-1", "vault-2"].map((pod) => sim.runStep("join", { pod, secrets: { unsealKeys: keys.unsealKeys } })));
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

        it("after a full restart (laptop reboot): every pod unsealed again, verify polls until quorum and an election", async () => {
            sim = await Simulation.create({ tls });
            const { keys } = await sim.bootstrap();
            sim.change((s) => model.restartAll(s));
            assert.deepEqual(unsealed(sim), []);
            // What the next `pulumi up` runs: every unseal step (their pods' identities changed), then verify.
            assert.equal((await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } })).code, 0);
            assert.equal(sim.state().active, null, "one of three voters is no quorum");
            const joins = await Promise.all(["vault-1", "vault-2"].map((pod) => sim.runStep("join", { pod, secrets: { unsealKeys: keys.unsealKeys } })));
            for (const run of joins) assert.equal(run.code, 0, run.stderr);
            const verify = await sim.runStep("verify", { secrets: { rootToken: keys.rootToken } });
            assert.equal(verify.code, 0, verify.stderr);
            const peers = JSON.parse(verify.stdout).peers;
            assert.equal(peers.filter((p: any) => p.leader).length, 1);
            assert.ok(peers.every((p: any) => p.voter));
            assert.ok(vaultCalls(sim).filter((c) => c.includes("list-peers")).length >= 2, "verify got 'no active node' first and polled");
            assertNothingExposed(sim);
        });

        it("a follower's unseal returns still sealed and finishes after the snapshot; a failed answer to the leader is retried", async () => {
            sim = await Simulation.create({ tls });
            sim.change((s) => (s.timing.followerUnsealMs = 5000));
            await sim.runStep("wait-pods");
            const keys = JSON.parse((await sim.runStep("init")).stdout);
            await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } });
            // The leader changes while vault-1 answers its challenge: the first answer fails with a 500.
            sim.change((s) => (s.faults.answerFailures = 1));
            const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys } });
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

describe("the simulator's CLIs are as strict as the real ones", () => {
    before(function () {
        requireRenderedPods(this);
    });
    const cli = require("../doubles/vault/cli.js");
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("Go's flag parsing: a flag after the address is an argument, and join fails (exit 1)", async () => {
        sim = await Simulation.create({ tls: true });
        const s = sim.state();
        const r = cli.vault(s, "vault-1", ["operator", "raft", "join", "https://vault-0.vault-internal:8200", "-leader-ca-cert=@/vault/userconfig/vault-tls/ca.crt"], s.pods["vault-1"].containers[0].env, "", undefined);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /Too many arguments \(expected 0-1, got 2\)/);
        const unknown = cli.vault(s, "vault-1", ["status", "-formt=json"], {}, "", undefined);
        assert.deepEqual([unknown.code, unknown.stderr.trim()], [1, "flag provided but not defined: -formt"]);
    });

    it("the CA file is read from the pod: a missing one is a local error (exit 1) and the step fails at once, naming file and mount", async () => {
        sim = await Simulation.create({ tls: true });
        await sim.runStep("wait-pods");
        const keys = JSON.parse((await sim.runStep("init")).stdout);
        await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } });
        (sim.params as { leaderCaCertFile?: string }).leaderCaCertFile = "/vault/userconfig/other/ca.crt";
        const started = sim.clock.now();
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /Failed to parse leader CA certificate: error reading file: open \/vault\/userconfig\/other\/ca.crt/);
        assert.match(run.stderr, /The CA file \/vault\/userconfig\/other\/ca.crt could not be read in vault-1: it comes from the TLS secret that the Vault chart mounts/);
        assert.ok(sim.clock.now() - started < 10_000, "not retried for minutes");
    });

    it("kubectl: a container the pod does not have is refused; statuses come sorted by name, sidecar first", async () => {
        sim = await Simulation.create({ tls: true });
        const s = sim.state();
        const bad = cli.kubectl(s, ["exec", "-n", "vault", "vault-0", "-c", "vualt", "--", "vault", "status"], { kubeconfig: sim.kubeconfig, stdin: "" });
        assert.deepEqual([bad.code, bad.stderr.trim()], [1, "Error from server (BadRequest): container vualt is not valid for pod vault-0"]);
        const list = JSON.parse(cli.kubectl(s, ["get", "pods", "-n", "vault", "-l", "app.kubernetes.io/instance=vault,component=server", "-o", "json"], { kubeconfig: sim.kubeconfig, stdin: "" }).stdout);
        assert.deepEqual(list.items[0].status.containerStatuses.map((c: any) => c.name), ["tls-reloader", "vault"]);
        const none = JSON.parse(cli.kubectl(s, ["get", "pods", "-n", "vault", "-l", "app.kubernetes.io/instance=other", "-o", "json"], { kubeconfig: sim.kubeconfig, stdin: "" }).stdout);
        assert.equal(none.items.length, 0, "the selector is applied");
    });

    it("pods carry what the chart makes of the program's values: the CA env with TLS, and pods wait for the TLS secret", async () => {
        sim = await Simulation.create({ tls: true });
        const env = sim.state().pods["vault-0"].containers[0].env;
        assert.equal(env.VAULT_ADDR, "https://127.0.0.1:8200");
        assert.equal(env.VAULT_CACERT, "/vault/userconfig/vault-tls/ca.crt");
        assert.equal(env.VAULT_API_ADDR, "https://vault-0.vault-internal:8200");
        sim.change((s) => delete s.secrets["vault/vault-server-tls"]);
        const run = await sim.runStep("wait-pods", { env: { VAULT_HA_TIMEOUT_SECONDS: "10" } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /vault-0 Pending \(ContainerCreating\)/);
    });

    it("a CA that did not sign the leader's certificate: Vault says only 'failed to get raft challenge'; the step finds x509 in the log and stops", async () => {
        sim = await Simulation.create({ tls: true });
        await sim.runStep("wait-pods");
        const keys = JSON.parse((await sim.runStep("init")).stdout);
        await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } });
        // A file that holds a certificate, but not the CA that signed the leader's.
        (sim.params as { leaderCaCertFile?: string }).leaderCaCertFile = "/vault/userconfig/vault-tls/tls.crt";
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /x509: certificate signed by unknown authority/);
        assert.match(run.stderr, /The leader's certificate must be signed by the CA in \/vault\/userconfig\/vault-tls\/tls.crt and hold the name vault-0.vault-internal/);
    });
});
