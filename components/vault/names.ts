/**
 * Every name and address of the Vault release, in one place. The chart derives its objects from the release name
 * (the StatefulSet `vault`, pods vault-0..N-1, the headless Service `vault-internal` that gives each pod a DNS name);
 * the bootstrap, the certificate's names and the pods' advertised addresses all follow from these functions.
 */

/** The Helm release name. Fixed, not auto-named: every DNS name below derives from it. */
export const VAULT_RELEASE_NAME = "vault";
export const VAULT_API_PORT = 8200;
export const VAULT_CLUSTER_PORT = 8201;

/** http or https, as clients (and the chart's probes) must speak to Vault. */
export function vaultScheme(tls: boolean): "http" | "https" {
    return tls ? "https" : "http";
}

/** The StatefulSet's pods, in ordinal order: the first is the one the bootstrap initialises. */
export function podNames(release: string, replicas: number): string[] {
    return Array.from({ length: replicas }, (_, i) => `${release}-${i}`);
}

/** The chart's headless Service, which publishes every pod (ready or not) under its own name. */
export function headlessService(release: string): string {
    return `${release}-internal`;
}

/** A pod's name through the headless Service, e.g. vault-1.vault-internal: how the pods reach each other. */
export function podHost(release: string, pod: string): string {
    return `${pod}.${headlessService(release)}`;
}

/** The API address followers join: the first pod, through the headless Service. */
export function leaderApiAddr(release: string, tls: boolean): string {
    return `${vaultScheme(tls)}://${podHost(release, `${release}-0`)}:${VAULT_API_PORT}`;
}

/**
 * A pod's raft volume claim: the chart's volumeClaimTemplates entry "data" (vault-helm templates/_helpers.tpl
 * vault.volumeclaims), which the StatefulSet controller names `<template>-<pod>` (kubernetes
 * pkg/controller/statefulset/stateful_set_utils.go getPersistentVolumeClaimName). Raft's data, and so the node's
 * membership, lives on it.
 */
export function dataClaimName(pod: string): string {
    return `data-${pod}`;
}

/** The ordinal of one of the release's pods (`vault-3` -> 3), or undefined for any other name. */
export function podOrdinal(release: string, pod: string): number | undefined {
    const m = new RegExp(`^${release}-(\\d+)$`).exec(pod);
    return m ? Number(m[1]) : undefined;
}

/**
 * The mark vault-ha puts on what it installs for a stack: a Kubernetes label whose value names the Pulumi project and
 * stack (components/kind/kindConfig.ts ownerLabelValue). On the nodes of the kind clusters it creates (the create
 * script reuses an existing cluster only when all its nodes carry this stack's value, because `pulumi destroy` deletes
 * whatever cluster the stack uses) and on the cert-manager it installs on a shared cluster.
 */
export const OWNER_LABEL_KEY = "vault-ha.dev/owner";
