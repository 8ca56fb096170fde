/**
 * The init response on disk: written before anything else is done with it, so that a crash after `vault operator
 * init` never loses the unseal keys. The file is 0600 in a 0700 folder that git ignores, written atomically
 * (temporary file, fsync, rename), and removed by `pulumi destroy` together with the cluster whose keys it holds.
 */
import * as fs from "fs";
import * as path from "path";
import { DEFAULT_STACK, shellFixes } from "../config/configProblems";
import { StepError } from "./poll";
import type { InitResponse } from "./vaultOps";

export interface KeyFileContent extends InitResponse {
    /** When vault-ha stored the response, for people reading the file later. */
    saved_at: string;
}

/** The folder is keyed by project and stack, so two stacks of the project never share (or overwrite) keys. */
export function keyFilePath(project: string, stack: string): string {
    return path.join(".vault-ha", `${project}.${stack}`, "init.json");
}

/**
 * The commands that hand the keys of an initialised Vault in. The runner does not know the stack: these are dev's
 * (another stack puts PULUMI_STACK=<stack> in front, as for npm run up).
 */
export function handInKeys(): string {
    const fixes = shellFixes();
    // Each asks for its value (the keys as a JSON list, then the root token): neither reaches a command line.
    return `${fixes.askSecret("unsealKeys")} && ${fixes.askSecret("rootToken")}`;
}

/** A key file that is there but cannot be used: the message names the file, the problem and the way out. */
export class KeyFileError extends StepError {
    constructor(file: string, problem: string) {
        super(
            `the key file ${file} ${problem}. vault-ha left it untouched. If you have a backup of it, put it back and run again. ` +
                `Otherwise move it aside (mv ${file} ${file}.broken) and, if Vault is already initialised, hand its keys in: ` +
                handInKeys(),
        );
        this.name = "KeyFileError";
    }
}

export function readKeyFile(file: string): KeyFileContent | undefined {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? "";
        // No file there, or no folder where the file's folder should be: either way, no saved keys.
        if (["ENOENT", "ENOTDIR"].includes(code)) return undefined;
        if (code === "EISDIR") throw new KeyFileError(file, "is a directory, not a file");
        throw new KeyFileError(file, `cannot be read (${code || (err as Error).message})`);
    }
    if (text.trim() === "") throw new KeyFileError(file, "is empty (a write that was cut off?)");
    let content: Partial<KeyFileContent>;
    try {
        content = JSON.parse(text) as Partial<KeyFileContent>;
    } catch (err) {
        throw new KeyFileError(file, `is not valid JSON (${(err as Error).message})`);
    }
    const keys = content?.unseal_keys_b64;
    // With an auto seal Vault answers init with no unseal keys (an empty list) and recovery keys.
    const recovery = content?.recovery_keys_b64;
    const shares = Array.isArray(keys) && keys.length === 0 && Array.isArray(recovery) ? recovery : keys;
    if (
        !Array.isArray(keys) ||
        !Array.isArray(shares) ||
        shares.length === 0 ||
        !shares.every((k) => typeof k === "string" && k !== "") ||
        typeof content.root_token !== "string" ||
        !content.root_token
    ) {
        throw new KeyFileError(file, "is not a Vault init response (it needs unseal_keys_b64, a list of keys, and root_token)");
    }
    return content as KeyFileContent;
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

/**
 * keyShares and keyThreshold act once, at `vault operator init`. When the stack's settings no longer match the
 * cluster's saved init answer, this says so (the preview and the up show it), instead of silently doing nothing.
 */
