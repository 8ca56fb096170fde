/**
 * The auto seals' values (components/seal/sealPlan.ts through vaultHelmValues) rendered by a real Helm from the pinned
 * vault chart: the ConfigMap's server configuration holds the seal stanza and one retry_join per pod; the workload
 * identity lands on the ServiceAccount (IRSA, GKE) and the pod template (Azure); the transit token comes from a
 * secretKeyRef and appears in no manifest; the transit CA is mounted from the Secret; and the chart's start script
 * (which sed-replaces HOST_IP, POD_IP, HOSTNAME, API_ADDR, TRANSIT_ADDR and RAFT_ADDR in the configuration) leaves it
 * as rendered.
 */
import { strict as assert } from "assert";
import { parseSettings } from "../../components/config/settings";
import { CHART_CONFIG_PLACEHOLDERS } from "../../components/config/sealGrammars";
import { AutoSealPlan, sealPlan } from "../../components/seal/sealPlan";
import { SEAL_ANNOTATION, sealAnnotation, autoSealServer, vaultHelmValues, vaultServerHcl } from "../../components/vault/vaultValues";
import { Manifest, oneManifest, renderChart, renderChartText, requireHelm } from "../support/helm";
import { TRANSIT_CA_PEM } from "../unit/seal/sealFixtures";

const EXISTING = { cluster: "existing", kubeContext: "prod-eu" };
const TOKEN = "hvs.chart-test-token";

const CASES: Record<string, Record<string, string>> = {
    "awskms through IRSA, tls": {
        ...EXISTING,
        seal: "awskms",
        sealKey: "alias/vault-unseal",
        sealRegion: "eu-west-1",
        sealIdentity: "arn:aws:iam::111122223333:role/vault",
    },
    "gcpckms through GKE Workload Identity, tls": {
        ...EXISTING,
        seal: "gcpckms",
        sealKey: "projects/my-project/locations/global/keyRings/vault/cryptoKeys/unseal",
        sealIdentity: "vault@my-project.iam.gserviceaccount.com",
    },
    "azurekeyvault through Azure Workload Identity, no tls": {
        ...EXISTING,
        tls: "false",
        vaultServiceType: "ClusterIP",
        seal: "azurekeyvault",
        sealKey: "vault-kv/unseal",
        sealIdentity: "11111111-2222-3333-4444-555555555555",
    },
    "transit with its CA, kind, tls": {
        seal: "transit",
        sealKey: "vault-ha",
        sealTransitAddress: "https://transit.example.com:8200",
        sealTransitCaCert: TRANSIT_CA_PEM,
        sealTransitToken: TOKEN,
    },
    "transit without a CA, kind, no tls": {
        tls: "false",
        seal: "transit",
        sealKey: "vault-ha",
        sealTransitAddress: "https://transit.example.com",
        sealTransitMount: "team/transit",
        sealTransitToken: TOKEN,
    },
};

/** What the chart's start script does to the configuration (vault-helm templates/_helpers.tpl vault.args). */
function startScriptSubstitutions(config: string): string {
    return CHART_CONFIG_PLACEHOLDERS.reduce((text, word) => text.split(word).join(`<${word.toLowerCase()} of the pod>`), config);
}

const container = (sts: Manifest) => sts.spec.template.spec.containers.find((c: { name: string }) => c.name === "vault");

