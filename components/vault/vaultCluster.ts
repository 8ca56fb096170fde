/**
 * VaultCluster: the hashicorp/vault chart in HA mode with integrated storage (raft). The pods start sealed and
 * uninitialised; VaultBootstrap turns them into one unsealed raft cluster.
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inCluster } from "../inCluster";
import { parseStepResult, PodTemplate, stepCommand, stepEnvironment } from "../steps/contract";
import { Logging, projectDir, stepStdin } from "../steps/stepResource";
import { VAULT_RELEASE_NAME, vaultScheme } from "./names";
import { downgradeMessage, podTemplateSummary, rollNotice, rollPreview } from "./rollPlan";
import { AntiAffinity, vaultHelmValues, VaultResources, VaultServiceType } from "./vaultValues";
import { VAULT_CHART } from "../config/versions";

export interface VaultClusterArgs {
    /** An existing namespace: pass VaultNamespace.name, so that the release waits for it. */
    namespace: pulumi.Input<string>;
    chartVersion: string;
    replicas: number;
    uiNodePort: number;
    raftStorageSize: string;
    /** Serve HTTPS with the certificate in the vault-server-tls secret (see VaultTls), or plain HTTP. */
    tls: boolean;
    /** The Vault server image, <repository>:<version>[@sha256:<digest>]. */
    vaultImage: string;
    /** Admin kubeconfig (secret): to read what the running pods were made from before the release changes. */
    kubeconfig: pulumi.Input<string>;
    /**
     * The API Service's type: NodePort on uiNodePort (the kind lab) when absent. uiNodePort is not sent otherwise.
     * This and the fields below are resolved choices (no "auto"); absent, the values are those of a kind stack.
     */
    serviceType?: VaultServiceType;
    /** The raft volumes' StorageClass; absent or "" = the cluster's default. */
    storageClass?: string;
    /** The vault container's CPU request and memory request (= limit); absent = none. */
    resources?: VaultResources;
    /** Two Vault pods on one node: never ("required", the chart's default, when absent) or only if need be. */
    antiAffinity?: AntiAffinity;
}

export class VaultCluster extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;
    public readonly namespace: pulumi.Output<string>;
    /** Vault's API from the host, through the UI NodePort that kind maps to localhost. */
    public readonly vaultAddr: pulumi.Output<string>;
    public readonly uiUrl: pulumi.Output<string>;
    /** What the pods are made from, in words: the roll step's parameter (see rollPlan.ts podTemplateSummary). */
    public readonly podTemplate: string;

    constructor(name: string, args: VaultClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:vault:VaultCluster", name, {}, opts);

        // Settings only: the values are known when the program runs, so a preview shows them in full.
        const values = vaultHelmValues(
            {
                vaultReplicas: args.replicas,
                uiNodePort: args.uiNodePort,
                raftStorageSize: args.raftStorageSize,
                tls: args.tls,
                vaultImage: args.vaultImage,
            },
            { serviceType: args.serviceType, storageClass: args.storageClass, resources: args.resources, antiAffinity: args.antiAffinity },
        );
        this.podTemplate = podTemplateSummary({ image: args.vaultImage, tls: args.tls, chartVersion: args.chartVersion, values });

        // Before the release changes: what the running pods were made from (nothing on a new cluster). A Vault
        // downgrade stops the release here; a template change is announced with the pods it will roll, in the
        // preview as in the up. Runs on every preview and up, like the bootstrap's pod identities.
        const running = pulumi
            .unsecret(
                command.local.runOutput(
                    {
                        command: stepCommand("pod-templates"),
                        environment: pulumi
                            .output(args.namespace)
                            .apply((namespace) =>
                                stepEnvironment("pod-templates", { namespace, release: VAULT_RELEASE_NAME, replicas: args.replicas, timeoutSeconds: 60 }),
                            ),
                        stdin: stepStdin({ kubeconfig: args.kubeconfig }),
                        dir: projectDir(),
                        addPreviousOutputInEnv: false,
                        logging: Logging.Stderr,
                    },
                    { parent: this },
                ).stdout,
            )
            .apply((out): PodTemplate[] => parseStepResult("pod-templates", out).pods);
        const checkedValues = running.apply((pods) => {
            const preview = rollPreview(pods, { image: args.vaultImage, tls: args.tls });
            if (preview.downgrade) throw new pulumi.ResourceError(downgradeMessage(preview.downgrade), this, true);
            const notice = rollNotice(preview);
            if (notice) pulumi.log.warn(notice, this);
            return values;
        });

        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                // Fixed, not auto-named: every DNS name the bootstrap uses (vault-0.vault-internal) derives from it.
                name: VAULT_RELEASE_NAME,
                chart: VAULT_CHART.chart,
                version: args.chartVersion,
                repositoryOpts: { repo: VAULT_CHART.repo },
                namespace: args.namespace,
                values: checkedValues,
                // Uninitialised and sealed pods are never Ready, so waiting for readiness would time out on every
                // first install. The bootstrap waits for the pods to be Running instead, which is what it needs.
                skipAwait: true,
            },
            inCluster(this, opts),
        );

        this.namespace = this.release.status.namespace;
        this.vaultAddr = pulumi.output(`${vaultScheme(args.tls)}://localhost:${args.uiNodePort}`);
        this.uiUrl = this.vaultAddr.apply((addr) => `${addr}/ui/`);

        this.registerOutputs({
            namespace: this.namespace,
            vaultAddr: this.vaultAddr,
            uiUrl: this.uiUrl,
        });
    }
}
