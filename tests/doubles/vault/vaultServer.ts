/**
 * SIMULATOR — the in-process server behind ./bin/vault in the simulator tier: the `vault` commands that scripts run
 * in simulated pods are answered here, by the same function the Node `vault` process runs (./vaultCommand.js), so a
 * call costs a shell builtin's connection instead of a Node start. One server per test process serves every
 * simulation (each call names its state file in its environment).
 *
 * Wire format (all from ./bin/vault): NUL-terminated fields `pid, stdinFile, outFile, errFile, argc, argv...`; the
 * answer is the exit code and a newline, with stdout and stderr written to the two files first. The environment is
 * read from /proc/<pid>/environ: the one the `vault` process was started with, as Node's process.env would hold it.
 * A caller that is not a Vault pod names itself VAULT_SIM_POD=@<name> (the in-cluster unsealer: ./unsealerTask.ts):
 * cli.js then sends its call to the Vault pod that its VAULT_ADDR names (remoteVault).
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/* eslint-disable @typescript-eslint/no-require-imports */
const { readsStdin, runVault } = require("./vaultCommand.js");

export interface VaultServer {
    /** What a pod's shell needs in its environment to reach this server. */
    env: { VAULT_SIM_PORT: string; VAULT_SIM_IO: string };
}

let started: Promise<VaultServer> | undefined;

/** The server of this process, started on first use; it never keeps the process alive. */
export function vaultServer(): Promise<VaultServer> {
    started ??= start();
    return started;
}

function start(): Promise<VaultServer> {
    const io = fs.mkdtempSync(path.join(os.tmpdir(), "vault-sim-io-"));
    const server = net.createServer((socket) => serve(socket));
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            server.unref();
            process.once("exit", () => fs.rmSync(io, { recursive: true, force: true }));
            resolve({ env: { VAULT_SIM_PORT: String((server.address() as net.AddressInfo).port), VAULT_SIM_IO: io } });
        });
    });
}

function serve(socket: net.Socket): void {
    let buffer = Buffer.alloc(0);
    let files: string[] = [];
    socket.on("data", (chunk) => {
        buffer = Buffer.concat([buffer, chunk]);
        const fields = complete(buffer);
        if (!fields) return;
        const [pid, stdinFile, outFile, errFile] = fields;
        files = [stdinFile, outFile, errFile].filter(Boolean);
        socket.write(`${answer(pid, stdinFile, outFile, errFile, fields.slice(5))}\n`);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => files.forEach((f) => fs.rmSync(f, { force: true })));
}

/** The request's fields once all have arrived (the fifth is the number of argv fields after it), else undefined. */
function complete(buffer: Buffer): string[] | undefined {
    const fields = buffer.toString("utf8").split("\0");
    fields.pop(); // what follows the last NUL: an unfinished field, or nothing
    if (fields.length < 5 || fields.length < 5 + Number(fields[4])) return undefined;
    return fields;
}

function answer(pid: string, stdinFile: string, outFile: string, errFile: string, argv: string[]): number {
    const env = environmentOf(pid);
    if (readsStdin(argv) !== Boolean(stdinFile)) {
        fs.writeFileSync(errFile, `simulator vault: bin/vault and vaultCommand.js disagree on whether \`vault ${argv[0]}\` reads stdin\n`);
        return 70;
    }
    const { VAULT_SIM_STATE: stateFile, VAULT_SIM_POD: pod } = env;
    if (!stateFile || !pod) {
        fs.writeFileSync(errFile, "simulator vault: not inside a simulated pod\n");
        return 70;
    }
    const stdin = stdinFile ? fs.readFileSync(stdinFile, "utf8") : "";
    let result: { code: number; stdout: string; stderr: string };
    try {
        result = runVault({ stateFile, pod, argv, env, stdin });
    } catch (error) {
        // What Node prints for an uncaught exception in the `vault` process, with its exit code.
        result = { code: 1, stdout: "", stderr: `${(error as Error).stack ?? error}\n` };
    }
    fs.writeFileSync(outFile, result.stdout);
    fs.writeFileSync(errFile, result.stderr);
    return result.code;
}

function environmentOf(pid: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const entry of fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
        const at = entry.indexOf("=");
        if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
    }
    return env;
}
