import { strict as assert } from "assert";
import { parse } from "yaml";
import { buildKindConfig, kindConfigYaml, withOwnerLabel } from "../../components/kind/kindConfig";
import { KIND_CREATE_SCRIPT, KIND_DELETE_SCRIPT } from "../../components/kind/kindCluster";
import { ingressNginxValues } from "../../components/ingress/ingressNginxValues";
import { parseSettings } from "../../components/config/settings";
import { vaultHelmValues } from "../../components/vault/vaultValues";
import { vaultCertificateSans } from "../../components/tls/tlsConfig";
import { FAKE_CA, FAKE_IDENTITIES, FAKE_KEYS, FAKE_KUBECONFIG, FAKE_PASSWORD, ProgramRun, providerUrn, Registration, runProgram } from "../support/program";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const COMMAND = "command:local:Command";
const PROVIDER = "pulumi:providers:kubernetes";

describe("program (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram();
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
            // The commands act on the cluster too; all but init, whose delete must run (see below).
            const commands = run.all(COMMAND).filter((c) => c.name !== "kind-cluster" && c.name !== "bootstrap-init");
            assert.deepEqual(commands.map((c) => c.name).sort(), [
                "bootstrap-join-vault-1",
                "bootstrap-join-vault-2",
                "bootstrap-unseal-vault-0",
                "bootstrap-verify",
                "bootstrap-wait-pods",
                "cert-manager-webhook-ready",
                "kv-proof-roundtrip",
                "vault-tls-read-ca",
            ]);
            for (const r of commands) assert.equal(r.deletedWith, cluster.urn, `${r.name} is deletedWith the cluster`);
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

        it("keeps the vault namespace's identity from when VaultCluster created it, so that moving it replaces nothing", () => {
            const ns = run.one("kubernetes:core/v1:Namespace", "vault-namespace-ns");
            assert.deepEqual(ns.aliases, [{ name: "vault-ns", parentUrn: run.one("vault-ha:vault:VaultCluster", "vault").urn, type: undefined, noParent: undefined }]);
            assert.deepEqual(ns.dependencies, [], "the namespace waits for nothing that lives in it");
        });

        it("creates the whoami Ingress only after the ingress controller (whose webhook admits it) is installed", () => {
            const ingress = run.one("kubernetes:networking.k8s.io/v1:Ingress", "whoami-ingress");
            assert.ok(ingress.dependencies.includes(run.one(RELEASE, "ingress-nginx-release").urn));
        });

        it("does not make Vault wait for ingress: the two install in parallel", () => {
            const vault = run.one(RELEASE, "vault-release");
            assert.ok(!vault.dependencies.includes(run.one(RELEASE, "ingress-nginx-release").urn));
        });
    });

    describe("kind cluster command", () => {
        let cluster: ReturnType<ProgramRun["one"]>;
        before(() => {
            cluster = run.one(COMMAND, "kind-cluster");
        });

        it("creates idempotently and deletes with kind", () => {
            assert.equal(cluster.inputs.create, KIND_CREATE_SCRIPT);
            assert.equal(cluster.inputs.delete, KIND_DELETE_SCRIPT);
            assert.deepEqual(cluster.inputs.environment, {
                KIND_CLUSTER_NAME: "vault",
                KIND_NODE_IMAGE: parseSettings({}).settings.kindNodeImage,
                VAULT_HA_OWNER: "vault-ha.dev",
            });
        });

        it("passes the kind config on stdin, as YAML of the built config with every node marked as this stack's", () => {
            assert.deepEqual(parse(cluster.inputs.stdin), withOwnerLabel(buildKindConfig(parseSettings({}).settings), "vault-ha.dev"));
        });

        it("keeps the kubeconfig out of logs, later runs' environment and plain-text state", () => {
            assert.equal(cluster.inputs.logging, "stderr");
            assert.equal(cluster.inputs.addPreviousOutputInEnv, false);
            assert.deepEqual(cluster.additionalSecretOutputs, ["stdout"]);
        });

        it("rebuilds the cluster when its name, image or config changes, deleting the old one first", () => {
            // The unmarked config: adding the owner mark must not rebuild clusters made before it existed.
            assert.deepEqual(cluster.inputs.triggers, [cluster.inputs.environment.KIND_CLUSTER_NAME, cluster.inputs.environment.KIND_NODE_IMAGE, kindConfigYaml(parseSettings({}).settings)]);
            assert.equal(cluster.deleteBeforeReplace, true);
        });

        it("bounds create with a timeout", () => {
            assert.equal(cluster.customTimeouts?.create, "15m");
        });

        it("feeds the provider a secret kubeconfig and a cluster identity that changes with the cluster", () => {
            const provider = run.one(PROVIDER, "kind-k8s");
            assert.equal(provider.inputs.kubeconfig, FAKE_KUBECONFIG);
            assert.ok(provider.secretInputs.includes("kubeconfig"));
            assert.match(provider.inputs.clusterIdentifier, /^vault-[0-9a-f]{12}$/);
        });
    });

    describe("bootstrap steps", () => {
        const step = (id: string) => run.one(COMMAND, `bootstrap-${id}`);
        const bootstrapSteps = () => run.all(COMMAND).filter((c) => c.name.startsWith("bootstrap-"));

        it("runs wait -> init -> unseal leader -> joins (in parallel) -> verify, after the Vault release", () => {
            assert.deepEqual(
                bootstrapSteps().map((s) => s.name),
                ["bootstrap-wait-pods", "bootstrap-init", "bootstrap-unseal-vault-0", "bootstrap-join-vault-1", "bootstrap-join-vault-2", "bootstrap-verify"],
            );
            const deps = (id: string) => step(id).dependencies;
            assert.ok(deps("wait-pods").includes(run.one(RELEASE, "vault-release").urn));
            assert.ok(deps("init").includes(step("wait-pods").urn));
            assert.ok(deps("unseal-vault-0").includes(step("init").urn));
            for (const follower of ["join-vault-1", "join-vault-2"]) {
                assert.ok(deps(follower).includes(step("unseal-vault-0").urn), `${follower} after the leader is unsealed`);
            }
            assert.ok(!deps("join-vault-2").includes(step("join-vault-1").urn), "followers do not wait for each other");
            for (const id of ["unseal-vault-0", "join-vault-1", "join-vault-2"]) {
                assert.ok(deps("verify").includes(step(id).urn), `verify after ${id}`);
            }
        });

        it("runs the step runner for each step, with each pod named in the environment", () => {
            for (const [id, runner, pod] of [
                ["wait-pods", "wait-pods", undefined],
                ["init", "init", undefined],
                ["unseal-vault-0", "unseal", "vault-0"],
                ["join-vault-1", "join", "vault-1"],
                ["verify", "verify", undefined],
            ]) {
                assert.equal(step(id!).inputs.create, `node --require ts-node/register/transpile-only components/runner/main.ts ${runner}`);
                assert.equal(step(id!).inputs.environment.VAULT_HA_POD, pod);
            }
            assert.equal(step("join-vault-1").inputs.environment.VAULT_HA_LEADER_ADDR, "https://vault-0.vault-internal:8200");
            assert.equal(step("join-vault-1").inputs.environment.VAULT_HA_LEADER_CA_FILE, "/vault/userconfig/vault-tls/ca.crt");
            assert.equal(step("init").inputs.environment.VAULT_HA_KEY_SHARES, "5");
            assert.equal(step("init").inputs.environment.VAULT_HA_KEY_THRESHOLD, "3");
            assert.equal(step("init").inputs.environment.VAULT_HA_KEY_FILE, ".vault-ha/vault-ha.dev/init.json");
        });

        it("passes secrets only on stdin, marked secret, never in the command line or the environment", () => {
            const secrets = [FAKE_KUBECONFIG.trim(), "RkFLRS1LRVk=", FAKE_KEYS.rootToken, ...FAKE_KEYS.unsealKeys];
            for (const s of bootstrapSteps()) {
                assert.ok(s.secretInputs.includes("stdin"), `${s.name}: stdin is secret`);
                assert.equal(JSON.parse(s.inputs.stdin).kubeconfig, FAKE_KUBECONFIG);
                assert.ok(!s.secretInputs.includes("environment"), `${s.name}: environment is plain, so previews show it`);
                const exposed = JSON.stringify([s.inputs.create, s.inputs.delete ?? "", s.inputs.environment, s.inputs.triggers ?? []]);
                for (const secret of secrets) assert.ok(!exposed.includes(secret), `${s.name} exposes a secret`);
                assert.equal(s.inputs.addPreviousOutputInEnv, false, `${s.name}: no previous stdout in the environment`);
                assert.equal(s.inputs.dir, ".", `${s.name} runs in the project folder, named relatively`);
            }
            assert.deepEqual(JSON.parse(step("unseal-vault-0").inputs.stdin).unsealKeys, FAKE_KEYS.unsealKeys);
            assert.deepEqual(JSON.parse(step("join-vault-2").inputs.stdin).unsealKeys, FAKE_KEYS.unsealKeys);
            assert.equal(JSON.parse(step("verify").inputs.stdin).rootToken, FAKE_KEYS.rootToken);
            assert.equal(JSON.parse(step("verify").inputs.stdin).unsealKeys, undefined, "verify gets the token, not the keys");
        });

        it("keeps the init step's stdout (the keys) secret and out of the logs, and forgets the keys on destroy", () => {
            const init = step("init");
            assert.deepEqual(init.additionalSecretOutputs, ["stdout"]);
            assert.equal(init.inputs.logging, "stderr");
            assert.equal(init.inputs.delete, "node --require ts-node/register/transpile-only components/runner/main.ts forget-keys");
            assert.equal(init.deletedWith, "", "a deletedWith would skip the delete that removes the key file");
        });

        it("re-runs an unseal or join step when its pod has a new incarnation, read on every preview and up", () => {
            const identities = run.invokes.filter((i) => i.token === "command:local:run");
            assert.equal(identities.length, 1);
            assert.match(identities[0].inputs.command, /main\.ts pod-identities$/);
            assert.deepEqual(step("unseal-vault-0").inputs.triggers, [`vault-0: ${FAKE_IDENTITIES["vault-0"]}`]);
            assert.deepEqual(step("join-vault-1").inputs.triggers, ["vault-1: absent"]);
            assert.equal(step("verify").inputs.triggers.length, 3);
            assert.ok(step("wait-pods").inputs.triggers.includes(3), "waiting again when the replica count changes");
        });

        it("5 replicas make 4 parallel joins", async () => {
            const five = await runProgram({ workers: "5", vaultReplicas: "5" });
            const joins = five.all(COMMAND).filter((c) => c.name.startsWith("bootstrap-join-"));
            assert.deepEqual(joins.map((j) => j.name), ["bootstrap-join-vault-1", "bootstrap-join-vault-2", "bootstrap-join-vault-3", "bootstrap-join-vault-4"]);
        });
    });

    describe("adopting an initialised Vault (vault-ha:unsealKeys, vault-ha:rootToken)", () => {
        const keys = JSON.stringify(["YWRvcHRlZC1rZXktMS0xLTEtMQ==", "YWRvcHRlZC1rZXktMi0yLTItMg==", "YWRvcHRlZC1rZXktMy0zLTMtMw=="]);
        const token = "hvs.ADOPTED-ROOT-TOKEN";

        it("hands the configured keys to the init step, which uses them instead of initialising", async () => {
            const adopted = await runProgram({ unsealKeys: keys, rootToken: token }, ["unsealKeys", "rootToken"]);
            const init: Registration = adopted.one(COMMAND, "bootstrap-init");
            assert.deepEqual(JSON.parse(init.inputs.stdin), { kubeconfig: FAKE_KUBECONFIG, unsealKeys: JSON.parse(keys), rootToken: token });
            assert.ok(init.secretInputs.includes("stdin"));
        });

        it("refuses keys stored in plain text", async () => {
            await assert.rejects(runProgram({ unsealKeys: keys, rootToken: token }, ["rootToken"]), /vault-ha:unsealKeys is stored in plain text. Fix: pulumi config set --secret/);
        });

        it("refuses too few keys or a missing token, without repeating the secrets", async () => {
            await assert.rejects(runProgram({ unsealKeys: JSON.stringify(["YWRvcHRlZC1rZXktMS0xLTEtMQ=="]) }, ["unsealKeys"]), (err: Error) => {
                assert.match(err.message, /vault-ha:unsealKeys holds 1 key\(s\); unsealing needs at least keyThreshold \(3\)/);
                assert.match(err.message, /vault-ha:unsealKeys is set but vault-ha:rootToken is not/);
                assert.ok(!err.message.includes("YWRvcHRlZC1rZXktMS0xLTEtMQ=="));
                return true;
            });
        });
    });

    describe("TLS", () => {
        const CR = (kind: string) => `kubernetes:cert-manager.io/v1:${kind}`;
        const dependsOn = (r: Registration, on: Registration) => assert.ok(r.dependencies.includes(on.urn), `${r.name} depends on ${on.name}`);

        it("installs cert-manager pinned at v1.21.1 as release cert-manager, with its CRDs through crds.enabled", () => {
            const chart = run.one("kubernetes-cert-manager:index:CertManager");
            const helm = chart.inputs.helmOptions;
            assert.equal(helm.name, "cert-manager");
            assert.equal(helm.namespace, "cert-manager");
            assert.equal(helm.version, "v1.21.1");
            assert.deepEqual(helm.repositoryOpts, { repo: "https://charts.jetstack.io" });
            assert.deepEqual(helm.values, { crds: { enabled: true } });
            assert.equal(chart.inputs.installCRDs, undefined, "the deprecated switch stays off");
        });

        it("creates no issuer before cert-manager's webhook admits one, then chains CA -> issuer -> server certificate", () => {
            const gate = run.one(COMMAND, "cert-manager-webhook-ready");
            assert.match(gate.inputs.create, /main\.ts cert-manager-ready$/);
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

        it("starts Vault only after its certificate exists, and bootstraps after both", () => {
            const release = run.one(RELEASE, "vault-release");
            dependsOn(release, run.one(CR("Certificate"), "vault-tls-server-certificate"));
            dependsOn(run.one(COMMAND, "bootstrap-wait-pods"), release);
            assert.equal(release.inputs.values.global.tlsDisable, false);
        });

        it("reads the CA certificate with kubectl, so no private key enters the state", () => {
            const readCa = run.one(COMMAND, "vault-tls-read-ca");
            assert.match(readCa.inputs.create, /main\.ts read-ca$/);
            assert.deepEqual(readCa.inputs.environment, { VAULT_HA_NAMESPACE: "vault", VAULT_HA_TLS_SECRET: "vault-server-tls", VAULT_HA_TIMEOUT_SECONDS: "300" });
            dependsOn(readCa, run.one(CR("Certificate"), "vault-tls-server-certificate"));
            assert.equal(run.all("kubernetes:core/v1:Secret").length, 0);
        });

        it("routes https://vault.localhost to the active Vault pod with SSL passthrough", () => {
            const ingress = run.one("kubernetes:networking.k8s.io/v1:Ingress", "vault-ingress-ingress");
            assert.deepEqual(ingress.inputs.metadata.annotations, { "nginx.ingress.kubernetes.io/ssl-passthrough": "true" });
            assert.equal(ingress.inputs.metadata.namespace, "vault");
            assert.equal(ingress.inputs.spec.ingressClassName, "nginx");
            const rule = ingress.inputs.spec.rules[0];
            assert.equal(rule.host, "vault.localhost");
            assert.deepEqual(rule.http.paths, [{ path: "/", pathType: "Prefix", backend: { service: { name: "vault-active", port: { number: 8200 } } } }]);
            dependsOn(ingress, run.one(RELEASE, "ingress-nginx-release"));
        });

        it("proves a kv-v2 round trip through VAULT_ADDR after the bootstrap, with token, password and CA on stdin", () => {
            const proof = run.one(COMMAND, "kv-proof-roundtrip");
            assert.match(proof.inputs.create, /main\.ts kv-proof$/);
            dependsOn(proof, run.one(COMMAND, "bootstrap-verify"));
            assert.deepEqual(proof.inputs.environment, {
                VAULT_HA_VAULT_ADDR: "https://localhost:30000",
                VAULT_HA_KV_MOUNT: "mysecret",
                VAULT_HA_KV_PATH: "logins/study",
                VAULT_HA_KV_USERNAME: "demo",
                VAULT_HA_TIMEOUT_SECONDS: "300",
            });
            assert.ok(proof.secretInputs.includes("stdin"));
            assert.deepEqual(JSON.parse(proof.inputs.stdin), { rootToken: FAKE_KEYS.rootToken, password: FAKE_PASSWORD, caCert: FAKE_CA });
            const exposed = JSON.stringify([proof.inputs.create, proof.inputs.environment]);
            for (const secret of [FAKE_KEYS.rootToken, FAKE_PASSWORD]) assert.ok(!exposed.includes(secret));
            const password = run.one("random:index/randomPassword:RandomPassword", "kv-proof-password");
            assert.equal(password.inputs.length, 24);
        });

        it("tls: false reproduces the blog's plain-HTTP lab: no cert-manager, http everywhere, no passthrough", async () => {
            const plain = await runProgram({ tls: "false" });
            assert.equal(plain.all("kubernetes-cert-manager:index:CertManager").length, 0);
            assert.equal(plain.registrations.filter((r) => r.type.startsWith("kubernetes:cert-manager.io")).length, 0);
            assert.equal(plain.outputs.vaultAddr.value, "http://localhost:30000");
            assert.equal(plain.outputs.ingressUrl.value, "http://vault.localhost");
            assert.equal(plain.outputs.caCert, undefined);
            assert.equal(plain.outputs.vaultEnv.value, "export VAULT_ADDR=http://localhost:30000");
            assert.equal(plain.one(RELEASE, "vault-release").inputs.values.global.tlsDisable, true);
            assert.deepEqual(plain.one(RELEASE, "vault-release").dependencies.filter((d) => d.includes("cert-manager")), []);
            const join = plain.one(COMMAND, "bootstrap-join-vault-1").inputs.environment;
            assert.equal(join.VAULT_HA_LEADER_ADDR, "http://vault-0.vault-internal:8200");
            assert.equal(join.VAULT_HA_LEADER_CA_FILE, undefined);
            assert.deepEqual(plain.one("kubernetes:networking.k8s.io/v1:Ingress", "vault-ingress-ingress").inputs.metadata.annotations, {});
            assert.equal(JSON.parse(plain.one(COMMAND, "kv-proof-roundtrip").inputs.stdin).caCert, undefined);
            assert.equal(plain.one(COMMAND, "kv-proof-roundtrip").inputs.environment.VAULT_HA_VAULT_ADDR, "http://localhost:30000");
        });
    });

    describe("charts", () => {
        it("installs Vault as release `vault`, pinned, with the values built for these settings, without waiting", () => {
            const vault = run.one(RELEASE, "vault-release");
            assert.equal(vault.inputs.name, "vault");
            assert.equal(vault.inputs.chart, "vault");
            assert.equal(vault.inputs.version, "0.34.1");
            assert.deepEqual(vault.inputs.repositoryOpts, { repo: "https://helm.releases.hashicorp.com" });
            assert.equal(vault.inputs.namespace, "vault");
            assert.equal(vault.inputs.skipAwait, true);
            assert.deepEqual(vault.inputs.values, vaultHelmValues(parseSettings({}).settings));
        });

        it("installs ingress-nginx pinned at 4.15.1 with the kind values, waiting for the controller", () => {
            const ingress = run.one(RELEASE, "ingress-nginx-release");
            assert.equal(ingress.inputs.name, "ingress-nginx");
            assert.equal(ingress.inputs.chart, "ingress-nginx");
            assert.equal(ingress.inputs.version, "4.15.1");
            assert.deepEqual(ingress.inputs.repositoryOpts, { repo: "https://kubernetes.github.io/ingress-nginx" });
            assert.equal(ingress.inputs.namespace, "ingress-nginx");
            assert.notEqual(ingress.inputs.skipAwait, true);
            assert.deepEqual(ingress.inputs.values, ingressNginxValues());
        });
    });

    describe("whoami", () => {
        it("runs traefik/whoami:v1.11.0 behind an nginx Ingress on /_whoami", () => {
            const deployment = run.one("kubernetes:apps/v1:Deployment", "whoami-deployment");
            assert.equal(deployment.inputs.metadata.namespace, "whoami");
            assert.equal(deployment.inputs.spec.template.spec.containers[0].image, "traefik/whoami:v1.11.0");
            const ingress = run.one("kubernetes:networking.k8s.io/v1:Ingress", "whoami-ingress");
            assert.equal(ingress.inputs.spec.ingressClassName, "nginx");
            const rule = ingress.inputs.spec.rules[0].http.paths[0];
            assert.equal(rule.path, "/_whoami");
            assert.equal(rule.pathType, "Prefix");
            assert.equal(rule.backend.service.name, "whoami");
            const service = run.one("kubernetes:core/v1:Service", "whoami-service");
            assert.deepEqual(service.inputs.spec.selector, deployment.inputs.spec.selector.matchLabels);
        });
    });

    describe("outputs", () => {
        it("exports the addresses, the context and the cluster name in plain text", () => {
            const plain = Object.fromEntries(Object.entries(run.outputs).filter(([, o]) => !o.secret).map(([k, o]) => [k, o.value]));
            assert.deepEqual(plain, {
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

    describe("other settings", () => {
        it("whoami: false leaves whoami out entirely", async () => {
            const without = await runProgram({ whoami: "false" });
            assert.equal(without.registrations.filter((r) => r.name.startsWith("whoami")).length, 0);
            assert.equal(without.outputs.whoamiUrl, undefined);
        });

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
