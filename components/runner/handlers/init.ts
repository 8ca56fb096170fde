/**
 * init: initialise the leader, once, with the answer on disk before anything else happens to it.
 */
import type { StepResults, VaultKeys } from "../../stepCommand/contract";
import { podNames } from "../../vault/names";
import { shellFixes } from "../../config/configProblems";
import { handInKeys, readKeyFile, retireKeyFile, writeKeyFile } from "../keyFile";
import { pollUntil, StepError } from "../poll";
import { Handler, withVault } from "../runtime";
import { InitResponse, VaultRefused } from "../vaultOps";
import { StepContext, waitForApi } from "../primitives/context";
import { autoSealOf } from "../primitives/autoUnseal";

export interface InitParams {
    leader: string;
    shares: number;
    threshold: number;
    keyFile: string;
    /** Keys handed in through config (vault-ha:unsealKeys / vault-ha:rootToken) for an already initialised Vault. */
    adopted?: VaultKeys;
    /** The other pods of the release: none of them may hold raft data when the leader is initialised. */
    others?: string[];
    /**
     * The seal opens itself (an auto seal): init makes recovery keys (shares/threshold are theirs), and keys handed in
     * through config are recovery keys.
     */
    recovery?: boolean;
}

export type InitResult = StepResults["init"];

/** Vault's answer as the step's keys: with an auto seal no unseal keys, and the recovery keys besides. */
export const toKeys = (r: InitResponse): VaultKeys => ({
    unsealKeys: r.unseal_keys_b64 ?? [],
    rootToken: r.root_token,
    ...(r.recovery_keys_b64?.length ? { recoveryKeys: r.recovery_keys_b64 } : {}),
});

/** The key shares an init answer holds: the unseal keys, or with an auto seal the recovery keys. */
export const sharesOf = (r: InitResponse): string[] => (r.unseal_keys_b64?.length ? r.unseal_keys_b64 : (r.recovery_keys_b64 ?? []));

/**
 * Step 2: initialise the leader, once. The response is on disk before anything else happens to it; a re-run reuses
 * it. An initialised Vault without known keys is a stop, never a re-init over its data.
 */
export async function initLeader(ctx: StepContext, p: InitParams): Promise<InitResult> {
    const status = await waitForApi(ctx, p.leader);

    if (p.adopted) {
        if (!status.initialized) {
            throw new StepError(
                `vault-ha:unsealKeys and vault-ha:rootToken are set, but ${p.leader} is not initialised, so they cannot belong to this cluster. ` +
                    `To initialise a new cluster, remove them: ${shellFixes().rm("unsealKeys")} && ${shellFixes().rm("rootToken")}`,
            );
        }
        if (p.recovery) {
            // An auto-sealed Vault has no unseal keys: what config calls unsealKeys are its recovery keys.
            ctx.log(`${p.leader} is initialised; using the recovery keys (vault-ha:unsealKeys) and root token from config (adoption)`);
            return { unsealKeys: [], recoveryKeys: p.adopted.unsealKeys, rootToken: p.adopted.rootToken, source: "config" };
        }
        ctx.log(`${p.leader} is initialised; using the unseal keys and root token from config (adoption)`);
        return { ...p.adopted, source: "config" };
    }

    const saved = readKeyFile(p.keyFile);
    if (status.initialized) {
        if (saved) {
            const kind = saved.unseal_keys_b64.length ? "unseal" : "recovery";
            if (sharesOf(saved).length !== p.shares) {
                ctx.log(
                    `note: Vault was initialised with ${sharesOf(saved).length} ${kind} key shares, config now says ${p.shares}; vault-ha does not rekey (use vault operator rekey${kind === "recovery" ? " -target=recovery" : ""})`,
                );
            }
            ctx.log(`${p.leader} is initialised; reusing the ${kind} keys saved in ${p.keyFile}`);
            // A copy that an earlier run could not remove from the pod is not needed any more.
            await ctx.ops.dropStagedInit(p.leader).catch(() => undefined);
            return { ...toKeys(saved), source: "key-file" };
        }
        // An earlier run may have died between Vault's answer and the key file: the answer then waits in the pod.
        const staged = await pollUntil(
            ctx,
            `${p.leader} to answer (reading a staged init answer)`,
            async () => ({ answer: await ctx.ops.takeStagedInit(p.leader) }),
            () => "",
        );
        if (staged.answer) {
            ctx.log(`${p.leader} is initialised, and an interrupted run left Vault's answer in the pod: taking the keys from there`);
            return { ...(await keep(ctx, p, staged.answer)), source: "pod-staging" };
        }
        throw new StepError(
            `${p.leader} is already initialised, but vault-ha has no unseal keys for it (no ${p.keyFile}, no vault-ha:unsealKeys in config). ` +
                `It will not initialise again over existing data. If you have the keys (an earlier up of this stack keeps them: ` +
                `pulumi stack output unsealKeys --show-secrets and rootToken --show-secrets), hand them in and run pulumi up again: ` +
                `${handInKeys()}. ` +
                `If the data is disposable, start over: npm run down && npm run up`,
        );
    }

    await refuseSecondCluster(ctx, p);
    if (saved) {
        const aside = retireKeyFile(p.keyFile);
        ctx.log(`found keys of an earlier cluster in ${p.keyFile}, but ${p.leader} is not initialised: moved them to ${aside}`);
    }
    const response = await pollUntil(
        ctx,
        `${p.leader} to answer vault operator init`,
        async () => {
            try {
                return await ctx.ops.init(p.leader, p.shares, p.threshold, p.recovery);
            } catch (err) {
                if (err instanceof VaultRefused) throw new StepError(`Vault refused to initialise: ${err.message}`);
                // The request may have reached Vault even though no answer came back: then the answer is staged in
                // the pod. Initialising again would fail anyway ("already initialized").
                const now = await ctx.ops.status(p.leader);
                if (!now.initialized) throw err;
                // Vault reports initialised a moment before its answer is in the file: give the write a little time.
                const staged = await takeStagedWithin(ctx, p.leader, 30_000);
                if (staged) {
                    ctx.log(`the answer of vault operator init was lost on the way (${(err as Error).message}); took it from the pod instead`);
                    return staged;
                }
                throw new StepError(
                    `${p.leader} was initialised, but its answer (the unseal keys) was lost on the way: ${(err as Error).message}. ` +
                        `Without the keys this Vault can never be unsealed; its data is new and empty, so start over: npm run down && npm run up`,
                );
            }
        },
        () => "",
    );
    const keys = await keep(ctx, p, response);
    ctx.log(
        p.recovery
            ? `initialised ${p.leader} (${p.shares} recovery key shares, threshold ${p.threshold}); its seal opens it, no unseal keys exist`
            : `initialised ${p.leader} (${p.shares} key shares, threshold ${p.threshold})`,
    );
    return { ...keys, source: "vault-init" };
}

