import { strict as assert } from "assert";
import { BENCH_LIMIT, benchBootstrap } from "../scripts/bench";

describe("bootstrap critical path (npm run bench, shortened)", function () {
    this.timeout(30_000);

    for (const replicas of [3, 5]) {
        it(`${replicas} replicas stay within ${BENCH_LIMIT}x of the critical-path minimum`, async () => {
            const r = await benchBootstrap(replicas, 50);
            assert.ok(r.wallMs <= r.minimumMs * BENCH_LIMIT, `took ${r.wallMs.toFixed(0)} ms, minimum ${r.minimumMs} ms`);
            // Every pod is unsealed with exactly the threshold of keys: no redundant Vault calls.
            assert.equal(r.calls, 1 + 2 + 5 + (replicas - 1) * 6 + 1);
        });
    }
});
