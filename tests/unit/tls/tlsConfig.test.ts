import { strict as assert } from "assert";
import { X509Certificate } from "crypto";
import { readFileSync } from "fs";
import { isIP } from "net";
import * as forge from "node-forge";
import * as path from "path";
import {
    caChainManifests,
    certificateCovers,
    certManagerValues,
    SanInput,
    tlsName,
    tlsNameProblem,
    tlsServerNameFor,
    vaultCertificateSans,
} from "../../../components/tls/tlsConfig";

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

describe("the certificate's extra names (tlsExtraNames)", () => {
    const input = { release: "vault", namespace: "vault", replicas: 3, ingressHost: "vault.localhost" };
    const golden = JSON.parse(readFileSync(path.join(__dirname, "serverCertificate.golden.json"), "utf8")) as {
        certificates: Record<string, { input: SanInput; serverCertificate: unknown }>;
    };

    it("none: the server Certificate is byte for byte the one of before (an upgrade re-issues nothing)", () => {
        assert.equal(Object.keys(golden.certificates).length, 2);
        for (const [name, { input: before, serverCertificate }] of Object.entries(golden.certificates)) {
            for (const extraNames of [undefined, []]) {
                const sans = vaultCertificateSans({ ...before, extraNames });
                const now = caChainManifests({ certManagerNamespace: "cert-manager", vaultNamespace: before.namespace, sans }).serverCertificate;
                assert.equal(JSON.stringify(now), JSON.stringify(serverCertificate), `${name}, extraNames ${JSON.stringify(extraNames)}`);
            }
        }
    });

    it("DNS names go to spec.dnsNames and IPv4/IPv6 addresses to spec.ipAddresses, after the names of before", () => {
        const before = vaultCertificateSans(input);
        const sans = vaultCertificateSans({ ...input, extraNames: ["vault.example.com", "203.0.113.10", "2001:db8::10", "*.elb.example.com"] });
        assert.deepEqual(sans.dnsNames, [...before.dnsNames, "vault.example.com", "*.elb.example.com"]);
        assert.deepEqual(sans.ipAddresses, ["127.0.0.1", "203.0.113.10", "2001:db8::10"]);
        const spec = caChainManifests({ certManagerNamespace: "cert-manager", vaultNamespace: "vault", sans }).serverCertificate.spec as any;
        assert.equal(spec.commonName, "vault", "the common name stays the first name");
        assert.deepEqual(spec.ipAddresses, sans.ipAddresses);
        // cert-manager's webhook refuses an ipAddresses entry that Go's net.ParseIP does not read.
        for (const ip of spec.ipAddresses) assert.ok(isIP(ip), ip);
    });

    it("writes each name once and in the certificate's form: lower-case names, canonical IP text", () => {
        const sans = vaultCertificateSans({
            ...input,
            extraNames: ["Vault.Example.COM", "vault.example.com", "localhost", "127.0.0.1", "2001:DB8:0:0::0:10", "::ffff:203.0.113.10", "203.0.113.10"],
        });
        assert.deepEqual(sans.dnsNames.slice(-1), ["vault.example.com"]);
        assert.equal(sans.dnsNames.filter((n) => n === "localhost").length, 1);
        assert.deepEqual(sans.ipAddresses, ["127.0.0.1", "2001:db8::10", "203.0.113.10"]);
    });

    it("refuses what is neither a DNS name nor an IP address, saying why", () => {
        const cases: Record<string, RegExp> = {
            "": /neither a DNS name nor an IP address/,
            " vault.example.com": /spaces around it/,
            "https://vault.example.com": /without scheme, port or path/,
            "vault.example.com:8200": /without scheme, port or path/,
            "vault.example.com.": /without the trailing dot/,
            "vault_1.example.com": /label "vault_1"/,
            "-vault.example.com": /label "-vault"/,
            "vault..example.com": /label ""/,
            "vault.*.example.com": /label "\*"/,
            "*.com": /label "\*"/,
            "203.0.113.256": /its last label is a number/,
            "[2001:db8::1]": /without brackets/,
            "fe80::1%eth0": /is not a DNS name/,
            [`${"a".repeat(64)}.example.com`]: /label "a{64}"/,
            [`${"a.".repeat(127)}com`]: /longer than a DNS name may be/,
        };
        for (const [name, why] of Object.entries(cases)) {
            assert.match(tlsNameProblem(name) ?? "(accepted)", why, JSON.stringify(name));
            assert.throws(() => vaultCertificateSans({ ...input, extraNames: [name] }), /^Error: tlsExtraNames: /, JSON.stringify(name));
        }
        for (const name of ["vault.example.com", "*.example.com", "localhost", "xn--bcher-kva.example", "10.0.0.1", "::1", "2001:db8::1"]) {
            assert.equal(tlsNameProblem(name), undefined, name);
        }
        assert.deepEqual(tlsName("2001:0DB8::0001"), { kind: "ip", name: "2001:db8::1" });
        assert.deepEqual(tlsName("Vault.Example.com"), { kind: "dns", name: "vault.example.com" });
    });
});

