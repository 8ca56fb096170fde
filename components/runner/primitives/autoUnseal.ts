/**
 * A Vault with an auto seal (awskms, gcpckms, azurekeyvault, transit) opens itself: no key is ever sent to it. Where
 * the Shamir path submits key shares (unseal, join, roll, a restore), the auto path waits until the node reports
 * unsealed, which it does within seconds: `vault server` retries UnsealWithStoredKeys every 5 s until it succeeds
 * (command/server.go runUnseal), and init unseals the node it initialised (http/sys_init.go).
 *
 * A KMS that does not answer is told apart from a slow start, so that the step fails at once, naming the key:
 * - at process start, the seal's SetConfig checks the key (awskms DescribeKey, gcpckms GetCryptoKey, azurekeyvault
 *   GetKey, transit a test Encrypt), and `vault server` exits with "Error parsing Seal configuration: ..."
 *   (command/server.go setSeal): the container restarts, then crash-loops, and its previous log says why;
 * - later (the key found, its decrypt failing), the node runs sealed and logs "failed to unseal core" every 5 s
 *   (runUnseal), or "error unsealing core" on a fatal error.
 * A node that has no stored keys yet logs "failed to unseal core: ... stored unseal keys are supported, but none were
 * found" before init and while a follower's join completes: that is waiting, not a failure.
 */
import type { UnsealOutcome } from "../../stepCommand/contract";
import { SEAL_TYPES, type AutoSealType, isAutoSeal, type SealType } from "../../seal/sealTypes";
import { pollUntil, StepError } from "../poll";
import { SealStatus, VaultRefused, VaultUnavailable } from "../vaultOps";
import type { StepContext } from "./context";

/** The stack's auto seal, as the step's parameters give it. */
export interface AutoSeal {
    type: AutoSealType;
    /** The key and the identity in words (components/seal/sealPlan.ts describe). */
    description: string;
}

/** The auto seal of a step's parameters (VAULT_HA_SEAL, VAULT_HA_SEAL_DESCRIPTION); undefined for Shamir. */
export function autoSealOf(p: { seal?: string; sealDescription?: string }): AutoSeal | undefined {
    if (p.seal === undefined || p.seal === "") return undefined;
    if (!(SEAL_TYPES as readonly string[]).includes(p.seal)) throw new StepError(`unknown seal type "${p.seal}"; one of: ${SEAL_TYPES.join(", ")}`);
    const type = p.seal as SealType;
    return isAutoSeal(type) ? { type, description: p.sealDescription || `the ${type} seal` } : undefined;
}

/**
 * The auto seal a stack is moving off, back to Shamir (VAULT_HA_MIGRATE_FROM_SEAL, with its description): the roll's
 * migration. The stack itself is then Shamir-bound: keys are sent, and this seal only has to answer.
 */
export function retiringSealOf(p: { migrateFromSeal?: string; sealDescription?: string }): AutoSeal | undefined {
    return autoSealOf({ seal: p.migrateFromSeal, sealDescription: p.sealDescription });
}

/** The node's seal opens itself (`recovery_seal`, or a seal type other than shamir): it is never sent a key. */
export function isAutoSealed(status: Pick<SealStatus, "recoverySeal" | "type">): boolean {
    return status.recoverySeal === true || (status.type !== undefined && status.type !== "shamir");
}

/** Vault exited at start because its seal could not be configured (command/server.go setSeal). */
const SEAL_CONFIG_ERROR = /error parsing seal configuration/i;
/** runUnseal's warning and its fatal variant (command/server.go). */
const UNSEAL_FAILED = /failed to unseal core|error unsealing core/;
/** What runUnseal logs while there is nothing to decrypt yet (before init, or a follower's join still completing). */
const NOTHING_STORED_YET = /stored unseal keys are supported, but none were found|not initialized|barrier not initialized/;

const TIME_STAMP = /^\d{4}-\d\d-\d\dT\S+\s+/;
/** How much of Vault's words a message quotes: an Azure error alone is a page. */
const QUOTE_CHARS = 600;

/**
 * The log entry that starts at lines[i], on one line: go-hclog writes a value with newlines on the lines after the
 * entry ("  error=", then "  | ..." each: intlogger.go), and the server's last words before it exits (c.UI.Error) are
 * plain text, also over several lines (an AWS error's "\tstatus code: ..."). The entry ends at the next time stamp.
 */
