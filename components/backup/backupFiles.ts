/**
 * A backup on disk: the raft snapshot, a small JSON description beside it, and the unseal keys and root token of the
 * cluster it came from. A snapshot opens only with those keys (restored onto another cluster, the cluster takes over
 * the snapshot's keyring), so the three are written together, in a 0700 folder, each file 0600, and checked together
 * before a restore touches anything.
 *
 *   backups/<project>.<stack>/<UTC time>.snap        the snapshot, as Vault streamed it
 *   backups/<project>.<stack>/<UTC time>.json        { sha256, bytes, clusterId, vaultVersion, createdAt, keys }
 *   backups/<project>.<stack>/<UTC time>.keys.json   Vault's init answer shape: unseal_keys_b64, root_token
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { VaultKeys } from "../stepCommand/contract";

export const BACKUP_ROOT = "backups";

export function backupFolder(project: string, stack: string): string {
    return path.join(BACKUP_ROOT, `${project}.${stack}`);
}

export interface SnapshotDescription {
    format: 1;
    /** SHA-256 of the .snap file, hex. */
    sha256: string;
    bytes: number;
    /** `cluster_id` of the Vault cluster the snapshot came from (`vault status`). */
    clusterId: string;
    vaultVersion: string;
    createdAt: string;
    /** The keys file beside it, by name. */
    keys: string;
    /** SHA-256 of the unseal keys, so that a keys file that does not belong to the snapshot is refused. */
    keysFingerprint: string;
    /** The snapshot cluster's unseal threshold: after a -force restore Vault still reports the old cluster's. */
    threshold?: number;
    /**
     * Who took it: `npm run snapshot` ("manual") or a roll before it replaced serving pods ("pre-roll"). Absent in
     * backups written before this field existed: those count as manual (never pruned for an automatic one).
     */
    origin?: BackupOrigin;
    /** For a pre-roll backup: the StatefulSet update revision the roll was bringing the pods to. */
    rollRevision?: string;
}

export type BackupOrigin = "manual" | "pre-roll";

/** A backup's origin; one written before origins were recorded is a manual one. */
export function originOf(description: Pick<SnapshotDescription, "origin">): BackupOrigin {
    return description.origin === "pre-roll" ? "pre-roll" : "manual";
}

export class BackupError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "BackupError";
    }
}

/** 2026-11-28T04-00-00Z: sortable, and a valid file name everywhere. */
export function snapshotStamp(now: Date): string {
    return now
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z")
        .replace(/:/g, "-");
}

/** The key shares a backup is fingerprinted by: the unseal keys, or with an auto seal (none) the recovery keys. */
function sharesOf(keys: VaultKeys): string[] {
    return keys.unsealKeys.length ? keys.unsealKeys : (keys.recoveryKeys ?? []);
}

export function keysFingerprint(keys: string[]): string {
    return createHash("sha256").update(JSON.stringify(keys)).digest("hex");
}

/** Writes `content` to `file` (0600) through a temporary file, so that a crash never leaves half a file under its name. */
export function writePrivate(file: string, content: string | Buffer): void {
    const temporary = `${file}.${process.pid}.tmp`;
    const fd = fs.openSync(temporary, "wx", 0o600);
    try {
        fs.writeSync(fd, typeof content === "string" ? Buffer.from(content) : content);
        fs.fsyncSync(fd);
    } finally {
        fs.closeSync(fd);
    }
    fs.renameSync(temporary, file);
}

export function ensureBackupFolder(folder: string): void {
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    fs.chmodSync(folder, 0o700);
}

/** The paths of one backup, from its .snap file; the snapshot is streamed into `partial` first. */
export function backupPaths(snapFile: string): { snap: string; description: string; keys: string; partial: string } {
    const base = snapFile.replace(/\.snap$/, "");
    return { snap: snapFile, description: `${base}.json`, keys: `${base}.keys.json`, partial: `${base}.snap.partial` };
}

/** A .snap name in `folder` for `now` that no backup uses yet (two in the same second get -1, -2, ...). */
export function newSnapshotFile(folder: string, now: Date): string {
    const stamp = snapshotStamp(now);
    for (let i = 0; ; i++) {
        const file = path.join(folder, `${stamp}${i ? `-${i}` : ""}.snap`);
        const paths = backupPaths(file);
        if (![paths.snap, paths.partial, paths.description, paths.keys].some((f) => fs.existsSync(f))) return file;
    }
}

/**
 * Records a snapshot streamed into its `.partial` file: the keys, then the description, then the rename to `.snap`
 * last, so that a `.snap` always has both beside it and a save that died leaves only a `.partial`.
 */
export function recordBackup(
    snapFile: string,
    info: { clusterId: string; vaultVersion: string; createdAt: string; keys: VaultKeys; threshold?: number; origin?: BackupOrigin; rollRevision?: string },
): SnapshotDescription {
    const paths = backupPaths(snapFile);
    const fd = fs.openSync(paths.partial, "r");
    try {
        fs.fsyncSync(fd);
    } finally {
        fs.closeSync(fd);
    }
    const content = fs.readFileSync(paths.partial);
    // With an auto seal there are no unseal keys: the recovery keys are kept beside the root token instead.
    const recovery = info.keys.recoveryKeys?.length ? { recovery_keys_b64: info.keys.recoveryKeys } : {};
    writePrivate(paths.keys, JSON.stringify({ unseal_keys_b64: info.keys.unsealKeys, root_token: info.keys.rootToken, ...recovery }, null, 2) + "\n");
    const description: SnapshotDescription = {
        format: 1,
        sha256: createHash("sha256").update(content).digest("hex"),
        bytes: content.length,
        clusterId: info.clusterId,
        vaultVersion: info.vaultVersion,
        createdAt: info.createdAt,
        keys: path.basename(paths.keys),
        keysFingerprint: keysFingerprint(sharesOf(info.keys)),
        threshold: info.threshold,
        origin: info.origin ?? "manual",
        ...(info.rollRevision ? { rollRevision: info.rollRevision } : {}),
    };
    writePrivate(paths.description, JSON.stringify(description, null, 2) + "\n");
    fs.renameSync(paths.partial, paths.snap);
    return description;
}

