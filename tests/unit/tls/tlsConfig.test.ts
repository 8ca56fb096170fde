import { strict as assert } from "assert";
import { caChainManifests, certManagerValues, vaultCertificateSans } from "../../../components/tls/tlsConfig";

describe("Vault certificate SANs", () => {
    const sans = vaultCertificateSans({ release: "vault", namespace: "vault", replicas: 3, ingressHost: "vault.localhost" });
    const qualified = (name: string) => [name, `${name}.vault`, `${name}.vault.svc`, `${name}.vault.svc.cluster.local`];

    it("cover every service of the chart, short, namespaced and fully qualified", () => {
        for (const service of ["vault", "vault-active", "vault-standby", "vault-internal"]) {
            for (const name of qualified(service)) assert.ok(sans.dnsNames.includes(name), name);
        }
    });

    it("cover each pod behind the headless service, which raft joins and in-cluster clients use", () => {
        for (const pod of ["vault-0", "vault-1", "vault-2"]) {
            for (const name of qualified(`${pod}.vault-internal`)) assert.ok(sans.dnsNames.includes(name), name);
        }
        assert.ok(!sans.dnsNames.includes("vault-3.vault-internal"));
    });

    it("cover localhost (the NodePort), the ingress host, and 127.0.0.1 (the CLI inside each pod)", () => {
        assert.ok(sans.dnsNames.includes("localhost"));
        assert.ok(sans.dnsNames.includes("vault.localhost"));
        assert.deepEqual(sans.ipAddresses, ["127.0.0.1"]);
    });

    it("list each name once, and nothing else", () => {
        assert.equal(new Set(sans.dnsNames).size, sans.dnsNames.length);
        assert.equal(sans.dnsNames.length, 4 * 4 + 3 * 4 + 2);
    });

    it("follow the namespace, the replica count and the ingress host", () => {
        const other = vaultCertificateSans({ release: "vault", namespace: "secrets", replicas: 5, ingressHost: "vault.example.test" });
        assert.ok(other.dnsNames.includes("vault-4.vault-internal.secrets.svc.cluster.local"));
        assert.ok(other.dnsNames.includes("vault-active.secrets.svc"));
        assert.ok(other.dnsNames.includes("vault.example.test"));
        assert.ok(!other.dnsNames.includes("vault.localhost"));
    });
});

describe("cert-manager CA chain", () => {
    const sans = vaultCertificateSans({ release: "vault", namespace: "vault", replicas: 3, ingressHost: "vault.localhost" });
    const chain = caChainManifests({ certManagerNamespace: "cert-manager", vaultNamespace: "vault", sans });

    it("goes self-signed ClusterIssuer -> CA Certificate -> CA ClusterIssuer -> server Certificate", () => {
        assert.deepEqual(chain.selfSignedIssuer.spec, { selfSigned: {} });
        assert.deepEqual((chain.caCertificate.spec.issuerRef as any).name, chain.selfSignedIssuer.metadata.name);
        assert.equal((chain.caIssuer.spec.ca as any).secretName, chain.caCertificate.spec.secretName);
        assert.deepEqual(chain.serverCertificate.spec.issuerRef, { name: chain.caIssuer.metadata.name, kind: "ClusterIssuer", group: "cert-manager.io" });
    });

    it("keeps the CA secret in cert-manager's namespace, where a ClusterIssuer reads it", () => {
        assert.equal(chain.caCertificate.metadata.namespace, "cert-manager");
        assert.equal(chain.selfSignedIssuer.metadata.namespace, undefined);
        assert.equal(chain.caIssuer.metadata.namespace, undefined);
    });

    it("makes an ECDSA P-256 CA with a long life and an explicit rotation policy", () => {
        const spec = chain.caCertificate.spec as any;
        assert.equal(spec.isCA, true);
        assert.deepEqual(spec.privateKey, { algorithm: "ECDSA", size: 256, rotationPolicy: "Never" });
        assert.equal(spec.duration, "43800h");
        assert.ok(spec.subject.organizations.length > 0);
    });

    it("issues Vault's certificate into vault-server-tls with the computed SANs", () => {
        const spec = chain.serverCertificate.spec as any;
        assert.equal(chain.serverCertificate.metadata.namespace, "vault");
        assert.equal(spec.secretName, "vault-server-tls");
        assert.deepEqual(spec.dnsNames, sans.dnsNames);
        assert.deepEqual(spec.ipAddresses, ["127.0.0.1"]);
        assert.deepEqual(spec.privateKey, { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" });
        assert.ok(spec.usages.includes("server auth"));
        assert.equal(spec.renewBefore, "720h");
    });

    it("installs cert-manager's CRDs with crds.enabled, not the deprecated installCRDs", () => {
        assert.deepEqual(certManagerValues(), { crds: { enabled: true } });
    });
});
