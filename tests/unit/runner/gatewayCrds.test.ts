/**
 * The CRDs Envoy Gateway's chart brings, on kind (components/runner/handlers/gatewayCrds.ts): Helm never deletes them,
 * so the `gateway-crds` step's delete does, for the Gateway API's and Envoy Gateway's groups only.
 */
import { strict as assert } from "assert";
import { deleteGatewayCrds, gatewayCrdNames } from "../../../components/runner/handlers/gatewayCrds";

const crd = (name: string, group: string) => ({ metadata: { name }, spec: { group } });
const LIST = {
    items: [
        crd("tlsroutes.gateway.networking.k8s.io", "gateway.networking.k8s.io"),
        crd("envoyproxies.gateway.envoyproxy.io", "gateway.envoyproxy.io"),
        crd("xbackendtrafficpolicies.gateway.networking.x-k8s.io", "gateway.networking.x-k8s.io"),
        crd("certificates.cert-manager.io", "cert-manager.io"),
    ],
};

describe("the Gateway front door's CRDs on kind", () => {
    it("are those of the Gateway API's and Envoy Gateway's groups, never another's (cert-manager's stay)", () => {
        assert.deepEqual(gatewayCrdNames(LIST), [
            "envoyproxies.gateway.envoyproxy.io",
            "tlsroutes.gateway.networking.k8s.io",
            "xbackendtrafficpolicies.gateway.networking.x-k8s.io",
        ]);
    });

    it("are deleted by name, waiting for each to go; none left is no error; a refusal is", async () => {
        const calls: string[][] = [];
        const kubectl = (deleteCode = 0, list: unknown = LIST) => ({
            run: async (args: string[]) => {
                calls.push(args);
                if (args[0] === "get") return { code: 0, stdout: JSON.stringify(list), stderr: "" };
                return { code: deleteCode, stdout: "", stderr: deleteCode ? "forbidden" : "" };
            },
        });
        const deleted = await deleteGatewayCrds(kubectl(), 120, () => undefined);
        assert.equal(deleted.length, 3);
        assert.deepEqual(calls[1], ["delete", "customresourcedefinitions.apiextensions.k8s.io", ...deleted, "--ignore-not-found", "--wait=false"]);
        assert.deepEqual(calls[2], ["wait", "--for=delete", ...deleted.map((c) => `customresourcedefinitions.apiextensions.k8s.io/${c}`), "--timeout=120s"]);
        assert.deepEqual(await deleteGatewayCrds(kubectl(0, { items: [] }), 120, () => undefined), []);
        await assert.rejects(
            deleteGatewayCrds(kubectl(1), 120, () => undefined),
            /could not delete the Gateway API and Envoy Gateway CRDs .*forbidden/,
        );
    });
});
