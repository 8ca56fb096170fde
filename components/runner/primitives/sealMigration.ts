/**
 * The roll's seal migrations (docs concepts/seal#seal-migration, "Migration post Vault 1.5.1"), both ways: the roll
 * replaces the pods in its usual order, standbys first and the active node last after a step-down. Each replaced pod
 * starts with a configuration whose seal differs from the one storage holds, so it is in migration mode and is
 * unsealed with the keys and migrate (unseal.ts):
 * - Shamir -> auto: the auto seal in the configuration, the Shamir unseal keys sent with migrate;
 * - auto -> Shamir: the old seal in the configuration with `disabled = "true"`, the recovery keys sent with migrate.
 * The first migrated node to become active performs the migration (vault/core.go migrateSeal: to an auto seal the
 * Shamir key becomes the recovery key; back to Shamir the recovery key becomes the Shamir key; same shares and
 * threshold either way; it logs "seal migration complete"). Here: telling that a migration is due, waiting for the new
 * active node to have completed it before the old active pod goes, and recording in the key file what the keys are
 * afterwards.
 */
import { KeyFileContent, readKeyFile, writeKeyFile } from "../keyFile";
import { pollUntil, StepError } from "../poll";
import type { InitResponse, SealStatus } from "../vaultOps";
import type { AutoSeal } from "./autoUnseal";
import { isAutoSealed, lastMatch } from "./autoUnseal";
import type { StepContext } from "./context";
import { sealStatuses } from "./raftHealth";

/** A seal migration the roll may have to do: toward the stack's auto seal, or off the one it retires, to Shamir. */
export interface SealMigration {
    toward: "auto" | "shamir";
    /** The auto seal at one end: the stack's seal (toward auto), or the one it moves off (toward Shamir). */
    seal: AutoSeal;
}

/** The migration a step's context asks for; undefined for a Shamir stack that retires no seal. */
export function sealMigrationOf(ctx: Pick<StepContext, "seal" | "retiringSeal">): SealMigration | undefined {
    if (ctx.seal) return { toward: "auto", seal: ctx.seal };
    if (ctx.retiringSeal) return { toward: "shamir", seal: ctx.retiringSeal };
    return undefined;
}

/** "shamir -> awskms", "awskms -> shamir". */
export function migrationWords(m: SealMigration): string {
    return m.toward === "auto" ? `shamir -> ${m.seal.type}` : `${m.seal.type} -> shamir`;
}

/** The seal type storage holds once the migration is done. */
const targetType = (m: SealMigration) => (m.toward === "auto" ? m.seal.type : "shamir");

/**
 * A node of the cluster is still on the old seal, or in migration mode with the migration not done: the roll
 * migrates. Toward an auto seal, a node on Shamir says shamir and no recovery seal. Toward Shamir, a node on the
 * old seal says so (recovery seal, its type), and a node in migration mode says `type: shamir` already, before the
 * migration (its Shamir seal's cached configuration): only `migration` tells (vault/logical_system.go
 * GetSealStatus: IsInSealMigrationMode && !IsSealMigrated).
 */
export function migrationPending(m: SealMigration | undefined, statuses: Iterable<SealStatus | undefined>): boolean {
    if (!m) return false;
    const onOldSeal = (s: SealStatus) => (m.toward === "auto" ? !isAutoSealed(s) : isAutoSealed(s));
    return [...statuses].some((s) => s !== undefined && s.initialized && (s.migration === true || onOldSeal(s)));
}

/** The active node reports the migration done: no migration pending, the target seal's type. */
export function migrated(m: SealMigration, active: SealStatus | undefined): boolean {
    return active !== undefined && !active.sealed && active.isSelf && active.migration !== true && active.type === targetType(m);
}

/**
 * Waits until an active node other than `formerActive` reports the migration done (see migrated), and returns it.
 * The node that became active after the step-down performs it as it takes over (vault/ha.go waitForLeadership calls
 * migrateSeal before the node serves); until then nothing else may go, least of all the former active node.
 */
/** What a node logs when it became active and could not migrate (vault/ha.go, vault/core.go migrateSeal). */
const MIGRATION_FAILED = /seal migration error/;

function migrationFailedError(m: SealMigration, pod: string, line: string): StepError {
    const seal = m.seal;
    return new StepError(
        `${pod} became the active node but could not complete the seal migration ${m.toward === "auto" ? `to ${seal.type}: its seal` : `from ${seal.type} back to Shamir: the seal it moves off`}, ${seal.description}, did not ` +
            `answer. Vault says: "${line.trim()}". Stopped here, before the old active pod is replaced. Make the ` +
            `key reachable from the pods, then run pulumi up again: the roll continues with the ${m.toward === "auto" ? "unseal" : "recovery"} keys. If Vault no longer opens (a ` +
            `migration that failed half-way), restore the snapshot the roll took first (backups/) with the keys beside it`,
    );
}

/**
 * A node that took over but could not migrate (its seal did not answer) logs it and seals itself, and so would the
 * next one (vault/ha.go: migrateSeal's error steps it down): then no wait helps, so this stops the step with the way
 * back. Called while the roll waits for a new active node or for the migration.
 */
export async function stopIfMigrationFailed(ctx: StepContext, m: SealMigration, pods: string[]): Promise<void> {
    for (const name of pods) {
        const lines = await ctx.ops.vaultLog(name, false).catch(() => [] as string[]);
        const latest = [...lines].reverse().find((line) => MIGRATION_FAILED.test(line));
        if (latest === undefined || ctx.earlierMigrationFailures?.get(name) === latest) continue;
        // The whole entry: go-hclog writes the error value on the lines after "seal migration error:".
        throw migrationFailedError(m, name, lastMatch(lines, MIGRATION_FAILED) ?? latest);
    }
}

