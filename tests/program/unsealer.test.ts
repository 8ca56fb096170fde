/**
 * InClusterUnsealer (components/unsealer/): what index.ts registers with autoUnseal in-cluster, and that nothing of it
 * exists with the default (none). Under Pulumi mocks; the objects' content is unit-tested in
 * tests/unit/unsealer/unsealerManifests.test.ts and run against the simulator in tests/sim/unsealer.test.ts.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { InClusterUnsealer } from "../../components/unsealer/inClusterUnsealer";
import { FAKE_KEYS, ProgramRun, runComponents, runProgramOnce } from "../support/program";

const COMPONENT = "vault-ha:unsealer:InClusterUnsealer";
const SECRET = "kubernetes:core/v1:Secret";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount";
const RBAC = /^kubernetes:rbac\.authorization\.k8s\.io\//;

describe("InClusterUnsealer (index.ts under Pulumi mocks)", () => {
    describe("autoUnseal: none (the default)", () => {
        it("registers no unsealer, no keys Secret and no unsealer output", async () => {
            const run = await runProgramOnce();
            assert.equal(run.registrations.filter((r) => r.type === COMPONENT).length, 0);
            assert.equal(run.all(SECRET).filter((r) => r.name === "unsealer-keys").length, 0);
            assert.equal(run.outputs.unsealer, undefined);
        });
    });

    for (const tls of ["true", "false"]) {
        describe(`autoUnseal: in-cluster, tls ${tls}`, () => {
            let run: ProgramRun;
            before(async () => {
                run = await runProgramOnce({ autoUnseal: "in-cluster", tls });
            });
            const component = () => run.one(COMPONENT, "unsealer");
            const children = () => run.registrations.filter((r) => r.parent === component().urn);

            it("is one component of a ServiceAccount, the keys Secret and the Deployment, and no RBAC at all", () => {
                assert.deepEqual(
                    children()
                        .map((r) => `${r.type} ${r.name}`)
                        .sort(),
                    [`${DEPLOYMENT} unsealer-deployment`, `${SECRET} unsealer-keys`, `${SERVICE_ACCOUNT} unsealer-sa`],
                );
                assert.equal(run.registrations.filter((r) => RBAC.test(r.type)).length, 0, "no Role or binding anywhere");
            });

            it("comes after the bootstrap (it needs the keys init made), in Vault's namespace, deleted with a kind cluster", () => {
                // dependsOn a component is on each of its resources: the last bootstrap step (verify) among them.
                const verify = run.one("command:local:Command", "bootstrap-verify");
                const keys = run.one(SECRET, "unsealer-keys");
                for (const child of children().filter((c) => c.type !== DEPLOYMENT))
                    assert.ok(child.dependencies.includes(verify.urn), `${child.name} after the bootstrap`);
                assert.ok(run.one(DEPLOYMENT, "unsealer-deployment").dependencies.includes(keys.urn), "the Deployment after its keys (so after the bootstrap)");
                const namespace = run.one("kubernetes:core/v1:Namespace", "vault-namespace-ns").inputs.metadata.name;
                for (const child of children()) {
                    assert.equal(child.inputs.metadata.namespace, namespace, child.name);
                    assert.ok(child.deletedWith, `${child.name} goes with the kind cluster`);
                }
            });

            it("holds exactly the threshold of keys, secret in the state, and no key anywhere else", () => {
                const keys = run.one(SECRET, "unsealer-keys");
                assert.ok(keys.secretInputs.includes("stringData"), "the keys are a secret input");
                assert.deepEqual(keys.inputs.stringData, {
                    "key-1": FAKE_KEYS.unsealKeys[0],
                    "key-2": FAKE_KEYS.unsealKeys[1],
                    "key-3": FAKE_KEYS.unsealKeys[2],
                });
                // Elsewhere only the bootstrap steps' stdin holds keys, and it is secret (tests/program/vaultBootstrap.test.ts).
                for (const r of run.registrations.filter((x) => x !== keys)) {
                    const text = JSON.stringify(Object.entries(r.inputs).filter(([name]) => !r.secretInputs.includes(name)));
                    for (const key of FAKE_KEYS.unsealKeys) assert.ok(!text.includes(key), `${r.type} ${r.name} holds an unseal key`);
                }
            });

            it("runs the Vault image with no Kubernetes token, mounting the keys and (with TLS) only the CA", () => {
                const spec = run.one(DEPLOYMENT, "unsealer-deployment").inputs.spec.template.spec;
                const vaultRelease = run.one("kubernetes:helm.sh/v3:Release", "vault-release");
                assert.equal(spec.containers[0].image, `${vaultRelease.inputs.values.server.image.repository}:${vaultRelease.inputs.values.server.image.tag}`);
                assert.equal(spec.automountServiceAccountToken, false);
                assert.equal(run.one(SERVICE_ACCOUNT, "unsealer-sa").inputs.automountServiceAccountToken, false);
                const secrets = spec.volumes.filter((v: any) => v.secret).map((v: any) => v.secret);
                assert.deepEqual(
                    secrets.map((s: any) => s.secretName),
                    tls === "true" ? ["vault-ha-unseal-keys", "vault-server-tls"] : ["vault-ha-unseal-keys"],
                );
                if (tls === "true") assert.deepEqual(secrets[1].items, [{ key: "ca.crt", path: "ca.crt" }], "not the server's private key");
            });

            it("says what it costs on every preview and up", () => {
                assert.ok(
                    run.warnings.some((w) =>
                        /Secret vault\/vault-ha-unseal-keys holds 3 of the 5 unseal keys.*Anyone who can read Secrets in namespace vault/.test(w),
                    ),
                    run.warnings.join("\n"),
                );
            });

            it("outputs the Deployment's name (for kubectl logs)", () => {
                assert.equal(run.outputs.unsealer.value, "vault-ha-unsealer");
            });
        });
    }

    describe("what the active node reported at verify wins over the settings", () => {
        const SEVEN_KEYS = Array.from({ length: 7 }, (_, i) => Buffer.from(`share number ${i + 1} of seven`).toString("base64"));
        const build = (sealFacts: { threshold: number; shares: number; clusterId: string } | undefined) => () => {
            const unsealer = new InClusterUnsealer("unsealer", {
                release: "vault",
                replicas: 3,
                tls: true,
                keyShares: 5,
                keyThreshold: 3,
                image: "hashicorp/vault:2.0.4",
                notice: "the notice",
                namespace: "vault",
                unsealKeys: pulumi.secret(SEVEN_KEYS),
                sealFacts,
            });
            return { deployment: unsealer.deploymentName };
        };
        const env = (run: ProgramRun) =>
            Object.fromEntries(
                run
                    .one(DEPLOYMENT, "unsealer-deployment")
                    .inputs.spec.template.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]),
            );

        it("an adopted or rekeyed cluster's 4 of 7, and its cluster id, reach the pod and the Secret", async () => {
            const run = await runComponents(build({ threshold: 4, shares: 7, clusterId: "c0ffee00-0000-4000-8000-000000000001" }));
            assert.equal(env(run).UNSEALER_THRESHOLD, "4");
            assert.equal(env(run).UNSEALER_SHARES, "7");
            assert.equal(env(run).UNSEALER_CLUSTER_ID, "c0ffee00-0000-4000-8000-000000000001");
            assert.deepEqual(Object.keys(run.one(SECRET, "unsealer-keys").inputs.stringData), ["key-1", "key-2", "key-3", "key-4"]);
        });

        it("a state from before verify reported it: the settings, and the id learnt from the first unsealed pod", async () => {
            const run = await runComponents(build(undefined));
            assert.equal(env(run).UNSEALER_THRESHOLD, "3");
            assert.equal(env(run).UNSEALER_SHARES, "5");
            assert.equal(env(run).UNSEALER_CLUSTER_ID, "");
            assert.deepEqual(Object.keys(run.one(SECRET, "unsealer-keys").inputs.stringData), ["key-1", "key-2", "key-3"]);
        });
    });
});
