/**
 * Chaos: randomised fault schedules against the strict simulator, checked by properties rather than by hand-picked
 * cases. fast-check generates a schedule (which fault, at which kubectl call of a `pulumi up`, before or after its
 * effect), runs a faulty up, then a fault-free one and one more, and checks after each:
 *
 * 1. keys are never lost: the unseal keys and root token that open the cluster are in at least one place (the key
 *    file, the Pulumi state, the adoption config, or the copy staged in the pod), with an auto seal its recovery keys
 *    with them;
 * 2. Vault was initialised at most once, and every place holds the same keys;
 * 3. after the fault-free up: every pod unsealed, one raft cluster with 1 leader and N-1 voters; a further up runs
 *    nothing;
 * 4. no secret in any argv, environment, log line or error;
 * 5. every failed step says what happened (an ERROR line written for people, never "unexpected failure").
 *
 * Most schedules are day 2, on a live cluster bootstrapped by a fault-free up with a secret written (of 20: 7 install
 * or upgrade, 4 scale, 3 restore, 3 unsealer, 3 KMS outage):
 * - upgrade: it gets a newer Vault image, and the faults land in the up that rolls it out; every pod must end on the
 *   new version;
 * - scale: vaultReplicas changes once or twice (down and up, only the changes the program lets through:
 *   scalePlan.ts scaleDecision), each followed by an up with faults (counted across those ups: verify waiting for the
 *   departed pods, a new pod's join, a pod restarted while another is Terminating, ...) and a fault-free up; after
 *   each, exactly the replicas are raft voters, and the departed pods and their volume claims are gone (a change
 *   right after a failed up: CHANGE_AFTER_FAILED_UP);
 * - restore: a snapshot of it is restored with -force onto a rebuilt cluster (other replicas, another key split),
 *   as `npm run restore` does (the key file and the adoption config get the snapshot's keys), and the faults land in
 *   the up that takes the keys over; afterwards the snapshot's data reads back and the state holds its keys;
 * - unsealer: the in-cluster unsealer (its real script, tests/doubles/vault/unsealerTask.ts) runs on a live Shamir
 *   cluster while pods are restarted or recreated (one, several, the active node, all) and a follower may come back
 *   with an empty volume, at random simulated moments, and a faulty up runs among them; after the fault-free up and a
 *   few passes more every pod is unsealed and raft has 1 leader and N-1 voters, the unsealer never sent a key share
 *   to an uninitialised pod (the calls log), and its output holds no secret;
 * - KMS outage: a live cluster with a random auto seal (awskms, gcpckms, azurekeyvault, transit) loses its KMS at a
 *   random moment while pods restart at random, and an up runs: it succeeds (no pod needed the KMS) or each failed
 *   step says the pod "cannot unseal itself" and names the seal's key, within 3 simulated minutes (never a step's
 *   timeout); once the KMS answers again every pod opens itself (within the kubelet's crash-loop back-off), the
 *   fault-free up converges, no key was ever sent to a pod (no sys/unseal), and the recovery keys stay in the key
 *   file and the state (property 1 covers them with an auto seal).
 * Each also checks that the secret written first is still there. The unsealer and KMS schedules start from a live
 * cluster bootstrapped once per test process and copied (engine.ts bootstrappedCluster), so they stay cheap.
 *
 * A failure prints the seed and the shrunk schedule; replay it with CHAOS_SEED=<seed> (and CHAOS_PATH=<path>).
 * CHAOS_RUNS sets the number of random schedules (default 100; the nightly run uses 5000). On stderr the run says how
 * many schedules have run: after each regression case and every 10 random schedules.
 */
import { strict as assert } from "assert";
import * as fc from "fast-check";
import * as fs from "fs";
import * as path from "path";
import { assertNothingExposed, secretsOf } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation, simulatedSealPlan, stagedCopies } from "../doubles/vault/harness";
import { unsealed, vaultCalls } from "../doubles/vault/inspect";
import { UnsealerTask, unsealerCalls } from "../doubles/vault/unsealerTask";
import { restoreSnapshot, takeSnapshot } from "../../components/backup/snapshot";
import { takeOverKeyFile } from "../../components/runner/keyFile";
import type { AutoSealType } from "../../components/seal/sealTypes";
import type { SealFacts, VaultKeys } from "../../components/stepCommand/contract";
import { vaultCertificateSans } from "../../components/tls/tlsConfig";
import { scaleDecision } from "../../components/vault/scalePlan";
import { dataClaimName } from "../../components/vault/names";
import { bootstrappedCluster, SimulatedEngine, UpResult } from "./engine";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

type Phase = "before" | "after";
export type Fault =
    | { kind: "kill"; at: number; phase: Phase }
    | { kind: "kill-mid-write"; at: number }
    | { kind: "restart" | "recreate"; at: number; phase: Phase; pod: number }
    | { kind: "delay-election"; at: number; ms: number }
    | { kind: "api-down"; at: number; pod: number; ms: number }
    | { kind: "lose-answer"; at: number }
    | { kind: "answer-to-leader-fails"; at: number }
    | { kind: "key-folder-unwritable"; at: number };

/** A key split: Vault's `secret_shares` / `secret_threshold` (the settings keyShares / keyThreshold). */
export interface Split {
    shares: number;
    threshold: number;
}

/**
 * Pods disrupted at a moment of simulated time (ms after the live cluster is handed over): one pod (`pod`), several
 * (every pod but `pod`), the active node, or every pod; restarted (a crash, a node reboot) or recreated (deleted, made
 * again by the StatefulSet with the same volume).
 */
export interface Disruption {
    afterMs: number;
    kind: "restart" | "recreate";
    target: "one" | "several" | "active" | "all";
    pod: number;
}

