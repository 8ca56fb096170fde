/**
 * A live awskms stack moved back to Shamir (issue 21 part 4) with the REAL roll step against the simulator
 * (tests/doubles/vault, "Seal migration, auto -> Shamir" in model.js; research: /work/research/auto-to-shamir.md).
 * Up #1: the release's stanza gets `disabled = "true"`; the roll replaces the standbys first, each in migration mode and
 * unsealed with the recovery keys and migrate; after the step-down the new active node migrates storage to Shamir (the
 * recovery keys become the unseal keys, same threshold and shares); the old active pod, replaced last, gets a plain
 * unseal; the key file then holds the keys as unseal keys. Up #2: the configuration without any seal stanza; every pod
 * is replaced and gets a plain unseal. Also: the KMS gone at the step-down, and a roll killed half-way.
 */
import { strict as assert } from "assert";
import { DEPTH } from "../support/depth";
import * as fs from "fs";
import * as path from "path";
import { ENV, StepName } from "../../components/stepCommand/contract";
import { keyFilePath, writeKeyFile } from "../../components/runner/keyFile";
import { requireRenderedPods, Simulation, simulatedSealPlan, StepOptions } from "../doubles/vault/harness";
import { unsealed, vaultCalls } from "../doubles/vault/inspect";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

/** What VaultBootstrap gives the roll while the stack retires awskms: the seal it moves off, no VAULT_HA_SEAL. */
const retiringEnv = {
    [ENV.migrateFromSeal]: "awskms",
    [ENV.sealDescription]: simulatedSealPlan("awskms", true).describe,
    [ENV.keyFile]: keyFilePath("vault-ha", "dev"),
};
/** What VaultBootstrap gives the bootstrap's steps of an awskms stack. */
const awskmsEnv = { [ENV.seal]: "awskms", [ENV.sealDescription]: simulatedSealPlan("awskms").describe };
const withEnv = (sim: Simulation, env: Record<string, string>) => (step: StepName, o: StepOptions) => sim.runStep(step, { ...o, env: { ...env, ...o.env } });

/** Key shares sent to Vault since call `since`: with migrate (a JSON body) and plain (key=-). */
function keysSent(sim: Simulation, since = 0): { migrate: string[]; plain: string[] } {
    const sent = vaultCalls(sim, since).filter((c) => /sys\/unseal|operator unseal(?! -reset)/.test(c));
    return { migrate: sent.filter((c) => c.endsWith("sys/unseal -")), plain: sent.filter((c) => c.endsWith("key=-")) };
}

interface Live {
    sim: Simulation;
    recoveryKeys: string[];
    rootToken: string;
    active: string;
}

/** A live awskms cluster, bootstrapped, with a secret written; then the release's stanza is disabled (up #1). */
async function retiringCluster(tls: boolean): Promise<Live> {
    const sim = await Simulation.create({ replicas: 3, tls, seal: { type: "awskms" } });
    const out = await sim.bootstrap(undefined, withEnv(sim, awskmsEnv));
    const keys = out.keys as typeof out.keys & { recoveryKeys: string[] };
    sim.change((s: unknown) => model.writeData(s, "secret/app", "written before the migration"));
    const active = sim.state().active as string;
    await sim.upgrade({ seal: { type: "awskms", disabled: true } });
    return { sim, recoveryKeys: keys.recoveryKeys, rootToken: keys.rootToken, active };
}

const rollSecrets = (live: Live) => ({ secrets: { unsealKeys: live.recoveryKeys, rootToken: live.rootToken } });

/** What the way back leaves: storage Shamir, every pod unsealed on Shamir, the data, the recovery keys as unseal keys. */
function assertOnShamir(live: Live): void {
    const s = live.sim.state();
    assert.equal(s.cluster.sealType, "shamir", "storage holds the Shamir seal");
    assert.equal(s.cluster.recovery, undefined, "no recovery configuration left");
    assert.deepEqual(s.cluster.keys, live.recoveryKeys, "the recovery shares are the unseal shares");
    assert.deepEqual(unsealed(live.sim).sort(), live.sim.pods.slice().sort(), "every pod is unsealed");
    for (const pod of live.sim.pods) {
        const status = model.sealStatus(s, pod);
        assert.equal(status.type, "shamir", `${pod} reports the Shamir seal`);
        assert.equal(status.migration, false, `${pod}: no migration pending`);
    }
    assert.equal(model.readData(s, "secret/app"), "written before the migration", "the data reads back");
    const file = JSON.parse(fs.readFileSync(live.sim.keyFile, "utf8"));
    assert.deepEqual(file.unseal_keys_b64, live.recoveryKeys, "the recovery keys are the unseal keys");
    assert.deepEqual(file.recovery_keys_b64, [], "no recovery keys any more");
    assert.equal(file.unseal_threshold, 3);
    assert.equal(file.unseal_shares, 5);
    assert.equal(file.root_token, live.rootToken);
}

