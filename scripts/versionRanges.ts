/**
 * Version numbers and npm's engines ranges, for the preflight (scripts/preflight.ts): apart so that it stays a script
 * of checks, and so that the ranges can be tested alone.
 */

export function parseVersion(text: string): number[] | undefined {
    const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
    return m ? m.slice(1, 4).map(Number) : undefined;
}

export function atLeast(version: number[], minimum: string): boolean {
    const min = parseVersion(minimum)!;
    for (let i = 0; i < 3; i++) {
        if (version[i] !== min[i]) return version[i] > min[i];
    }
    return true;
}

/**
 * Whether version satisfies a range in the subset of npm's semver syntax that engines fields use: alternatives
 * joined by `||`, each a space-separated list of comparators `^1.2.3`, `>=1.2.3`, `>1.2`, `<2`, `<=2.1`, `=1.2.3` or
 * a bare (partial) version. A partial version compares only the parts it gives (`<=24` is below 25, `20` is any
 * 20.x), as in semver. Anything else throws, rather than guess. (No semver package: the preflight's only
 * dependencies are the program's.)
 */
export function satisfiesRange(version: number[], range: string): boolean {
    return range.split("||").some((alternative) =>
        alternative
            .trim()
            .split(/\s+/)
            .every((comparator) => satisfiesComparator(version, comparator)),
    );
}

function satisfiesComparator(version: number[], comparator: string): boolean {
    const m = /^(\^|>=|<=|>|<|=)?v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(comparator);
    if (!m) throw new Error(`unsupported version range syntax: "${comparator}"`);
    const given = m
        .slice(2, 5)
        .filter((p) => p !== undefined)
        .map(Number);
    // Compares version with the given parts only, part by part: <0, 0 or >0.
    const cmp = given.map((part, i) => version[i] - part).find((d) => d !== 0) ?? 0;
    switch (m[1]) {
        case "^":
            if (given[0] === 0) throw new Error(`unsupported version range syntax: "${comparator}" (caret on 0.x)`);
            return version[0] === given[0] && cmp >= 0;
        case ">=":
            return cmp >= 0;
        case ">":
            return cmp > 0;
        case "<":
            return cmp < 0;
        case "<=":
            return cmp <= 0;
        default:
            return cmp === 0;
    }
}
