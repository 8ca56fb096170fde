/** forget-keys (components/runner/steps/keys.ts): destroy removes the key file, with or without a cluster. */
import { strict as assert } from "assert";
import * as fs from "fs";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";

describe("forget-keys against the simulator", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("destroy forgets the keys without needing the cluster, and succeeds when they are gone", async () => {
        sim = await Simulation.create();
        await sim.bootstrap();
        const before = sim.calls().length;
        const first = await sim.runStep("forget-keys");
        assert.equal(first.code, 0, first.stderr);
        assert.deepEqual(JSON.parse(first.stdout), { deleted: true });
        assert.ok(!fs.existsSync(sim.keyFile));
        const again = await sim.runStep("forget-keys");
        assert.equal(again.code, 0);
        assert.deepEqual(JSON.parse(again.stdout), { deleted: false });
        assert.equal(sim.calls().length, before, "no kubectl call: it works with the cluster already deleted");
    });
});
