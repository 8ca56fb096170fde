/**
 * SIMULATOR: a discrete-event clock. `sleep` does not wait: when every task of the test is blocked on a sleep (and no
 * real I/O that it `track`s is under way), the earliest sleeper wakes and the time jumps to its deadline. So a
 * 10-minute timeout takes milliseconds, and the order of events depends only on the code, never on the machine's
 * speed: the same test gives the same interleaving on an idle laptop and on a loaded 2-core CI runner.
 */
import type { Clock } from "../../../components/runner/clock";

interface Timer {
    at: number;
    seq: number;
    wake: () => void;
}

export class SimClock implements Clock {
    private time: number;
    private seq = 0;
    private readonly timers: Timer[] = [];
    private inFlight = 0;
    private scheduled = false;

    constructor(start: number) {
        this.time = start;
    }

    now(): number {
        return this.time;
    }

    sleep(ms: number): Promise<void> {
        return new Promise((wake) => {
            this.timers.push({ at: this.time + Math.max(0, ms), seq: this.seq++, wake });
            this.schedule();
        });
    }

    /** Real I/O (a child process): time stands still until it is done. */
    async track<T>(work: Promise<T>): Promise<T> {
        this.inFlight++;
        try {
            return await work;
        } finally {
            this.inFlight--;
            this.schedule();
        }
    }

    // setImmediate runs after every pending promise continuation: by then each task has either finished or gone back
    // to sleep, so the earliest timer is the next thing that can happen.
    private schedule(): void {
        if (this.scheduled) return;
        this.scheduled = true;
        setImmediate(() => {
            this.scheduled = false;
            if (this.inFlight > 0 || this.timers.length === 0) return;
            this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
            const next = this.timers.shift()!;
            this.time = Math.max(this.time, next.at);
            next.wake();
            this.schedule();
        });
    }
}
