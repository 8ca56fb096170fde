/**
 * The options for a cluster that is not kind (issue 13: Service type, storage class, resources, anti-affinity), sent
 * to the pinned vault chart and rendered by a real Helm: each lands where it is meant to, and nothing else moves.
 * Without options (a kind stack) the render is the one of before: the same text, byte for byte.
 */
import { strict as assert } from "assert";
import { parseSettings } from "../../components/config/settings";
import { AntiAffinity, VaultChartOptions, vaultHelmValues, VaultServiceType } from "../../components/vault/vaultValues";
import { lintChart, Manifest, oneManifest, renderChart, renderChartText, requireHelm } from "../support/helm";

const RELEASE = "vault";
const NAMESPACE = "vault";
const UI_SERVICE = `${RELEASE}-ui`;

/** The settings of a default (kind) stack: TLS on, 3 replicas, NodePort 30000. */
const kind = () => parseSettings({}).settings;

function render(options?: VaultChartOptions, release = RELEASE): Promise<Manifest[]> {
    return renderChart({ chart: "vault", release, namespace: NAMESPACE, values: vaultHelmValues(kind(), options) });
}
const text = (options?: VaultChartOptions) =>
    renderChartText({ chart: "vault", release: RELEASE, namespace: NAMESPACE, values: vaultHelmValues(kind(), options) });

const statefulSet = (manifests: Manifest[]) => oneManifest(manifests, "StatefulSet");
const container = (sts: Manifest, name: string) => sts.spec.template.spec.containers.find((c: { name: string }) => c.name === name);

