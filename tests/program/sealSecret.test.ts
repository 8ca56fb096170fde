/**
 * The auto seals as index.ts registers them (Pulumi mocks): with seal transit, the Secret the pods read the token and
 * the transit CA from is VaultCluster's child, a secret input in Vault's namespace, created before the release; the
 * token is nowhere else (not in the Helm values, not in any other input). A cloud seal writes no Secret. The values
 * and HCL themselves are unit-tested (tests/unit/vault/vaultValues.test.ts) and rendered by Helm (tests/charts/seals.test.ts).
 */
import { strict as assert } from "assert";
import { ProgramRun, runProgram, runProgramOnce } from "../support/program";
import { TRANSIT_CA_PEM } from "../unit/seal/sealFixtures";

const SECRET = "kubernetes:core/v1:Secret";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const TOKEN = "hvs.transit-token-under-test";

const TRANSIT = {
    tls: "true",
    seal: "transit",
    sealKey: "vault-ha",
    sealTransitAddress: "https://transit.example.com:8200",
    sealTransitCaCert: TRANSIT_CA_PEM,
    sealTransitToken: TOKEN,
};

describe("seals (index.ts under Pulumi mocks)", function () {
    this.timeout(60_000);

    describe("seal transit, on kind with TLS", () => {
        let run: ProgramRun;
        before(async () => {
            run = await runProgram(TRANSIT, ["sealTransitToken"]);
        });
        const secret = () => run.one(SECRET, "vault-seal");

        it("writes the Secret vault-ha-seal as VaultCluster's child, in Vault's namespace, deleted with the kind cluster", () => {
            const vault = run.one("vault-ha:vault:VaultCluster", "vault");
            assert.equal(secret().parent, vault.urn);
            const namespace = run.one("kubernetes:core/v1:Namespace", "vault-namespace-ns").inputs.metadata.name;
            assert.equal(secret().inputs.metadata.name, "vault-ha-seal");
            assert.equal(secret().inputs.metadata.namespace, namespace);
            assert.ok(secret().deletedWith, "goes with the kind cluster");
        });

        it("holds the token and the CA as a secret input (encrypted in the state)", () => {
            assert.ok(secret().secretInputs.includes("stringData"), "stringData is a secret");
            assert.deepEqual(secret().inputs.stringData, { token: TOKEN, "ca.crt": TRANSIT_CA_PEM });
        });

        it("is created before the Vault release, whose pods read it at start", () => {
            const release = run.all(RELEASE).find((r) => r.inputs.name === "vault")!;
            assert.ok(release.dependencies.includes(secret().urn), "the release depends on the Secret");
            // And still on what VaultCluster itself waits for: the server certificate.
            assert.ok(
                release.dependencies.some((d) => d.includes("vault-server-certificate") || d.includes("Certificate")),
                "and on the certificate",
            );
        });

        it("the token is in no other input: not the Helm values, not a step's environment or argv", () => {
            for (const r of run.registrations.filter((r) => r.urn !== secret().urn)) {
                assert.ok(!JSON.stringify(r.inputs).includes(TOKEN), `${r.type} ${r.name} holds the token`);
            }
            for (const [name, output] of Object.entries(run.outputs)) assert.ok(!JSON.stringify(output.value ?? null).includes(TOKEN), `output ${name}`);
        });

        it("the release reads VAULT_TOKEN from that Secret", () => {
            const release = run.all(RELEASE).find((r) => r.inputs.name === "vault")!;
            assert.deepEqual(release.inputs.values.server.extraSecretEnvironmentVars, [
                { envName: "VAULT_TOKEN", secretName: "vault-ha-seal", secretKey: "token" },
            ]);
        });
    });

    describe("a cloud seal, or Shamir: no seal Secret", () => {
        const configs: Record<string, string>[] = [
            {},
            { cluster: "existing", kubeContext: "prod-eu", seal: "awskms", sealKey: "alias/vault", sealIdentity: "arn:aws:iam::111122223333:role/vault" },
        ];
        for (const config of configs) {
            it(JSON.stringify(config), async () => {
                const run = await runProgramOnce(config);
                assert.equal(run.all(SECRET).filter((r) => r.name === "vault-seal").length, 0);
            });
        }
    });
});
