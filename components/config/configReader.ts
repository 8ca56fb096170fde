/**
 * The readers of a whole config: the program's (loadSettings, through the Pulumi runtime), the tools' (checkConfig,
 * for stackFile.ts), and parseSettings for tests and tools with raw values. Each checks this project's settings, its
 * secrets (the adoption keys, a kubeconfig) and the keys of other namespaces that were meant for it.
 */
import type { VaultKeys } from "../stepCommand/contract";
import { meantForProject, setMeant, splitConfigKey } from "./configNames";
import { problem, Problem } from "../problems";
import { shellFixes, ConfigError, FixCommands, PROJECT } from "./configProblems";
import { ADOPTION_SETTINGS, SETTING_NAMES, Settings } from "./settingDeclarations";
import { checkSettings, ParsedSettings, ReadOptions } from "./settingRules";
import { TRANSIT_TOKEN_FILE } from "./sealRules";

/**
 * Raw config as Pulumi stores it: each value a string (lists as JSON), absent keys undefined.
 * Throws ConfigError naming every bad setting with its fix; returns the typed settings otherwise.
 */
export function parseSettings(raw: Partial<Record<string, string>>, options: ReadOptions = {}): ParsedSettings {
    const { settings, issues, warnings } = checkSettings(raw, shellFixes(options.stack), new Set(), {
        kubeconfigGiven: raw.kubeconfig !== undefined,
        sealTransitTokenGiven: raw.sealTransitToken !== undefined,
    });
    if (!settings) throw new ConfigError(issues);
    return { settings, warnings };
}

/** The keys of an already initialised Vault, handed in through config. */
export type AdoptedKeys = VaultKeys;

/** A config value as a reader found it: its text (lists as JSON), or none for a secret the reader cannot decrypt. */
export interface ConfigEntry {
    value?: string;
    secret: boolean;
}

/**
 * vault-ha:unsealKeys (a JSON list of base64 key shares) and vault-ha:rootToken, set together or not at all, each
 * stored as a secret. A value the reader cannot decrypt is checked for its presence only. Messages never repeat the
 * values: they are secrets.
 */
/** The fix that sets an adoption secret at Pulumi's prompt, saying what to type there. */
function askFor(name: (typeof ADOPTION_SETTINGS)[number], fixes: FixCommands): string {
    const what = name === "unsealKeys" ? 'the keys as a JSON list, ["<key 1>","<key 2>","<key 3>"],' : "the root token";
    return `type ${what} when asked: ${fixes.askSecret(name)}`;
}

function checkAdoption(
    entries: Partial<Record<(typeof ADOPTION_SETTINGS)[number], ConfigEntry>>,
    keyThreshold: number | undefined,
    fixes: FixCommands,
): { adopted?: AdoptedKeys; issues: Problem[] } {
    const { unsealKeys: keys, rootToken: token } = entries;
    const plain = ADOPTION_SETTINGS.filter((name) => entries[name] !== undefined && !entries[name]!.secret);
    if (plain.length > 0) {
        // A secret read with the plain getter would be used without its secret marking: refuse plain values.
        return {
            issues: plain.map((name) => problem(`${PROJECT}:${name} is stored in plain text`, askFor(name, fixes))),
        };
    }
    const hasToken = token !== undefined && (token.value === undefined || token.value.trim().length > 0);
    if (keys === undefined && !hasToken) return { issues: [] };
    const issues: Problem[] = [];
    const fixKeys = askFor("unsealKeys", fixes);
    let list: unknown;
    try {
        list = keys?.value === undefined ? undefined : JSON.parse(keys.value);
    } catch {
        list = null;
    }
    if (keys === undefined) {
        issues.push(problem(`${PROJECT}:rootToken is set but ${PROJECT}:unsealKeys is not: adopting a Vault needs both`, fixKeys));
    } else if (keys.value !== undefined) {
        if (!Array.isArray(list) || !list.every((k) => typeof k === "string" && k.trim().length > 0)) {
            issues.push(problem(`${PROJECT}:unsealKeys must be a JSON list of unseal keys (as \`vault operator init\` printed them)`, fixKeys));
        } else if (keyThreshold !== undefined && list.length < keyThreshold) {
            issues.push(problem(`${PROJECT}:unsealKeys holds ${list.length} key(s); unsealing needs at least keyThreshold (${keyThreshold})`, fixKeys));
        }
    }
    if (!hasToken) {
        issues.push(problem(`${PROJECT}:unsealKeys is set but ${PROJECT}:rootToken is not: adopting a Vault needs both`, askFor("rootToken", fixes)));
    }
    if (issues.length > 0 || !Array.isArray(list) || token?.value === undefined) return { issues };
    return { issues, adopted: { unsealKeys: (list as string[]).map((k) => k.trim()), rootToken: token.value.trim() } };
}

