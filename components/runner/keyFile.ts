/**
 * The init response on disk: written before anything else is done with it, so that a crash after `vault operator
 * init` never loses the unseal keys. The file is 0600 in a 0700 folder that git ignores, written atomically
 * (temporary file, fsync, rename), and removed by `pulumi destroy` together with the cluster whose keys it holds.
 */
import * as fs from "fs";
import * as path from "path";
import type { InitResponse } from "./vaultOps";

export interface KeyFileContent extends InitResponse {
    /** When vault-ha stored the response, for people reading the file later. */
    saved_at: string;
}

/** The folder is keyed by project and stack, so two stacks of the project never share (or overwrite) keys. */
export function keyFilePath(project: string, stack: string): string {
    return path.join(".vault-ha", `${project}.${stack}`, "init.json");
}

export function readKeyFile(file: string): KeyFileContent | undefined {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        // No file there, or no folder where the file's folder should be: either way, no saved keys.
        if (["ENOENT", "ENOTDIR"].includes((err as NodeJS.ErrnoException).code ?? "")) return undefined;
        throw err;
    }
    const content = JSON.parse(text) as KeyFileContent;
    if (!Array.isArray(content.unseal_keys_b64) || typeof content.root_token !== "string") {
        throw new Error(`${file} is not a Vault init response (no unseal_keys_b64 / root_token); it was left untouched`);
    }
    return content;
}

export function writeKeyFile(file: string, response: InitResponse): void {
    const dir = path.dirname(file);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const content: KeyFileContent = { ...response, saved_at: new Date().toISOString() };
    const temporary = `${file}.${process.pid}.tmp`;
    const fd = fs.openSync(temporary, "wx", 0o600);
    try {
        fs.writeSync(fd, JSON.stringify(content, null, 2) + "\n");
        fs.fsyncSync(fd);
    } finally {
        fs.closeSync(fd);
    }
    fs.renameSync(temporary, file);
    const dirFd = fs.openSync(dir, "r");
    try {
        fs.fsyncSync(dirFd);
    } finally {
        fs.closeSync(dirFd);
    }
}

/** Keys of an earlier cluster are moved aside, never deleted by the bootstrap itself. */
export function retireKeyFile(file: string): string {
    const aside = `${file}.stale-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    fs.renameSync(file, aside);
    return aside;
}

export function deleteKeyFile(file: string): boolean {
    try {
        fs.unlinkSync(file);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw err;
    }
    try {
        fs.rmdirSync(path.dirname(file));
    } catch {
        // Other files (retired keys) remain in the folder: leave it.
    }
    return true;
}
