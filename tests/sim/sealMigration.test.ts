/**
 * The simulator's seal migration, Shamir -> auto (tests/doubles/vault/model.js, "Seal migration"), driven through the
 * fake kubectl and Vault CLI and the model, not through the runner: a live Shamir cluster gets an awskms seal in its
 * configuration; a replaced pod is in migration mode, refuses a plain unseal, unseals with migrate as a standby, and
 * performs the migration once it becomes active; afterwards pods unseal themselves and the Shamir keys are recovery keys.
 * And the way back, auto -> Shamir (model.js "Seal migration, auto -> Shamir"; research: /work/research/auto-to-shamir.md):
 * the awskms stanza disabled, a replaced pod is in migration mode with a Shamir barrier and takes the recovery keys with
 * migrate; the node elected after the step-down migrates storage to Shamir, the recovery keys becoming the unseal keys.
 */
import { strict as assert } from "assert";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";

import { CliResult, kubectl, status, vault } from "../doubles/vault/directCli";
/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

type Result = CliResult;

/** One share through `vault write sys/unseal -` with a JSON body (the way to send migrate as a boolean). */
const unsealJson = (sim: Simulation, pod: string, key: string, migrate?: boolean) =>
    vault(sim, pod, ["write", "-format=json", "sys/unseal", "-"], JSON.stringify({ key, ...(migrate === undefined ? {} : { migrate }) }));

/** Lets simulated time pass until `done` holds, at most `ms`. */
async function waitFor(sim: Simulation, done: () => boolean, ms: number): Promise<void> {
    const start = sim.clock.now();
    while (!done()) {
        if (sim.clock.now() - start > ms) assert.fail(`not within ${ms} ms of simulated time`);
        await sim.wait(100);
    }
}

const active = (sim: Simulation): string | null => sim.state().active;
const activeIs = (sim: Simulation, pod: string) => () => active(sim) === pod;

/** A live Shamir cluster of 3: vault-0 initialised and active, vault-1 and vault-2 joined, unsealed, voters. */
async function liveShamirCluster(sim: Simulation): Promise<string[]> {
    const init = vault(sim, "vault-0", ["operator", "init", "-key-shares=5", "-key-threshold=3", "-format=json"]);
    assert.equal(init.code, 0, init.stderr);
    const keys: string[] = JSON.parse(init.stdout).unseal_keys_b64;
    for (const key of keys.slice(0, 3)) assert.equal(vault(sim, "vault-0", ["write", "sys/unseal", "key=-"], key).code, 0);
    await waitFor(sim, activeIs(sim, "vault-0"), 30_000);
    for (const pod of ["vault-1", "vault-2"]) {
        const joined = vault(sim, pod, ["operator", "raft", "join", "http://vault-0.vault-internal:8200"]);
        assert.equal(joined.code, 0, joined.stderr);
        for (const key of keys.slice(0, 3)) assert.equal(vault(sim, pod, ["write", "sys/unseal", "key=-"], key).code, 0);
    }
    await waitFor(sim, () => ["vault-1", "vault-2"].every((p) => sim.state().pods[p].vault.voter && !sim.state().pods[p].vault.sealed), 60_000);
    return keys;
}

/** The pod is deleted and made again from the StatefulSet (with the configuration the ConfigMap holds now). */
async function replace(sim: Simulation, pod: string): Promise<void> {
    assert.equal(kubectl(sim, ["delete", "pod", pod, "-n", "vault", "--wait=false"]).code, 0);
    await waitFor(
        sim,
        () => sim.state().pods[pod].runningAt !== null && sim.state().pods[pod].runningAt <= sim.clock.now() && !sim.state().pods[pod].terminatingUntil,
        30_000,
    );
    await sim.wait(1000);
}

