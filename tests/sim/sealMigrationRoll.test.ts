/**
 * A live Shamir stack moved to an auto seal (issue 21 part 3) with the REAL roll step against the simulator
 * (tests/doubles/vault, seal migration modelled from upstream: /work/research/seals.md §5): the release gets the
 * awskms seal stanza, and the roll replaces the pods standbys first, the active node last after a step-down; each
 * replaced pod is unsealed with the Shamir keys and migrate, the node that becomes active completes the migration,
 * and the key file then holds the keys as recovery keys. Afterwards the pods open themselves; a killed roll resumes.
 */
import { DEPTH } from "../support/depth";
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { AutoSealType } from "../../components/seal/sealTypes";
import { ENV, StepName } from "../../components/stepCommand/contract";
import { keyFilePath, writeKeyFile } from "../../components/runner/keyFile";
import { requireRenderedPods, Simulation, simulatedSealPlan, StepOptions } from "../doubles/vault/harness";
import { unsealed, vaultCalls } from "../doubles/vault/inspect";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

/** What VaultBootstrap adds to the roll's environment for an auto seal: the seal, and the key file to rewrite. */
function sealEnv(type: AutoSealType): Record<string, string> {
    return { [ENV.seal]: type, [ENV.sealDescription]: simulatedSealPlan(type).describe, [ENV.keyFile]: keyFilePath("vault-ha", "dev") };
}
const withSeal = (sim: Simulation, type: AutoSealType) => (step: StepName, o: StepOptions) => sim.runStep(step, { ...o, env: { ...sealEnv(type), ...o.env } });

/** Key shares sent to Vault (sys/unseal in any form, operator unseal) since call `since`. */
const keysSent = (sim: Simulation, since = 0) => vaultCalls(sim, since).filter((c) => /sys\/unseal|operator unseal(?! -reset)/.test(c));

/** A live Shamir cluster, bootstrapped, with a secret written; then the release moves to awskms. */
async function migratingCluster(tls: boolean, type: AutoSealType = "awskms") {
    const sim = await Simulation.create({ replicas: 3, tls });
    const out = await sim.bootstrap();
    sim.change((s: unknown) => model.writeData(s, "secret/app", "written before the migration"));
    const active = sim.state().active as string;
    await sim.upgrade({ seal: { type } });
    return { sim, keys: out.keys as { unsealKeys: string[]; rootToken: string }, active };
}

/** What a finished migration leaves: every pod on the auto seal and unsealed, the data, the keys as recovery keys. */
function assertMigrated(sim: Simulation, keys: { unsealKeys: string[]; rootToken: string }, type: AutoSealType = "awskms") {
    const s = sim.state();
    assert.equal(s.cluster.sealType, type, "storage holds the auto seal");
    assert.deepEqual(unsealed(sim).sort(), sim.pods.slice().sort(), "every pod is unsealed");
    for (const pod of sim.pods) {
        const status = model.sealStatus(s, pod);
        assert.equal(status.type, type, `${pod} reports the ${type} seal`);
        assert.equal(status.migration, false, `${pod}: no migration pending`);
    }
    assert.equal(model.readData(s, "secret/app"), "written before the migration", "the data reads back");
    const file = JSON.parse(fs.readFileSync(sim.keyFile, "utf8"));
    assert.deepEqual(file.unseal_keys_b64, [], "no unseal keys any more");
    assert.deepEqual(file.recovery_keys_b64, keys.unsealKeys, "the Shamir keys are the recovery keys");
    assert.equal(file.recovery_keys_shares, keys.unsealKeys.length);
    assert.equal(file.recovery_keys_threshold, 3);
    assert.equal(file.root_token, keys.rootToken);
}