export interface Schedule {
    tls: boolean;
    /** The replicas the cluster is installed with (1 to 5 for scale schedules, 3 or 5 otherwise). */
    replicas: number;
    faults: Fault[];
    /** Day 2: the faults hit the up that rolls a live cluster to a newer Vault image. */
    upgrade?: boolean;
    /**
     * Day 2: the live cluster is scaled to each of these replica counts in turn, an up after each; the faults land
     * anywhere in those ups (the calls are counted across them).
     */
    scale?: number[];
    /**
     * Day 2: a snapshot of the live cluster (`from` its key split) is restored with -force onto a rebuilt one with
     * `replicas` and the `to` split; the faults land in the up that takes the snapshot's keys over.
     */
    restore?: { replicas: number; from: Split; to: Split };
    /**
     * Day 2: the in-cluster unsealer runs on the live (Shamir) cluster while the disruptions happen; the faulty up
     * starts `upAfterMs` in, the faults counted in it.
     */
    unsealer?: {
        disruptions: Disruption[];
        upAfterMs: number;
        /**
         * A follower (`pod`, counted from vault-1) that comes back with an empty volume (its node's local disk lost):
         * uninitialised until an up joins it.
         */
        emptied?: { afterMs: number; pod: number };
    };
    /**
     * Day 2: a live cluster with the auto seal `type`, whose KMS stops answering `outageAfterMs` in; the disruptions
     * happen, and an up (without faults) starts `upAfterMs` after the outage and the first disruption (later ones land
     * in it). Then the KMS answers again.
     */
    kmsOutage?: { type: AutoSealType; outageAfterMs: number; disruptions: Disruption[]; upAfterMs: number };
}

const OLD_IMAGE = "hashicorp/vault:2.0.3";
const NEW_IMAGE = "hashicorp/vault:2.0.4";

/** A full bootstrap makes some 40 (3 pods) to 60 (5 pods) kubectl calls: faults land anywhere among them. */
const at = fc.integer({ min: 0, max: 70 });
const phase = fc.constantFrom<Phase>("before", "after");
const pod = fc.integer({ min: 0, max: 4 });
const fault: fc.Arbitrary<Fault> = fc.oneof(
    fc.record({ kind: fc.constant("kill" as const), at, phase }),
    fc.record({ kind: fc.constant("kill-mid-write" as const), at }),
    fc.record({ kind: fc.constantFrom("restart" as const, "recreate" as const), at, phase, pod }),
    fc.record({ kind: fc.constant("delay-election" as const), at, ms: fc.integer({ min: 1000, max: 60_000 }) }),
    fc.record({ kind: fc.constant("api-down" as const), at, pod, ms: fc.integer({ min: 1000, max: 60_000 }) }),
    fc.record({ kind: fc.constant("lose-answer" as const), at }),
    fc.record({ kind: fc.constant("answer-to-leader-fails" as const), at }),
    fc.record({ kind: fc.constant("key-folder-unwritable" as const), at }),
);
const faults = fc.array(fault, { minLength: 1, maxLength: 4 });

/**
 * Every way through one or two changes of vaultReplicas (1 to 5) that the program lets through, as a user's `pulumi
 * up` would: scalePlan.ts refuses a scale-down larger than the raft failure tolerance (5 -> 2, 3 -> 1, 2 -> 1).
 */
const allowedChange = (from: number, to: number) => ["up", "down"].includes(scaleDecision("vault", { replicas: from }, to).kind);
const scalePaths: number[][] = [1, 2, 3, 4, 5].flatMap((start) =>
    [1, 2, 3, 4, 5]
        .filter((first) => allowedChange(start, first))
        .flatMap((first) => [[start, first], ...[1, 2, 3, 4, 5].filter((second) => allowedChange(first, second)).map((second) => [start, first, second])]),
);
const splits = fc.constantFrom<Split>({ shares: 5, threshold: 3 }, { shares: 3, threshold: 2 }, { shares: 1, threshold: 1 });

/** Within the first minute: before, during or after the up that starts in that minute too. */
const moment = fc.integer({ min: 0, max: 60_000 });
const disruptionsWithin = (afterMs: fc.Arbitrary<number>): fc.Arbitrary<Disruption[]> =>
    fc.array(
        fc.record({
            afterMs,
            kind: fc.constantFrom("restart" as const, "recreate" as const),
            target: fc.constantFrom("one" as const, "several" as const, "active" as const, "all" as const),
            pod,
        }),
        { minLength: 1, maxLength: 3 },
    );
/** The unsealer runs a real shell pass every 5 simulated seconds: its schedules stay within half a minute. */
const unsealerMoment = fc.integer({ min: 0, max: 30_000 });
/** Mostly 3 pods: the unsealer's passes and the seal's waits cost per pod. */
const fewReplicas = fc.oneof({ weight: 3, arbitrary: fc.constant(3) }, { weight: 1, arbitrary: fc.constant(5) });
const autoSealTypes = fc.constantFrom<AutoSealType>("awskms", "gcpckms", "azurekeyvault", "transit");

/** Of 20: 7 install or upgrade, 4 scale, 3 forced restore, 3 with the unsealer, 3 with a KMS outage. */
export const schedules: fc.Arbitrary<Schedule> = fc.oneof(
    { weight: 7, arbitrary: fc.record({ tls: fc.boolean(), replicas: fc.constantFrom(3, 5), faults, upgrade: fc.boolean() }) },
    {
        weight: 4,
        arbitrary: fc.record({ tls: fc.boolean(), path: fc.constantFrom(...scalePaths), faults }).map(({ tls, path, faults }) => ({
            tls,
            replicas: path[0],
            faults,
            scale: path.slice(1),
        })),
    },
    {
        weight: 3,
        arbitrary: fc.record({
            tls: fc.boolean(),
            replicas: fc.constantFrom(3, 5),
            faults,
            restore: fc.record({ replicas: fc.constantFrom(1, 3, 5), from: splits, to: splits }),
        }),
    },
    {
        weight: 3,
        arbitrary: fc.record({
            tls: fc.boolean(),
            replicas: fewReplicas,
            faults,
            unsealer: fc.record(
                { disruptions: disruptionsWithin(unsealerMoment), upAfterMs: unsealerMoment, emptied: fc.record({ afterMs: unsealerMoment, pod }) },
                { requiredKeys: ["disruptions", "upAfterMs"] },
            ),
        }),
    },
    {
        weight: 3,
        arbitrary: fc.record({
            tls: fc.boolean(),
            replicas: fewReplicas,
            faults: fc.constant<Fault[]>([]),
            kmsOutage: fc.record({ type: autoSealTypes, outageAfterMs: moment, disruptions: disruptionsWithin(moment), upAfterMs: moment }),
        }),
    },
);

