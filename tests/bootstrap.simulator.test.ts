/**
 * The bootstrap's real step commands, run against the SIMULATOR (a model of a Vault raft cluster behind fake kubectl
 * and vault commands; see tests/simulator/model.js). Each scenario asserts what happened to the cluster, not only
 * exit codes, and every scenario ends by scanning all that was exposed for key material.
 */
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import { podIdentity } from "../components/bootstrap/steps";
import { Simulation } from "./simulator/harness";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("./simulator/model.js");
/* eslint-enable @typescript-eslint/no-require-imports */

/** Secrets that must never appear: every unseal key (base64 and hex), the root token, the kubeconfig's client key. */
function secretsOf(sim: Simulation): string[] {
    const state = sim.state();
    const keys: string[] = state.cluster?.keys ?? [];
    const clientKey = /client-key-data: (\S+)/.exec(sim.kubeconfig)![1];
    return [...keys, ...keys.map((k) => Buffer.from(k, "base64").toString("hex")), state.cluster?.rootToken, clientKey].filter(Boolean);
}

function assertNothingExposed(sim: Simulation, extra: string[] = []): void {
    const exposed = sim.exposedText();
    assert.ok(sim.calls().length > 0, "the simulator saw the calls");
    for (const secret of [...secretsOf(sim), ...extra]) {
        assert.ok(!exposed.includes(secret), `a secret (${secret.slice(0, 6)}...) reached an argv, an environment or a log`);
    }
}

function vaultCalls(sim: Simulation, since = 0): string[] {
    return sim
        .calls()
        .slice(since)
        .filter((c) => c.tool === "vault")
        .map((c) => `${c.pod} ${c.argv.join(" ")}`);
}

const unsealed = (sim: Simulation) => Object.entries(sim.state().pods).filter(([, p]: [string, any]) => !p.vault.sealed).map(([name]) => name);