describe("seal migration Shamir -> auto in the simulator", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("a replaced pod is in migration mode: sealed, the auto seal's type, Shamir t/n as recovery, no self-unseal", async () => {
        sim = await Simulation.create({});
        await liveShamirCluster(sim);
        assert.equal(sim.state().cluster.sealType, "shamir");
        await sim.upgrade({ seal: { type: "awskms" } });
        // Running pods keep the configuration they started with.
        assert.equal(status(sim, "vault-1").type, "shamir");
        assert.equal(status(sim, "vault-1").migration, false);
        await replace(sim, "vault-1");
        await sim.wait(30_000);
        const st = status(sim, "vault-1");
        assert.equal(st.sealed, true, "it does not unseal itself");
        assert.equal(st.migration, true);
        assert.equal(st.type, "awskms");
        assert.equal(st.recovery_seal, true);
        assert.equal(st.recovery_seal_type, "shamir");
        assert.equal(st.t, 3);
        assert.equal(st.n, 5);
        assert.match(
            kubectl(sim, ["logs", "vault-1", "-n", "vault", "-c", "vault"]).stdout,
            /\[WARN\] {2}core: entering seal migration mode; Vault will not automatically unseal even if using an autoseal: from_barrier_type=shamir to_barrier_type=awskms/,
        );
    });

    it("refuses a plain unseal, a K=V migrate=true, and migrate on a node not in migration mode; unseals with migrate", async () => {
        sim = await Simulation.create({});
        const keys = await liveShamirCluster(sim);
        await sim.upgrade({ seal: { type: "awskms" } });
        await replace(sim, "vault-1");

        const plain = vault(sim, "vault-1", ["write", "sys/unseal", "key=-"], keys[0]);
        assert.equal(plain.code, 2);
        assert.match(plain.stderr, /Code: 500\. Errors:\n\n\* migrate option not provided and seal migration is pending\n/);
        const kv = vault(sim, "vault-1", ["write", "sys/unseal", "key=-", "migrate=true"], keys[0]);
        assert.equal(kv.code, 2);
        assert.match(
            kv.stderr,
            /Code: 400\. Errors:\n\n\* failed to parse JSON input: json: cannot unmarshal string into Go struct field UnsealRequest\.Migrate of type bool\n/,
        );
        const notMigrating = unsealJson(sim, "vault-2", keys[0], true);
        assert.equal(notMigrating.code, 2);
        assert.match(notMigrating.stderr, /Code: 500\. Errors:\n\n\* can't perform a seal migration, no migration seal found\n/);
        assert.equal(status(sim, "vault-1").progress, 0, "refused shares are not counted");

        for (const key of keys.slice(0, 2)) assert.equal(unsealJson(sim, "vault-1", key, true).code, 0);
        assert.equal(status(sim, "vault-1").progress, 2);
        assert.equal(status(sim, "vault-1").sealed, true);
        const third = unsealJson(sim, "vault-1", keys[2], true);
        assert.equal(third.code, 0, third.stderr);
        assert.equal(JSON.parse(third.stdout).data.sealed, false);
        await sim.wait(5000);
        assert.equal(active(sim), "vault-0", "it comes up as a standby");
        assert.equal(status(sim, "vault-1").migration, true, "still pending until it is active");
        assert.equal(sim.state().cluster.sealType, "shamir");
    });

    it("a migrated standby that becomes active migrates storage; data intact; Shamir keys become recovery keys", async () => {
        sim = await Simulation.create({});
        const keys = await liveShamirCluster(sim);
        sim.change((s) => model.writeData(s, "secret/canary", "tweet"));
        await sim.upgrade({ seal: { type: "awskms" } });
        for (const pod of ["vault-2", "vault-1"]) {
            await replace(sim, pod);
            for (const key of keys.slice(0, 3)) assert.equal(unsealJson(sim, pod, key, true).code, 0);
            await waitFor(sim, () => sim.state().pods[pod].vault.voter === true && !sim.state().pods[pod].vault.sealed, 30_000);
        }
        await sim.wait(15_000);
        // The hand-over: the old active steps down, a migrated standby is elected and performs the migration.
        const token = sim.state().cluster.rootToken;
        sim.change((s) => model.stepDown(s, "vault-0", token));
        await waitFor(sim, () => active(sim) === "vault-1" || active(sim) === "vault-2", 30_000);
        const leader = active(sim)!;
        const cluster = sim.state().cluster;
        assert.equal(cluster.sealType, "awskms");
        assert.deepEqual(cluster.recovery, { keys, threshold: 3, shares: 5 });
        assert.match(kubectl(sim, ["logs", leader, "-n", "vault", "-c", "vault"]).stdout, /seal migration complete/);
        assert.equal(status(sim, leader).migration, false);
        assert.equal(status(sim, leader).type, "awskms");
        let read: string | undefined;
        sim.change((s) => (read = model.readData(s, "secret/canary")));
        assert.equal(read, "tweet");
        // The old active still runs with the Shamir configuration it started with, unsealed, a standby.
        assert.equal(status(sim, "vault-0").type, "shamir");
        assert.equal(status(sim, "vault-0").sealed, false);

        // The old active, replaced last, starts with the auto seal on auto storage: it unseals itself.
        await replace(sim, "vault-0");
        await waitFor(sim, () => !sim.state().pods["vault-0"].vault.sealed, 30_000);
        assert.equal(status(sim, "vault-0").migration, false);
        assert.equal(status(sim, "vault-0").t, 3);

        // A restarted pod unseals itself too; the Shamir keys are recovery keys now: verified, they open nothing.
        sim.restart("vault-2");
        let answers: Result[] = [];
        sim.change((s) => (answers = keys.slice(0, 3).map((key) => model.unseal(s, "vault-2", key))));
        assert.deepEqual(
            answers.map((a) => a.code),
            [0, 0, 0],
        );
        const last = JSON.parse(answers[2].stdout);
        assert.equal(last.sealed, true, "recovery keys do not open the barrier");
        assert.equal(last.type, "awskms");
        assert.equal(last.recovery_seal, true);
        const wrong = Buffer.alloc(33, 7).toString("base64");
        sim.change((s) => (answers = [model.unseal(s, "vault-2", keys[0]), model.unseal(s, "vault-2", keys[1]), model.unseal(s, "vault-2", wrong)]));
        assert.match(answers[2].stderr, /failed to verify recovery key: recovery key does not match submitted values/);
        await waitFor(sim, () => !sim.state().pods["vault-2"].vault.sealed, 30_000);
        assert.match(kubectl(sim, ["logs", "vault-2", "-n", "vault", "-c", "vault"]).stdout, /unsealed with stored key/);
    });

    it("without the KMS the elected node's migration fails: it seals and storage stays Shamir", async () => {
        sim = await Simulation.create({});
        const keys = await liveShamirCluster(sim);
        await sim.upgrade({ seal: { type: "awskms" } });
        for (const pod of ["vault-2", "vault-1"]) {
            await replace(sim, pod);
            for (const key of keys.slice(0, 3)) assert.equal(unsealJson(sim, pod, key, true).code, 0);
            await waitFor(sim, () => sim.state().pods[pod].vault.voter === true && !sim.state().pods[pod].vault.sealed, 30_000);
        }
        await sim.wait(15_000);
        sim.kms(false);
        const token = sim.state().cluster.rootToken;
        sim.change((s) => model.stepDown(s, "vault-0", token));
        await sim.wait(8000);
        const logs = ["vault-1", "vault-2"].map((pod) => kubectl(sim, ["logs", pod, "-n", "vault", "-c", "vault"]).stdout).join("");
        assert.match(logs, /\[ERROR\] core: seal migration error:\n {2}error=\n {2}\| error setting new recovery key information: AccessDeniedException/);
        assert.ok(
            ["vault-1", "vault-2"].some((pod) => sim.state().pods[pod].vault.sealed),
            "the node that failed the migration sealed",
        );
        assert.equal(sim.state().cluster.sealType, "shamir");
        assert.notEqual(active(sim), "vault-1");
        assert.notEqual(active(sim), "vault-2");
    });

    it("refuses auto -> Shamir in the configuration without the disabled stanza first, and a disabled stanza enabled again", async () => {
        sim = await Simulation.create({ seal: { type: "awskms" } });
        const shamirConfig = 'storage "raft" {\n}\n';
        assert.throws(() => sim.change((s) => model.applyServerConfig(s, shamirConfig)), /the seal changes from awskms to shamir: modelled are/);
        const enabled = sim.state().serverConfig;
        await sim.upgrade({ seal: { type: "awskms", disabled: true } });
        assert.throws(() => sim.change((s) => model.applyServerConfig(s, enabled)), /the seal changes from awskms disabled to awskms: modelled are/);
    });
});