describe("seal migration shamir -> awskms by the roll step (simulator)", function () {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation | undefined;
    afterEach(() => sim?.dispose());

    for (const tls of [false, true]) {
        it(`migrates a live 3-node cluster (TLS ${tls ? "on" : "off"}): snapshot first, standbys with migrate, the active last; then it opens itself${tls ? "" : DEPTH}`, async () => {
            const live = await migratingCluster(tls);
            sim = live.sim;
            const since = sim.calls().length;
            const roll = await withSeal(sim, "awskms")("roll", { secrets: { unsealKeys: live.keys.unsealKeys, rootToken: live.keys.rootToken } });
            assert.equal(roll.code, 0, roll.stderr);
            if (process.env.SHOW_MIGRATION_LOG) console.log(roll.stderr);
            const standbys = sim.pods.filter((p) => p !== live.active).sort((a, b) => b.localeCompare(a));
            assert.deepEqual(JSON.parse(roll.stdout).rolled, [...standbys, live.active], "standbys first, the active node last");
            assertMigrated(sim, live.keys);

            // The snapshot came before the first pod went.
            const calls = sim.calls().slice(since);
            const saved = calls.findIndex((c) => c.tool === "vault" && c.argv.join(" ") === "operator raft snapshot save /dev/stdout");
            const firstDelete = calls.findIndex((c) => c.tool === "kubectl" && c.argv[0] === "delete");
            assert.ok(saved >= 0 && saved < firstDelete, `the snapshot is taken before the first pod is deleted (${saved}, ${firstDelete})`);
            const backups = fs.readdirSync(path.join(sim.dir, "backups", "vault-ha.dev"));
            assert.equal(backups.filter((f) => f.endsWith(".snap")).length, 1);

            // Each standby got the Shamir keys with migrate (a JSON body, migrate a boolean); the old active node none.
            const sent = keysSent(sim, since);
            for (const pod of standbys) assert.ok(sent.filter((c) => c === `${pod} write -format=json sys/unseal -`).length >= 3, sent.join("\n"));
            assert.deepEqual(
                sent.filter((c) => c.startsWith(`${live.active} `)),
                [],
                "the old active pod, replaced after the migration, opened itself",
            );
            assert.ok(!sent.some((c) => c.includes("key=-")), "no plain unseal on a node in migration mode");
            const completed = roll.stderr.search(/completed the seal migration to awskms/);
            const activeDeleted = roll.stderr.indexOf(`${live.active}: deleted`);
            assert.ok(completed >= 0 && completed < activeDeleted, "the new active node completed the migration before the old active pod went");
            assert.match(roll.stderr, /now holds the keys as recovery keys/);

            // Later: a restart opens itself; no key is sent, though the roll's stdin still holds the old ones.
            const after = sim.calls().length;
            sim.restart("vault-1");
            const unseal = await withSeal(sim, "awskms")("join", {
                pod: "vault-1",
                secrets: { unsealKeys: live.keys.unsealKeys, rootToken: live.keys.rootToken },
            });
            assert.equal(unseal.code, 0, unseal.stderr);
            assert.deepEqual(unsealed(sim).sort(), sim.pods.slice().sort());
            const again = await withSeal(sim, "awskms")("roll", { secrets: { unsealKeys: live.keys.unsealKeys, rootToken: live.keys.rootToken } });
            assert.equal(again.code, 0, again.stderr);
            assert.deepEqual(JSON.parse(again.stdout).rolled, [], "a second roll has nothing to do");
            assert.deepEqual(keysSent(sim, after), [], "no key is sent after the migration");
            assertMigrated(sim, live.keys);
        });
    }

    it("gcpckms, whose settings change no container env or label: the seal's pod annotation still rolls every pod", async () => {
        const live = await migratingCluster(true, "gcpckms");
        sim = live.sim;
        const roll = await withSeal(sim, "gcpckms")("roll", { secrets: { unsealKeys: live.keys.unsealKeys, rootToken: live.keys.rootToken } });
        assert.equal(roll.code, 0, roll.stderr);
        assert.equal(JSON.parse(roll.stdout).rolled.length, 3, "every pod was replaced");
        assertMigrated(sim, live.keys, "gcpckms");
    });

    it("the KMS gone at the step-down: the new active node cannot migrate, the roll stops at once, and continues once it is back", async () => {
        const live = await migratingCluster(true);
        sim = live.sim;
        const secrets = { unsealKeys: live.keys.unsealKeys, rootToken: live.keys.rootToken };
        let cut = false;
        sim.onCall = ({ phase, args }) => {
            if (!cut && phase === "before" && args.some((a) => a.includes("operator step-down"))) {
                cut = true;
                sim!.kms(false);
            }
            return undefined;
        };
        const started = sim.state().now;
        const failed = await withSeal(sim, "awskms")("roll", { secrets });
        sim.onCall = undefined;
        assert.ok(cut, "the step-down happened");
        assert.notEqual(failed.code, 0);
        assert.match(failed.stderr, /became the active node but could not complete the seal migration to awskms: its seal, AWS KMS key .* did not answer/);
        assert.ok(sim.state().now - started < 180_000, `stopped within minutes, not at the timeout (${(sim.state().now - started) / 1000}s)`);
        assert.equal(sim.state().cluster.sealType, "shamir", "storage still holds the Shamir seal");
        sim.kms(true);
        const resumed = await withSeal(sim, "awskms")("roll", { secrets });
        assert.equal(resumed.code, 0, resumed.stderr);
        assertMigrated(sim, live.keys);
    });

    it("a roll killed after the first pod went resumes on the next run and completes the migration", async () => {
        const live = await migratingCluster(true);
        sim = live.sim;
        const secrets = { unsealKeys: live.keys.unsealKeys, rootToken: live.keys.rootToken };
        sim.killAfter((args) => args[0] === "delete");
        const killed = await withSeal(sim, "awskms")("roll", { secrets });
        assert.equal(killed.code, 137, "killed after deleting the first pod");
        const file = JSON.parse(fs.readFileSync(sim.keyFile, "utf8"));
        assert.deepEqual(file.unseal_keys_b64, live.keys.unsealKeys, "nothing migrated yet: the key file still holds unseal keys");
        // The deleted pod comes back in migration mode, sealed: the next run unseals it with migrate, then goes on.
        const resumed = await withSeal(sim, "awskms")("roll", { secrets });
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.match(resumed.stderr, /is in seal migration mode \(shamir -> awskms\): unsealing it with the Shamir keys and migrate/);
        assertMigrated(sim, live.keys);
    });

    it("a roll stopped after the migration, before the key file was rewritten, records the recovery keys on the next run", async () => {
        const live = await migratingCluster(false);
        sim = live.sim;
        const secrets = { unsealKeys: live.keys.unsealKeys, rootToken: live.keys.rootToken };
        // The old active pod is deleted last, after the migration: killed right there, before the key file is rewritten.
        sim.killAfter((args) => args[0] === "delete" && args.includes(live.active));
        const killed = await withSeal(sim, "awskms")("roll", { secrets });
        assert.equal(killed.code, 137);
        assert.equal(sim.state().cluster.sealType, "awskms", "the migration happened before the old active pod went");
        // As if the run had died between the migration and the key file's rewrite: the file still says unseal keys.
        const shamirFile = JSON.parse(fs.readFileSync(sim.keyFile, "utf8"));
        assert.deepEqual(shamirFile.recovery_keys_b64, live.keys.unsealKeys, "rewritten right after the migration");
        writeKeyFile(sim.keyFile, { ...shamirFile, unseal_keys_b64: live.keys.unsealKeys, recovery_keys_b64: [] });
        const resumed = await withSeal(sim, "awskms")("roll", { secrets });
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.deepEqual(JSON.parse(resumed.stdout).rolled, [], "every pod runs the new revision already");
        // The up's next steps: the pod the killed run deleted opens itself (its unseal or join step sends nothing).
        const since = sim.calls().length;
        const step = live.active === "vault-0" ? "unseal" : "join";
        const unseal = await withSeal(sim, "awskms")(step, { pod: live.active, secrets });
        assert.equal(unseal.code, 0, unseal.stderr);
        assert.deepEqual(keysSent(sim, since), []);
        assertMigrated(sim, live.keys);
    });
});
