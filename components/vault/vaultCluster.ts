/**
 * VaultCluster: the hashicorp/vault chart in HA mode with integrated storage (raft). The pods start sealed and
 * uninitialised; VaultBootstrap turns them into one unsealed raft cluster.
 */
import { sealTransition } from "../seal/sealTransition";
import { TELEMETRY_ANNOTATION, telemetryAnnotation } from "./telemetry";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { dependencyList, inCluster } from "../inCluster";
import { parseStepResult, stepCommand, stepEnvironment } from "../stepCommand/contract";
import { Logging, projectDir, stepResource, stepStdin } from "../stepCommand/stepResource";
import { Sans } from "../tls/tlsConfig";
import { API_SERVICE, PORT_FORWARD_LOCAL, PORT_FORWARD_SERVICE, portForwardCommand, serverNameFor, vaultEnv, vaultUrl } from "./exposure";
import type { PortForward } from "./kvProof";
import { podOrdinal, VAULT_API_PORT, VAULT_RELEASE_NAME } from "./names";
import { claimChangeMessage, downgradeMessage, podTemplateSummary, rollNotice, rollPreview } from "./rollPlan";
import { scaleDecision } from "./scalePlan";
import { VaultChartOptions, vaultHelmValues } from "./vaultValues";
import { FixCommands, VaultServiceType } from "../config/settings";
import { type AutoSealPlan, isAutoSealPlan } from "../seal/sealPlan";
import { VAULT_CHART } from "../config/versions";

/**
 * The chart options (VaultChartOptions: the API Service's type, storage class, resources, anti-affinity, load balancer
 * ranges and annotations) are resolved choices, no "auto"; the Service type is required (the stack plan's).
 */
export interface VaultClusterArgs extends VaultChartOptions {
    serviceType: VaultServiceType;
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
    /** Where a NodePort is reached from outside: localhost on kind (kind maps it), a node's address elsewhere; else undefined. */
    nodeAddress: string | undefined;
    /** The context, for the port-forward command a ClusterIP Vault is reached with. */
    kubeContext?: pulumi.Input<string>;
    /** The names in Vault's certificate (VaultTls.sans), to tell whether the address needs a server name. */
    certificateSans?: pulumi.Input<Sans>;
    /** With seal transit (`seal.secret`): the transit token (vault-ha:sealTransitToken), written to the seal's Secret only. */
    sealTransitToken?: pulumi.Input<string>;
}

