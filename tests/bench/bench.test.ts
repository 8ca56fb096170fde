import { strict as assert } from "assert";
import { BENCH_LIMIT, benchBootstrap } from "./bench";
import { requireRenderedPods } from "../doubles/vault/harness";

describe("bootstrap critical path (npm run bench, on simulated time)", () => {
    before(function () {
        requireRenderedPods(this);
    });
    for (const replicas of [3, 5]) {
        it(`${replicas} replicas stay within ${BENCH_LIMIT}x of the critical-path minimum`, async () => {
            const r = await benchBootstrap(replicas);
            assert.ok(r.elapsedMs <= r.minimumMs * BENCH_LIMIT, `took ${r.elapsedMs} ms, minimum ${r.minimumMs} ms`);
            assert.ok(r.elapsedMs >= r.minimumMs, "nothing beats the critical path: the minimum is a real bound");
            // Every pod gets exactly the threshold of keys: no redundant unseal calls.
            assert.equal(r.unsealCalls, replicas * r.threshold);
        });
    }

    it("is exactly repeatable: simulated time does not depend on the machine", async () => {
        const [a, b] = [await benchBootstrap(3), await benchBootstrap(3)];
        assert.equal(a.elapsedMs, b.elapsedMs);
        assert.equal(a.vaultCalls, b.vaultCalls);
    });
});
