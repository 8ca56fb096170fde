/**
 * Config keys and the names in them: how the Pulumi CLI splits a key, and which setting a misspelled name most likely
 * meant, for the "did you mean" of an error.
 */
import { FixCommands, PROJECT } from "./configProblems";
import { KNOWN_NAMES, SECRET_SETTINGS } from "./settingDeclarations";

/** Edit distance (Levenshtein), for "did you mean". */
export function distance(a: string, b: string): number {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const next = [i];
        for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        row = next;
    }
    return row[b.length];
}

/** The setting a key name most likely meant: same letters in another case, or at most two edits away. */
export function nearestName(name: string): string | undefined {
    const same = KNOWN_NAMES.find((known) => known.toLowerCase() === name.toLowerCase());
    if (same) return same;
    const scored = KNOWN_NAMES.map((known) => ({ known, d: distance(known.toLowerCase(), name.toLowerCase()) })).sort((a, b) => a.d - b.d);
    return scored[0].d <= 2 && name.length > 3 ? scored[0].known : undefined;
}

/** A value as a shell word in a fix; secrets and values that are not simple words are left for the user to type. */
export function shellValue(value: string | undefined, secret: boolean): string {
    if (secret || value === undefined) return "<value>";
    return /^[A-Za-z0-9_.:/@+=-]+$/.test(value) ? value : "<value>";
}

/** "set it to what <name> should hold", with --secret for a secret or an adoption setting. */
export function setMeant(fixes: FixCommands, name: string, value: string | undefined, secret: boolean): string {
    const isSecret = secret || (SECRET_SETTINGS as readonly string[]).includes(name);
    // A secret is typed at Pulumi's prompt: it never reaches the command line.
    return isSecret ? fixes.askSecret(name) : fixes.set(name, shellValue(value, false));
}

/**
 * A config key as the Pulumi CLI reads it (sdk/go/common/resource/config/key.go ParseKey): `<namespace>:<name>`, or
 * the old `<namespace>:config:<name>`. In a stack file a key without a namespace is the project's (the CLI namespaces
 * it since v3.44, sdk/go/common/workspace/loaders.go stackConfigNamespacedWithProject). Undefined when the CLI would
 * refuse the key.
 */
export function splitConfigKey(key: string): { namespace: string; name: string } | undefined {
    const parts = key.split(":");
    if (parts.length === 1) return { namespace: PROJECT, name: key };
    if (parts.length === 2) return { namespace: parts[0], name: parts[1] };
    if (parts.length === 3 && parts[1] === "config") return { namespace: parts[0], name: parts[2] };
    return undefined;
}

/**
 * A key of another namespace that was meant for vault-ha: its namespace is the project's name misspelled, or its
 * name is one of vault-ha's settings. Other packages' keys (kubernetes:context, pulumi:tags) are theirs.
 */
export function meantForProject(namespace: string, name: string): string | undefined {
    if (namespace === PROJECT || namespace === "pulumi") return undefined;
    const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
    const nearProject = squash(namespace) === squash(PROJECT) || distance(namespace.toLowerCase(), PROJECT) <= 2;
    const near = nearestName(name);
    if (KNOWN_NAMES.includes(name) || (nearProject && near)) return near ?? name;
    return nearProject ? name : undefined;
}
