/**
 * Reads a ConfigError's message back into its problems: one line each, "  - <what>. Fix: <fix>" ("?" instead of
 * "." after a question).
 * Shared by the configuration tests, which assert what is wrong and the fix separately.
 */
import { strict as assert } from "assert";
import { ConfigError, DEFAULTS, Problem, SettingName } from "../../../components/config/settings";
import { applyCommands, commandsOf, ConfigMap, toMap } from "./fixLines";

/** What a problem says, as it was printed. */
export type Printed = Omit<Problem, "level">;

export function problemsOf(message: string): Printed[] {
    return message
        .split("\n")
        .filter((line) => line.startsWith("  - "))
        .map((line) => {
            const text = line.slice(4);
            const at = text.indexOf(" Fix: ");
            return at < 0 ? { what: text, fix: "" } : { what: text.slice(0, at).replace(/\.$/, ""), fix: text.slice(at + " Fix: ".length) };
        });
}

/** Runs `action` expecting a ConfigError; returns its problems as printed (which are the ones it carries). */
export function rejectionOf(action: () => unknown): Printed[] {
    try {
        action();
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err instanceof Error ? err.stack : err}`);
        assert.match(err.message, /^vault-ha: invalid configuration; nothing was created\./);
        const printed = problemsOf(err.message);
        assert.deepEqual(
            printed,
            err.issues.map(({ what, fix }) => ({ what, fix })),
        );
        return printed;
    }
    assert.fail("expected a ConfigError");
}

/** A value as a stack stores it: text as it is, a default as Pulumi.yaml's (a list as JSON). */
const stored = (value: unknown): string => (typeof value === "string" ? value : Array.isArray(value) ? JSON.stringify(value) : String(value));

/**
 * Asserts that each alternative of a fix changes something: a fix that sets a setting to the value it already has
 * (the given one, or the default when none is given) helps nobody.
 */
export function assertFixChangesSomething(fix: string, raw: Record<string, string>, stack?: string): void {
    const alternatives = commandsOf(fix).filter((commands) => commands.length > 0);
    assert.ok(alternatives.length > 0, `the fix runs no command: ${fix}`);
    const effective = (map: ConfigMap, key: string): string => {
        const name = key.slice("vault-ha:".length);
        return map[key] !== undefined ? stored(map[key].value) : name in DEFAULTS ? stored(DEFAULTS[name as SettingName]) : "(unset)";
    };
    for (const commands of alternatives) {
        const before = toMap(raw);
        const after = applyCommands(commands, before, stack);
        const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
        assert.ok(
            // A value changed, or a key given was removed (some rules are about a setting being given at all).
            [...keys].some((key) => effective(before, key) !== effective(after, key) || (key in before && !(key in after))),
            `"${commands.join(" && ")}" leaves every value as it was`,
        );
    }
}
