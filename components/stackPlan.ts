/**
 * The stack plan: from the settings and what the target knows, what each component of the stack gets, as plain data.
 * The cluster mode is decided here (with components/config/clusterModes.ts) and nowhere else: index.ts passes each
 * component its part and adds only the Pulumi Outputs (namespaces, kubeconfig, readiness gates); scripts/render.ts
 * prints the same parts, so what render shows is what `up` creates (tests/program/renderMatchesProgram.test.ts).
 *
 * On kind the target knows nothing more than the settings. On an existing cluster it knows what existingPlan
 * (components/cluster/existingPlan.ts) decided from the live cluster; render, which reads no cluster, passes
 * renderAssumptions instead and says so.
 */
import type { ExistingPlan } from "./cluster/existingPlan";
import { certManagerOwner, ingressMode, ingressNginxTarget, issuerScope, vaultChartOptions, vaultServiceType, whoamiEnabled } from "./config/clusterModes";
import type { ClusterMode, Settings, VaultServiceType } from "./config/settings";
import { IngressNginxTarget, ingressNginxValues } from "./ingress/ingressNginxValues";
import { certManagerChartValues } from "./tls/certManagerMode";
import type { IssuerScope } from "./tls/tlsConfig";
import { VAULT_RELEASE_NAME } from "./vault/names";
import { VaultChartOptions, vaultHelmValues } from "./vault/vaultValues";
import { UnsealerPlan, unsealerCostNotice } from "./unsealer/unsealerManifests";
import { isAutoSealPlan, SealPlan, sealPlan } from "./seal/sealPlan";
import {
    envoyProxyManifest,
    GATEWAY_NAME,
    GATEWAY_NAMESPACE,
    gatewayClassManifest,
    gatewayManifest,
    type GatewayTarget,
    type KubernetesObject,
    vaultRouteManifest,
    whoamiRouteManifest,
} from "./gateway/gatewayManifests";
import type { EnvoyGatewayArgs } from "./gateway/envoyGateway";
import { ENVOY_GATEWAY_RELEASE, envoyGatewayValues } from "./gateway/envoyGatewayValues";
import { GATEWAY_CHART } from "./config/versions";

/** What the program decided from the live cluster that the plan needs (ExistingPlan's decisions, without its report). */
export type ClusterDecisions = Pick<ExistingPlan, "antiAffinity" | "certManager" | "nodeAddress" | "gatewayPort" | "prometheusOperator">;

/**
 * What render assumes for the choices `up` makes from the live cluster: the chart's required anti-affinity (or the
 * setting), cert-manager installed by vault-ha, and no node address (render shows no URL).
 */
export function renderAssumptions(s: Pick<Settings, "antiAffinity" | "tls">): ClusterDecisions {
    return {
        antiAffinity: s.antiAffinity === "auto" ? "required" : s.antiAffinity,
        certManager: s.tls ? { action: "install" } : undefined,
        nodeAddress: undefined,
    };
}

/** A Helm release as the components install it: what `render --manifests` templates. */
export interface PlannedRelease {
    chart: "ingress-nginx" | "cert-manager" | "vault" | "gateway-helm";
    release: string;
    namespace: string;
    version: string;
    values: Record<string, unknown>;
}

/**
 * The front door: Ingresses of the ingress-nginx vault-ha installs or of a class the cluster already has, or routes
 * on a Gateway (the one vault-ha creates with Envoy Gateway on kind, or the user's: `install` false).
 */
export type IngressPlan =
    | { source: "install"; controller: { namespace: string; chartVersion: string; target: IngressNginxTarget } }
    | { source: "existing"; className: string }
    | { source: "gateway"; gateway: GatewayPlan };

/** The Gateway front door: where routes attach, and on kind what vault-ha's own Envoy Gateway is made with. */
export interface GatewayPlan {
    name: string;
    namespace: string;
    install: boolean;
    target: GatewayTarget;
    /** On kind: EnvoyGateway's arguments (its Gateway's listeners admit Vault's and whoami's routes). */
    envoy?: Pick<EnvoyGatewayArgs, "tls" | "ingressHost" | "vaultNamespace" | "whoamiNamespace">;
}

/** whoami answers on kind's mapped host port (any host), elsewhere at the ingress host on port 80. */
export type WhoamiPlan = { namespace: string; skipAwait: boolean } & ({ hostHttpPort: number } | { host: string });

export type CertManagerPlanArgs = (
    { use: "install"; namespace: string; chartVersion: string; owner: string | undefined } | { use: "existing"; namespace: string }
) & {
    /** The webhook gate probes with an Issuer in Vault's namespace (no cluster-wide right), or a ClusterIssuer (kind). */
    probeInVaultNamespace: boolean;
};

