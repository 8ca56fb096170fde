/**
 * init: initialise the leader, once, with the answer on disk before anything else happens to it.
 */
import type { StepResults, VaultKeys } from "../../steps/contract";
import { podNames } from "../../vault/names";
import { readKeyFile, retireKeyFile, writeKeyFile } from "../keyFile";
import { pollUntil, StepError } from "../poll";
import { Handler, withVault } from "../runtime";
import { InitResponse, VaultRefused } from "../vaultOps";
import { StepContext, waitForApi } from "./context";

export interface InitParams {
    leader: string;
    shares: number;
    threshold: number;
    keyFile: string;
    /** Keys handed in through config (vault-ha:unsealKeys / vault-ha:rootToken) for an already initialised Vault. */
    adopted?: VaultKeys;
}

export type InitResult = StepResults["init"];

const toKeys = (r: InitResponse): VaultKeys => ({ unsealKeys: r.unseal_keys_b64, rootToken: r.root_token });

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
                    `To initialise a new cluster, remove them: pulumi config rm vault-ha:unsealKeys && pulumi config rm vault-ha:rootToken`,
            );
        }
        ctx.log(`${p.leader} is initialised; using the unseal keys and root token from config (adoption)`);
        return { ...p.adopted, source: "config" };
    }

    const saved = readKeyFile(p.keyFile);
    if (status.initialized) {
        if (!saved) {
            throw new StepError(
                `${p.leader} is already initialised, but vault-ha has no unseal keys for it (no ${p.keyFile}, no vault-ha:unsealKeys in config). ` +
                    `It will not initialise again over existing data. If you have the keys, hand them in and run pulumi up again: ` +
                    `pulumi config set --secret vault-ha:unsealKeys '["<key 1>","<key 2>","<key 3>"]' && pulumi config set --secret vault-ha:rootToken <root token>. ` +
                    `If the data is disposable, start over: npm run down && npm run up`,
            );
        }
        if (saved.unseal_keys_b64.length !== p.shares) {
            ctx.log(
                `note: Vault was initialised with ${saved.unseal_keys_b64.length} key shares, config now says ${p.shares}; vault-ha does not rekey (use vault operator rekey)`,
            );
        }
        ctx.log(`${p.leader} is initialised; reusing the unseal keys saved in ${p.keyFile}`);
        return { ...toKeys(saved), source: "key-file" };
    }

    if (saved) {
        const aside = retireKeyFile(p.keyFile);
        ctx.log(`found keys of an earlier cluster in ${p.keyFile}, but ${p.leader} is not initialised: moved them to ${aside}`);
    }
    const response = await pollUntil(
        ctx,
        `${p.leader} to answer vault operator init`,
        async () => {
            try {
                return await ctx.ops.init(p.leader, p.shares, p.threshold);
            } catch (err) {
                if (err instanceof VaultRefused) throw new StepError(`Vault refused to initialise: ${err.message}`);
                // The request may have reached Vault even though no answer came back. Initialising again would fail
                // anyway ("already initialized"); what matters is to say that the keys went with the lost answer.
                const now = await ctx.ops.status(p.leader);
                if (now.initialized) {
                    throw new StepError(
                        `${p.leader} was initialised, but its answer (the unseal keys) was lost on the way: ${(err as Error).message}. ` +
                            `Without the keys this Vault can never be unsealed; its data is new and empty, so start over: npm run down && npm run up`,
                    );
                }
                throw err;
            }
        },
        () => "",
    );
    ctx.onSecret?.(...response.unseal_keys_b64, response.root_token);
    // Nothing happens to the keys before they are safely on disk.
    try {
        writeKeyFile(p.keyFile, response);
        ctx.log(`initialised ${p.leader} (${p.shares} key shares, threshold ${p.threshold}); keys saved to ${p.keyFile} (mode 0600)`);
    } catch (err) {
        // Failing now would lose the keys for certain. Succeeding hands them to Pulumi, which keeps them, encrypted,
        // in the state (this step's stdout is a secret output that is never logged).
        ctx.log(
            `WARNING: initialised ${p.leader} but could not save the keys to ${p.keyFile} (${(err as Error).message}). ` +
                `They are kept only in the Pulumi state: back them up now with pulumi stack output unsealKeys --show-secrets`,
        );
    }
    return { ...toKeys(response), source: "vault-init" };
}

export const initStep: Handler<"init"> = (p, secrets, ctx) =>
    withVault(ctx, secrets.kubeconfig, p, (vault) => {
        const adopted = secrets.unsealKeys?.length && secrets.rootToken ? { unsealKeys: secrets.unsealKeys, rootToken: secrets.rootToken } : undefined;
        return initLeader(vault, { leader: podNames(p.release, 1)[0], shares: p.keyShares, threshold: p.keyThreshold, keyFile: p.keyFile, adopted });
    });
