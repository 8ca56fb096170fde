/**
 * Scaling a live cluster in the simulator, through the simulated Pulumi engine (tests/chaos/engine.ts): the
 * StatefulSet deletes excess pods in parallel and holds each in Terminating through the chart's preStop sleep, keeps
 * their volume claims, and starts new pods on the claims it finds; Vault 1.19+ refuses a node that comes back with the
 * raft data of a removed member (model.js markRemoved). What vault-ha must do about it: components/runner/
 * primitives/departedPeers.ts removeDepartedPeers, steps/join.ts, and the program's refusal (components/vault/scalePlan.ts).
 */
import { strict as assert } from "assert";
import { DEPTH } from "../support/depth";
import { bootstrappedCluster } from "../chaos/engine";
import { assertNothingExposed } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { scaleDecision } from "../../components/vault/scalePlan";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

/** A live cluster: bootstrapped by an up, with a secret written through the active node. */
async function liveCluster(options: { replicas: number; tls?: boolean; timeoutSeconds?: number }) {
    const { sim, engine } = await bootstrappedCluster(options);
    sim.change((s) => model.writeData(s, "secret/app", "written before scaling"));
    return { sim, engine };
}

/** The raft configuration as the model holds it: members, with non-voters marked. */
function members(sim: Simulation): string[] {
    return Object.entries<any>(sim.state().pods)
        .filter(([, p]) => p.vault.member)
        .map(([name, p]) => `${name}${p.vault.voter ? "" : " (non-voter)"}`)
        .sort();
}

/** What the program lets through before the release changes (the preview's decision), then the StatefulSet scales. */
function scale(sim: Simulation, to: number): void {
    const decision = scaleDecision("vault", { replicas: sim.state().statefulSet.replicas }, to);
    assert.notEqual(decision.kind, "refused", decision.kind === "refused" ? decision.message : "");
    sim.scaleTo(to);
}

