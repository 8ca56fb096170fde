/**
 * gateway-ready: waits until the Gateway serves Vault's route, as the Gateway's controller reports it, and fails at
 * once on a verdict that no wait changes.
 *
 * Gateway API v1.6.1 (apis/v1 gateway_types.go, shared_types.go), what is read:
 * - Gateway status.conditions Accepted and Programmed, each at the Gateway's metadata.generation (observedGeneration
 *   older: the controller has not seen the current spec yet). Accepted reasons Accepted, ListenersNotValid (True
 *   while some listener is valid), InvalidParameters, UnsupportedAddress, Pending; Programmed reasons Programmed,
 *   Invalid, NoResources, AddressNotAssigned, AddressNotUsable, Pending.
 * - status.addresses[].value, and status.listeners[] {name, supportedKinds, attachedRoutes}.
 * - The route's status.parents[] entry for this Gateway (parentRef name, namespace defaulting to the route's, kind
 *   Gateway), its Accepted (Accepted, NotAllowedByListeners, NoMatchingListenerHostname, NoMatchingParent,
 *   UnsupportedValue, Pending) and ResolvedRefs (ResolvedRefs, RefNotPermitted, InvalidKind, BackendNotFound,
 *   UnsupportedProtocol) conditions at the route's generation.
 * Envoy Gateway v1.9 (internal/gatewayapi/status/gateway.go): Programmed is False/AddressNotAssigned while the
 * Gateway has no address (a LoadBalancer Service no load balancer controller serves, as on kind), then
 * False/NoResources until an Envoy replica is available. Those, and Pending, are waited for; the reasons below are not.
 */
import { classifyFailure } from "../failures";
import type { KubectlRunner } from "../kubectl";
import { PollContext, pollUntil, StepError } from "../poll";
import { Handler, withKubectl } from "../runtime";
import { VaultUnavailable } from "../vaultOps";
import type { GatewayReadyResult } from "../../stepCommand/contract";
import { GATEWAY_API_GROUP } from "../../cluster/gatewayFacts";

/* eslint-disable @typescript-eslint/no-explicit-any -- reads the Gateway API's JSON */

export interface GatewayReadyTarget {
    gatewayName: string;
    gatewayNamespace: string;
    routeKind: string;
    routeName: string;
    routeNamespace: string;
}

/** Verdicts of the controller that a wait does not change: the spec (or an object it names) must. */
const DEFINITIVE_GATEWAY = new Set(["InvalidParameters", "UnsupportedAddress", "Invalid", "AddressNotUsable", "ListenersNotValid"]);
const DEFINITIVE_ROUTE = new Set([
    "NotAllowedByListeners",
    "NoMatchingListenerHostname",
    "NoMatchingParent",
    "UnsupportedValue",
    "RefNotPermitted",
    "InvalidKind",
    "BackendNotFound",
    "UnsupportedProtocol",
    // Envoy Gateway's own: the backend Service lacks the route's port (internal/gatewayapi/validate.go
    // validateBackendRefService).
    "PortNotFound",
]);

/** A condition as the object's current generation has it; undefined when absent or written for an older spec. */
export function currentCondition(object: any, type: string): { status: string; reason: string; message: string } | undefined {
    const generation = object?.metadata?.generation;
    const c = (object?.status?.conditions ?? []).find((x: any) => x.type === type);
    if (!c || (generation !== undefined && c.observedGeneration !== undefined && c.observedGeneration < generation)) return undefined;
    return { status: String(c.status), reason: String(c.reason ?? ""), message: String(c.message ?? "") };
}

