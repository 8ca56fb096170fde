/**
 * Whether the Gateway an existing cluster already has can take Vault's route (`ingress: gateway`), decided before
 * anything is created from what cluster-facts read (components/runner/handlers/clusterFacts.ts). Pure.
 *
 * Gateway API v1.6.1 (sigs.k8s.io/gateway-api apis/v1), the rules followed:
 * - TLSRoute is served as v1 from Gateway API v1.5 on (v1.4 had v1alpha2/v1alpha3 only, and only in the experimental
 *   channel); vault-ha's TLSRoute is a v1 object. HTTPRoute is v1 since v1.0.
 * - A route attaches to a listener when the listener's protocol takes its kind (allowedRoutes.kinds, or when empty
 *   the protocol's own: TLS takes TLSRoute, HTTP and HTTPS take HTTPRoute), its allowedRoutes.namespaces admit the
 *   route's namespace (from: Same, the default, only the Gateway's own; All; Selector, matched against the
 *   namespace's labels, which always include kubernetes.io/metadata.name), and the hostnames intersect: a listener
 *   without hostname takes any, `*.example.com` is a suffix match (test.example.com and foo.test.example.com, not
 *   example.com: gateway_types.go Listener.Hostname).
 * - Vault serves its own TLS: its TLSRoute needs a TLS listener with tls.mode Passthrough (Terminate would hand Vault
 *   the decrypted stream).
 * A namespace selector follows meta/v1 LabelSelector: matchLabels all equal, matchExpressions In, NotIn (also true
 * when the key is absent), Exists, DoesNotExist; an empty selector selects every namespace.
 */
import type { FixCommands, Settings } from "../config/settings";
import { ingressMode, whoamiEnabled } from "../config/clusterModes";
import { ok, Ok, problem, Problem, warning, Warning } from "../problems";
import type { ClusterFacts, GatewayFacts, GatewayListenerFact, LabelSelectorFact } from "../stepCommand/contract";

/* eslint-disable @typescript-eslint/no-explicit-any -- reads the Gateway JSON the Gateway API defines */

export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";
/** The Gateway API release whose install vault-ha names in its fixes (the one Envoy Gateway v1.9 bundles). */
export const GATEWAY_API_RELEASE = "v1.6.1";

export type RouteKind = "TLSRoute" | "HTTPRoute";

/** Vault's route: TLS passes through to Vault, which serves its own certificate; without TLS an HTTPRoute. */
export function vaultRouteKind(tls: boolean): RouteKind {
    return tls ? "TLSRoute" : "HTTPRoute";
}

/** The listeners of a Gateway as the API serves it (defaults applied by the API server are assumed when absent). */
export function listenersOf(gateway: any): GatewayListenerFact[] {
    return (gateway?.spec?.listeners ?? []).map((l: any) => {
        const namespaces = l.allowedRoutes?.namespaces ?? {};
        const kinds = l.allowedRoutes?.kinds;
        return {
            name: String(l.name),
            protocol: String(l.protocol),
            port: Number(l.port),
            ...(l.hostname ? { hostname: String(l.hostname) } : {}),
            ...(l.tls ? { tlsMode: String(l.tls.mode ?? "Terminate") } : {}),
            allowedRoutes: {
                from: String(namespaces.from ?? "Same"),
                ...(namespaces.selector ? { selector: namespaces.selector as LabelSelectorFact } : {}),
                ...(Array.isArray(kinds) && kinds.length > 0
                    ? { kinds: kinds.map((k: any) => ({ ...(k.group !== undefined ? { group: String(k.group) } : {}), kind: String(k.kind) })) }
                    : {}),
            },
        };
    });
}

/** Whether a listener's hostname takes a route for `host`. */
export function hostnameMatches(listenerHostname: string | undefined, host: string): boolean {
    if (!listenerHostname) return true;
    const listener = listenerHostname.toLowerCase();
    const wanted = host.toLowerCase();
    if (listener.startsWith("*.")) return wanted.endsWith(listener.slice(1)) && wanted.length > listener.length - 1;
    return listener === wanted;
}