/**
 * Everything a restore needs, checked before the cluster is touched: the description, the snapshot's size and
 * checksum (a truncated or corrupted file is refused), and the keys that open it.
 */
export function verifyBackup(snapFile: string): { description: SnapshotDescription; keys: VaultKeys } {
    const paths = backupPaths(snapFile);
    const fail = (what: string) => {
        throw new BackupError(`${snapFile}: ${what}; nothing was restored`);
    };
    if (!/\.snap$/.test(snapFile)) fail("a backup is the .snap file that `npm run snapshot` wrote");
    if (!fs.existsSync(snapFile)) fail("no such file");
    if (!fs.existsSync(paths.description)) fail(`its description ${paths.description} is missing (written beside every snapshot)`);
    let description: SnapshotDescription;
    try {
        description = JSON.parse(fs.readFileSync(paths.description, "utf8")) as SnapshotDescription;
    } catch {
        return fail(`its description ${paths.description} is not valid JSON`);
    }
    const content = fs.readFileSync(snapFile);
    if (content.length !== description.bytes) fail(`it has ${content.length} bytes, but ${description.bytes} were saved: the file is truncated or was changed`);
    if (createHash("sha256").update(content).digest("hex") !== description.sha256)
        fail("its SHA-256 does not match the one saved with it: the file is corrupted");
    if (!fs.existsSync(paths.keys)) {
        fail(
            `the unseal keys of the cluster it came from (${paths.keys}) are missing: without them the restored data can never be unsealed. ` +
                `Put the keys file back (or restore it from where you keep backups)`,
        );
    }
    let keys: VaultKeys;
    try {
        const raw = JSON.parse(fs.readFileSync(paths.keys, "utf8")) as { unseal_keys_b64?: string[]; root_token?: string; recovery_keys_b64?: string[] };
        const recovery = Array.isArray(raw.recovery_keys_b64) && raw.recovery_keys_b64.length > 0 ? { recoveryKeys: raw.recovery_keys_b64 } : {};
        if (!Array.isArray(raw.unseal_keys_b64) || (raw.unseal_keys_b64.length === 0 && !recovery.recoveryKeys) || !raw.root_token) throw new Error();
        keys = { unsealKeys: raw.unseal_keys_b64, rootToken: raw.root_token, ...recovery };
    } catch {
        return fail(`${paths.keys} does not hold unseal keys (or recovery keys) and a root token`);
    }
    if (keysFingerprint(sharesOf(keys)) !== description.keysFingerprint) fail(`${paths.keys} holds other unseal keys than the ones saved with the snapshot`);
    return { description, keys };
}

/** The complete backups of `folder` (a .snap with its description), oldest first (names sort by time). */
export function listBackups(folder: string): Array<{ file: string; description: Partial<SnapshotDescription> }> {
    if (!fs.existsSync(folder)) return [];
    const files = fs.readdirSync(folder);
    return files
        .filter((f) => f.endsWith(".snap") && files.includes(f.replace(/\.snap$/, ".json")))
        .sort()
        .map((f) => {
            const file = path.join(folder, f);
            let description: Partial<SnapshotDescription> = {};
            try {
                description = JSON.parse(fs.readFileSync(backupPaths(file).description, "utf8")) as Partial<SnapshotDescription>;
            } catch {
                // Unreadable: counted as a manual backup, so that it is never removed to make room for an automatic one.
            }
            return { file, description };
        });
}

/** The backup a roll toward `revision` took before it replaced its first serving pod, if one is there. */
export function rollBackup(folder: string, revision: string): { file: string; description: SnapshotDescription } | undefined {
    const found = listBackups(folder).find((b) => originOf(b.description) === "pre-roll" && b.description.rollRevision === revision);
    return found && fs.existsSync(backupPaths(found.file).keys) ? { file: found.file, description: found.description as SnapshotDescription } : undefined;
}

/**
 * Keeps the newest `keep` complete backups of `origin` (a .snap with its description; by name, which sorts by time),
 * removing the older ones whole; backups of the other origin are not counted and not touched, so that automatic
 * backups before rolls never push out one a person took. Leftovers of saves that died (`.partial`) go too.
 */
export function pruneBackups(folder: string, keep: number, origin: BackupOrigin = "manual"): string[] {
    if (!fs.existsSync(folder)) return [];
    for (const partial of fs.readdirSync(folder).filter((f) => f.endsWith(".snap.partial"))) fs.rmSync(path.join(folder, partial), { force: true });
    const same = listBackups(folder).filter((b) => originOf(b.description) === origin);
    const removed = same.slice(0, Math.max(0, same.length - keep)).map((b) => b.file);
    for (const snap of removed) {
        const paths = backupPaths(snap);
        for (const file of [paths.snap, paths.description, paths.keys]) fs.rmSync(file, { force: true });
    }
    return removed;
}
