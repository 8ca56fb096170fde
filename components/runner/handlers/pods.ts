/**
 * wait-pods and pod-identities: the Vault pods exist and run; each pod's incarnation.
 */
import { sealOfServerConfig, sealStanzaOfServerConfig } from "../../seal/runningSeal";
import { storedSealOf } from "../../seal/sealTransition";
import { TELEMETRY_ANNOTATION } from "../../vault/telemetry";
import { sealStatuses } from "../primitives/raftHealth";
import type { PodTemplate } from "../../stepCommand/contract";
import { SERVER_TLS_SECRET } from "../../tls/tlsConfig";
import { podNames } from "../../vault/names";
import { pollUntil, StepError } from "../poll";
import { Handler, withVault } from "../runtime";
import type { PodInfo } from "../vaultOps";
import type { StepContext } from "../primitives/context";

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
class PodsUnreadable extends Error {}

export function podIdentity(pod: PodInfo | undefined): string {
    if (!pod) return "absent";
    return pod.running ? `pod ${pod.uid} started ${pod.startedAt ?? "?"}` : `pod ${pod.uid} not running`;
}

/**
 * Each pod's incarnation. A pod that exists but whose container is (re)starting has no start time yet: its identity
 * would change again once it runs, and the next `up` would re-run its step for nothing. So this waits (within the
 * step's deadline) until such pods run; a pod that never does keeps "not running", an absent pod "absent". Errors are
 * not waited out: the caller turns them into "unknown" at once.
 */
export async function podIdentities(ctx: StepContext, expected: string[]): Promise<Record<string, string>> {
    let pods: PodInfo[] = [];
    // Starting: being created or restarted. A pod stuck for another reason (ImagePullBackOff, Unschedulable,
    // CrashLoopBackOff) is not waited for: a preview must not hang on it.
    const starting = (p: PodInfo) => !p.running && (p.reason === undefined || /^(ContainerCreating|PodInitializing)\b/.test(p.reason));
    const settled = () => expected.every((name) => !pods.some((p) => p.name === name && starting(p)));
    try {
        await pollUntil(
            ctx,
            "the Vault pods that are starting to run",
            async () => {
                try {
                    pods = await ctx.ops.listPods();
                } catch (err) {
                    // An unreachable cluster is not waited out: the caller reads every pod as "unknown" at once.
                    throw new PodsUnreadable((err as Error).message);
                }
                return settled() ? true : undefined;
            },
            () => "",
        );
    } catch (err) {
        if (!(err instanceof StepError)) throw err;
        // Still starting at the deadline: their identity says so, and the next up looks again.
    }
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

/** What each existing Vault pod runs: its image and whether it serves TLS (mounts Vault's certificate secret). */
export function podTemplates(pods: PodInfo[], expected: string[]): PodTemplate[] {
    return expected
        .map((name) => pods.find((p) => p.name === name))
        .filter((p): p is PodInfo => p !== undefined)
        .map((p) => ({
            pod: p.name,
            image: p.image ?? "",
            tls: p.secretVolumes.includes(SERVER_TLS_SECRET),
            running: p.running,
            telemetry: p.annotations?.[TELEMETRY_ANNOTATION] ?? "",
        }));
}

export const podTemplatesStep: Handler<"pod-templates"> = (p, secrets, ctx) =>
    withVault(ctx, secrets.kubeconfig, p, async (vault) => {
        let pods: PodTemplate[];
        try {
            pods = podTemplates(await vault.ops.listPods(), podNames(p.release, p.replicas));
        } catch (err) {
            // Runs during every preview, like pod-identities: an unreachable cluster reads as "no pods known".
            ctx.log(`could not read the Vault pods: ${(err as Error).message}`);
            return { pods: [] };
        }
        // The claim template too: the program refuses a change Kubernetes would refuse half-way through the up.
        // No StatefulSet yet (a first install) is no claim.
        const sts = await vault.ops.statefulSet().catch(() => undefined);
        const claims = await vault.ops.listClaims().catch(() => undefined);
        // The seal the release runs with: a change of it is refused before the release is touched (seal/runningSeal.ts).
        const config = await vault.ops.serverConfig().catch(() => undefined);
        const seal = config !== undefined ? sealOfServerConfig(config) : undefined;
        // With a seal stanza, the seal storage holds: whether a migration back to Shamir is done (seal/sealTransition.ts).
        // A Shamir release's preview asks Vault nothing more than before.
        const stored =
            seal !== undefined && seal !== "shamir"
                ? storedSealOf([
                      ...(
                          await sealStatuses(
                              vault,
                              pods.filter((p) => p.running).map((p) => p.pod),
                          ).catch(() => new Map())
                      ).values(),
                  ])
                : undefined;
        return {
            pods,
            ...(sts?.dataClaim ? { dataClaim: sts.dataClaim } : {}),
            ...(sts?.antiAffinity ? { antiAffinity: sts.antiAffinity } : {}),
            ...(sts ? { replicas: sts.replicas } : {}),
            ...(claims ? { claims: claims.map((c) => c.name) } : {}),
            ...(config !== undefined ? { seal, sealStanza: sealStanzaOfServerConfig(config) } : {}),
            ...(stored ? { storedSeal: stored } : {}),
        };
    });