describe("certificateCovers: is an address already in the certificate (else VAULT_TLS_SERVER_NAME)", () => {
    const sans = vaultCertificateSans({
        release: "vault",
        namespace: "vault",
        replicas: 3,
        ingressHost: "vault.localhost",
        extraNames: ["vault.example.com", "*.elb.example.net", "203.0.113.10", "2001:db8::10"],
    });

    it("an IP address only against the IP addresses, compared as addresses (IPv6 with or without brackets)", () => {
        for (const address of ["127.0.0.1", "203.0.113.10", "2001:db8::10", "[2001:db8::10]", "2001:DB8:0:0:0:0:0:10", "::ffff:203.0.113.10"]) {
            assert.equal(certificateCovers(sans, address), true, address);
        }
        for (const address of ["203.0.113.11", "10.0.0.1", "::1", "2001:db8::11"]) assert.equal(certificateCovers(sans, address), false, address);
    });

    it("a name against the DNS names: case-insensitive, trailing dot ignored, a wildcard for exactly one label", () => {
        for (const address of ["vault.example.com", "VAULT.example.com.", "localhost", "vault-active.vault.svc", "a1b2.elb.example.net"]) {
            assert.equal(certificateCovers(sans, address), true, address);
        }
        for (const address of [
            "example.com",
            "x.vault.example.com",
            "elb.example.net",
            "a.b.elb.example.net",
            "vault.example.com:8200",
            "vault..example.com",
        ]) {
            assert.equal(certificateCovers(sans, address), false, address);
        }
        // An IP address never matches a DNS name that spells it (Go: "We only match IP addresses against IP SANs").
        assert.equal(certificateCovers({ dnsNames: ["203.0.113.99"], ipAddresses: [] }, "203.0.113.99"), false);
    });

    it("tlsServerNameFor: nothing when the address is covered, else the certificate's common name", () => {
        assert.equal(tlsServerNameFor(sans, "203.0.113.10"), undefined);
        assert.equal(tlsServerNameFor(sans, "vault.example.com"), undefined);
        assert.equal(tlsServerNameFor(sans, "198.51.100.7"), "vault");
        assert.equal(tlsServerNameFor(sans, "a1b2.elb.amazonaws.com"), "vault");
    });

    it("agrees with OpenSSL's check of a real certificate holding these names (node's X509Certificate)", () => {
        const keys = forge.pki.rsa.generateKeyPair(1024);
        const cert = forge.pki.createCertificate();
        cert.publicKey = keys.publicKey;
        cert.serialNumber = "01";
        cert.validity.notBefore = new Date(Date.now() - 60_000);
        cert.validity.notAfter = new Date(Date.now() + 3_600_000);
        cert.setSubject([{ name: "commonName", value: "vault" }]);
        cert.setIssuer([{ name: "commonName", value: "vault" }]);
        cert.setExtensions([
            {
                name: "subjectAltName",
                altNames: [...sans.dnsNames.map((value) => ({ type: 2, value })), ...sans.ipAddresses.map((ip) => ({ type: 7, ip }))],
            },
        ]);
        cert.sign(keys.privateKey, forge.md.sha256.create());
        const x509 = new X509Certificate(forge.pki.certificateToPem(cert));
        const addresses = [
            ...["127.0.0.1", "203.0.113.10", "203.0.113.11", "2001:db8::10", "2001:db8::11", "::1"],
            ...["vault.example.com", "VAULT.EXAMPLE.COM", "example.com", "x.vault.example.com", "a1b2.elb.example.net", "a.b.elb.example.net"],
            ...["elb.example.net", "vault-2.vault-internal.vault.svc.cluster.local", "vault-3.vault-internal", "localhost", "vault.localhost"],
        ];
        for (const address of addresses) {
            const openssl = isIP(address) ? x509.checkIP(address) !== undefined : x509.checkHost(address, { subject: "never" }) !== undefined;
            assert.equal(certificateCovers(sans, address), openssl, address);
        }
    });

    describe("issuer scope", () => {
        const sans = vaultCertificateSans({ release: "vault", namespace: "team-vault", replicas: 3, ingressHost: "vault.example.com" });

        it("cluster (kind, the default): ClusterIssuers, the CA in cert-manager's namespace, exactly as before", () => {
            const before = caChainManifests({ certManagerNamespace: "cert-manager", vaultNamespace: "team-vault", sans });
            assert.deepEqual(caChainManifests({ certManagerNamespace: "cert-manager", vaultNamespace: "team-vault", sans, issuerScope: "cluster" }), before);
            assert.equal(before.selfSignedIssuer.kind, "ClusterIssuer");
            assert.equal(before.caCertificate.metadata.namespace, "cert-manager");
            assert.deepEqual((before.serverCertificate.spec as any).issuerRef, { name: "vault-ha-ca", kind: "ClusterIssuer", group: "cert-manager.io" });
        });

        it("namespace (a shared cluster): everything of the CA in Vault's namespace, nothing cluster-wide", () => {
            const chain = caChainManifests({ certManagerNamespace: "security", vaultNamespace: "team-vault", sans, issuerScope: "namespace" });
            for (const manifest of Object.values(chain)) {
                assert.notEqual(manifest.kind, "ClusterIssuer");
                assert.equal(manifest.metadata.namespace, "team-vault", `${manifest.kind} ${manifest.metadata.name}`);
            }
            assert.deepEqual((chain.caCertificate.spec as any).issuerRef, { name: "vault-ha-selfsigned", kind: "Issuer", group: "cert-manager.io" });
            assert.deepEqual((chain.serverCertificate.spec as any).issuerRef, { name: "vault-ha-ca", kind: "Issuer", group: "cert-manager.io" });
            assert.ok(!JSON.stringify(chain).includes("security"), "another team's cert-manager namespace holds nothing of ours");
        });
    });
});