export interface StackPlan {
    cluster: ClusterMode;
    /** Absent: no ingress at all (no Ingress for Vault, no whoami). */
    ingress?: IngressPlan;
    whoami?: WhoamiPlan;
    /** With an ingress: Vault's Ingress. Its URL names kind's host ports, elsewhere the standard 80 and 443. */
    vaultIngress?: { host: string; tls: boolean; hostHttpPort: number; hostHttpsPort: number; skipAwait: boolean };
    /** retainOnDelete: the namespace (and the raft volume claims in it) outlives a destroy of the stack. */
    vaultNamespace: { name: string; retainOnDelete: boolean };
    /** With TLS. */
    certManager?: CertManagerPlanArgs;
    /** With TLS: the CA chain and Vault's certificate (certManagerNamespace is certManager.namespace). */
    vaultTls?: { replicas: number; ingressHost: string; tlsExtraNames: readonly string[]; issuerScope: IssuerScope };
    vault: VaultChartOptions & {
        serviceType: VaultServiceType;
        chartVersion: string;
        replicas: number;
        uiNodePort: number;
        raftStorageSize: string;
        tls: boolean;
        vaultImage: string;
        /** Where a NodePort is reached: localhost on kind (kind maps it), a node's address elsewhere. */
        nodeAddress: string | undefined;
    };
    bootstrap: { replicas: number; keyShares: number; keyThreshold: number; snapshotsToKeep: number; keepKeysOnDestroy: boolean };
    /** How Vault is sealed: Shamir, or an auto seal (its stanza, identity and secrets: components/seal/sealPlan.ts). */
    seal: SealPlan;
    /** autoUnseal in-cluster: the unsealer, and what the preview says it costs. */
    unsealer?: UnsealerPlan & { notice: string };
    proof: { mount: string; timeoutSeconds?: number };
    /** With a ClusterIP Vault the stack outputs the port-forward command that makes vaultAddr answer. */
    outputPortForwardCommand: boolean;
    /** Every Helm release, in install order, with the values the components send. */
    releases: PlannedRelease[];
}

/**
 * The plan of a stack. `owner` is ownerLabelValue(project, stack); `decided` is what the target decided from the live
 * cluster (Target.plan), required on an existing cluster and ignored on kind.
 */
export function stackPlan(settings: Settings, owner: string, decided?: ClusterDecisions): StackPlan {
    const onKind = settings.cluster === "kind";
    if (!onKind && decided === undefined) throw new Error("stackPlan: an existing cluster needs what was decided from it (existingPlan, or renderAssumptions)");
    const s = settings;

    const ingress = ingressMode(s);
    const ingressPlan: IngressPlan | undefined =
        ingress === "install"
            ? { source: "install", controller: { namespace: s.ingressNginxNamespace, chartVersion: s.ingressNginxChartVersion, target: ingressNginxTarget(s) } }
            : ingress === "existing"
              ? { source: "existing", className: s.ingressClassName }
              : ingress === "gateway"
                ? { source: "gateway", gateway: gatewayPlan(s, onKind) }
                : undefined;
    // A class vault-ha did not install may never publish an address: its Ingresses are not awaited.
    const skipAwait = ingress === "existing";

    // The raft volumes outlive a destroy only on a cluster vault-ha does not own (kind's go with the cluster).
    const keepData = !onKind && s.raftVolumesOnDestroy === "keep";

    // kind's cluster is new and vault-ha's own: its cert-manager is always installed (certManagerPlan).
    const certManagerDecision = onKind ? { action: "install" as const } : decided?.certManager;
    if (s.tls && certManagerDecision === undefined) throw new Error("stackPlan: TLS on an existing cluster needs the cert-manager decision (existingPlan)");
    const certManager: CertManagerPlanArgs | undefined = !s.tls
        ? undefined
        : certManagerDecision?.action === "use-existing"
          ? { use: "existing", namespace: certManagerDecision.namespace, probeInVaultNamespace: !onKind }
          : {
                use: "install",
                namespace: s.certManagerNamespace,
                chartVersion: s.certManagerChartVersion,
                owner: certManagerOwner(s, owner),
                probeInVaultNamespace: !onKind,
            };

    const seal = sealPlan(s);
    // Only an auto seal reaches the chart options: a Shamir stack's values stay as they were.
    const chartOptions: VaultChartOptions = { ...vaultChartOptions(s, onKind ? undefined : decided), ...(isAutoSealPlan(seal) ? { seal } : {}) };
    const serviceType = vaultServiceType(s);
    const vault: StackPlan["vault"] = {
        chartVersion: s.vaultChartVersion,
        replicas: s.vaultReplicas,
        uiNodePort: s.uiNodePort,
        raftStorageSize: s.raftStorageSize,
        tls: s.tls,
        vaultImage: s.vaultImage,
        ...chartOptions,
        serviceType,
        nodeAddress: onKind ? "localhost" : decided?.nodeAddress,
    };

    return {
        cluster: s.cluster,
        ingress: ingressPlan,
        whoami:
            ingressPlan && whoamiEnabled(s)
                ? { namespace: s.whoamiNamespace, skipAwait, ...(onKind ? { hostHttpPort: s.ingressHttpPort } : { host: s.ingressHost }) }
                : undefined,
        vaultIngress: ingressPlan
            ? {
                  host: s.ingressHost,
                  tls: s.tls,
                  // kind maps its host ports to the controller; elsewhere the controller answers on the standard ports.
                  // A user's Gateway answers on the port of the listener that takes Vault's route (existingPlan).
                  hostHttpPort: onKind ? s.ingressHttpPort : ingress === "gateway" && !s.tls ? (decided?.gatewayPort ?? 80) : 80,
                  hostHttpsPort: onKind ? s.ingressHttpsPort : ingress === "gateway" && s.tls ? (decided?.gatewayPort ?? 443) : 443,
                  skipAwait,
              }
            : undefined,
        vaultNamespace: { name: s.vaultNamespace, retainOnDelete: keepData },
        certManager,
        vaultTls: s.tls ? { replicas: s.vaultReplicas, ingressHost: s.ingressHost, tlsExtraNames: s.tlsExtraNames, issuerScope: issuerScope(s) } : undefined,
        vault,
        bootstrap: {
            replicas: s.vaultReplicas,
            keyShares: s.keyShares,
            keyThreshold: s.keyThreshold,
            snapshotsToKeep: s.snapshotsToKeep,
            keepKeysOnDestroy: keepData,
        },
        seal,
        unsealer:
            s.autoUnseal === "in-cluster"
                ? {
                      release: VAULT_RELEASE_NAME,
                      replicas: s.vaultReplicas,
                      tls: s.tls,
                      keyShares: s.keyShares,
                      keyThreshold: s.keyThreshold,
                      image: s.vaultImage,
                      notice: unsealerCostNotice(s.vaultNamespace, s),
                  }
                : undefined,
        // A new load balancer's DNS name can take minutes to resolve (AWS's): wait longer (within the step's 15 minutes).
        proof: { mount: s.kvMount, ...(serviceType === "LoadBalancer" ? { timeoutSeconds: 600 } : {}) },
        outputPortForwardCommand: serviceType === "ClusterIP",
        releases: plannedReleases(s, ingressPlan, certManager, chartOptions),
    };
}