describe("scaling a live cluster (simulator)", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation | undefined;
    afterEach(() => sim?.dispose());

    for (const tls of [false, true]) {
        it(`3 -> 5 -> 3 -> 5 with TLS ${tls ? "on" : "off"}: departed pods are waited out, their peers and volumes go, and they come back empty as new members${tls ? "" : DEPTH}`, async () => {
            const live = await liveCluster({ replicas: 3, tls });
            sim = live.sim;
            const quorumLost = sim.state().audit.quorumLost;

            scale(sim, 5);
            const up = await live.engine.up();
            assert.ok(up.ok, up.runs.map((r) => `${r.id}: ${r.stderr}`).join("\n"));
            assert.deepEqual(members(sim), ["vault-0", "vault-1", "vault-2", "vault-3", "vault-4"]);

            scale(sim, 3);
            assert.ok(sim.state().pods["vault-4"].terminatingUntil, "vault-4 is Terminating (the chart's preStop sleep) when the up starts");
            const down = await live.engine.up();
            assert.ok(down.ok, down.runs.map((r) => `${r.id}: ${r.stderr}`).join("\n"));
            // The roll runs on every change of the count and tidies first (verify would otherwise).
            const tidied = down.runs.map((r) => r.stderr).join("\n");
            assert.match(tidied, /removed vault-3 from raft[^]*deleted data-vault-3, the raft volume of vault-3/);
            assert.deepEqual(members(sim), ["vault-0", "vault-1", "vault-2"]);
            assert.deepEqual(Object.keys(sim.state().claims).sort(), ["data-vault-0", "data-vault-1", "data-vault-2"]);
            assert.deepEqual((await live.engine.up()).runs, [], "a second up after the scale-down changes nothing");

            scale(sim, 5);
            const again = await live.engine.up();
            assert.ok(again.ok, again.runs.map((r) => `${r.id}: ${r.stderr}`).join("\n"));
            assert.match(again.runs.find((r) => r.id === "join-vault-3")!.stderr, /vault-3 joined the raft cluster/);
            assert.deepEqual(members(sim), ["vault-0", "vault-1", "vault-2", "vault-3", "vault-4"], "five voters again");
            assert.ok(!Object.values<any>(sim.state().pods).some((p) => p.vault.removed), "no node was refused as removed");
            assert.equal(sim.state().audit.quorumLost, quorumLost, "the quorum held throughout");
            assert.equal(model.readData(sim.state(), "secret/app"), "written before scaling");
            assert.deepEqual((await live.engine.up()).runs, [], "a second up changes nothing");
            assertNothingExposed(sim);
        });
    }

    it("5 -> 3 while one of the staying pods is sealed (it restarted since the last up): the same up unseals it and the quorum comes back", async () => {
        const live = await liveCluster({ replicas: 5 });
        sim = live.sim;
        sim.change((s) => model.restart(s, "vault-1"));
        await sim.wait(5000);
        scale(sim, 3);
        const down = await live.engine.up();
        assert.ok(down.ok, down.runs.map((r) => `${r.id}: ${r.stderr}`).join("\n"));
        assert.deepEqual(members(sim), ["vault-0", "vault-1", "vault-2"]);
        assert.equal(model.readData(sim.state(), "secret/app"), "written before scaling");
    });

    it("4 -> 5 whose verify failed, then back to 4: the roll (it runs on every change of the count) removes vault-4's peer and volume", async () => {
        const live = await liveCluster({ replicas: 4 });
        sim = live.sim;
        scale(sim, 5);
        sim.onCall = (call) => (call.step === "verify" ? "kill" : undefined);
        const failed = await live.engine.up();
        assert.equal(failed.ok, false);
        sim.onCall = undefined;
        assert.ok(members(sim).includes("vault-4 (non-voter)") || members(sim).includes("vault-4"), "vault-4 joined before verify failed");
        // verify's inputs are those of its last success (4 replicas): only the roll runs for the change back.
        scale(sim, 4);
        const back = await live.engine.up();
        assert.ok(back.ok, back.runs.map((r) => `${r.id}: ${r.stderr}`).join("\n"));
        assert.ok(!back.runs.some((r) => r.id === "verify"), "verify does not run");
        assert.match(back.runs.find((r) => r.id === "roll")!.stderr, /removed vault-4 from raft[^]*deleted data-vault-4/);
        assert.deepEqual(members(sim), ["vault-0", "vault-1", "vault-2", "vault-3"]);
        assert.equal(sim.state().claims["data-vault-4"], undefined);
        assert.deepEqual((await live.engine.up()).runs, [], "a second up changes nothing");
    });

    it("why 5 -> 2 is refused: three voters deleted at once leave raft without a quorum, and nothing can remove them", async () => {
        const live = await liveCluster({ replicas: 5, timeoutSeconds: 60 });
        sim = live.sim;
        const refused = scaleDecision("vault", { replicas: 5 }, 2);
        assert.equal(refused.kind, "refused");
        // What the program prevents, done anyway: the StatefulSet deletes vault-2..4 together.
        sim.scaleTo(2);
        await sim.wait(30_000);
        assert.equal(sim.state().active, null, "2 live voters of 5: no leader");
        const down = await live.engine.up();
        assert.equal(down.ok, false);
        assert.match(down.runs.map((r) => r.stderr).join("\n"), /local node not active but active cluster node not found|timed out/);
        assert.throws(() => model.readData(sim!.state(), "secret/app"), /no active Vault node/, "Vault serves nothing");
    });

    it("a volume kept from an earlier scale-down (before this fix): the node comes back removed, and join stops at once with the way out", async () => {
        const live = await liveCluster({ replicas: 5 });
        sim = live.sim;
        // An earlier version removed the peers but kept the claims.
        sim.scaleTo(3);
        await sim.wait(10_000);
        sim.change((s) => {
            for (const pod of ["vault-3", "vault-4"]) model.removePeer(s, "vault-0", s.cluster.rootToken, pod);
        });
        assert.ok(sim.state().claims["data-vault-3"], "the old claim is still there");
        sim.scaleTo(5);
        const up = await live.engine.up();
        assert.equal(up.ok, false);
        const join = up.runs.find((r) => r.id === "join-vault-3")!;
        assert.equal(join.code, 1);
        assert.match(join.stderr, /vault-3 reports removed_from_cluster: it holds raft data of a node this Vault cluster removed/);
        assert.match(join.stderr, /kubectl -n vault delete pvc data-vault-3 --wait=false && kubectl -n vault delete pod vault-3/);
        assert.doesNotMatch(join.stderr, /timed out/, "no 10-minute wait");

        // The way out, as the message says: the claim goes with the pod, the StatefulSet makes both anew, empty.
        sim.change((s) => {
            for (const pod of ["vault-3", "vault-4"]) {
                model.deleteClaim(s, `data-${pod}`);
                model.deletePod(s, pod);
            }
        });
        await sim.wait(10_000);
        const fixed = await live.engine.up();
        assert.ok(fixed.ok, fixed.runs.map((r) => `${r.id}: ${r.stderr}`).join("\n"));
        assert.deepEqual(members(sim), ["vault-0", "vault-1", "vault-2", "vault-3", "vault-4"]);
        assert.equal(model.readData(sim.state(), "secret/app"), "written before scaling");
    });

    it("a node that joined empty and marked itself removed (hashicorp/vault#32099) is started empty once more; twice, it is named", async () => {
        const live = await liveCluster({ replicas: 3 });
        sim = live.sim;
        sim.change((s) => (s.faults.rejoinMarkedRemoved = 1));
        scale(sim, 4);
        const up = await live.engine.up();
        assert.ok(up.ok, up.runs.map((r) => `${r.id}: ${r.stderr}`).join("\n"));
        const join = up.runs.find((r) => r.id === "join-vault-3")!;
        assert.match(join.stderr, /vault-3 marked itself removed while joining empty \(hashicorp\/vault#32099\): starting it empty again \(attempt 2 of 2\)/);
        assert.deepEqual(members(sim), ["vault-0", "vault-1", "vault-2", "vault-3"]);
        assert.equal(model.readData(sim.state(), "secret/app"), "written before scaling");

        sim.change((s) => (s.faults.rejoinMarkedRemoved = 2));
        scale(sim, 5);
        const again = await live.engine.up();
        assert.equal(again.ok, false);
        const failed = again.runs.find((r) => r.id === "join-vault-4")!;
        assert.match(
            failed.stderr,
            /vault-4 reports removed_from_cluster[^]*kubectl -n vault delete pvc data-vault-4 --wait=false && kubectl -n vault delete pod vault-4/,
        );
        assert.doesNotMatch(failed.stderr, /timed out/);
    });
});
