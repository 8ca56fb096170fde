/**
 * The CEL rules (x-kubernetes-validations) that vault-ha's Gateway API and EnvoyProxy objects reach in the CRDs
 * Envoy Gateway v1.9.0 bundles (Gateway API v1.6.1, experimental channel), each with a TypeScript predicate that says
 * what the rule says, read by hand from the rule's text (the key) and message. tests/support/crdValidator.ts calls
 * them with `self`, the value at the rule's node after the schema's defaults are applied, as the API server does.
 *
 * CEL semantics kept: `has(x.f)` is true for a field that is present (even empty); reading or sizing an absent field
 * is an evaluation error, which fails the rule (the predicate throws); `exists_one` means exactly one; the
 * Kubernetes escape `__namespace__` names the field `namespace`; `matches` is RE2 search (these patterns are
 * anchored). A rule that changes upstream is no longer found by its text, and the validation then fails.
 */
import { isIP } from "net";
import type { CelTable } from "./crdValidator";

/** CEL's has(): the field is present. */
const has = (o: any, field: string): boolean => o !== null && typeof o === "object" && o[field] !== undefined;

/** CEL's field access, which fails on an absent field. */
function field(o: any, name: string): any {
    if (!has(o, name)) throw new Error(`no such key: ${name}`);
    return o[name];
}

/** CEL's size() of a list, map or string; it fails on an absent value. */
function size(v: unknown): number {
    if (Array.isArray(v) || typeof v === "string") return v.length;
    if (v !== null && typeof v === "object") return Object.keys(v).length;
    throw new Error("size() of no value");
}

const existsOne = <T>(list: T[], p: (x: T) => boolean): boolean => list.filter(p).length === 1;
const emptyOrAbsent = (o: any, f: string) => !has(o, f) || o[f] === "" || o[f] === 0;

const RFC_1123 = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$/;
const PATH_CHARACTERS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;

/** Same parent: group, kind, name and namespace (both unset or empty, or equal). */
function sameParent(p1: any, p2: any): boolean {
    const namespaces =
        (emptyOrAbsent(p1, "namespace") && emptyOrAbsent(p2, "namespace")) || (has(p1, "namespace") && has(p2, "namespace") && p1.namespace === p2.namespace);
    return p1.group === p2.group && p1.kind === p2.kind && p1.name === p2.name && namespaces;
}

/** Both unset or empty, or both set and equal. */
const sameOptional = (a: any, b: any, f: string) => (emptyOrAbsent(a, f) && emptyOrAbsent(b, f)) || (has(a, f) && has(b, f) && a[f] === b[f]);

/** A path match of type Exact or PathPrefix: the path rules constrain only these. */
const literalPath = (self: any) => ["Exact", "PathPrefix"].includes(self.type);

/** An HTTPRoute filter list holding exactly one filter of `kind` (requestRedirect or urlRewrite) that replaces a prefix match. */
const oneReplacePrefix = (filters: any, kind: string) =>
    Array.isArray(filters) &&
    existsOne(
        filters,
        (f: any) => has(f, kind) && has(f[kind], "path") && f[kind].path.type === "ReplacePrefixMatch" && has(f[kind].path, "replacePrefixMatch"),
    );

/** `size(self.matches) != 1 || ... ? false : true`: exactly one match, of a path prefix. */
const onePrefixMatch = (rule: any) => size(field(rule, "matches")) === 1 && has(rule.matches[0], "path") && rule.matches[0].path.type === "PathPrefix";

