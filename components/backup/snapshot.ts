/**
 * Taking and restoring raft snapshots, with the keys that open them (see backupFiles.ts for what is on disk).
 *
 * - Save: `vault operator raft snapshot save` on the active node, streamed through `kubectl exec` into a 0600 file
 *   (no copy in the pod), then its checksum, the cluster's id and the keys beside it. Older backups beyond `keep` go.
 * - Restore: everything is checked first (checksum, size, keys). The file is uploaded into the active pod and
 *   restored from there over loopback (vaultScripts.ts STAGED_SNAPSHOT_FILE says why). Onto the cluster the snapshot came
 *   from (same `cluster_id`) it is a plain restore, done when Vault's log says its restore finished; onto another
 *   cluster (a rebuilt one) it is `-force`, after which the cluster opens only with the snapshot's keys: every pod is
 *   unsealed with them here (restarted first if it holds the old seal configuration), and the caller writes them to
 *   the key file and hands them to the Pulumi state (the adoption settings vault-ha:unsealKeys / vault-ha:rootToken).
 */
import * as fs from "fs";
import * as path from "path";
import { pollUntil, retrying, StepError } from "../runner/poll";
import { StepContext, waitForApi } from "../runner/primitives/context";
import { recreatePod } from "../runner/primitives/podReplacement";
import { unsealFrom } from "../runner/primitives/unseal";
import { SealStatus, VaultRefused, VaultUnavailable } from "../runner/vaultOps";
import type { VaultKeys } from "../stepCommand/contract";
import { podNames } from "../vault/names";
import {
    BackupError,
    backupPaths,
    ensureBackupFolder,
    newSnapshotFile,
    pruneBackups,
    recordBackup,
    rollBackup,
    SnapshotDescription,
    verifyBackup,
} from "./backupFiles";

/**
 * Progress of a long transfer on stderr, as the bootstrap reports its waits: at most every 10 s, the bytes so far and
 * the time; the caller logs the total at the end.
 */
function reportProgress(ctx: StepContext, what: string): () => void {
    const started = ctx.clock.now();
    let lastLog = started;
    const ops = ctx.ops;
    ops.onBytes = (total) => {
        const now = ctx.clock.now();
        if (now - lastLog < 10_000) return;
        lastLog = now;
        ctx.log(`${what}: ${(total / 1_048_576).toFixed(1)} MiB in ${Math.round((now - started) / 1000)}s`);
    };
    return () => (ops.onBytes = undefined);
}

/** The active node and its status, waited for (a snapshot is served by it, and a restore goes to it). */
async function activeNode(ctx: StepContext, names: string[]): Promise<{ pod: string; status: SealStatus }> {
    let last = "";
    return pollUntil(
        ctx,
        "an active Vault node",
        async () => {
            for (const pod of names) {
                try {
                    const status = await ctx.ops.status(pod);
                    if (status.isSelf && !status.sealed) return { pod, status };
                    last = `${pod}: ${status.sealed ? "sealed" : "standby"}`;
                } catch (err) {
                    if (!(err instanceof VaultUnavailable)) throw err;
                    last = `${pod}: ${err.message}`;
                }
            }
            return undefined;
        },
        () => last,
    );
}

export interface SnapshotOptions {
    release: string;
    replicas: number;
    keys: VaultKeys;
    folder: string;
    keep: number;
    now: Date;
    /**
     * Taken by a roll before it replaces serving pods, toward this StatefulSet update revision. Absent: a manual backup.
     * A resumed roll toward the same revision keeps the backup its first attempt took (the state before the change),
     * instead of adding one per attempt.
     */
    roll?: { revision: string };
}

