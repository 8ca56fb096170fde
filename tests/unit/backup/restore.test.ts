/**
 * The pure decisions of a restore and of backup keeping (components/backup/, runner/keyFile.ts takeOverKeyFile).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pruneBackups } from "../../../components/backup/backupFiles";
import { needsRestartAfterForcedRestore, restoreOutcome } from "../../../components/backup/snapshot";
import { takeOverKeyFile } from "../../../components/runner/keyFile";

describe("restore decisions", () => {
    it("reads the outcome of the restore that came after the ones already in the log", () => {
        const old = [
            "2026-11-28T05:00:00.000Z [INFO]  core: shutting down prior to restoring snapshot",
            "2026-11-28T05:00:01.000Z [INFO]  core: post-unseal setup complete",
        ];
        assert.equal(restoreOutcome(old, 1), undefined, "an earlier restore's end is not this one's");
        const started = [
            ...old,
            "2026-11-28T05:01:00.000Z [INFO]  core: shutting down prior to restoring snapshot",
            "2026-11-28T05:01:00.000Z [INFO]  core: applying snapshot",
        ];
        assert.equal(restoreOutcome(started, 1), undefined, "applying: not finished until postUnseal is");
        assert.equal(restoreOutcome([...started, "2026-11-28T05:01:03.000Z [INFO]  core: post-unseal setup complete"], 1), "applied");
        assert.deepEqual(restoreOutcome([...started, '2026-11-28T05:01:03.000Z [ERROR] core: raft snapshot restore failed postUnseal: error="x"'], 1), {
            failed: '[ERROR] core: raft snapshot restore failed postUnseal: error="x"',
        });
    });

    it("restarts a sealed pod after a forced restore unless it already reports the snapshot's threshold", () => {
        assert.equal(needsRestartAfterForcedRestore({ sealed: true, t: 2 }, 3), true);
        assert.equal(needsRestartAfterForcedRestore({ sealed: true, t: 5 }, 3), true);
        assert.equal(needsRestartAfterForcedRestore({ sealed: true, t: 3 }, 3), false);
        assert.equal(needsRestartAfterForcedRestore({ sealed: true, t: 3 }, undefined), true, "an older backup does not say: restart");
        assert.equal(needsRestartAfterForcedRestore({ sealed: false, t: 2 }, 3), false, "never an unsealed (serving) pod");
    });
});

describe("keeping backups and keys", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-ha-backup-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const backup = (stamp: string, description: object) => {
        fs.writeFileSync(path.join(dir, `${stamp}.snap`), "snap");
        fs.writeFileSync(path.join(dir, `${stamp}.json`), JSON.stringify(description));
        fs.writeFileSync(path.join(dir, `${stamp}.keys.json`), "{}");
    };

    it("prunes each origin against itself; backups without an origin count as manual", () => {
        backup("2026-01-01T00-00-00Z", {});
        backup("2026-01-02T00-00-00Z", { origin: "manual" });
        for (const d of ["03", "04", "05"]) backup(`2026-01-${d}T00-00-00Z`, { origin: "pre-roll", rollRevision: `r${d}` });
        assert.deepEqual(
            pruneBackups(dir, 2, "pre-roll").map((f) => path.basename(f)),
            ["2026-01-03T00-00-00Z.snap"],
        );
        assert.deepEqual(
            pruneBackups(dir, 1, "manual").map((f) => path.basename(f)),
            ["2026-01-01T00-00-00Z.snap"],
        );
        assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith(".snap")).length, 3);
    });

    it("after a forced restore the key file holds the snapshot's keys and the rebuilt cluster's stay beside it", () => {
        const file = path.join(dir, ".vault-ha", "vault-ha.dev", "init.json");
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, JSON.stringify({ unseal_keys_b64: ["rebuilt"], root_token: "hvs.rebuilt" }), { mode: 0o600 });
        const aside = takeOverKeyFile(
            file,
            { unseal_keys_b64: ["snap"], root_token: "hvs.snap", unseal_threshold: 1 },
            new Date(Date.UTC(2026, 10, 28, 5, 0, 0)),
        );
        assert.equal(path.basename(aside!), "init.rebuilt-cluster-2026-11-28T05-00-00Z.json");
        assert.deepEqual(JSON.parse(fs.readFileSync(aside!, "utf8")).unseal_keys_b64, ["rebuilt"]);
        assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")).unseal_keys_b64, ["snap"]);
        for (const f of [file, aside!]) assert.equal(fs.statSync(f).mode & 0o777, 0o600);
        assert.equal(takeOverKeyFile(path.join(dir, "none", "init.json"), { unseal_keys_b64: ["snap"], root_token: "hvs.snap" }), undefined);
    });
});
