/**
 * The step process's private temporary folders (the admin kubeconfig lives in one) and what happens to them when the
 * process does not end normally:
 *
 * - SIGINT, SIGTERM, SIGHUP (Ctrl-C, `pulumi cancel`, a closed terminal): the children are stopped, the folders
 *   removed, and the process exits as the signal asks (128 + its number).
 * - The parent dies (the Command provider runs `/bin/sh -c <command>`; killing that shell leaves this process
 *   orphaned, and nothing would stop it before its deadline): noticed within a second, then the same clean-up.
 * - SIGKILL, which nothing can catch: the folders carry the process id (vault-ha-<pid>-XXXXXX), so the next step
 *   removes those whose process is gone.
 */
import type { ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const PREFIX = "vault-ha-";
const folders = new Set<string>();
const children = new Set<ChildProcess>();
let installed = false;

const SIGNALS: Array<[NodeJS.Signals, number]> = [
    ["SIGINT", 2],
    ["SIGTERM", 15],
    ["SIGHUP", 1],
];

function removeAll(): void {
    for (const child of children) child.kill("SIGTERM");
    for (const dir of folders) fs.rmSync(dir, { recursive: true, force: true });
    folders.clear();
}

function install(): void {
    if (installed) return;
    installed = true;
    process.on("exit", removeAll);
    for (const [signal, number] of SIGNALS) {
        process.on(signal, () => {
            removeAll();
            process.exit(128 + number);
        });
    }
    const parent = process.ppid;
    setInterval(() => {
        if (process.ppid !== parent) {
            process.stderr.write("vault-ha: the command that started this step is gone; stopping\n");
            removeAll();
            process.exit(129);
        }
    }, 1000).unref();
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** Removes folders that killed step processes of this user left behind. Returns how many. */
export function removeLeftovers(tmp = os.tmpdir()): number {
    let removed = 0;
    let names: string[];
    try {
        names = fs.readdirSync(tmp);
    } catch {
        return 0;
    }
    for (const name of names) {
        const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
        if (!match || Number(match[1]) === process.pid || alive(Number(match[1]))) continue;
        const dir = path.join(tmp, name);
        try {
            if (fs.lstatSync(dir).uid !== process.getuid?.()) continue;
            fs.rmSync(dir, { recursive: true, force: true });
            removed++;
        } catch {
            // Gone already, or not ours to remove.
        }
    }
    return removed;
}

/** A private (0700) temporary folder, removed on every way out of the process. */
export function privateFolder(): string {
    install();
    removeLeftovers();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
    folders.add(dir);
    return dir;
}

export function releaseFolder(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
    folders.delete(dir);
}

/** A child to stop with the process. */
export function track(child: ChildProcess): void {
    install();
    children.add(child);
    child.on("close", () => children.delete(child));
}
