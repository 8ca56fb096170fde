/**
 * The gateway-ready verdict (components/runner/handlers/gatewayReady.ts) on Gateway and route JSON, and the
 * cluster-facts reader's Gateway API discovery (handlers/clusterFacts.ts readGatewayFacts) on kubectl's answers.
 */
import { strict as assert } from "assert";
import { envoyPodsPending, gatewayVerdict, GatewayReadyTarget, parentStatus } from "../../../components/runner/handlers/gatewayReady";
import { readGatewayFacts } from "../../../components/runner/handlers/clusterFacts";
import type { UnreadableFact } from "../../../components/stepCommand/contract";

const T: GatewayReadyTarget = { gatewayName: "gw", gatewayNamespace: "edge", routeKind: "TLSRoute", routeName: "vault", routeNamespace: "vault" };
const cond = (type: string, status: string, reason: string, observedGeneration = 2) => ({
    type,
    status,
    reason,
    message: `${reason} said`,
    observedGeneration,
});
const gateway = (conditions = [cond("Accepted", "True", "Accepted"), cond("Programmed", "True", "Programmed")]) => ({
    metadata: { name: "gw", namespace: "edge", generation: 2 },
    status: {
        addresses: [{ type: "IPAddress", value: "10.0.0.9" }],
        conditions,
        listeners: [
            { name: "tls", supportedKinds: [{ kind: "TLSRoute" }], attachedRoutes: 2 },
            { name: "http", supportedKinds: [{ kind: "HTTPRoute" }], attachedRoutes: 1 },
        ],
    },
});
const route = (
    conditions = [cond("Accepted", "True", "Accepted", 1), cond("ResolvedRefs", "True", "ResolvedRefs", 1)],
    parentRef: object = { name: "gw", namespace: "edge" },
) => ({
    metadata: { name: "vault", namespace: "vault", generation: 1 },
    spec: { parentRefs: [parentRef] },
    status: { parents: [{ parentRef, controllerName: "x", conditions }] },
});

