/**
 * The program's own custom resources (cert-manager ClusterIssuers and Certificates, and the bootstrap's webhook
 * probe) against the openAPIV3Schema of the CRDs that the cert-manager release renders, validated by ajv as strictly
 * as the API server with strict field validation (tests/support/crdValidator.ts). No CEL table here: a resource that
 * reaches a CEL rule fails with a message saying so.
 */
import { strict as assert } from "assert";
import { WEBHOOK_PROBE, webhookProbe } from "../../components/runner/handlers/clusterChecks";
import { caChainManifests, vaultCertificateSans } from "../../components/tls/tlsConfig";
import { CrdValidator, CustomResource } from "../support/crdValidator";
import { Manifest, registeredKubeVersion, registeredReleases, renderRegistered, requireHelm } from "../support/helm";
import { runProgramOnce } from "../support/program";

describe("the program's custom resources against the rendered CRDs", function () {
    this.timeout(60_000);
    let validator: CrdValidator;
    let resources: CustomResource[];

    before(async function () {
        requireHelm(this, "CRD validation tests");
        const run = await runProgramOnce({ tls: "true" });
        const certManager = registeredReleases(run).find((r) => r.chart === "cert-manager")!;
        const rendered = await renderRegistered(certManager, registeredKubeVersion(run));
        const crds = rendered.filter((m) => m.kind === "CustomResourceDefinition");
        validator = new CrdValidator(certManager.release, crds);
        const groups = new Set(crds.map((c) => c.spec.group));
        resources = [
            ...run.registrations
                .filter((r) => typeof r.inputs.apiVersion === "string" && groups.has(r.inputs.apiVersion.split("/")[0]))
                .map((r) => ({ origin: r.name, manifest: r.inputs as Manifest })),
            { origin: "the bootstrap's webhook probe (components/bootstrap/clusterChecks.ts)", manifest: JSON.parse(WEBHOOK_PROBE) },
        ];
    });

    it("covers the CA chain, Vault's certificate and the webhook probe", () => {
        assert.deepEqual(resources.map((r) => `${r.manifest.kind} ${r.manifest.metadata.name}`).sort(), [
            "Certificate vault-ha-ca",
            "Certificate vault-server",
            "ClusterIssuer vault-ha-ca",
            "ClusterIssuer vault-ha-selfsigned",
            "ClusterIssuer vault-ha-webhook-probe",
        ]);
    });

    it("each validates against its CRD's schema (unknown fields are errors), in the right scope", () => {
        assert.deepEqual(
            resources.flatMap((r) => validator.problems(r)),
            [],
        );
    });

    it("Vault's certificate with extra names (tlsExtraNames: DNS names, IPv4, IPv6) validates too", () => {
        const server = resources.find((r) => r.manifest.metadata.name === "vault-server")!;
        const sans = vaultCertificateSans({
            release: "vault",
            namespace: "vault",
            replicas: 3,
            ingressHost: "vault.localhost",
            extraNames: ["vault.example.com", "*.elb.example.net", "203.0.113.10", "2001:db8::10"],
        });
        const manifest = caChainManifests({ certManagerNamespace: "cert-manager", vaultNamespace: "vault", sans }).serverCertificate;
        const cr = { origin: "caChainManifests with extra names", manifest: { ...manifest, metadata: { ...manifest.metadata, ...server.manifest.metadata } } };
        assert.deepEqual((cr.manifest.spec as any).ipAddresses, ["127.0.0.1", "203.0.113.10", "2001:db8::10"]);
        assert.deepEqual(validator.problems(cr), []);
        // The CRD only asks for strings here; cert-manager's webhook refuses what Go's net.ParseIP does not read,
        // which tlsConfig.ts refuses first (tests/unit/tls/tlsConfig.test.ts).
        const broken = structuredClone(cr);
        (broken.manifest.spec as any).ipAddresses = [10];
        assert.match(validator.problems(broken).join("\n"), /spec\.ipAddresses\[0\]: must be string$/);
    });

    it("on a cluster vault-ha does not own, the namespaced chain (Issuers in Vault's namespace) validates, in the right scope", () => {
        const sans = vaultCertificateSans({ release: "vault", namespace: "vault", replicas: 3, ingressHost: "vault.example.com" });
        const chain = caChainManifests({ certManagerNamespace: "cert-manager", vaultNamespace: "vault", sans, issuerScope: "namespace" });
        const crs = [
            ...Object.entries(chain).map(([part, manifest]) => ({ origin: `caChainManifests namespace scope: ${part}`, manifest: manifest as Manifest })),
            { origin: "the webhook gate's namespaced probe (clusterChecks.ts webhookProbe)", manifest: JSON.parse(webhookProbe("vault")) as Manifest },
        ];
        assert.deepEqual(
            crs.map((cr) => `${cr.manifest.kind} ${cr.manifest.metadata.namespace}/${cr.manifest.metadata.name}`),
            [
                "Issuer vault/vault-ha-selfsigned",
                "Certificate vault/vault-ha-ca",
                "Issuer vault/vault-ha-ca",
                "Certificate vault/vault-server",
                "Issuer vault/vault-ha-webhook-probe",
            ],
        );
        assert.deepEqual(
            crs.flatMap((cr) => validator.problems(cr)),
            [],
        );
        // An Issuer without its namespace is refused, as the API server refuses a namespaced kind without one.
        const orphan = structuredClone(crs[0]);
        delete (orphan.manifest.metadata as { namespace?: string }).namespace;
        assert.ok(validator.problems(orphan).length > 0);
    });

    describe("the validation rejects what the API server rejects", () => {
        const server = () => structuredClone(resources.find((r) => r.manifest.metadata.name === "vault-server")!);
        const at =
            "release cert-manager: CustomResourceDefinition certificates.cert-manager.io (cert-manager/templates/crd-cert-manager.io_certificates.yaml) v1 rejects Certificate vault/vault-server (vault-tls-server-certificate)";

        it("a misspelled field, a value outside an enum, a wrong type, a missing required field", () => {
            const cr = server();
            cr.manifest.spec.dnsName = cr.manifest.spec.dnsNames;
            cr.manifest.spec.privateKey.algorithm = "EC";
            cr.manifest.spec.duration = 2160;
            delete cr.manifest.spec.issuerRef;
            assert.deepEqual(
                validator.problems(cr).sort(),
                [
                    `${at}: spec.dnsName: unknown field`,
                    `${at}: spec.duration: must be string`,
                    `${at}: spec.issuerRef: required`,
                    `${at}: spec.privateKey.algorithm: must be equal to one of the allowed values (RSA, ECDSA, Ed25519)`,
                ].sort(),
            );
        });

        it("a namespaced kind without a namespace, a cluster-scoped one with one", () => {
            const cr = server();
            delete cr.manifest.metadata.namespace;
            assert.deepEqual(validator.problems(cr), [
                "release cert-manager: CustomResourceDefinition certificates.cert-manager.io (cert-manager/templates/crd-cert-manager.io_certificates.yaml) v1 rejects Certificate vault-server (vault-tls-server-certificate): metadata.namespace: required, Certificate is namespaced",
            ]);
            const issuer = structuredClone(resources.find((r) => r.manifest.kind === "ClusterIssuer")!);
            issuer.manifest.metadata.namespace = "vault";
            assert.match(
                validator.problems(issuer).join("\n"),
                /v1 rejects ClusterIssuer vault\/vault-ha-\S+ \(.*\): metadata.namespace: ClusterIssuer is cluster-scoped$/,
            );
        });

        it("an unserved version, a kind no CRD defines, a repeated key in a list of type map", () => {
            const cr = server();
            cr.manifest.apiVersion = "cert-manager.io/v1alpha2";
            assert.match(validator.problems(cr).join("\n"), /certificates\.cert-manager\.io .* v1alpha2: version v1alpha2 is not served/);
            cr.manifest.apiVersion = "cert-manager.io/v1";
            cr.manifest.kind = "Certificat";
            assert.match(validator.problems(cr).join("\n"), /^release cert-manager: no CRD for Certificat in group cert-manager.io/);
            cr.manifest.kind = "Certificate";
            const condition = { type: "Ready", status: "True" };
            cr.manifest.status = { conditions: [condition, { ...condition, status: "False" }] };
            assert.deepEqual(validator.problems(cr), [`${at}: status.conditions: repeats an item of a list of type map keyed by type`]);
        });

        it("a resource that reaches a CEL rule fails, saying the rule needs checking by hand", () => {
            const issuer = structuredClone(resources.find((r) => r.manifest.kind === "ClusterIssuer")!);
            issuer.manifest.spec = { venafi: { zone: "z", tpp: { url: "https://tpp", credentialsRef: { name: "c" } } } };
            assert.match(
                validator.problems(issuer).join("\n"),
                /spec\.venafi: has a CEL rule this test cannot evaluate: check it by hand, then teach the test \(/,
            );
        });
    });
});
