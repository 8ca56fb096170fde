/**
 * Snapshots with the keys that open them (components/backup/), against the simulator: save, restore onto the same
 * cluster, restore onto a rebuilt one (-force, the old keys, the state takes them over), and the refusals that come
 * before Vault sees anything.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { BackupError, backupPaths } from "../../components/backup/backupFiles";
import { restoreSnapshot, takeSnapshot } from "../../components/backup/snapshot";
import { bootstrappedCluster, SimulatedEngine } from "../chaos/engine";
import { assertNothingExposed } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { unsealed, vaultCalls } from "../doubles/vault/inspect";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

async function liveCluster() {
    const { sim, engine } = await bootstrappedCluster();
    return { sim, engine, keys: engine.keysInState()! };
}

describe("snapshots and restores (simulator)", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation | undefined;
    afterEach(() => sim?.dispose());

    const options = (s: Simulation) => ({ release: "vault", replicas: 3, folder: path.join(s.dir, "backups", "vault-ha.dev"), keep: 5 });

    it("saves from the active node into a private file with its checksum and keys; restores it onto the same cluster", async () => {
        const live = await liveCluster();
        sim = live.sim;
        sim.change((s) => model.writeData(s, "secret/app", "before the snapshot"));
        const ctx = sim.vaultContext("snapshot");
        const { file, description } = await takeSnapshot(ctx, { ...options(sim), keys: live.keys, now: new Date(Date.UTC(2026, 10, 28, 5, 0, 0)) });
        assert.equal(path.basename(file), "2026-11-28T05-00-00Z.snap");
        assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
        const paths = backupPaths(file);
        for (const f of [paths.snap, paths.description, paths.keys]) assert.equal(fs.statSync(f).mode & 0o777, 0o600, `${f} is private`);
        assert.ok(!fs.existsSync(paths.partial), "the snapshot was streamed into a .partial file and renamed last");
        assert.equal(description.clusterId, sim.state().cluster.id);
        assert.match(ctx.stderr(), /saved \d+ bytes in \d+s, sha256 [0-9a-f]{64}/);
        const active = sim.state().active;
        assert.ok(
            vaultCalls(sim).some((c) => c === `${active} operator raft snapshot save /dev/stdout`),
            "streamed from the active node",
        );

        sim.change((s) => model.writeData(s, "secret/app", "changed afterwards"));
        const restore = sim.vaultContext("restore");
        const result = await restoreSnapshot(restore, { release: "vault", replicas: 3, file, currentToken: live.keys.rootToken, keyThreshold: 3 });
        assert.equal(result.forced, false);
        assert.equal(model.readData(sim.state(), "secret/app"), "before the snapshot");
        assertNothingExposed(sim);
    });

    it("onto a rebuilt cluster: -force, every pod unsealed with the snapshot's keys, the state takes them over, a second up is quiet", async () => {
        const live = await liveCluster();
        sim = live.sim;
        sim.change((s) => model.writeData(s, "secret/app", "the old cluster's"));
        const { file } = await takeSnapshot(sim.vaultContext("snapshot"), { ...options(sim), keys: live.keys, now: new Date() });

        // The cluster is rebuilt (pulumi destroy, pulumi up): new volumes, a new init, new keys, and here another
        // threshold, which Vault keeps reporting after the restore until it restarts (hashicorp/vault#24975).
        sim.change((s) => model.rebuild(s));
        sim.params.keyShares = 4;
        sim.params.keyThreshold = 2;
        const rebuilt = new SimulatedEngine(sim);
        const up = await rebuilt.up();
        assert.ok(up.ok, up.runs.map((r) => r.stderr).join("\n"));
        const newKeys = rebuilt.keysInState()!;
        assert.notDeepEqual(newKeys.unsealKeys, live.keys.unsealKeys);
        assert.equal(model.readData(sim.state(), "secret/app"), undefined);

        const result = await restoreSnapshot(sim.vaultContext("restore"), {
            release: "vault",
            replicas: 3,
            file,
            currentToken: newKeys.rootToken,
            keyThreshold: 3,
        });
        assert.equal(result.forced, true);
        assert.deepEqual(result.keys, live.keys, "the keys that open the restored cluster are the snapshot's");
        assert.deepEqual(sim.state().cluster.keys, live.keys.unsealKeys);
        assert.deepEqual(unsealed(sim), sim.pods, "every pod unsealed again, with the old keys");
        assert.equal(model.readData(sim.state(), "secret/app"), "the old cluster's");

        // npm run restore sets vault-ha:unsealKeys / vault-ha:rootToken; the next up adopts them into the state.
        const adopting = new SimulatedEngine(sim, result.keys);
        for (const [id, entry] of rebuilt.state) adopting.state.set(id, entry);
        const takeOver = await adopting.up();
        assert.ok(takeOver.ok, takeOver.runs.map((r) => r.stderr).join("\n"));
        assert.deepEqual(adopting.keysInState(), live.keys, "the state holds the snapshot's keys");
        assert.deepEqual((await adopting.up()).runs, [], "a second up changes nothing");
        assertNothingExposed(sim, [...newKeys.unsealKeys, newKeys.rootToken]);
    });

    it("refuses a truncated or corrupted snapshot, and one without its keys, before Vault sees anything", async () => {
        const live = await liveCluster();
        sim = live.sim;
        const { file } = await takeSnapshot(sim.vaultContext("snapshot"), { ...options(sim), keys: live.keys, now: new Date() });
        const original = fs.readFileSync(file);
        const restoreCalls = () => vaultCalls(sim!).filter((c) => c.includes("snapshot restore")).length;
        const attempt = () =>
            restoreSnapshot(sim!.vaultContext("restore"), { release: "vault", replicas: 3, file, currentToken: live.keys.rootToken, keyThreshold: 3 });

        fs.writeFileSync(file, original.subarray(0, original.length - 10));
        await assert.rejects(attempt(), (err: Error) => err instanceof BackupError && /truncated or was changed; nothing was restored/.test(err.message));
        const changed = Buffer.from(original);
        changed[changed.length - 3] ^= 1;
        fs.writeFileSync(file, changed);
        await assert.rejects(attempt(), (err: Error) => err instanceof BackupError && /SHA-256 does not match.*corrupted/.test(err.message));
        fs.writeFileSync(file, original);
        const keysFile = backupPaths(file).keys;
        const savedKeys = fs.readFileSync(keysFile, "utf8");
        fs.writeFileSync(keysFile, JSON.stringify({ unseal_keys_b64: ["b3RoZXIta2V5LTEtMS0xLTEtMS0xLTEtMS0xLTEtMQ=="], root_token: "hvs.other" }));
        await assert.rejects(
            attempt(),
            (err: Error) => err instanceof BackupError && /holds other unseal keys than the ones saved with the snapshot/.test(err.message),
        );
        fs.writeFileSync(keysFile, savedKeys);
        fs.renameSync(backupPaths(file).keys, `${backupPaths(file).keys}.away`);
        await assert.rejects(
            attempt(),
            (err: Error) => err instanceof BackupError && /unseal keys of the cluster it came from .* are missing/.test(err.message),
        );
        assert.equal(restoreCalls(), 0, "Vault never saw a restore");
        assertNothingExposed(sim);
    });

    it("keeps the newest N backups, each whole (snapshot, description, keys)", async () => {
        const live = await liveCluster();
        sim = live.sim;
        for (let i = 0; i < 4; i++) {
            await takeSnapshot(sim.vaultContext("snapshot"), { ...options(sim), keep: 2, keys: live.keys, now: new Date(Date.UTC(2026, 10, 28, 5, i, 0)) });
        }
        assert.deepEqual(fs.readdirSync(options(sim).folder).sort(), [
            "2026-11-28T05-02-00Z.json",
            "2026-11-28T05-02-00Z.keys.json",
            "2026-11-28T05-02-00Z.snap",
            "2026-11-28T05-03-00Z.json",
            "2026-11-28T05-03-00Z.keys.json",
            "2026-11-28T05-03-00Z.snap",
        ]);
    });
});
