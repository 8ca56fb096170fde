/**
 * How a check of this machine or of a cluster (npm run preflight: scripts/preflight.ts and
 * scripts/preflightExisting.ts) runs a command: synchronously, its output kept for the message. What it reports is a
 * Finding (components/problems.ts).
 */
export interface RunResult {
    ok: boolean;
    stdout: string;
    /** What the command printed on stderr, where the runner keeps it. */
    stderr?: string;
}
export type Runner = (command: string, args: string[]) => RunResult;
