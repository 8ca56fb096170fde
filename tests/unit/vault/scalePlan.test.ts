/** scalePlan.ts: which replica changes the raft quorum survives when the chart's StatefulSet removes pods in parallel. */
import { strict as assert } from "assert";
import { FixCommands } from "../../../components/config/settings";
import { failureTolerance, safeScaleDownPath, scaleDecision } from "../../../components/vault/scalePlan";

describe("scalePlan: changing vaultReplicas on a running cluster", () => {
    it("failure tolerance is what raft can lose and still elect a leader: floor((n - 1) / 2)", () => {
        assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(failureTolerance), [0, 0, 1, 1, 2, 2, 3]);
    });

    it("the safe path down takes at most the tolerance at each step, and stops where no step keeps a quorum", () => {
        assert.deepEqual(safeScaleDownPath(5, 3), [3]);
        assert.deepEqual(safeScaleDownPath(5, 2), [3, 2]);
        assert.deepEqual(safeScaleDownPath(4, 2), [3, 2]);
        assert.deepEqual(safeScaleDownPath(3, 1), [2]);
        assert.deepEqual(safeScaleDownPath(2, 1), []);
        assert.deepEqual(safeScaleDownPath(7, 1), [4, 3, 2]);
    });

    it("nothing to decide on a first install or an unchanged count", () => {
        assert.deepEqual(scaleDecision("vault", {}, 3), { kind: "none" });
        assert.deepEqual(scaleDecision("vault", { replicas: 3 }, 3), { kind: "none" });
    });

    it("a scale-up names the new pods, which start on empty volumes and join", () => {
        const d = scaleDecision("vault", { replicas: 3 }, 5);
        assert.equal(d.kind, "up");
        assert.match(d.kind === "up" ? d.notice : "", /3 -> 5: the StatefulSet starts vault-3, vault-4 on new, empty raft volumes/);
    });

    it("a scale-down within the tolerance is announced with the pods, peers and volumes that go", () => {
        for (const [from, to] of [
            [5, 3],
            [4, 3],
            [3, 2],
            [5, 4],
        ]) {
            const d = scaleDecision("vault", { replicas: from }, to);
            assert.equal(d.kind, "down", `${from} -> ${to}`);
        }
        const d = scaleDecision("vault", { replicas: 5 }, 3);
        assert.match(d.kind === "down" ? d.notice : "", /deletes vault-3, vault-4 together; 3 of the 5 raft voters stay/);
    });

    it("a scale-down past the tolerance is refused with the safe steps and, where none reaches the target, the rebuild", () => {
        const five = scaleDecision("vault", { replicas: 5 }, 2, new FixCommands("prod"));
        assert.equal(five.kind, "refused");
        const m5 = five.kind === "refused" ? five.message : "";
        assert.match(m5, /vaultReplicas 5 -> 2 would delete vault-2, vault-3, vault-4 at once/);
        assert.match(m5, /leaving 2 of 5 raft voters: fewer than the 3 a quorum needs/);
        assert.match(
            m5,
            /PULUMI_STACK=prod npm run config -- set vault-ha:vaultReplicas 3 && pulumi up, then PULUMI_STACK=prod npm run config -- set vault-ha:vaultReplicas 2 && pulumi up/,
        );
        assert.doesNotMatch(m5, /cannot keep a quorum in place/);

        const two = scaleDecision("vault", { replicas: 2 }, 1);
        const m2 = two.kind === "refused" ? two.message : "";
        assert.match(m2, /2 -> 1 cannot keep a quorum in place: npm run snapshot, pulumi destroy, npm run config -- set vault-ha:vaultReplicas 1, pulumi up/);
        assert.equal(scaleDecision("vault", { replicas: 4 }, 2).kind, "refused");
        assert.equal(scaleDecision("vault", { replicas: 3 }, 1).kind, "refused");
    });
});

describe("scalePlan: the volumes of an unfinished scale-down count as voters", () => {
    it("5 -> 3 whose up failed before verify, then 3 -> 2: refused, with the way to finish the first", () => {
        const d = scaleDecision("vault", { replicas: 3, claims: ["data-vault-0", "data-vault-1", "data-vault-2", "data-vault-3", "data-vault-4"] }, 2);
        assert.equal(d.kind, "refused");
        const m = d.kind === "refused" ? d.message : "";
        assert.match(m, /the raft volumes of vault-3, vault-4 are still there/);
        assert.match(m, /5 in all, of which 2 would stay, fewer than the 3 a quorum needs/);
        assert.match(m, /pulumi up with vaultReplicas 3 \(its verify removes their peers, then their volumes\)/);
        assert.match(m, /delete pvc data-vault-3 data-vault-4/);
    });

    it("a leftover volume that still leaves a quorum does not block, and other claims do not count", () => {
        assert.equal(scaleDecision("vault", { replicas: 5, claims: ["data-vault-5", "audit-vault-7", "other"] }, 4).kind, "down");
        assert.equal(scaleDecision("vault", { replicas: 3, claims: ["data-vault-0", "data-vault-1", "data-vault-2"] }, 2).kind, "down");
    });
});
