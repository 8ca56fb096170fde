/**
 * Replacing Vault pods: deleting one and waiting for the StatefulSet's successor, and recognising a pod that waiting
 * does not fix. The StatefulSet uses `updateStrategy: OnDelete` (see steps/roll.ts), so a deleted pod comes back from
 * the update revision.
 */
import { pollUntil, retrying, StepError } from "../poll";
import type { PodInfo, StatefulSetInfo } from "../vaultOps";
import type { StepContext } from "./context";
import { retiringSealFailureError, sealFailure, sealFailureError } from "./autoUnseal";

/** Waiting reasons that waiting does not fix: the image does not exist, or Vault does not start with this template. */
const STUCK = /^(ErrImagePull|ImagePullBackOff|InvalidImageName|CrashLoopBackOff)\b/;

/** The pod waits for a reason that waiting does not fix (see STUCK). */
export function isStuck(reason: string | undefined): boolean {
    return reason !== undefined && STUCK.test(reason);
}

/** The controller has seen the latest spec: its updateRevision is the template the release just applied. */
export async function observedStatefulSet(ctx: StepContext): Promise<StatefulSetInfo> {
    let last = "";
    return pollUntil(
        ctx,
        "the Vault StatefulSet's controller to observe its latest spec",
        async () => {
            const sts = await ctx.ops.statefulSet();
            last = `generation ${sts.generation}, observed ${sts.observedGeneration}`;
            return sts.observedGeneration >= sts.generation && sts.updateRevision ? sts : undefined;
        },
        () => last,
    );
}

/** Deletes `old` and waits until its successor runs the update revision. */
export async function replacePod(ctx: StepContext, old: PodInfo, revision: string): Promise<void> {
    await retrying(ctx, `kubectl to delete ${old.name}`, () => ctx.ops.deletePod(old.name));
    ctx.log(`${old.name}: deleted; waiting for the StatefulSet to make it again from revision ${revision}`);
    let seen = "";
    await pollUntil(
        ctx,
        `${old.name} to run again from revision ${revision}`,
        async () => {
            const now = (await ctx.ops.listPods()).find((p) => p.name === old.name);
            seen = !now
                ? "not created yet"
                : now.terminating || now.uid === old.uid
                  ? "the old pod is still terminating"
                  : `revision ${now.revision}, ${now.running ? "running" : (now.reason ?? now.phase)}`;
            const fresh = now && !now.terminating && now.uid !== old.uid;
            if (fresh && !now.running && (ctx.seal || ctx.retiringSeal)) {
                // A Vault that exits at start because its seal (or the disabled one it moves off) cannot reach the
                // key: say so, not "image".
                const failure = await sealFailure(ctx, old.name);
                if (failure) throw ctx.seal ? sealFailureError(old.name, ctx.seal, failure) : retiringSealFailureError(old.name, ctx.retiringSeal!, failure);
            }
            if (fresh && !now.running && isStuck(now.reason)) {
                // Waiting does not fix these: the image does not exist or Vault does not start with this template.
                throw new StepError(
                    `${old.name} does not start from revision ${revision}: ${now.reason}. Nothing else was replaced. Fix the setting ` +
                        `(vault-ha:vaultImage must name an image that exists, e.g. hashicorp/vault:<version>), then run pulumi up again: ` +
                        `the roll replaces this pod first`,
                );
            }
            return fresh && now.revision === revision && now.running ? now : undefined;
        },
        () => seen,
    );
}

/**
 * A pod left stuck by a roll that failed on a broken template (an image that does not exist): once the template is
 * fixed, the roll step itself may not run again (its inputs equal the last ones that succeeded), so the pod's own
 * unseal or join step replaces it from the fixed revision. Only a pod that is not running, stuck for a reason waiting
 * does not fix, and on an older revision than the StatefulSet's is touched: it serves nothing.
 */
export async function replaceIfStuck(ctx: StepContext, name: string): Promise<void> {
    const pod = (await retrying(ctx, "the Vault pods to be listed", () => ctx.ops.listPods())).find((p) => p.name === name);
    if (!pod || pod.running || pod.terminating || !isStuck(pod.reason)) return;
    const sts = await observedStatefulSet(ctx);
    if (pod.revision === sts.updateRevision) return;
    ctx.log(`${name} is stuck on an older revision (${pod.reason}): replacing it from revision ${sts.updateRevision}`);
    await replacePod(ctx, pod, sts.updateRevision);
}

/**
 * Deletes a pod and waits until the StatefulSet's new one (another uid) runs; `why` completes the wait's message.
 * For pods that serve nothing at that moment (sealed, or to be started empty): the roll replaces serving pods itself.
 */
export async function recreatePod(ctx: StepContext, pod: string, why: string): Promise<void> {
    const before = (await retrying(ctx, "the Vault pods to be listed", () => ctx.ops.listPods())).find((p) => p.name === pod)?.uid;
    await retrying(ctx, `kubectl to delete ${pod}`, () => ctx.ops.deletePod(pod));
    await pollUntil(
        ctx,
        `${pod} to be made again ${why}`,
        async () => {
            const now = (await ctx.ops.listPods()).find((p) => p.name === pod);
            return now && now.uid !== before && now.running && !now.terminating ? true : undefined;
        },
        () => "",
    );
}