describe("bootstrap against the Vault simulator", function () {
    this.timeout(60_000);
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("bootstraps 3 pods: init once, all unsealed, 1 leader + 2 voting followers", async () => {
        sim = new Simulation();
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
        sim = new Simulation({ replicas: 5, keyShares: 7, keyThreshold: 4 });
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
        sim = new Simulation();
        const out = await sim.bootstrap();
        assert.equal(fs.statSync(sim.keyFile).mode & 0o777, 0o600);
        assert.equal(fs.statSync(sim.keyFile.replace(/\/init\.json$/, "")).mode & 0o777, 0o700);
        const saved = JSON.parse(fs.readFileSync(sim.keyFile, "utf8"));
        assert.deepEqual(saved.unseal_keys_b64, out.keys.unsealKeys);
        assert.equal(saved.root_token, out.keys.rootToken);
    });

    it("keeps the keys when the key file cannot be written: the step succeeds, so they reach the encrypted state", async () => {
        sim = new Simulation();
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
        sim = new Simulation();
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

    it("survives the init step being killed right after Vault was initialised: same keys, cluster unsealed", async () => {
        sim = new Simulation();
        await sim.runStep("wait-pods");
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
        await sim.runStep("init", { onSpawn: (p) => (pid = p) });
        clearInterval(watcher);
        assert.equal(sim.state().inits, 1, "Vault was initialised");

        const out = await sim.bootstrap();
        assert.equal(sim.state().inits, 1, "and never again");
        assert.deepEqual(out.keys.unsealKeys, sim.state().cluster.keys);
        assert.equal(out.keys.source, "key-file");
        assert.deepEqual(unsealed(sim), ["vault-0", "vault-1", "vault-2"]);
        assertNothingExposed(sim);
    });

    it("re-unseals a restarted follower without joining again, and only that pod", async () => {
        sim = new Simulation();
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
        sim = new Simulation();
        const { keys } = await sim.bootstrap();
        sim.restart("vault-0");
        sim.recreate("vault-2");
        assert.deepEqual(unsealed(sim), ["vault-1"]);
        assert.equal((await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } })).code, 0);
        assert.equal((await sim.runStep("join", { pod: "vault-2", secrets: { unsealKeys: keys.unsealKeys } })).code, 0);
        assert.deepEqual(unsealed(sim), ["vault-0", "vault-1", "vault-2"]);
        const verify = await sim.runStep("verify", { secrets: { rootToken: keys.rootToken } });
        assert.equal(JSON.parse(verify.stdout).peers.length, 3);
    });

    it("a pod sealed on purpose, without a restart, keeps its identity: vault-ha does not undo the seal", async () => {
        sim = new Simulation();
        await sim.bootstrap();
        const before = JSON.parse((await sim.runStep("pod-identities")).stdout);
        sim.change((s) => (s.pods["vault-2"].vault.sealed = true));
        const after = JSON.parse((await sim.runStep("pod-identities")).stdout);
        assert.deepEqual(after, before);
    });

    it("stops with a clear message when Vault is initialised and no keys are known, without touching it", async () => {
        sim = new Simulation();
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
        sim = new Simulation();
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

    it("refuses adoption keys for a Vault that is not initialised", async () => {
        sim = new Simulation();
        const run = await sim.runStep("init", { secrets: { unsealKeys: ["a", "b", "c"], rootToken: "hvs.not-this-cluster" } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /are set, but vault-0 is not initialised, so they cannot belong to this cluster/);
        assert.equal(sim.state().inits, 0);
    });

    it("a wrong key gives a clear error, and Vault's unseal progress is reset", async () => {
        sim = new Simulation();
        sim.change((s) => model.init(s, "vault-0", 5, 3));
        const { keys, rootToken } = sim.state().cluster;
        const wrong = crypto.randomBytes(33).toString("base64");
        await sim.runStep("wait-pods");
        await sim.runStep("init", { secrets: { unsealKeys: [keys[0], keys[1], wrong], rootToken } });
        const run = await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: [keys[0], keys[1], wrong] } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /vault-0 rejected the unseal keys .*they do not belong to this Vault cluster/);
        assert.equal(sim.state().pods["vault-0"].vault.sealed, true);
        assert.equal(sim.state().pods["vault-0"].vault.progress.length, 0);
        assertNothingExposed(sim, [wrong]);
    });

    it("times out naming each pod and its state when the pods never run", async () => {
        sim = new Simulation({ timeoutSeconds: 1 });
        sim.change((s) => {
            s.pods["vault-1"].running = false;
            s.pods["vault-1"].reason = "ImagePullBackOff";
            s.pods["vault-2"].running = false;
            s.pods["vault-2"].reason = "Unschedulable: 0/4 nodes are available: 4 node(s) didn't match pod anti-affinity rules";
        });
        const started = Date.now();
        const run = await sim.runStep("wait-pods");
        assert.equal(run.code, 1);
        assert.match(
            run.stderr,
            /timed out after \ds waiting for the Vault pods vault-0, vault-1, vault-2 to be Running; last seen: vault-0 Running, vault-1 Pending \(ImagePullBackOff\), vault-2 Pending \(Unschedulable: 0\/4 nodes are available: 4 node\(s\) didn't match pod anti-affinity rules\)/,
        );
        assert.ok(Date.now() - started < 5000);
    });

    it("waits for pods that start late, polling without fixed sleeps", async () => {
        sim = new Simulation();
        sim.change((s) => {
            s.pods["vault-2"].running = false;
            s.pods["vault-2"].runningAfterLists = 3;
        });
        const run = await sim.runStep("wait-pods");
        assert.equal(run.code, 0, run.stderr);
        assert.equal(sim.state().listCalls, 3, "polled until the pod ran, then stopped");
    });

    it("retries while a pod's Vault API does not answer yet, then unseals", async () => {
        sim = new Simulation();
        const { keys } = await sim.bootstrap();
        sim.restart("vault-0");
        sim.change((s) => (s.pods["vault-0"].apiDownCalls = 2));
        const run = await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(sim.state().pods["vault-0"].vault.sealed, false);
    });

    it("discards a half-finished unseal before submitting its own keys", async () => {
        sim = new Simulation();
        const { keys } = await sim.bootstrap();
        sim.restart("vault-0");
        sim.change((s) => model.unseal(s, "vault-0", crypto.randomBytes(33).toString("base64")));
        assert.equal(sim.state().pods["vault-0"].vault.progress.length, 1);
        const run = await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } });
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stderr, /discarded a half-finished unseal \(1\/3\)/);
        assert.equal(sim.state().pods["vault-0"].vault.sealed, false);
    });

    it("verify waits for autopilot to promote new followers to voters", async () => {
        sim = new Simulation();
        sim.change((s) => (s.autopilotPromotionLists = 2));
        const out = await sim.bootstrap();
        assert.ok(out.peers.every((p) => p.voter));
        assert.ok(vaultCalls(sim).filter((c) => c.includes("list-peers")).length >= 2, "verify polled until promotion");
    });

    it("moves keys of an earlier cluster aside when it finds an uninitialised Vault", async () => {
        sim = new Simulation();
        const first = await sim.bootstrap();
        // The cluster is rebuilt (new volumes): Vault is uninitialised again, the old key file remains.
        sim.change((s) => {
            const fresh = model.newState({ kubeconfig: sim.kubeconfig });
            Object.assign(s, { cluster: null, pods: fresh.pods });
        });
        const second = await sim.bootstrap();
        assert.notDeepEqual(second.keys.unsealKeys, first.keys.unsealKeys);
        const retired = fs.readdirSync(sim.keyFile.replace(/\/init\.json$/, "")).filter((f) => f.startsWith("init.json.stale-"));
        assert.equal(retired.length, 1);
        assert.match(second.runs.init.stderr, /found keys of an earlier cluster .* moved them to/);
    });

    it("destroy forgets the keys without needing the cluster, and succeeds when they are gone", async () => {
        sim = new Simulation();
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

    it("a follower that joined but was not unsealed (crash) reports uninitialised: the re-run joins no second time", async () => {
        sim = new Simulation();
        sim.change((s) => (s.statusHidesJoin = true));
        const { keys } = await sim.bootstrap();
        // vault-1 restarts between its join and its unseal: it holds raft state but has not completed the join.
        sim.recreate("vault-1");
        sim.change((s) => Object.assign(s.pods["vault-1"].vault, { initialized: true, member: false, voter: false, sealed: true }));
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys } });
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stderr, /vault-1 had already joined \(Vault says: .*raft storage is already initialized.*\); not joining again/);
        assert.equal(sim.state().pods["vault-1"].vault.sealed, false);
        assert.equal(sim.state().pods["vault-1"].vault.member, true);
    });

    it("refuses a join when the leader is sealed, and says so", async () => {
        sim = new Simulation({ timeoutSeconds: 1 });
        const { keys } = await sim.bootstrap();
        sim.restart("vault-0");
        sim.recreate("vault-1");
        sim.change((s) => Object.assign(s.pods["vault-1"].vault, { initialized: false, member: false, voter: false }));
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys.unsealKeys } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /vault-1 could not join the raft cluster at http:\/\/vault-0.vault-internal:8200: .*Vault is sealed.*The leader must be unsealed/);
    });

    it("identities read 'absent' for pods that do not exist and never fail a preview", async () => {
        sim = new Simulation();
        sim.change((s) => (s.pods["vault-2"].created = false));
        const run = await sim.runStep("pod-identities");
        assert.equal(run.code, 0);
        const ids = JSON.parse(run.stdout);
        assert.equal(ids["vault-2"], "absent");
        assert.match(ids["vault-0"], /^pod [0-9a-f-]{36} started 2026-11-28T04:00:00.000Z$/);
        assert.equal(podIdentity(undefined), "absent");
        sim.change((s) => (s.kubeconfig = "another cluster"));
        const unreachable = await sim.runStep("pod-identities");
        assert.equal(unreachable.code, 0);
        assert.deepEqual(JSON.parse(unreachable.stdout), { "vault-0": "unknown", "vault-1": "unknown", "vault-2": "unknown" });
    });
});
