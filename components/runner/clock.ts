/**
 * Time as the steps see it. Every wait in the bootstrap goes through a Clock, so that the simulator can run the same
 * code on simulated time: a test of a 10-minute timeout then takes milliseconds and does not depend on how busy the
 * machine is.
 */
export interface Clock {
    /** Milliseconds; only differences between two readings mean anything. */
    now(): number;
    sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
