/**
 * ExistingCluster: a Kubernetes cluster vault-ha did not create and must not delete. It only gives the rest of the
 * program what KindCluster gives it (a provider, the kubeconfig for the steps, the context), so that everything
 * in the cluster is built the same way on both. There is no cluster resource: nothing is `deletedWith` it, and
 * `pulumi destroy` deletes each object vault-ha created, one by one, in dependency order.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KubeconfigTarget } from "./kubeconfig";
import type { Settings } from "../config/settings";
import { ingressMode } from "../config/clusterModes";
import type { StepParams } from "../stepCommand/contract";

/**
 * What the cluster-facts step is given: where cert-manager may be, and with `ingress: gateway` the Gateway the routes
 * will attach to and Vault's namespace (whose labels a listener's namespace selector is matched against).
 */
export function clusterFactsParams(
    s: Pick<Settings, "cluster" | "ingress" | "certManagerNamespace" | "gatewayName" | "gatewayNamespace" | "vaultNamespace">,
): StepParams<"cluster-facts"> {
    return {
        certManagerNamespace: s.certManagerNamespace,
        timeoutSeconds: 60,
        ...(ingressMode(s) === "gateway" ? { gatewayName: s.gatewayName, gatewayNamespace: s.gatewayNamespace, namespace: s.vaultNamespace } : {}),
    };
}

export interface ExistingClusterArgs {
    /** The one-context kubeconfig (see kubeconfig.ts), a secret: it holds credentials. */
    kubeconfig: pulumi.Input<string>;
    target: KubeconfigTarget;
}

export class ExistingCluster extends pulumi.ComponentResource {
    public readonly provider: k8s.Provider;
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly kubeContext: pulumi.Output<string>;
    /** The context's cluster entry, as the kubeconfig names it. */
    public readonly clusterName: pulumi.Output<string>;
    public readonly server: pulumi.Output<string>;

    constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:cluster:ExistingCluster", name, {}, opts);
        this.kubeconfig = pulumi.secret(args.kubeconfig);
        this.kubeContext = pulumi.output(args.target.context);
        this.clusterName = pulumi.output(args.target.cluster);
        this.server = pulumi.output(args.target.server);

        // Without an identifier the provider replaces every resource when anything of the kubeconfig's active cluster
        // entry changes (its CA after a rotation, a proxy URL: pulumi/pulumi-kubernetes provider.go DiffConfig);
        // with clusterIdentifier "the provider will only be replaced when clusterIdentifier changes". The API
        // server's address is what names the cluster: a rotated token or CA is an update, another server a replacement.
        this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig, clusterIdentifier: args.target.server }, { parent: this });

        this.registerOutputs({ kubeContext: this.kubeContext, clusterName: this.clusterName, server: this.server });
    }
}
