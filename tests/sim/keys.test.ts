/** forget-keys (components/runner/handlers/keys.ts): destroy removes the key file, with or without a cluster. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { StepParams, stepEnvironment } from "../../components/stepCommand/contract";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";

describe("forget-keys against the simulator", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

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

    it("with the raft volumes kept, destroy moves the keys that open them into the backup folder (0600 in 0700) instead", async () => {
        sim = await Simulation.create();
        await sim.bootstrap();
        const keys = fs.readFileSync(sim.keyFile, "utf8");
        const folder = path.join(sim.dir, "backups", "vault-ha.dev");
        // The delete runs with the init step's environment, which carries keepKeysIn only when the volumes are kept.
        const env = stepEnvironment("init", { ...(sim.stepParams("init") as StepParams<"init">), keepKeysIn: folder });
        const moved = await sim.runStep("forget-keys", { env: { ...env, VAULT_HA_KEY_FILE: path.relative(sim.dir, sim.keyFile) } });
        assert.equal(moved.code, 0, moved.stderr);
        const result = JSON.parse(moved.stdout);
        assert.equal(result.deleted, true);
        assert.match(path.basename(result.keptAs), /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z\.kept-volumes\.init\.json$/);
        assert.ok(!fs.existsSync(sim.keyFile), "the key file is not left where the next stack of this name would find it");
        assert.equal(fs.readFileSync(result.keptAs, "utf8"), keys);
        assert.equal(fs.statSync(result.keptAs).mode & 0o777, 0o600);
        assert.equal(fs.statSync(folder).mode & 0o777, 0o700);
        assert.match(moved.stderr, /the kept raft volumes open only with these keys/);
        const secrets = JSON.stringify(JSON.parse(keys)).match(/"[A-Za-z0-9+/=._-]{20,}"/g) ?? [];
        assert.ok(secrets.length >= 4, "the key file holds the keys and the token");
        for (const secret of secrets) assert.ok(!moved.stderr.includes(secret.slice(1, -1)), "no key material in the log");
    });
});