/**
 * Validates vault-ha:unsealKeys and vault-ha:rootToken given as plain text (their secrecy is checked by parseConfig).
 * Throws ConfigError; returns the keys when both are set, undefined when neither is.
 */
export function parseAdoption(raw: Partial<Record<string, string>>, keyThreshold: number, options: ReadOptions = {}): AdoptedKeys | undefined {
    const entries: Partial<Record<(typeof ADOPTION_SETTINGS)[number], ConfigEntry>> = {};
    for (const name of ADOPTION_SETTINGS) if (raw[name] !== undefined) entries[name] = { value: raw[name], secret: true };
    const { adopted, issues } = checkAdoption(entries, keyThreshold, shellFixes(options.stack));
    if (issues.length > 0) throw new ConfigError(issues);
    return adopted;
}

export interface CheckedConfig {
    settings?: Settings;
    adopted?: AdoptedKeys;
    /** vault-ha:kubeconfig (a secret): the existing cluster's kubeconfig, when it is not in the user's own. */
    kubeconfig?: string;
    /** vault-ha:sealTransitToken (a secret): the transit seal's token; only with seal transit. */
    sealTransitToken?: string;
    warnings: string[];
    issues: Problem[];
}

/**
 * Checks a whole config map as a reader found it, keyed `<namespace>:<name>`: this project's settings and adoption
 * secrets, and keys of other namespaces that were meant for this project. One path for the program (loadSettings)
 * and for the tools that read the stack file (stackFile.ts).
 */
