/**
 * CertManager: cert-manager from its pinned chart (through @pulumi/kubernetes-cert-manager), and a gate that holds
 * back every Issuer and Certificate until cert-manager's admission webhook really serves: the chart's install can
 * finish first, and the first Issuer then fails with "failed calling webhook" (a known first-`up` race).
 *
 * With `use: "existing"` (certManagerPlan's use-existing, components/tls/certManagerMode.ts) it installs nothing and
 * only gates on the cert-manager already running: the gate is a server-side dry run of a ClusterIssuer
 * (components/runner/handlers/clusterChecks.ts), which names no namespace or Service of ours and so works for any
 * cert-manager. The outputs are the same in both modes.
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as certmanager from "@pulumi/kubernetes-cert-manager";
import * as pulumi from "@pulumi/pulumi";
import { Logging, stepResource } from "../stepCommand/stepResource";
import { inCluster } from "../inCluster";
import { certManagerChartValues } from "./certManagerMode";
import { CERT_MANAGER_CHART } from "../config/versions";

/** Install the pinned chart (today's behaviour, and the default). */
export interface InstallCertManagerArgs {
    use?: "install";
    namespace: string;
    chartVersion: string;
    /**
     * The owner label's value (ownerLabelValue(project, stack)), set on everything the chart renders, so that the
     * next `up` on an existing cluster knows the install as this stack's. Undefined on kind: the values, and so
     * existing kind stacks' cert-manager, stay unchanged.
     */
    owner: string | undefined;
    /** Admin kubeconfig (secret), for the readiness gate. */
    kubeconfig: pulumi.Input<string>;
}

/** Use the cert-manager already running: nothing is created but the webhook gate. */
export interface ExistingCertManagerArgs {
    use: "existing";
    /**
     * The running cert-manager's namespace for cluster resources (certManagerPlan's use-existing namespace: its
     * --cluster-resource-namespace, which the chart sets to the namespace it runs in): its ClusterIssuers read their
     * secrets there, so the CA chain's secret goes there (VaultTls' certManagerNamespace).
     */
    namespace: pulumi.Input<string>;
    kubeconfig: pulumi.Input<string>;
}

/**
 * Where the webhook gate's dry-run probe goes: undefined (kind), a ClusterIssuer; a namespace (a cluster vault-ha does
 * not own, where the CA chain is namespaced too), an Issuer there, so the gate needs no cluster-wide right.
 */
interface GateArgs {
    probeNamespace: pulumi.Input<string> | undefined;
}

export type CertManagerArgs = (InstallCertManagerArgs | ExistingCertManagerArgs) & GateArgs;

export class CertManager extends pulumi.ComponentResource {
    /** Depend on this before creating any cert-manager resource. */
    public readonly webhookReady: command.local.Command;
    /** Where cert-manager's ClusterIssuers read secrets: ours when installed, the running one's otherwise. */
    public readonly namespace: pulumi.Output<string>;

    constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:tls:CertManager", name, {}, opts);

        let installed: pulumi.Resource[] = [];
        if (args.use === "existing") {
            this.namespace = pulumi.output(args.namespace);
        } else {
            const namespace = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: args.namespace } }, inCluster(this, opts));
            this.namespace = namespace.metadata.name;

            const helmOptions = {
                // A fixed release name keeps cert-manager's service names predictable (no random suffix).
                name: "cert-manager",
                namespace: this.namespace,
                chart: CERT_MANAGER_CHART.chart,
                version: args.chartVersion,
                repositoryOpts: { repo: CERT_MANAGER_CHART.repo },
                values: certManagerChartValues(args.owner),
                timeout: 600,
            };
            const chart =
                args.owner === undefined
                    ? new certmanager.CertManager(
                          `${name}-chart`,
                          { helmOptions },
                          // A remote component does not inherit its parent's providers: without this it would install
                          // into whatever cluster the ambient kubeconfig points at.
                          { ...inCluster(this, opts), providers: opts?.provider ? { kubernetes: opts.provider } : undefined },
                      )
                    : // With an owner (a cluster vault-ha does not own) a plain Helm Release: the wrapper above decodes
                      // its own typed arguments over helmOptions.values, and its typed `global` (which has no
                      // commonLabels) replaces ours with nothing (pulumi/pulumi-kubernetes-cert-manager
                      // provider/pkg/provider/chart.go CertManagerArgs.Global; pulumi/pulumi-go-helmbase base.go
                      // InitDefaults: "the strongly typed values override the weakly typed map"). Without the owner
                      // label the next up would take vault-ha's own install for a foreign one. kind keeps the wrapper:
                      // its stacks' cert-manager is not replaced, and it needs no label.
                      new k8s.helm.v3.Release(`${name}-release`, helmOptions, inCluster(this, opts));
            installed = [chart];
        }

        this.webhookReady = stepResource(
            `${name}-webhook-ready`,
            {
                step: "cert-manager-ready",
                // Without a probe namespace the environment is the one existing states hold.
                params: pulumi.output(args.probeNamespace).apply((probeNamespace) => ({ timeoutSeconds: 600, ...(probeNamespace ? { probeNamespace } : {}) })),
                secrets: { kubeconfig: args.kubeconfig },
                logging: Logging.StdoutAndStderr,
            },
            // Without an install, the component's own dependencies (if any) are what the gate waits for.
            inCluster(this, opts, installed.length > 0 ? { dependsOn: installed } : {}),
        );

        this.registerOutputs({ namespace: this.namespace });
    }
}
