/** The verify step (components/runner/steps/verify.ts) against the simulator: autopilot, and a full restart. */
import { strict as assert } from "assert";
import { assertNothingExposed } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { unsealed, vaultCalls } from "../doubles/vault/inspect";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

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

        it("after a full restart (laptop reboot): every pod unsealed again, verify polls until quorum and an election", async () => {
            sim = await Simulation.create({ tls });
            const { keys } = await sim.bootstrap();
            sim.change((s) => model.restartAll(s));
            assert.deepEqual(unsealed(sim), []);
            // What the next `pulumi up` runs: every unseal step (their pods' identities changed), then verify.
            assert.equal((await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys.unsealKeys } })).code, 0);
            assert.equal(sim.state().active, null, "one of three voters is no quorum");
            const joins = await Promise.all(["vault-1", "vault-2"].map((pod) => sim.runStep("join", { pod, secrets: { unsealKeys: keys.unsealKeys } })));
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