export class VaultCluster extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;
    public readonly namespace: pulumi.Output<string>;
    /** Vault's API from outside the cluster: the NodePort (on kind, localhost), the load balancer, or a port-forward. */
    public readonly vaultAddr: pulumi.Output<string>;
    public readonly uiUrl: pulumi.Output<string>;
    /** The name Vault's certificate is verified as, when vaultAddr's host is not in it; else undefined. */
    public readonly tlsServerName: pulumi.Output<string | undefined>;
    /** With ClusterIP: the Service the proof forwards to; else undefined. */
    public readonly portForward: pulumi.Output<PortForward | undefined>;
    /** With ClusterIP: the command that makes vaultAddr answer on the user's machine; else undefined. */
    public readonly portForwardCommand: pulumi.Output<string | undefined>;
    /** The shell lines that point a Vault CLI at vaultAddr. */
    public readonly vaultEnv: pulumi.Output<string>;
    /** What the pods are made from, in words: the roll step's parameter (see rollPlan.ts podTemplateSummary). */
    public readonly podTemplate: pulumi.Output<string>;
    /** With seal transit: the Secret the pods read the token (and the transit CA) from; else undefined. */
    public readonly sealSecret: k8s.core.v1.Secret | undefined;

    constructor(name: string, args: VaultClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:vault:VaultCluster", name, {}, opts);

        // Settings only: the values are known when the program runs, so a preview shows them in full.
        const chartSettings = {
            vaultReplicas: args.replicas,
            uiNodePort: args.uiNodePort,
            raftStorageSize: args.raftStorageSize,
            tls: args.tls,
            vaultImage: args.vaultImage,
        };
        const values = vaultHelmValues(chartSettings, args);

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
            .apply((out) => parseStepResult("pod-templates", out));
        const fixes = new FixCommands(pulumi.getStack());
        const checkedValues = running.apply(({ pods, dataClaim, replicas, claims, seal, sealStanza, storedSeal }) => {
            const rolled = pods.map((p) => p.pod).filter((pod) => (podOrdinal(VAULT_RELEASE_NAME, pod) ?? 0) < args.replicas);
            const wanted = isAutoSealPlan(args.seal)
                ? { type: args.seal.type, stanza: args.seal.stanza, disabled: args.seal.disabled }
                : { type: "shamir" as const };
            const transition = sealTransition(seal === undefined ? undefined : { configured: seal, stanza: sealStanza ?? {}, stored: storedSeal }, wanted, {
                pods: rolled,
                runningReplicas: replicas,
                wantedReplicas: args.replicas,
                fixes,
            });
            if (transition.kind === "refused") throw new pulumi.ResourceError(transition.message, this, true);
            // The seal migrations are the roll's (runner/handlers/roll.ts): announced, not refused.
            if (transition.notice) pulumi.log.warn(transition.notice, this);
            // Storage holds Shamir: the retired seal leaves the configuration (and with it every seal value).
            const sealValues = transition.kind === "shamir-only" ? vaultHelmValues(chartSettings, { ...args, seal: undefined }) : values;
            const preview = rollPreview(pods, {
                image: args.vaultImage,
                tls: args.tls,
                telemetry: telemetryAnnotation(args)[TELEMETRY_ANNOTATION] ?? "",
            });
            if (preview.downgrade) throw new pulumi.ResourceError(downgradeMessage(preview.downgrade, fixes), this, true);
            const claimChange = claimChangeMessage(dataClaim, { storage: args.raftStorageSize, storageClassName: args.storageClass }, fixes);
            if (claimChange) throw new pulumi.ResourceError(claimChange, this, true);
            const scale = scaleDecision(VAULT_RELEASE_NAME, { replicas, claims }, args.replicas, fixes);
            if (scale.kind === "refused") throw new pulumi.ResourceError(scale.message, this, true);
            if (scale.kind !== "none") pulumi.log.warn(scale.notice, this);
            const notice = rollNotice(preview, Math.min(pods.length, args.replicas));
            if (notice) pulumi.log.warn(notice, this);
            return sealValues;
        });
        // From the values the release gets: the roll runs again whenever they change what a pod is made from, including
        // when a retired seal leaves the configuration (which the settings alone do not tell).
        this.podTemplate = checkedValues.apply((v) =>
            podTemplateSummary({ image: args.vaultImage, tls: args.tls, chartVersion: args.chartVersion, values: v }),
        );

        this.sealSecret = args.seal?.type === "transit" && args.seal.secret ? this.transitSealSecret(name, args, args.seal.secret, opts) : undefined;
        const releaseOptions = inCluster(this, opts);
        // The pods read the seal's Secret at start: it exists before the release creates them.
        if (this.sealSecret) releaseOptions.dependsOn = [...dependencyList(opts?.dependsOn), this.sealSecret];

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
            releaseOptions,
        );

        this.namespace = this.release.status.namespace;

        // Where the API is reached, by Service type. A load balancer's address exists only once the Service does:
        // a step waits for it after the release, and reads it again whenever the release changes.
        const serviceType = args.serviceType;
        let host: pulumi.Output<string>;
        let port = VAULT_API_PORT;
        if (serviceType === "LoadBalancer") {
            const address = stepResource(
                `${name}-address`,
                {
                    step: "vault-address",
                    params: pulumi.output(args.namespace).apply((namespace) => ({ namespace, service: API_SERVICE, timeoutSeconds: 600 })),
                    secrets: { kubeconfig: args.kubeconfig },
                    logging: Logging.StdoutAndStderr,
                    triggers: [this.release.status.revision],
                },
                inCluster(this, opts, { dependsOn: [this.release] }),
            );
            host = address.stdout.apply((out) => parseStepResult("vault-address", out).address);
        } else if (serviceType === "NodePort") {
            if (args.nodeAddress === undefined) throw new pulumi.ResourceError("VaultCluster: a NodePort needs nodeAddress (the stack plan's)", this);
            host = pulumi.output(args.nodeAddress);
            port = args.uiNodePort;
        } else {
            host = pulumi.output(PORT_FORWARD_LOCAL.host);
        }
        this.vaultAddr = host.apply((h) => vaultUrl(args.tls, h, port));
        this.uiUrl = this.vaultAddr.apply((addr) => `${addr}/ui/`);
        this.tlsServerName = pulumi
            .all([host, args.certificateSans])
            .apply(([h, sans]) => (args.tls && sans !== undefined ? serverNameFor(sans as Sans, h) : undefined));
        const clusterIp = serviceType === "ClusterIP";
        this.portForward = pulumi
            .output(args.namespace)
            .apply((namespace) => (clusterIp ? { namespace, service: PORT_FORWARD_SERVICE, port: VAULT_API_PORT } : undefined));
        this.portForwardCommand = pulumi
            .all([args.kubeContext, args.namespace])
            .apply(([context, namespace]) => (clusterIp && context ? portForwardCommand(context, namespace) : undefined));
        this.vaultEnv = pulumi.all([this.vaultAddr, this.tlsServerName]).apply(([addr, serverName]) => vaultEnv(addr, args.tls, serverName));

        this.registerOutputs({
            ...(this.sealSecret ? { sealSecret: this.sealSecret.metadata.name } : {}),
            namespace: this.namespace,
            vaultAddr: this.vaultAddr,
            uiUrl: this.uiUrl,
            vaultEnv: this.vaultEnv,
            portForwardCommand: this.portForwardCommand,
        });
    }

    /** The transit seal's Secret: the token (a Pulumi secret, so encrypted in the state) and the transit CA, if any. */
    private transitSealSecret(
        name: string,
        args: VaultClusterArgs,
        secret: NonNullable<AutoSealPlan["secret"]>,
        opts: pulumi.ComponentResourceOptions | undefined,
    ): k8s.core.v1.Secret {
        if (args.sealTransitToken === undefined) throw new pulumi.ResourceError("VaultCluster: seal transit needs sealTransitToken", this);
        const data = pulumi
            .output(args.sealTransitToken)
            .apply((token) => ({ [secret.tokenKey]: token, ...(secret.caCert ? { [secret.caCert.key]: secret.caCert.pem } : {}) }));
        return new k8s.core.v1.Secret(
            `${name}-seal`,
            { metadata: { name: secret.name, namespace: args.namespace }, type: "Opaque", stringData: pulumi.secret(data) },
            inCluster(this, opts),
        );
    }
}