interface Place {
    where: string;
    unsealKeys: string[];
    rootToken: string;
    /** With an auto seal: the recovery keys it holds too. */
    recoveryKeys?: string[];
}

/** Every place that holds keys, as a user or the next run would find them. */
function placesOfKeys(sim: Simulation, engine: SimulatedEngine): Place[] {
    const places: Place[] = [];
    const fromInit = (where: string, text: string) => {
        try {
            const r = JSON.parse(text);
            if (Array.isArray(r.unseal_keys_b64))
                places.push({
                    where,
                    unsealKeys: r.unseal_keys_b64,
                    rootToken: r.root_token,
                    ...(Array.isArray(r.recovery_keys_b64) ? { recoveryKeys: r.recovery_keys_b64 } : {}),
                });
        } catch {
            // Not a complete answer: not a place that holds keys.
        }
    };
    if (fs.existsSync(sim.keyFile) && fs.statSync(sim.keyFile).isFile()) fromInit("the key file", fs.readFileSync(sim.keyFile, "utf8"));
    for (const copy of stagedCopies(sim)) fromInit(`the pod's staged copy ${copy}`, fs.readFileSync(copy, "utf8"));
    const state = engine.keysInState();
    if (state) places.push({ where: "the Pulumi state", ...state });
    if (engine.adopted) places.push({ where: "the adoption config", ...engine.adopted });
    return places;
}

/**
 * Properties 1 and 2. `superseded`: after a forced restore, until an up has taken the snapshot's keys over, the Pulumi
 * state still holds the rebuilt cluster's keys; the adoption config, which the init step prefers, holds the ones
 * that open the cluster.
 */
function assertKeysKept(sim: Simulation, engine: SimulatedEngine, superseded?: VaultKeys): void {
    const vault = sim.state();
    assert.ok(vault.inits <= 1, `Vault was initialised ${vault.inits} times`);
    if (!vault.cluster) return;
    const places = placesOfKeys(sim, engine);
    assert.ok(places.length > 0, "the keys that open this Vault are nowhere: lost");
    for (const place of places) {
        if (superseded && engine.adopted && place.where === "the Pulumi state" && place.rootToken === superseded.rootToken) {
            assert.deepEqual(place.unsealKeys, superseded.unsealKeys, "the state holds the rebuilt cluster's keys, whole");
            continue;
        }
        assert.deepEqual(place.unsealKeys, vault.cluster.keys, `${place.where} holds other unseal keys than the cluster's`);
        assert.equal(place.rootToken, vault.cluster.rootToken, `${place.where} holds another root token`);
        // An auto seal's recovery keys are kept wherever its root token is (the adoption config is Shamir's only).
        if (vault.cluster.recovery && place.where !== "the adoption config")
            assert.deepEqual(place.recoveryKeys, vault.cluster.recovery.keys, `${place.where} holds other recovery keys than the cluster's (or none)`);
    }
}

/** Property 5: failures are explained (a killed step, exit 137, says nothing: it is dead). */
function assertFailuresExplained(up: UpResult): void {
    for (const run of up.runs.filter((r) => r.code !== 0 && r.code !== 137)) {
        assert.match(run.stderr, /ERROR: /, `${run.id} failed without an ERROR line`);
        assert.doesNotMatch(run.stderr, /unexpected failure/, `${run.id} failed with a stack, not a message: ${run.stderr}`);
    }
}

/** Arms the schedule's faults on the simulation's kubectl calls, counted across the whole up. */
function arm(sim: Simulation, faults: Fault[], blocker: { file?: string }): void {
    let calls = 0;
    sim.onCall = (call) => {
        if (call.phase === "before") calls++;
        const now = faults.filter(
            (f) => f.at === calls && ("phase" in f ? f.phase === call.phase : call.phase === (f.kind === "kill-mid-write" ? "after" : "before")),
        );
        let kill = false;
        for (const f of now) {
            const name = (i: number) => sim.pods[i % sim.pods.length];
            switch (f.kind) {
                case "kill":
                    kill = true;
                    break;
                case "kill-mid-write":
                    // The process dies while writing: a partial temporary file next to where the key file goes.
                    if (!fs.existsSync(path.dirname(sim.keyFile))) fs.mkdirSync(path.dirname(sim.keyFile), { recursive: true });
                    if (fs.statSync(path.dirname(sim.keyFile)).isDirectory()) fs.writeFileSync(`${sim.keyFile}.4242.tmp`, '{"unseal_keys_b64": ["');
                    kill = true;
                    break;
                case "restart":
                    sim.restart(name(f.pod));
                    break;
                case "recreate":
                    sim.recreate(name(f.pod));
                    break;
                case "delay-election":
                    sim.change((s) => (s.faults.electionDelayMs = f.ms));
                    break;
                case "api-down":
                    sim.change((s) => (s.pods[name(f.pod)].apiUpAt = s.now + f.ms));
                    break;
                case "lose-answer": {
                    const dash = call.args.indexOf("--");
                    if (dash >= 0) sim.change((s) => (s.faults.dropAnswers = { [call.args.slice(dash + 1).join(" ")]: 1 }));
                    break;
                }
                case "answer-to-leader-fails":
                    sim.change((s) => (s.faults.answerFailures = 1));
                    break;
                case "key-folder-unwritable": {
                    // A file where the key folder goes: creating the folder fails, as on a full or read-only disk.
                    const folder = path.dirname(sim.keyFile);
                    if (!fs.existsSync(folder)) {
                        fs.mkdirSync(path.dirname(folder), { recursive: true });
                        fs.writeFileSync(folder, "in the way");
                        blocker.file = folder;
                    }
                    break;
                }
            }
        }
        return kill ? "kill" : undefined;
    };
}

