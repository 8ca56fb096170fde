/**
 * The command-line arguments of the TypeScript scripts (render, charts, snapshot/restore): one strict parser, so that
 * each script answers --help with its usage and refuses a flag it does not know (exit 2) before it does anything. A
 * mistyped flag must never be taken for something else: `render -- --manifest` once printed the values, not the
 * manifests. Flags may come before, between or after the operands; `--` ends the flags.
 */

export interface FlagSpec {
    /** The long name without its dashes: "stack". */
    name: string;
    /** A one-letter alias: "s" for -s. */
    short?: string;
    /** The value's placeholder in the usage ("NAME"); a flag without one is a switch. */
    value?: string;
    help: string;
}

export interface OperandSpec {
    /** The placeholder in the usage: "FILE". */
    name: string;
    help: string;
    required?: boolean;
}

export interface CommandSpec {
    /** What the user types: "npm run render". */
    command: string;
    /** One line: what the command does. */
    summary: string;
    flags: FlagSpec[];
    operands?: OperandSpec[];
    /** Lines after the flags: environment variables, examples. */
    notes?: string[];
}

export interface ParsedArgs {
    /** A switch given is true; a flag given more than once keeps its last value. */
    flags: Record<string, string | true>;
    operands: string[];
}

/** A mistake in the arguments: the message names it, and the usage follows it (exit 2). */
export class UsageError extends Error {}

const HELP: FlagSpec = { name: "help", short: "h", help: "print this help and exit" };

function flagLabel(flag: FlagSpec): string {
    const long = `--${flag.name}${flag.value ? ` ${flag.value}` : ""}`;
    return flag.short ? `-${flag.short}, ${long}` : `    ${long}`;
}

/** The usage text --help prints, and a usage error ends with. */
export function usage(spec: CommandSpec): string {
    const operands = (spec.operands ?? []).map((o) => (o.required ? o.name : `[${o.name}]`));
    const flags = [...spec.flags, HELP];
    const synopsis = [spec.command, ...(spec.flags.length + operands.length > 0 ? ["--"] : [])];
    const labels = [...flags.map(flagLabel), ...(spec.operands ?? []).map((o) => `    ${o.name}`)];
    const width = Math.max(...labels.map((l) => l.length)) + 2;
    const line = (label: string, help: string) => `  ${label.padEnd(width)}${help}`;
    return [
        `usage: ${[...synopsis, ...(spec.flags.length > 0 ? ["[flags]"] : []), ...operands].join(" ")}`,
        "",
        ...wrap(spec.summary, 100),
        "",
        ...(spec.operands?.length ? ["operands:", ...spec.operands.map((o) => line(`    ${o.name}`, o.help)), ""] : []),
        "flags:",
        ...flags.map((f) => line(flagLabel(f), f.help)),
        ...(spec.notes?.length ? ["", ...spec.notes] : []),
        "",
    ].join("\n");
}

/** Text broken into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
    const lines: string[] = [];
    let current = "";
    for (const word of text.split(/\s+/).filter(Boolean)) {
        if (current && current.length + 1 + word.length > width) {
            lines.push(current);
            current = word;
        } else current = current ? `${current} ${word}` : word;
    }
    return current ? [...lines, current] : lines;
}

/**
 * The arguments read against the spec: `{ help: true }` when -h or --help is among the flags (whatever else is
 * there), else the flags and operands. Throws UsageError for a flag the spec does not name, a value missing or given to
 * a switch, and too many or too few operands.
 */
export function parseArgs(argv: string[], spec: CommandSpec): ParsedArgs | { help: true } {
    const flags: Record<string, string | true> = {};
    const operands: string[] = [];
    const byLong = new Map([...spec.flags, HELP].map((f) => [f.name, f]));
    const byShort = new Map([...spec.flags, HELP].filter((f) => f.short).map((f) => [f.short!, f]));
    // Help first: `--help` next to a mistake still shows the usage.
    const flagArgs = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
    if (flagArgs.some((arg) => arg === "-h" || arg === "--help")) return { help: true };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--") {
            operands.push(...argv.slice(i + 1));
            break;
        }
        if (!arg.startsWith("-") || arg === "-") {
            operands.push(arg);
            continue;
        }
        const long = arg.startsWith("--");
        const [name, inline] = long ? splitInline(arg.slice(2)) : [arg.slice(1), undefined];
        const flag = long ? byLong.get(name) : byShort.get(name);
        if (!flag) throw new UsageError(`unknown flag ${long ? `--${name}` : arg}${suggestion(name, spec.flags)}`);
        if (!flag.value) {
            if (inline !== undefined) throw new UsageError(`--${flag.name} takes no value (got --${flag.name}=${inline})`);
            flags[flag.name] = true;
            continue;
        }
        const value = inline ?? argv[i + 1];
        // A value that looks like a flag is a forgotten value (`--stack --manifests`), not a stack named --manifests.
        if (value === undefined || value === "" || (inline === undefined && value.startsWith("-"))) {
            throw new UsageError(`--${flag.name} needs a value: --${flag.name} ${flag.value}`);
        }
        if (inline === undefined) i++;
        flags[flag.name] = value;
    }
    const allowed = spec.operands ?? [];
    if (operands.length > allowed.length) {
        const extra = operands.slice(allowed.length);
        throw new UsageError(`unexpected argument${extra.length > 1 ? "s" : ""} ${extra.join(" ")}`);
    }
    const missing = allowed.slice(operands.length).find((o) => o.required);
    if (missing) throw new UsageError(`${missing.name} is missing: ${missing.help}`);
    return { flags, operands };
}

/** The value of a flag that takes one, if it was given. */
export function flagValue(args: ParsedArgs, name: string): string | undefined {
    const value = args.flags[name];
    return typeof value === "string" ? value : undefined;
}

function splitInline(text: string): [string, string | undefined] {
    const at = text.indexOf("=");
    return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** " (did you mean --manifests?)" when a known flag starts like the unknown one or the other way round. */
function suggestion(name: string, flags: FlagSpec[]): string {
    const near = flags.find((f) => name.length > 1 && (f.name.startsWith(name) || name.startsWith(f.name)));
    return near ? ` (did you mean --${near.name}?)` : "";
}

export interface CliIo {
    /** Where the help goes: the text as is, ending with a newline. */
    out: (text: string) => void;
    /** Where a usage error goes: lines without the last newline, as console.error takes them. */
    error: (text: string) => void;
}

export const STD_IO: CliIo = { out: (text) => process.stdout.write(text), error: (text) => console.error(text) };

/**
 * Runs a script's main with its parsed arguments: --help prints the usage on stdout (exit 0), a usage error prints
 * the error and the usage on stderr (exit 2), and neither runs main.
 */
export async function runWithArgs(argv: string[], spec: CommandSpec, main: (args: ParsedArgs) => Promise<number>, io: CliIo = STD_IO): Promise<number> {
    let parsed: ParsedArgs | { help: true };
    try {
        parsed = parseArgs(argv, spec);
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        io.error(`${spec.command}: ${err.message}\n\n${usage(spec).trimEnd()}`);
        return 2;
    }
    if ("help" in parsed) {
        io.out(usage(spec));
        return 0;
    }
    return main(parsed);
}
