/**
 * Restores as Vault really takes them (issue 19, items 4, 6, 8 and 9), against the simulator:
 * - a forced restore onto a cluster with another unseal threshold: each Vault process counts shares against the seal
 *   configuration it cached before the restore (vault/seal.go BarrierConfig, vault/core.go getUnsealKey), 5/3 → 3/2
 *   and back;
 * - a large snapshot: the listener's http_read_timeout (30 s) and max_request_duration (90 s) against a body that
 *   comes through `kubectl exec` at the user's speed; a rejection is reported as one;
 * - a non-forced restore is done when Vault's restore goroutine has finished its post-unseal work, not when raft's
 *   index moves (vault/logical_system_raft.go handleStorageRaftSnapshotWrite);
 * - backups taken before a roll: the first one of a roll is kept, a manual one is never pruned for an automatic one.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { BackupError, restoreSnapshot, takeSnapshot } from "../../components/backup/snapshot";
import { unsealerForcedRefusal } from "../../scripts/backup";
import { StepError } from "../../components/runner/poll";
import { bootstrappedCluster, SimulatedEngine } from "../chaos/engine";
import { assertNothingExposed } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { unsealed } from "../doubles/vault/inspect";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

async function liveCluster(options: Parameters<typeof Simulation.create>[0] = {}) {
    const { sim, engine } = await bootstrappedCluster(options);
    return { sim, engine, keys: engine.keysInState()! };
}

const folderOf = (sim: Simulation) => path.join(sim.dir, "backups", "vault-ha.dev");

/** A manual backup of the live cluster into the stack's backup folder (5 kept), as `npm run snapshot` takes one. */
function snapshotNow(sim: Simulation, keys: { unsealKeys: string[]; rootToken: string }, o: { replicas?: number; now?: Date } = {}) {
    return takeSnapshot(sim.vaultContext("snapshot"), {
        release: "vault",
        replicas: o.replicas ?? 3,
        keys,
        folder: folderOf(sim),
        keep: 5,
        now: o.now ?? new Date(),
    });
}

/** Snapshot files staged in any pod's $HOME (kubectl.ts STAGED_SNAPSHOT_FILE). */
function stagedSnapshots(sim: Simulation): string[] {
    const pods = path.join(sim.dir, "pods");
    if (!fs.existsSync(pods)) return [];
    return fs
        .readdirSync(pods)
        .flatMap((p) => [".vault-ha-restore.snap", ".vault-ha-restore.snap.partial"].map((f) => path.join(pods, p, "home", f)))
        .filter((f) => fs.existsSync(f));
}