/**
 * What the program lets through (scalePlan.ts, before the release changes, from what the pod-templates invoke reads:
 * the StatefulSet's replicas and the raft volume claims), then the StatefulSet scales. A refused change changes
 * nothing: the schedule goes on with the count the cluster has. Returns whether it scaled.
 */
function scale(sim: Simulation, to: number): boolean {
    const state = sim.state();
    const decision = scaleDecision("vault", { replicas: state.statefulSet.replicas, claims: Object.keys(state.claims) }, to);
    if (decision.kind === "refused") return false;
    assert.ok(decision.kind === "up" || decision.kind === "down", `the program would not scale to ${to}: ${JSON.stringify(decision)}`);
    sim.scaleTo(to);
    // cert-manager issues the certificate again with the new pods' names (the release depends on it).
    if (sim.params.leaderCaCertFile) {
        const sans = vaultCertificateSans({ release: "vault", namespace: "vault", replicas: to, ingressHost: "vault.localhost" });
        sim.change((s) => Object.assign(s.tls, { serverNames: sans.dnsNames, ipAddresses: sans.ipAddresses }));
    }
    return true;
}

interface Restored {
    sim: Simulation;
    /** The engine whose next up takes the snapshot's keys over (vault-ha:unsealKeys / vault-ha:rootToken set). */
    engine: SimulatedEngine;
    /** The rebuilt cluster's keys, which open nothing after the restore. */
    superseded: VaultKeys;
    snapshotKeys: VaultKeys;
}

/**
 * The documented way to rebuild (README, Backups): `npm run snapshot` of the live cluster, a new cluster (pulumi
 * destroy, other settings, pulumi up: a new simulation), `npm run restore`: -force, since the cluster ids differ; at
 * Vault's acceptance the key file gets the snapshot's keys and the stack the adoption config (scripts/backup.ts).
 */
async function forcedRestore(live: Simulation, engine: SimulatedEngine, schedule: Schedule, sims: Simulation[]): Promise<Restored> {
    const r = schedule.restore!;
    const snapshotKeys = engine.keysInState()!;
    const { file } = await takeSnapshot(live.vaultContext("snapshot"), {
        release: "vault",
        replicas: live.params.replicas,
        keys: snapshotKeys,
        folder: path.join(live.dir, "backups", "vault-ha.dev"),
        keep: 5,
        now: new Date(Date.UTC(2026, 10, 28, 5, 0, 0)),
    });
    const sim = await Simulation.create({ tls: schedule.tls, replicas: r.replicas, keyShares: r.to.shares, keyThreshold: r.to.threshold });
    sims.push(sim);
    const rebuilt = new SimulatedEngine(sim);
    const up = await rebuilt.up();
    assert.ok(up.ok, `the fault-free up of the rebuilt cluster: ${up.runs.map((run) => run.stderr).join("\n")}`);
    sim.change((s) => model.writeData(s, "secret/day2", "the rebuilt cluster's"));
    const superseded = rebuilt.keysInState()!;
    let handed: VaultKeys | undefined;
    const result = await restoreSnapshot(sim.vaultContext("restore"), {
        release: "vault",
        replicas: r.replicas,
        file,
        currentToken: superseded.rootToken,
        keyThreshold: r.to.threshold,
        onForced: (keys, threshold) => {
            takeOverKeyFile(sim.keyFile, {
                unseal_keys_b64: keys.unsealKeys,
                root_token: keys.rootToken,
                unseal_shares: keys.unsealKeys.length,
                ...(threshold ? { unseal_threshold: threshold } : {}),
            });
            handed = keys;
        },
    });
    assert.equal(result.forced, true, "a snapshot of another cluster is restored with -force");
    assert.deepEqual(handed, snapshotKeys, "the snapshot's keys are handed over");
    const adopting = new SimulatedEngine(sim, handed);
    for (const [id, entry] of rebuilt.state) adopting.state.set(id, entry);
    return { sim, engine: adopting, superseded, snapshotKeys };
}

/**
 * The raft configuration as the model holds it, and what the StatefulSet runs: exactly the replicas, and no raft data
 * of a departed pod left (a claim of a pod that never joined holds none: a later scale-up starts it empty anyway).
 */
async function assertExactlyTheReplicas(sim: Simulation): Promise<void> {
    // A departed pod may still be in its preStop pause: it goes by itself.
    await sim.wait(15_000);
    const vault = sim.state();
    const pods = [...sim.pods].sort();
    const created = Object.keys(vault.pods).filter((name) => vault.pods[name].created);
    assert.deepEqual(created.sort(), pods, "the StatefulSet runs exactly the replicas (departed pods gone)");
    const members = Object.keys(vault.pods).filter((name) => vault.pods[name].vault.member);
    assert.deepEqual(members.sort(), pods, "raft's configuration holds exactly the replicas");
    assert.ok(
        members.every((name) => vault.pods[name].vault.voter),
        "every member a voter",
    );
    const departedData = Object.keys(vault.claims)
        .filter((claim) => !pods.map(dataClaimName).includes(claim))
        .filter((claim) => vault.pods[claim.replace(/^data-/, "")]?.vault.initialized);
    assert.deepEqual(departedData, [], "no departed pod's raft data is left (its volume is deleted once its peer is gone)");
}