function plannedReleases(
    s: Settings,
    ingress: IngressPlan | undefined,
    certManager: CertManagerPlanArgs | undefined,
    chartOptions: VaultChartOptions,
): PlannedRelease[] {
    return [
        // On kind EnvoyGateway installs the controller before any Gateway object or route (components/gateway/envoyGateway.ts).
        ...(ingress?.source === "gateway" && ingress.gateway.envoy
            ? [
                  {
                      chart: "gateway-helm" as const,
                      release: ENVOY_GATEWAY_RELEASE,
                      namespace: GATEWAY_NAMESPACE,
                      version: GATEWAY_CHART.version,
                      values: envoyGatewayValues(),
                  },
              ]
            : []),
        ...(ingress?.source === "install"
            ? [
                  {
                      chart: "ingress-nginx" as const,
                      release: "ingress-nginx",
                      namespace: ingress.controller.namespace,
                      version: ingress.controller.chartVersion,
                      values: ingressNginxValues(ingress.controller.target),
                  },
              ]
            : []),
        ...(certManager?.use === "install"
            ? [
                  {
                      chart: "cert-manager" as const,
                      release: "cert-manager",
                      namespace: certManager.namespace,
                      version: certManager.chartVersion,
                      values: certManagerChartValues(certManager.owner),
                  },
              ]
            : []),
        {
            chart: "vault" as const,
            release: VAULT_RELEASE_NAME,
            namespace: s.vaultNamespace,
            version: s.vaultChartVersion,
            values: vaultHelmValues(s, chartOptions),
        },
    ];
}

/**
 * The Gateway API objects the program creates for a plan, as index.ts hands the plan to EnvoyGateway (on kind: the
 * EnvoyProxy, GatewayClass and Gateway), VaultRoute and Whoami (the routes, on both cluster modes). What render prints.
 */
export function plannedGatewayObjects(plan: StackPlan): KubernetesObject[] {
    if (plan.ingress?.source !== "gateway") return [];
    const { target, envoy } = plan.ingress.gateway;
    const whoami = plan.whoami;
    return [
        ...(envoy ? [envoyProxyManifest(), gatewayClassManifest(), gatewayManifest(envoy)] : []),
        ...(plan.vaultIngress
            ? [
                  vaultRouteManifest({
                      tls: plan.vaultIngress.tls,
                      ingressHost: plan.vaultIngress.host,
                      vaultNamespace: plan.vaultNamespace.name,
                      gateway: target,
                  }),
              ]
            : []),
        ...(whoami ? [whoamiRouteManifest({ whoamiNamespace: whoami.namespace, gateway: target, ...("host" in whoami ? { host: whoami.host } : {}) })] : []),
    ];
}

function gatewayPlan(s: Settings, onKind: boolean): GatewayPlan {
    if (!onKind) {
        const target: GatewayTarget = { cluster: "existing", gatewayName: s.gatewayName, gatewayNamespace: s.gatewayNamespace };
        return { name: s.gatewayName, namespace: s.gatewayNamespace, install: false, target };
    }
    return {
        name: GATEWAY_NAME,
        namespace: GATEWAY_NAMESPACE,
        install: true,
        target: { cluster: "kind" },
        envoy: { tls: s.tls, ingressHost: s.ingressHost, vaultNamespace: s.vaultNamespace, whoamiNamespace: s.whoamiNamespace },
    };
}
