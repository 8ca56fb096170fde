/**
 * IngressNginx: the ingress-nginx controller with SSL passthrough enabled: on the kind control-plane node with host
 * ports, or on a cluster the user already has behind a LoadBalancer Service (ingressNginxValues.ts). The other
 * ingress modes (an ingress class already in the cluster, or none) create no controller: the program then hands
 * Whoami and VaultIngress the class name itself.
 * ingress-nginx is retired upstream; this component is the only place that knows about it, so that a maintained
 * controller can replace it by exposing the same outputs.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inCluster } from "../inCluster";
import { frontDoorGate } from "../frontDoor/frontDoorCheck";
import { INGRESS_CLASS, IngressNginxTarget, ingressNginxValues } from "./ingressNginxValues";
import { INGRESS_NGINX_CHART } from "../config/versions";

export interface IngressNginxArgs {
    namespace: string;
    chartVersion: string;
    /** "kind" (host ports on the mapped node) or "existing" (a LoadBalancer Service): the stack plan's choice. */
    target: IngressNginxTarget;
    /** On kind: why the controller could not take the node's ports (components/frontDoor), which stops the release. */
    portCheck?: { kubeconfig: pulumi.Input<string> };
}

export class IngressNginx extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;
    /** The IngressClass that Ingresses should name. */
    public readonly ingressClassName: pulumi.Output<string>;

    constructor(name: string, args: IngressNginxArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:ingress:IngressNginx", name, {}, opts);

        // On kind a switch from the Gateway in one up is refused before anything here is created (components/frontDoor).
        const gate = frontDoorGate(args.portCheck, "install", this);
        const namespace = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: gate.apply(() => args.namespace) } }, inCluster(this, opts));

        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: "ingress-nginx",
                chart: INGRESS_NGINX_CHART.chart,
                version: args.chartVersion,
                repositoryOpts: { repo: INGRESS_NGINX_CHART.repo },
                namespace: namespace.metadata.name,
                values: gate.apply(() => ingressNginxValues(args.target)),
                // Helm waits for the controller to be Ready, so Ingresses created after this pass its admission
                // webhook. Ten minutes leaves room for the first image pull on a slow connection.
                timeout: 600,
            },
            inCluster(this, opts),
        );

        this.ingressClassName = this.release.status.apply(() => INGRESS_CLASS);
        this.registerOutputs({ ingressClassName: this.ingressClassName });
    }
}