/** The faults end, a fault-free up runs, and it must converge (property 3, and what the schedule's change promises). */
async function healAndCheck(sim: Simulation, engine: SimulatedEngine, schedule: Schedule, blocker: { file?: string }, restored?: Restored): Promise<void> {
    // The faults end: the folder is writable again, delayed elections and restarts run their course.
    sim.onCall = undefined;
    if (blocker.file) fs.rmSync(blocker.file);
    blocker.file = undefined;
    sim.change((s) => Object.assign(s.faults, { electionDelayMs: 0, answerFailures: 0, dropAnswers: {} }));
    const healed = await engine.up();
    assertFailuresExplained(healed);
    assert.ok(
        healed.ok,
        `the fault-free up failed: ${healed.runs
            .filter((r) => r.code !== 0)
            .map((r) => `${r.id}: ${r.stderr}`)
            .join("\n")}`,
    );
    assertKeysKept(sim, engine);
    assert.deepEqual(unsealed(sim).sort(), [...sim.pods].sort(), "every pod unsealed");
    const peers = JSON.parse(engine.state.get("verify")!.stdout).peers as Array<{ node_id: string; leader: boolean; voter: boolean }>;
    assert.deepEqual(peers.map((p) => p.node_id).sort(), [...sim.pods].sort(), "one raft cluster of every pod");
    assert.equal(peers.filter((p) => p.leader).length, 1, "one leader");
    assert.ok(
        peers.every((p) => p.voter),
        "every peer a voter",
    );
    await assertExactlyTheReplicas(sim);
    assert.equal(model.sealStatus(sim.state(), sim.pods[0]).sealed, false);
    if (schedule.upgrade) {
        const vault = sim.state();
        for (const name of sim.pods) {
            assert.equal(vault.pods[name].labels["controller-revision-hash"], vault.statefulSet.updateRevision, `${name} rolled to the new template`);
            assert.equal(model.sealStatus(vault, name).version, "2.0.4", `${name} runs the new Vault`);
        }
    }
    if (restored) {
        assert.deepEqual(engine.keysInState(), restored.snapshotKeys, "the state holds the snapshot's keys");
        for (const name of sim.pods) {
            assert.equal(model.sealStatus(sim.state(), name).t, schedule.restore!.from.threshold, `${name} opens with the snapshot's threshold`);
        }
    }
    if (schedule.upgrade || schedule.scale || schedule.restore || schedule.unsealer || schedule.kmsOutage)
        assert.equal(model.readData(sim.state(), "secret/day2"), "kept", "the data written first (for a restore: the snapshot's)");
}

/** The pods a disruption hits, at the moment it happens. */
function disrupted(sim: Simulation, d: Disruption): string[] {
    const one = sim.pods[d.pod % sim.pods.length];
    switch (d.target) {
        case "one":
            return [one];
        case "several":
            return sim.pods.filter((p) => p !== one);
        case "active":
            return [sim.state().active ?? one];
        case "all":
            return [...sim.pods];
    }
}

/** Runs `events` (each `afterMs` from now) in time order on the simulated clock, alongside whatever else runs. */
async function atMoments(sim: Simulation, events: Array<{ afterMs: number; act: () => void }>): Promise<void> {
    const start = sim.clock.now();
    for (const event of [...events].sort((a, b) => a.afterMs - b.afterMs)) {
        await sim.wait(Math.max(0, start + event.afterMs - sim.clock.now()));
        event.act();
    }
}

const disruptionEvents = (sim: Simulation, list: Disruption[]) =>
    list.map((d) => ({
        afterMs: d.afterMs,
        act: () => disrupted(sim, d).forEach((name) => (d.kind === "restart" ? sim.restart(name) : sim.recreate(name))),
    }));

/** Created pods whose Vault is not initialised and holds no join challenge: `vault status` says initialized false. */
function uninitialised(sim: Simulation): string[] {
    const pods = sim.state().pods as Record<string, { created: boolean; vault: { initialized: boolean; pending: unknown } }>;
    return Object.keys(pods).filter((name) => pods[name].created && !pods[name].vault.initialized && !pods[name].vault.pending);
}

/**
 * The unsealer container's loop (UnsealerTask.start's: a pass, then the interval), watched: a key share written to a
 * pod that was uninitialised both when the pass began and when it ended went to an uninitialised pod (one that a step
 * joined meanwhile may rightly get keys). Read only around passes that begin with such a pod: the calls log is long.
 */
class WatchedUnsealer {
    /** "<pod> at <simulated ms>" of every key share sent to an uninitialised pod. */
    readonly keysToUninitialised: string[] = [];
    private running: Promise<void> | undefined;
    private stopping = false;

    constructor(
        private readonly sim: Simulation,
        readonly task: UnsealerTask,
    ) {}

    start(): void {
        this.running = (async () => {
            while (!this.stopping) {
                await this.watchedPass();
                if (this.stopping) break;
                await this.sim.clock.sleep(this.task.intervalMs);
            }
        })();
    }

    async stop(): Promise<void> {
        this.stopping = true;
        await this.running;
    }

    private async watchedPass(): Promise<void> {
        const before = uninitialised(this.sim);
        const since = before.length > 0 ? this.sim.calls().length : 0;
        await this.task.pass();
        if (before.length === 0) return;
        const still = uninitialised(this.sim).filter((name) => before.includes(name));
        for (const call of unsealerCalls(this.sim, since)) {
            const pod = call.host.split(".")[0];
            if (call.argv[0] === "write" && still.includes(pod)) this.keysToUninitialised.push(`${pod} at ${this.sim.clock.now()}`);
        }
    }
}

/**
 * The unsealer schedule: a live Shamir cluster with its data, the in-cluster unsealer running (keys and cluster id as
 * the program hands them over: the state's keys, verify's seal facts); pods disrupted at random moments while a
 * faulty up runs; then the fault-free up, and a while for the unsealer: every pod unsealed, one raft cluster.
 */
