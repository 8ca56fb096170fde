/**
 * VaultTls (components/tls/vaultTls.ts): the CA chain, Vault's server certificate and reading the CA back.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { vaultCertificateSans } from "../../components/tls/tlsConfig";
import { COMMAND, CR, dependsOn, ProgramRun, runProgramOnce } from "../support/program";

describe("VaultTls (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramOnce();
    });

    it("creates no issuer before cert-manager's webhook admits one, then chains CA -> issuer -> server certificate", () => {
        const gate = run.one(COMMAND, "cert-manager-webhook-ready");
        assert.match(gate.inputs.create, /cli\.ts cert-manager-ready$/);
        dependsOn(gate, run.one("kubernetes-cert-manager:index:CertManager"));
        const selfSigned = run.one(CR("ClusterIssuer"), "vault-tls-selfsigned-issuer");
        const ca = run.one(CR("Certificate"), "vault-tls-ca-certificate");
        const caIssuer = run.one(CR("ClusterIssuer"), "vault-tls-ca-issuer");
        const server = run.one(CR("Certificate"), "vault-tls-server-certificate");
        dependsOn(selfSigned, gate);
        dependsOn(ca, selfSigned);
        dependsOn(caIssuer, ca);
        dependsOn(server, caIssuer);
    });

    it("waits for both certificates to be Ready, and gives the server certificate the computed SANs", () => {
        for (const name of ["vault-tls-ca-certificate", "vault-tls-server-certificate"]) {
            assert.deepEqual(run.one(CR("Certificate"), name).inputs.metadata.annotations, { "pulumi.com/waitFor": "condition=Ready" });
        }
        const server = run.one(CR("Certificate"), "vault-tls-server-certificate");
        const sans = vaultCertificateSans({ release: "vault", namespace: "vault", replicas: 3, ingressHost: "vault.localhost" });
        assert.deepEqual(server.inputs.spec.dnsNames, sans.dnsNames);
        assert.deepEqual(server.inputs.spec.ipAddresses, ["127.0.0.1"]);
        assert.equal(server.inputs.metadata.namespace, "vault");
    });

    it("reads the CA certificate with kubectl, so no private key enters the state", () => {
        const readCa = run.one(COMMAND, "vault-tls-read-ca");
        assert.match(readCa.inputs.create, /cli\.ts read-ca$/);
        assert.deepEqual(readCa.inputs.environment, { VAULT_HA_NAMESPACE: "vault", VAULT_HA_TLS_SECRET: "vault-server-tls", VAULT_HA_TIMEOUT_SECONDS: "300" });
        dependsOn(readCa, run.one(CR("Certificate"), "vault-tls-server-certificate"));
        assert.equal(run.all("kubernetes:core/v1:Secret").length, 0);
    });
});