/** Polls the pod for a whole staged answer, up to `ms`. */
async function takeStagedWithin(ctx: StepContext, pod: string, ms: number): Promise<InitResponse | undefined> {
    try {
        return await pollUntil(
            { ...ctx, timeoutMs: Math.min(ms, ctx.timeoutMs) },
            `Vault's init answer staged in ${pod}`,
            () => ctx.ops.takeStagedInit(pod),
            () => "",
        );
    } catch (err) {
        if (err instanceof StepError) return undefined;
        throw err;
    }
}

/**
 * Keeps Vault's init answer: on disk first (0600), then the copy staged in the pod goes. If the file cannot be
 * written, the step still succeeds, so that the keys reach the encrypted Pulumi state, and the pod's copy stays.
 */
async function keep(ctx: StepContext, p: InitParams, response: InitResponse): Promise<VaultKeys> {
    ctx.onSecret?.(...(response.unseal_keys_b64 ?? []), ...(response.recovery_keys_b64 ?? []), response.root_token);
    try {
        writeKeyFile(p.keyFile, response);
    } catch (err) {
        ctx.log(
            `WARNING: initialised ${p.leader} but could not save the keys to ${p.keyFile} (${(err as Error).message}). ` +
                `They are kept only in the Pulumi state: back them up now with pulumi stack output ${p.recovery ? "recoveryKeys" : "unsealKeys"} --show-secrets`,
        );
        return toKeys(response);
    }
    ctx.log(`keys saved to ${p.keyFile} (mode 0600)`);
    try {
        await ctx.ops.dropStagedInit(p.leader);
    } catch (err) {
        ctx.log(`note: could not remove the staged copy of the keys in ${p.leader} (${(err as Error).message}); the verify step removes it`);
    }
    return toKeys(response);
}

/**
 * The leader has no raft data, but another pod of the release has (its volume was wiped while the rest of the cluster
 * lives on the others, e.g. after Vault marked it removed): initialising it would start a second cluster beside the
 * first, with new keys. Only pods that answer are asked; one that does not yet cannot hold a serving cluster alone.
 */
async function refuseSecondCluster(ctx: StepContext, p: InitParams): Promise<void> {
    for (const pod of p.others ?? []) {
        const status = await ctx.ops.status(pod).catch(() => undefined);
        if (status?.initialized) {
            throw new StepError(
                `${p.leader} has no raft data, but ${pod} has: the cluster lives on the other pods, and initialising ${p.leader} would ` +
                    `start a second one with new keys. Nothing was initialised. Keep the cluster: unseal the other pods with its keys, ` +
                    `save a snapshot from its active node (npm run snapshot), then rebuild (pulumi destroy, pulumi up) and restore it ` +
                    `(npm run restore -- <the snapshot>); or, if its data is disposable, start over (npm run down && npm run up)`,
            );
        }
    }
}

export const initStep: Handler<"init"> = (p, secrets, ctx) =>
    withVault(ctx, secrets.kubeconfig, p, (vault) => {
        const adopted = secrets.unsealKeys?.length && secrets.rootToken ? { unsealKeys: secrets.unsealKeys, rootToken: secrets.rootToken } : undefined;
        const [leader, ...others] = podNames(p.release, p.replicas);
        const recovery = autoSealOf(p) !== undefined;
        return initLeader(vault, { leader, others, shares: p.keyShares, threshold: p.keyThreshold, keyFile: p.keyFile, adopted, recovery });
    });
