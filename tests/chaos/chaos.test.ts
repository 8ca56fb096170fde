/**
 * Chaos: randomised fault schedules against the strict simulator, checked by properties rather than by hand-picked
 * cases. fast-check generates a schedule (which fault, at which kubectl call of a `pulumi up`, before or after its
 * effect), runs a faulty up, then a fault-free one and one more, and checks after each:
 *
 * 1. keys are never lost: the unseal keys and root token that open the cluster are in at least one place (the key
 *    file, the Pulumi state, the adoption config, or the copy staged in the pod);
 * 2. Vault was initialised at most once, and every place holds the same keys;
 * 3. after the fault-free up: every pod unsealed, one raft cluster with 1 leader and N-1 voters; a further up runs
 *    nothing;
 * 4. no secret in any argv, environment, log line or error;
 * 5. every failed step says what happened (an ERROR line written for people, never "unexpected failure").
 *
 * Half the schedules are day 2: a live cluster, bootstrapped by a fault-free up with a secret written, gets a newer
 * Vault image, and the faults land in the up that rolls it out. Those also check that every pod ends on the new
 * version and the secret is still there.
 *
 * A failure prints the seed and the shrunk schedule; replay it with CHAOS_SEED=<seed> (and CHAOS_PATH=<path>).
 * CHAOS_RUNS sets the number of schedules (default 100; the nightly run uses 5000).
 */
import { strict as assert } from "assert";
import * as fc from "fast-check";
import * as fs from "fs";
import * as path from "path";
import { assertNothingExposed } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation, stagedCopies } from "../doubles/vault/harness";
import { unsealed } from "../doubles/vault/inspect";
import { SimulatedEngine, UpResult } from "./engine";

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

export interface Schedule {
    tls: boolean;
    replicas: 3 | 5;
    faults: Fault[];
    /** Day 2: the faults hit the up that rolls a live cluster to a newer Vault image. */
    upgrade?: boolean;
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
export const schedules: fc.Arbitrary<Schedule> = fc.record({
    tls: fc.boolean(),
    replicas: fc.constantFrom<3 | 5>(3, 5),
    faults: fc.array(fault, { minLength: 1, maxLength: 4 }),
    upgrade: fc.boolean(),
});

interface Place {
    where: string;
    unsealKeys: string[];
    rootToken: string;
}

/** Every place that holds keys, as a user or the next run would find them. */
function placesOfKeys(sim: Simulation, engine: SimulatedEngine): Place[] {
    const places: Place[] = [];
    const fromInit = (where: string, text: string) => {
        try {
            const r = JSON.parse(text);
            if (Array.isArray(r.unseal_keys_b64)) places.push({ where, unsealKeys: r.unseal_keys_b64, rootToken: r.root_token });
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

/** Properties 1 and 2. */
function assertKeysKept(sim: Simulation, engine: SimulatedEngine): void {
    const vault = sim.state();
    assert.ok(vault.inits <= 1, `Vault was initialised ${vault.inits} times`);
    if (!vault.cluster) return;
    const places = placesOfKeys(sim, engine);
    assert.ok(places.length > 0, "the keys that open this Vault are nowhere: lost");
    for (const place of places) {
        assert.deepEqual(place.unsealKeys, vault.cluster.keys, `${place.where} holds other unseal keys than the cluster's`);
        assert.equal(place.rootToken, vault.cluster.rootToken, `${place.where} holds another root token`);
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

/** One schedule: a faulty up, then a fault-free one, then one that must change nothing. */
export async function runSchedule(schedule: Schedule): Promise<void> {
    const sim = await Simulation.create({ tls: schedule.tls, replicas: schedule.replicas, vaultImage: schedule.upgrade ? OLD_IMAGE : undefined });
    try {
        const engine = new SimulatedEngine(sim);
        if (schedule.upgrade) {
            const live = await engine.up();
            assert.ok(live.ok, "the fault-free first up of a day-2 schedule");
            sim.change((s) => model.writeData(s, "secret/day2", "kept"));
            await sim.upgrade({ vaultImage: NEW_IMAGE });
        }
        const blocker: { file?: string } = {};
        arm(sim, schedule.faults, blocker);
        const faulty = await engine.up();
        assertKeysKept(sim, engine);
        assertFailuresExplained(faulty);
        // A step killed before its first kubectl call leaves nothing to scan yet (the scan insists on seeing calls).
        if (sim.calls().length > 0) assertNothingExposed(sim);

        // The faults end: the folder is writable again, delayed elections and restarts run their course.
        sim.onCall = undefined;
        if (blocker.file) fs.rmSync(blocker.file);
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
        assert.equal(model.sealStatus(sim.state(), sim.pods[0]).sealed, false);
        if (schedule.upgrade) {
            const vault = sim.state();
            for (const name of sim.pods) {
                assert.equal(vault.pods[name].labels["controller-revision-hash"], vault.statefulSet.updateRevision, `${name} rolled to the new template`);
                assert.equal(model.sealStatus(vault, name).version, "2.0.4", `${name} runs the new Vault`);
            }
            assert.equal(model.readData(vault, "secret/day2"), "kept", "the data written before the upgrade");
        }

        const again = await engine.up();
        assert.deepEqual(
            again.runs.map((r) => r.id),
            [],
            "a further up changes nothing",
        );
        assertNothingExposed(sim);
    } finally {
        sim.dispose();
    }
}

/** Schedules that once broke a property: kept as fixed cases, each with the seed that found it. */
export const REGRESSIONS: Array<{ found: string; schedule: Schedule }> = [
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

describe("chaos: randomised fault schedules (properties: keys never lost, one init, convergence, no leaks, explained failures)", function () {
    this.timeout(0);
    before(function () {
        requireRenderedPods(this);
    });

    for (const { found, schedule } of REGRESSIONS) {
        it(`regression (${found}): ${JSON.stringify(schedule)}`, () => runSchedule(schedule));
    }

    it(`holds for ${process.env.CHAOS_RUNS ?? 100} random schedules (both TLS modes, 3 and 5 replicas, install and day-2 upgrade)`, async () => {
        const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;
        await fc.assert(fc.asyncProperty(schedules, runSchedule), {
            numRuns: Number(process.env.CHAOS_RUNS ?? 100),
            ...(seed === undefined ? {} : { seed, path: process.env.CHAOS_PATH }),
            // Shrinking re-runs schedules; keep it bounded so that a failure is reported in reasonable time.
            endOnFailure: false,
            includeErrorInReport: true,
            verbose: 1,
        });
    });
});
