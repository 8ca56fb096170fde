/**
 * EnvoyGateway: the Gateway API front door vault-ha runs on kind (issue 22): Envoy Gateway's chart (its controller,
 * the Gateway API CRDs it bundles, with TLSRoute v1) and vault-ha's own GatewayClass, EnvoyProxy (Envoy on the
 * ingress-ready node, on the host ports kind maps) and Gateway. Routes attach to `gateway` (GatewayRoutes).
 *
 * helm.v3.Release, not v4.Chart: the chart's pre-install certgen Job makes the Secret the controller mounts, and
 * v4.Chart drops hooks (pulumi-kubernetes provider/pkg/provider/helm/v4/chart.go); Release installs the chart's crds/
 * before anything else, which the controller needs at its start to watch TLSRoutes (research: gateway.md §4, §6).
 * Every object of the Gateway API depends on the release, so that destroy deletes them while the controller still
 * runs to remove the GatewayClass's finalizer. On kind the cluster goes with the stack, CRDs and all; when only the
 * front door changes, the `gateway-crds` step's delete removes the CRDs Helm leaves (runner/handlers/gatewayCrds.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { dependencyList, inCluster } from "../inCluster";
import { Logging, stepResource } from "../stepCommand/stepResource";
import { frontDoorGate } from "../frontDoor/frontDoorCheck";
import { GATEWAY_CHART } from "../config/versions";
import { ENVOY_GATEWAY_RELEASE, envoyGatewayValues } from "./envoyGatewayValues";
import { envoyProxyManifest, GATEWAY_NAME, GATEWAY_NAMESPACE, gatewayClassManifest, gatewayManifest, KubernetesObject } from "./gatewayManifests";

export interface EnvoyGatewayArgs {
    tls: boolean;
    ingressHost: string;
    vaultNamespace: string;
    whoamiNamespace: string;
    /** Why Envoy could not take the node's ports (components/frontDoor), which stops the release. */
    portCheck?: { kubeconfig: pulumi.Input<string> };
    /** Admin kubeconfig (secret): the CRDs' record, and their removal when the Gateway front door goes. */
    kubeconfig: pulumi.Input<string>;
}

/** A Gateway the routes attach to. */
export interface GatewayRef {
    name: string;
    namespace: string;
}

export class EnvoyGateway extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;
    /** The Gateway, once it exists: routes created after it attach at once. */
    public readonly gateway: pulumi.Output<GatewayRef>;

    constructor(name: string, args: EnvoyGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:gateway:EnvoyGateway", name, {}, opts);

        // On kind a switch from ingress-nginx in one up is refused before anything here is created (components/frontDoor).
        const gate = frontDoorGate(args.portCheck, "gateway", this);
        const namespace = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: gate.apply(() => GATEWAY_NAMESPACE) } }, inCluster(this, opts));
        // Helm never deletes a chart's CRDs: this step's delete does, after the release is gone (it depends on it),
        // when the kind stack leaves the Gateway front door; a destroy of the stack skips it with the cluster.
        const crds = stepResource(
            `${name}-crds`,
            {
                step: "gateway-crds",
                onDelete: "delete-gateway-crds",
                params: { timeoutSeconds: 120 },
                secrets: { kubeconfig: args.kubeconfig },
                logging: Logging.StdoutAndStderr,
            },
            inCluster(this, opts, { dependsOn: [...dependencyList(opts?.dependsOn), namespace] }),
        );
        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: ENVOY_GATEWAY_RELEASE,
                // An OCI chart is installed by its reference, with no repository (versions.ts).
                chart: GATEWAY_CHART.oci,
                version: GATEWAY_CHART.version,
                namespace: namespace.metadata.name,
                values: gate.apply(() => envoyGatewayValues()),
                // Helm waits for the controller, so the Gateway objects below meet a running controller (and its
                // webhook-free admission). Ten minutes leaves room for the first image pull.
                timeout: 600,
            },
            inCluster(this, opts, { dependsOn: [...dependencyList(opts?.dependsOn), namespace, crds] }),
        );

        const custom = (id: string, object: KubernetesObject, extra: pulumi.Resource[] = []) =>
            new k8s.apiextensions.CustomResource(
                `${name}-${id}`,
                { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata, spec: object.spec },
                inCluster(this, opts, { dependsOn: [this.release, ...extra] }),
            );
        const proxy = custom("envoy-proxy", envoyProxyManifest());
        const gatewayClass = custom("gateway-class", gatewayClassManifest());
        const gateway = custom(
            "gateway",
            gatewayManifest({ tls: args.tls, ingressHost: args.ingressHost, vaultNamespace: args.vaultNamespace, whoamiNamespace: args.whoamiNamespace }),
            [proxy, gatewayClass],
        );

        this.gateway = gateway.metadata.apply(() => ({ name: GATEWAY_NAME, namespace: GATEWAY_NAMESPACE }));
        this.registerOutputs({ gateway: this.gateway });
    }
}