export async function takeSnapshot(ctx: StepContext, o: SnapshotOptions): Promise<{ file: string; description: SnapshotDescription }> {
    if (o.roll) {
        const first = rollBackup(o.folder, o.roll.revision);
        if (first) {
            ctx.log(`this roll toward revision ${o.roll.revision} was started before: keeping the backup taken then, ${first.file}`);
            return first;
        }
    }
    const { pod, status } = await activeNode(ctx, podNames(o.release, o.replicas));
    ensureBackupFolder(o.folder);
    const file = newSnapshotFile(o.folder, o.now);
    const partial = backupPaths(file).partial;
    const started = ctx.clock.now();
    ctx.log(`saving a raft snapshot from ${pod} (the active node) to ${file}`);
    let last = "";
    const stopProgress = reportProgress(ctx, "snapshot streamed so far");
    await pollUntil(
        ctx,
        `a raft snapshot from ${pod}`,
        async () => {
            try {
                await ctx.ops.saveSnapshot(pod, o.keys.rootToken, partial);
                return true;
            } catch (err) {
                // Saving has no effect on Vault: a call that failed on the way (a lost connection) is simply repeated.
                fs.rmSync(partial, { force: true });
                if (err instanceof VaultRefused) throw new StepError(`the snapshot was refused (${err.message}); is vault-ha's root token still valid?`);
                last = (err as Error).message;
                throw err;
            }
        },
        () => last,
    ).finally(stopProgress);
    const description = recordBackup(file, {
        clusterId: status.clusterId ?? "",
        vaultVersion: status.version ?? "",
        createdAt: o.now.toISOString(),
        keys: o.keys,
        threshold: status.t > 0 ? status.t : undefined,
        origin: o.roll ? "pre-roll" : "manual",
        rollRevision: o.roll?.revision,
    });
    ctx.log(`saved ${description.bytes} bytes in ${Math.round((ctx.clock.now() - started) / 1000)}s, sha256 ${description.sha256}, with the keys that open it`);
    // Each kind counts only against itself: an automatic backup never pushes out one a person took.
    const removed = pruneBackups(o.folder, o.keep, o.roll ? "pre-roll" : "manual");
    if (removed.length) ctx.log(`removed older ${o.roll ? "pre-roll" : "manual"} backups beyond the newest ${o.keep}: ${removed.join(", ")}`);
    return { file, description };
}

export interface RestoreOptions {
    release: string;
    replicas: number;
    file: string;
    /** The running cluster's root token (from the state): it authorises the restore. */
    currentToken: string;
    keyThreshold: number;
    /**
     * Called as soon as Vault accepted a -force restore: the cluster opens only with these keys from then on;
     * `threshold` is the snapshot cluster's, when the backup recorded it.
     */
    onForced?: (keys: VaultKeys, threshold: number | undefined) => void | Promise<void>;
    /**
     * Why a forced restore must not run here, if it must not: refused with this before anything is sent (the
     * in-cluster unsealer would unseal the restored pods with the running cluster's keys, mixed with the snapshot's;
     * an auto seal cannot open another cluster's keyring at all).
     */
    forcedRefusal?: string;
}

/** How far back the restore's log lines are read, besides the marks counted before it: clock skew between this machine and the node. */
const LOG_MARGIN_MS = 120_000;

/** The line Vault's restore goroutine logs when it starts (vault/logical_system_raft.go handleStorageRaftSnapshotWrite). */
const RESTORE_STARTED = /shutting down prior to restoring snapshot/;
/** Its last line when all went well: postUnseal's (vault/core.go), the end of the goroutine. */
const RESTORE_FINISHED = /post-unseal setup complete/;
/**
 * Its failures: each one makes the goroutine return an error, and its deferred sealInternalWithOptions seals the node
 * (vault/logical_system_raft.go; vault/raft.go raftSnapshotRestoreCallback; vault/core.go "marked as sealed").
 */
const RESTORE_FAILED =
    /error while restoring raft snapshot|raft snapshot restore failed|failed to perform key upgrades, sealing|failed to perform TLS key upgrades|not applying snapshot|cluster setup failed|marked as sealed/;

/**
 * What the vault container's log says of the restore that came after the first `marksBefore` restore starts in
 * `lines`: finished, failed (with Vault's line), or not yet known.
 */
