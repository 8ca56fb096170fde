/**
 * Reads a stack's settings straight from Pulumi.<stack>.yaml, for tools that run without the Pulumi CLI
 * (`npm run render`, `npm run preflight`). The program itself reads them through the Pulumi runtime instead; both
 * check them with checkConfig (settings.ts). What the CLI would use is read as the CLI reads it (a key without a
 * namespace is the project's); what it would ignore or refuse is an error that names the key and the file.
 */
import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
import { parseDocument, YAMLError } from "yaml";
import { problem, Problem } from "../problems";
import {
    SECRET_SETTINGS,
    checkConfig,
    ConfigEntry,
    ConfigError,
    DEFAULT_STACK,
    DEFAULTS,
    distance,
    FixCommands,
    parseConfig,
    ParsedSettings,
    PROJECT,
    SETTING_NAMES,
    SettingName,
    shellValue,
    splitConfigKey,
} from "./settings";
import { shellFixes } from "./configProblems";

/** The names vault-ha reads: its settings and its optional secrets. */
const KNOWN_NAMES: string[] = [...SETTING_NAMES, ...SECRET_SETTINGS];

/** The fields of a stack file (pulumi: sdk/go/common/workspace/project.go, ProjectStack); the CLI ignores any other. */
const STACK_FILE_FIELDS = ["secretsprovider", "encryptedkey", "encryptionsalt", "config", "environment"];

/** The stack named by --stack NAME, --stack=NAME or -s NAME, else PULUMI_STACK, else dev. */
export function stackName(argv: string[] = process.argv.slice(2)): string {
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        let name: string | undefined;
        if (arg === "--stack" || arg === "-s") name = argv[i + 1];
        else if (arg.startsWith("--stack=")) name = arg.slice("--stack=".length);
        else continue;
        if (!name || name.startsWith("-")) {
            throw new ConfigError([
                problem("--stack needs a stack name, and none followed it", `--stack ${DEFAULT_STACK} (or the name of another Pulumi.<stack>.yaml here)`),
            ]);
        }
        return name;
    }
    return process.env.PULUMI_STACK || DEFAULT_STACK;
}