export function keySettingsNotice(
    saved: Pick<KeyFileContent, "unseal_keys_b64" | "unseal_threshold" | "recovery_keys_b64" | "recovery_keys_threshold"> | undefined,
    keyShares: number,
    keyThreshold: number,
    /** The program knows its stack; the fix names any but dev. */
    stack = DEFAULT_STACK,
): string | undefined {
    if (!saved) return undefined;
    // With an auto seal the settings are the recovery keys' (and their rekey is vault operator rekey -target=recovery).
    const recovery = saved.unseal_keys_b64.length === 0 && (saved.recovery_keys_b64?.length ?? 0) > 0;
    const shares = recovery ? saved.recovery_keys_b64!.length : saved.unseal_keys_b64.length;
    const threshold = recovery ? saved.recovery_keys_threshold : saved.unseal_threshold;
    if (shares === keyShares && (threshold === undefined || threshold === keyThreshold)) return undefined;
    return (
        `keyShares/keyThreshold are ${keyShares}/${keyThreshold}, but Vault was initialised with ${shares} ${recovery ? "recovery key " : ""}shares` +
        `${threshold === undefined ? "" : `, threshold ${threshold}`}: they apply only at init, so nothing changes in Vault. ` +
        `To change them, rekey Vault (vault operator rekey), save the new keys (a JSON list, typed when asked) with ${shellFixes(stack).askSecret("unsealKeys")}, ` +
        `or set the settings back to what Vault has`
    );
}

/** Keys of an earlier cluster are moved aside, never deleted by the bootstrap itself. */
export function retireKeyFile(file: string): string {
    const aside = `${file}.stale-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    fs.renameSync(file, aside);
    return aside;
}

/**
 * After a forced restore the cluster opens only with the snapshot's keys: they go into the key file, the place the
 * README names, and the rebuilt cluster's keys, which open nothing now, stay beside it as
 * `init.rebuilt-cluster-<UTC>.json` (0600). Crash-safe: the old file is copied aside first (the old keys are then in
 * two places), and the new one replaces the key file atomically (writeKeyFile), so each set of keys is on disk at
 * every moment, the snapshot's also in the backup's .keys.json. Returns the copy's path, if there was a key file.
 */
export function takeOverKeyFile(file: string, response: InitResponse, now: Date = new Date()): string | undefined {
    const dir = path.dirname(file);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    let aside: string | undefined;
    let isFile = false;
    try {
        isFile = fs.lstatSync(file).isFile();
    } catch (err) {
        if (!["ENOENT", "ENOTDIR"].includes((err as NodeJS.ErrnoException).code ?? "")) throw err;
    }
    if (isFile) {
        const stamp = now
            .toISOString()
            .replace(/\.\d{3}Z$/, "Z")
            .replace(/:/g, "-");
        aside = path.join(dir, `init.rebuilt-cluster-${stamp}.json`);
        fs.copyFileSync(file, aside, fs.constants.COPYFILE_EXCL);
        fs.chmodSync(aside, 0o600);
        const fd = fs.openSync(aside, "r");
        try {
            fs.fsyncSync(fd);
        } finally {
            fs.closeSync(fd);
        }
    }
    writeKeyFile(file, response);
    return aside;
}

/**
 * Moves the key file of a destroyed stack whose raft volumes were kept into `folder` (0700) as
 * `<UTC>.kept-volumes.init.json` (0600): those volumes open only with these keys. Undefined when there was no key file.
 */
export function keepKeyFile(file: string, folder: string, now: Date = new Date()): string | undefined {
    try {
        if (!fs.lstatSync(file).isFile()) return undefined;
    } catch (err) {
        if (["ENOENT", "ENOTDIR"].includes((err as NodeJS.ErrnoException).code ?? "")) return undefined;
        throw err;
    }
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    fs.chmodSync(folder, 0o700);
    const stamp = now
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z")
        .replace(/:/g, "-");
    const kept = path.join(folder, `${stamp}.kept-volumes.init.json`);
    // Copy then remove (not rename): the backup folder may be on another file system than the key folder.
    fs.copyFileSync(file, kept, fs.constants.COPYFILE_EXCL);
    fs.chmodSync(kept, 0o600);
    deleteKeyFile(file);
    return kept;
}

/** Removes the key file of a destroyed cluster. Anything that is not a file in its place is not vault-ha's: kept. */
export function deleteKeyFile(file: string): boolean {
    try {
        if (!fs.lstatSync(file).isFile()) return false;
        fs.unlinkSync(file);
    } catch (err) {
        if (["ENOENT", "ENOTDIR"].includes((err as NodeJS.ErrnoException).code ?? "")) return false;
        throw err;
    }
    try {
        fs.rmdirSync(path.dirname(file));
    } catch {
        // Other files (retired keys) remain in the folder: leave it.
    }
    return true;
}
