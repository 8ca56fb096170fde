/**
 * The program's own custom resources (cert-manager ClusterIssuers and Certificates, and the bootstrap's webhook
 * probe) against the openAPIV3Schema of the CRDs that the cert-manager release renders, validated by ajv.
 *
 * Validation is as strict as the API server with strict field validation (kubectl's default --validate=strict):
 * an unknown field is an error, not silently pruned. Kubernetes' schema extensions are taken as the API server
 * reads them: x-kubernetes-list-type set/map lists must not repeat items, x-kubernetes-preserve-unknown-fields
 * allows unknown fields; CEL rules (x-kubernetes-validations) cannot be evaluated here, so a resource that reaches
 * one fails with a message saying so.
 */
import Ajv, { ErrorObject, ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { strict as assert } from "assert";
import { WEBHOOK_PROBE, webhookProbe } from "../../components/runner/handlers/clusterChecks";
import { caChainManifests, vaultCertificateSans } from "../../components/tls/tlsConfig";
import { describeManifest, Manifest, registeredKubeVersion, registeredReleases, renderRegistered, requireHelm } from "../support/helm";
import { runProgramOnce } from "../support/program";

interface CustomResource {
    /** What made it: the Pulumi resource, or the code that submits it. */
    origin: string;
    manifest: Manifest;
}

type Schema = Record<string, any>;

/** Every object with declared properties rejects others, unless Kubernetes is told to keep unknown fields there. */
function strict(schema: Schema): Schema {
    if (Array.isArray(schema)) return schema.map(strict) as unknown as Schema;
    if (schema === null || typeof schema !== "object") return schema;
    const out: Schema = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === "enum" || k === "default" || k === "example" ? v : strict(v)]));
    if (out.properties && out.additionalProperties === undefined && out["x-kubernetes-preserve-unknown-fields"] !== true) out.additionalProperties = false;
    return out;
}

function newAjv(): Ajv {
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
    addFormats(ajv);
    // Annotations that do not constrain a single object's value.
    for (const keyword of [
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
        "x-kubernetes-map-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-embedded-resource",
    ]) {
        ajv.addKeyword({ keyword });
    }
    ajv.addKeyword({
        keyword: "x-kubernetes-list-type",
        type: "array",
        schemaType: "string",
        // "set": items are unique scalars; "map": items are unique by their x-kubernetes-list-map-keys.
        validate: function unique(listType: string, data: unknown[], parentSchema?: Schema) {
            if (listType === "atomic") return true;
            const keys: string[] = parentSchema?.["x-kubernetes-list-map-keys"] ?? [];
            const identity = (item: any) => JSON.stringify(listType === "map" ? keys.map((k) => item?.[k]) : item);
            const seen = new Set(data.map(identity));
            if (seen.size === data.length) return true;
            (unique as any).errors = [
                {
                    keyword: "x-kubernetes-list-type",
                    message: `repeats an item of a list of type ${listType}${keys.length ? ` keyed by ${keys.join(", ")}` : ""}`,
                    params: {},
                },
            ];
            return false;
        },
        errors: true,
    });
    ajv.addKeyword({
        keyword: "x-kubernetes-validations",
        validate: function cel(rules: { rule: string; message?: string }[]) {
            (cel as any).errors = rules.map((r) => ({
                keyword: "x-kubernetes-validations",
                message: `has a CEL rule this test cannot evaluate: check it by hand, then teach the test (${r.rule})`,
                params: {},
            }));
            return false;
        },
        errors: true,
    });
    return ajv;
}

function fieldOf(e: ErrorObject): string {
    const at = e.instancePath
        .split("/")
        .slice(1)
        .map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
    const field = at.reduce((s, k) => (/^\d+$/.test(k) ? `${s}[${k}]` : s ? `${s}.${k}` : k), "");
    if (e.keyword === "additionalProperties") return `${field ? `${field}.` : ""}${e.params.additionalProperty}: unknown field`;
    if (e.keyword === "required") return `${field ? `${field}.` : ""}${e.params.missingProperty}: required`;
    if (e.keyword === "enum") return `${field}: ${e.message} (${(e.params.allowedValues as unknown[]).join(", ")})`;
    return `${field || "(the object)"}: ${e.message}`;
}

/** Validates custom resources against the CRDs a release renders; problems name the release, CRD, resource and field. */
export class CrdValidator {
    private readonly ajv = newAjv();
    private readonly compiled = new Map<string, ValidateFunction>();

    constructor(
        private readonly release: string,
        private readonly crds: Manifest[],
    ) {}

    problems(cr: CustomResource): string[] {
        const m = cr.manifest;
        const [group, version] = m.apiVersion.includes("/") ? m.apiVersion.split("/") : ["", m.apiVersion];
        const name = `${m.kind} ${m.metadata.namespace ? `${m.metadata.namespace}/` : ""}${m.metadata.name} (${cr.origin})`;
        const crd = this.crds.find((c) => c.spec.group === group && c.spec.names.kind === m.kind);
        if (!crd) return [`release ${this.release}: no CRD for ${m.kind} in group ${group}: ${name}`];
        const where = `release ${this.release}: ${describeManifest(crd)} ${version}`;
        const served = crd.spec.versions.find((v: any) => v.name === version && v.served);
        if (!served) return [`${where}: version ${version} is not served, so it refuses ${name}`];
        const problems: string[] = [];
        if (crd.spec.scope === "Namespaced" && !m.metadata.namespace)
            problems.push(`${where} rejects ${name}: metadata.namespace: required, ${m.kind} is namespaced`);
        if (crd.spec.scope === "Cluster" && m.metadata.namespace) problems.push(`${where} rejects ${name}: metadata.namespace: ${m.kind} is cluster-scoped`);
        const key = `${crd.metadata.name}/${version}`;
        let validate = this.compiled.get(key);
        if (!validate) {
            validate = this.ajv.compile(strict(served.schema.openAPIV3Schema));
            this.compiled.set(key, validate);
        }
        if (!validate(m)) problems.push(...(validate.errors ?? []).map((e) => `${where} rejects ${name}: ${fieldOf(e)}`));
        return problems;
    }
}

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
