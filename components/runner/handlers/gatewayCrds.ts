/**
 * The Gateway API's and Envoy Gateway's CRDs on kind. Helm installs a chart's crds/ and never deletes them
 * (helm.sh/docs/chart_best_practices/custom_resource_definitions: "There is no support at this time for upgrading or
 * deleting CRDs using Helm"), so when a kind stack leaves the Gateway front door (`ingress` set to another value),
 * the CRDs the Envoy Gateway release brought would stay behind. On kind vault-ha made the cluster, so every CRD of
 * those groups is one it installed: `gateway-crds` records them when the front door is created, and its delete,
 * `delete-gateway-crds`, removes them after the release is gone (the release depends on it). A destroy of the whole
 * stack skips it: the cluster goes with everything in it.
 */
import { StepError } from "../poll";
import { Handler, withKubectl } from "../runtime";
import type { KubectlReads } from "./clusterFacts";

/** The API groups whose CRDs gateway-helm v1.9.0 bundles (charts/crds/crds/: Gateway API and Envoy Gateway's own). */
export const GATEWAY_CRD_GROUPS = ["gateway.networking.k8s.io", "gateway.networking.x-k8s.io", "gateway.envoyproxy.io"] as const;

/* eslint-disable @typescript-eslint/no-explicit-any -- reads `kubectl get crd -o json` */

/** The names of the CRDs of those groups, from `kubectl get customresourcedefinitions -o json`. */
export function gatewayCrdNames(list: any): string[] {
    return (list?.items ?? [])
        .filter((crd: any) => (GATEWAY_CRD_GROUPS as readonly string[]).includes(crd?.spec?.group))
        .map((crd: any) => String(crd.metadata.name))
        .sort();
}

async function listGatewayCrds(kubectl: KubectlReads): Promise<string[]> {
    const r = await kubectl.run(["get", "customresourcedefinitions.apiextensions.k8s.io", "-o", "json"]);
    if (r.code !== 0) throw new StepError(`could not list the cluster's CRDs: ${(r.stderr || r.stdout).trim()}`);
    return gatewayCrdNames(JSON.parse(r.stdout));
}

export const gatewayCrdsStep: Handler<"gateway-crds"> = (_p, secrets, ctx) =>
    withKubectl(ctx, secrets.kubeconfig, async (kubectl) => ({ crds: await listGatewayCrds(kubectl) }));

/** Deletes every CRD of those groups and waits until each is gone; what it deleted. */
export async function deleteGatewayCrds(kubectl: KubectlReads, timeoutSeconds: number, log: (line: string) => void): Promise<string[]> {
    const crds = await listGatewayCrds(kubectl);
    if (crds.length === 0) {
        log("no Gateway API or Envoy Gateway CRD left to delete");
        return [];
    }
    const r = await kubectl.run(["delete", "customresourcedefinitions.apiextensions.k8s.io", ...crds, "--ignore-not-found", "--wait=false"]);
    if (r.code !== 0) throw new StepError(`could not delete the Gateway API and Envoy Gateway CRDs (${crds.join(", ")}): ${(r.stderr || r.stdout).trim()}`);
    // Waited for, so that a new install does not meet a terminating CRD; but a custom resource whose finalizer nobody
    // removes any more (a second Gateway of the class, made by hand) keeps its CRD terminating: said, not a failure.
    const gone = await kubectl.run([
        "wait",
        "--for=delete",
        ...crds.map((c) => `customresourcedefinitions.apiextensions.k8s.io/${c}`),
        `--timeout=${timeoutSeconds}s`,
    ]);
    if (gone.code !== 0) {
        log(
            `WARNING: some Gateway API CRDs are still terminating after ${timeoutSeconds}s (${(gone.stderr || gone.stdout).trim()}): a custom resource of theirs ` +
                `keeps a finalizer; \`kubectl get gateways,gatewayclasses -A\` lists what is left, and removing its finalizers lets them go`,
        );
        return crds;
    }
    log(`deleted the CRDs Envoy Gateway's chart brought: ${crds.join(", ")}`);
    return crds;
}

export const deleteGatewayCrdsStep: Handler<"delete-gateway-crds"> = (p, secrets, ctx) =>
    withKubectl(ctx, secrets.kubeconfig, async (kubectl) => ({ deleted: await deleteGatewayCrds(kubectl, p.timeoutSeconds, (line) => ctx.log(line)) }));
