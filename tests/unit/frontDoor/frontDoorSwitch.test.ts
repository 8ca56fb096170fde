/**
 * Switching a running kind stack between ingress-nginx and the Gateway (components/frontDoor): both take the node's
 * host ports 80/443, so an up that would start one while the other holds them is refused with the two-up sequence.
 */
import { strict as assert } from "assert";
import { FixCommands } from "../../../components/config/configProblems";
import { frontDoorSwitchRefusal, PortHolder, portHolders } from "../../../components/frontDoor/frontDoorSwitch";
import { readPortHolders } from "../../../components/runner/handlers/frontDoorFacts";

const fixes = new FixCommands();
const nginx: PortHolder = { namespace: "ingress-nginx", pod: "ingress-nginx-controller-6f7b9-abcde", kind: "ingress-nginx", hostPorts: [80, 443] };
const envoy: PortHolder = {
    namespace: "envoy-gateway-system",
    pod: "envoy-envoy-gateway-system-vault-ha-426f6680-5d8-x",
    kind: "envoy-gateway",
    hostPorts: [80, 443],
};

const pod = (namespace: string, name: string, labels: Record<string, string>, hostPorts: number[], extra: Record<string, unknown> = {}) => ({
    metadata: { namespace, name, labels, ...extra },
    spec: { containers: [{ name: "c", ports: hostPorts.map((hostPort) => ({ containerPort: hostPort + 10000, hostPort })) }] },
    status: { phase: "Running" },
});

describe("the front door switch on kind", () => {
    it("reads who holds ports 80/443 from the pods: ingress-nginx's controller, Envoy Gateway's proxy, anything else; not a leaving pod", () => {
        const list = {
            items: [
                pod("ingress-nginx", "ingress-nginx-controller-1", { "app.kubernetes.io/name": "ingress-nginx" }, [80, 443]),
                pod("envoy-gateway-system", "envoy-1", { "app.kubernetes.io/managed-by": "envoy-gateway", "app.kubernetes.io/component": "proxy" }, [443, 80]),
                pod("web", "caddy", {}, [80]),
                pod("vault", "vault-0", {}, []),
                pod("ingress-nginx", "ingress-nginx-controller-0", { "app.kubernetes.io/name": "ingress-nginx" }, [80], {
                    deletionTimestamp: "2026-12-08T03:00:00Z",
                }),
            ],
        };
        assert.deepEqual(
            portHolders(list).map((h) => [h.pod, h.kind, h.hostPorts]),
            [
                ["ingress-nginx-controller-1", "ingress-nginx", [80, 443]],
                ["envoy-1", "envoy-gateway", [80, 443]],
                ["caddy", "other", [80]],
            ],
        );
    });

    it("refuses the Gateway while ingress-nginx holds the ports, and back, with the two ups through none", () => {
        const toGateway = frontDoorSwitchRefusal([nginx], "gateway", fixes)!;
        assert.match(toGateway, /vault-ha:ingress is gateway, but the running front door, ingress-nginx, holds the host ports 80 and 443/);
        assert.match(
            toGateway,
            /Nothing was changed\. Switch in two ups: npm run config -- set vault-ha:ingress none && npm run up, then npm run config -- set vault-ha:ingress gateway && npm run up/,
        );
        assert.match(frontDoorSwitchRefusal([envoy], "install", fixes)!, /the running front door, the Gateway \(Envoy Gateway\), holds/);
        assert.match(frontDoorSwitchRefusal([{ ...nginx, kind: "other", pod: "caddy" }], "gateway", fixes)!, /vault-ha did not make it/);
    });

    it("lets the same front door, none, and a new cluster go ahead", () => {
        assert.equal(frontDoorSwitchRefusal([nginx], "install", fixes), undefined);
        assert.equal(frontDoorSwitchRefusal([envoy], "gateway", fixes), undefined);
        assert.equal(frontDoorSwitchRefusal([nginx, envoy], "none", fixes), undefined);
        assert.equal(frontDoorSwitchRefusal([], "gateway", fixes), undefined);
    });

    it("the step reads the pods with kubectl, and a cluster it cannot read is unknown, not a failure", async () => {
        const seen: string[][] = [];
        const ok = await readPortHolders({ run: async (args) => (seen.push(args), { code: 0, stdout: JSON.stringify({ items: [] }), stderr: "" }) });
        assert.deepEqual(ok, { holders: [] });
        assert.deepEqual(seen[0], ["get", "pods", "--all-namespaces", "-o", "json"]);
        const down = await readPortHolders({ run: async () => ({ code: 1, stdout: "", stderr: "The connection to the server 127.0.0.1:6443 was refused" }) });
        assert.deepEqual(down, { holders: [], unknown: "The connection to the server 127.0.0.1:6443 was refused" });
    });
});
