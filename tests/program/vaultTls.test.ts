/**
 * VaultTls (components/tls/vaultTls.ts): the CA chain, Vault's server certificate and reading the CA back.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "assert";
import { certificateCovers, Sans, vaultCertificateSans } from "../../components/tls/tlsConfig";
import { VaultTls } from "../../components/tls/vaultTls";
import { COMMAND, CR, dependsOn, FAKE_CA, ProgramRun, promiseOf, runProgramOnce } from "../support/program";

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

describe("VaultTls: extra names for the certificate (tlsExtraNames), on the component itself", () => {
    /** A VaultTls under Pulumi's own mocks (index.ts does not pass tlsExtraNames yet): its server Certificate and names. */
    async function serverCertificate(tlsExtraNames?: string[]): Promise<{ spec: any; sans: Sans }> {
        const certificates: Record<string, any>[] = [];
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    if (args.type === CR("Certificate") && args.name.endsWith("server-certificate")) certificates.push(args.inputs);
                    const stdout = args.type === COMMAND ? JSON.stringify({ caCert: FAKE_CA }) : undefined;
                    return { id: `${args.name}-id`, state: { ...args.inputs, stdout } };
                },
                call: (args) => args.inputs,
            },
            "vault-ha",
            "dev",
            false,
        );
        const gate = new pulumi.ComponentResource("test:index:Gate", "gate");
        const tls = new VaultTls("vault-tls", {
            certManagerNamespace: "cert-manager",
            vaultNamespace: "vault",
            replicas: 3,
            ingressHost: "vault.localhost",
            kubeconfig: "kubeconfig",
            certManagerReady: gate,
            issuerScope: "cluster",
            tlsExtraNames,
        });
        const [sans] = await Promise.all([promiseOf(tls.sans), promiseOf(tls.serverCertificate.urn), promiseOf(tls.caCert)]);
        assert.equal(certificates.length, 1);
        return { spec: certificates[0].spec, sans };
    }

    it("without them, the Certificate holds the names of before, which `sans` reports", async () => {
        const { spec, sans } = await serverCertificate();
        const before = vaultCertificateSans({ release: "vault", namespace: "vault", replicas: 3, ingressHost: "vault.localhost" });
        assert.deepEqual(sans, before);
        assert.deepEqual([spec.dnsNames, spec.ipAddresses], [before.dnsNames, before.ipAddresses]);
        assert.deepEqual((await serverCertificate([])).spec, spec);
    });

    it("with them, DNS names and IP addresses land in their lists, and `sans` says what a load balancer address needs", async () => {
        const { spec, sans } = await serverCertificate(["vault.example.com", "203.0.113.10", "2001:db8::10"]);
        assert.deepEqual(spec.dnsNames.slice(-2), ["vault.localhost", "vault.example.com"]);
        assert.deepEqual(spec.ipAddresses, ["127.0.0.1", "203.0.113.10", "2001:db8::10"]);
        assert.deepEqual([spec.dnsNames, spec.ipAddresses], [sans.dnsNames, sans.ipAddresses]);
        assert.equal(certificateCovers(sans, "203.0.113.10"), true);
        assert.equal(certificateCovers(sans, "198.51.100.7"), false);
    });
});
