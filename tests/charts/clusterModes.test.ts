/**
 * The values vault-ha sends on a cluster the user already has, rendered by a real Helm from the pinned archives:
 * cert-manager marked with this stack's owner label (which cluster-facts reads from the webhook Deployment), and
 * ingress-nginx behind a LoadBalancer with SSL passthrough. The kind values' renders: render.test.ts.
 */
import { strict as assert } from "assert";
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { INGRESS_CLASS, ingressNginxValues } from "../../components/ingress/ingressNginxValues";
import { OWNER_LABEL_KEY } from "../../components/kind/kindConfig";
import { certManagerChartValues } from "../../components/tls/certManagerMode";
import { CERT_MANAGER_CHART, INGRESS_NGINX_CHART } from "../../components/config/versions";
import { unknownChartKeys } from "../support/chartKeys";
import {
    ChartName,
    describeManifest,
    Manifest,
    manifestsOfKind,
    oneManifest,
    registeredReleases,
    renderChart,
    renderChartText,
    renderRegistered,
    requireHelm,
} from "../support/helm";
import { runProgram } from "../support/program";
import { kubeVersionOfNodeImage } from "../../scripts/charts";

const OWNER = "vault-ha.dev";
const REFERENCE = path.resolve(__dirname, "../../../shared/reference/charts");
const load = (file: string): any => {
    const full = path.join(REFERENCE, file);
    return file.endsWith(".json") ? JSON.parse(readFileSync(full, "utf8")) : parse(readFileSync(full, "utf8"));
};

type Leaf = { path: string[]; value: unknown };
const leaves = (v: unknown, at: string[] = []): Leaf[] =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? Object.entries(v).flatMap(([k, x]) => leaves(x, [...at, k])) : [{ path: at, value: v }];
const changed = (v: unknown): unknown => (typeof v === "boolean" ? !v : typeof v === "string" ? `${v}-changed` : typeof v === "number" ? v + 1 : "changed");

/** The leaves of `values` whose change leaves Helm's output as it was: values the chart ignores. */
async function ignoredValues(chart: ChartName, values: Record<string, unknown>): Promise<string[]> {
    const render = (v: Record<string, unknown>) => renderChartText({ chart, release: chart, namespace: chart, values: v });
    const base = await render(values);
    const found = await Promise.all(
        leaves(values).map(async ({ path: at, value }) => {
            const copy = structuredClone(values);
            let node: any = copy;
            for (const key of at.slice(0, -1)) node = node[key];
            node[at[at.length - 1]] = changed(value);
            return (await render(copy)) === base ? `${chart}: ${at.join(".")} = ${JSON.stringify(value)} is ignored by the chart` : undefined;
        }),
    );
    return found.filter((x): x is string => x !== undefined);
}

