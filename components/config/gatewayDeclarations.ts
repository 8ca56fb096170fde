/**
 * The Gateway API front door's settings (issue 22, `ingress: gateway`). On an existing cluster they name a Gateway that
 * is already there, which Vault's and whoami's routes attach to; on kind vault-ha installs Envoy Gateway and creates
 * its own Gateway, at their defaults (components/gateway/gatewayManifests.ts). Declared as in settingDeclarations.ts; their rules are in modeRules.ts.
 */
import { z } from "zod";
import * as g from "./grammars";
import type { Declaration } from "./settingDeclarations";

const declare = <T>(declaration: Declaration<T>): Declaration<T> => declaration;

export const GATEWAY_DECLARATIONS = {
    gatewayName: declare<string>({
        default: "vault-ha",
        parse: g.fromZod(z.string().trim().max(253, "must be at most 253 characters").regex(g.DNS1123_SUBDOMAIN, "must be a Gateway name such as vault-ha")),
        row: {
            meaning:
                "with `ingress: gateway` on an existing cluster, the Gateway Vault's and whoami's routes attach to (it must exist); on kind vault-ha creates `envoy-gateway-system/vault-ha` with Envoy Gateway",
            with: ["gatewayNamespace"],
        },
        doc: "With ingress gateway on an existing cluster: the Gateway Vault's TLSRoute and whoami's HTTPRoute attach to; it must exist. On kind vault-ha creates envoy-gateway-system/vault-ha.",
    }),
    gatewayNamespace: declare<string>({
        default: "envoy-gateway-system",
        parse: g.fromZod(g.dnsLabel(63, "a Kubernetes namespace name")),
        doc: "With ingress gateway on an existing cluster: your Gateway's namespace. On kind vault-ha installs Envoy Gateway in envoy-gateway-system.",
    }),
};
