/**
 * What the mode-dependent settings mean once `cluster` is known. Each such setting defaults to "auto", which is a
 * different choice on a kind lab and on a cluster the user already has; this file is the one place that says which.
 * Settings that depend on the live cluster (antiAffinity, certManager) are decided at `up` from what the cluster
 * reports (components/cluster/existingPlan.ts): here they stay open. The stack plan (components/stackPlan.ts) puts these
 * answers together into what each component gets.
 */
import type { AntiAffinity, IngressMode, Settings, VaultServiceType } from "./settings";
import type { VaultChartOptions, VaultResources } from "../vault/vaultValues";
import type { IngressNginxTarget } from "../ingress/ingressNginxValues";
import type { IssuerScope } from "../tls/tlsConfig";

/**
 * Pod resources on an existing cluster: the example in the pinned vault-helm chart's values.yaml (server.resources,
 * requests and limits of 256Mi and 250m). A shared cluster schedules by requests and evicts pods without them first;
 * kind keeps none (today's lab), so its pods are not rolled by an upgrade of vault-ha.
 */
export const EXISTING_CLUSTER_RESOURCES = { cpu: "250m", memory: "256Mi" } as const;

/** The Service type of Vault's API: kind has no load-balancer controller, so NodePort (mapped to localhost) there. */
export function vaultServiceType(s: Pick<Settings, "cluster" | "vaultServiceType">): VaultServiceType {
    if (s.vaultServiceType !== "auto") return s.vaultServiceType;
    return s.cluster === "kind" ? "NodePort" : "LoadBalancer";
}

/** The ingress: on kind vault-ha installs ingress-nginx (the blog's lab); elsewhere it installs nothing unless asked. */
export function ingressMode(s: Pick<Settings, "cluster" | "ingress">): IngressMode {
    if (s.ingress !== "auto") return s.ingress;
    return s.cluster === "kind" ? "install" : "none";
}

/** Which of ingress-nginx's values an install gets (ingressNginxValues.ts): kind's mapped host ports, or a LoadBalancer. */
export function ingressNginxTarget(s: Pick<Settings, "cluster">): IngressNginxTarget {
    return s.cluster === "kind" ? "kind" : "existing";
}

/**
 * Where cert-manager's CA chain lives (tlsConfig.ts): ClusterIssuers on kind, Issuers in Vault's namespace on a
 * cluster vault-ha does not own (nothing cluster-wide another stack could collide with).
 */
export function issuerScope(s: Pick<Settings, "cluster">): IssuerScope {
    return s.cluster === "kind" ? "cluster" : "namespace";
}

/**
 * The owner label (ownerLabelValue(project, stack)) on the cert-manager vault-ha installs: only off kind, where the
 * next `up` must tell its own install from a foreign one; kind's values stay what its stacks were installed with.
 */
export function certManagerOwner(s: Pick<Settings, "cluster">, owner: string): string | undefined {
    return s.cluster === "kind" ? undefined : owner;
}

export function vaultResources(s: Pick<Settings, "cluster" | "vaultCpu" | "vaultMemory">): VaultResources {
    const pick = (value: string, existingDefault: string): string | undefined =>
        value === "none" ? undefined : value === "auto" ? (s.cluster === "kind" ? undefined : existingDefault) : value;
    const cpu = pick(s.vaultCpu, EXISTING_CLUSTER_RESOURCES.cpu);
    const memory = pick(s.vaultMemory, EXISTING_CLUSTER_RESOURCES.memory);
    return { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) };
}

/** Whether whoami runs: it proves the ingress, so only where there is one. */
export function whoamiEnabled(s: Pick<Settings, "cluster" | "ingress" | "whoami">): boolean {
    return s.whoami && ingressMode(s) !== "none";
}

/**
 * The Vault chart's options for these settings. `antiAffinity` is what the program decided for `auto` from the live
 * cluster (components/cluster/existingPlan.ts); on kind, and where nothing was decided, the chart's required rule.
 */
export function vaultChartOptions(s: Settings, decided?: { antiAffinity: AntiAffinity; prometheusOperator?: boolean }): VaultChartOptions {
    const antiAffinity = s.antiAffinity !== "auto" ? s.antiAffinity : (decided?.antiAffinity ?? "required");
    return {
        serviceType: vaultServiceType(s),
        storageClass: s.storageClass || undefined,
        resources: vaultResources(s),
        antiAffinity,
        telemetry: s.telemetry,
        // The ServiceMonitor and rules only where their CRDs exist (the chart fails to install without them).
        ...(s.telemetry && decided?.prometheusOperator ? { monitoring: { namespace: s.vaultNamespace } } : {}),
        loadBalancerSourceRanges: s.vaultLoadBalancerSourceRanges,
        serviceAnnotations: Object.fromEntries(
            s.vaultServiceAnnotations.map((a) => {
                const at = a.indexOf("=");
                return [a.slice(0, at), a.slice(at + 1)];
            }),
        ),
    };
}