/** `{secure: <ciphertext>}`: a value `pulumi config set --secret` wrote, which only the CLI can decrypt. */
function isEncrypted(value: unknown): boolean {
    return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

/** A YAML value as Pulumi hands it to the program: text as is, anything else as JSON. */
const asText = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

/**
 * A stack without a Pulumi.<stack>.yaml. For the CLI that is a stack whose settings are all defaults, and `npm run up`
 * runs the preflight before it creates a new stack: so a missing file is a warning, and the defaults apply. A name
 * within two edits of a stack that has a file (prdo for prod) is taken for a typo, and refused.
 */
function missingFile(stack: string, fileName: string, projectDir: string): { typo?: Problem; warning: string } {
    const files = readdirSync(projectDir)
        .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
        .sort();
    const stacks = files.map((f) => f.slice("Pulumi.".length, -".yaml".length));
    const here = files.length > 0 ? ` (the stack files here: ${files.join(", ")})` : "";
    const nearest = [...stacks].sort((a, b) => distance(a, stack) - distance(b, stack))[0];
    const warning = `${fileName} does not exist in ${projectDir}: stack "${stack}" has no settings of its own, so every setting is its default${here}`;
    if (nearest === undefined || distance(nearest, stack) > 2) return { warning };
    return {
        warning,
        typo: problem(
            `${fileName} does not exist in ${projectDir}, so stack "${stack}" has no settings; did you mean ${nearest}?`,
            `--stack ${nearest}${here}, or, for a new stack ${stack}, create its file first: touch ${fileName}`,
        ),
    };
}

/** What to change for a YAML error, by the yaml package's error code and message; the general rule otherwise. */
function yamlRepair(error: YAMLError): string {
    const message = error.message;
    switch (error.code) {
        case "TAB_AS_INDENT":
            return "indent with spaces instead of the tab (two spaces before each setting under config:)";
        case "DUPLICATE_KEY":
            return "keep one of the two lines that set this key (the Pulumi CLI refuses a key set twice)";
        case "BLOCK_AS_IMPLICIT_KEY":
        case "MULTILINE_IMPLICIT_KEY":
            return "put a value that holds ': ' in quotes, and indent every setting under config: by the same two spaces";
        case "BAD_SCALAR_START":
            return "put the value in quotes: a plain YAML value cannot start with that character";
    }
    if (message.includes("]")) return "close the list with ] on the line that opens it, e.g. [30000, 30001]";
    if (message.includes("}")) return "close the map with } on the line that opens it";
    if (/quote/i.test(message)) return "end the quoted value with the quote it starts with, on the same line";
    return `write each setting as two spaces, then ${PROJECT}:<key>: <value> under config:, quoting a value that holds ': ' or ' #'`;
}

function yamlIssue(fileName: string, text: string, error: YAMLError): Problem {
    const [line, col] = error.linePos ? [error.linePos[0].line, error.linePos[0].col] : [1, 1];
    const reason = error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    const source = text.split(/\r?\n/)[line - 1] ?? "";
    return problem(
        `${fileName}:${line}:${col}: ${reason}, in: ${JSON.stringify(source)}`,
        `edit ${fileName} at line ${line}, column ${col}: ${yamlRepair(error)}`,
    );
}

const isScalar = (item: unknown): boolean => ["string", "number", "boolean"].includes(typeof item);

/** A setting written without a value: its default back, or for a list the key removed, which is its default. */
function noValueFix(name: SettingName, fixes: FixCommands): string {
    const back = `${fixes.rm(name)} for the default (${JSON.stringify(DEFAULTS[name])})`;
    return Array.isArray(DEFAULTS[name]) ? back : `${fixes.set(name, DEFAULTS[name])}, or ${back}`;
}

/** A top-level key the CLI ignores: a setting written outside config:, or a misspelled field. */
function strayField(fileName: string, key: string, value: unknown, fixes: FixCommands): Problem {
    const parsed = splitConfigKey(key);
    if (key.includes(":") || KNOWN_NAMES.includes(key)) {
        const name = parsed?.namespace === PROJECT ? parsed.name : undefined;
        const set =
            name === undefined
                ? `move it under config: in ${fileName}`
                : (SECRET_SETTINGS as readonly string[]).includes(name)
                  ? `delete that line from ${fileName}, then type the value when asked: ${fixes.askSecret(name)}`
                  : `delete that line from ${fileName}, then ${fixes.set(name, Array.isArray(value) && value.every(isScalar) ? value : shellValue(asText(value), false))}`;
        return problem(`${fileName}: ${key} is at the top level of the file, where the Pulumi CLI ignores it (settings go under config:)`, set);
    }
    const near = STACK_FILE_FIELDS.find((field) => distance(field, key.toLowerCase()) <= 2);
    return problem(
        `${fileName}: ${key} is not a field of a stack file (${STACK_FILE_FIELDS.join(", ")}), so the Pulumi CLI ignores it`,
        near ? `rename ${key} to ${near} in ${fileName}` : `delete it from ${fileName}`,
    );
}

/**
 * The settings of one stack, from its Pulumi.<stack>.yaml in projectDir. Throws ConfigError for an invalid file, a
 * missing one that looks like a typo, keys the CLI would ignore, and every problem the program would report, each fix
 * naming the stack.
 */
export function readStackSettings(stack: string, projectDir = path.resolve(__dirname, "../..")): ParsedSettings {
    const fixes = shellFixes(stack);
    // A qualified name (org/project/stack) keeps its settings under the stack's own name, as for the CLI.
    const fileName = `Pulumi.${stack.split("/").pop()}.yaml`;
    const file = path.join(projectDir, fileName);
    if (!existsSync(file)) {
        const { typo, warning } = missingFile(stack, fileName, projectDir);
        if (typo) throw new ConfigError([typo]);
        const { settings, warnings } = parseConfig({}, { stack });
        return { settings, warnings: [warning, ...warnings] };
    }
    const text = readFileSync(file, "utf8");
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new ConfigError([yamlIssue(fileName, text, doc.errors[0])]);

    const issues: Problem[] = [];
    const top: unknown = doc.toJS();
    let config: unknown;
    if (top !== null && top !== undefined) {
        if (typeof top !== "object" || Array.isArray(top)) {
            throw new ConfigError([problem(`${fileName} must map fields to values (config: ...)`, `write the settings under config: in ${fileName}`)]);
        }
        for (const [key, value] of Object.entries(top)) {
            if (key === "config") config = value;
            else if (!STACK_FILE_FIELDS.includes(key)) issues.push(strayField(fileName, key, value, fixes));
        }
    }

    const entries: Record<string, ConfigEntry> = {};
    if (Array.isArray(config) || (config !== null && config !== undefined && typeof config !== "object")) {
        const first = Array.isArray(config) && config[0] && typeof config[0] === "object" ? Object.entries(config[0])[0] : undefined;
        issues.push(
            problem(
                `${fileName}: config must map keys to values${first ? ` (${first[0]}: ${asText(first[1])})` : ""}, not be ${Array.isArray(config) ? "a list" : "a single value"}`,
                `write each setting as \`${PROJECT}:<key>: <value>\` under config: in ${fileName}`,
            ),
        );
    } else {
        for (const [key, value] of Object.entries((config ?? {}) as Record<string, unknown>)) {
            const parsed = splitConfigKey(key);
            if (!parsed) {
                issues.push(
                    problem(
                        `${key} in ${fileName} is not a configuration key: the Pulumi CLI reads <namespace>:<name>`,
                        `rename it to ${PROJECT}:<name> in ${fileName}`,
                    ),
                );
                continue;
            }
            const { namespace, name } = parsed;
            if (value === null && namespace === PROJECT && KNOWN_NAMES.includes(name)) {
                const isSetting = (SETTING_NAMES as string[]).includes(name);
                issues.push(
                    problem(
                        `${PROJECT}:${name} in ${fileName} has no value`,
                        isSetting ? noValueFix(name as SettingName, fixes) : `type its value when asked: ${fixes.askSecret(name)}, or ${fixes.rm(name)}`,
                    ),
                );
                continue;
            }
            entries[`${namespace}:${name}`] = isEncrypted(value) ? { secret: true } : { value: value === null ? "" : asText(value), secret: false };
        }
    }

    const checked = checkConfig(entries, { stack, source: fileName });
    issues.push(...checked.issues);
    if (issues.length > 0 || !checked.settings) throw new ConfigError(issues);
    return { settings: checked.settings, warnings: checked.warnings };
}
