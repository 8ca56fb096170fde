/**
 * Whoami: traefik/whoami behind an Ingress, answering at http://localhost/_whoami on kind: proof that ingress works.
 *
 * On a cluster the user already has, it answers at http://<ingressHost>/_whoami instead: its rule then names that
 * host, because ingress-nginx serves each host of the Ingress rules from its own server (rules without a host from
 * the catch-all one), and Vault's Ingress claims that host with path "/": requests for it would never reach a rule
 * without a host. Plain HTTP only: with TLS on, port 443 of that host is passed through to Vault, which takes only
 * the server's "/" location (ingress-nginx internal/ingress/controller/controller.go, which logs "Ignoring SSL
 * Passthrough for location /_whoami" and keeps serving that path over HTTP).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inCluster } from "../inCluster";
import { WHOAMI_IMAGE } from "../config/versions";
import { SKIP_AWAIT } from "../vault/vaultIngress";
import { type GatewayTarget, whoamiRouteManifest } from "../gateway/gatewayManifests";

export const WHOAMI_PATH = "/_whoami";

export interface WhoamiArgs {
    namespace: string;
    /** The Ingress's class; or, with `gateway`, an HTTPRoute on that Gateway instead of an Ingress (issue 22). */
    ingressClassName?: pulumi.Input<string>;
    gateway?: GatewayTarget;
    /** On kind: the host port that kind maps to the ingress controller's port 80 (the rule matches any host). */
    hostHttpPort?: number;
    /** On an existing cluster: the ingress host, whose DNS name points at the controller (the rule matches it only). */
    host?: string;
    /**
     * Do not wait for the Ingress to get an address: an ingress class vault-ha did not install may never publish one
     * in the Ingress status (bare metal, hostNetwork controllers), and Pulumi's Ingress await waits for it
     * (status.loadBalancer.ingress) until its timeout. The annotation pulumi.com/skipAwait turns that wait off.
     */
    skipAwait?: boolean;
}

export function whoamiUrl(hostHttpPort: number): string {
    return `http://localhost${hostHttpPort === 80 ? "" : `:${hostHttpPort}`}${WHOAMI_PATH}`;
}

/** The URL through the controller's standard port 80, at the ingress host (an existing cluster). */
export function whoamiHostUrl(host: string): string {
    return `http://${host}${WHOAMI_PATH}`;
}

/** Exactly one of hostHttpPort (kind) and host (an existing cluster). */
function whoamiTarget(args: Pick<WhoamiArgs, "hostHttpPort" | "host">): { url: string; host?: string } {
    if ((args.hostHttpPort === undefined) === (args.host === undefined))
        throw new Error("Whoami: give either hostHttpPort (kind) or host (an existing cluster), not both or neither");
    return args.host !== undefined ? { url: whoamiHostUrl(args.host), host: args.host } : { url: whoamiUrl(args.hostHttpPort!) };
}

export class Whoami extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: WhoamiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:ingress:Whoami", name, {}, opts);
        const target = whoamiTarget(args);

        const labels = { "app.kubernetes.io/name": "whoami" };
        const namespace = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: args.namespace } }, inCluster(this, opts));
        const ns = namespace.metadata.name;

        const deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name: "whoami", namespace: ns, labels, ...(args.skipAwait ? { annotations: { [SKIP_AWAIT]: "true" } } : {}) },
                spec: {
                    replicas: 1,
                    selector: { matchLabels: labels },
                    template: {
                        metadata: { labels },
                        spec: {
                            containers: [
                                {
                                    name: "whoami",
                                    image: WHOAMI_IMAGE,
                                    ports: [{ name: "http", containerPort: 80 }],
                                    readinessProbe: { httpGet: { path: "/", port: "http" } },
                                    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
                                },
                            ],
                        },
                    },
                },
            },
            inCluster(this, opts),
        );

        const service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: "whoami", namespace: ns, labels, ...(args.skipAwait ? { annotations: { [SKIP_AWAIT]: "true" } } : {}) },
                spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] },
            },
            inCluster(this, opts, { dependsOn: [deployment] }),
        );

        if (args.gateway) {
            const route = whoamiRouteManifest({
                whoamiNamespace: args.namespace,
                gateway: args.gateway,
                ...(target.host !== undefined ? { host: target.host } : {}),
            });
            new k8s.apiextensions.CustomResource(
                `${name}-route`,
                { apiVersion: route.apiVersion, kind: route.kind, metadata: { ...route.metadata, namespace: ns }, spec: route.spec },
                inCluster(this, opts, { dependsOn: [service] }),
            );
        } else {
            new k8s.networking.v1.Ingress(
                `${name}-ingress`,
                {
                    metadata: { name: "whoami", namespace: ns, labels, ...(args.skipAwait ? { annotations: { [SKIP_AWAIT]: "true" } } : {}) },
                    spec: {
                        ingressClassName: args.ingressClassName,
                        rules: [
                            {
                                ...(target.host !== undefined ? { host: target.host } : {}),
                                http: {
                                    paths: [
                                        {
                                            path: WHOAMI_PATH,
                                            pathType: "Prefix",
                                            backend: { service: { name: service.metadata.name, port: { name: "http" } } },
                                        },
                                    ],
                                },
                            },
                        ],
                    },
                },
                inCluster(this, opts),
            );
        }

        this.url = pulumi.output(target.url);
        this.registerOutputs({ url: this.url });
    }
}
