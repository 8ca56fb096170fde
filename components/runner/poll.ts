/**
 * Waiting, the one way the runner does it: poll a condition with a deadline; a timeout says what was awaited and what
 * was seen last. Time comes from a Clock (the simulator's on simulated time).
 */
import type { Clock } from "./clock";
import { VaultUnavailable } from "./vaultOps";

/** A failure whose message is meant for the user: what went wrong and what to do. */
export class StepError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StepError";
    }
}

export interface PollContext {
    log(message: string): void;
    /** How long one step may wait for a condition. */
    timeoutMs: number;
    /** Time between two polls of a condition; at most 2 s. */
    pollMs: number;
    clock: Clock;
}

export const MAX_POLL_MS = 2000;

/**
 * Calls `attempt` until it returns a value. VaultUnavailable means "not yet" and is retried; anything else fails at
 * once. The first attempt is immediate: nothing waits unless the condition is unmet.
 */
export async function pollUntil<T>(ctx: PollContext, what: string, attempt: () => Promise<T | undefined>, lastSeen: () => string): Promise<T> {
    const started = ctx.clock.now();
    const interval = Math.min(ctx.pollMs, MAX_POLL_MS);
    for (;;) {
        let unavailable: string;
        try {
            const value = await attempt();
            if (value !== undefined) return value;
            unavailable = "";
        } catch (err) {
            if (!(err instanceof VaultUnavailable)) throw err;
            unavailable = err.message;
        }
        const elapsed = ctx.clock.now() - started;
        if (elapsed + interval > ctx.timeoutMs) {
            const seen = unavailable || lastSeen();
            throw new StepError(`timed out after ${Math.round(elapsed / 1000)}s waiting for ${what}${seen ? `; last seen: ${seen}` : ""}`);
        }
        await ctx.clock.sleep(interval);
    }
}

/**
 * One call, repeated while it fails with VaultUnavailable (a pod restarting, an answer lost on the way), like every
 * wait of the runner. Only for calls that may be repeated: reads, and changes that are the same done twice.
 */
export function retrying<T>(ctx: PollContext, what: string, call: () => Promise<T>): Promise<T> {
    let last = "";
    return pollUntil(
        ctx,
        what,
        async () => {
            try {
                return { value: await call() };
            } catch (err) {
                last = (err as Error).message;
                throw err;
            }
        },
        () => last,
    ).then((r) => r.value);
}