describe("seal migration awskms -> shamir by the roll step (simulator)", function () {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation | undefined;
    afterEach(() => sim?.dispose());

    it("up #1 migrates a live 3-node cluster (TLS on): snapshot first, standbys with migrate, the active last; up #2 drops the stanza", async () => {
        const live = await retiringCluster(true);
        sim = live.sim;
        const since = sim.calls().length;
        const roll = await withEnv(sim, retiringEnv)("roll", rollSecrets(live));
        assert.equal(roll.code, 0, roll.stderr);
        if (process.env.SHOW_MIGRATION_LOG) console.log(roll.stderr);
        const standbys = sim.pods.filter((p) => p !== live.active).sort((a, b) => b.localeCompare(a));
        assert.deepEqual(JSON.parse(roll.stdout).rolled, [...standbys, live.active], "standbys first, the active node last");
        assertOnShamir(live);

        // The snapshot came before the first pod went.
        const calls = sim.calls().slice(since);
        const saved = calls.findIndex((c) => c.tool === "vault" && c.argv.join(" ") === "operator raft snapshot save /dev/stdout");
        const firstDelete = calls.findIndex((c) => c.tool === "kubectl" && c.argv[0] === "delete");
        assert.ok(saved >= 0 && saved < firstDelete, `the snapshot is taken before the first pod is deleted (${saved}, ${firstDelete})`);
        assert.equal(fs.readdirSync(path.join(sim.dir, "backups", "vault-ha.dev")).filter((f) => f.endsWith(".snap")).length, 1);

        // Each standby got the recovery keys with migrate; the old active, replaced after the migration, plain ones.
        const sent = keysSent(sim, since);
        for (const pod of standbys) assert.ok(sent.migrate.filter((c) => c.startsWith(`${pod} `)).length >= 3, sent.migrate.join("\n"));
        assert.deepEqual(
            sent.migrate.filter((c) => c.startsWith(`${live.active} `)),
            [],
            "no migrate to the old active pod: it starts on Shamir storage (migration false)",
        );
        assert.ok(sent.plain.filter((c) => c.startsWith(`${live.active} `)).length >= 3, sent.plain.join("\n"));
        const completed = roll.stderr.search(/completed the seal migration/);
        const activeDeleted = roll.stderr.indexOf(`${live.active}: deleted`);
        assert.ok(completed >= 0 && completed < activeDeleted, "the new active node completed the migration before the old active pod went");

        // Up #2: the configuration without the stanza; every pod is replaced and opened with the keys, plainly.
        await sim.upgrade({ seal: { type: "shamir" } });
        assert.doesNotMatch(sim.state().serverConfig, /seal "/);
        const before2 = sim.calls().length;
        const roll2 = await withEnv(sim, retiringEnv)("roll", rollSecrets(live));
        assert.equal(roll2.code, 0, roll2.stderr);
        assert.equal(JSON.parse(roll2.stdout).rolled.length, 3, "every pod was replaced");
        const sent2 = keysSent(sim, before2);
        assert.deepEqual(sent2.migrate, [], "no migrate on Shamir storage");
        for (const pod of sim.pods) assert.ok(sent2.plain.filter((c) => c.startsWith(`${pod} `)).length >= 3, `${pod}: ${sent2.plain.join("\n")}`);
        assertOnShamir(live);
        for (const pod of sim.pods)
            assert.doesNotMatch((sim.state().pods[pod].logs ?? []).join("\n"), /entering seal migration mode/, `${pod} started plain Shamir`);

        // A restart now needs the unseal step, with the (ex-recovery) keys as plain Shamir keys; the KMS is not needed.
        sim.kms(false);
        sim.restart("vault-1");
        await sim.wait(5000);
        assert.equal(sim.state().pods["vault-1"].vault.sealed, true, "a Shamir node does not open itself");
        const before3 = sim.calls().length;
        const join = await sim.runStep("join", { pod: "vault-1", ...rollSecrets(live) });
        assert.equal(join.code, 0, join.stderr);
        assert.ok(keysSent(sim, before3).plain.length >= 3);
        assertOnShamir(live);
    });

    it(`there and back (TLS off): a Shamir stack moves to awskms and back to Shamir, its data intact, opened by its first unseal keys again${DEPTH}`, async () => {
        sim = await Simulation.create({ replicas: 3, tls: false });
        const out = await sim.bootstrap();
        const first = out.keys as { unsealKeys: string[]; rootToken: string };
        sim.change((s: unknown) => model.writeData(s, "secret/app", "written before the migration"));
        const live: Live = { sim, recoveryKeys: first.unsealKeys, rootToken: first.rootToken, active: "" };

        // There: the Shamir keys become the recovery keys (vault/core.go migrateSeal).
        await sim.upgrade({ seal: { type: "awskms" } });
        const forwardEnv = { ...awskmsEnv, [ENV.keyFile]: keyFilePath("vault-ha", "dev") };
        const there = await withEnv(sim, forwardEnv)("roll", { secrets: { unsealKeys: first.unsealKeys, rootToken: first.rootToken } });
        assert.equal(there.code, 0, there.stderr);
        assert.equal(sim.state().cluster.sealType, "awskms");
        assert.deepEqual(JSON.parse(fs.readFileSync(sim.keyFile, "utf8")).recovery_keys_b64, first.unsealKeys);

        // And back: the same shares become the unseal keys again; then the stanza goes.
        await sim.upgrade({ seal: { type: "awskms", disabled: true } });
        const back = await withEnv(sim, retiringEnv)("roll", rollSecrets(live));
        assert.equal(back.code, 0, back.stderr);
        await sim.upgrade({ seal: { type: "shamir" } });
        const plain = await withEnv(sim, retiringEnv)("roll", rollSecrets(live));
        assert.equal(plain.code, 0, plain.stderr);
        assertOnShamir(live);
        assert.deepEqual(sim.state().cluster.keys, first.unsealKeys, "the first init's unseal keys open Vault again");
    });

    it("the KMS gone at the step-down: the new active node cannot migrate, the roll stops naming the seal, and continues once it is back", async () => {
        const live = await retiringCluster(true);
        sim = live.sim;
        let cut = false;
        sim.onCall = ({ phase, args }) => {
            if (!cut && phase === "before" && args.some((a) => a.includes("operator step-down"))) {
                cut = true;
                sim!.kms(false);
            }
            return undefined;
        };
        const started = sim.state().now;
        const failed = await withEnv(sim, retiringEnv)("roll", rollSecrets(live));
        sim.onCall = undefined;
        assert.ok(cut, "the step-down happened");
        assert.notEqual(failed.code, 0);
        // The pod, the direction and the seal it moves off, by its key (the wording is the runner's).
        assert.match(
            failed.stderr,
            /ERROR: vault-[12] became the active node but could not complete the seal migration [^:]*awskms[^:]*shamir[^:]*: .*AWS KMS key arn:aws:kms:\S+ .*did not answer/i,
        );
        assert.ok(sim.state().now - started < 180_000, `stopped within minutes, not at the timeout (${(sim.state().now - started) / 1000}s)`);
        assert.equal(sim.state().cluster.sealType, "awskms", "storage still holds the awskms seal");
        sim.kms(true);
        const resumed = await withEnv(sim, retiringEnv)("roll", rollSecrets(live));
        assert.equal(resumed.code, 0, resumed.stderr);
        assertOnShamir(live);
    });

    it(`a roll killed after the first pod went resumes on the next run and completes the migration${DEPTH}`, async () => {
        const live = await retiringCluster(false);
        sim = live.sim;
        sim.killAfter((args) => args[0] === "delete");
        const killed = await withEnv(sim, retiringEnv)("roll", rollSecrets(live));
        assert.equal(killed.code, 137, "killed after deleting the first pod");
        const file = JSON.parse(fs.readFileSync(sim.keyFile, "utf8"));
        assert.deepEqual(file.recovery_keys_b64, live.recoveryKeys, "nothing migrated yet: the key file still holds recovery keys");
        const resumed = await withEnv(sim, retiringEnv)("roll", rollSecrets(live));
        assert.equal(resumed.code, 0, resumed.stderr);
        assertOnShamir(live);
    });

    it("a roll killed as the old active pod went, after the migration: the next run opens it plainly and records the unseal keys", async () => {
        const live = await retiringCluster(false);
        sim = live.sim;
        sim.killAfter((args) => args[0] === "delete" && args.includes(live.active));
        const killed = await withEnv(sim, retiringEnv)("roll", rollSecrets(live));
        assert.equal(killed.code, 137);
        assert.equal(sim.state().cluster.sealType, "shamir", "the migration happened before the old active pod went");
        // As if the run had died before the key file's rewrite: the file still says recovery keys.
        const file = JSON.parse(fs.readFileSync(sim.keyFile, "utf8"));
        writeKeyFile(sim.keyFile, { ...file, unseal_keys_b64: [], recovery_keys_b64: live.recoveryKeys, recovery_keys_threshold: 3, recovery_keys_shares: 5 });
        const since = sim.calls().length;
        const resumed = await withEnv(sim, retiringEnv)("roll", rollSecrets(live));
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.deepEqual(JSON.parse(resumed.stdout).rolled, [], "every pod runs the new revision already");
        const rewritten = JSON.parse(fs.readFileSync(sim.keyFile, "utf8"));
        assert.deepEqual([rewritten.unseal_keys_b64, rewritten.recovery_keys_b64], [live.recoveryKeys, []], "the next run records the unseal keys");
        // The up's next steps: the pod the killed run deleted starts on Shamir storage (migration false) and takes
        // the keys plainly, from the unseal or join step of a Shamir stack.
        const step = live.active === "vault-0" ? "unseal" : "join";
        const opened = await sim.runStep(step, { pod: live.active, ...rollSecrets(live) });
        assert.equal(opened.code, 0, opened.stderr);
        const sent = keysSent(sim, since);
        assert.deepEqual(sent.migrate, [], "no migrate: the migration is done");
        assert.ok(sent.plain.filter((c) => c.startsWith(`${live.active} `)).length >= 3, sent.plain.join("\n"));
        assertOnShamir(live);
    });
});
