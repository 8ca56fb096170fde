/**
 * Day 2 in the simulator: scaling, and a changed Vault pod template reaching the pods through the roll step
 * (components/runner/handlers/roll.ts), driven by the simulated Pulumi engine (tests/chaos/engine.ts) from a live,
 * unsealed cluster. Every scenario checks the same things: data written before is read after, the cluster never lost
 * its quorum, no pod was deleted while autopilot said the cluster was unhealthy, and a second `up` runs nothing.
 */
import { strict as assert } from "assert";
import { DEPTH } from "../support/depth";
import * as fs from "fs";
import * as path from "path";
import { bootstrappedCluster, SimulatedEngine } from "../chaos/engine";
import { assertNothingExposed } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { unsealed, vaultCalls } from "../doubles/vault/inspect";
import { parseSealStatus } from "../../components/runner/kubectl";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

const OLD = "hashicorp/vault:2.0.3";
const NEW = "hashicorp/vault:2.0.4";

/** A live cluster: bootstrapped by an up, with a secret written through the active node. */
async function liveCluster(options: { replicas?: number; tls?: boolean; vaultImage?: string; timeoutSeconds?: number }) {
    const { sim, engine } = await bootstrappedCluster(options);
    sim.change((s) => model.writeData(s, "secret/app", "written before the change"));
    return { sim, engine, audit: { ...sim.state().audit } };
}

function podsOf(sim: Simulation): Array<{ name: string; revision: string; version: string; https: boolean }> {
    const s = sim.state();
    return Object.keys(s.pods)
        .filter((n) => s.pods[n].created)
        .map((n) => ({
            name: n,
            revision: s.pods[n].labels["controller-revision-hash"],
            version: model.sealStatus(s, n).version,
            https: s.pods[n].containers[0].env.VAULT_ADDR.startsWith("https:"),
        }));
}

/** What every roll must leave: the new revision everywhere, all unsealed, data intact, quorum kept, a quiet next up. */
async function assertRolledSafely(sim: Simulation, engine: SimulatedEngine, before: { quorumLost: number; elections: number }) {
    const s = sim.state();
    for (const pod of podsOf(sim)) assert.equal(pod.revision, s.statefulSet.updateRevision, `${pod.name} runs the StatefulSet's update revision`);
    assert.deepEqual(unsealed(sim), sim.pods, "every pod is unsealed");
    assert.equal(s.audit.quorumLost, before.quorumLost, "the cluster never lost its quorum during the roll");
    assert.deepEqual(s.audit.deletedWhileUnhealthy, [], "no pod was deleted while autopilot reported the cluster unhealthy");
    assert.equal(model.readData(s, "secret/app"), "written before the change", "the data written before is read after");
    const again = await engine.up();
    assert.ok(again.ok);
    assert.deepEqual(
        again.runs.map((r) => r.id),
        [],
        "a second up changes nothing",
    );
    assertNothingExposed(sim);
}

