import { strict as assert } from "assert";
import { pollUntil, StepError } from "../../../components/runner/poll";
import { VaultRefused, VaultUnavailable } from "../../../components/runner/vaultOps";
import { SimClock } from "../../doubles/vault/simClock";

describe("polling (on simulated time)", () => {
    const ctx = (timeoutMs: number, pollMs = 10) => ({ log: () => undefined, timeoutMs, pollMs, clock: new SimClock(0) });

    it("returns at once when the condition already holds (no fixed sleep)", async () => {
        const c = ctx(1000);
        assert.equal(
            await pollUntil(
                c,
                "x",
                async () => 42,
                () => "",
            ),
            42,
        );
        assert.equal(c.clock.now(), 0, "no time passed");
    });

    it("retries 'not yet' and 'unavailable', and times out naming what it awaited and what it saw", async () => {
        let calls = 0;
        const c = ctx(300);
        await assert.rejects(
            pollUntil(
                c,
                "the thing to happen",
                async () => {
                    calls++;
                    if (calls % 2) throw new VaultUnavailable("connection refused");
                    return undefined;
                },
                () => "still waiting",
            ),
            (err: Error) => err instanceof StepError && /timed out after 0s waiting for the thing to happen; last seen: connection refused/.test(err.message),
        );
        // Polls at 0, 10, ..., 300 ms: the next one would end past the 300 ms deadline.
        assert.equal(calls, 31);
        assert.equal(c.clock.now(), 300);
    });

    it("polls at least every 2 s, even when asked for a longer interval", async () => {
        let calls = 0;
        const c = ctx(10_000, 60_000);
        const value = await pollUntil(
            c,
            "x",
            async () => (++calls === 2 ? "ready" : undefined),
            () => "",
        );
        assert.equal(value, "ready");
        assert.equal(c.clock.now(), 2000, "the second poll came 2 s after the first");
    });

    it("fails at once on a refusal, without polling again", async () => {
        let calls = 0;
        await assert.rejects(
            pollUntil(
                ctx(1000, 60_000),
                "x",
                async () => {
                    calls++;
                    throw new VaultRefused("permission denied");
                },
                () => "",
            ),
            /permission denied/,
        );
        assert.equal(calls, 1);
    });
});
