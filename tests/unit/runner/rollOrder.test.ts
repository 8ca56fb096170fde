/** The roll's order (components/vault/rollPlan.ts rollOrder, beforeReplacing, rollDowngrade), without a cluster. */
import { strict as assert } from "assert";
import { beforeReplacing, rollDowngrade, rollOrder, RollPodStatus } from "../../../components/vault/rollPlan";

const standby: RollPodStatus = { initialized: true, sealed: false, isSelf: false };
const active: RollPodStatus = { initialized: true, sealed: false, isSelf: true };
const sealedMember: RollPodStatus = { initialized: true, sealed: true, isSelf: false };
const empty: RollPodStatus = { initialized: false, sealed: true, isSelf: false };

const names = (n: number) => Array.from({ length: n }, (_, i) => `vault-${i}`);
const statuses = (entries: Record<string, RollPodStatus | undefined>) => new Map(Object.entries(entries));

describe("the roll's order", () => {
    it("standbys highest ordinal first, the active node last, after a backup", () => {
        const order = rollOrder(names(3), names(3), statuses({ "vault-0": active, "vault-1": standby, "vault-2": standby }));
        assert.deepEqual(order, {
            serving: true,
            unsealFirst: [],
            servingPods: ["vault-0", "vault-1", "vault-2"],
            idleFirst: [],
            servingOrder: ["vault-2", "vault-1", "vault-0"],
            snapshotFirst: true,
        });
    });

    it("orders ordinals as numbers, not as text (vault-10 after vault-9)", () => {
        const all = names(11);
        const seal = statuses(Object.fromEntries(all.map((n) => [n, n === "vault-3" ? active : standby])));
        const order = rollOrder(all, all, seal);
        assert.ok(order.serving);
        assert.deepEqual(order.servingOrder, [
            "vault-10",
            "vault-9",
            "vault-8",
            "vault-7",
            "vault-6",
            "vault-5",
            "vault-4",
            "vault-2",
            "vault-1",
            "vault-0",
            "vault-3",
        ]);
    });

    it("only the outdated pods are replaced; the active node keeps its place last when it is outdated", () => {
        const order = rollOrder(names(3), ["vault-1", "vault-2"], statuses({ "vault-0": standby, "vault-1": standby, "vault-2": active }));
        assert.ok(order.serving);
        assert.deepEqual(order.servingOrder, ["vault-1", "vault-2"]);
    });

    it("sealed members are unsealed first and then count as serving; stuck pods go before any serving pod", () => {
        const order = rollOrder(names(3), ["vault-0", "vault-1", "vault-2"], statuses({ "vault-0": active, "vault-1": sealedMember, "vault-2": undefined }));
        assert.deepEqual(order, {
            serving: true,
            unsealFirst: ["vault-1"],
            servingPods: ["vault-0", "vault-1"],
            idleFirst: ["vault-2"],
            servingOrder: ["vault-1", "vault-0"],
            snapshotFirst: true,
        });
    });

    it("no backup when only pods that serve nothing are replaced", () => {
        const order = rollOrder(names(3), ["vault-2"], statuses({ "vault-0": active, "vault-1": standby, "vault-2": empty }));
        assert.ok(order.serving);
        assert.deepEqual(order.idleFirst, ["vault-2"]);
        assert.deepEqual(order.servingOrder, []);
        assert.equal(order.snapshotFirst, false);
    });

    it("with nothing unsealed every outdated pod is replaced at once, in the given order", () => {
        const order = rollOrder(names(3), ["vault-0", "vault-2"], statuses({ "vault-0": sealedMember, "vault-1": empty, "vault-2": undefined }));
        assert.deepEqual(order, { serving: false, replace: ["vault-0", "vault-2"] });
    });
});

describe("what happens right before a serving pod is replaced", () => {
    it("at failure tolerance 0 nothing steps down: the quorum is lost until the pod is back", () => {
        assert.equal(beforeReplacing(0, { isSelf: true, sealed: false }), "quorum-lost");
        assert.equal(beforeReplacing(0, { isSelf: false, sealed: false }), "quorum-lost");
    });

    it("the active node steps down first; a standby, or a node no longer active, is simply replaced", () => {
        assert.equal(beforeReplacing(1, { isSelf: true, sealed: false }), "step-down");
        assert.equal(beforeReplacing(1, { isSelf: false, sealed: false }), "replace");
        assert.equal(beforeReplacing(2, { isSelf: true, sealed: true }), "replace");
    });
});

describe("a downgrade the roll refuses", () => {
    const template = (image: string) => `image ${image}, TLS off, chart 0.30.0, values 0123456789ab`;

    it("names the first pod that runs a newer Vault than the template asks for", () => {
        const seal = statuses({ "vault-0": { ...standby, version: "1.19.0" }, "vault-1": { ...active, version: "1.20.1+ent" } });
        assert.deepEqual(rollDowngrade(template("hashicorp/vault:1.20.0"), names(2), seal), { pod: "vault-1", running: "1.20.1+ent", wanted: "1.20.0" });
    });

    it("nothing when every pod runs the same or an older version, or the template names no version", () => {
        const seal = statuses({ "vault-0": { ...standby, version: "1.19.0" }, "vault-1": { ...active, version: "1.20.0" } });
        assert.equal(rollDowngrade(template("hashicorp/vault:1.20.0"), names(2), seal), undefined);
        assert.equal(rollDowngrade(undefined, names(2), seal), undefined);
        assert.equal(rollDowngrade(template("registry.example/vault@sha256:abc"), names(2), seal), undefined);
    });
});
