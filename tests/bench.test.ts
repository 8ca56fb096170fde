import { strict as assert } from "assert";
import { BENCH_LIMIT, benchBootstrap } from "../scripts/bench";

describe("bootstrap critical path (npm run bench, shortened)", function () {
    this.timeout(30_000);

    // The first run pays for module loading and JIT warm-up, which says nothing about the bootstrap's design.
    before(() => benchBootstrap(3, 1));

    for (const replicas of [3, 5]) {
        it(`${replicas} replicas stay within ${BENCH_LIMIT}x of the critical-path minimum`, async () => {
            const r = await benchBootstrap(replicas, 100);
            assert.ok(r.wallMs <= r.minimumMs * BENCH_LIMIT, `took ${r.wallMs.toFixed(0)} ms, minimum ${r.minimumMs} ms`);
            // Every pod is unsealed with exactly the threshold of keys: no redundant Vault calls.
            assert.equal(r.calls, 1 + 2 + 5 + (replicas - 1) * 6 + 1);
        });
    }
});
