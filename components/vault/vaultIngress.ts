/**
 * VaultIngress: Vault behind ingress-nginx at its own host name. With TLS the Ingress uses SSL passthrough: nginx
 * routes by SNI and hands the TLS connection, unopened, to the active Vault pod, so clients see (and verify) Vault's
 * own certificate. Without TLS it is a plain HTTP route.
 *
 * The class is ingress-nginx's (installed by vault-ha, on kind or on an existing cluster) or one the cluster already
 * has (`ingress: existing`). With TLS, that class must be served by ingress-nginx started with
 * --enable-ssl-passthrough: the passthrough annotation means nothing to any other controller, or to ingress-nginx
 * without that flag, which would then terminate TLS itself with its own certificate and speak plain HTTP to Vault's
 * TLS port. vault-ha cannot see how a controller was started, so this is the user's to ensure.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inCluster } from "../inCluster";
import { VAULT_API_PORT, VAULT_RELEASE_NAME } from "./names";

export interface VaultIngressArgs {
    /** Pass VaultNamespace.name (an Output, not a string), so that the Ingress waits for its namespace. */
    namespace: pulumi.Input<string>;
    host: string;
    ingressClassName: pulumi.Input<string>;
    tls: boolean;
    /**
     * Where the controller answers, for the URL: the host ports kind maps to it, or on an existing cluster the
     * standard 80 and 443 (the URL is then http(s)://<host> without a port). The stack plan's.
     */
    hostHttpPort: number;
    hostHttpsPort: number;
    /**
     * Do not wait for the Ingress to get an address: an ingress class vault-ha did not install may never publish one
     * in the Ingress status (bare metal, hostNetwork controllers), and Pulumi's Ingress await waits for it
     * (status.loadBalancer.ingress) until its timeout. The annotation pulumi.com/skipAwait turns that wait off.
     */
    skipAwait?: boolean;
}

/** pulumi-kubernetes' annotation that skips a resource's await logic. */
export const SKIP_AWAIT = "pulumi.com/skipAwait";

export function ingressUrl(tls: boolean, host: string, httpPort: number, httpsPort: number): string {
    const port = tls ? httpsPort : httpPort;
    const standard = tls ? 443 : 80;
    return `${tls ? "https" : "http"}://${host}${port === standard ? "" : `:${port}`}`;
}

export class VaultIngress extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: VaultIngressArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:ingress:VaultIngress", name, {}, opts);

        new k8s.networking.v1.Ingress(
            `${name}-ingress`,
            {
                metadata: {
                    name: VAULT_RELEASE_NAME,
                    namespace: args.namespace,
                    // Passthrough works at the TLS layer, on the rule's host and path "/" only, and ignores every
                    // other nginx annotation; the controller runs with --enable-ssl-passthrough.
                    annotations: {
                        ...(args.tls ? { "nginx.ingress.kubernetes.io/ssl-passthrough": "true" } : {}),
                        ...(args.skipAwait ? { [SKIP_AWAIT]: "true" } : {}),
                    },
                },
                spec: {
                    ingressClassName: args.ingressClassName,
                    rules: [
                        {
                            host: args.host,
                            http: {
                                paths: [
                                    {
                                        path: "/",
                                        pathType: "Prefix",
                                        // The active pod: standbys would forward anyway, but this saves the hop.
                                        backend: { service: { name: `${VAULT_RELEASE_NAME}-active`, port: { number: VAULT_API_PORT } } },
                                    },
                                ],
                            },
                        },
                    ],
                },
            },
            inCluster(this, opts),
        );

        this.url = pulumi.output(ingressUrl(args.tls, args.host, args.hostHttpPort, args.hostHttpsPort));
        this.registerOutputs({ url: this.url });
    }
}