function entryAt(lines: string[], i: number): string {
    const parts = [lines[i].replace(TIME_STAMP, "")];
    for (let j = i + 1; j < lines.length && !TIME_STAMP.test(lines[j]); j++) parts.push(lines[j].replace(/^\s*\|\s?/, ""));
    const text = parts
        .map((l) => l.trim())
        .filter((l) => l !== "" && !/^[\w.]+=$/.test(l) && !/^-+$/.test(l))
        .join(" ")
        .replace(/\s+/g, " ");
    return text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}...` : text;
}

/** The last log entry that matches `pattern` (and not `unless`), on one line without its time stamp. */
export function lastMatch(lines: string[], pattern: RegExp, unless?: RegExp): string | undefined {
    for (let i = lines.length - 1; i >= 0; i--) {
        if (!pattern.test(lines[i])) continue;
        const entry = entryAt(lines, i);
        if (!(unless && unless.test(entry))) return entry;
    }
    return undefined;
}

/**
 * Vault's own line when the pod's seal cannot reach its key, else undefined: a container that exited and restarts
 * (not running, restartCount above 0 or CrashLoopBackOff) with "Error parsing Seal configuration" in its previous log; or, when
 * `sealedStatus` says the node runs initialised and sealed, "failed to unseal core" with another reason than "no
 * stored keys yet" in its log. A log this user may not read is no diagnosis: the wait goes on.
 */
export async function sealFailure(ctx: StepContext, pod: string, sealedStatus?: SealStatus): Promise<string | undefined> {
    const read = async (previous: boolean) => {
        try {
            return await ctx.ops.vaultLog(pod, previous);
        } catch (err) {
            if (err instanceof VaultRefused || err instanceof VaultUnavailable) return [];
            throw err;
        }
    };
    if (sealedStatus) {
        if (!sealedStatus.initialized || !sealedStatus.sealed) return undefined;
        return lastMatch(await read(false), UNSEAL_FAILED, NOTHING_STORED_YET);
    }
    const info = (await ctx.ops.listPods().catch(() => [])).find((p) => p.name === pod);
    // A container that exited and is restarting, or waits to (CrashLoopBackOff): its last words are in the previous log.
    if (!info || info.running || info.terminating || ((info.restartCount ?? 0) === 0 && !/^CrashLoopBackOff\b/.test(info.reason ?? ""))) return undefined;
    return lastMatch(await read(true), SEAL_CONFIG_ERROR);
}

/** The step's error for a seal that does not answer: the key and identity, Vault's words, and what to check. */
export function sealFailureError(pod: string, seal: AutoSeal | undefined, vaultLine: string): StepError {
    const what = seal ? `its seal, the ${seal.description}` : "its auto seal's key";
    return new StepError(
        `${pod} cannot unseal itself: ${what}, did not answer. Vault says: "${vaultLine}". ` +
            `Check that the key exists and is enabled, that the pod's identity may use it (encrypt, decrypt, and read the key), and that the pod reaches the KMS; ` +
            `Vault retries on its own, then run pulumi up again`,
    );
}

/**
 * A pod that cannot start while the stack moves off its auto seal: Vault configures the disabled seal at every start
 * too (command/server.go setSeal runs each stanza's SetConfig), so until the migration to Shamir is done and the
 * disabled stanza gone, the old key must answer.
 */
export function retiringSealFailureError(pod: string, seal: AutoSeal, vaultLine: string): StepError {
    return new StepError(
        `${pod} cannot start: the seal Vault is moving off, the ${seal.description}, stays in its configuration (disabled) until the migration to ` +
            `Shamir is done, and it did not answer. Vault says: "${vaultLine}". Keep the key, its permissions and the pod's identity until the ` +
            `up that takes the disabled seal out of the configuration has finished; make it reachable, then run pulumi up again`,
    );
}

/**
 * Waits until an initialised, auto-sealed pod reports unsealed, without sending anything; fails at once when its seal
 * cannot reach the key (sealFailure). A node the raft cluster removed is the same stop as on the Shamir path.
 */
/**
 * The pod's seal status; when its Vault does not answer, the seal's failure if its log names one (a crash loop on a
 * KMS that does not answer) as a StepError, else the VaultUnavailable as it was, for the poll to try again.
 * `onUnavailable` gets the message first, for the poll's "last seen".
 */
export async function statusOrSealFailure(ctx: StepContext, pod: string, onUnavailable: (message: string) => void): Promise<SealStatus> {
    try {
        return await ctx.ops.status(pod);
    } catch (err) {
        if (!(err instanceof VaultUnavailable)) throw err;
        onUnavailable(err.message);
        const failure = await sealFailure(ctx, pod);
        if (failure) throw sealFailureError(pod, ctx.seal, failure);
        throw err;
    }
}

export async function waitForSelfUnseal(ctx: StepContext, pod: string, removed: (pod: string) => Error, status?: SealStatus): Promise<UnsealOutcome> {
    if (status && !status.sealed) {
        ctx.log(`${pod} is unsealed (its ${status.type ?? "auto"} seal opens it)`);
        return "already-unsealed";
    }
    let last = "";
    await pollUntil(
        ctx,
        `${pod} to unseal itself through its ${ctx.seal?.type ?? status?.type ?? "auto"} seal (Vault retries every 5 s)`,
        async () => {
            const now = await statusOrSealFailure(ctx, pod, (message) => (last = message));
            if (now.removedFromCluster) throw removed(pod);
            if (!now.sealed) return now;
            last = `sealed${now.initialized ? "" : ", not initialised yet"}`;
            const failure = await sealFailure(ctx, pod, now);
            if (failure) throw sealFailureError(pod, ctx.seal, failure);
            return undefined;
        },
        () => last,
    );
    ctx.log(`${pod} unsealed itself (${ctx.seal?.type ?? status?.type ?? "auto"} seal); no key was sent`);
    return "unsealed";
}
