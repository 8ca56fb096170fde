/**
 * CertManager: cert-manager from its pinned chart (through @pulumi/kubernetes-cert-manager), and a gate that holds
 * back every Issuer and Certificate until cert-manager's admission webhook really serves: the chart's install can
 * finish first, and the first Issuer then fails with "failed calling webhook" (a known first-`up` race).
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as certmanager from "@pulumi/kubernetes-cert-manager";
import * as pulumi from "@pulumi/pulumi";
import { Logging, stepResource } from "../steps/stepResource";
import { inCluster } from "../inCluster";
import { certManagerValues } from "./tlsConfig";
import { CERT_MANAGER_CHART } from "../config/versions";

export interface CertManagerArgs {
    namespace: string;
    chartVersion: string;
    /** Admin kubeconfig (secret), for the readiness gate. */
    kubeconfig: pulumi.Input<string>;
}

export class CertManager extends pulumi.ComponentResource {
    /** Depend on this before creating any cert-manager resource. */
    public readonly webhookReady: command.local.Command;
    public readonly namespace: pulumi.Output<string>;

    constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:tls:CertManager", name, {}, opts);

        const namespace = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: args.namespace } }, inCluster(this, opts));
        this.namespace = namespace.metadata.name;

        const chart = new certmanager.CertManager(
            `${name}-chart`,
            {
                helmOptions: {
                    // A fixed release name keeps cert-manager's service names predictable (no random suffix).
                    name: "cert-manager",
                    namespace: this.namespace,
                    chart: CERT_MANAGER_CHART.chart,
                    version: args.chartVersion,
                    repositoryOpts: { repo: CERT_MANAGER_CHART.repo },
                    values: certManagerValues(),
                    timeout: 600,
                },
            },
            // A remote component does not inherit its parent's providers: without this it would install into
            // whatever cluster the ambient kubeconfig points at.
            { ...inCluster(this, opts), providers: opts?.provider ? { kubernetes: opts.provider } : undefined },
        );

        this.webhookReady = stepResource(
            `${name}-webhook-ready`,
            { step: "cert-manager-ready", params: { timeoutSeconds: 600 }, secrets: { kubeconfig: args.kubeconfig }, logging: Logging.StdoutAndStderr },
            inCluster(this, opts, { dependsOn: [chart] }),
        );

        this.registerOutputs({ namespace: this.namespace });
    }
}
