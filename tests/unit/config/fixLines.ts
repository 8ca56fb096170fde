/**
 * Runs a printed fix line the way a user would, on a config map instead of a stack: each `npm run config -- set|rm`
 * command (scripts/config.sh passes them to `pulumi config` for the stack PULUMI_STACK names) changes the map as the
 * Pulumi CLI would change the stack. Placeholders (<value>, <root token>, $(kubectl ...), < file) get a value a user
 * could type. Shared by the tests that prove each fix removes its mistake.
 */
import { strict as assert } from "assert";
import { checkConfig, ConfigEntry, DEFAULT_STACK, DEFAULTS } from "../../../components/config/settings";

/** A config as the readers take it, keyed <namespace>:<name>. */
export type ConfigMap = Record<string, ConfigEntry>;

/** What a user types for a placeholder, by the setting it is for. */
const TYPED: Record<string, string> = {
    kubeconfig: "apiVersion: v1\nclusters: []\ncontexts: []\nusers: []\n",
    rootToken: "hvs.example",
    unsealKeys: '["k1","k2","k3"]',
    kubeContext: "kind-vault",
    storageClass: "standard",
    vaultImage: `hashicorp/vault:2.0.4@sha256:${"a".repeat(64)}`,
    kindNodeImage: String(DEFAULTS.kindNodeImage),
    workers: "3",
    vaultLoadBalancerSourceRanges: '["10.0.0.0/8"]',
};

/** Shell words of a command, quotes removed; `$(...)` and a redirection `< file` kept as one word each. */
function words(command: string): string[] {
    const out: string[] = [];
    const pattern = /\s*(?:'([^']*)'|"((?:[^"\\]|\\.)*)"|(<\s*\S+)|(\S+))/gy;
    let match: RegExpExecArray | null;
    while ((match = pattern.exec(command)) !== null && match[0].trim() !== "") out.push(match[1] ?? match[2] ?? match[3] ?? match[4]);
    return out;
}

/** The value a user types for a word of a fix: itself, or what its placeholder stands for. */
function typed(name: string, word: string): string {
    if (!/[<>]|\$\(/.test(word)) return word;
    assert.ok(name in TYPED, `no example value for the placeholder ${word} of ${name}`);
    return TYPED[name];
}

/** The alternatives of a fix (", or "), each the commands it runs (" && "); prose before the first command is dropped. */
export function commandsOf(fix: string): string[][] {
    return fix.split(", or ").map((alternative) => {
        const at = alternative.search(/(PULUMI_STACK=\S+ )?npm run config -- /);
        return at < 0 ? [] : alternative.slice(at).split(" && ");
    });
}

/**
 * Applies one alternative's commands to `config` for `stack`, as the Pulumi CLI would: set stores the value (as text,
 * marked secret with --secret), rm deletes the key. Fails when a command is not in the plain-shell form.
 */
export function applyCommands(commands: string[], config: ConfigMap, stack = DEFAULT_STACK): ConfigMap {
    const next = { ...config };
    for (const command of commands) {
        assert.doesNotMatch(command, /pulumi config/, `a fix in pulumi's own form: ${command}`);
        const w = words(command);
        const named = w[0].startsWith("PULUMI_STACK=") ? w.shift()!.slice("PULUMI_STACK=".length) : DEFAULT_STACK;
        assert.equal(named, stack, `the command names the stack ${named}, not ${stack}: ${command}`);
        assert.deepEqual(w.slice(0, 3), ["npm", "run", "config"], command);
        assert.equal(w[3], "--", `npm passes the arguments on only after --: ${command}`);
        const [verb, ...rest] = w.slice(4);
        const secret = rest[0] === "--secret";
        if (secret) rest.shift();
        const [key, value] = rest;
        assert.match(key, /^[^:\s]+:[^:\s]+$/, `a namespaced key: ${command}`);
        const name = key.split(":")[1];
        if (verb === "rm") {
            delete next[key];
        } else {
            assert.equal(verb, "set", command);
            assert.ok(value !== undefined, `set without a value: ${command}`);
            next[key] = { value: typed(name, value), secret };
        }
    }
    return next;
}

/** Raw settings of vault-ha (name -> text) as a config map, and back. */
export const toMap = (raw: Record<string, string>): ConfigMap =>
    Object.fromEntries(Object.entries(raw).map(([name, value]) => [`vault-ha:${name}`, { value, secret: false }]));
export const toRaw = (map: ConfigMap): Record<string, string> =>
    Object.fromEntries(
        Object.entries(map)
            .filter(([key]) => key.startsWith("vault-ha:"))
            .map(([key, entry]) => [key.slice("vault-ha:".length), entry.value ?? ""]),
    );

/** The setting or key a problem is about: its first word ("vault-ha:workers", "vaul-ha:workers"). */
export const subjectOf = (problem: string): string => problem.split(/[\s.]/)[0];

/** The problems the readers report for a config. */
export function problemsIn(config: ConfigMap, stack?: string): string[] {
    return checkConfig(config, { stack }).issues.map((issue) => issue.problem);
}

/**
 * Runs each alternative of `fix` on `config` and reads it again: fewer problems about the problem's setting remain
 * (one fix may leave another problem of the same setting, never add one).
 */
export function assertFixRemoves(problem: string, fix: string, config: ConfigMap, stack?: string): void {
    const subject = subjectOf(problem);
    const count = (problems: string[]) => problems.filter((found) => subjectOf(found) === subject).length;
    const before = count(problemsIn(config, stack));
    const alternatives = commandsOf(fix);
    assert.ok(
        alternatives.every((commands) => commands.length > 0),
        `every alternative runs a command: ${fix}`,
    );
    for (const commands of alternatives) {
        const after = problemsIn(applyCommands(commands, config, stack), stack);
        assert.ok(count(after) < before, `"${commands.join(" && ")}" leaves "${problem}":\n${after.join("\n")}`);
    }
}