async function runUnsealerSchedule(schedule: Schedule): Promise<void> {
    const u = schedule.unsealer!;
    const { sim, engine } = await bootstrappedCluster({ tls: schedule.tls, replicas: schedule.replicas });
    const facts = JSON.parse(engine.state.get("verify")!.stdout).seal as SealFacts | undefined;
    const task = new UnsealerTask(sim, { keys: engine.keysInState()!.unsealKeys, clusterId: facts?.clusterId });
    const unsealer = new WatchedUnsealer(sim, task);
    try {
        sim.change((s) => model.writeData(s, "secret/day2", "kept"));
        unsealer.start();
        const blocker: { file?: string } = {};
        let up: UpResult | undefined;
        const emptied = u.emptied;
        const emptyVolume = emptied
            ? [
                  {
                      afterMs: emptied.afterMs,
                      act: () =>
                          sim.change((s) => {
                              // A follower: the plan initialises and unseals vault-0 as the leader, and one that
                              // lost its data is refused there ("not initialised; the init step must run first").
                              const name = sim.pods[1 + (emptied.pod % (sim.pods.length - 1))];
                              s.pods[name].vault = model.freshNode();
                              model.restart(s, name);
                          }),
                  },
              ]
            : [];
        await Promise.all([
            atMoments(sim, [...disruptionEvents(sim, u.disruptions), ...emptyVolume]),
            sim.wait(u.upAfterMs).then(async () => {
                arm(sim, schedule.faults, blocker);
                up = await engine.up();
            }),
        ]);
        sim.onCall = undefined;
        assertKeysKept(sim, engine);
        assertFailuresExplained(up!);
        assertNothingExposed(sim);

        await healAndCheck(sim, engine, schedule, blocker);
        // The unsealer has a few passes more: it must not undo anything, and nothing is left sealed.
        await sim.wait(2 * task.intervalMs);
        assert.deepEqual(unsealed(sim).sort(), [...sim.pods].sort(), "every pod unsealed, the unsealer running");
        assertOneRaftCluster(sim);
        const again = await engine.up();
        assert.deepEqual(
            again.runs.map((r) => r.id),
            [],
            "a further up changes nothing",
        );
        await unsealer.stop();
        assert.deepEqual(unsealer.keysToUninitialised, [], "the unsealer sent a key share to an uninitialised pod");
        assert.ok(task.passes.length > 0, "the unsealer ran");
        assertNothingExposed(sim);
        const printed = task.output();
        for (const secret of secretsOf(sim)) assert.ok(!printed.includes(secret), "the unsealer printed a secret");
    } finally {
        await unsealer.stop();
        task.dispose();
        sim.dispose();
    }
}

/** The model's raft: every pod a member and a voter, one of them the active node (the leader). */
function assertOneRaftCluster(sim: Simulation): void {
    const vault = sim.state();
    const members = sim.pods.filter((name) => vault.pods[name].vault.member && vault.pods[name].vault.voter);
    assert.deepEqual(members, sim.pods, "every pod a raft voter");
    assert.ok(sim.pods.includes(vault.active), `one leader among the pods (active: ${vault.active})`);
}

/** The longest a failing up may take when the KMS does not answer: the steps fail at once, not at their timeouts. */
const KMS_OUTAGE_UP_LIMIT_MS = 3 * 60_000;
/** The kubelet's longest crash-loop back-off, plus runUnseal's 5 s retry and the API's start. */
const KMS_BACK_OFF_MS = 5 * 60_000 + 15_000;

/**
 * The KMS outage schedule: a live auto-sealed cluster with its data; its KMS stops answering at a random moment, pods
 * are disrupted at random, and an up runs: it fails, each failed step naming the seal's key ("cannot unseal itself"),
 * within KMS_OUTAGE_UP_LIMIT_MS, or it succeeds (no pod needed the KMS). The KMS answers again, a fault-free up
 * converges; no unseal key is sent at any point, and the recovery keys stay in the key file and the state.
 */
async function runKmsOutageSchedule(schedule: Schedule): Promise<void> {
    const k = schedule.kmsOutage!;
    const { sim, engine } = await bootstrappedCluster({ tls: schedule.tls, replicas: schedule.replicas, seal: { type: k.type } });
    try {
        sim.change((s) => model.writeData(s, "secret/day2", "kept"));
        let up: UpResult | undefined;
        let took = 0;
        await Promise.all([
            atMoments(sim, [...disruptionEvents(sim, k.disruptions), { afterMs: k.outageAfterMs, act: () => sim.kms(false) }]),
            // The up comes after the outage and the first disruption, by upAfterMs; later disruptions land in it.
            sim.wait(Math.max(k.outageAfterMs, Math.min(...k.disruptions.map((d) => d.afterMs))) + k.upAfterMs).then(async () => {
                const started = sim.clock.now();
                up = await engine.up();
                took = sim.clock.now() - started;
            }),
        ]);
        assertKeysKept(sim, engine);
        assertFailuresExplained(up!);
        const describe = simulatedSealPlan(k.type).describe;
        for (const run of up!.runs.filter((r) => r.code !== 0)) {
            assert.match(run.stderr, /cannot unseal itself/, `${run.id} failed for another reason than the seal: ${run.stderr}`);
            assert.ok(run.stderr.includes(describe), `${run.id} does not name the seal's key (${describe}): ${run.stderr}`);
        }
        if (!up!.ok) assert.ok(took < KMS_OUTAGE_UP_LIMIT_MS, `the failing up took ${took / 1000} s of simulated time`);
        assertNothingExposed(sim);

        // The KMS answers again. A container in a crash loop starts again at the end of its back-off (the kubelet's, at
        // most 5 minutes): until then its last words still say the KMS did not answer, and a step reads them so. Each
        // pod opens itself by then, without an up.
        sim.kms(true);
        const back = sim.clock.now();
        while (unsealed(sim).length < sim.pods.length) {
            assert.ok(
                sim.clock.now() - back <= KMS_BACK_OFF_MS,
                `not every pod unsealed itself within ${KMS_BACK_OFF_MS / 1000} s: ${unsealed(sim).join(", ")}`,
            );
            await sim.wait(5000);
        }
        await healAndCheck(sim, engine, schedule, {});
        const again = await engine.up();
        assert.deepEqual(
            again.runs.map((r) => r.id),
            [],
            "a further up changes nothing",
        );
        const recovery = sim.state().cluster.recovery.keys as string[];
        assert.deepEqual(engine.keysInState()?.recoveryKeys, recovery, "the state holds the recovery keys");
        assert.deepEqual(JSON.parse(fs.readFileSync(sim.keyFile, "utf8")).recovery_keys_b64, recovery, "the key file holds the recovery keys");
        assert.deepEqual(
            vaultCalls(sim).filter((c) => /sys\/unseal|operator unseal/.test(c)),
            [],
            "no key was ever sent to an auto-sealed pod",
        );
        assertNothingExposed(sim);
    } finally {
        sim.dispose();
    }
}

