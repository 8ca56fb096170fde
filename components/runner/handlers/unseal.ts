/**
 * unseal: submit the threshold of key shares to a sealed Vault and wait until it reports unsealed. The join step
 * (join.ts) ends with the same unseal for a follower (primitives/unseal.ts).
 */
import type { UnsealOutcome } from "../../stepCommand/contract";
import { StepError } from "../poll";
import { Handler, withVault } from "../runtime";
import { StepContext, waitForApi } from "../primitives/context";
import { replaceIfStuck } from "../primitives/podReplacement";
import { unsealFrom } from "../primitives/unseal";

export type { UnsealOutcome };

/** Step 3: unseal an initialised pod (the leader), or do nothing if it already is. */
export async function unsealPod(ctx: StepContext, pod: string, keys: string[], threshold: number): Promise<UnsealOutcome> {
    await replaceIfStuck(ctx, pod);
    const status = await waitForApi(ctx, pod);
    if (!status.initialized) throw new StepError(`${pod} is not initialised; the init step must run first`);
    return unsealFrom(ctx, pod, status, keys, threshold);
}

export const unsealStep: Handler<"unseal"> = (p, secrets, ctx) =>
    withVault(ctx, secrets.kubeconfig, p, async (vault) => ({ pod: p.pod, result: await unsealPod(vault, p.pod, secrets.unsealKeys, p.keyThreshold) }));