/**
 * Each pod's last "seal migration error" line as the roll starts (with its time stamp, so a new failure differs):
 * stopIfMigrationFailed then reports only what this run's step-downs caused.
 */
export async function earlierMigrationFailures(ctx: StepContext, pods: string[]): Promise<Map<string, string>> {
    const seen = new Map<string, string>();
    for (const name of pods) {
        const lines = await ctx.ops.vaultLog(name, false).catch(() => [] as string[]);
        const latest = [...lines].reverse().find((line) => MIGRATION_FAILED.test(line));
        if (latest !== undefined) seen.set(name, latest);
    }
    return seen;
}

export async function waitForMigration(ctx: StepContext, m: SealMigration, names: string[], formerActive?: string): Promise<string> {
    let last = "";
    const active = await pollUntil(
        ctx,
        `the new active Vault node to complete the seal migration ${migrationWords(m)} (it logs "seal migration complete"; ` +
            `check that it reaches the ${m.seal.description}, and its log: kubectl logs <pod> -c vault)`,
        async () => {
            const seen = await sealStatuses(ctx, names);
            const now = names.find((n) => n !== formerActive && seen.get(n)?.isSelf && seen.get(n)?.sealed === false);
            const status = now ? seen.get(now) : undefined;
            last = now ? `${now} is active, seal type ${status?.type ?? "unknown"}${status?.migration ? ", migration pending" : ""}` : "no active node";
            if (now && migrated(m, status)) return now;
            await stopIfMigrationFailed(
                ctx,
                m,
                names.filter((n) => n !== formerActive),
            );
            return undefined;
        },
        () => last,
    );
    ctx.log(
        m.toward === "auto"
            ? `${active} completed the seal migration to ${m.seal.type}: the unseal keys are now recovery keys, and the ${m.seal.type} seal opens Vault`
            : `${active} completed the seal migration off ${m.seal.type}: the recovery keys are now the unseal keys, and Vault opens with them (Shamir)`,
    );
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

/**
 * An auto seal's keys as the migrated cluster's keys, after the way back: the recovery key shares are the unseal key
 * shares, with the same count and threshold (vault/core.go migrateSeal: SetShamirSealKey(recoveryKey); migrateSealConfig
 * makes the recovery configuration the barrier configuration), and no recovery keys remain. Undefined when it holds
 * unseal keys already (recorded) or no recovery keys.
 */
export function asShamirKeyFile(saved: KeyFileContent): InitResponse | undefined {
    const recovery = saved.recovery_keys_b64 ?? [];
    if (saved.unseal_keys_b64.length > 0 || recovery.length === 0) return undefined;
    const next: Record<string, unknown> = { ...saved };
    for (const gone of ["saved_at", "recovery_keys_shares", "recovery_keys_threshold"]) delete next[gone];
    const hex = next.recovery_keys_hex;
    if (Array.isArray(hex)) Object.assign(next, { recovery_keys_hex: [], unseal_keys_hex: hex });
    return {
        ...(next as unknown as InitResponse),
        unseal_keys_b64: recovery,
        recovery_keys_b64: [],
        unseal_shares: saved.recovery_keys_shares ?? recovery.length,
        ...(saved.recovery_keys_threshold !== undefined ? { unseal_threshold: saved.recovery_keys_threshold } : {}),
    };
}

/** The key file as the migration leaves it; undefined when it says so already (or holds nothing to move). */
const migratedKeyFile = (m: SealMigration, saved: KeyFileContent) => (m.toward === "auto" ? asMigratedKeyFile(saved) : asShamirKeyFile(saved));

/** The key file still describes the keys as they were before the migration; false without one vault-ha can read. */
export function keyFileBeforeMigration(m: SealMigration, keyFile: string): boolean {
    try {
        const saved = readKeyFile(keyFile);
        return saved !== undefined && migratedKeyFile(m, saved) !== undefined;
    } catch {
        return false;
    }
}

/**
 * Rewrites the key file once the cluster is migrated, so that it says what the keys are now: recovery keys toward an
 * auto seal, unseal keys back on Shamir. The keys themselves stay: writeKeyFile replaces the file atomically
 * (temporary file, fsync, rename), so the file holds the old or the new form at every moment. A key file that cannot
 * be read or written stops nothing (the migration is done); the keys are in the Pulumi state either way, and the
 * message says so.
 */
export function recordMigratedKeys(ctx: StepContext, m: SealMigration, keyFile: string): void {
    const now = m.toward === "auto" ? "recovery keys (recovery_keys_b64" : "unseal keys (unseal_keys_b64";
    try {
        const saved = readKeyFile(keyFile);
        const next = saved ? migratedKeyFile(m, saved) : undefined;
        if (!next) return;
        writeKeyFile(keyFile, next);
        const threshold = m.toward === "auto" ? next.recovery_keys_threshold : next.unseal_threshold;
        ctx.log(`${keyFile} now holds the keys as ${now}, threshold ${threshold ?? "unchanged"})`);
    } catch (err) {
        const output = m.toward === "auto" ? "recoveryKeys" : "unsealKeys";
        ctx.log(
            `WARNING: the seal migration is done, but ${keyFile} could not be rewritten to hold the keys as ${now.replace(" (", ", ")}): ${(err as Error).message}. ` +
                `The keys are unchanged (the same shares, now ${m.toward === "auto" ? "recovery" : "unseal"} keys) and kept in the Pulumi state: pulumi stack output ${output} --show-secrets`,
        );
    }
}
