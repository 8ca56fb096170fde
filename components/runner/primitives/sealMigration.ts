/**
 * The roll's Shamir -> auto seal migration (docs concepts/seal#seal-migration, "Migration post Vault 1.5.1"): the roll
 * replaces the pods in its usual order, standbys first and the active node last after a step-down. Each replaced pod
 * starts with the auto seal in its configuration while the storage still holds the Shamir seal, so it is in migration
 * mode and is unsealed with the Shamir keys and migrate (unseal.ts). The first migrated node to become active performs
 * the migration (vault/core.go migrateSeal: the Shamir key becomes the recovery key, same shares and threshold; the
 * root key is stored under the auto seal; it logs "seal migration complete"). Here: telling that a migration is due,
 * waiting for the new active node to have completed it before the old active pod goes, and recording the keys as
 * recovery keys in the key file afterwards.
 */
import { KeyFileContent, readKeyFile, writeKeyFile } from "../keyFile";
import { pollUntil, StepError } from "../poll";
import type { InitResponse, SealStatus } from "../vaultOps";
import type { AutoSeal } from "./autoUnseal";
import { isAutoSealed } from "./autoUnseal";
import type { StepContext } from "./context";
import { sealStatuses } from "./raftHealth";

/**
 * The stack asks for an auto seal and a node of the cluster still runs on Shamir (its status says shamir and no
 * recovery seal) or is in migration mode: the roll migrates.
 */
export function migrationPending(seal: AutoSeal | undefined, statuses: Iterable<SealStatus | undefined>): boolean {
    if (!seal) return false;
    return [...statuses].some((s) => s !== undefined && s.initialized && (s.migration === true || !isAutoSealed(s)));
}

/** The active node reports the migration to `seal` done: no migration pending, the auto seal's type. */
export function migrated(seal: AutoSeal, active: SealStatus | undefined): boolean {
    return active !== undefined && !active.sealed && active.isSelf && active.migration !== true && active.type === seal.type;
}

/**
 * Waits until an active node other than `formerActive` reports the migration done (see migrated), and returns it.
 * The node that became active after the step-down performs it as it takes over (vault/ha.go waitForLeadership calls
 * migrateSeal before the node serves); until then nothing else may go, least of all the former active node.
 */
/** What a node logs when it became active and could not migrate (vault/ha.go, vault/core.go migrateSeal). */
const MIGRATION_FAILED = /seal migration error/;

function migrationFailedError(seal: AutoSeal, pod: string, line: string): StepError {
    return new StepError(
        `${pod} became the active node but could not complete the seal migration to ${seal.type}: its seal, ${seal.description}, did not ` +
            `answer. Vault says: "${line.replace(/^\S+\s+/, "").trim()}". Stopped here, before the old active pod is replaced. Make the ` +
            `key reachable from the pods, then run pulumi up again: the roll continues with the unseal keys. If Vault no longer opens (a ` +
            `migration that failed half-way), restore the snapshot the roll took first (backups/) with the keys beside it`,
    );
}

/**
 * A node that took over but could not migrate (its seal did not answer) logs it and seals itself, and so would the
 * next one (vault/ha.go: migrateSeal's error steps it down): then no wait helps, so this stops the step with the way
 * back. Called while the roll waits for a new active node or for the migration.
 */
export async function stopIfMigrationFailed(ctx: StepContext, seal: AutoSeal, pods: string[]): Promise<void> {
    for (const name of pods) {
        const lines = await ctx.ops.vaultLog(name, false).catch(() => [] as string[]);
        const failed = [...lines].reverse().find((line) => MIGRATION_FAILED.test(line));
        if (failed) throw migrationFailedError(seal, name, failed);
    }
}

export async function waitForMigration(ctx: StepContext, seal: AutoSeal, names: string[], formerActive?: string): Promise<string> {
    let last = "";
    const active = await pollUntil(
        ctx,
        `the new active Vault node to complete the seal migration shamir -> ${seal.type} (it logs "seal migration complete"; ` +
            `check that it reaches the ${seal.description}, and its log: kubectl logs <pod> -c vault)`,
        async () => {
            const seen = await sealStatuses(ctx, names);
            const now = names.find((n) => n !== formerActive && seen.get(n)?.isSelf && seen.get(n)?.sealed === false);
            const status = now ? seen.get(now) : undefined;
            last = now ? `${now} is active, seal type ${status?.type ?? "unknown"}${status?.migration ? ", migration pending" : ""}` : "no active node";
            if (now && migrated(seal, status)) return now;
            await stopIfMigrationFailed(
                ctx,
                seal,
                names.filter((n) => n !== formerActive),
            );
            return undefined;
        },
        () => last,
    );
    ctx.log(`${active} completed the seal migration to ${seal.type}: the unseal keys are now recovery keys, and the ${seal.type} seal opens Vault`);
    return active;
}

/**
 * A Shamir init's answer as the migrated cluster's keys: the unseal key shares are the recovery key shares, with the
 * same count and threshold (vault/core.go migrateSeal: SetRecoveryKey(unsealKey), the recovery config cloned from
 * the barrier config), and no unseal keys remain. Undefined when it holds no unseal keys (already recorded).
 */
export function asMigratedKeyFile(saved: KeyFileContent): InitResponse | undefined {
    if (saved.unseal_keys_b64.length === 0) return undefined;
    // Everything else of Vault's answer stays as it was (the root token, fields vault-ha does not read).
    const next: Record<string, unknown> = { ...saved };
    // Rewritten by writeKeyFile; the unseal_* counts describe no seal any more.
    for (const gone of ["saved_at", "unseal_shares", "unseal_threshold"]) delete next[gone];
    const hex = next.unseal_keys_hex;
    if (Array.isArray(hex)) Object.assign(next, { unseal_keys_hex: [], recovery_keys_hex: hex });
    return {
        ...(next as unknown as InitResponse),
        unseal_keys_b64: [],
        recovery_keys_b64: saved.unseal_keys_b64,
        recovery_keys_shares: saved.unseal_shares ?? saved.unseal_keys_b64.length,
        ...(saved.unseal_threshold !== undefined ? { recovery_keys_threshold: saved.unseal_threshold } : {}),
    };
}

/** The key file holds unseal keys (a Shamir init's answer); false without one, or one vault-ha cannot read. */
export function holdsUnsealKeys(keyFile: string): boolean {
    try {
        return (readKeyFile(keyFile)?.unseal_keys_b64.length ?? 0) > 0;
    } catch {
        return false;
    }
}

/**
 * Rewrites the key file once the cluster is migrated, so that it says what the keys are now: recovery keys. The keys
 * themselves stay: writeKeyFile replaces the file atomically (temporary file, fsync, rename), so the file holds the
 * old or the new form at every moment. A key file that cannot be read or written stops nothing (the migration is
 * done); the keys are in the Pulumi state either way, and the message says so.
 */
export function recordRecoveryKeys(ctx: StepContext, keyFile: string): void {
    try {
        const saved = readKeyFile(keyFile);
        const next = saved ? asMigratedKeyFile(saved) : undefined;
        if (!next) return;
        writeKeyFile(keyFile, next);
        ctx.log(`${keyFile} now holds the keys as recovery keys (recovery_keys_b64, threshold ${next.recovery_keys_threshold ?? "unchanged"})`);
    } catch (err) {
        ctx.log(
            `WARNING: the seal migration is done, but ${keyFile} could not be rewritten to hold the keys as recovery keys (${(err as Error).message}). ` +
                `The keys are unchanged (the unseal keys are now the recovery keys) and kept in the Pulumi state: pulumi stack output recoveryKeys --show-secrets`,
        );
    }
}
