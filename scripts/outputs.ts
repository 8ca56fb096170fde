/**
 * `npm run outputs` (scripts/outputs.sh passes --stack): the stack's vaultEnv on stdout, for
 * `eval "$(npm run --silent outputs)"` in any shell, and its CA (output caCert) written to a file that VAULT_CACERT
 * names by its absolute path, so that the lines work from any folder afterwards.
 *
 * It reads the outputs without --show-secrets: Pulumi decrypts nothing then (no passphrase) and blinds each secret, so
 * no secret can reach stdout. The root token is not printed; stderr says how to pass it to `vault login` instead.
 */
import * as fs from "fs";
import * as path from "path";
import { CliIo, CommandSpec, flagValue, runWithArgs, STD_IO } from "./args";
import { BackupError } from "../components/backup/backupFiles";
import { readStackOutputs } from "./backup";

export const DEFAULT_CA_FILE = "vault-ca.pem";

/** The project folder (this file is in its scripts/): where `pulumi stack output` finds Pulumi.yaml. */
const PROJECT_DIR = path.join(__dirname, "..");

export const OUTPUTS_ARGS: CommandSpec = {
    command: "npm run outputs",
    summary:
        'Prints the stack\'s vaultEnv (export lines) and writes its CA to a file, so that `eval "$(npm run --silent outputs)"` sets VAULT_ADDR, VAULT_CACERT (and VAULT_TLS_SERVER_NAME) in any shell. Never prints a secret. Needs the Pulumi CLI.',
    flags: [
        { name: "stack", short: "s", value: "NAME", help: "the stack (default: $PULUMI_STACK, else dev; scripts/outputs.sh passes it)" },
        { name: "ca-file", value: "FILE", help: `where to write the CA (default: ./${DEFAULT_CA_FILE}, in the folder npm run was started in)` },
    ],
    notes: ["environment: PULUMI_STACK, PULUMI_BACKEND_URL (as npm run up)"],
};

/** Single-quoted for sh: any path stays one word, whatever it holds. */
export function shellQuote(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface OutputsPlan {
    /** The lines for eval. */
    stdout: string;
    /** The CA to write to caFile, with TLS. */
    caCert?: string;
    /** What the user should know, for stderr (never a secret). */
    notes: string[];
}

/**
 * What to print and write for the stack's outputs: vaultEnv with VAULT_CACERT pointing at caFile (an absolute path),
 * and the hints: how to get the root token, and the port-forward a ClusterIP Vault needs.
 */
export function outputsPlan(outputs: Record<string, unknown>, stack: string, caFile: string, backendUrl?: string, projectDir = PROJECT_DIR): OutputsPlan {
    const vaultEnv = outputs.vaultEnv;
    if (typeof vaultEnv !== "string" || !vaultEnv.trim()) {
        throw new BackupError(`stack ${stack} has no vaultEnv output; deploy it first (npm run up)`);
    }
    const caCert = typeof outputs.caCert === "string" && outputs.caCert.includes("BEGIN CERTIFICATE") ? outputs.caCert : undefined;
    const lines = vaultEnv
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => (/^export VAULT_CACERT=/.test(line) ? `export VAULT_CACERT=${shellQuote(caFile)}` : line));
    if (caCert && !lines.some((line) => line.startsWith("export VAULT_CACERT="))) lines.push(`export VAULT_CACERT=${shellQuote(caFile)}`);
    // The project's own file backend is named as it is; any other URL may hold a password (postgres://user:pass@...),
    // so the hint refers to the variable instead of printing it.
    const backend = backendUrl
        ? backendUrl.startsWith("file://")
            ? `PULUMI_BACKEND_URL=${shellQuote(backendUrl)} `
            : `PULUMI_BACKEND_URL="$PULUMI_BACKEND_URL" `
        : "";
    const notes = [
        caCert ? `wrote the CA that signed Vault's certificate to ${caFile}` : "tls: false: no CA to write",
        `the root token is not printed; to log in with it: (cd ${shellQuote(projectDir)} && ${backend}pulumi stack output rootToken --show-secrets --stack ${stack}) | vault login -no-print -`,
    ];
    if (typeof outputs.portForwardCommand === "string" && outputs.portForwardCommand) {
        notes.push(`VAULT_ADDR answers only while the port-forward runs: ${outputs.portForwardCommand}`);
    }
    return { stdout: `${lines.join("\n")}\n`, caCert, notes };
}

/** argv: flags (scripts/outputs.sh passes --stack). */
export async function main(argv: string[], io: CliIo = STD_IO): Promise<number> {
    return runWithArgs(
        argv,
        OUTPUTS_ARGS,
        async (args) => {
            const stack = flagValue(args, "stack") ?? "dev";
            // npm runs scripts in the project folder; a relative path means the folder the user typed it in (INIT_CWD).
            const caFile = path.resolve(process.env.INIT_CWD ?? process.cwd(), flagValue(args, "ca-file") ?? DEFAULT_CA_FILE);
            try {
                const plan = outputsPlan(readStackOutputs(stack, { showSecrets: false }), stack, caFile, process.env.PULUMI_BACKEND_URL);
                if (plan.caCert) fs.writeFileSync(caFile, plan.caCert.endsWith("\n") ? plan.caCert : `${plan.caCert}\n`, { mode: 0o644 });
                io.out(plan.stdout);
                for (const note of plan.notes) io.error(`vault-ha outputs: ${note}`);
                return 0;
            } catch (err) {
                if (!(err instanceof BackupError) && !(err as NodeJS.ErrnoException).code) throw err;
                io.error(`vault-ha outputs: ERROR: ${(err as Error).message}`);
                return 1;
            }
        },
        io,
    );
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