describe("gateway-ready: the verdict", () => {
    it("ready: the address and the listeners that take the route's kind", () => {
        assert.deepEqual(gatewayVerdict(gateway(), route(), T), { ready: { addresses: ["10.0.0.9"], listeners: [{ name: "tls", attachedRoutes: 2 }] } });
    });

    it("a condition written for an older generation is not an answer yet", () => {
        const stale = gateway([cond("Accepted", "True", "Accepted", 1), cond("Programmed", "True", "Programmed", 1)]);
        assert.match((gatewayVerdict(stale, route(), T) as { waiting: string }).waiting, /not accepted yet \(no Accepted condition for its current generation/);
    });

    it("the route's parent entry: namespace defaults to the route's, another Gateway's entry is not this one's", () => {
        assert.ok(parentStatus(route(undefined, { name: "gw", namespace: "edge" }), T));
        assert.equal(parentStatus(route(undefined, { name: "gw" }), T), undefined, "the route's own namespace is vault, not edge");
        assert.ok(parentStatus(route(undefined, { name: "gw" }), { ...T, gatewayNamespace: "vault" }));
        assert.match(
            (gatewayVerdict(gateway(), route(undefined, { name: "other", namespace: "edge" }), T) as { waiting: string }).waiting,
            /has no status for Gateway edge\/gw yet/,
        );
    });

    it("fails on definitive reasons, naming what to change", () => {
        const failed = (g: unknown, r: unknown) => (gatewayVerdict(g, r, T) as { failed: string }).failed;
        assert.match(failed(gateway([cond("Accepted", "False", "InvalidParameters")]), route()), /does not accept Gateway edge\/gw: InvalidParameters/);
        assert.match(failed(gateway(), route([cond("Accepted", "False", "NoMatchingListenerHostname", 1)])), /vault-ha:ingressHost/);
        assert.match(failed(gateway(), route([cond("ResolvedRefs", "False", "BackendNotFound", 1)])), /names a backend that does not exist/);
        assert.match(failed(gateway(), route([cond("Accepted", "False", "NotAllowedByListeners", 1)])), /vault-ha:gatewayName/);
    });

    it("waits on Pending, NoResources and AddressNotAssigned, and says what a missing address means", () => {
        const waiting = (g: unknown) => (gatewayVerdict(g, route(), T) as { waiting: string }).waiting;
        assert.match(waiting(gateway([cond("Accepted", "True", "Accepted"), cond("Programmed", "False", "NoResources")])), /not programmed yet \(NoResources/);
        assert.match(
            waiting(gateway([cond("Accepted", "True", "Accepted"), cond("Programmed", "False", "AddressNotAssigned")])),
            /LoadBalancer that no load balancer controller serves/,
        );
        assert.match(waiting(null), /does not exist/);
    });
});

describe("cluster-facts: the Gateway API's discovery", () => {
    const target = { name: "gw", namespace: "edge", vaultNamespace: "vault" };
    const kubectl = (answers: Record<string, { code: number; stdout: string; stderr: string }>) => ({
        async run(args: string[]) {
            const answer = answers[args[0]] ?? answers[args[1]];
            if (!answer) throw new Error(`unexpected kubectl ${args.join(" ")}`);
            return answer;
        },
    });
    const list = (resources: object[] | null) => JSON.stringify({ kind: "APIResourceList", apiVersion: "v1", groupVersion: "", resources });

    it("keeps the group's answer when another group failed discovery (kubectl exits 1 after printing)", async () => {
        const unreadable: UnreadableFact[] = [];
        const facts = await readGatewayFacts(
            kubectl({
                "api-resources": {
                    code: 1,
                    stdout: list([{ name: "tlsroutes", group: "gateway.networking.k8s.io", version: "v1" }]),
                    stderr: "error: unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: the server is currently unable to handle the request",
                },
            }),
            target,
            unreadable,
        );
        assert.deepEqual(facts, { name: "gw", namespace: "edge", served: { tlsroutes: "v1" }, exists: false });
    });

    it("no resources (null) is no Gateway API; a forbidden discovery is an unreadable fact", async () => {
        const none = await readGatewayFacts(kubectl({ "api-resources": { code: 0, stdout: list(null), stderr: "" } }), target, []);
        assert.deepEqual(none.served, {});
        const unreadable: UnreadableFact[] = [];
        const forbidden = await readGatewayFacts(
            kubectl({
                "api-resources": { code: 1, stdout: "", stderr: 'Error from server (Forbidden): forbidden: User "x" cannot get path "/apis"' },
                get: { code: 0, stdout: "", stderr: "" },
            }),
            target,
            unreadable,
        );
        assert.equal(forbidden.served, undefined);
        assert.equal(forbidden.exists, false, "read anyway: --ignore-not-found printed nothing");
        assert.match(unreadable[0].message, /the API discovery documents/);
    });
});

describe("why the Gateway's Envoy does not run", () => {
    it("quotes a Pending Envoy pod's scheduling message, and names the port holder when the ports are taken", () => {
        const pending = (message: string) => ({
            items: [
                {
                    metadata: { namespace: "envoy-gateway-system", name: "envoy-vault-ha-1" },
                    status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message }] },
                },
            ],
        });
        const ports = envoyPodsPending(pending("0/4 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."));
        assert.match(ports, /^: its Envoy pod envoy-gateway-system\/envoy-vault-ha-1 is Pending: 0\/4 nodes are available: 1 node\(s\) didn't have free ports/);
        assert.match(ports, /switch in two ups, through vault-ha:ingress none/);
        assert.doesNotMatch(envoyPodsPending(pending("0/4 nodes are available: 4 Insufficient cpu.")), /two ups/);
        assert.equal(envoyPodsPending({ items: [{ metadata: { namespace: "n", name: "p" }, status: { phase: "Running" } }] }), "");
    });
});