/** The route's status.parents entry for this Gateway. */
export function parentStatus(route: any, t: GatewayReadyTarget): any {
    return (route?.status?.parents ?? []).find((p: any) => {
        const ref = p.parentRef ?? {};
        return (
            ref.name === t.gatewayName &&
            (ref.namespace ?? t.routeNamespace) === t.gatewayNamespace &&
            (ref.kind ?? "Gateway") === "Gateway" &&
            (ref.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP
        );
    });
}

function routeCondition(route: any, parent: any, type: string) {
    return currentCondition({ metadata: route?.metadata, status: { conditions: parent?.conditions } }, type);
}

export type GatewayVerdict = { ready: GatewayReadyResult } | { waiting: string } | { failed: string };

/** What the Gateway and the route say now: ready, a reason to wait (in words), or a verdict to stop on. */
export function gatewayVerdict(gateway: any, route: any, t: GatewayReadyTarget): GatewayVerdict {
    const gw = `Gateway ${t.gatewayNamespace}/${t.gatewayName}`;
    const rt = `${t.routeKind} ${t.routeNamespace}/${t.routeName}`;
    const describe = `kubectl describe gateways.${GATEWAY_API_GROUP} ${t.gatewayName} -n ${t.gatewayNamespace}`;
    if (!gateway) return { waiting: `${gw} does not exist` };
    const accepted = currentCondition(gateway, "Accepted");
    if (accepted?.status === "False" && DEFINITIVE_GATEWAY.has(accepted.reason)) {
        return { failed: `the controller does not accept ${gw}: ${accepted.reason}: ${accepted.message}. \`${describe}\` shows its listeners' conditions` };
    }
    const programmed = currentCondition(gateway, "Programmed");
    if (programmed?.status === "False" && DEFINITIVE_GATEWAY.has(programmed.reason)) {
        return { failed: `${gw} cannot be programmed: ${programmed.reason}: ${programmed.message}. \`${describe}\` shows why` };
    }
    if (!route) return { waiting: `${rt} does not exist` };
    const parent = parentStatus(route, t);
    const routeAccepted = parent ? routeCondition(route, parent, "Accepted") : undefined;
    const resolved = parent ? routeCondition(route, parent, "ResolvedRefs") : undefined;
    for (const c of [routeAccepted, resolved]) {
        if (c?.status === "False" && DEFINITIVE_ROUTE.has(c.reason)) return { failed: routeFailure(c, gw, rt, t) };
    }

    if (accepted?.status !== "True") {
        return {
            waiting: `${gw} is not accepted yet (${accepted ? `${accepted.reason}: ${accepted.message}` : "no Accepted condition for its current generation: is its GatewayClass's controller running?"})`,
        };
    }
    if (programmed?.status !== "True") {
        if (programmed?.reason === "AddressNotAssigned") {
            return {
                waiting:
                    `${gw} is not programmed: AddressNotAssigned (${programmed.message}). Its Service is probably a LoadBalancer that no load balancer controller serves ` +
                    `(kind has none): give it a ClusterIP or NodePort Service through the Gateway's EnvoyProxy, or install one (MetalLB, cloud-provider-kind)`,
            };
        }
        return {
            waiting: `${gw} is not programmed yet (${programmed ? `${programmed.reason}: ${programmed.message}` : "no Programmed condition for its current generation"})`,
        };
    }
    if (!parent) return { waiting: `${rt} has no status for ${gw} yet` };
    if (routeAccepted?.status !== "True")
        return { waiting: `${rt} is not accepted by ${gw} yet (${routeAccepted?.reason || "no Accepted condition for its current generation"})` };
    if (resolved?.status !== "True")
        return { waiting: `${rt}'s references are not resolved yet (${resolved?.reason || "no ResolvedRefs condition for its current generation"})` };

    const addresses: string[] = (gateway.status?.addresses ?? []).map((a: any) => String(a.value));
    const section = route.spec?.parentRefs?.find((r: any) => r.name === t.gatewayName)?.sectionName;
    const listeners = (gateway.status?.listeners ?? [])
        .filter((l: any) => (section ? l.name === section : (l.supportedKinds ?? []).some((k: any) => k.kind === t.routeKind)))
        .map((l: any) => ({ name: String(l.name), attachedRoutes: Number(l.attachedRoutes ?? 0) }));
    return { ready: { addresses, listeners } };
}

function routeFailure(c: { reason: string; message: string }, gw: string, rt: string, t: GatewayReadyTarget): string {
    const said = `${c.reason}: ${c.message}`;
    switch (c.reason) {
        case "NotAllowedByListeners":
            return `${gw} refuses ${rt} (${said}): no listener's allowedRoutes admit a ${t.routeKind} from namespace ${t.routeNamespace}. Widen the listener's allowedRoutes (namespaces from: All, or a selector that selects ${t.routeNamespace}; kinds including ${t.routeKind}), or choose another Gateway (vault-ha:gatewayName, vault-ha:gatewayNamespace)`;
        case "NoMatchingListenerHostname":
            return `${gw} refuses ${rt} (${said}): no listener's hostname matches the route's (vault-ha:ingressHost). Set vault-ha:ingressHost to a host a listener takes, or add a listener for it`;
        case "NoMatchingParent":
        case "UnsupportedValue":
            return `${gw} refuses ${rt} (${said}): the Gateway needs a ${t.routeKind === "TLSRoute" ? "TLS listener with tls.mode Passthrough" : "HTTP listener"} for it (or choose another Gateway: vault-ha:gatewayName)`;
        case "BackendNotFound":
            return `${rt} names a backend that does not exist (${said}): Vault's Service must be in namespace ${t.routeNamespace}; \`kubectl get services -n ${t.routeNamespace}\` lists what is there`;
        default:
            return `${rt} cannot be served by ${gw} (${said}); \`kubectl describe ${t.routeKind.toLowerCase()}s.${GATEWAY_API_GROUP} ${t.routeName} -n ${t.routeNamespace}\` shows its status`;
    }
}

/**
 * Why the Gateway's Envoy pods do not run, from their PodScheduled condition: the proxies carry the owning Gateway's
 * name and namespace as labels (envoyproxy/gateway v1.9.0 internal/gatewayapi/translator.go OwningGatewayNameLabel,
 * OwningGatewayNamespaceLabel), in the controller's namespace. Empty when nothing is pending or the pods cannot be read.
 */
export function envoyPodsPending(podList: any): string {
    const pending = (podList?.items ?? []).flatMap((pod: any) => {
        const scheduled = (pod?.status?.conditions ?? []).find((c: any) => c.type === "PodScheduled");
        if (pod?.status?.phase !== "Pending" || scheduled?.status !== "False") return [];
        return [`its Envoy pod ${pod.metadata.namespace}/${pod.metadata.name} is Pending: ${scheduled.message ?? scheduled.reason}`];
    });
    if (pending.length === 0) return "";
    const ports = pending.some((line: string) => /free ports/.test(line))
        ? ". Another pod holds host port 80 or 443 on the node Envoy must run on (on kind: ingress-nginx's controller, if the front door was switched in one up): switch in two ups, through vault-ha:ingress none"
        : "";
    return `: ${pending.join("; ")}${ports}`;
}

async function envoyPodNote(kubectl: KubectlRunner, t: GatewayReadyTarget): Promise<string> {
    const selector = `gateway.envoyproxy.io/owning-gateway-name=${t.gatewayName},gateway.envoyproxy.io/owning-gateway-namespace=${t.gatewayNamespace}`;
    const r = await kubectl.run(["get", "pods", "--all-namespaces", "-l", selector, "-o", "json"]);
    if (r.code !== 0) return "";
    try {
        return envoyPodsPending(JSON.parse(r.stdout));
    } catch {
        return "";
    }
}

/** One object as JSON, or null while it does not exist. */
async function getObject(kubectl: KubectlRunner, resource: string, name: string, namespace: string): Promise<any> {
    const r = await kubectl.run(["get", resource, name, "-n", namespace, "-o", "json", "--ignore-not-found"]);
    if (r.code !== 0) {
        const failure = classifyFailure(r);
        if (failure.kind === "transient") throw new VaultUnavailable(`kubectl get ${resource} ${name}: ${failure.summary}`);
        throw new StepError(`could not read ${resource} ${name} in namespace ${namespace}: ${failure.summary}`);
    }
    return r.stdout.trim() === "" ? null : JSON.parse(r.stdout);
}

export async function waitForGateway(ctx: PollContext, kubectl: KubectlRunner, t: GatewayReadyTarget): Promise<GatewayReadyResult> {
    const routeResource = `${t.routeKind.toLowerCase()}s.${GATEWAY_API_GROUP}`;
    let seen = "";
    const result = await pollUntil(
        ctx,
        `Gateway ${t.gatewayNamespace}/${t.gatewayName} to be accepted and programmed and to accept ${t.routeKind} ${t.routeNamespace}/${t.routeName} (Accepted, ResolvedRefs)`,
        async () => {
            const gateway = await getObject(kubectl, `gateways.${GATEWAY_API_GROUP}`, t.gatewayName, t.gatewayNamespace);
            const route = gateway ? await getObject(kubectl, routeResource, t.routeName, t.routeNamespace) : null;
            const verdict = gatewayVerdict(gateway, route, t);
            if ("failed" in verdict) throw new StepError(verdict.failed);
            if ("waiting" in verdict) {
                // Not programmed for want of an Envoy replica: say why its pod does not run, when the scheduler said so.
                const noReplica = currentCondition(gateway, "Programmed")?.reason === "NoResources";
                seen = noReplica ? verdict.waiting + (await envoyPodNote(kubectl, t)) : verdict.waiting;
                return undefined;
            }
            return verdict.ready;
        },
        () => seen,
    );
    ctx.log(
        `Gateway ${t.gatewayNamespace}/${t.gatewayName} serves ${t.routeKind} ${t.routeName} at ${result.addresses.join(", ") || "no address"}; ` +
            result.listeners.map((l) => `listener ${l.name}: ${l.attachedRoutes} route(s)`).join(", "),
    );
    return result;
}

export const gatewayReadyStep: Handler<"gateway-ready"> = (p, secrets, ctx) =>
    withKubectl(ctx, secrets.kubeconfig, (kubectl) => waitForGateway(ctx, kubectl, p));
