/**
 * VaultRoute: Vault behind the Gateway front door (issue 22). With TLS a TLSRoute v1 on a Passthrough listener: the
 * Gateway routes by SNI and hands the connection, unopened, to the active Vault pod, so clients see and verify Vault's
 * own certificate; without TLS an HTTPRoute. Then the `gateway-ready` step waits until the Gateway is Accepted and
 * Programmed and the route Accepted with its backend resolved (runner/handlers/gatewayReady.ts), and fails at once on
 * a refusal that no wait changes (a listener that does not admit the route, a host it does not serve).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { dependencyList, inCluster } from "../inCluster";
import { vaultRouteKind } from "../cluster/gatewayFacts";
import { Logging, stepResource } from "../stepCommand/stepResource";
import { ingressUrl } from "../vault/vaultIngress";
import { type GatewayTarget, VAULT_ROUTE_NAME, vaultRouteManifest } from "./gatewayManifests";
import type { GatewayRef } from "./envoyGateway";

export interface VaultRouteArgs {
    /** Pass VaultNamespace.name (an Output), so that the route waits for its namespace. */
    namespace: pulumi.Input<string>;
    vaultNamespace: string;
    host: string;
    tls: boolean;
    /** vault-ha's own Gateway (EnvoyGateway.gateway, on kind) or the user's. */
    gateway: GatewayTarget;
    gatewayRef: pulumi.Input<GatewayRef>;
    /** Where the Gateway answers, for the URL: kind's mapped host ports, elsewhere 80 and 443 (the stack plan's). */
    hostHttpPort: number;
    hostHttpsPort: number;
    kubeconfig: pulumi.Input<string>;
}

export class VaultRoute extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    /** The readiness step: what proves the front door before anything goes through it. */
    public readonly ready: pulumi.Resource;

    constructor(name: string, args: VaultRouteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:gateway:VaultRoute", name, {}, opts);

        const manifest = vaultRouteManifest({ tls: args.tls, ingressHost: args.host, vaultNamespace: args.vaultNamespace, gateway: args.gateway });
        const route = new k8s.apiextensions.CustomResource(
            `${name}-route`,
            { apiVersion: manifest.apiVersion, kind: manifest.kind, metadata: { ...manifest.metadata, namespace: args.namespace }, spec: manifest.spec },
            inCluster(this, opts),
        );

        this.ready = stepResource(
            `${name}-ready`,
            {
                step: "gateway-ready",
                params: pulumi.output(args.gatewayRef).apply((g) => ({
                    gatewayName: g.name,
                    gatewayNamespace: g.namespace,
                    routeKind: vaultRouteKind(args.tls),
                    routeName: VAULT_ROUTE_NAME,
                    routeNamespace: args.vaultNamespace,
                    timeoutSeconds: 600,
                })),
                secrets: { kubeconfig: args.kubeconfig },
                logging: Logging.StdoutAndStderr,
                // Asked again whenever the route's spec changes (not its status, which the controller rewrites: a
                // refresh must not make a second up re-run the step).
                triggers: [JSON.stringify(manifest.spec)],
            },
            // The component's own dependencies too (the Vault release, whose vault-active Service is the backend).
            inCluster(this, opts, { dependsOn: [...dependencyList(opts?.dependsOn), route] }),
        );

        this.url = pulumi.output(ingressUrl(args.tls, args.host, args.hostHttpPort, args.hostHttpsPort));
        this.registerOutputs({ url: this.url });
    }
}