/** A live awskms cluster of 3: vault-0 initialised with recovery keys and active, vault-1 and vault-2 joined by retry_join, voters. */
async function liveAwskmsCluster(sim: Simulation): Promise<string[]> {
    const init = vault(sim, "vault-0", ["operator", "init", "-recovery-shares=5", "-recovery-threshold=3", "-format=json"]);
    assert.equal(init.code, 0, init.stderr);
    await waitFor(sim, () => sim.pods.every((p) => sim.state().pods[p].vault.voter && !sim.state().pods[p].vault.sealed) && active(sim) === "vault-0", 60_000);
    return JSON.parse(init.stdout).recovery_keys_b64;
}

/** vault-2 and vault-1 replaced with the disabled stanza and unsealed with the recovery keys and migrate; voters again. */
async function migratedStandbys(sim: Simulation, keys: string[]): Promise<void> {
    for (const pod of ["vault-2", "vault-1"]) {
        await replace(sim, pod);
        for (const key of keys.slice(0, 3)) assert.equal(unsealJson(sim, pod, key, true).code, 0);
        await waitFor(sim, () => sim.state().pods[pod].vault.voter === true && !sim.state().pods[pod].vault.sealed, 30_000);
    }
    await sim.wait(15_000);
}

/** The pod is deleted and made again; it need not come up (a crash-looping container). */
async function deleteAndRemake(sim: Simulation, pod: string): Promise<void> {
    assert.equal(kubectl(sim, ["delete", "pod", pod, "-n", "vault", "--wait=false"]).code, 0);
    await waitFor(sim, () => !sim.state().pods[pod].terminatingUntil, 30_000);
}