/** meta/v1 LabelSelector semantics. */
export function selectorMatches(selector: LabelSelectorFact, labels: Record<string, string>): boolean {
    const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    const byExpressions = (selector.matchExpressions ?? []).every((e) => {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        const values = e.values ?? [];
        switch (e.operator) {
            case "In":
                return has && values.includes(labels[e.key]);
            case "NotIn":
                return !has || !values.includes(labels[e.key]);
            case "Exists":
                return has;
            case "DoesNotExist":
                return !has;
            default:
                return false;
        }
    });
    return byLabels && byExpressions;
}

/** The protocol's own kinds, when allowedRoutes.kinds is empty (Gateway API Listener.AllowedRoutes). */
const PROTOCOL_KINDS: Record<string, RouteKind[]> = { TLS: ["TLSRoute"], HTTP: ["HTTPRoute"], HTTPS: ["HTTPRoute"] };

export function listenerTakesKind(listener: GatewayListenerFact, kind: RouteKind): boolean {
    const kinds = listener.allowedRoutes.kinds;
    if (!kinds || kinds.length === 0) return (PROTOCOL_KINDS[listener.protocol] ?? []).includes(kind);
    return kinds.some((k) => (k.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP && k.kind === kind);
}

/** The listeners whose protocol, TLS mode and hostname fit Vault's route. */
export function fittingListeners(listeners: GatewayListenerFact[], tls: boolean, host: string): GatewayListenerFact[] {
    return listeners.filter((l) => hostnameMatches(l.hostname, host) && (tls ? l.protocol === "TLS" && l.tlsMode === "Passthrough" : l.protocol === "HTTP"));
}

/**
 * Why the listener does not admit a route of `kind` from `routeNamespace`; "" when it does, undefined when it cannot be
 * told (a namespace selector, and the namespace's labels unknown).
 */
export function admissionRefusal(
    listener: GatewayListenerFact,
    gatewayNamespace: string,
    routeNamespace: string,
    namespaceLabels: Record<string, string> | undefined,
    kind: RouteKind,
): string | undefined {
    if (!listenerTakesKind(listener, kind)) {
        const kinds = listener.allowedRoutes.kinds?.map((k) => k.kind).join(", ") ?? `the kinds of protocol ${listener.protocol}`;
        return `its allowedRoutes.kinds (${kinds}) do not include ${kind}`;
    }
    const { from, selector } = listener.allowedRoutes;
    if (from === "All") return "";
    if (from === "Same")
        return gatewayNamespace === routeNamespace
            ? ""
            : `it admits routes from its own namespace ${gatewayNamespace} only (allowedRoutes.namespaces.from: Same)`;
    if (from === "Selector") {
        if (!selector) return "its allowedRoutes.namespaces.from is Selector without a selector";
        if (namespaceLabels === undefined) return undefined;
        return selectorMatches(selector, namespaceLabels)
            ? ""
            : `its namespace selector ${JSON.stringify(selector)} does not select namespace ${routeNamespace} (labels ${JSON.stringify(namespaceLabels)})`;
    }
    return `its allowedRoutes.namespaces.from is ${from}`;
}

export interface GatewayPlan {
    decided: Ok[];
    warnings: Warning[];
    problems: Problem[];
    /** The port of the listener that takes Vault's route: the front door's URL (ingressUrl) names it. */
    vaultPort?: number;
}

function describeListener(l: GatewayListenerFact): string {
    return `${l.name} (${l.protocol}${l.tlsMode ? ` ${l.tlsMode}` : ""} port ${l.port}${l.hostname ? ` hostname ${l.hostname}` : ""})`;
}

/** The labels of Vault's namespace as the routes will see them: kube-apiserver sets kubernetes.io/metadata.name on every namespace. */
function namespaceLabels(gateway: GatewayFacts, vaultNamespace: string): Record<string, string> | undefined {
    const ns = gateway.vaultNamespace;
    if (ns === undefined) return undefined;
    // vault-ha creates the namespace without labels of its own.
    return { ...(ns.exists ? ns.labels : {}), "kubernetes.io/metadata.name": vaultNamespace };
}

export function gatewayPlan(
    s: Pick<Settings, "cluster" | "ingress" | "tls" | "ingressHost" | "vaultNamespace" | "gatewayName" | "gatewayNamespace" | "whoami" | "whoamiNamespace">,
    facts: Pick<ClusterFacts, "gateway" | "unreadable">,
    fixes: Pick<FixCommands, "set" | "rm">,
): GatewayPlan {
    const plan: GatewayPlan = { decided: [], warnings: [], problems: [] };
    if (ingressMode(s) !== "gateway") return plan;
    const where = `Gateway ${s.gatewayNamespace}/${s.gatewayName}`;
    const kind = vaultRouteKind(s.tls);
    const gateway = facts.gateway;
    const cannotRead = (resource: string) =>
        facts.unreadable
            .filter((u) => u.resource === resource)
            .map((u) => u.message)
            .join(" ");
    if (gateway === undefined) {
        plan.warnings.push(
            warning(`the ${where} was not looked at (the cluster-facts step was not given it), so whether it takes Vault's ${kind} is not checked`),
        );
        return plan;
    }

    const served = gateway.served;
    const plural = kind === "TLSRoute" ? "tlsroutes" : "httproutes";
    // --force-conflicts: CRDs that Helm (or another manager) applied have other field owners; the channel must be the
    // one the cluster has (experimental over standard is refused by the safe-upgrades policy, and standard over
    // experimental would drop the experimental resources).
    const install = `kubectl apply --server-side --force-conflicts -f https://github.com/kubernetes-sigs/gateway-api/releases/download/${GATEWAY_API_RELEASE}/standard-install.yaml (experimental-install.yaml if the cluster has the experimental channel)`;
    if (served === undefined) {
        plan.warnings.push(
            warning(
                `the Gateway API's resources could not be listed, so whether the cluster serves ${kind} v1 is not checked. ${cannotRead("the API discovery documents")}`,
            ),
        );
    } else if (Object.keys(served).length === 0) {
        plan.problems.push(
            problem(
                `vault-ha:ingress is gateway, but the cluster does not serve the Gateway API (${GATEWAY_API_GROUP}): there is no ${where} to attach Vault's ${kind} to`,
                `install the Gateway API (${install}) and a Gateway controller with a Gateway, or ${fixes.set("ingress", "existing")} to use an Ingress class`,
            ),
        );
        return plan;
    } else if (served[plural] !== "v1") {
        const now = served[plural] ? `serves ${kind} only as ${served[plural]}` : `has no ${kind}`;
        plan.problems.push(
            problem(
                `vault-ha:ingress is gateway${kind === "TLSRoute" ? " with TLS" : ""}, so Vault's route is a ${kind} of ${GATEWAY_API_GROUP}/v1, but the cluster's Gateway API ${now}` +
                    (kind === "TLSRoute" ? " (TLSRoute v1 came with Gateway API v1.5)" : ""),
                `upgrade the Gateway API CRDs to v1.5 or newer, in the channel the cluster has (${install}; ` +
                    `Gateway API v1.5+ and Envoy Gateway v1.9's chart install the safe-upgrades ValidatingAdmissionPolicy, which then refuses older CRDs and experimental CRDs over standard ones), ` +
                    `then restart the Gateway controller (Envoy Gateway looks for TLSRoute v1 only when it starts)` +
                    (kind === "TLSRoute" ? `, or ${fixes.set("ingress", "existing")} to use an Ingress class` : ""),
            ),
        );
    }

    if (gateway.exists === undefined) {
        plan.warnings.push(
            warning(`the ${where} could not be read, so whether it takes Vault's ${kind} is not checked. ${cannotRead("gateways.gateway.networking.k8s.io")}`),
        );
        return plan;
    }
    if (!gateway.exists) {
        plan.problems.push(
            problem(
                `vault-ha:ingress is gateway, but the ${where} does not exist`,
                `\`kubectl get gateways.gateway.networking.k8s.io --all-namespaces\` lists the Gateways; ${fixes.set("gatewayName", "<its name>")} and ${fixes.set("gatewayNamespace", "<its namespace>")}`,
            ),
        );
        return plan;
    }

    const listeners = gateway.listeners ?? [];
    const fitting = fittingListeners(listeners, s.tls, s.ingressHost);
    const wanted = s.tls
        ? `protocol TLS with tls.mode Passthrough and a hostname that is empty or matches ${s.ingressHost}`
        : `protocol HTTP and a hostname that is empty or matches ${s.ingressHost}`;
    if (fitting.length === 0) {
        const example = s.tls
            ? `{name: vault, protocol: TLS, port: 443, hostname: ${s.ingressHost}, tls: {mode: Passthrough}, allowedRoutes: {namespaces: {from: All}}}`
            : `{name: vault, protocol: HTTP, port: 80, hostname: ${s.ingressHost}, allowedRoutes: {namespaces: {from: All}}}`;
        plan.problems.push(
            problem(
                `none of the ${where}'s listeners can take Vault's ${kind}: it needs ${wanted} (the listeners: ${listeners.map(describeListener).join(", ") || "none"})`,
                `add a listener to the Gateway's spec.listeners, e.g. ${example}, or ${fixes.set("ingressHost", "<a host a listener takes>")}, or ${fixes.set("gatewayName", "<another Gateway>")}`,
            ),
        );
        return plan;
    }

    const labels = namespaceLabels(gateway, s.vaultNamespace);
    const refusals = fitting.map((l) => ({ listener: l, why: admissionRefusal(l, s.gatewayNamespace, s.vaultNamespace, labels, kind) }));
    const admitting = refusals.find((r) => r.why === "");
    if (admitting) {
        plan.decided.push(ok(`the ${where} takes Vault's ${kind} on listener ${describeListener(admitting.listener)}`));
        plan.vaultPort = admitting.listener.port;
        if (whoamiEnabled(s)) checkWhoami(s, listeners, where, plan, fixes);
        return plan;
    }
    const unknown = refusals.find((r) => r.why === undefined);
    if (unknown) {
        plan.warnings.push(
            warning(
                `the ${where}'s listener ${unknown.listener.name} admits routes by a namespace selector, and namespace ${s.vaultNamespace}'s labels could not be read, so whether it admits Vault's ${kind} is not checked. ${cannotRead("namespaces")}`,
            ),
        );
        return plan;
    }
    const selectorLabels = refusals.flatMap((r) => Object.entries(r.listener.allowedRoutes.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`));
    plan.problems.push(
        problem(
            `the ${where} has a listener for Vault's ${kind}, but it does not admit it from namespace ${s.vaultNamespace}: ${refusals.map((r) => `${r.listener.name}: ${r.why}`).join("; ")}`,
            `widen the listener's allowedRoutes (namespaces: {from: All}, or a selector that selects ${s.vaultNamespace}${kind === "TLSRoute" ? ", and kinds including TLSRoute" : ""})` +
                (selectorLabels.length > 0 && gateway.vaultNamespace?.exists
                    ? `, or \`kubectl label namespace ${s.vaultNamespace} ${selectorLabels.join(" ")}\``
                    : "") +
                `, or ${fixes.set("gatewayName", "<another Gateway>")}`,
        ),
    );
    return plan;
}

/**
 * whoami's HTTPRoute (components/gateway/gatewayManifests.ts whoamiRouteManifest: Vault's host, path /_whoami) needs
 * an HTTP listener for that host that admits HTTPRoutes from whoami's namespace. Only that namespace's name label is
 * known before vault-ha creates it, so a listener selecting by other labels cannot be told.
 */
function checkWhoami(
    s: Pick<Settings, "ingressHost" | "whoamiNamespace" | "gatewayNamespace">,
    listeners: GatewayListenerFact[],
    where: string,
    plan: GatewayPlan,
    fixes: Pick<FixCommands, "set" | "rm">,
): void {
    const http = fittingListeners(listeners, false, s.ingressHost);
    const labels = { "kubernetes.io/metadata.name": s.whoamiNamespace };
    const verdicts = http.map((l) => admissionRefusal(l, s.gatewayNamespace, s.whoamiNamespace, labels, "HTTPRoute"));
    if (verdicts.includes("")) return;
    if (verdicts.includes(undefined) || http.some((l) => l.allowedRoutes.from === "Selector")) {
        plan.warnings.push(
            warning(`whether the ${where}'s HTTP listeners admit whoami's HTTPRoute from namespace ${s.whoamiNamespace} is not known before it exists`),
        );
        return;
    }
    plan.problems.push(
        problem(
            `the ${where} has no HTTP listener for ${s.ingressHost} that admits whoami's HTTPRoute from namespace ${s.whoamiNamespace}, so whoamiUrl would never answer`,
            `${fixes.set("whoami", "false")}, or add such a listener (protocol HTTP, port 80, allowedRoutes namespaces from All)`,
        ),
    );
}
