/**
 * Taking and restoring raft snapshots, with the keys that open them (see backupFiles.ts for what is on disk).
 *
 * - Save: `vault operator raft snapshot save` on the active node, streamed through `kubectl exec` into a 0600 file
 *   (no copy in the pod), then its checksum, the cluster's id and the keys beside it. Older backups beyond `keep` go.
 * - Restore: everything is checked first (checksum, size, keys). Onto the cluster the snapshot came from (same
 *   `cluster_id`) it is a plain restore; onto another cluster (a rebuilt one) it is `-force`, after which the cluster
 *   opens only with the snapshot's keys: every pod is unsealed with them here, and the caller hands them to the Pulumi
 *   state (the adoption settings vault-ha:unsealKeys / vault-ha:rootToken).
 */
import * as fs from "fs";
import * as path from "path";
import { pollUntil, StepError } from "../runner/poll";
import { StepContext, waitForApi } from "../runner/steps/context";
import { unsealFrom } from "../runner/steps/unseal";
import { SealStatus, VaultRefused, VaultUnavailable } from "../runner/vaultOps";
import type { VaultKeys } from "../steps/contract";
import { podNames } from "../vault/names";
import { BackupError, backupPaths, ensureBackupFolder, newSnapshotFile, pruneBackups, recordBackup, SnapshotDescription, verifyBackup } from "./backupFiles";

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
}

export async function takeSnapshot(ctx: StepContext, o: SnapshotOptions): Promise<{ file: string; description: SnapshotDescription }> {
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
    });
    ctx.log(`saved ${description.bytes} bytes in ${Math.round((ctx.clock.now() - started) / 1000)}s, sha256 ${description.sha256}, with the keys that open it`);
    const removed = pruneBackups(o.folder, o.keep);
    if (removed.length) ctx.log(`removed older backups beyond the newest ${o.keep}: ${removed.join(", ")}`);
    return { file, description };
}

export interface RestoreOptions {
    release: string;
    replicas: number;
    file: string;
    /** The running cluster's root token (from the state): it authorises the restore. */
    currentToken: string;
    keyThreshold: number;
    /** Called as soon as Vault accepted a -force restore: the cluster opens only with these keys from then on. */
    onForced?: (keys: VaultKeys) => void | Promise<void>;
}

export async function restoreSnapshot(ctx: StepContext, o: RestoreOptions): Promise<{ forced: boolean; keys: VaultKeys }> {
    // Before anything is touched: the file is whole and the keys that open it are there.
    const { description, keys } = verifyBackup(o.file);
    ctx.onSecret?.(...keys.unsealKeys, keys.rootToken);
    const names = podNames(o.release, o.replicas);
    const { pod, status } = await activeNode(ctx, names);
    const forced = !status.clusterId || status.clusterId !== description.clusterId;
    ctx.log(
        forced
            ? `the running cluster (${status.clusterId ?? "unknown id"}) is not the one the snapshot came from (${description.clusterId}): restoring with -force; afterwards it opens only with the snapshot's keys`
            : `restoring onto the cluster the snapshot came from (${description.clusterId})`,
    );
    const before = status.raftCommittedIndex ?? 0;
    const stopProgress = reportProgress(ctx, "snapshot sent so far");
    try {
        await ctx.ops.restoreSnapshot(pod, o.currentToken, o.file, forced);
        stopProgress();
    } catch (err) {
        stopProgress();
        if (err instanceof VaultRefused) throw new StepError(`Vault refused the snapshot (${err.message}); nothing was restored`);
        // Not repeated: a restore whose answer was lost may have been accepted, and a second one would act on what
        // the first changed. Say so, with how to tell.
        throw new StepError(
            `the restore's answer was lost (${(err as Error).message}): Vault may or may not have accepted the snapshot. ` +
                `Check with vault status in a pod (cluster id ${description.clusterId}, or sealed, means it was accepted` +
                `${forced ? ": then unseal with the keys in the .keys.json beside the snapshot" : ""}), or run the restore again`,
        );
    }
    ctx.log(`snapshot ${path.basename(o.file)} accepted; Vault applies it in the background`);
    if (!forced) {
        // Applied once raft's log moves past where it was (the restore is a raft operation).
        await pollUntil(
            ctx,
            "Vault to apply the snapshot",
            async () => {
                const now = await ctx.ops.status(pod);
                return !now.sealed && (now.raftCommittedIndex ?? 0) > before ? true : undefined;
            },
            () => "",
        );
        ctx.log("snapshot applied");
        return { forced, keys };
    }
    // From here the cluster opens only with the snapshot's keys: the caller records them before anything else can
    // fail, so that the stack never points at keys that no longer open it.
    await o.onForced?.(keys);
    // Applying another cluster's keyring seals every node (the key upgrade fails: vault/core.go performKeyUpgrades).
    // Only once each pod is sealed, or already unsealed under the snapshot's cluster id, are the keys submitted.
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
        const now = await waitForApi(ctx, name);
        // Vault reports the old cluster's threshold until it restarts (hashicorp/vault#24975): the snapshot's wins.
        const threshold = description.threshold ?? o.keyThreshold;
        await unsealFrom(ctx, name, { ...now, t: threshold }, keys.unsealKeys, threshold);
    }
    const active = await activeNode(ctx, names);
    if (active.status.clusterId && active.status.clusterId !== description.clusterId) {
        throw new StepError(`after the restore the cluster reports id ${active.status.clusterId}, not the snapshot's ${description.clusterId}`);
    }
    ctx.log("every pod is unsealed with the snapshot's keys");
    return { forced, keys };
}

export { BackupError };
