/**
 * Program-wide rules of index.ts under Pulumi mocks: component type tokens, child naming and parents, the kind
 * provider and deletedWith on everything in the cluster, releases in their namespaces, the outputs and their secrecy,
 * the `tls: false` lab, settings that reach several components, and bad config registering nothing.
 * The graph test of each component is in its own file, named after it (kindCluster.test.ts, vaultTls.test.ts, ...);
 * graph order over the whole graph is in graphOrder.test.ts.
 */
import { strict as assert } from "assert";
import { parse } from "yaml";
import { COMMAND, FAKE_CA, FAKE_KEYS, FAKE_KUBECONFIG, ProgramRun, PROVIDER, providerUrn, RELEASE, runProgram, runProgramOnce } from "../support/program";

describe("program (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramOnce();
    });

    describe("resource graph", () => {
        it("has its components, typed vault-ha:<module>:<Type>, at the top level", () => {
            const components = run.registrations.filter((r) => r.type.startsWith("vault-ha:"));
            assert.deepEqual(
                // Under mocks there is no stack resource, so a top-level component has no parent at all.
                components.map((c) => [c.type, c.name, c.parent === "" || c.parent.endsWith("pulumi:pulumi:Stack::vault-ha-dev")]).sort(),
                [
                    ["vault-ha:kind:KindCluster", "kind", true],
                    ["vault-ha:ingress:IngressNginx", "ingress-nginx", true],
                    ["vault-ha:ingress:Whoami", "whoami", true],
                    ["vault-ha:tls:CertManager", "cert-manager", true],
                    ["vault-ha:tls:VaultTls", "vault-tls", true],
                    ["vault-ha:vault:VaultNamespace", "vault-namespace", true],
                    ["vault-ha:vault:VaultCluster", "vault", true],
                    ["vault-ha:ingress:VaultIngress", "vault-ingress", true],
                    ["vault-ha:vault:VaultBootstrap", "bootstrap", true],
                    ["vault-ha:vault:KvProof", "kv-proof", true],
                ].sort(),
            );
        });

        it("names every child after its component and parents it there", () => {
            for (const r of run.registrations.filter((r) => !r.type.startsWith("vault-ha:"))) {
                const parent = run.byUrn(r.parent);
                assert.ok(parent.type.startsWith("vault-ha:"), `${r.name} is parented to a component`);
                assert.ok(r.name.startsWith(`${parent.name}-`), `${r.name} is named ${parent.name}-...`);
            }
        });

        it("creates every in-cluster resource with the kind cluster's provider and deletedWith the cluster", () => {
            const cluster = run.one(COMMAND, "kind-cluster");
            const provider = run.one(PROVIDER, "kind-k8s");
            const inCluster = run.registrations.filter((r) => r.type.startsWith("kubernetes:"));
            // 4 namespaces, 2 releases, whoami's Deployment, Service and Ingress, 4 cert-manager objects, Vault's Ingress.
            assert.equal(inCluster.length, 14);
            for (const r of inCluster) {
                assert.equal(providerUrn(r.provider), provider.urn, `${r.name} uses the kind provider`);
                assert.equal(r.deletedWith, cluster.urn, `${r.name} is deletedWith the cluster`);
            }
            // cert-manager's chart is a remote component: it gets the provider for its children, and deletedWith.
            const chart = run.one("kubernetes-cert-manager:index:CertManager");
            assert.equal(providerUrn(chart.providers.kubernetes), provider.urn);
            assert.equal(chart.deletedWith, cluster.urn);
            // The commands act on the cluster too; all but init, whose delete must run (see vaultBootstrap.test.ts).
            // Nor the kind shape record, which is outside the cluster (components/kind/kindCluster.ts).
            const commands = run.all(COMMAND).filter((c) => !["kind-cluster", "kind-shape", "bootstrap-init"].includes(c.name));
            assert.deepEqual(commands.map((c) => c.name).sort(), [
                "bootstrap-join-vault-1",
                "bootstrap-join-vault-2",
                "bootstrap-roll",
                "bootstrap-unseal-vault-0",
                "bootstrap-verify",
                "bootstrap-wait-pods",
                "cert-manager-webhook-ready",
                "kv-proof-roundtrip",
                "vault-tls-read-ca",
            ]);
            for (const r of commands) assert.equal(r.deletedWith, cluster.urn, `${r.name} is deletedWith the cluster`);
        });

        it("on kind, has no secrets cleanup: the cluster takes cert-manager's secrets along", () => {
            assert.equal(run.all(COMMAND).filter((c) => c.name === "vault-tls-secrets-cleanup").length, 0);
        });

        it("on kind, destroy deletes the key file (the volumes die with the cluster): init's environment is as before", () => {
            assert.equal(run.one(COMMAND, "bootstrap-init").inputs.environment.VAULT_HA_KEEP_KEYS_IN, undefined);
        });

        it("does not hand deletedWith to the cluster itself or its provider", () => {
            assert.equal(run.one(COMMAND, "kind-cluster").deletedWith, "");
            assert.equal(run.one(PROVIDER, "kind-k8s").deletedWith, "");
        });

        it("creates each release in its own namespace, after the namespace", () => {
            for (const [release, namespace] of [
                ["ingress-nginx-release", "ingress-nginx-ns"],
                ["vault-release", "vault-namespace-ns"],
            ]) {
                const r = run.one(RELEASE, release);
                const ns = run.one("kubernetes:core/v1:Namespace", namespace);
                assert.ok(r.dependencies.includes(ns.urn), `${release} depends on ${namespace}`);
                assert.equal(r.inputs.namespace, ns.inputs.metadata.name);
            }
        });
    });

    describe("outputs", () => {
        it("exports the addresses, the context and the cluster name in plain text", () => {
            const plain = Object.fromEntries(
                Object.entries(run.outputs)
                    .filter(([, o]) => !o.secret)
                    .map(([k, o]) => [k, o.value]),
            );
            assert.deepEqual(plain, {
                cluster: "kind",
                clusterName: "vault",
                kubeContext: "kind-vault",
                vaultAddr: "https://localhost:30000",
                uiUrl: "https://localhost:30000/ui/",
                ingressUrl: "https://vault.localhost",
                vaultNamespace: "vault",
                whoamiUrl: "http://localhost/_whoami",
                caCert: FAKE_CA,
                vaultEnv: 'export VAULT_ADDR=https://localhost:30000\nexport VAULT_CACERT="$PWD/vault-ca.pem"',
                raftPeers: [{ node_id: "vault-0", address: "vault-0.vault-internal:8201", leader: true, voter: true }],
                kvSecretPath: "mysecret/logins/study",
            });
        });

        it("exports the kubeconfig, the root token and the unseal keys as secrets", () => {
            assert.deepEqual(run.outputs.kubeconfig, { value: FAKE_KUBECONFIG, secret: true });
            assert.deepEqual(run.outputs.rootToken, { value: FAKE_KEYS.rootToken, secret: true });
            assert.deepEqual(run.outputs.unsealKeys, { value: FAKE_KEYS.unsealKeys, secret: true });
        });
    });

    describe("tls: false", () => {
        it("tls: false reproduces the blog's plain-HTTP lab: no cert-manager, http everywhere, no passthrough", async () => {
            const plain = await runProgramOnce({ tls: "false" });
            assert.equal(plain.all("kubernetes-cert-manager:index:CertManager").length, 0);
            assert.equal(plain.registrations.filter((r) => r.type.startsWith("kubernetes:cert-manager.io")).length, 0);
            assert.equal(plain.outputs.vaultAddr.value, "http://localhost:30000");
            assert.equal(plain.outputs.ingressUrl.value, "http://vault.localhost");
            assert.equal(plain.outputs.caCert, undefined);
            assert.equal(plain.outputs.vaultEnv.value, "export VAULT_ADDR=http://localhost:30000");
            assert.equal(plain.one(RELEASE, "vault-release").inputs.values.global.tlsDisable, true);
            assert.deepEqual(
                plain.one(RELEASE, "vault-release").dependencies.filter((d) => d.includes("cert-manager")),
                [],
            );
            const join = plain.one(COMMAND, "bootstrap-join-vault-1").inputs.environment;
            assert.equal(join.VAULT_HA_LEADER_ADDR, "http://vault-0.vault-internal:8200");
            assert.equal(join.VAULT_HA_LEADER_CA_FILE, undefined);
            assert.deepEqual(plain.one("kubernetes:networking.k8s.io/v1:Ingress", "vault-ingress-ingress").inputs.metadata.annotations, {});
            assert.equal(JSON.parse(plain.one(COMMAND, "kv-proof-roundtrip").inputs.stdin).caCert, undefined);
            assert.equal(plain.one(COMMAND, "kv-proof-roundtrip").inputs.environment.VAULT_HA_VAULT_ADDR, "http://localhost:30000");
        });
    });

    describe("other settings", () => {
        it("5 workers and 5 replicas reach both the kind config and the chart", async () => {
            const five = await runProgram({ workers: "5", vaultReplicas: "5", ingressHttpPort: "8080" });
            const stdin = parse(five.one(COMMAND, "kind-cluster").inputs.stdin);
            assert.equal(stdin.nodes.filter((n: any) => n.role === "worker").length, 5);
            assert.equal(five.one(RELEASE, "vault-release").inputs.values.server.ha.replicas, 5);
            assert.equal(five.outputs.whoamiUrl.value, "http://localhost:8080/_whoami");
        });

        it("an even replica count is logged as a warning", async () => {
            const even = await runProgram({ vaultReplicas: "2" });
            assert.equal(even.warnings.length, 1);
            assert.match(even.warnings[0], /vaultReplicas = 2/);
        });

        it("bad config fails before any resource is registered, naming the setting", async () => {
            await assert.rejects(runProgram({ keyShares: "3", keyThreshold: "4" }), (err: Error) => {
                assert.equal(err.name, "ConfigError");
                assert.match(err.message, /vault-ha:keyThreshold = "4": must not exceed keyShares \(3\)/);
                assert.deepEqual((err as Error & { registrations: unknown[] }).registrations, []);
                return true;
            });
        });
    });
});