/** One schedule: a faulty up (for a scale schedule, one per change), then a fault-free one, then one that must change nothing. */
export async function runSchedule(schedule: Schedule, changeAfterFailedUp = Boolean(process.env.CHAOS_CHANGE_AFTER_FAILED_UP)): Promise<void> {
    if (schedule.unsealer) return runUnsealerSchedule(schedule);
    if (schedule.kmsOutage) return runKmsOutageSchedule(schedule);
    const sims: Simulation[] = [];
    try {
        let sim = await Simulation.create({
            tls: schedule.tls,
            replicas: schedule.replicas,
            vaultImage: schedule.upgrade ? OLD_IMAGE : undefined,
            ...(schedule.restore ? { keyShares: schedule.restore.from.shares, keyThreshold: schedule.restore.from.threshold } : {}),
        });
        sims.push(sim);
        let engine = new SimulatedEngine(sim);
        const day2 = schedule.upgrade || schedule.scale || schedule.restore;
        if (day2) {
            const live = await engine.up();
            assert.ok(live.ok, "the fault-free first up of a day-2 schedule");
            sim.change((s) => model.writeData(s, "secret/day2", "kept"));
        }
        if (schedule.upgrade) await sim.upgrade({ vaultImage: NEW_IMAGE });
        let restored: Restored | undefined;
        if (schedule.restore) {
            restored = await forcedRestore(sim, engine, schedule, sims);
            ({ sim, engine } = restored);
        }
        const blocker: { file?: string } = {};
        arm(sim, schedule.faults, blocker);
        const faulty = sim.onCall;
        // Each scale change has an up with faults (counted across all of them, so they land in any), then a
        // fault-free up that must converge before the next change; with CHAOS_CHANGE_AFTER_FAILED_UP=1 the next
        // change follows the faulty up at once (see CHANGE_AFTER_FAILED_UP).
        const changes = schedule.scale ?? [undefined];
        for (const [i, to] of changes.entries()) {
            if (to !== undefined && !scale(sim, to)) {
                // The preview refused it (an earlier scale-down is unfinished): the user's next up, at the count
                // the cluster has, must finish that one.
                await healAndCheck(sim, engine, schedule, blocker, restored);
                continue;
            }
            sim.onCall = faulty;
            const up = await engine.up();
            assertKeysKept(sim, engine, restored?.superseded);
            assertFailuresExplained(up);
            // A step killed before its first kubectl call leaves nothing to scan yet (the scan insists on seeing calls).
            if (sim.calls().length > 0) assertNothingExposed(sim);
            if (i < changes.length - 1 && changeAfterFailedUp) continue;
            await healAndCheck(sim, engine, schedule, blocker, restored);
        }

        const again = await engine.up();
        assert.deepEqual(
            again.runs.map((r) => r.id),
            [],
            "a further up changes nothing",
        );
        assertNothingExposed(sim, restored ? [...restored.superseded.unsealKeys, restored.superseded.rootToken] : []);
    } finally {
        for (const sim of sims) sim.dispose();
    }
}

/**
 * Schedules that once broke a property, kept as fixed cases, each with the seed that found it; and one fixed case of
 * each kind that few random schedules reach (the unsealer, a KMS outage), so that every run has one.
 */
export const REGRESSIONS: Array<{ found: string; schedule: Schedule }> = [
    {
        // The active node restarts, then every pod is recreated while a faulty up runs, the unsealer at work.
        found: "a fixed case of the unsealer kind",
        schedule: {
            tls: true,
            replicas: 3,
            faults: [{ kind: "restart", at: 2, phase: "after", pod: 1 }],
            unsealer: {
                disruptions: [
                    { afterMs: 0, kind: "restart", target: "active", pod: 0 },
                    { afterMs: 9000, kind: "recreate", target: "all", pod: 0 },
                ],
                upAfterMs: 6000,
                emptied: { afterMs: 2000, pod: 2 },
            },
        },
    },
    {
        // The KMS goes, a standby restarts into a crash loop, and the up after it must name the key at once.
        found: "a fixed case of the KMS outage kind",
        schedule: {
            tls: false,
            replicas: 3,
            faults: [],
            kmsOutage: { type: "gcpckms", outageAfterMs: 0, disruptions: [{ afterMs: 1000, kind: "restart", target: "one", pod: 1 }], upAfterMs: 10_000 },
        },
    },
    {
        // The roll's tidy after a scale-down: the answer to remove-peer was lost, and the call was not repeated (an
        // unexpected failure with a stack). Removing a peer twice is the same as once: it is retried now.
        found: "seed 1021563301 (.ci/run), shrunk",
        schedule: {
            tls: false,
            replicas: 4,
            faults: [
                { kind: "lose-answer", at: 52 },
                { kind: "api-down", at: 15, pod: 0, ms: 11401 },
                { kind: "key-folder-unwritable", at: 0 },
            ],
            scale: [5, 3],
        },
    },
    {
        // verify's read of the leader's seal facts (for the unsealer) was one attempt: a lost answer failed a whole
        // cluster with a stack. It is retried like verify's other reads now.
        found: "CHAOS_SEED=11 CHAOS_RUNS=50, shrunk",
        schedule: {
            tls: false,
            replicas: 1,
            faults: [
                { kind: "kill", at: 19, phase: "before" },
                { kind: "lose-answer", at: 65 },
                { kind: "api-down", at: 0, pod: 0, ms: 1000 },
            ],
            scale: [2, 4],
        },
    },
    {
        // Since the identities are read after the roll, a kill before the first call of the first step leaves no
        // call at all, and the leak scan's own sanity check failed. Found by .ci/run, seed 967269553.
        found: "seed 967269553",
        schedule: { tls: false, replicas: 3, faults: [{ kind: "kill", at: 1, phase: "before" }], upgrade: false },
    },
    {
        // The answer of the snapshot the roll saves first was lost on the way: not retried, the step failed with a
        // stack. Fixed: saving a snapshot is repeated like any wait. Found by .ci/run.
        found: "a .ci/run of 100 schedules, shrunk (snapshot before the roll)",
        schedule: { tls: false, replicas: 3, faults: [{ kind: "lose-answer", at: 11 }], upgrade: true },
    },
    {
        // The active pod restarted and the roll was killed after replacing a standby: two sealed pods of three, no
        // quorum, and the next roll asked raft for its peers before unsealing them. Fixed: the roll unseals every
        // sealed pod with raft data first. Found by .ci/run.
        found: "a .ci/run of 100 schedules, shrunk",
        schedule: {
            tls: false,
            replicas: 3,
            faults: [
                { kind: "restart", at: 24, phase: "after", pod: 0 },
                { kind: "kill", at: 27, phase: "before" },
            ],
            upgrade: true,
        },
    },
    {
        // The active pod restarted during the roll: the step-down decision's autopilot read was not retried and the
        // step failed with a stack. Fixed: every call of the roll is retried like its waits, and health is asked
        // through any node that answers. Found by .ci/run, seed 944737427.
        found: "seed 944737427",
        schedule: {
            tls: false,
            replicas: 3,
            faults: [
                { kind: "restart", at: 5, phase: "before", pod: 1 },
                { kind: "restart", at: 40, phase: "after", pod: 0 },
            ],
            upgrade: true,
        },
    },
    {
        // A roll killed after its first delete; the next up's roll read the replaced pod's status while it was still
        // starting, so it never unsealed it and waited for a health it could not get. Fixed: the roll waits for
        // starting pods first. Found by .ci/run, seed -1297416884.
        found: "seed -1297416884",
        schedule: {
            tls: false,
            replicas: 3,
            faults: [
                { kind: "kill-mid-write", at: 14 },
                { kind: "key-folder-unwritable", at: 0 },
            ],
            upgrade: true,
        },
    },
    {
        // pod-identities read vault-1 while it restarted ("not running"), so the next up saw a new identity and
        // re-ran its step for nothing. Fixed: identities wait for starting pods. (The run's seed was not kept.)
        found: "a default 100-schedule run, shrunk",
        schedule: {
            tls: false,
            replicas: 5,
            faults: [
                { kind: "answer-to-leader-fails", at: 1 },
                { kind: "restart", at: 64, phase: "before", pod: 1 },
            ],
        },
    },
];