describe("restores as Vault takes them (simulator)", function () {
    this.timeout(60_000);
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation | undefined;
    afterEach(() => sim?.dispose());

    it("forced restore across thresholds, 5/3 onto 3/2 and back: sealed pods holding the old configuration are restarted first", async () => {
        const live = await liveCluster({ keyShares: 5, keyThreshold: 3 });
        sim = live.sim;
        sim.change((s) => model.writeData(s, "secret/app", "the 5/3 cluster's"));
        const { file: fiveThree } = await snapshotNow(sim, live.keys, { now: new Date(Date.UTC(2026, 10, 28, 5, 0, 0)) });

        sim.change((s) => model.rebuild(s));
        sim.params.keyShares = 3;
        sim.params.keyThreshold = 2;
        const rebuilt = new SimulatedEngine(sim);
        assert.ok((await rebuilt.up()).ok);
        const small = rebuilt.keysInState()!;
        sim.change((s) => model.writeData(s, "secret/app", "the 3/2 cluster's"));
        const { file: threeTwo } = await snapshotNow(sim, small, { now: new Date(Date.UTC(2026, 10, 28, 5, 1, 0)) });

        // 3/2 running, 5/3 restored: each process still counts 2 shares (its cached configuration), so 3 shares
        // of the 5/3 split would be combined 2 at a time: "invalid key".
        const first = await restoreSnapshot(sim.vaultContext("restore 5/3"), {
            release: "vault",
            replicas: 3,
            file: fiveThree,
            currentToken: small.rootToken,
            keyThreshold: 2,
        });
        assert.equal(first.forced, true);
        assert.deepEqual(unsealed(sim), sim.pods);
        assert.equal(model.readData(sim.state(), "secret/app"), "the 5/3 cluster's");
        for (const pod of sim.pods) assert.equal(model.sealStatus(sim.state(), pod).t, 3, `${pod} reports the restored cluster's threshold`);

        // And back: 5/3 running, 3/2 restored: each process waits for 3 shares of a 2-share split.
        const back = await restoreSnapshot(sim.vaultContext("restore 3/2"), {
            release: "vault",
            replicas: 3,
            file: threeTwo,
            currentToken: live.keys.rootToken,
            keyThreshold: 3,
        });
        assert.equal(back.forced, true);
        assert.deepEqual(unsealed(sim), sim.pods);
        assert.equal(model.readData(sim.state(), "secret/app"), "the 3/2 cluster's");
        for (const pod of sim.pods) assert.equal(model.sealStatus(sim.state(), pod).t, 2);
        assertNothingExposed(sim, [...live.keys.unsealKeys, live.keys.rootToken, ...small.unsealKeys, small.rootToken]);
    });

    for (const tls of [false, true]) {
        it(`a large snapshot is uploaded into the pod first and restored over loopback (TLS ${tls ? "on" : "off"})`, async () => {
            const live = await liveCluster({ tls });
            sim = live.sim;
            // ~600 KB at 16 KiB/s through kubectl exec: 37 s, more than the listener's 30 s for a body.
            sim.change((s) => {
                s.timing.execStreamBytesPerSec = 16 * 1024;
                model.writeData(s, "secret/big", "x".repeat(600_000));
                model.writeData(s, "secret/app", "before");
            });
            const { file } = await snapshotNow(sim, live.keys);
            sim.change((s) => model.writeData(s, "secret/app", "after"));
            const ctx = sim.vaultContext("restore");
            const result = await restoreSnapshot(ctx, { release: "vault", replicas: 3, file, currentToken: live.keys.rootToken, keyThreshold: 3 });
            assert.equal(result.forced, false);
            assert.equal(model.readData(sim.state(), "secret/app"), "before");
            assert.deepEqual(stagedSnapshots(sim), [], "the uploaded copy is removed");
            assertNothingExposed(sim);
        });
    }

    it("a restore Vault answers with an error is reported as refused, nothing restored, and the upload removed", async () => {
        const live = await liveCluster();
        sim = live.sim;
        sim.change((s) => model.writeData(s, "secret/big", "x".repeat(600_000)));
        const { file } = await snapshotNow(sim, live.keys);
        // A disk so slow that even the loopback upload outlasts http_read_timeout: Vault answers 500.
        sim.change((s) => {
            s.timing.execStreamBytesPerSec = 8 * 1024;
            s.timing.loopbackBytesPerSec = 8 * 1024;
            model.writeData(s, "secret/app", "unchanged");
        });
        await assert.rejects(
            restoreSnapshot(sim.vaultContext("restore"), { release: "vault", replicas: 3, file, currentToken: live.keys.rootToken, keyThreshold: 3 }),
            (err: Error) =>
                err instanceof StepError &&
                /Vault refused the snapshot .*i\/o timeout.*nothing was restored/s.test(err.message) &&
                !/may or may not/.test(err.message),
        );
        assert.equal(model.readData(sim.state(), "secret/app"), "unchanged");
        assert.deepEqual(stagedSnapshots(sim), []);
    });

    it("a non-forced restore is applied when Vault says its post-restore work is done, and a failure there is reported", async () => {
        const live = await liveCluster();
        sim = live.sim;
        sim.change((s) => model.writeData(s, "secret/app", "before"));
        const { file } = await snapshotNow(sim, live.keys);
        sim.change((s) => model.writeData(s, "secret/app", "after"));
        const ctx = sim.vaultContext("restore");
        await restoreSnapshot(ctx, { release: "vault", replicas: 3, file, currentToken: live.keys.rootToken, keyThreshold: 3 });
        const state = sim.state();
        assert.equal(state.pendingRestore ?? null, null, "Vault's restore goroutine has finished");
        assert.ok(state.pods[state.active].logs.some((l: string) => /post-unseal setup complete/.test(l)));
        assert.match(ctx.stderr(), /snapshot applied/);

        // postUnseal fails: Vault seals the node (the goroutine's deferred seal).
        sim.change((s) => (s.faults.restorePostUnsealFails = 1));
        await assert.rejects(
            restoreSnapshot(sim.vaultContext("restore again"), { release: "vault", replicas: 3, file, currentToken: live.keys.rootToken, keyThreshold: 3 }),
            (err: Error) => err instanceof StepError && /failed postUnseal/.test(err.message),
        );
    });

    it("the leadership moves during the upload: nothing is sent to the standby, and the snapshot goes to the new active node", async () => {
        const live = await liveCluster();
        sim = live.sim;
        sim.change((s) => model.writeData(s, "secret/app", "before"));
        const { file } = await snapshotNow(sim, live.keys);
        sim.change((s) => model.writeData(s, "secret/app", "after"));
        const first = sim.state().active;
        let moved = false;
        sim.onCall = (call) => {
            // Right after the first upload landed, the active node steps down (a roll, a crash elsewhere).
            if (moved || call.phase !== "after" || !call.args.some((a) => a.includes('cat > "$f.partial"'))) return undefined;
            moved = true;
            sim!.change((s) => model.stepDown(s, s.active, s.cluster.rootToken));
            return undefined;
        };
        const ctx = sim.vaultContext("restore");
        await restoreSnapshot(ctx, { release: "vault", replicas: 3, file, currentToken: live.keys.rootToken, keyThreshold: 3 });
        assert.ok(moved);
        assert.match(ctx.stderr(), new RegExp(`${first} stopped being the active node during the upload; nothing was restored`));
        assert.notEqual(sim.state().active, first);
        assert.equal(model.readData(sim.state(), "secret/app"), "before", "restored through the new active node");
        assert.deepEqual(stagedSnapshots(sim), []);
    });

    it("without the right to read pod logs, a plain restore is done when Vault answers again with a new active term", async () => {
        const live = await liveCluster();
        sim = live.sim;
        sim.change((s) => model.writeData(s, "secret/app", "before"));
        const { file } = await snapshotNow(sim, live.keys);
        sim.change((s) => {
            model.writeData(s, "secret/app", "after");
            s.kube.forbidden.push("get pods/log vault");
        });
        const ctx = sim.vaultContext("restore");
        await restoreSnapshot(ctx, { release: "vault", replicas: 3, file, currentToken: live.keys.rootToken, keyThreshold: 3 });
        assert.equal(sim.state().pendingRestore ?? null, null, "Vault's restore goroutine had finished");
        assert.match(ctx.stderr(), /snapshot applied/);
        assert.equal(model.readData(sim.state(), "secret/app"), "before");
    });

    it("a forced restore with a sealed pod is refused before anything is sent: that pod would miss the snapshot's keyring", async () => {
        const live = await liveCluster();
        sim = live.sim;
        const { file } = await snapshotNow(sim, live.keys);
        sim.change((s) => model.rebuild(s));
        const rebuilt = new SimulatedEngine(sim);
        assert.ok((await rebuilt.up()).ok);
        sim.change((s) => {
            model.writeData(s, "secret/app", "the rebuilt cluster's");
            model.restart(s, "vault-2");
        });
        let handedOver = false;
        await assert.rejects(
            restoreSnapshot(sim.vaultContext("restore"), {
                release: "vault",
                replicas: 3,
                file,
                currentToken: rebuilt.keysInState()!.rootToken,
                keyThreshold: 3,
                onForced: () => {
                    handedOver = true;
                },
            }),
            (err: Error) => err instanceof StepError && /vault-2 is sealed: a forced restore needs every pod unsealed.*Nothing was restored/.test(err.message),
        );
        assert.equal(handedOver, false, "the keys were not handed over");
        assert.equal(model.readData(sim.state(), "secret/app"), "the rebuilt cluster's");
        assert.deepEqual(stagedSnapshots(sim), []);
    });

    it("with the in-cluster unsealer on, a forced restore is refused before anything is sent, with the way through", async () => {
        const live = await liveCluster();
        sim = live.sim;
        const { file } = await snapshotNow(sim, live.keys);
        sim.change((s) => model.rebuild(s));
        const rebuilt = new SimulatedEngine(sim);
        assert.ok((await rebuilt.up()).ok);
        sim.change((s) => model.writeData(s, "secret/app", "the rebuilt cluster's"));
        const before = sim.calls().length;
        await assert.rejects(
            restoreSnapshot(sim.vaultContext("restore"), {
                release: "vault",
                replicas: 3,
                file,
                currentToken: rebuilt.keysInState()!.rootToken,
                keyThreshold: 3,
                forcedRefusal: unsealerForcedRefusal("dev"),
            }),
            (err: Error) =>
                err instanceof BackupError &&
                /restore would be forced.*npm run config -- set vault-ha:autoUnseal none && npm run up.*Nothing was restored$/.test(err.message),
        );
        assert.equal(model.readData(sim.state(), "secret/app"), "the rebuilt cluster's");
        assert.deepEqual(stagedSnapshots(sim), []);
        const sent = sim
            .calls()
            .slice(before)
            .filter((c) => c.argv.some((a) => /snapshot|restore/.test(a)));
        assert.deepEqual(sent, [], "no snapshot reached a pod");
    });

    it("backups before a roll: a resumed roll reuses its first one, and manual backups are never pruned for automatic ones", async () => {
        const live = await liveCluster();
        sim = live.sim;
        const folder = folderOf(sim);
        const base = { release: "vault", replicas: 3, keys: live.keys, folder, keep: 2 };
        const manual = await takeSnapshot(sim.vaultContext("manual"), { ...base, now: new Date(Date.UTC(2026, 10, 28, 5, 0, 0)) });
        const rollOf = (revision: string, minute: number) =>
            takeSnapshot(sim!.vaultContext("roll"), { ...base, now: new Date(Date.UTC(2026, 10, 28, 6, minute, 0)), roll: { revision } });
        const first = await rollOf("vault-aaaa", 0);
        // The roll is retried five times toward the same revision.
        for (let i = 1; i <= 5; i++) assert.equal((await rollOf("vault-aaaa", i)).file, first.file, "the first pre-roll backup is reused");
        // Two more rolls, to other revisions: only automatic backups make room for them.
        await rollOf("vault-bbbb", 10);
        const third = await rollOf("vault-cccc", 20);
        const snaps = fs.readdirSync(folder).filter((f) => f.endsWith(".snap"));
        assert.ok(snaps.includes(path.basename(manual.file)), "the manual backup stays");
        assert.ok(snaps.includes(path.basename(third.file)));
        assert.ok(!snaps.includes(path.basename(first.file)), "the oldest automatic one made room");
        assert.equal(snaps.length, 3);
        assert.equal(JSON.parse(fs.readFileSync(third.file.replace(/\.snap$/, ".json"), "utf8")).origin, "pre-roll");
    });
});
