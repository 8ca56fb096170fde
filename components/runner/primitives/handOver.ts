/**
 * Handing over the active node's leadership before it is replaced: a step-down, and the wait until another node
 * holds a newer term.
 */
import { pollUntil, retrying, StepError } from "../poll";
import { SealStatus, VaultRefused } from "../vaultOps";
import type { StepContext } from "./context";
import { sealStatuses } from "./raftHealth";
import { sealMigrationOf, stopIfMigrationFailed } from "./sealMigration";

/** How many times handOver asks a pod that is elected again to step down before it gives up. */
const STEP_DOWN_ATTEMPTS = 3;

const when = (ms: number | undefined) => (ms === undefined ? "an unknown time" : new Date(ms).toISOString());

/**
 * The active node steps down, and another node starts a new term, before it is deleted. What counts is what Vault
 * reports, not a proxy for it: `/v1/sys/step-down` is forwarded (http/handler.go registers it with
 * handleRequestForwarding), so if `pod` lost the leadership just before the call, the node that is active then steps
 * down instead, and "pod is a standby and knows a leader" is true at once. So the term the pod held is recorded
 * (`active_time`, api/sys_leader.go: when that node became active, vault/ha.go) and the wait is for another node
 * reporting `is_self` with a newer `active_time` while the pod reports it is not active. That term must be seen twice,
 * one poll apart: a node the forwarded step-down reached is still active for a moment after the call returns
 * (Core.StepDown only queues the step-down on manualStepDownCh; inference: it takes well under a poll interval). If the
 * pod itself is elected again (a new term of its own: it stood once its 10 s pause ended, or the forwarded step-down
 * left it the best candidate), it is asked again, at most STEP_DOWN_ATTEMPTS times.
 */
export async function handOver(ctx: StepContext, pod: string, names: string[], token: string, before: SealStatus): Promise<void> {
    let term = before.activeTime;
    for (let attempt = 1; ; attempt++) {
        try {
            await retrying(ctx, `${pod} to step down`, () => ctx.ops.stepDown(pod, token));
        } catch (err) {
            if (err instanceof VaultRefused) throw new StepError(`${pod} refused to step down (${err.message}); is vault-ha's root token still valid?`);
            throw err;
        }
        let last = "";
        let candidate = "";
        const outcome = await pollUntil(
            ctx,
            `another Vault node to start a new term as the active node after ${pod} was asked to step down (it has been active since ${when(term)})`,
            async () => {
                const seen = await sealStatuses(ctx, names);
                const mine = seen.get(pod);
                const active = names.filter((n) => seen.get(n)?.isSelf && seen.get(n)?.sealed === false);
                last = active.length ? `active: ${active.map((n) => `${n} since ${when(seen.get(n)?.activeTime)}`).join(", ")}` : "no active node yet";
                // During a seal migration the node that takes over migrates first; if its seal does not answer it seals
                // itself and no term starts: say so now rather than at the timeout.
                const migration = sealMigrationOf(ctx);
                if (active.length === 0 && migration && names.some((n) => seen.get(n)?.migration))
                    await stopIfMigrationFailed(
                        ctx,
                        migration,
                        names.filter((n) => n !== pod),
                    );
                if (mine?.isSelf && !mine.sealed) {
                    candidate = "";
                    // The same term: the step-down has not taken effect yet. A newer one: the pod was elected again.
                    const again = term !== undefined && mine.activeTime !== undefined && mine.activeTime > term;
                    return again ? { again: mine.activeTime! } : undefined;
                }
                const next = active.find((n) => n !== pod);
                const since = next ? seen.get(next)?.activeTime : undefined;
                if (!next || since === undefined || (term !== undefined && since <= term)) {
                    candidate = "";
                    return undefined;
                }
                const key = `${next}@${since}`;
                if (candidate !== key) {
                    candidate = key;
                    return undefined;
                }
                return { active: next, since };
            },
            () => last,
        );
        if ("active" in outcome) {
            ctx.log(`${pod} stepped down; ${outcome.active} is active since ${when(outcome.since)}`);
            return;
        }
        if (attempt >= STEP_DOWN_ATTEMPTS) {
            throw new StepError(
                `${pod} was elected active again after each of ${attempt} step-downs (last since ${when(outcome.again)}); nothing was deleted. ` +
                    `Check that the other Vault nodes are healthy voters (vault operator raft autopilot state), then run pulumi up again`,
            );
        }
        ctx.log(`${pod} is active again (a new term since ${when(outcome.again)}): asking it to step down again (${attempt + 1}/${STEP_DOWN_ATTEMPTS})`);
        term = outcome.again;
    }
}
