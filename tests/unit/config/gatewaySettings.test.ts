/**
 * The Gateway front door's settings (components/config/gatewayDeclarations.ts, the rules in modeRules.ts and
 * settingRules.ts): `ingress: gateway` on both cluster modes, the Gateway's name and namespace used only with it, and
 * on kind (where vault-ha creates that namespace) the same namespace rules as every component's.
 */
import { strict as assert } from "assert";
import { ConfigError } from "../../../components/config/configProblems";
import { parseSettings } from "../../../components/config/configReader";
import { renderAssumptions, stackPlan } from "../../../components/stackPlan";

function refusal(raw: Record<string, string>): string {
    try {
        parseSettings(raw);
    } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        return err.message;
    }
    assert.fail(`accepted: ${JSON.stringify(raw)}`);
}

describe("the Gateway front door's settings", () => {
    it("ingress: gateway on kind plans Envoy Gateway's Gateway; on an existing cluster, the named one", () => {
        const kind = parseSettings({ ingress: "gateway" }).settings;
        const onKind = stackPlan(kind, "vault-ha").ingress;
        assert.ok(onKind?.source === "gateway");
        assert.deepEqual([onKind.gateway.name, onKind.gateway.namespace, onKind.gateway.install], ["vault-ha", "envoy-gateway-system", true]);
        assert.deepEqual(onKind.gateway.envoy, { tls: true, ingressHost: "vault.localhost", vaultNamespace: "vault", whoamiNamespace: "whoami" });
        const existing = parseSettings({
            cluster: "existing",
            kubeContext: "prod",
            ingress: "gateway",
            gatewayName: "public",
            gatewayNamespace: "gateways",
        }).settings;
        const elsewhere = stackPlan(existing, "vault-ha", renderAssumptions(existing)).ingress;
        assert.ok(elsewhere?.source === "gateway");
        assert.deepEqual(elsewhere.gateway, {
            name: "public",
            namespace: "gateways",
            install: false,
            target: { cluster: "existing", gatewayName: "public", gatewayNamespace: "gateways" },
        });
    });

    it("refuses the Gateway's name or namespace without ingress: gateway, with both fixes", () => {
        const message = refusal({ gatewayName: "public" });
        assert.match(message, /gatewayName.*is only used with ingress: gateway \(ingress is install\)/);
        assert.match(message, /npm run config -- rm vault-ha:gatewayName, or npm run config -- set vault-ha:ingress gateway/);
    });

    it("on kind the Gateway is vault-ha's own (its names are fixed, and its namespace collides with no component's); elsewhere any of the user's", () => {
        assert.match(
            refusal({ ingress: "gateway", gatewayNamespace: "gateways" }),
            /gatewayNamespace.*is only used with cluster: existing.*envoy-gateway-system\/vault-ha/,
        );
        assert.match(refusal({ ingress: "gateway", vaultNamespace: "envoy-gateway-system" }), /is also (gatewayNamespace|vaultNamespace)/);
        const existing = parseSettings({ cluster: "existing", kubeContext: "prod", ingress: "gateway", gatewayNamespace: "default" }).settings;
        assert.equal(existing.gatewayNamespace, "default");
    });
});
