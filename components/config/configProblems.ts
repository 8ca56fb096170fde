/**
 * How a configuration problem is reported: what is wrong, and a fix that changes something, written as commands for
 * the stack at hand.
 */

export const PROJECT = "vault-ha";

/** The stack `npm run up` uses. A fix for any other stack names it. */
export const DEFAULT_STACK = "dev";

/** One thing wrong with the configuration: what (naming the setting, key or file), and a fix that changes something. */
export interface ConfigIssue {
    /** Without a final period. */
    problem: string;
    /** Commands or edits; alternatives joined with ", or ". */
    fix: string;
}

export class ConfigError extends Error {
    /** Each issue as one line: "<problem>. Fix: <fix>" (no period after a question). */
    readonly problems: string[];

    constructor(readonly issues: ConfigIssue[]) {
        const problems = issues.map((issue) => `${issue.problem}${issue.problem.endsWith("?") ? "" : "."} Fix: ${issue.fix}`);
        super(`${PROJECT}: invalid configuration; nothing was created.\n` + problems.map((p) => `  - ${p}`).join("\n"));
        this.problems = problems;
        this.name = "ConfigError";
    }
}

/**
 * How a fix writes its commands. `npm run config` (scripts/config.sh) works in any shell: it uses the backend and stack
 * of `npm run up` (another stack than dev through PULUMI_STACK, as for up). Plain `pulumi config` works only where that
 * backend is logged in and the stack selected.
 */
export type FixForm = "npm run config" | "pulumi config";

/** A value as one shell word of a fix: a list as quoted JSON, which `set` stores whole and the readers parse back. */
export function shellWord(value: string | number | boolean | readonly unknown[]): string {
    return Array.isArray(value) ? `'${JSON.stringify(value)}'` : String(value);
}

/** The commands of fixes for one stack, in one form; any stack but dev is named. */
export class FixCommands {
    private readonly prefix: string;
    private readonly flag: string;

    constructor(
        readonly stack: string = DEFAULT_STACK,
        readonly form: FixForm = "pulumi config",
    ) {
        const other = stack !== DEFAULT_STACK;
        this.prefix = form === "npm run config" ? `${other ? `PULUMI_STACK=${stack} ` : ""}npm run config --` : "pulumi config";
        this.flag = form === "pulumi config" && other ? ` --stack ${stack}` : "";
    }

    set(name: string, value: string | number | boolean): string {
        return `${this.prefix} set${this.flag} ${PROJECT}:${name} ${value}`;
    }

    /** Sets a whole list (its JSON, quoted), which works whether the stack stores the list as text or as YAML. */
    setList(name: string, values: readonly unknown[]): string {
        return this.set(name, shellWord(values));
    }

    /** Sets one item of a list: `--path` takes the whole key with its index. */
    setItem(name: string, index: number, value: number): string {
        return `${this.prefix} set${this.flag} --path '${PROJECT}:${name}[${index}]' ${value}`;
    }

    setSecret(name: string, value: string): string {
        return `${this.prefix} set${this.flag} --secret ${PROJECT}:${name} ${value}`;
    }

    rm(name: string): string {
        return this.rmKey(`${PROJECT}:${name}`);
    }

    /** Removes a key of any namespace, written as it is stored. */
    rmKey(key: string): string {
        return `${this.prefix} rm${this.flag} ${key}`;
    }
}

/** The fixes the configuration readers print: the `npm run config` form, which works in a plain shell. */
export function shellFixes(stack: string = DEFAULT_STACK): FixCommands {
    return new FixCommands(stack, "npm run config");
}
