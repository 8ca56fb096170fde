/**
 * wait-pods and pod-identities: the Vault pods exist and run; each pod's incarnation.
 */
import { podNames } from "../../vault/names";
import { pollUntil } from "../poll";
import { Handler, withVault } from "../runtime";
import type { PodInfo } from "../vaultOps";
import type { StepContext } from "./context";

function describePods(expected: string[], pods: PodInfo[]): string {
    return expected
        .map((name) => {
            const pod = pods.find((p) => p.name === name);
            if (!pod) return `${name} not created yet`;
            return `${name} ${pod.running ? "Running" : pod.phase}${pod.reason && !pod.running ? ` (${pod.reason})` : ""}`;
        })
        .join(", ");
}

/** Step 1: the pods exist and their vault container runs. Not Ready: a sealed Vault never is. */
export async function waitForPods(ctx: StepContext, expected: string[]): Promise<PodInfo[]> {
    let seen: PodInfo[] = [];
    const pods = await pollUntil(
        ctx,
        `the Vault pods ${expected.join(", ")} to be Running`,
        async () => {
            seen = await ctx.ops.listPods();
            return expected.every((name) => seen.find((p) => p.name === name)?.running) ? seen : undefined;
        },
        () => describePods(expected, seen),
    );
    ctx.log(`pods running: ${expected.join(", ")}`);
    return pods;
}

/**
 * A pod's incarnation: it changes exactly when the pod is recreated or its container restarts, which is exactly when
 * Vault comes back sealed. The unseal steps use it as their trigger.
 */
export function podIdentity(pod: PodInfo | undefined): string {
    if (!pod) return "absent";
    return pod.running ? `pod ${pod.uid} started ${pod.startedAt ?? "?"}` : `pod ${pod.uid} not running`;
}

export async function podIdentities(ctx: StepContext, expected: string[]): Promise<Record<string, string>> {
    const pods = await ctx.ops.listPods();
    return Object.fromEntries(expected.map((name) => [name, podIdentity(pods.find((p) => p.name === name))]));
}

export const waitPodsStep: Handler<"wait-pods"> = (p, secrets, ctx) =>
    withVault(ctx, secrets.kubeconfig, p, async (vault) => {
        const pods = podNames(p.release, p.replicas);
        await waitForPods(vault, pods);
        return { pods };
    });

export const podIdentitiesStep: Handler<"pod-identities"> = (p, secrets, ctx) =>
    withVault(ctx, secrets.kubeconfig, p, async (vault) => {
        const pods = podNames(p.release, p.replicas);
        try {
            return await podIdentities(vault, pods);
        } catch (err) {
            // Runs during every preview: an unreachable cluster must not break it. The steps that need the cluster
            // fail with their own, clearer message.
            ctx.log(`could not read the Vault pods: ${(err as Error).message}`);
            return Object.fromEntries(pods.map((pod) => [pod, "unknown"]));
        }
    });