/**
 * Scale schedules where the next change of vaultReplicas follows an up that failed (the user changes the setting again
 * before an up has finished), run with that order (the random schedules let an up converge between two changes).
 */
export const CHANGE_AFTER_FAILED_UP: Array<{ found: string; schedule: Schedule }> = [
    {
        // 5 -> 3, the up fails before verify removed vault-3 and vault-4 from raft; 3 -> 2 was let through (the
        // decision counted the StatefulSet's 3 replicas, not raft's 5 voters): no quorum. Now the leftover volumes
        // count as voters and 3 -> 2 is refused until an up at 3 has finished the first. Found by a 40-schedule run.
        found: "40-schedule run: 5 -> 3 (failed up) -> 2 lost the quorum",
        schedule: { tls: false, replicas: 5, faults: [{ kind: "kill", at: 1, phase: "before" }], scale: [3, 2] },
    },
    {
        // 4 -> 5, the up fails; back to 4: verify's inputs equal its last success, so it did not run, and vault-4's
        // volume (and peer, had it joined) stayed. Now the roll, which runs on every change of the count, tidies
        // what a scale-down left. Found by seed 1 (CHAOS_RUNS=40), shrunk.
        found: "seed 1: back to the converged count after a failed up left the departed pod's volume",
        schedule: { tls: false, replicas: 4, faults: [{ kind: "kill", at: 1, phase: "before" }], scale: [5, 4] },
    },
];

/**
 * Progress on stderr, because mocha runs this file in parallel mode (.mocharc.json) and its reporter shows a file's
 * tests only when the whole file has finished: without these lines the tier is silent for minutes.
 */
class Progress {
    private readonly started = Date.now();

    line(text: string): void {
        process.stderr.write(`  chaos: ${text}, ${Math.round((Date.now() - this.started) / 1000)} s\n`);
    }
}

describe("chaos: randomised fault schedules (properties: keys never lost, one init, convergence, no leaks, explained failures)", function () {
    this.timeout(0);
    const numRuns = Number(process.env.CHAOS_RUNS ?? 100);
    const regressions = [
        ...REGRESSIONS.map((r) => ({ ...r, changeAfterFailedUp: undefined })),
        ...CHANGE_AFTER_FAILED_UP.map((r) => ({ ...r, changeAfterFailedUp: true })),
    ];
    const progress = new Progress();
    before(function () {
        requireRenderedPods(this);
        progress.line(`${regressions.length} regression schedules, then ${numRuns} random ones (a line after each regression and every 10 random schedules)`);
    });

    let regressionsRun = 0;
    // changeAfterFailedUp undefined: runSchedule's default (CHAOS_CHANGE_AFTER_FAILED_UP).
    for (const { found, schedule, changeAfterFailedUp } of regressions) {
        const title = changeAfterFailedUp === true ? `regression, a change right after a failed up (${found})` : `regression (${found})`;
        it(`${title}: ${JSON.stringify(schedule)}`, async () => {
            let passed = false;
            try {
                await runSchedule(schedule, changeAfterFailedUp);
                passed = true;
            } finally {
                regressionsRun++;
                progress.line(`${regressionsRun} of ${regressions.length} regression schedules run${passed ? "" : " (this one failed)"}`);
            }
        });
    }

    it(`holds for ${numRuns} random schedules (both TLS modes, 1 to 5 replicas, install, upgrade, scale down and up, forced restore, the unsealer, a KMS outage)`, async () => {
        const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;
        // Every tenth schedule, and the last.
        let ran = 0;
        const counted = async (schedule: Schedule) => {
            try {
                await runSchedule(schedule);
            } finally {
                ran++;
                if (ran % 10 === 0 || ran === numRuns) {
                    progress.line(ran > numRuns ? `${ran} random schedules run (shrinking a failure)` : `${ran} of ${numRuns} random schedules run`);
                }
            }
        };
        await fc.assert(fc.asyncProperty(schedules, counted), {
            numRuns,
            ...(seed === undefined ? {} : { seed, path: process.env.CHAOS_PATH }),
            // Shrinking re-runs schedules; keep it bounded so that a failure is reported in reasonable time.
            endOnFailure: false,
            includeErrorInReport: true,
            verbose: 1,
        });
    });
});