describe("auto seals in the vault chart, rendered by Helm", function () {
    this.timeout(60_000);
    before(function () {
        requireHelm(this, "chart rendering tests (seals)");
    });

    for (const [what, config] of Object.entries(CASES)) {
        describe(what, () => {
            const settings = parseSettings(config).settings;
            const seal = sealPlan(settings) as AutoSealPlan;
            const values = vaultHelmValues(settings, { seal });
            const release = { chart: "vault" as const, release: "vault", namespace: "vault", values };
            let manifests: Manifest[];
            let text: string;
            before(async () => {
                manifests = await renderChart(release);
                text = await renderChartText(release);
            });
            const serverConfig = () => String(Object.values(oneManifest(manifests, "ConfigMap", "vault-config").data)[0]);

            it("the ConfigMap's server configuration holds the seal stanza and one retry_join per pod, as the program wrote them", () => {
                const config = serverConfig();
                const expected = vaultServerHcl(settings.tls, autoSealServer(seal, settings.vaultReplicas));
                for (const line of expected.split("\n").filter((l) => l.trim() !== "")) assert.ok(config.includes(line), `missing: ${line}\n${config}`);
                assert.ok(config.includes(`seal "${seal.type}" {`));
                const joins = [...config.matchAll(/leader_api_addr\s*=\s*"([^"]+)"/g)].map((m) => m[1]);
                const scheme = settings.tls ? "https" : "http";
                assert.deepEqual(
                    joins,
                    [0, 1, 2].map((i) => `${scheme}://vault-${i}.vault-internal:8200`),
                );
                const caFiles = [...config.matchAll(/leader_ca_cert_file\s*=\s*"([^"]+)"/g)].map((m) => m[1]);
                assert.deepEqual(caFiles, settings.tls ? Array(3).fill("/vault/userconfig/vault-tls/ca.crt") : []);
            });

            it("the chart's start script replaces nothing in it (no placeholder word in any value)", () => {
                assert.equal(startScriptSubstitutions(serverConfig()), serverConfig());
            });

            it("no token anywhere: not in any manifest, not in the stanza", () => {
                assert.ok(!text.includes(TOKEN), "the token is in a rendered manifest");
                assert.ok(!/^\s*token\s*=/m.test(serverConfig()), "a token attribute in the stanza");
            });

            it("the workload identity: the ServiceAccount's annotations and the pod template's labels", () => {
                const sa = oneManifest(manifests, "ServiceAccount", "vault");
                const sts = oneManifest(manifests, "StatefulSet", "vault");
                for (const [key, value] of Object.entries(seal.serviceAccountAnnotations)) assert.equal(sa.metadata.annotations?.[key], value, key);
                for (const [key, value] of Object.entries(seal.podLabels)) assert.equal(sts.spec.template.metadata.labels[key], value, key);
                const expected: Record<string, [string, string][]> = {
                    awskms: [["eks.amazonaws.com/role-arn", "arn:aws:iam::111122223333:role/vault"]],
                    gcpckms: [["iam.gke.io/gcp-service-account", "vault@my-project.iam.gserviceaccount.com"]],
                    azurekeyvault: [["azure.workload.identity/client-id", "11111111-2222-3333-4444-555555555555"]],
                    transit: [],
                };
                assert.deepEqual(Object.entries(sa.metadata.annotations ?? {}), expected[seal.type]);
                assert.equal(sts.spec.template.metadata.labels["azure.workload.identity/use"], seal.type === "azurekeyvault" ? "true" : undefined);
            });

            it("the pod template carries the seal's annotation, so a seal or key change is a new StatefulSet revision (the roll)", () => {
                const sts = oneManifest(manifests, "StatefulSet", "vault");
                assert.equal(sts.spec.template.metadata.annotations?.[SEAL_ANNOTATION], sealAnnotation(seal));
                assert.match(sealAnnotation(seal), new RegExp(`^${seal.type} [0-9a-f]{12}$`));
            });

            it("awskms with a region: the container states it in AWS_REGION and AWS_DEFAULT_REGION (which Vault lets override the stanza)", () => {
                const env = container(oneManifest(manifests, "StatefulSet", "vault")).env as Array<{ name: string; value?: string }>;
                const regions = env.filter((e) => e.name === "AWS_REGION" || e.name === "AWS_DEFAULT_REGION").map((e) => `${e.name}=${e.value}`);
                assert.deepEqual(regions.sort(), settings.sealRegion ? [`AWS_DEFAULT_REGION=${settings.sealRegion}`, `AWS_REGION=${settings.sealRegion}`] : []);
                if (settings.tls)
                    assert.ok(
                        env.some((e) => e.name === "VAULT_CACERT"),
                        "the TLS CA variable is kept",
                    );
            });

            it("transit: VAULT_TOKEN from the Secret's key (a secretKeyRef, no value), and the CA mounted alone", () => {
                const sts = oneManifest(manifests, "StatefulSet", "vault");
                const env = container(sts).env.filter((e: { name: string }) => e.name === "VAULT_TOKEN");
                if (seal.type !== "transit") return assert.deepEqual(env, []);
                assert.deepEqual(env, [{ name: "VAULT_TOKEN", valueFrom: { secretKeyRef: { name: "vault-ha-seal", key: "token" } } }]);
                const volume = sts.spec.template.spec.volumes.find((v: { name: string }) => v.name === "vault-ha-seal");
                const mount = container(sts).volumeMounts.find((m: { name: string }) => m.name === "vault-ha-seal");
                if (!settings.sealTransitCaCert) {
                    assert.equal(volume, undefined);
                    assert.match(serverConfig(), /tls_ca_cert\s*=\s*"\/etc\/ssl\/certs\/ca-certificates.crt"/);
                    return;
                }
                assert.deepEqual(volume.secret, { secretName: "vault-ha-seal", defaultMode: 0o440, items: [{ key: "ca.crt", path: "ca.crt" }] });
                assert.deepEqual(mount, { name: "vault-ha-seal", mountPath: "/vault/userconfig/vault-ha-seal", readOnly: true });
                assert.match(serverConfig(), /tls_ca_cert\s*=\s*"\/vault\/userconfig\/vault-ha-seal\/ca.crt"/);
                if (settings.tls)
                    assert.ok(
                        sts.spec.template.spec.volumes.some((v: { name: string }) => v.name === "vault-tls"),
                        "the TLS volume is kept",
                    );
            });
        });
    }
});