export const GATEWAY_CEL_RULES: CelTable = new Map<string, (self: any) => boolean>([
    // ---- EnvoyProxy (gateway.envoyproxy.io/v1alpha1) ----
    // allocateLoadBalancerNodePorts, loadBalancerSourceRanges, loadBalancerIP can only be set for LoadBalancer type
    ["!has(self.allocateLoadBalancerNodePorts) || self.type == 'LoadBalancer'", (s) => !has(s, "allocateLoadBalancerNodePorts") || s.type === "LoadBalancer"],
    ["!has(self.loadBalancerSourceRanges) || self.type == 'LoadBalancer'", (s) => !has(s, "loadBalancerSourceRanges") || s.type === "LoadBalancer"],
    ["!has(self.loadBalancerIP) || self.type == 'LoadBalancer'", (s) => !has(s, "loadBalancerIP") || s.type === "LoadBalancer"],
    // only one of envoyDeployment or envoyDaemonSet can be specified
    [
        "((has(self.envoyDeployment) && !has(self.envoyDaemonSet)) || (!has(self.envoyDeployment) && has(self.envoyDaemonSet))) || (!has(self.envoyDeployment) && !has(self.envoyDaemonSet))",
        (s) => !(has(s, "envoyDeployment") && has(s, "envoyDaemonSet")),
    ],
    // cannot use envoyHpa if envoyDaemonSet is used
    [
        "((has(self.envoyHpa) && !has(self.envoyDaemonSet)) || (!has(self.envoyHpa) && has(self.envoyDaemonSet))) || (!has(self.envoyHpa) && !has(self.envoyDaemonSet))",
        (s) => !(has(s, "envoyHpa") && has(s, "envoyDaemonSet")),
    ],
    // mergeGateways and mergeBackends cannot both be enabled
    [
        "!(has(self.mergeGateways) && self.mergeGateways && has(self.mergeBackends))",
        (s) => !(has(s, "mergeGateways") && s.mergeGateways === true && has(s, "mergeBackends")),
    ],

    // ---- GatewayClass ----
    // Value is immutable (spec.controllerName): a transition rule, which the API server evaluates on update only,
    // when there is an oldSelf. These objects are checked as created.
    ["self == oldSelf", () => true],

    // ---- Gateway listeners ----
    // certificateRefs or options must be specified when mode is Terminate
    [
        "self.mode == 'Terminate' ? size(self.certificateRefs) > 0 || size(self.options) > 0 : true",
        (s) => (s.mode === "Terminate" ? size(field(s, "certificateRefs")) > 0 || size(field(s, "options")) > 0 : true),
    ],
    // tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']
    [
        "self.all(l, l.protocol in ['HTTP', 'TCP', 'UDP'] ? !has(l.tls) : true)",
        (s) => s.every((l: any) => (["HTTP", "TCP", "UDP"].includes(l.protocol) ? !has(l, "tls") : true)),
    ],
    // tls mode must be Terminate for protocol HTTPS
    [
        "self.all(l, (l.protocol == 'HTTPS' && has(l.tls)) ? (l.tls.mode == '' || l.tls.mode == 'Terminate') : true)",
        (s) => s.every((l: any) => (l.protocol === "HTTPS" && has(l, "tls") ? ["", "Terminate"].includes(field(l.tls, "mode")) : true)),
    ],
    // tls mode must be set for protocol TLS
    [
        "self.all(l, (l.protocol == 'TLS' ? has(l.tls) && has(l.tls.mode) && l.tls.mode != '' : true))",
        (s) => s.every((l: any) => (l.protocol === "TLS" ? has(l, "tls") && has(l.tls, "mode") && l.tls.mode !== "" : true)),
    ],
    // hostname must not be specified for protocols ['TCP', 'UDP']
    [
        "self.all(l, l.protocol in ['TCP', 'UDP']  ? (!has(l.hostname) || l.hostname == '') : true)",
        (s) => s.every((l: any) => (["TCP", "UDP"].includes(l.protocol) ? !has(l, "hostname") || l.hostname === "" : true)),
    ],
    // Listener name must be unique within the Gateway
    ["self.all(l1, self.exists_one(l2, l1.name == l2.name))", (s) => s.every((l1: any) => existsOne(s, (l2: any) => l1.name === l2.name))],
    // Combination of port, protocol and hostname must be unique for each listener
    [
        "self.all(l1, self.exists_one(l2, l1.port == l2.port && l1.protocol == l2.protocol && (has(l1.hostname) && has(l2.hostname) ? l1.hostname == l2.hostname : !has(l1.hostname) && !has(l2.hostname))))",
        (s) =>
            s.every((l1: any) =>
                existsOne(
                    s,
                    (l2: any) =>
                        l1.port === l2.port &&
                        l1.protocol === l2.protocol &&
                        (has(l1, "hostname") && has(l2, "hostname") ? l1.hostname === l2.hostname : !has(l1, "hostname") && !has(l2, "hostname")),
                ),
            ),
    ],

    // ---- Route hostnames (TLSRoute, HTTPRoute) ----
    // Hostnames cannot contain an IP
    ["self.all(h, !isIP(h))", (s) => s.every((h: string) => isIP(h) === 0)],
    // Hostnames must be valid based on RFC-1123
    [
        "self.all(h, !h.contains('*') ? h.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$') : true)",
        (s) => s.every((h: string) => (!h.includes("*") ? RFC_1123.test(h) : true)),
    ],
    // Wildcards on hostnames must be the first label, and the rest of hostname must be valid based on RFC-1123
    [
        "self.all(h, h.contains('*') ? (h.startsWith('*.') && h.substring(2).matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$')) : true)",
        (s) => s.every((h: string) => (h.includes("*") ? h.startsWith("*.") && RFC_1123.test(h.substring(2)) : true)),
    ],

    // ---- Route parentRefs ----
    // sectionName or port must be specified when parentRefs includes 2 or more references to the same parent
    [
        "self.all(p1, self.all(p2, p1.group == p2.group && p1.kind == p2.kind && p1.name == p2.name && (((!has(p1.__namespace__) || p1.__namespace__ == '') && (!has(p2.__namespace__) || p2.__namespace__ == '')) || (has(p1.__namespace__) && has(p2.__namespace__) && p1.__namespace__ == p2.__namespace__)) ? ((!has(p1.sectionName) || p1.sectionName == '') == (!has(p2.sectionName) || p2.sectionName == '') && (!has(p1.port) || p1.port == 0) == (!has(p2.port) || p2.port == 0)): true))",
        (s) =>
            s.every((p1: any) =>
                s.every((p2: any) =>
                    sameParent(p1, p2)
                        ? emptyOrAbsent(p1, "sectionName") === emptyOrAbsent(p2, "sectionName") && emptyOrAbsent(p1, "port") === emptyOrAbsent(p2, "port")
                        : true,
                ),
            ),
    ],
    // sectionName or port must be unique when parentRefs includes 2 or more references to the same parent
    [
        "self.all(p1, self.exists_one(p2, p1.group == p2.group && p1.kind == p2.kind && p1.name == p2.name && (((!has(p1.__namespace__) || p1.__namespace__ == '') && (!has(p2.__namespace__) || p2.__namespace__ == '')) || (has(p1.__namespace__) && has(p2.__namespace__) && p1.__namespace__ == p2.__namespace__ )) && (((!has(p1.sectionName) || p1.sectionName == '') && (!has(p2.sectionName) || p2.sectionName == '')) || ( has(p1.sectionName) && has(p2.sectionName) && p1.sectionName == p2.sectionName)) && (((!has(p1.port) || p1.port == 0) && (!has(p2.port) || p2.port == 0)) || (has(p1.port) && has(p2.port) && p1.port == p2.port))))",
        (s) => s.every((p1: any) => existsOne(s, (p2: any) => sameParent(p1, p2) && sameOptional(p1, p2, "sectionName") && sameOptional(p1, p2, "port"))),
    ],

    // ---- Route backendRefs ----
    // Must have port for Service reference (group "" and kind Service are the schema's defaults)
    [
        "(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true",
        (s) => (size(field(s, "group")) === 0 && s.kind === "Service" ? has(s, "port") : true),
    ],

    // ---- HTTPRoute rules ----
    // While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128
    [
        "(self.size() > 0 ? self[0].matches.size() : 0) + (self.size() > 1 ? self[1].matches.size() : 0) + (self.size() > 2 ? self[2].matches.size() : 0) + (self.size() > 3 ? self[3].matches.size() : 0) + (self.size() > 4 ? self[4].matches.size() : 0) + (self.size() > 5 ? self[5].matches.size() : 0) + (self.size() > 6 ? self[6].matches.size() : 0) + (self.size() > 7 ? self[7].matches.size() : 0) + (self.size() > 8 ? self[8].matches.size() : 0) + (self.size() > 9 ? self[9].matches.size() : 0) + (self.size() > 10 ? self[10].matches.size() : 0) + (self.size() > 11 ? self[11].matches.size() : 0) + (self.size() > 12 ? self[12].matches.size() : 0) + (self.size() > 13 ? self[13].matches.size() : 0) + (self.size() > 14 ? self[14].matches.size() : 0) + (self.size() > 15 ? self[15].matches.size() : 0) <= 128",
        (s) => s.slice(0, 16).reduce((total: number, rule: any) => total + size(field(rule, "matches")), 0) <= 128,
    ],
    // Rule name must be unique within the route
    [
        "self.all(l1, !has(l1.name) || self.exists_one(l2, has(l2.name) && l1.name == l2.name))",
        (s) => s.every((l1: any) => !has(l1, "name") || existsOne(s, (l2: any) => has(l2, "name") && l1.name === l2.name)),
    ],
    // RequestRedirect filter must not be used together with backendRefs
    [
        "(has(self.backendRefs) && size(self.backendRefs) > 0) ? (!has(self.filters) || self.filters.all(f, !has(f.requestRedirect))): true",
        (s) => (has(s, "backendRefs") && size(s.backendRefs) > 0 ? !has(s, "filters") || s.filters.every((f: any) => !has(f, "requestRedirect")) : true),
    ],
    // When using RequestRedirect / URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified
    [
        "(has(self.filters) && self.filters.exists_one(f, has(f.requestRedirect) && has(f.requestRedirect.path) && f.requestRedirect.path.type == 'ReplacePrefixMatch' && has(f.requestRedirect.path.replacePrefixMatch))) ? ((size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true) : true",
        (s) => (oneReplacePrefix(s.filters, "requestRedirect") ? onePrefixMatch(s) : true),
    ],
    [
        "(has(self.filters) && self.filters.exists_one(f, has(f.urlRewrite) && has(f.urlRewrite.path) && f.urlRewrite.path.type == 'ReplacePrefixMatch' && has(f.urlRewrite.path.replacePrefixMatch))) ? ((size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true) : true",
        (s) => (oneReplacePrefix(s.filters, "urlRewrite") ? onePrefixMatch(s) : true),
    ],
    // Within backendRefs, the same two
    [
        "(has(self.backendRefs) && self.backendRefs.exists_one(b, (has(b.filters) && b.filters.exists_one(f, has(f.requestRedirect) && has(f.requestRedirect.path) && f.requestRedirect.path.type == 'ReplacePrefixMatch' && has(f.requestRedirect.path.replacePrefixMatch))) )) ? ((size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true) : true",
        (s) =>
            Array.isArray(s.backendRefs) && existsOne(s.backendRefs, (b: any) => oneReplacePrefix(b.filters, "requestRedirect")) ? onePrefixMatch(s) : true,
    ],
    [
        "(has(self.backendRefs) && self.backendRefs.exists_one(b, (has(b.filters) && b.filters.exists_one(f, has(f.urlRewrite) && has(f.urlRewrite.path) && f.urlRewrite.path.type == 'ReplacePrefixMatch' && has(f.urlRewrite.path.replacePrefixMatch))) )) ? ((size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true) : true",
        (s) => (Array.isArray(s.backendRefs) && existsOne(s.backendRefs, (b: any) => oneReplacePrefix(b.filters, "urlRewrite")) ? onePrefixMatch(s) : true),
    ],

    // ---- HTTPRoute path matches ----
    // type must be one of ['Exact', 'PathPrefix', 'RegularExpression']
    ["self.type in ['Exact','PathPrefix'] || self.type == 'RegularExpression'", (s) => ["Exact", "PathPrefix", "RegularExpression"].includes(s.type)],
    // value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']
    ["(self.type in ['Exact','PathPrefix']) ? self.value.startsWith('/') : true", (s) => (literalPath(s) ? field(s, "value").startsWith("/") : true)],
    ["(self.type in ['Exact','PathPrefix']) ? !self.value.contains('//') : true", (s) => (literalPath(s) ? !field(s, "value").includes("//") : true)],
    ["(self.type in ['Exact','PathPrefix']) ? !self.value.contains('/./') : true", (s) => (literalPath(s) ? !field(s, "value").includes("/./") : true)],
    ["(self.type in ['Exact','PathPrefix']) ? !self.value.contains('/../') : true", (s) => (literalPath(s) ? !field(s, "value").includes("/../") : true)],
    ["(self.type in ['Exact','PathPrefix']) ? !self.value.contains('%2f') : true", (s) => (literalPath(s) ? !field(s, "value").includes("%2f") : true)],
    ["(self.type in ['Exact','PathPrefix']) ? !self.value.contains('%2F') : true", (s) => (literalPath(s) ? !field(s, "value").includes("%2F") : true)],
    ["(self.type in ['Exact','PathPrefix']) ? !self.value.contains('#') : true", (s) => (literalPath(s) ? !field(s, "value").includes("#") : true)],
    ["(self.type in ['Exact','PathPrefix']) ? !self.value.endsWith('/..') : true", (s) => (literalPath(s) ? !field(s, "value").endsWith("/..") : true)],
    ["(self.type in ['Exact','PathPrefix']) ? !self.value.endsWith('/.') : true", (s) => (literalPath(s) ? !field(s, "value").endsWith("/.") : true)],
    // must only contain valid characters for types ['Exact', 'PathPrefix']
    [
        `(self.type in ['Exact','PathPrefix']) ? self.value.matches(r"""^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$""") : true`,
        (s) => (literalPath(s) ? PATH_CHARACTERS.test(field(s, "value")) : true),
    ],
]);
