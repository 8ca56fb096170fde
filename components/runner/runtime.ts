/**
 * What a step handler gets: its log, its clock and deadlines, kubectl for the cluster, and a way to declare the
 * secrets it learns. The process entry point (main.ts) gives it the real ones; the simulator its own.
 */
import type { StepName, StepParams, StepResults, StepSecrets } from "../stepCommand/contract";
import type { Clock } from "./clock";
import { KubectlRunner, KubectlVaultOps } from "./kubectl";
import type { PollContext } from "./poll";
import type { StepContext } from "./primitives/context";
import { autoSealOf, retiringSealOf } from "./primitives/autoUnseal";

export interface StepRuntime {
    env: Record<string, string | undefined>;
    clock: Clock;
    /** Opens kubectl for the cluster of this kubeconfig. */
    kubectl(kubeconfig: string): KubectlRunner;
    /** Progress and errors, one scrubbed line at a time, as they happen. */
    stderr(line: string): void;
}

export interface HandlerContext extends PollContext {
    runtime: StepRuntime;
    /** Told about every secret as soon as it exists, so that nothing printed afterwards can contain it. */
    onSecret(...values: string[]): void;
}

export type Handler<S extends StepName> = (params: StepParams<S>, secrets: StepSecrets[S], ctx: HandlerContext) => Promise<StepResults[S]>;

/** Runs `work` with kubectl open on the cluster (its kubeconfig in a private file) and closes it afterwards. */
export async function withKubectl<T>(ctx: HandlerContext, kubeconfig: string, work: (kubectl: KubectlRunner) => Promise<T>): Promise<T> {
    const kubectl = ctx.runtime.kubectl(kubeconfig);
    try {
        return await work(kubectl);
    } finally {
        kubectl.dispose();
    }
}

/** Runs `work` against the Vault pods of a release, through `kubectl exec`; with the stack's auto seal, if the step has one. */
export function withVault<T>(
    ctx: HandlerContext,
    kubeconfig: string,
    where: { namespace: string; release: string; seal?: string; sealDescription?: string; migrateFromSeal?: string },
    work: (vault: StepContext) => Promise<T>,
): Promise<T> {
    const seal = autoSealOf(where);
    const retiringSeal = retiringSealOf(where);
    const { namespace, release } = where;
    return withKubectl(ctx, kubeconfig, (kubectl) =>
        work({
            ...ctx,
            namespace,
            ops: new KubectlVaultOps(kubectl, { namespace, release }),
            ...(seal ? { seal } : {}),
            ...(retiringSeal ? { retiringSeal } : {}),
        }),
    );
}