const logsOf = (sim: Simulation, pod: string, previous = false) =>
    kubectl(sim, ["logs", pod, "-n", "vault", "-c", "vault", ...(previous ? ["--previous"] : [])]).stdout;

describe("seal migration auto -> Shamir in the simulator", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("a pod started with the disabled stanza on awskms storage is in migration mode: type shamir, recovery t/n, never unseals itself", async () => {
        sim = await Simulation.create({ seal: { type: "awskms" } });
        await liveAwskmsCluster(sim);
        await sim.upgrade({ seal: { type: "awskms", disabled: true } });
        assert.match(sim.state().serverConfig, /seal "awskms" \{[^}]*disabled\s+= "true"/);
        // Running pods keep the configuration they started with.
        assert.equal(status(sim, "vault-1").type, "awskms");
        await replace(sim, "vault-1");
        await sim.wait(30_000);
        const st = status(sim, "vault-1");
        assert.equal(st.sealed, true, "it does not unseal itself");
        assert.equal(st.type, "shamir", "the barrier seal is Shamir already: type is no sign of a finished migration");
        assert.equal(st.migration, true);
        assert.equal(st.recovery_seal, false);
        assert.equal(st.t, 3, "the recovery threshold");
        assert.equal(st.n, 5, "the recovery shares");
        assert.match(
            logsOf(sim, "vault-1"),
            /\[WARN\] {2}core: entering seal migration mode; Vault will not automatically unseal even if using an autoseal: from_barrier_type=awskms to_barrier_type=shamir/,
        );
        assert.doesNotMatch(logsOf(sim, "vault-1"), /unsealed with stored key/);
    });

    it("a disabled stanza whose KMS does not answer crash-loops at start: setSeal checks it like an enabled one", async () => {
        sim = await Simulation.create({ seal: { type: "awskms" } });
        await liveAwskmsCluster(sim);
        await sim.upgrade({ seal: { type: "awskms", disabled: true } });
        sim.kms(false);
        await deleteAndRemake(sim, "vault-1");
        await sim.wait(15_000);
        const pod = sim.state().pods["vault-1"];
        assert.equal(pod.reason, model.CRASH_LOOP);
        assert.match(
            logsOf(sim, "vault-1", true),
            /^error parsing Seal configuration: error fetching AWS KMS wrapping key information: AccessDeniedException/m,
        );
        sim.kms(true);
        await waitFor(sim, () => !sim.state().pods["vault-1"].reason && sim.state().pods["vault-1"].vault.migration === true, 60_000);
    });

    it("refuses a plain unseal and wrong keys, needs the KMS for the recovery keys, and opens with migrate as a standby", async () => {
        sim = await Simulation.create({ seal: { type: "awskms" } });
        const keys = await liveAwskmsCluster(sim);
        await sim.upgrade({ seal: { type: "awskms", disabled: true } });
        await replace(sim, "vault-1");

        const plain = vault(sim, "vault-1", ["write", "sys/unseal", "key=-"], keys[0]);
        assert.equal(plain.code, 2);
        assert.match(plain.stderr, /Code: 500\. Errors:\n\n\* migrate option not provided and seal migration is pending\n/);
        const notMigrating = unsealJson(sim, "vault-2", keys[0], true);
        assert.match(notMigrating.stderr, /Code: 500\. Errors:\n\n\* can't perform a seal migration, no migration seal found\n/);

        const wrong = Buffer.alloc(33, 7).toString("base64");
        const answers = [keys[0], keys[1], wrong].map((key) => unsealJson(sim, "vault-1", key, true));
        assert.equal(answers[2].code, 2);
        assert.match(answers[2].stderr, /Code: 400\. Errors:\n\n\* invalid key: failed to verify recovery key: recovery key does not match submitted values\n/);
        assert.equal(status(sim, "vault-1").progress, 0);

        sim.kms(false);
        const noKms = keys.slice(0, 3).map((key) => unsealJson(sim, "vault-1", key, true));
        assert.match(
            noKms[2].stderr,
            /Code: 400\. Errors:\n\n\* invalid key: failed to verify recovery key: failed to decrypt encrypted stored keys: AccessDeniedException: .* kms:Decrypt/,
        );
        assert.equal(status(sim, "vault-1").sealed, true);
        sim.kms(true);

        for (const key of keys.slice(0, 2)) assert.equal(unsealJson(sim, "vault-1", key, true).code, 0);
        assert.equal(status(sim, "vault-1").progress, 2);
        const third = unsealJson(sim, "vault-1", keys[2], true);
        assert.equal(third.code, 0, third.stderr);
        assert.equal(JSON.parse(third.stdout).data.sealed, false);
        await sim.wait(5000);
        assert.equal(active(sim), "vault-0", "it comes up as a standby");
        assert.equal(status(sim, "vault-1").migration, true, "pending until a migrated node is active");
        assert.equal(sim.state().cluster.sealType, "awskms");
        assert.match(logsOf(sim, "vault-1"), /\[INFO\] {2}core: unsealing using migration seal/);
    });

    it("the migrated standby elected after the step-down migrates: recovery keys become the unseal keys; then case (b) and plain Shamir", async () => {
        sim = await Simulation.create({ seal: { type: "awskms" } });
        const keys = await liveAwskmsCluster(sim);
        sim.change((s) => model.writeData(s, "secret/canary", "tweet"));
        await sim.upgrade({ seal: { type: "awskms", disabled: true } });
        await migratedStandbys(sim, keys);
        const token = sim.state().cluster.rootToken;
        const steppedDownAt = sim.clock.now();
        sim.change((s) => model.stepDown(s, "vault-0", token));
        await waitFor(sim, () => active(sim) === "vault-1" || active(sim) === "vault-2", 30_000);
        assert.ok(sim.clock.now() - steppedDownAt < 10_000, "a standby wins while the old active pauses (manualStepDownSleepPeriod)");
        const leader = active(sim)!;
        const cluster = sim.state().cluster;
        assert.equal(cluster.sealType, "shamir");
        assert.deepEqual({ keys: cluster.keys, threshold: cluster.threshold, shares: cluster.shares }, { keys, threshold: 3, shares: 5 });
        assert.equal(cluster.recovery, undefined, "core/recovery-config is deleted");
        assert.match(
            logsOf(sim, leader),
            /seal migration initiated\n.*migrating from one auto-unseal to shamir: from=awskms\n.*\[INFO\] {2}core: seal migration complete/,
        );
        assert.equal(status(sim, leader).migration, false);
        const other = leader === "vault-1" ? "vault-2" : "vault-1";
        assert.equal(status(sim, other).migration, false, "the other migrated standby sees storage migrated");
        let read: string | undefined;
        sim.change((s) => (read = model.readData(s, "secret/canary")));
        assert.equal(read, "tweet");
        // The old active still runs with the enabled awskms configuration: a standby, unsealed.
        assert.equal(status(sim, "vault-0").type, "awskms");
        assert.equal(status(sim, "vault-0").sealed, false);

        // Case (b): restarted with the disabled stanza on Shamir storage: migration mode, but nothing pending.
        sim.restart(other);
        await sim.wait(5000);
        const b = status(sim, other);
        assert.deepEqual([b.sealed, b.type, b.migration, b.t, b.n], [true, "shamir", false, 3, 5]);
        const migrate = unsealJson(sim, other, keys[0], true);
        assert.match(migrate.stderr, /Code: 500\. Errors:\n\n\* failed to obtain seal\/recovery configuration\n/);
        for (const key of keys.slice(0, 3)) assert.equal(vault(sim, other, ["write", "sys/unseal", "key=-"], key).code, 0);
        assert.equal(status(sim, other).sealed, false, "a plain unseal with the ex-recovery keys opens it");

        // The old active, replaced last: case (b) too, a plain unseal.
        await replace(sim, "vault-0");
        assert.equal(status(sim, "vault-0").migration, false);
        for (const key of keys.slice(0, 3)) assert.equal(vault(sim, "vault-0", ["write", "sys/unseal", "key=-"], key).code, 0);
        await waitFor(sim, () => sim.state().pods["vault-0"].vault.voter && !sim.state().pods["vault-0"].vault.sealed, 30_000);

        // Without the stanza (storage Shamir): a plain Shamir node, sealed at start, the KMS never asked.
        await sim.upgrade({ seal: { type: "shamir" } });
        sim.kms(false);
        await replace(sim, "vault-2");
        await sim.wait(5000);
        const plain = status(sim, "vault-2");
        assert.deepEqual([plain.sealed, plain.type, plain.migration, sim.state().pods["vault-2"].reason], [true, "shamir", false, undefined]);
        assert.doesNotMatch(logsOf(sim, "vault-2"), /entering seal migration mode/);
        for (const key of keys.slice(0, 3)) assert.equal(vault(sim, "vault-2", ["write", "sys/unseal", "key=-"], key).code, 0);
        assert.equal(status(sim, "vault-2").sealed, false);
    });

    it("a process still on the enabled seal that takes the active duty after the migration fails: barrier seal types differ", async () => {
        sim = await Simulation.create({ seal: { type: "awskms" } });
        const keys = await liveAwskmsCluster(sim);
        await sim.upgrade({ seal: { type: "awskms", disabled: true } });
        await migratedStandbys(sim, keys);
        const token = sim.state().cluster.rootToken;
        sim.change((s) => model.stepDown(s, "vault-0", token));
        await waitFor(sim, () => active(sim) === "vault-1" || active(sim) === "vault-2", 30_000);
        await sim.wait(15_000);
        // The new leader and the other migrated node go; vault-0 (enabled awskms) is the one left to elect.
        const leader = active(sim)!;
        sim.restart(leader);
        await sim.wait(15_000);
        assert.match(
            logsOf(sim, "vault-0"),
            /\[ERROR\] core: error performing key upgrades: error="barrier seal type of \\"shamir\\" does not match loaded type of \\"awskms\\""/,
        );
        assert.equal(sim.state().pods["vault-0"].vault.sealed, true);
    });

    it("without the KMS the elected node's migration fails: it seals, gives up the lock, and storage stays awskms", async () => {
        sim = await Simulation.create({ seal: { type: "awskms" } });
        const keys = await liveAwskmsCluster(sim);
        await sim.upgrade({ seal: { type: "awskms", disabled: true } });
        await migratedStandbys(sim, keys);
        sim.kms(false);
        const token = sim.state().cluster.rootToken;
        sim.change((s) => model.stepDown(s, "vault-0", token));
        await sim.wait(8000);
        const logs = ["vault-1", "vault-2"].map((pod) => logsOf(sim, pod)).join("");
        assert.match(
            logs,
            /\[ERROR\] core: seal migration error:\n {2}error=\n {2}\| error getting recovery key to set on new seal: failed to decrypt encrypted stored keys: AccessDeniedException/,
        );
        assert.ok(
            ["vault-1", "vault-2"].some((pod) => sim.state().pods[pod].vault.sealed),
            "the node that failed the migration sealed",
        );
        assert.equal(sim.state().cluster.sealType, "awskms");
        assert.notEqual(active(sim), "vault-1");
        assert.notEqual(active(sim), "vault-2");
    });

    it("a configuration without stanza on awskms storage: the process exits at start and crash-loops; the data is untouched", async () => {
        sim = await Simulation.create({ seal: { type: "awskms" } });
        await liveAwskmsCluster(sim);
        sim.change((s) => model.writeData(s, "secret/canary", "tweet"));
        await sim.upgrade({ seal: { type: "awskms", disabled: true } });
        await sim.upgrade({ seal: { type: "shamir" } });
        await deleteAndRemake(sim, "vault-1");
        await sim.wait(30_000);
        const pod = sim.state().pods["vault-1"];
        assert.equal(pod.reason, model.CRASH_LOOP);
        assert.ok(pod.restartCount >= 1, "it keeps exiting");
        assert.match(
            logsOf(sim, "vault-1", true),
            /^Error initializing core: cannot seal migrate from "awskms" to Shamir, no disabled seal in configuration$/m,
        );
        assert.equal(sim.state().cluster.sealType, "awskms");
        let read: string | undefined;
        sim.change((s) => (read = model.readData(s, "secret/canary")));
        assert.equal(read, "tweet");
    });
});