export function restoreOutcome(lines: string[], marksBefore: number): "applied" | { failed: string } | undefined {
    const starts = lines.flatMap((l, i) => (RESTORE_STARTED.test(l) ? [i] : []));
    if (starts.length <= marksBefore) return undefined;
    for (const line of lines.slice(starts[marksBefore] + 1)) {
        if (RESTORE_FAILED.test(line)) return { failed: line.replace(/^\S+\s+/, "").trim() };
        if (RESTORE_FINISHED.test(line)) return "applied";
    }
    return undefined;
}

/**
 * After a forced restore, a sealed Vault process still counts unseal shares against the seal configuration it cached
 * before (vault/seal.go defaultSeal.BarrierConfig keeps d.config once read; vault/core.go getUnsealKey combines as
 * soon as it has that many parts; hashicorp/vault#24975, #13416): with a lower cached threshold it combines too few
 * shares ("invalid key"), with a higher one it waits for shares that do not exist. Submitting more shares does not
 * help the first case. Only a new process reads the configuration from storage, the snapshot's. So a sealed pod whose
 * reported threshold is not the snapshot's, or any sealed pod when the backup does not record its threshold, is
 * restarted; deleting a sealed pod costs nothing, it serves nothing.
 */
export function needsRestartAfterForcedRestore(status: Pick<SealStatus, "sealed" | "t">, snapshotThreshold: number | undefined): boolean {
    return status.sealed && (snapshotThreshold === undefined || status.t !== snapshotThreshold);
}

/**
 * Uploads the snapshot into the pod (runner/vaultScripts.ts STAGED_SNAPSHOT_FILE) until the pod holds exactly the saved bytes:
 * an upload changes nothing in Vault, so one that failed on the way is simply repeated.
 */
async function stageSnapshot(ctx: StepContext, pod: string, file: string, description: SnapshotDescription): Promise<void> {
    let last = "";
    const stopProgress = reportProgress(ctx, "snapshot uploaded so far");
    try {
        await pollUntil(
            ctx,
            `the snapshot to be uploaded to ${pod}`,
            async () => {
                try {
                    await ctx.ops.stageSnapshot(pod, file);
                    const staged = await ctx.ops.stagedSnapshot(pod);
                    if (staged?.bytes === description.bytes && staged.sha256 === description.sha256) return true;
                    last = staged ? `${pod} received ${staged.bytes} of ${description.bytes} bytes or other content; uploading again` : `no upload in ${pod}`;
                    return undefined;
                } catch (err) {
                    if (err instanceof VaultRefused) throw new StepError(`could not upload the snapshot to ${pod} (${err.message}); nothing was restored`);
                    last = (err as Error).message;
                    throw err;
                }
            },
            () => last,
        );
    } finally {
        stopProgress();
    }
    ctx.log(`uploaded ${description.bytes} bytes to ${pod} (size and SHA-256 checked there)`);
}

/**
 * A forced restore replaces the keyring on every node that is unsealed and follows the leader; a node sealed at that
 * moment takes no part, and would later refuse the snapshot's keys. So every pod must be unsealed first.
 */
async function requireAllUnsealed(ctx: StepContext, names: string[]): Promise<void> {
    const sealed: string[] = [];
    for (const name of names) if ((await waitForApi(ctx, name)).sealed) sealed.push(name);
    if (sealed.length) {
        throw new StepError(
            `${sealed.join(", ")} ${sealed.length > 1 ? "are" : "is"} sealed: a forced restore needs every pod unsealed, or the sealed ones ` +
                `miss the snapshot's keyring. Nothing was restored. Run npm run up (it unseals every pod), then the restore again`,
        );
    }
}

/**
 * Vault took the snapshot in, not only the CLI: its restore goroutine logged its start on `pod`, or (the log out of
 * this user's sight) the node's status moved (sealed, or a new active term). Before this, nothing may assume the
 * cluster's data or keys changed.
 */
