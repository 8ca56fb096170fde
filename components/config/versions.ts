/**
 * Every version vault-ha deploys, pinned in one place. Change a pin here, run `npm test` and `npm run render`,
 * and read the diff: the tests check each chart key we send against the pinned chart's values.
 */

/**
 * kind v0.33.0 lists this image in its release notes. A node image is only supported by the kind release that built
 * it, so the digest is required: the bare tag on Docker Hub may point at a build for another kind release.
 * Kubernetes 1.35 rather than kind's default 1.37: ingress-nginx 1.15.1 (its last release) is tested up to 1.35.
 */
export const KIND_RELEASE = "v0.33.0";
export const KIND_NODE_IMAGE = "kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0";

/** hashicorp/vault chart 0.34.1 ships Vault 2.0.4 (tested by the chart with Kubernetes up to 1.36). */
export const VAULT_CHART = {
    repo: "https://helm.releases.hashicorp.com",
    chart: "vault",
    version: "0.34.1",
} as const;

/**
 * The Vault server image, stated explicitly although it equals the chart default: Vault 2.0.1 (and 1.21.6, 1.20.11,
 * 1.19.17) need the IPC_LOCK capability the chart does not grant, so a pin that drifts must be a visible change.
 */
export const VAULT_IMAGE_TAG = "2.0.4";

/**
 * The default of the `vaultImage` setting: the chart's own image, by tag. Existing stacks run exactly this, so a
 * default with a digest would roll every pod once; set `vaultImage` with its digest to pin it (the README says how).
 */
export const VAULT_IMAGE = `hashicorp/vault:${VAULT_IMAGE_TAG}`;

/**
 * ingress-nginx chart 4.15.1 = controller 1.15.1, the project's last release (it was retired in March 2026). It stays
 * because the blog lab uses its SSL passthrough; the IngressNginx component is the only place that knows about it.
 */
export const INGRESS_NGINX_CHART = {
    repo: "https://kubernetes.github.io/ingress-nginx",
    chart: "ingress-nginx",
    version: "4.15.1",
} as const;

/** traefik/whoami v1.11.0 is the newest tagged release. */
export const WHOAMI_IMAGE = "traefik/whoami:v1.11.0";

/**
 * cert-manager v1.21.1 (supports Kubernetes 1.33-1.36). `crds.enabled` installs the CRDs (`installCRDs` is deprecated).
 */
export const CERT_MANAGER_CHART = {
    repo: "https://charts.jetstack.io",
    chart: "cert-manager",
    version: "v1.21.1",
} as const;

/**
 * Envoy Gateway v1.9.0 (gateway-helm, the newest release), the Gateway API front door on kind. It bundles the Gateway
 * API v1.6.1 CRDs, whose TLSRoute v1 the controller watches (v1.7 watched v1alpha3). Upstream publishes the chart as
 * an OCI artifact and installs it by that reference, with no repository. The version keeps its `v`: upstream pushes
 * the chart as both `v1.9.0` and `1.9.0`, its v1.9 docs install `v1.9.0`, and that is the archive the tests render.
 */
export const GATEWAY_CHART = {
    oci: "oci://docker.io/envoyproxy/gateway-helm",
    chart: "gateway-helm",
    version: "v1.9.0",
} as const;
