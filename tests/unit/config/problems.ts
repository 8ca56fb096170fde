/**
 * Reads a ConfigError's message back into its problems: one line each, "  - <problem>. Fix: <fix>" ("?" instead of
 * "." after a question).
 * Shared by the configuration tests, which assert the problem and the fix separately.
 */
import { strict as assert } from "assert";
import { ConfigError, DEFAULTS, SettingName } from "../../../components/config/settings";

export interface Problem {
    problem: string;
    fix: string;
}

export function problemsOf(message: string): Problem[] {
    return message
        .split("\n")
        .filter((line) => line.startsWith("  - "))
        .map((line) => {
            const text = line.slice(4);
            const at = text.indexOf(" Fix: ");
            return at < 0 ? { problem: text, fix: "" } : { problem: text.slice(0, at).replace(/\.$/, ""), fix: text.slice(at + " Fix: ".length) };
        });
}

/** Runs `action` expecting a ConfigError; returns its problems. */
export function rejectionOf(action: () => unknown): Problem[] {
    try {
        action();
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err instanceof Error ? err.stack : err}`);
        assert.match(err.message, /^vault-ha: invalid configuration; nothing was created\./);
        return problemsOf(err.message);
    }
    assert.fail("expected a ConfigError");
}

/**
 * Asserts that every `pulumi config set` in a fix changes the value it names: a fix that sets a setting to the value
 * it already has (the given one, or the default when none is given) helps nobody.
 */
export function assertFixChangesSomething(fix: string, raw: Record<string, string>): void {
    const sets = [...fix.matchAll(/pulumi config set(?: --stack \S+)?(?: --path)? '?vault-ha:(\w+)(?:\[(\d+)\])?'? (\S+)/g)];
    assert.ok(sets.length > 0 || /pulumi config rm /.test(fix), `the fix runs no command: ${fix}`);
    for (const [command, name, index, value] of sets) {
        const current: unknown = raw[name] ?? (name in DEFAULTS ? DEFAULTS[name as SettingName] : undefined);
        const list = typeof current === "string" && current.startsWith("[") ? (JSON.parse(current) as unknown[]) : current;
        const before = index === undefined ? list : Array.isArray(list) ? list[Number(index)] : undefined;
        assert.notEqual(String(before), value.replace(/,$/, ""), `"${command}" sets ${name} to the value it already has`);
    }
}