async function restoreStarted(ctx: StepContext, pod: string, since: Date, marksBefore: number, before: SealStatus | undefined): Promise<void> {
    const deadline = ctx.clock.now() + 60_000;
    for (;;) {
        // A log read whose answer was lost is asked again at the next turn.
        const lines = await readLog(ctx, pod, since).catch((err) => {
            if (err instanceof VaultUnavailable) return null;
            throw err;
        });
        if (lines && lines.filter((l) => RESTORE_STARTED.test(l)).length > marksBefore) return;
        if (lines === undefined) {
            const now = await ctx.ops.status(pod).catch(() => undefined);
            if (now && (now.sealed || (now.activeTime ?? 0) > (before?.activeTime ?? 0))) return;
        }
        if (ctx.clock.now() >= deadline) {
            throw new StepError(
                `Vault on ${pod} did not start applying the snapshot within 60s (no "shutting down prior to restoring snapshot" in its log): ` +
                    `nothing was restored, and the keys did not change. Run the restore again`,
            );
        }
        await ctx.clock.sleep(ctx.pollMs);
    }
}

/** The log lines of `pod` since `since`, or undefined when this user may not read them (kubectl logs refused). */
async function readLog(ctx: StepContext, pod: string, since: Date): Promise<string[] | undefined> {
    try {
        return await ctx.ops.restoreLog(pod, since);
    } catch (err) {
        if (err instanceof VaultRefused) return undefined;
        throw err;
    }
}

/** How many upload-and-restore attempts a restore makes when the leadership moves away from the pod meanwhile. */
const RESTORE_ATTEMPTS = 3;