describe("roll: a changed Vault pod template reaches the pods (simulator)", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation | undefined;
    afterEach(() => sim?.dispose());

    it(`upgrades Vault ${OLD} -> ${NEW}: standbys first, highest ordinal first, the active node last after a step-down`, async () => {
        const live = await liveCluster({ vaultImage: OLD });
        sim = live.sim;
        const active = sim.state().active;
        assert.ok(podsOf(sim).every((p) => p.version === "2.0.3"));

        await sim.upgrade({ vaultImage: NEW });
        // The release changed the StatefulSet; OnDelete: no pod changed.
        assert.ok(podsOf(sim).every((p) => p.version === "2.0.3"));
        const since = sim.calls().length;
        const up = await live.engine.up();
        assert.ok(up.ok, up.runs.map((r) => r.stderr).join("\n"));

        const roll = up.runs.find((r) => r.id === "roll")!;
        const standbys = sim.pods.filter((p) => p !== active).sort((a, b) => b.localeCompare(a));
        assert.deepEqual(JSON.parse(roll.stdout).rolled, [...standbys, active]);
        assert.ok(
            podsOf(sim).every((p) => p.version === "2.0.4"),
            "every pod runs the new version",
        );
        const stepDowns = vaultCalls(sim, since).filter((c) => c.includes("operator step-down"));
        assert.deepEqual(stepDowns, [`${active} operator step-down`], "only the active node is asked to step down, once");
        assert.notEqual(sim.state().active, active, "another node is active after the hand-over");
        // Before the first serving pod went: a backup of the data with the keys that open it.
        const calls = sim.calls().slice(since);
        const saved = calls.findIndex((c) => c.tool === "vault" && c.argv.join(" ") === "operator raft snapshot save /dev/stdout");
        const firstDelete = calls.findIndex((c) => c.tool === "kubectl" && c.argv[0] === "delete");
        assert.ok(saved >= 0 && saved < firstDelete, `the snapshot is taken before the first pod is deleted (${saved}, ${firstDelete}): ${roll.stderr}`);
        const backups = fs.readdirSync(path.join(sim.dir, "backups", "vault-ha.dev"));
        assert.equal(backups.filter((f) => f.endsWith(".snap")).length, 1);
        assert.equal(backups.filter((f) => f.endsWith(".keys.json")).length, 1);
        assert.match(roll.stderr, /before the roll, a backup of Vault's data and the keys that open it: .*\.snap \(npm run restore -- /);
        // The pods the roll replaced were unsealed by it: the unseal steps that ran found them so.
        for (const run of up.runs.filter((r) => r.id.startsWith("unseal-") || r.id.startsWith("join-"))) {
            assert.equal(JSON.parse(run.stdout).result, "already-unsealed", run.id);
        }
        await assertRolledSafely(sim, live.engine, live.audit);
    });

    it("switching TLS on moves every pod to HTTPS, one at a time, while the cluster keeps serving", async () => {
        const live = await liveCluster({ tls: false });
        sim = live.sim;
        assert.ok(podsOf(sim).every((p) => !p.https));
        await sim.upgrade({ tls: true });
        const up = await live.engine.up();
        assert.ok(up.ok, up.runs.map((r) => r.stderr).join("\n"));
        assert.ok(
            podsOf(sim).every((p) => p.https),
            "every pod serves HTTPS",
        );
        await assertRolledSafely(sim, live.engine, live.audit);
    });

    it("a roll killed half-way (after the second delete) is finished by the next up, from the pods' revisions", async () => {
        const live = await liveCluster({ vaultImage: OLD });
        sim = live.sim;
        await sim.upgrade({ vaultImage: NEW });
        sim.killAfter((args) => args[0] === "delete" && args[2] === "vault-1");
        const interrupted = await live.engine.up();
        assert.ok(!interrupted.ok, "the up that was killed fails");
        assert.equal(interrupted.runs.find((r) => r.id === "roll")?.code, 137);
        await sim.wait(20_000);
        const s = sim.state();
        assert.deepEqual(
            podsOf(sim)
                .filter((p) => p.revision === s.statefulSet.updateRevision)
                .map((p) => p.name)
                .sort(),
            ["vault-1", "vault-2"],
            "two pods were rolled before the kill",
        );
        assert.ok(!unsealed(sim).includes("vault-1"), "the pod deleted last came back sealed");

        const resumed = await live.engine.up();
        assert.ok(resumed.ok, resumed.runs.map((r) => r.stderr).join("\n"));
        const roll = resumed.runs.find((r) => r.id === "roll")!;
        assert.deepEqual(JSON.parse(roll.stdout).rolled, ["vault-0"], "only the pod still on the old revision is replaced");
        assert.match(roll.stderr, /vault-1 unsealed/, "the sealed pod is unsealed before anything else is deleted");
        await assertRolledSafely(sim, live.engine, live.audit);
    });

    it("with one replica there is no standby: the pod is replaced and unsealed (Vault is down meanwhile, and says so)", async () => {
        const live = await liveCluster({ replicas: 1, vaultImage: OLD });
        sim = live.sim;
        await sim.upgrade({ vaultImage: NEW });
        const up = await live.engine.up();
        assert.ok(up.ok, up.runs.map((r) => r.stderr).join("\n"));
        const roll = up.runs.find((r) => r.id === "roll")!;
        assert.match(roll.stderr, /vault-0: raft's failure tolerance is 0 \(1 voter; .*\): Vault is unavailable until vault-0 is back and unsealed/);
        assert.ok(!vaultCalls(sim).some((c) => c.includes("step-down")), "no step-down without another node to take over");
        assert.deepEqual(
            podsOf(sim).map((p) => p.version),
            ["2.0.4"],
        );
        const s = sim.state();
        assert.equal(model.readData(s, "secret/app"), "written before the change");
        assert.deepEqual((await live.engine.up()).runs, []);
    });

    for (const tls of [false, true]) {
        it(`with two replicas (TLS ${tls ? "on" : "off"}) the roll completes and says each replacement leaves Vault unavailable: failure tolerance 0${tls ? "" : DEPTH}`, async () => {
            const live = await liveCluster({ replicas: 2, tls, vaultImage: OLD });
            sim = live.sim;
            const since = sim.calls().length;
            await sim.upgrade({ vaultImage: NEW, tls });
            const up = await live.engine.up();
            assert.ok(up.ok, up.runs.map((r) => `${r.id}: ${r.stderr}`).join("\n"));
            const roll = up.runs.find((r) => r.id === "roll")!;
            assert.deepEqual([...JSON.parse(roll.stdout).rolled].sort(), ["vault-0", "vault-1"]);
            for (const pod of ["vault-0", "vault-1"]) {
                // raft-autopilot state.go: 2 voters need both for a quorum (2/2 + 1), so the tolerance is 0.
                const said = new RegExp(`${pod}: raft's failure tolerance is 0 \\(2 voters; .*\\): Vault is unavailable until ${pod} is back and unsealed`);
                assert.match(roll.stderr, said);
            }
            assert.ok(!vaultCalls(sim, since).some((c) => c.includes("step-down")), "no step-down: the successor would lose the quorum too");
            assert.ok(sim.state().audit.quorumLost > live.audit.quorumLost, "the simulator saw the outage the log announced");
            assert.ok(podsOf(sim).every((p) => p.version === "2.0.4" && p.https === tls));
            assert.deepEqual(unsealed(sim), sim.pods);
            assert.deepEqual(sim.state().audit.deletedWhileUnhealthy, []);
            assert.equal(model.readData(sim.state(), "secret/app"), "written before the change");
            assert.deepEqual((await live.engine.up()).runs, [], "a second up changes nothing");
        });
    }

    it("the active pod loses the leadership just before its step-down: the forwarded step-down hits another node, and the hand-over waits for a new term", async () => {
        const live = await liveCluster({ vaultImage: OLD, timeoutSeconds: 60 });
        sim = live.sim;
        const active: string = sim.state().active;
        // vault status -format=json carries active_time, the start of this node's term (api/sys_leader.go).
        const status = parseSealStatus(JSON.stringify(model.sealStatus(sim.state(), active)));
        assert.equal(status.activeTime, sim.state().activeSince);
        const standby = sim.pods.find((p) => p !== active)!;
        assert.equal(parseSealStatus(JSON.stringify(model.sealStatus(sim.state(), standby))).activeTime, undefined);

        await sim.upgrade({ vaultImage: NEW });
        let raced = false;
        const activeWhenDeleted: Array<string | null> = [];
        sim.onCall = (call) => {
            const line = call.args.join(" ");
            if (!raced && call.phase === "before" && call.args[0] === "exec" && call.args.includes(active) && line.includes("operator step-down")) {
                // Between the runner's "is it active?" and its step-down call, raft moves the leadership to a standby.
                raced = true;
                sim!.change((s) => {
                    s.active = standby;
                    s.activeSince = s.now;
                    s.raftIndex++;
                    s.audit.elections++;
                });
            }
            if (call.phase === "before" && call.args[0] === "delete" && call.args.includes(active)) activeWhenDeleted.push(sim!.state().active);
        };
        const up = await live.engine.up();
        sim.onCall = undefined;
        assert.ok(raced, "the leadership moved just before the step-down");
        assert.ok(up.ok, up.runs.map((r) => `${r.id}: ${r.stderr}`).join("\n"));
        const roll = up.runs.find((r) => r.id === "roll")!;
        assert.match(roll.stderr, new RegExp(`${active} is active again \\(a new term since .*\\): asking it to step down again \\(2/3\\)`));
        assert.match(roll.stderr, new RegExp(`${active} stepped down; vault-\\d is active since `));
        assert.equal(activeWhenDeleted.length, 1);
        assert.ok(activeWhenDeleted[0] !== null && activeWhenDeleted[0] !== active, `${active} was a standby when it was deleted (${activeWhenDeleted[0]})`);
        await assertRolledSafely(sim, live.engine, live.audit);
    });

    it("the roll waits for the StatefulSet controller to observe the new spec before it reads which pods are outdated", async () => {
        const live = await liveCluster({ vaultImage: OLD });
        sim = live.sim;
        sim.change((s) => (s.timing.controllerMs = 8000));
        await sim.upgrade({ vaultImage: NEW });
        const up = await live.engine.up();
        assert.ok(up.ok);
        assert.equal(JSON.parse(up.runs.find((r) => r.id === "roll")!.stdout).rolled.length, 3, "all three pods were rolled, not none");
    });

    it("an unchanged template rolls nothing: the roll step of a fresh install reports every pod current", async () => {
        sim = await Simulation.create();
        const engine = new SimulatedEngine(sim);
        const up = await engine.up();
        assert.ok(up.ok);
        const roll = up.runs.find((r) => r.id === "roll")!;
        assert.deepEqual(JSON.parse(roll.stdout).rolled, []);
        assert.match(roll.stderr, /nothing to roll/);
        assert.ok(!sim.calls().some((c) => c.argv[0] === "delete"), "no pod was deleted");
    });

    it("scaling a live cluster 3 -> 5 -> 3: new pods join, departed peers go, the quorum holds, data stays, and each next up is quiet", async () => {
        const live = await liveCluster({ replicas: 3 });
        sim = live.sim;
        const peers = () =>
            Object.entries<any>(sim!.state().pods)
                .filter(([, p]) => p.vault.member)
                .map(([name, p]) => `${name}${p.vault.voter ? "" : " (non-voter)"}`)
                .sort();

        sim.scaleTo(5);
        const up = await live.engine.up();
        assert.ok(up.ok, up.runs.map((r) => r.stderr).join("\n"));
        assert.deepEqual(peers(), ["vault-0", "vault-1", "vault-2", "vault-3", "vault-4"], "five voters");
        assert.deepEqual((await live.engine.up()).runs, [], "a second up after the scale-up changes nothing");

        // The chart's StatefulSet is podManagementPolicy: Parallel, so both pods go at once: 3 of 5 voters stay
        // live, exactly a quorum (floor(5/2)+1 = 3), and the cluster keeps serving.
        sim.scaleTo(3);
        assert.ok(sim.state().active, "3 live voters of 5 still elect an active node");
        const down = await live.engine.up();
        assert.ok(down.ok, down.runs.map((r) => r.stderr).join("\n"));
        assert.deepEqual(peers(), ["vault-0", "vault-1", "vault-2"], "the departed peers were removed: 3 voters, quorum 2");
        assert.equal(sim.state().audit.quorumLost, live.audit.quorumLost, "the quorum never broke");
        assert.equal(model.readData(sim.state(), "secret/app"), "written before the change");
        assert.deepEqual((await live.engine.up()).runs, [], "a second up after the scale-down changes nothing");
        assertNothingExposed(sim);
    });

    it("1 -> 3 replicas and a new image in the same up: no step-down without another voter; the new pods join after", async () => {
        const live = await liveCluster({ replicas: 1, vaultImage: OLD });
        sim = live.sim;
        sim.scaleTo(3);
        await sim.upgrade({ vaultImage: NEW });
        const up = await live.engine.up();
        assert.ok(up.ok, up.runs.map((r) => `${r.id}: ${r.stderr}`).join("\n"));
        assert.ok(!vaultCalls(sim).some((c) => c.includes("step-down")), "a lone voter is not asked to step down");
        assert.ok(podsOf(sim).every((p) => p.version === "2.0.4"));
        // Replacing the only voter is downtime (the quorum is lost for a moment): checked like the others otherwise.
        assert.deepEqual(unsealed(sim), sim.pods);
        assert.equal(model.readData(sim.state(), "secret/app"), "written before the change");
        assert.deepEqual((await live.engine.up()).runs, [], "a second up changes nothing");
    });

    it("5 -> 3 replicas and a new image in the same up: the departed peers are removed before the health check", async () => {
        const live = await liveCluster({ replicas: 5, vaultImage: OLD });
        sim = live.sim;
        sim.scaleTo(3);
        await sim.upgrade({ vaultImage: NEW });
        const up = await live.engine.up();
        assert.ok(up.ok, up.runs.map((r) => `${r.id}: ${r.stderr}`).join("\n"));
        const roll = up.runs.find((r) => r.id === "roll")!;
        assert.match(roll.stderr, /removed vault-3 from raft/);
        assert.ok(podsOf(sim).every((p) => p.version === "2.0.4"));
        await assertRolledSafely(sim, live.engine, live.audit);
    });

    it("an image that does not exist stops the roll at the first pod, and setting the old image back finishes it", async () => {
        const live = await liveCluster({ vaultImage: OLD });
        sim = live.sim;
        const typo = "hashicorp/vault:2.0.40";
        sim.change((s) => (s.faults.missingImages = [typo]));
        await sim.upgrade({ vaultImage: typo });
        const failed = await live.engine.up();
        assert.ok(!failed.ok);
        const roll = failed.runs.find((r) => r.id === "roll")!;
        assert.match(roll.stderr, /vault-\d does not start from revision .*ImagePullBackOff.*Nothing else was replaced/);
        assert.equal(sim.state().audit.quorumLost, live.audit.quorumLost, "one pod down of three: the quorum held");
        const stuck = podsOf(sim).filter((p) => p.version === "2.0.40");
        assert.equal(stuck.length, 1, "only the first pod was replaced");

        // Back to the image that runs: not a downgrade (2.0.40 never ran). The roll step's inputs now equal the last
        // ones that succeeded, so it does not run; the stuck pod's own join or unseal step replaces it.
        await sim.upgrade({ vaultImage: OLD });
        const back = await live.engine.up();
        assert.ok(back.ok, back.runs.map((r) => `${r.id}: ${r.stderr}`).join("\n"));
        assert.ok(podsOf(sim).every((p) => p.version === "2.0.3"));
        assert.match(back.runs.map((r) => r.stderr).join("\n"), /is stuck on an older revision \(ImagePullBackOff/);
        // That step replaced its pod after the identities were read: the next up checks it once more (a no-op).
        const recheck = await live.engine.up();
        assert.ok(recheck.ok);
        for (const run of recheck.runs.filter((r) => r.id !== "verify")) assert.equal(JSON.parse(run.stdout).result, "already-unsealed", run.id);
        await assertRolledSafely(sim, live.engine, live.audit);
    });

    it("the roll itself refuses a downgrade the program did not see (pods unreadable in the preview): no pod is replaced", async () => {
        const live = await liveCluster({ vaultImage: NEW });
        sim = live.sim;
        await sim.upgrade({ vaultImage: OLD });
        const up = await live.engine.up();
        assert.ok(!up.ok);
        const roll = up.runs.find((r) => r.id === "roll")!;
        assert.match(roll.stderr, /asks for Vault 2\.0\.3, but vault-\d runs 2\.0\.4: Vault does not support downgrades \(.*\), so no pod was replaced/);
        assert.ok(!sim.calls().some((c) => c.argv[0] === "delete"), "no pod was deleted");
        assert.ok(podsOf(sim).every((p) => p.version === "2.0.4"));
    });

    it("a template change while Vault is sealed everywhere replaces the pods without waiting for a health it cannot have", async () => {
        const live = await liveCluster({ vaultImage: OLD });
        sim = live.sim;
        sim.change((s) => model.restartAll(s));
        await sim.wait(5000);
        await sim.upgrade({ vaultImage: NEW });
        const up = await live.engine.up();
        assert.ok(up.ok, up.runs.map((r) => r.stderr).join("\n"));
        assert.match(up.runs.find((r) => r.id === "roll")!.stderr, /no Vault pod is unsealed/);
        assert.ok(podsOf(sim).every((p) => p.version === "2.0.4"));
        assert.deepEqual(unsealed(sim), sim.pods, "the unseal and join steps unsealed the replaced pods");
        assert.equal(model.readData(sim.state(), "secret/app"), "written before the change");
    });
});
