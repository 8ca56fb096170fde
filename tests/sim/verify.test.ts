/** The verify step (components/runner/handlers/verify.ts) against the simulator: autopilot, and a full restart. */
import { strict as assert } from "assert";
import { DEPTH } from "../support/depth";
import { assertNothingExposed } from "../doubles/vault/exposure";
import * as fs from "fs";
import * as path from "path";
import { requireRenderedPods, Simulation, stagedCopies } from "../doubles/vault/harness";
import { unsealed, vaultCalls } from "../doubles/vault/inspect";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");
const { podHome } = require("../doubles/vault/podHome.js");

describe("verify against the simulator", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("verify waits for autopilot to promote new followers to voters", async () => {
        sim = await Simulation.create();
        sim.change((s) => (s.timing.stabilizationMs = 30_000));
        const out = await sim.bootstrap();
        assert.ok(out.peers.every((p) => p.voter));
        assert.ok(vaultCalls(sim).filter((c) => c.includes("list-peers")).length >= 5, "verify polled until promotion");
    });
});

for (const tls of [false, true]) {
    describe(`verify after a full restart (tls ${tls})`, () => {
        before(function () {
            requireRenderedPods(this);
        });
        let sim: Simulation;
        afterEach(() => sim?.dispose());

        it(`after a full restart (laptop reboot): every pod unsealed again, verify polls until quorum and an election${tls ? "" : DEPTH}`, async () => {
            sim = await Simulation.create({ tls });
            const { keys } = await sim.bootstrap();
            sim.change((s) => model.restartAll(s));
            assert.deepEqual(unsealed(sim), []);
            // What the next `pulumi up` runs: every unseal step (their pods' identities changed), then verify.
            assert.equal((await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } })).code, 0);
            assert.equal(sim.state().active, null, "one of three voters is no quorum");
            const joins = await Promise.all(
                ["vault-1", "vault-2"].map((pod) => sim.runStep("join", { pod, secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } })),
            );
            for (const run of joins) assert.equal(run.code, 0, run.stderr);
            const verify = await sim.runStep("verify", { secrets: { rootToken: keys.rootToken } });
            assert.equal(verify.code, 0, verify.stderr);
            const peers = JSON.parse(verify.stdout).peers;
            assert.equal(peers.filter((p: any) => p.leader).length, 1);
            assert.ok(peers.every((p: any) => p.voter));
            assert.ok(vaultCalls(sim).filter((c) => c.includes("list-peers")).length >= 2, "verify got 'no active node' first and polled");
            assertNothingExposed(sim);
        });
    });
}

describe("verify tidies what init could not", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("removes a staged copy of init's answer left in the leader (its removal failed during init)", async () => {
        sim = await Simulation.create();
        const { keys } = await sim.bootstrap();
        // What init leaves when its removal of the pod's copy fails.
        const home = podHome(sim.stateFile, `vault-0-${sim.state().pods["vault-0"].uid}`);
        fs.writeFileSync(path.join(home, ".vault-ha-init.json"), JSON.stringify({ unseal_keys_b64: keys.unsealKeys, root_token: keys.rootToken }));
        assert.equal(stagedCopies(sim).length, 1);
        const verify = await sim.runStep("verify", { secrets: { rootToken: keys.rootToken } });
        assert.equal(verify.code, 0, verify.stderr);
        assert.deepEqual(stagedCopies(sim), []);
    });
});

describe("scaling a running cluster (vaultReplicas changed)", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("up, 3 -> 5: the new pods join and are unsealed, and verify expects 5 voters", async () => {
        sim = await Simulation.create({ replicas: 3 });
        const { keys } = await sim.bootstrap();
        sim.scaleTo(5);
        for (const pod of ["vault-3", "vault-4"]) {
            const run = await sim.runStep("join", { pod, secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } });
            assert.equal(run.code, 0, run.stderr);
        }
        const verify = await sim.runStep("verify", { secrets: { rootToken: keys.rootToken } });
        assert.equal(verify.code, 0, verify.stderr);
        const peers = JSON.parse(verify.stdout).peers;
        assert.deepEqual(peers.map((p: { node_id: string }) => p.node_id).sort(), ["vault-0", "vault-1", "vault-2", "vault-3", "vault-4"]);
        assert.ok(peers.every((p: { voter: boolean }) => p.voter));
        assertNothingExposed(sim);
    });

    it("down, 5 -> 3: waits out the departed pods' Terminating, then removes exactly their peers, then their volumes", async () => {
        sim = await Simulation.create({ replicas: 5 });
        const { keys } = await sim.bootstrap();
        sim.scaleTo(3);
        // The StatefulSet deleted both at once; they stay Terminating through the chart's preStop sleep.
        assert.ok(sim.state().pods["vault-3"].terminatingUntil, "vault-3 is still Terminating when verify starts");
        const before = sim.calls().length;
        const verify = await sim.runStep("verify", { secrets: { rootToken: keys.rootToken } });
        assert.equal(verify.code, 0, verify.stderr);
        assert.deepEqual(
            JSON.parse(verify.stdout)
                .peers.map((p: { node_id: string }) => p.node_id)
                .sort(),
            ["vault-0", "vault-1", "vault-2"],
        );
        const calls = sim.calls().slice(before);
        const removals = calls.filter((c) => c.tool === "vault" && c.argv.includes("remove-peer"));
        assert.equal(removals.length, 2, "one remove-peer per departed pod");
        const claimDeletes = calls.map((c, i) => ({ c, i })).filter(({ c }) => c.tool === "kubectl" && c.argv[0] === "delete" && c.argv[1] === "pvc");
        assert.deepEqual(
            claimDeletes.map(({ c }) => c.argv[2]),
            ["data-vault-3", "data-vault-4"],
        );
        const lastRemoval = calls.lastIndexOf(removals[removals.length - 1]);
        assert.ok(
            claimDeletes.every(({ i }) => i > lastRemoval),
            "a volume goes only after its peer",
        );
        assert.match(verify.stderr, /removed vault-3 from raft: the scale-down to 3 replicas deleted its pod/);
        assert.match(verify.stderr, /deleted data-vault-4, the raft volume of vault-4/);
        assert.deepEqual(Object.keys(sim.state().claims).sort(), ["data-vault-0", "data-vault-1", "data-vault-2"]);
        // Quorum: 3 live voters of 5 had it; 3 of 3 have it, and the 2 dead ones no longer count.
        assert.equal(sim.state().active !== null, true);
        assertNothingExposed(sim);
    });

    it("never removes a peer whose pod is not gone: one beyond the replica count the StatefulSet keeps is waited for, named, and left", async () => {
        sim = await Simulation.create({ replicas: 5, timeoutSeconds: 30 });
        const { keys } = await sim.bootstrap();
        // The program already says 3, but the StatefulSet still asks for 4 (its scale-down has not happened).
        sim.scaleTo(4);
        sim.params.replicas = 3;
        sim.pods = sim.pods.slice(0, 3);
        const verify = await sim.runStep("verify", { secrets: { rootToken: keys.rootToken } });
        assert.equal(verify.code, 1);
        assert.match(
            verify.stderr,
            /waiting for the pods beyond 3 replicas to be gone .*vault-3 not being deleted \(does the StatefulSet vault ask for 3 replicas\?\)/,
        );
        assert.ok(sim.state().pods["vault-3"].vault.member, "vault-3 is still a raft member");
        assert.ok(sim.state().pods["vault-4"].vault.member, "nothing was removed while a departed pod remained");
        assert.ok(sim.state().claims["data-vault-4"], "nor any volume");
    });
});