describe("the vault chart with the options for any cluster, rendered by Helm", function () {
    this.timeout(60_000);
    before(function () {
        requireHelm(this, "chart rendering tests (vault options)");
    });

    describe("default values: what a kind stack installs is unchanged", () => {
        it("the options that mean today's lab render the same text as no options at all", async () => {
            const today = await text();
            for (const options of [
                {},
                { serviceType: "NodePort", antiAffinity: "required", storageClass: "", resources: {} },
                { serviceType: "NodePort", antiAffinity: "required", resources: { cpu: "", memory: "" } },
            ] as VaultChartOptions[]) {
                assert.equal(await text(options), today, JSON.stringify(options));
            }
        });

        it("and that text holds a NodePort on 30000, the chart's required anti-affinity, no storage class, no vault resources", async () => {
            const manifests = await render();
            const ui = oneManifest(manifests, "Service", UI_SERVICE);
            assert.equal(ui.spec.type, "NodePort");
            assert.equal(ui.spec.ports[0].nodePort, 30000);
            const sts = statefulSet(manifests);
            assert.equal(sts.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution, undefined);
            assert.equal(sts.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.length, 1);
            assert.equal(sts.spec.volumeClaimTemplates[0].spec.storageClassName, undefined);
            assert.equal(container(sts, "vault").resources, undefined);
        });
    });

    describe("serviceType: the `ui` Service, Vault's API on 8200", () => {
        const cases: Record<VaultServiceType, object> = {
            // The chart renders externalTrafficPolicy (its values.yaml: Cluster) for NodePort and LoadBalancer only.
            NodePort: { type: "NodePort", externalTrafficPolicy: "Cluster", ports: [{ name: "https", port: 8200, targetPort: 8200, nodePort: 30000 }] },
            LoadBalancer: { type: "LoadBalancer", externalTrafficPolicy: "Cluster", ports: [{ name: "https", port: 8200, targetPort: 8200 }] },
            ClusterIP: { type: "ClusterIP", externalTrafficPolicy: undefined, ports: [{ name: "https", port: 8200, targetPort: 8200 }] },
        };
        for (const [serviceType, want] of Object.entries(cases) as [VaultServiceType, object][]) {
            it(`${serviceType}: that type, port 8200 to the pods' 8200${serviceType === "NodePort" ? " on node port 30000" : ", no node port sent"}, only Ready (unsealed) pods`, async () => {
                const manifests = await render({ serviceType });
                const ui = oneManifest(manifests, "Service", UI_SERVICE);
                assert.deepEqual(
                    { type: ui.spec.type, externalTrafficPolicy: ui.spec.externalTrafficPolicy, ports: ui.spec.ports },
                    { externalTrafficPolicy: undefined, ...want },
                );
                assert.equal(ui.spec.publishNotReadyAddresses, false);
                assert.equal(ui.spec.loadBalancerSourceRanges, undefined);
                assert.equal(ui.spec.loadBalancerIP, undefined);
                // The active pod only (ui.activeVaultPodOnly): a standby redirects snapshot requests to its cluster-internal name.
                assert.deepEqual(ui.spec.selector, {
                    "app.kubernetes.io/name": "vault",
                    "app.kubernetes.io/instance": RELEASE,
                    component: "server",
                    "vault-active": "true",
                });
                // Only that Service changes: the other Services keep their type.
                for (const svc of manifests.filter((m) => m.kind === "Service" && m.metadata.name !== UI_SERVICE)) {
                    assert.equal(svc.spec.type ?? "ClusterIP", "ClusterIP", svc.metadata.name);
                }
            });
        }

        it("a LoadBalancer admits the given networks and carries the given annotations (an internal load balancer)", async () => {
            const annotations = { "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal" };
            const ui = oneManifest(
                await render({ serviceType: "LoadBalancer", loadBalancerSourceRanges: ["10.0.0.0/8", "2001:db8::/32"], serviceAnnotations: annotations }),
                "Service",
                UI_SERVICE,
            );
            assert.deepEqual(ui.spec.loadBalancerSourceRanges, ["10.0.0.0/8", "2001:db8::/32"]);
            assert.deepEqual(ui.metadata.annotations, annotations);
            // Ranges are for a load balancer only: with another type none is sent (and the chart would render none).
            assert.equal(
                (vaultHelmValues(kind(), { serviceType: "ClusterIP", loadBalancerSourceRanges: ["10.0.0.0/8"] }) as any).ui.loadBalancerSourceRanges,
                undefined,
            );
        });

        it("why no node port is sent but for NodePort: the chart writes it whatever the type (the API server refuses it on ClusterIP)", async () => {
            const values = vaultHelmValues(kind(), { serviceType: "ClusterIP" }) as any;
            values.ui.serviceNodePort = 30000;
            const ui = oneManifest(await renderChart({ chart: "vault", release: RELEASE, namespace: NAMESPACE, values }), "Service", UI_SERVICE);
            assert.equal(ui.spec.type, "ClusterIP");
            assert.equal(ui.spec.ports[0].nodePort, 30000);
        });
    });

    describe("storageClass: the raft volume's claim", () => {
        it("is the claim template's storageClassName, with the size and access mode unchanged", async () => {
            const sts = statefulSet(await render({ storageClass: "premium-rwo" }));
            assert.deepEqual(
                sts.spec.volumeClaimTemplates.map((t: Manifest) => [t.metadata.name, t.spec.storageClassName, t.spec.resources.requests.storage]),
                [["data", "premium-rwo", "10Gi"]],
            );
            assert.deepEqual(sts.spec.volumeClaimTemplates[0].spec.accessModes, ["ReadWriteOnce"]);
        });
    });

    describe("resources: the vault container only", () => {
        it("a CPU request without a limit, memory requested and limited alike; the reloader keeps its own", async () => {
            const sts = statefulSet(await render({ resources: { cpu: "250m", memory: "256Mi" } }));
            assert.deepEqual(container(sts, "vault").resources, { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "256Mi" } });
            assert.deepEqual(container(sts, "tls-reloader").resources, { requests: { cpu: "5m", memory: "8Mi" }, limits: { memory: "32Mi" } });
        });

        it("one of the two alone", async () => {
            assert.deepEqual(container(statefulSet(await render({ resources: { cpu: "1" } })), "vault").resources, { requests: { cpu: "1" } });
            assert.deepEqual(container(statefulSet(await render({ resources: { memory: "1Gi" } })), "vault").resources, {
                requests: { memory: "1Gi" },
                limits: { memory: "1Gi" },
            });
        });
    });

    describe("antiAffinity: two Vault pods on one node, never or only when the scheduler must", () => {
        /** The pod's labels that a term selects, and its topology key. */
        const selects = (term: any, sts: Manifest) =>
            term.topologyKey === "kubernetes.io/hostname" &&
            Object.entries(term.labelSelector.matchLabels as Record<string, string>).every(([k, v]) => sts.spec.template.metadata.labels[k] === v) &&
            Object.keys(term.labelSelector.matchLabels).sort().join() === "app.kubernetes.io/instance,app.kubernetes.io/name,component";

        const cases: Record<AntiAffinity, (sts: Manifest) => void> = {
            required: (sts) => {
                const anti = sts.spec.template.spec.affinity.podAntiAffinity;
                assert.deepEqual(Object.keys(anti), ["requiredDuringSchedulingIgnoredDuringExecution"]);
                assert.equal(anti.requiredDuringSchedulingIgnoredDuringExecution.length, 1);
                assert.ok(selects(anti.requiredDuringSchedulingIgnoredDuringExecution[0], sts), JSON.stringify(anti));
            },
            preferred: (sts) => {
                const anti = sts.spec.template.spec.affinity.podAntiAffinity;
                assert.deepEqual(Object.keys(anti), ["preferredDuringSchedulingIgnoredDuringExecution"]);
                const [term] = anti.preferredDuringSchedulingIgnoredDuringExecution;
                assert.equal(anti.preferredDuringSchedulingIgnoredDuringExecution.length, 1);
                assert.equal(term.weight, 100);
                assert.ok(selects(term.podAffinityTerm, sts), JSON.stringify(anti));
            },
        };
        for (const [antiAffinity, check] of Object.entries(cases) as [AntiAffinity, (sts: Manifest) => void][]) {
            it(`${antiAffinity}: one ${antiAffinity} term on kubernetes.io/hostname that selects exactly the server pods`, async () => {
                check(statefulSet(await render({ antiAffinity })));
            });
        }

        it("preferred, through the chart's tpl, follows the release name as the pods' labels do", async () => {
            const sts = statefulSet(await render({ antiAffinity: "preferred" }, "secrets"));
            cases.preferred(sts);
            const [term] = sts.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
            assert.equal(term.podAffinityTerm.labelSelector.matchLabels["app.kubernetes.io/instance"], "secrets");
        });

        it("the checks catch a term that selects no Vault pod", async () => {
            const values = vaultHelmValues(kind(), { antiAffinity: "preferred" }) as any;
            values.server.affinity = values.server.affinity.replace("component: server", "component: webhook");
            const sts = statefulSet(await renderChart({ chart: "vault", release: RELEASE, namespace: NAMESPACE, values }));
            assert.throws(() => cases.preferred(sts), /"component":"webhook"/);
        });
    });

    it("helm lint passes every option, alone and all together, with no warning", async () => {
        const all: VaultChartOptions[] = [
            { serviceType: "LoadBalancer" },
            { serviceType: "ClusterIP" },
            { storageClass: "gp3" },
            { resources: { cpu: "250m", memory: "256Mi" } },
            { antiAffinity: "preferred" },
            { serviceType: "LoadBalancer", storageClass: "gp3", resources: { cpu: "250m", memory: "256Mi" }, antiAffinity: "preferred" },
        ];
        const findings = await Promise.all(
            all.map(async (options) => {
                const out = await lintChart({ chart: "vault", release: RELEASE, namespace: NAMESPACE, values: vaultHelmValues(kind(), options) });
                return out
                    .split("\n")
                    .filter((l) => /^\[(WARNING|ERROR)\]/.test(l))
                    .map((l) => `${JSON.stringify(options)}: ${l}`);
            }),
        );
        assert.deepEqual(findings.flat(), []);
    });
});
