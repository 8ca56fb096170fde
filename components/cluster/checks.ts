/**
 * What a check of this machine or of a cluster reports (npm run preflight: scripts/preflight.ts and
 * scripts/preflightExisting.ts), and how it runs a command: synchronously, its output kept for the message.
 */
export interface RunResult {
    ok: boolean;
    stdout: string;
    /** What the command printed on stderr, where the runner keeps it. */
    stderr?: string;
}
export type Runner = (command: string, args: string[]) => RunResult;

export interface Finding {
    ok: boolean;
    what: string;
    fix?: string;
    /** ok, but worth reading: printed as "warn", and the preflight still passes. */
    warn?: boolean;
}
