/**
 * sealPlan (components/seal/sealPlan.ts) and the grammars of the seal settings, as pure functions: each seal's stanza
 * keys (go-kms-wrapping SetConfig's required ones), identity annotations and labels, the transit token's route, and
 * values the chart's start script or Helm's tpl would change are refused.
 */
import { strict as assert } from "assert";
import { parseSettings } from "../../../components/config/settings";
import { awsRegion, serverConfigValue, transitAddress, transitMount, pemCertificates } from "../../../components/config/sealGrammars";
import { sealPlan, SHAMIR_SEAL } from "../../../components/seal/sealPlan";
import { vaultHelmValues } from "../../../components/vault/vaultValues";
import { TRANSIT_CA_PEM } from "./sealFixtures";

const EXISTING = { cluster: "existing", kubeContext: "prod-eu" };
const plan = (raw: Record<string, string>) => sealPlan(parseSettings(raw).settings);

describe("sealPlan", () => {
    it("Shamir (the default): no stanza, and the chart values of before", () => {
        const settings = parseSettings({}).settings;
        assert.deepEqual(sealPlan(settings), SHAMIR_SEAL);
        assert.equal(JSON.stringify(vaultHelmValues(settings, { seal: SHAMIR_SEAL })), JSON.stringify(vaultHelmValues(settings)));
    });

    it("awskms: region and kms_key_id, the IRSA annotation, no secret", () => {
        const p = plan({ ...EXISTING, seal: "awskms", sealKey: "alias/vault", sealRegion: "eu-west-1", sealIdentity: "arn:aws:iam::111122223333:role/vault" });
        assert.deepEqual(p, {
            type: "awskms",
            stanza: { region: "eu-west-1", kms_key_id: "alias/vault" },
            serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/vault" },
            podLabels: {},
            secretEnv: [],
            env: { AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-west-1" },
            describe: "AWS KMS key alias/vault in eu-west-1 through IAM role arn:aws:iam::111122223333:role/vault (IRSA)",
        });
        const without = plan({ ...EXISTING, seal: "awskms", sealKey: "alias/vault" });
        assert.deepEqual(without.type !== "shamir" && without.stanza, { kms_key_id: "alias/vault" });
        assert.equal(without.type !== "shamir" ? without.env : "", undefined, "without a region, the pod's identity gives it");
        assert.match(without.type !== "shamir" ? without.describe : "", /through the pod's own AWS credentials/);
    });

    it("gcpckms: the resource name split into project, region, key_ring, crypto_key; the GKE annotation", () => {
        const p = plan({
            ...EXISTING,
            seal: "gcpckms",
            sealKey: "projects/my-project/locations/europe-west1/keyRings/vault/cryptoKeys/unseal",
            sealIdentity: "vault@my-project.iam.gserviceaccount.com",
        });
        assert.ok(p.type === "gcpckms");
        assert.deepEqual(p.stanza, { project: "my-project", region: "europe-west1", key_ring: "vault", crypto_key: "unseal" });
        assert.deepEqual(p.serviceAccountAnnotations, { "iam.gke.io/gcp-service-account": "vault@my-project.iam.gserviceaccount.com" });
    });

    it("azurekeyvault: vault_name and key_name; the client-id annotation and the use label", () => {
        const p = plan({ ...EXISTING, seal: "azurekeyvault", sealKey: "vault-kv/unseal", sealIdentity: "11111111-2222-3333-4444-555555555555" });
        assert.ok(p.type === "azurekeyvault");
        assert.deepEqual(p.stanza, { vault_name: "vault-kv", key_name: "unseal" });
        assert.deepEqual(p.serviceAccountAnnotations, { "azure.workload.identity/client-id": "11111111-2222-3333-4444-555555555555" });
        assert.deepEqual(p.podLabels, { "azure.workload.identity/use": "true" });
    });

    it("transit: address, mount_path with its slash, key_name and always a tls_ca_cert; the token only as VAULT_TOKEN from the Secret", () => {
        const base = { seal: "transit", sealKey: "vault-ha", sealTransitAddress: "https://transit.example.com:8200/", sealTransitToken: "hvs.x" };
        const p = plan(base);
        assert.ok(p.type === "transit");
        assert.deepEqual(p.stanza, {
            address: "https://transit.example.com:8200",
            mount_path: "transit/",
            key_name: "vault-ha",
            tls_ca_cert: "/etc/ssl/certs/ca-certificates.crt",
        });
        assert.deepEqual(p.secretEnv, [{ envName: "VAULT_TOKEN", secretName: "vault-ha-seal", secretKey: "token" }]);
        assert.equal(p.files, undefined);
        assert.ok(!JSON.stringify(p).includes("hvs.x"), "the plan holds no token");
        const withCa = plan({ ...base, sealTransitCaCert: TRANSIT_CA_PEM, sealTransitMount: "team/transit" });
        assert.ok(withCa.type === "transit");
        assert.equal(withCa.stanza.tls_ca_cert, "/vault/userconfig/vault-ha-seal/ca.crt");
        assert.equal(withCa.stanza.mount_path, "team/transit/");
        assert.deepEqual(withCa.files, [{ secretName: "vault-ha-seal", secretKey: "ca.crt", path: "/vault/userconfig/vault-ha-seal/ca.crt" }]);
        assert.equal(withCa.secret?.caCert?.pem, TRANSIT_CA_PEM);
    });
});

describe("seal grammars", () => {
    const refused = (field: (v: unknown) => { ok: boolean }, value: string) => assert.equal(field(value).ok, false, value);
    const accepted = (field: (v: unknown) => { ok: boolean }, value: string) => assert.equal(field(value).ok, true, value);

    it("a value for the server configuration refuses what the chart's start script, Helm's tpl or HCL would change", () => {
        for (const v of [
            "alias/HOSTNAME",
            "POD_IP-key",
            "xHOST_IPx",
            "API_ADDR",
            "TRANSIT_ADDR",
            "RAFT_ADDR",
            "{{ .Release.Name }}",
            "${x}",
            'a"b',
            "a\\b",
            "a b",
            "a\nb",
        ]) {
            refused(serverConfigValue(), v);
        }
        for (const v of ["", "alias/vault", "hostname", "arn:aws:kms:eu-west-1:111122223333:key/1234"]) accepted(serverConfigValue(), v);
    });

    it("the transit address is https://HOST[:PORT] only", () => {
        for (const v of ["http://t.example.com", "https://u:p@t.example.com", "https://t.example.com/v1", "https://t.example.com?x", "t.example.com"])
            refused(transitAddress, v);
        for (const v of ["", "https://t.example.com", "https://t.example.com:8200", "https://10.0.0.1:8200/"]) accepted(transitAddress, v);
    });

    it("the transit mount, the AWS region and the CA", () => {
        for (const v of ["/transit", "transit/", "a//b"]) refused(transitMount, v);
        accepted(transitMount, "team/transit");
        refused(awsRegion, "Europe");
        accepted(awsRegion, "us-gov-west-1");
        refused(pemCertificates, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----");
        refused(pemCertificates, TRANSIT_CA_PEM + "junk");
        accepted(pemCertificates, TRANSIT_CA_PEM + TRANSIT_CA_PEM);
    });
});
