import { strict as assert } from "assert";
import { bootstrapPlan } from "../../../components/vault/bootstrapPlan";

describe("bootstrap plan", () => {
    it("rolls pods after init (it needs the keys) and before the unseals; followers after the leader's unseal; verify last", () => {
        assert.deepEqual(bootstrapPlan(["vault-0", "vault-1", "vault-2"]), [
            { id: "wait-pods", step: "wait-pods", after: [] },
            { id: "init", step: "init", pod: "vault-0", after: ["wait-pods"] },
            { id: "roll", step: "roll", after: ["init"] },
            { id: "unseal-vault-0", step: "unseal", pod: "vault-0", after: ["roll"] },
            { id: "join-vault-1", step: "join", pod: "vault-1", after: ["unseal-vault-0"] },
            { id: "join-vault-2", step: "join", pod: "vault-2", after: ["unseal-vault-0"] },
            { id: "verify", step: "verify", pod: "vault-0", after: ["unseal-vault-0", "join-vault-1", "join-vault-2"] },
        ]);
    });

    it("for a single replica: no joins", () => {
        assert.deepEqual(
            bootstrapPlan(["vault-0"]).map((s) => s.id),
            ["wait-pods", "init", "roll", "unseal-vault-0", "verify"],
        );
    });
});
