/**
 * Switching a running kind stack between its two front doors. ingress-nginx's controller and Envoy (the Gateway's
 * proxy) both take the host ports 80 and 443 on the one ingress-ready node (components/ingress/ingressNginxValues.ts,
 * components/gateway/gatewayManifests.ts envoyProxyManifest), and the scheduler places no pod whose host port another
 * pod on that node holds (kubernetes pkg/scheduler/framework/plugins/nodeports). Pulumi creates new resources before it
 * deletes removed ones, so in one up the new controller would wait on the old one's ports until the up's end, and the
 * up would time out waiting for it (ingress-nginx's release waits for its pod; the Gateway's readiness step for its
 * Envoy). So the switch goes through `ingress: none`, and an up that would collide is refused before anything changes.
 */
import type { IngressMode } from "../config/settingDeclarations";
import type { PlanFixes } from "../cluster/existingPlan";

/** What holds host port 80 or 443 on the cluster's nodes, by who made it. */
export type PortHolderKind = "ingress-nginx" | "envoy-gateway" | "other";

export interface PortHolder {
    namespace: string;
    pod: string;
    kind: PortHolderKind;
    hostPorts: number[];
}

/** The front door port 80/443 on kind belongs to, by mode. */
const HOLDER_OF: Partial<Record<IngressMode, PortHolderKind>> = { install: "ingress-nginx", gateway: "envoy-gateway" };

const LABEL = { install: "ingress-nginx", gateway: "the Gateway (Envoy Gateway)" } as const;

/**
 * The refusal of an up whose front door would wait on ports another pod holds; undefined when nothing collides (a new
 * cluster, the same front door, or `none`).
 */
export function frontDoorSwitchRefusal(holders: PortHolder[], wanted: IngressMode, fixes: Pick<PlanFixes, "set">): string | undefined {
    const mine = HOLDER_OF[wanted];
    if (mine === undefined) return undefined;
    const others = holders.filter((h) => h.kind !== mine);
    if (others.length === 0) return undefined;
    const what = others.map((h) => `${h.namespace}/${h.pod} (host port ${h.hostPorts.join(", ")})`).join(", ");
    const known = others.every((h) => h.kind !== "other");
    const previous = others[0].kind === "ingress-nginx" ? "install" : "gateway";
    const now = LABEL[wanted as "install" | "gateway"];
    if (!known) {
        return (
            `vault-ha:ingress is ${wanted}, but ${what} already holds the host ports ${now} needs on the kind node, and vault-ha did not make it: ` +
            `the new controller would never be scheduled. Nothing was changed. Remove that pod, or ${fixes.set("ingress", "none")}`
        );
    }
    return (
        `vault-ha:ingress is ${wanted}, but the running front door, ${LABEL[previous]}, holds the host ports 80 and 443 on the kind node (${what}), ` +
        `and ${now} needs the same ones: in one up it would wait for them until the up's end. Nothing was changed. Switch in two ups: ` +
        `${fixes.set("ingress", "none")} && npm run up, then ${fixes.set("ingress", wanted)} && npm run up`
    );
}

/* eslint-disable @typescript-eslint/no-explicit-any -- reads `kubectl get pods -o json` */

/**
 * The running pods that hold host port 80 or 443, from `kubectl get pods --all-namespaces -o json`: ingress-nginx's
 * controller (its chart's selector label app.kubernetes.io/name: ingress-nginx, templates/_helpers.tpl), Envoy
 * Gateway's proxies (app.kubernetes.io/managed-by: envoy-gateway, envoyproxy/gateway v1.9.0
 * internal/infrastructure/kubernetes/proxy/resource.go), or anything else.
 * Pods that are terminating or done hold nothing.
 */
export function portHolders(podList: any): PortHolder[] {
    const holders: PortHolder[] = [];
    for (const pod of podList?.items ?? []) {
        if (pod?.metadata?.deletionTimestamp || ["Succeeded", "Failed"].includes(pod?.status?.phase)) continue;
        const ports = (pod?.spec?.containers ?? [])
            .flatMap((c: any) => c?.ports ?? [])
            .map((p: any) => Number(p?.hostPort))
            .filter((p: number) => p === 80 || p === 443);
        if (ports.length === 0) continue;
        const labels = pod?.metadata?.labels ?? {};
        const kind: PortHolderKind =
            labels["app.kubernetes.io/name"] === "ingress-nginx"
                ? "ingress-nginx"
                : labels["app.kubernetes.io/managed-by"] === "envoy-gateway"
                  ? "envoy-gateway"
                  : "other";
        holders.push({
            namespace: String(pod.metadata.namespace),
            pod: String(pod.metadata.name),
            kind,
            hostPorts: [...new Set<number>(ports)].sort((a, b) => a - b),
        });
    }
    return holders;
}