export async function restoreSnapshot(ctx: StepContext, o: RestoreOptions): Promise<{ forced: boolean; keys: VaultKeys }> {
    // Before anything is touched: the file is whole and the keys that open it are there.
    const { description, keys } = verifyBackup(o.file);
    ctx.onSecret?.(...keys.unsealKeys, ...(keys.recoveryKeys ?? []), keys.rootToken);
    const names = podNames(o.release, o.replicas);
    let pod = "";
    let status: SealStatus | undefined;
    let forced: boolean;
    let since = new Date(0);
    let marksBefore = 0;
    for (let attempt = 1; ; attempt++) {
        ({ pod, status } = await activeNode(ctx, names));
        forced = !status.clusterId || status.clusterId !== description.clusterId;
        if (attempt === 1) {
            ctx.log(
                forced
                    ? `the running cluster (${status.clusterId ?? "unknown id"}) is not the one the snapshot came from (${description.clusterId}): restoring with -force; afterwards it opens only with the snapshot's keys`
                    : `restoring onto the cluster the snapshot came from (${description.clusterId})`,
            );
        }
        if (forced && o.forcedRefusal) throw new BackupError(`${o.forcedRefusal}. Nothing was restored`);
        if (forced) await requireAllUnsealed(ctx, names);
        await stageSnapshot(ctx, pod, o.file, description);
        // Restores this log already shows (a margin back, for clock skew) are not this one.
        since = new Date(ctx.clock.now() - LOG_MARGIN_MS);
        const logBefore = await retrying(ctx, `${pod}'s log to be read`, () => readLog(ctx, pod, since));
        marksBefore = (logBefore ?? []).filter((l) => RESTORE_STARTED.test(l)).length;
        let sent: "sent" | "not-active";
        try {
            sent = await ctx.ops.restoreStagedSnapshot(pod, o.currentToken, forced);
        } catch (err) {
            // Vault answered (or nothing reached it): the handler refuses before the restore starts.
            if (err instanceof VaultRefused) throw new StepError(`Vault refused the snapshot (${err.message}); nothing was restored`);
            // Not repeated: a restore whose answer was lost may have been accepted, and a second one would act on what
            // the first changed. Say so, with how to tell.
            throw new StepError(
                `the restore's answer was lost (${(err as Error).message}): Vault may or may not have accepted the snapshot. ` +
                    `Check with vault status in a pod (cluster id ${description.clusterId}, or sealed, means it was accepted` +
                    `${forced ? ": then unseal with the keys in the .keys.json beside the snapshot" : ""}), or run the restore again`,
            );
        } finally {
            // The script removes it whatever happens; this covers a script that was killed.
            await ctx.ops.dropStagedSnapshot(pod).catch(() => undefined);
        }
        if (sent === "sent") break;
        if (attempt >= RESTORE_ATTEMPTS) {
            throw new StepError(`the active Vault node changed during each of ${RESTORE_ATTEMPTS} uploads; nothing was restored. Run the restore again`);
        }
        ctx.log(`${pod} stopped being the active node during the upload; nothing was restored. Uploading to the new active node`);
    }
    await restoreStarted(ctx, pod, since, marksBefore, status);
    ctx.log(`snapshot ${path.basename(o.file)} accepted; Vault applies it in the background`);
    if (!forced) {
        // Done when Vault's restore goroutine is: raft's index moves when the data is in, but postUnseal (mounts,
        // tokens, leases) comes after it, and can still fail and seal the node.
        let last = "";
        const outcome = await pollUntil(
            ctx,
            `Vault on ${pod} to finish applying the snapshot ("post-unseal setup complete" in its log)`,
            async () => {
                const lines = await readLog(ctx, pod, since);
                const seen = lines ? restoreOutcome(lines, marksBefore) : undefined;
                if (seen) return seen;
                const now = await ctx.ops.status(pod);
                last = now.sealed ? `${pod} is sealed` : `${pod} is still applying it`;
                if (now.sealed) return { failed: `${pod} sealed itself` };
                // Without the log (this user may not read it): Vault holds its state lock through the whole restore, so
                // `vault status` answers again only after it, and postUnseal starts a new active term.
                if (!lines && now.isSelf && (now.activeTime ?? 0) > (status?.activeTime ?? 0)) return "applied" as const;
                return undefined;
            },
            () => last,
        );
        if (outcome !== "applied") {
            throw new StepError(
                `Vault accepted the snapshot but could not finish applying it on ${pod} (${outcome.failed}); Vault seals a node in that state. ` +
                    `The data may be partly restored: unseal the pods (npm run up) and restore the same snapshot again`,
            );
        }
        ctx.log("snapshot applied");
        return { forced, keys };
    }
    // From here the cluster opens only with the snapshot's keys: the caller records them before anything else can
    // fail, so that the stack never points at keys that no longer open it.
    await o.onForced?.(keys, description.threshold);
    // Applying another cluster's keyring seals every node (the key upgrade fails: vault/raft.go
    // raftSnapshotRestoreCallback). Only once each pod is sealed, or already unsealed under the snapshot's cluster id,
    // are the keys submitted.
    let last = "";
    await pollUntil(
        ctx,
        "every Vault pod to have applied the snapshot (sealed, as Vault does after taking over another cluster's keyring)",
        async () => {
            const all = await Promise.all(names.map((n) => ctx.ops.status(n)));
            last = all.map((st, i) => `${names[i]} ${st.sealed ? "sealed" : `unsealed (${st.clusterId ?? "?"})`}`).join(", ");
            return all.every((st) => st.sealed || st.clusterId === description.clusterId) ? true : undefined;
        },
        () => last,
    );
    for (const name of names) {
        let now = await waitForApi(ctx, name);
        if (needsRestartAfterForcedRestore(now, description.threshold)) {
            ctx.log(
                `${name} is sealed and still counts unseal shares against the seal configuration it held before the restore ` +
                    `(threshold ${now.t}${description.threshold ? `, the snapshot's is ${description.threshold}` : ""}): restarting it, so that it reads the snapshot's`,
            );
            await recreatePod(ctx, name, "after its restart (a new process reads the seal configuration anew)");
            now = await waitForApi(ctx, name);
        }
        await unsealFrom(ctx, name, now, keys.unsealKeys, now.t > 0 ? now.t : (description.threshold ?? o.keyThreshold));
    }
    const active = await activeNode(ctx, names);
    if (active.status.clusterId && active.status.clusterId !== description.clusterId) {
        throw new StepError(`after the restore the cluster reports id ${active.status.clusterId}, not the snapshot's ${description.clusterId}`);
    }
    ctx.log("every pod is unsealed with the snapshot's keys");
    return { forced, keys };
}

export { BackupError };
