/**
 * Helm's ownership rule for objects that already exist when a chart is installed, and the cluster-wide objects of the
 * ingress-nginx release vault-ha installs with `ingress: install`: another ingress-nginx on the cluster has them under
 * the same names, and Helm then stops the up half-way. Pure: the preflight (scripts/preflightExisting.ts) reads them.
 */
import { INGRESS_CLASS } from "../ingress/ingressNginxValues";

/** The release name vault-ha installs ingress-nginx as (components/ingress/ingressNginx.ts). */
export const INGRESS_NGINX_RELEASE = "ingress-nginx";

/**
 * The cluster-scoped objects of the pinned ingress-nginx chart (release ingress-nginx, the existing-cluster values)
 * that are not Helm hooks: another ingress-nginx installation on the cluster has them under the same names. Namespaced
 * objects live in ingressNginxNamespace, which the up creates itself; hooks are not checked by Helm (they are deleted
 * and created again, helm.sh/hook-delete-policy before-hook-creation).
 */
export const INGRESS_NGINX_CLUSTER_OBJECTS: readonly { kind: string; resource: string; name: string }[] = [
    { kind: "IngressClass", resource: "ingressclasses.networking.k8s.io", name: INGRESS_CLASS },
    { kind: "ClusterRole", resource: "clusterroles.rbac.authorization.k8s.io", name: "ingress-nginx" },
    { kind: "ClusterRoleBinding", resource: "clusterrolebindings.rbac.authorization.k8s.io", name: "ingress-nginx" },
    { kind: "ValidatingWebhookConfiguration", resource: "validatingwebhookconfigurations.admissionregistration.k8s.io", name: "ingress-nginx-admission" },
];

export interface ObjectMeta {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

/**
 * Why Helm would refuse to take an existing object into the release, or undefined when it would adopt it: Helm's
 * checkOwnership (helm/helm pkg/action/validate.go; the same since Helm 3.2 and in v4) requires the label
 * app.kubernetes.io/managed-by=Helm and the annotations meta.helm.sh/release-name and meta.helm.sh/release-namespace
 * to name the release. existingResourceConflict runs it at an install on every object of the chart (not its hooks)
 * that already exists, and fails with "<kind> "<name>" in namespace "" exists and cannot be imported into the current
 * release" (pkg/action/install.go).
 */
export function helmOwnershipConflict(obj: ObjectMeta, release: string, namespace: string): string | undefined {
    const labels = obj.metadata?.labels ?? {};
    const annotations = obj.metadata?.annotations ?? {};
    const name = annotations["meta.helm.sh/release-name"];
    const ns = annotations["meta.helm.sh/release-namespace"];
    if (labels["app.kubernetes.io/managed-by"] === "Helm" && name === release && ns === namespace) return undefined;
    if (name || ns) return `it belongs to Helm release ${name ?? "?"} in namespace ${ns ?? "?"}`;
    return "it was not installed by Helm";
}
