/**
 * How a configuration problem is reported: a Problem (components/problems.ts) naming the setting, key or file, and a
 * fix that changes something, written as commands for the stack at hand.
 */

import { findingLine, Problem } from "../problems";
import { DEFAULTS, SETTING_NAMES, SettingName } from "./settingDeclarations";

export const PROJECT = "vault-ha";

/** The stack `npm run up` uses. A fix for any other stack names it. */
export const DEFAULT_STACK = "dev";

/** A configuration the program refuses, with every problem found: thrown before anything is created. */
export class ConfigError extends Error {
    /** Each problem as one line: "<what>. Fix: <fix>" (no period after a question). */
    readonly problems: string[];

    constructor(readonly issues: Problem[]) {
        const problems = issues.map(findingLine);
        super(`${PROJECT}: invalid configuration; nothing was created.\n` + problems.map((p) => `  - ${p}`).join("\n"));
        this.problems = problems;
        this.name = "ConfigError";
    }
}

/** A value as one shell word of a fix: a list as quoted JSON (for display; a fix sets a list item by item). */
export function shellWord(value: string | number | boolean | readonly unknown[]): string {
    return Array.isArray(value) ? `'${JSON.stringify(value)}'` : String(value);
}

/** One item of a list as a shell word: a plain word or a `<placeholder>` as it is, anything else single-quoted. */
function itemWord(item: unknown): string {
    const text = typeof item === "string" ? item : JSON.stringify(item);
    return /^[A-Za-z0-9_.:/@+=,-]+$/.test(text) || /^<[^'<>]*>$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The settings Pulumi.yaml declares as lists (`type: array`). Pulumi checks a stack's values against those types on up
 * and destroy and refuses a text for a list, and `pulumi config set KEY VALUE` stores VALUE as text whatever it holds
 * (pkg/cmd/pulumi/config/config_set.go); only `set --path 'KEY[i]' ITEM` builds a list (sdk/go/common/resource/config/
 * map.go Map.Set), so a fix sets these item by item.
 */
export const LIST_SETTINGS: readonly SettingName[] = SETTING_NAMES.filter((name) => Array.isArray(DEFAULTS[name]));

/**
 * The commands of fixes for one stack, in the form that works in a plain shell: `npm run config` (scripts/config.sh)
 * uses the backend and stack of `npm run up`, another stack than dev through PULUMI_STACK (a `--stack` among its
 * arguments would not override it). Plain `pulumi config` works only where that backend is logged in and the stack
 * selected.
 */
export class FixCommands {
    private readonly prefix: string;

    constructor(readonly stack: string = DEFAULT_STACK) {
        this.prefix = `${stack !== DEFAULT_STACK ? `PULUMI_STACK=${stack} ` : ""}npm run config --`;
    }

    /** Sets a setting; a list setting item by item (see LIST_SETTINGS), a single value there as its only item. */
    set(name: string, value: string | number | boolean | readonly unknown[]): string {
        if ((LIST_SETTINGS as readonly string[]).includes(name)) return this.setList(name, Array.isArray(value) ? value : [value]);
        return `${this.prefix} set ${PROJECT}:${name} ${shellWord(value)}`;
    }

    /**
     * Replaces a whole list: removes the key (a shorter list would keep the old items past its end), then sets each
     * item at its index, which `--path` stores as a number when it reads as one (map.go adjustObjectValue). An empty
     * list is the key removed, which is the default of every list setting but nodePorts (which must not be empty).
     */
    setList(name: string, items: readonly unknown[]): string {
        return [this.rm(name), ...items.map((item, index) => this.setItem(name, index, item))].join(" && ");
    }

    /** Sets one item of a list: `--path` takes the whole key with its index, quoted against the shell's globbing. */
    setItem(name: string, index: number, item: unknown): string {
        return `${this.prefix} set --path '${PROJECT}:${name}[${index}]' ${itemWord(item)}`;
    }

    /** Reads the secret from a file on stdin: its value never reaches an argv. */
    setSecretFromFile(name: string, file: string): string {
        return `${this.prefix} set --secret ${PROJECT}:${name} < ${file}`;
    }

    /**
     * Sets a secret to what the user types at Pulumi's prompt, which does not echo it (or pipes in): with no VALUE
     * argument `pulumi config set` reads stdin when it is not a terminal, else asks with ReadConsoleNoEcho
     * (pkg/cmd/pulumi/config/config_set.go). The value never reaches an argv or the shell's history.
     */
    askSecret(name: string): string {
        return `${this.prefix} set --secret ${PROJECT}:${name}`;
    }

    rm(name: string): string {
        return this.rmKey(`${PROJECT}:${name}`);
    }

    /** Removes a key of any namespace, written as it is stored. */
    rmKey(key: string): string {
        return `${this.prefix} rm ${key}`;
    }
}

/** The fixes the configuration readers print. */
export function shellFixes(stack: string = DEFAULT_STACK): FixCommands {
    return new FixCommands(stack);
}
