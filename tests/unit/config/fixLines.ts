/**
 * Runs a printed fix line the way a user would, on a config map instead of a stack: each `npm run config -- set|rm`
 * command (scripts/config.sh passes them to `pulumi config` for the stack PULUMI_STACK names) changes the map as the
 * Pulumi CLI would change the stack, and a stack Pulumi would refuse on up (a list setting holding text) fails the
 * fix. Placeholders (<value>, <root token>, $(kubectl ...), < file) get a value a user could type. Shared by the
 * tests that prove each fix removes its mistake.
 */
import { strict as assert } from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { checkConfig, ConfigEntry, DEFAULT_STACK, DEFAULTS } from "../../../components/config/settings";
import { TRANSIT_CA_PEM } from "../seal/sealFixtures";

/** A stack's value as the readers take it; a list (YAML's, or one `set --path` built) also as its items. */
export interface StoredEntry extends ConfigEntry {
    list?: unknown[];
}

/** A config as the readers take it, keyed <namespace>:<name>. */
export type ConfigMap = Record<string, StoredEntry>;

/** The list settings Pulumi.yaml declares (`type: array`), with their items' type. */
const LIST_ITEM_TYPES: Record<string, string> = Object.fromEntries(
    Object.entries(
        (
            parse(readFileSync(path.resolve(__dirname, "../../../Pulumi.yaml"), "utf8")) as {
                config: Record<string, { type?: string; items?: { type: string } }>;
            }
        ).config,
    )
        .filter(([, declared]) => declared.type === "array")
        .map(([name, declared]) => [`vault-ha:${name}`, declared.items?.type ?? "string"]),
);

/**
 * An item as `pulumi config set --path` stores it (sdk/go/common/resource/config/map.go adjustObjectValue): true and
 * false as booleans, a whole number without a leading zero as a number, anything else as text.
 */
function pathItem(text: string): unknown {
    if (text === "true" || text === "false") return text === "true";
    if (text.length > 1 && text.startsWith("0")) return text;
    return /^[+-]?\d+$/.test(text) ? Number(text) : text;
}

/**
 * What `pulumi config set --path 'KEY[i]' ITEM` leaves (map.go Map.Set): the list it sets an item of, made when the
 * key holds none (text is overwritten), the index at most its length (one past the end appends).
 */
function setPathItem(entry: StoredEntry | undefined, index: number, item: unknown, command: string): StoredEntry {
    const list = [...(entry?.list ?? [])];
    assert.ok(index <= list.length, `pulumi refuses ${command}: array index out of range`);
    list[index] = item;
    return { value: JSON.stringify(list), secret: false, list };
}

/**
 * Pulumi's check of a stack against Pulumi.yaml's types on up and destroy: a list setting must hold a list of its
 * items' type ("Stack 'dev' with configuration key 'nodePorts' must be of type 'array<integer>'"); text is refused.
 */
function assertTypedAsDeclared(key: string, entry: StoredEntry, stack: string, command: string): void {
    const itemType = LIST_ITEM_TYPES[key];
    if (itemType === undefined || entry.secret) return;
    const fits = (item: unknown) => (itemType === "integer" ? Number.isInteger(item) : typeof item === itemType);
    assert.ok(
        entry.list !== undefined && entry.list.every(fits),
        `after ${command}, pulumi up refuses the stack: Stack '${stack}' with configuration key '${key.split(":")[1]}' must be of type 'array<${itemType}>' ` +
            `(it holds ${entry.list ? JSON.stringify(entry.list) : `the text ${JSON.stringify(entry.value)}`}; a list is set with set --path 'KEY[i]' ITEM)`,
    );
}

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
    // One item of a list setting, which its fix sets with --path.
    vaultLoadBalancerSourceRanges: "10.0.0.0/8",
    sealTransitToken: "hvs.transit-example",
    sealTransitCaCert: TRANSIT_CA_PEM,
};

/** What a user types for a placeholder whose form depends on another setting (a seal's key, its identity): by the word. */
const TYPED_WORDS: Record<string, string> = {
    "arn:aws:kms:<region>:<account>:key/<key-id>": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>": "projects/my-project/locations/global/keyRings/vault/cryptoKeys/unseal",
    "<key-vault-name>/<key-name>": "vault-kv/unseal",
    "<transit-key-name>": "vault-ha",
    "arn:aws:iam::<account>:role/<role-name>": "arn:aws:iam::111122223333:role/vault",
    "<name>@<project>.iam.gserviceaccount.com": "vault@my-project.iam.gserviceaccount.com",
    "<client-id>": "11111111-2222-3333-4444-555555555555",
    "https://<transit-vault-host>:8200": "https://transit.example.com:8200",
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
    if (word in TYPED_WORDS) return TYPED_WORDS[word];
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
 * Applies one alternative's commands to `config` for `stack`, as the Pulumi CLI would: set stores the value as text
 * (marked secret with --secret), set --path one item of a list, rm deletes the key. Fails when a command is not in
 * the plain-shell form, or leaves a list setting that Pulumi would refuse on up.
 */
export function applyCommands(commands: string[], config: ConfigMap, stack = DEFAULT_STACK): ConfigMap {
    const next = { ...config };
    const changed = new Map<string, string>();
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
        const byPath = rest[0] === "--path";
        if (byPath) rest.shift();
        const [written, value] = rest;
        const at = byPath ? /^(.*)\[(\d+)\]$/.exec(written) : null;
        assert.ok(!byPath || at, `set --path here sets one item of a list, KEY[i]: ${command}`);
        const key = at ? at[1] : written;
        assert.match(key, /^[^:\s]+:[^:\s]+$/, `a namespaced key: ${command}`);
        const name = key.split(":")[1];
        if (verb === "rm") {
            delete next[key];
        } else {
            assert.equal(verb, "set", command);
            // A secret without a value is typed at Pulumi's prompt (config_set.go): the example of what one would type.
            assert.ok(value !== undefined || secret, `set without a value: ${command}`);
            assert.ok(!(secret && byPath), `no fix sets a secret item: ${command}`);
            const given = value ?? "<typed at the prompt>";
            next[key] = at ? setPathItem(next[key], Number(at[2]), pathItem(typed(name, given)), command) : { value: typed(name, given), secret };
        }
        changed.set(key, command);
    }
    for (const [key, command] of changed) if (next[key] !== undefined) assertTypedAsDeclared(key, next[key], stack, command);
    return next;
}

/** Raw settings of vault-ha (name -> text) as a config map, and back. */
export const toMap = (raw: Record<string, string>): ConfigMap =>
    Object.fromEntries(Object.entries(raw).map(([name, value]) => [`vault-ha:${name}`, stored(`vault-ha:${name}`, value)]));

/** A raw value as a stack holds it: a list setting's JSON list as a list (as YAML's [a, b] would be), all else text. */
function stored(key: string, value: string): StoredEntry {
    if (key in LIST_ITEM_TYPES) {
        try {
            const list: unknown = JSON.parse(value);
            if (Array.isArray(list)) return { value, secret: false, list };
        } catch {
            // Not a list: the stack holds text, which the readers report and Pulumi would refuse.
        }
    }
    return { value, secret: false };
}
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
    return checkConfig(config, { stack }).issues.map((issue) => issue.what);
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