describe("values for an existing cluster, rendered by Helm", function () {
    this.timeout(60_000);

    before(function () {
        requireHelm(this, "existing-cluster chart tests");
    });

    describe("cert-manager with the owner label", () => {
        let marked: Manifest[];
        let unmarked: Manifest[];
        before(async () => {
            const render = (values: Record<string, unknown>) =>
                renderChart({ chart: "cert-manager", release: "cert-manager", namespace: "cert-manager", values });
            [marked, unmarked] = await Promise.all([render(certManagerChartValues(OWNER)), render(certManagerChartValues())]);
        });

        it("every key exists in the pinned chart, with the schema's type", function () {
            if (!existsSync(REFERENCE)) this.skip();
            const ref = {
                values: load(`cert-manager-${CERT_MANAGER_CHART.version}.values.yaml`),
                schema: load(`cert-manager-${CERT_MANAGER_CHART.version}.values.schema.json`),
                freeForm: ["global.commonLabels"],
            };
            assert.deepEqual(unknownChartKeys(certManagerChartValues(OWNER), ref), []);
        });

        it("labels the webhook Deployment (what cluster-facts reads) and its pods", () => {
            const webhook = oneManifest(marked, "Deployment", "cert-manager-webhook");
            assert.equal(webhook.metadata.labels?.[OWNER_LABEL_KEY], OWNER, describeManifest(webhook));
            assert.equal(webhook.spec.template.metadata.labels[OWNER_LABEL_KEY], OWNER);
            // The selector stays the chart's: a label there would make the Deployment immutable to a later upgrade.
            assert.equal(webhook.spec.selector.matchLabels[OWNER_LABEL_KEY], undefined);
        });

        it("labels every CRD and every Deployment", () => {
            const crds = manifestsOfKind(marked, "CustomResourceDefinition");
            assert.equal(crds.length, 6);
            const deployments = manifestsOfKind(marked, "Deployment");
            assert.equal(deployments.length, 3);
            const unlabelled = [...crds, ...deployments].filter((m) => m.metadata.labels?.[OWNER_LABEL_KEY] !== OWNER).map(describeManifest);
            assert.deepEqual(unlabelled, []);
        });

        it("no value is ignored by the chart", async () => {
            assert.deepEqual(await ignoredValues("cert-manager", certManagerChartValues(OWNER)), []);
        });

        it("lets Helm delete its CRDs with the release (kind keeps the chart's keep policy)", () => {
            const keep = (m: Manifest) => m.metadata.annotations?.["helm.sh/resource-policy"];
            assert.deepEqual(manifestsOfKind(marked, "CustomResourceDefinition").map(keep), Array(6).fill(undefined));
            assert.deepEqual(manifestsOfKind(unmarked, "CustomResourceDefinition").map(keep), Array(6).fill("keep"));
        });

        it("without an owner (kind) renders no owner label anywhere: existing kind stacks' cert-manager is unchanged", () => {
            assert.ok(!JSON.stringify(unmarked).includes(OWNER_LABEL_KEY));
            assert.equal(unmarked.length, marked.length);
        });
    });

    describe("ingress-nginx behind a LoadBalancer", () => {
        let manifests: Manifest[];
        let controller: any;
        let pod: any;
        before(async () => {
            manifests = await renderChart({
                chart: "ingress-nginx",
                release: "ingress-nginx",
                namespace: "ingress-nginx",
                values: ingressNginxValues("existing"),
            });
            const deployment = oneManifest(manifests, "Deployment", "ingress-nginx-controller");
            pod = deployment.spec.template.spec;
            controller = pod.containers.find((c: any) => c.name === "controller");
        });

        it("every key exists in the pinned chart", function () {
            if (!existsSync(REFERENCE)) this.skip();
            const ref = {
                values: load(`ingress-nginx-${INGRESS_NGINX_CHART.version}.values.yaml`),
                freeForm: ["controller.nodeSelector", "controller.extraArgs"],
            };
            assert.deepEqual(unknownChartKeys(ingressNginxValues("existing"), ref), []);
        });

        it("no value is ignored by the chart (the chart's defaults included: each is stated because it matters)", async () => {
            assert.deepEqual(await ignoredValues("ingress-nginx", ingressNginxValues("existing")), []);
        });

        it("exposes the controller through a LoadBalancer Service on 80 and 443", () => {
            const svc = oneManifest(manifests, "Service", "ingress-nginx-controller");
            assert.equal(svc.spec.type, "LoadBalancer");
            assert.deepEqual(svc.spec.ports.map((p: any) => p.port).sort(), [443, 80]);
        });

        it("runs with --enable-ssl-passthrough and publishes the load balancer's address, not localhost", () => {
            const args: string[] = controller.args;
            assert.ok(args.includes("--enable-ssl-passthrough=true"), args.join(" "));
            assert.ok(args.includes("--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller"), args.join(" "));
            assert.ok(!args.some((a) => a.startsWith("--publish-status-address")), args.join(" "));
        });

        it("has no host ports and no kind node selector or tolerations", () => {
            assert.ok(!controller.ports.some((p: any) => p.hostPort !== undefined), JSON.stringify(controller.ports));
            assert.deepEqual(pod.nodeSelector, { "kubernetes.io/os": "linux" });
            assert.equal(pod.tolerations, undefined);
        });

        it("creates IngressClass nginx for its controller, not as the cluster's default", () => {
            const cls = oneManifest(manifests, "IngressClass", INGRESS_CLASS);
            assert.equal(cls.metadata.annotations?.["ingressclass.kubernetes.io/is-default-class"], undefined);
            assert.ok(controller.args.includes(`--controller-class=${cls.spec.controller}`));
        });
    });

    describe("what the program registers on an existing cluster, through Helm", () => {
        let rendered: Record<string, Manifest[]>;
        before(async () => {
            const run = await runProgram({ cluster: "existing", kubeContext: "prod-eu", ingress: "install", ingressHost: "vault.example.com" });
            rendered = {};
            for (const r of registeredReleases(run)) rendered[r.release] = await renderRegistered(r, kubeVersionOfNodeImage());
        });

        it("cert-manager's webhook Deployment carries this stack's owner label, so the next up knows the install as its own", () => {
            const webhook = oneManifest(rendered["cert-manager"], "Deployment", "cert-manager-webhook");
            assert.equal(webhook.metadata.labels?.[OWNER_LABEL_KEY], OWNER, describeManifest(webhook));
        });

        it("Vault's API Service is a LoadBalancer, and ingress-nginx's controller is behind one too", () => {
            assert.equal(oneManifest(rendered.vault, "Service", "vault-ui").spec.type, "LoadBalancer");
            assert.equal(oneManifest(rendered["ingress-nginx"], "Service", "ingress-nginx-controller").spec.type, "LoadBalancer");
        });
    });
});
