/**
 * What any check reports, in one shape: the configuration readers (components/config), the plans made from a live
 * cluster (components/cluster/existingPlan.ts, components/tls/certManagerMode.ts) and the preflight (scripts/).
 * A problem stops the up (or fails the preflight) and always has a fix; a warning may have one; an ok line says what
 * was settled. Each is printed by its reader from these fields, never parsed back out of a sentence.
 */

/** Settled, nothing to do (the preflight's "ok" lines, the plan's decisions). */
export interface Ok {
    level: "ok";
    what: string;
    /** Never one: declared so that any finding's fix can be read without narrowing it first. */
    fix?: never;
}

/** Allowed, but worth reading: printed as a warning, and nothing stops. */
export interface Warning {
    level: "warn";
    what: string;
    fix?: string;
}

/** Something that stops the up, and what changes it. */
export interface Problem {
    level: "problem";
    /** Naming the setting, key, file or object; without a final period. */
    what: string;
    /** Commands or edits; alternatives joined with ", or ". */
    fix: string;
}

export type Finding = Ok | Warning | Problem;

export function ok(what: string): Ok {
    return { level: "ok", what };
}

export function warning(what: string, fix?: string): Warning {
    return fix === undefined ? { level: "warn", what } : { level: "warn", what, fix };
}

export function problem(what: string, fix: string): Problem {
    return { level: "problem", what, fix };
}

/** "<what>. Fix: <fix>" (no period after a question), or what alone when there is no fix. */
export function findingLine(finding: Finding): string {
    if (finding.fix === undefined) return finding.what;
    return `${finding.what}${finding.what.endsWith("?") ? "" : "."} Fix: ${finding.fix}`;
}