export function checkConfig(entries: Record<string, ConfigEntry>, options: ReadOptions = {}): CheckedConfig {
    const fixes = shellFixes(options.stack);
    const where = options.source ? ` in ${options.source}` : "";
    const issues: Problem[] = [];
    const raw: Partial<Record<string, string>> = {};
    const secretNames = new Set<string>();
    const adoption: Partial<Record<(typeof ADOPTION_SETTINGS)[number], ConfigEntry>> = {};
    let kubeconfig: ConfigEntry | undefined;
    let transitToken: ConfigEntry | undefined;
    for (const [key, entry] of Object.entries(entries)) {
        const parsed = splitConfigKey(key);
        if (!parsed) continue;
        const { namespace, name } = parsed;
        if (namespace !== PROJECT) {
            const meant = meantForProject(namespace, name);
            if (meant) {
                issues.push(
                    problem(
                        `${key}${where} is not read by ${PROJECT}, whose settings are ${PROJECT}:<name>; did you mean ${PROJECT}:${meant}?`,
                        `${fixes.rmKey(key)} && ${setMeant(fixes, meant, entry.value, entry.secret)}`,
                    ),
                );
            }
            continue;
        }
        if ((ADOPTION_SETTINGS as readonly string[]).includes(name)) {
            adoption[name as (typeof ADOPTION_SETTINGS)[number]] = entry;
            continue;
        }
        if (name === "kubeconfig") {
            kubeconfig = entry;
            continue;
        }
        if (name === "sealTransitToken") {
            transitToken = entry;
            continue;
        }
        if (entry.value === undefined && (SETTING_NAMES as string[]).includes(name)) {
            issues.push(
                problem(
                    `${PROJECT}:${name}${where} is encrypted (set with --secret), so this tool cannot read it; settings are not secrets`,
                    `${fixes.set(name, "<value>")} (without --secret)`,
                ),
            );
            continue;
        }
        raw[name] = entry.value ?? "";
        if (entry.secret) secretNames.add(name);
    }
    // An empty token is no token: the seal rules then ask for one.
    const tokenGiven = transitToken !== undefined && (transitToken.value === undefined || transitToken.value.trim() !== "");
    const checked = checkSettings(raw, fixes, secretNames, { kubeconfigGiven: kubeconfig !== undefined, sealTransitTokenGiven: tokenGiven });
    issues.push(...checked.issues);
    const { adopted, issues: adoptionIssues } = checkAdoption(adoption, checked.settings?.keyThreshold, fixes);
    issues.push(...adoptionIssues);
    if (kubeconfig !== undefined && !kubeconfig.secret) {
        // A kubeconfig holds credentials: refused in plain text, like the adoption keys.
        issues.push(problem(`${PROJECT}:kubeconfig is stored in plain text`, fixes.setSecretFromFile("kubeconfig", "path/to/kubeconfig.yaml")));
    } else if (
        kubeconfig?.value !== undefined &&
        !/^\s*(apiVersion|kind|clusters|contexts|users|current-context|preferences)\s*:|^\s*\{/m.test(kubeconfig.value)
    ) {
        issues.push(
            problem(
                `${PROJECT}:kubeconfig does not look like a kubeconfig (YAML with clusters, contexts and users)`,
                fixes.setSecretFromFile("kubeconfig", "path/to/kubeconfig.yaml"),
            ),
        );
    }
    if (transitToken !== undefined && !transitToken.secret) {
        // The token opens the transit key that opens this Vault: refused in plain text, like the adoption keys.
        issues.push(problem(`${PROJECT}:sealTransitToken is stored in plain text`, fixes.setSecretFromFile("sealTransitToken", TRANSIT_TOKEN_FILE)));
    }
    return {
        settings: issues.length === 0 ? checked.settings : undefined,
        adopted,
        kubeconfig: kubeconfig?.value,
        sealTransitToken: issues.length === 0 && checked.settings?.seal === "transit" ? transitToken?.value?.trim() : undefined,
        warnings: checked.warnings,
        issues,
    };
}

/** checkConfig, throwing ConfigError with every issue. */
export function parseConfig(
    entries: Record<string, ConfigEntry>,
    options: ReadOptions = {},
): ParsedSettings & { adopted?: AdoptedKeys; kubeconfig?: string; sealTransitToken?: string } {
    const { settings, adopted, kubeconfig, sealTransitToken, warnings, issues } = checkConfig(entries, options);
    if (!settings || issues.length > 0) throw new ConfigError(issues);
    return { settings, adopted, kubeconfig, sealTransitToken, warnings };
}

/**
 * Turns the `config:` map of a Pulumi.<stack>.yaml into the raw strings Pulumi would hand the program, keeping only
 * this project's keys (a key without a namespace is the project's, as for the CLI). Encrypted values (`{secure: ...}`)
 * are left out: they cannot be read without the CLI.
 */
export function rawFromStackConfig(config: Record<string, unknown> | undefined): Partial<Record<string, string>> {
    const raw: Partial<Record<string, string>> = {};
    for (const [key, value] of Object.entries(config ?? {})) {
        const parsed = splitConfigKey(key);
        if (parsed?.namespace !== PROJECT) continue;
        if (value !== null && typeof value === "object" && "secure" in value) continue;
        raw[parsed.name] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return raw;
}

/**
 * Reads the running Pulumi program's config (every namespace, with the stack's name for the fixes), validates it and
 * logs warnings. Call it before creating any resource, so that bad input stops the program with nothing created.
 */
export function loadSettings(): { settings: Settings; adopted?: AdoptedKeys; kubeconfig?: string; sealTransitToken?: string } {
    // Imported here so that the pure functions above load without the Pulumi runtime (npm run render).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    // Public in the SDK's JavaScript, but not in its typings.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };
    const entries: Record<string, ConfigEntry> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) entries[key] = { value, secret: isConfigSecret(key) };
    const { settings, adopted, kubeconfig, sealTransitToken, warnings } = parseConfig(entries, { stack: pulumi.getStack() });
    for (const warning of warnings) pulumi.log.warn(warning);
    return { settings, adopted, kubeconfig, sealTransitToken };
}
