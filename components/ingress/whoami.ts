/**
 * Whoami: traefik/whoami behind an Ingress, answering at http://localhost/_whoami: proof that ingress works.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inCluster } from "../inCluster";
import { WHOAMI_IMAGE } from "../config/versions";

export const WHOAMI_PATH = "/_whoami";

export interface WhoamiArgs {
    namespace: string;
    ingressClassName: pulumi.Input<string>;
    /** The host port that kind maps to the ingress controller's port 80. */
    hostHttpPort: number;
}

export function whoamiUrl(hostHttpPort: number): string {
    return `http://localhost${hostHttpPort === 80 ? "" : `:${hostHttpPort}`}${WHOAMI_PATH}`;
}

export class Whoami extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: WhoamiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:ingress:Whoami", name, {}, opts);

        const labels = { "app.kubernetes.io/name": "whoami" };
        const namespace = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: args.namespace } }, inCluster(this, opts));
        const ns = namespace.metadata.name;

        const deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name: "whoami", namespace: ns, labels },
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
                metadata: { name: "whoami", namespace: ns, labels },
                spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] },
            },
            inCluster(this, opts, { dependsOn: [deployment] }),
        );

        new k8s.networking.v1.Ingress(
            `${name}-ingress`,
            {
                metadata: { name: "whoami", namespace: ns, labels },
                spec: {
                    ingressClassName: args.ingressClassName,
                    rules: [
                        {
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

        this.url = pulumi.output(whoamiUrl(args.hostHttpPort));
        this.registerOutputs({ url: this.url });
    }
}
