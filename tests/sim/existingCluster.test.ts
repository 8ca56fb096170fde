/**
 * The existing-cluster steps against the SIMULATOR: cluster-facts on several cluster shapes and permissions,
 * vault-address waiting for a load balancer, and the kv proof through each exposure (a node's address, a load
 * balancer's bare IP verified as a name the certificate holds, and a port-forward the step opens and always closes).
 * Simulated time throughout: the waits cost nothing, and nothing depends on the machine's speed.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { ClusterFacts } from "../../components/steps/contract";
import { stepEnvironment } from "../../components/steps/contract";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { FakeVaultFrontDoor, makePki, TestPki } from "../doubles/vault/frontDoor";
import { assertNothingExposed } from "../doubles/vault/exposure";

/* eslint-disable @typescript-eslint/no-require-imports */
const { installCertManager } = require("../doubles/vault/kubeObjects.js");

describe("existing clusters against the simulator", function () {
    before(function () {
        requireRenderedPods(this);
    });
    this.timeout(60_000);
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    async function facts(certManagerNamespace?: string): Promise<{ facts: ClusterFacts; stderr: string }> {
        const run = await sim.runStep("cluster-facts", { env: stepEnvironment("cluster-facts", { certManagerNamespace, timeoutSeconds: 30 }) });
        assert.equal(run.code, 0, run.stderr);
        return { facts: JSON.parse(run.stdout), stderr: run.stderr };
    }

    describe("cluster-facts", () => {
        it("on a kind-shaped cluster: the tainted control plane is not counted, the default class and no cert-manager are seen", async () => {
            sim = await Simulation.create();
            const { facts: f } = await facts();
            assert.deepEqual(f, {
                schedulableNodes: 3,
                nodeAddress: "172.18.0.3",
                storageClasses: [{ name: "standard", isDefault: true }],
                certManager: { crds: false, webhookReady: false },
                unreadable: [],
            });
            assertNothingExposed(sim);
        });

        it("leaves out a cordoned node, a node that is not Ready and a NoExecute taint; keeps PreferNoSchedule; prefers ExternalIP", async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                const [, w1, w2, w3] = s.kube.nodes;
                w1.unschedulable = true;
                w1.taints = [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }];
                w2.ready = false;
                w3.taints = [{ key: "dedicated", value: "gpu", effect: "PreferNoSchedule" }];
                w3.addresses.push({ type: "ExternalIP", address: "203.0.113.7" });
                s.kube.nodes.push({
                    name: "spot",
                    ready: true,
                    taints: [{ key: "spot", effect: "NoExecute" }],
                    addresses: [{ type: "ExternalIP", address: "203.0.113.9" }],
                });
            });
            const { facts: f } = await facts();
            assert.equal(f.schedulableNodes, 1);
            assert.equal(f.nodeAddress, "203.0.113.7");
        });

        it('reports no default storage class when none is annotated "true" (the beta annotation counts too)', async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                s.kube.storageClasses = [
                    { name: "standard", annotations: { "storageclass.kubernetes.io/is-default-class": "false" } },
                    { name: "fast", annotations: { "storageclass.kubernetes.io/is-default-class": "yes" } },
                ];
            });
            assert.deepEqual((await facts()).facts.storageClasses, [
                { name: "standard", isDefault: false },
                { name: "fast", isDefault: false },
            ]);
            sim.change((s) => s.kube.storageClasses.push({ name: "old", annotations: { "storageclass.beta.kubernetes.io/is-default-class": "true" } }));
            assert.deepEqual((await facts()).facts.storageClasses?.[2], { name: "old", isDefault: true });
        });

        it("finds a running cert-manager (CRDs, ready webhook, its namespace), and tells ours from a foreign one", async () => {
            sim = await Simulation.create();
            sim.change((s) => installCertManager(s.kube, { namespace: "security" }));
            assert.deepEqual((await facts()).facts.certManager, {
                crds: true,
                webhookReady: true,
                namespace: "security",
                clusterResourceNamespace: "security",
            });
            sim.change((s) => {
                const webhook = s.kube.deployments.find((d: any) => d.name === "cert-manager-webhook");
                webhook.labels["vault-ha.dev/owner"] = "vault-ha.dev";
                webhook.availableReplicas = 0;
            });
            assert.deepEqual((await facts()).facts.certManager, {
                crds: true,
                webhookReady: false,
                namespace: "security",
                owner: "vault-ha.dev",
                clusterResourceNamespace: "security",
            });
        });

        it("reads where a running cert-manager's ClusterIssuers keep their secrets (--cluster-resource-namespace)", async () => {
            sim = await Simulation.create();
            sim.change((s) => installCertManager(s.kube, { clusterResourceNamespace: "pki" }));
            assert.equal((await facts()).facts.certManager.clusterResourceNamespace, "pki");
            sim.change((s) => (s.kube.deployments.find((d: any) => d.name === "cert-manager").args = ["--v=2"]));
            assert.equal((await facts()).facts.certManager.clusterResourceNamespace, "kube-system", "the controller's own default without the flag");
        });

        it("does not take another project's Deployment labelled name=webhook for cert-manager's", async () => {
            sim = await Simulation.create();
            sim.change((s) =>
                s.kube.deployments.push({
                    namespace: "tools",
                    name: "webhook",
                    labels: { "app.kubernetes.io/name": "webhook", "app.kubernetes.io/component": "webhook" },
                    image: "example.org/hooks:1",
                    availableReplicas: 1,
                }),
            );
            assert.deepEqual((await facts()).facts.certManager, { crds: false, webhookReady: false });
        });

        it("with a namespace-scoped user: what it may not list is named with `kubectl auth can-i`, and the rest is still read", async () => {
            sim = await Simulation.create();
            sim.change((s) => {
                installCertManager(s.kube);
                s.kube.forbidden = [
                    "list nodes",
                    "list storageclasses.storage.k8s.io",
                    "get customresourcedefinitions.apiextensions.k8s.io",
                    "list deployments.apps *",
                ];
            });
            const { facts: f, stderr } = await facts("cert-manager");
            assert.equal(f.schedulableNodes, undefined);
            assert.equal(f.storageClasses, undefined);
            // Discovery answers every authenticated user: cert-manager's API is still seen.
            assert.deepEqual(f.certManager, { crds: true, webhookReady: true, namespace: "cert-manager", clusterResourceNamespace: "cert-manager" });
            assert.deepEqual(
                f.unreadable.map((u) => `${u.verb} ${u.resource} ${u.scope}`),
                [
                    "list nodes cluster",
                    "list storageclasses.storage.k8s.io cluster",
                    "get customresourcedefinitions.apiextensions.k8s.io cluster",
                    "list deployments.apps all namespaces",
                ],
            );
            assert.match(
                stderr,
                /cannot list nodes at the cluster scope: the kubeconfig's user is not allowed \(`kubectl auth can-i list nodes` shows it\); the number of schedulable nodes is unknown/,
            );
            assert.match(
                stderr,
                /`kubectl auth can-i list deployments.apps --all-namespaces` shows it\); cert-manager's webhook was looked for in cert-manager only/,
            );
            assert.doesNotMatch(stderr, /unexpected failure/);
        });

        it("waits for an API server that does not answer yet, then says what it waited for", async () => {
            sim = await Simulation.create();
            sim.change((s) => (s.faults.apiServerDown = true));
            const run = await sim.runStep("cluster-facts", { env: stepEnvironment("cluster-facts", { timeoutSeconds: 10 }) });
            assert.equal(run.code, 1);
            assert.match(
                run.stderr,
                /timed out after \d+s waiting for the cluster's API server to answer; last seen: the cluster's nodes: The connection to the server/,
            );
        });
    });

    describe("vault-address", () => {
        const env = (timeoutSeconds = 600) => stepEnvironment("vault-address", { namespace: "vault", service: "vault", timeoutSeconds });
        const loadBalancer = (at: number | null, ingress: object[]) => (s: any) => {
            const svc = s.kube.services["vault/vault"];
            svc.type = "LoadBalancer";
            svc.loadBalancer = at === null ? null : { at: s.now + at, ingress };
        };

        it("waits until the load balancer has an IP, and returns it", async () => {
            sim = await Simulation.create();
            sim.change(loadBalancer(95_000, [{ ip: "203.0.113.10", ipMode: "VIP" }]));
            const started = sim.clock.now();
            const run = await sim.runStep("vault-address", { env: env() });
            assert.equal(run.code, 0, run.stderr);
            assert.deepEqual(JSON.parse(run.stdout), { address: "203.0.113.10" });
            const waited = sim.clock.now() - started;
            assert.ok(waited >= 95_000 && waited < 100_000, `polled until the address appeared (${waited} ms)`);
            assertNothingExposed(sim);
        });

        it("returns a DNS-based load balancer's host name", async () => {
            sim = await Simulation.create();
            sim.change(loadBalancer(0, [{ hostname: "a1b2c3.elb.eu-west-1.amazonaws.com" }]));
            const run = await sim.runStep("vault-address", { env: env() });
            assert.deepEqual(JSON.parse(run.stdout), { address: "a1b2c3.elb.eu-west-1.amazonaws.com" });
        });

        it("times out when no controller ever gives an address, naming the service, what was awaited and the likely cause", async () => {
            sim = await Simulation.create();
            sim.change(loadBalancer(null, []));
            const run = await sim.runStep("vault-address", { env: env(120) });
            assert.equal(run.code, 1);
            assert.match(
                run.stderr,
                /timed out after 1\d\ds waiting for a load balancer address for service vault in namespace vault \(status.loadBalancer.ingress\[0\].ip or .hostname\); last seen: no ingress point yet/,
            );
            assert.match(run.stderr, /No load balancer controller in this cluster\?/);
        });

        it("refuses a Service that is not a LoadBalancer at once", async () => {
            sim = await Simulation.create();
            const run = await sim.runStep("vault-address", { env: env() });
            assert.equal(run.code, 1);
            assert.match(run.stderr, /service vault in namespace vault is of type NodePort, not LoadBalancer/);
        });
    });

    describe("the kv proof through each exposure (fake Vault over real TLS, simulated time)", () => {
        const token = "hvs.existing-cluster-proof-token";
        const password = "generated-password-for-the-existing-proof";
        let door: FakeVaultFrontDoor;
        let pki: TestPki;
        afterEach(async () => door?.stop());

        async function start(p: TestPki, options: Partial<ConstructorParameters<typeof FakeVaultFrontDoor>[0]> = {}) {
            pki = p;
            door = new FakeVaultFrontDoor({ token, pki, ...options });
            const addr = await door.start();
            sim = await Simulation.create();
            return Number(new URL(addr).port);
        }

        const proofEnv = (extra: Partial<Parameters<typeof stepEnvironment<"kv-proof">>[1]>) =>
            stepEnvironment("kv-proof", {
                vaultAddr: "https://127.0.0.1:8200",
                kvMount: "mysecret",
                kvPath: "logins/study",
                kvUsername: "demo",
                timeoutSeconds: 30,
                ...extra,
            });

        it("through a node's address (NodePort), verified with the CA", async () => {
            const port = await start(makePki(["vault.vault.svc"], ["127.0.0.1"]), { unhealthyFor: 2 });
            const run = await sim.runStep("kv-proof", {
                env: proofEnv({ vaultAddr: `https://127.0.0.1:${port}` }),
                secrets: { rootToken: token, password, caCert: pki.caPem },
            });
            assert.equal(run.code, 0, run.stderr);
            assert.deepEqual(door.stored("mysecret/logins/study")?.data, { username: "demo", password });
            assert.equal(sim.forwards.length, 0, "no kubectl at all");
        });

        it("through a load balancer's bare IP: refused unless verified as a name the certificate holds (tlsServerName)", async () => {
            const port = await start(makePki(["vault.vault.svc"], []));
            const secrets = { rootToken: token, password, caCert: pki.caPem };
            const refused = await sim.runStep("kv-proof", { env: proofEnv({ vaultAddr: `https://127.0.0.1:${port}` }), secrets });
            assert.equal(refused.code, 1);
            assert.match(
                refused.stderr,
                /could not verify Vault's certificate at https:\/\/127.0.0.1:\d+ with the cluster CA: .*IP: 127.0.0.1 is not in the cert's list/,
            );
            assert.equal(door.requests.length, 0);
            const run = await sim.runStep("kv-proof", { env: proofEnv({ vaultAddr: `https://127.0.0.1:${port}`, tlsServerName: "vault.vault.svc" }), secrets });
            assert.equal(run.code, 0, run.stderr);
            assert.deepEqual(door.stored("mysecret/logins/study")?.data, { username: "demo", password });
            const wrong = await sim.runStep("kv-proof", { env: proofEnv({ vaultAddr: `https://127.0.0.1:${port}`, tlsServerName: "other.example" }), secrets });
            assert.equal(wrong.code, 1);
            assert.match(wrong.stderr, /could not verify Vault's certificate at https:\/\/127.0.0.1:\d+ as other.example with the cluster CA/);
        });

        function forwardTo(port: number) {
            sim.change((s) => (s.kube.services["vault/vault"] = { ...s.kube.services["vault/vault"], type: "ClusterIP", backend: `127.0.0.1:${port}` }));
        }
        const forwardEnv = (extra = {}) => proofEnv({ portForwardNamespace: "vault", portForwardService: "vault", portForwardPort: 8200, ...extra });

        it("through a port-forward it opens itself: kubectl's chosen port is used, and the forward is closed afterwards", async () => {
            const port = await start(makePki(["vault.vault.svc"], ["127.0.0.1"]), { unhealthyFor: 1, upgradingWrites: 1 });
            forwardTo(port);
            const run = await sim.runStep("kv-proof", {
                env: forwardEnv(),
                secrets: { rootToken: token, password, caCert: pki.caPem, kubeconfig: sim.kubeconfig } as any,
            });
            assert.equal(run.code, 0, run.stderr);
            assert.deepEqual(door.stored("mysecret/logins/study")?.data, { username: "demo", password });
            assert.equal(sim.forwards.length, 1);
            const [fwd] = sim.forwards;
            assert.deepEqual(fwd.argv, ["port-forward", "-n", "vault", "service/vault", "--address", "127.0.0.1", "--pod-running-timeout=30s", ":8200"]);
            assert.ok(fwd.connections > 0);
            assert.deepEqual(fwd.ended, { code: 143, stderr: "", stoppedByStep: true }, "the step stopped kubectl");
            assert.match(run.stderr, new RegExp(`through https://127.0.0.1:${fwd.localPort}`));
            assertNothingExposed(sim, [token, password]);
        });

        it("closes the forward when the proof fails", async () => {
            const port = await start(makePki(["vault.vault.svc"], ["127.0.0.1"]), { corruptReads: true });
            forwardTo(port);
            const run = await sim.runStep("kv-proof", {
                env: forwardEnv(),
                secrets: { rootToken: token, password, caCert: pki.caPem, kubeconfig: sim.kubeconfig } as any,
            });
            assert.equal(run.code, 1);
            assert.match(run.stderr, /did not return what was written/);
            assert.equal(sim.forwards.length, 1);
            assert.equal(sim.forwards[0].ended?.stoppedByStep, true, "closed on failure too");
        });

        it("opens the forward again when the pod it went to restarts (kubectl does not follow the Service)", async () => {
            const port = await start(makePki(["vault.vault.svc"], ["127.0.0.1"]), { unhealthyFor: 3 });
            forwardTo(port);
            let restarted = false;
            const origin = door.requests;
            // The first pod restarts right after the first health check reached it.
            const push = origin.push.bind(origin);
            origin.push = (...items) => {
                if (!restarted) {
                    restarted = true;
                    sim.recreate(sim.forwards[0].pod!);
                }
                return push(...items);
            };
            const run = await sim.runStep("kv-proof", {
                env: forwardEnv(),
                secrets: { rootToken: token, password, caCert: pki.caPem, kubeconfig: sim.kubeconfig } as any,
            });
            assert.equal(run.code, 0, run.stderr);
            assert.equal(sim.forwards.length, 2, "a second forward was opened");
            assert.deepEqual(sim.forwards[0].ended, { code: 1, stderr: "error: lost connection to pod\n", stoppedByStep: false });
            assert.ok(
                sim.forwards.every((f) => f.ended !== undefined),
                "none is left running",
            );
            assert.match(run.stderr, /opened again \(the pod it went to had gone\)/);
        });

        it("names a refused port-forward with `kubectl auth can-i`", async () => {
            const port = await start(makePki());
            forwardTo(port);
            sim.change((s) => s.kube.forbidden.push("create pods/portforward vault"));
            const refused = await sim.runStep("kv-proof", { env: forwardEnv(), secrets: { rootToken: token, password, caCert: pki.caPem } });
            assert.equal(refused.code, 1);
            assert.match(
                refused.stderr,
                /kubectl port-forward to service\/vault in vault was refused: .*cannot create resource "pods\/portforward".*needs "get" and "create" on pods\/portforward in vault \(`kubectl auth can-i get pods --subresource=portforward -n vault` and the same with create show it\)/,
            );
            assert.ok(sim.forwards.every((f) => f.ended !== undefined));
        });
    });
    describe("as processes: the exact command line, the real Kubectl class, the fake kubectl binary", function () {
        // Each step starts node with ts-node: seconds on a loaded machine, never a correctness question.
        this.timeout(120_000);
        const token = "hvs.process-proof-token";
        const password = "process-proof-password";
        let door: FakeVaultFrontDoor | undefined;
        afterEach(async () => door?.stop());

        it("cluster-facts", async () => {
            sim = await Simulation.create({ clock: "wall" });
            const run = await sim.runStepProcess("cluster-facts", { env: stepEnvironment("cluster-facts", { timeoutSeconds: 30 }) });
            assert.equal(run.code, 0, run.stderr);
            assert.equal(JSON.parse(run.stdout).schedulableNodes, 3);
            assertNothingExposed(sim);
        });

        it("kv-proof through a real background kubectl port-forward, which is gone when the step ends (success and failure)", async () => {
            const pki = makePki(["vault.vault.svc"], ["127.0.0.1"]);
            for (const corruptReads of [false, true]) {
                door = new FakeVaultFrontDoor({ token, pki, corruptReads });
                const port = Number(new URL(await door.start()).port);
                sim = await Simulation.create({ clock: "wall" });
                sim.change((s) => (s.kube.services["vault/vault"] = { ...s.kube.services["vault/vault"], type: "ClusterIP", backend: `127.0.0.1:${port}` }));
                const run = await sim.runStepProcess("kv-proof", {
                    env: stepEnvironment("kv-proof", {
                        vaultAddr: "https://127.0.0.1:8200",
                        kvMount: "mysecret",
                        kvPath: "logins/study",
                        kvUsername: "demo",
                        timeoutSeconds: 20,
                        portForwardNamespace: "vault",
                        portForwardService: "vault",
                        portForwardPort: 8200,
                    }),
                    secrets: { rootToken: token, password, caCert: pki.caPem },
                });
                assert.equal(run.code, corruptReads ? 1 : 0, run.stderr);
                const forwards = fs
                    .readFileSync(path.join(sim.dir, "forwards.jsonl"), "utf8")
                    .trim()
                    .split("\n")
                    .map((l) => JSON.parse(l) as { pid: number });
                assert.equal(forwards.length, 1);
                assert.throws(() => process.kill(forwards[0].pid, 0), /ESRCH/, "kubectl port-forward was stopped");
                const kubeconfigs = sim
                    .calls()
                    .filter((c) => c.tool === "kubectl")
                    .map((c) => c.env.KUBECONFIG);
                for (const file of kubeconfigs) assert.ok(!fs.existsSync(file), `${file} was removed`);
                assertNothingExposed(sim, [token, password]);
                await door.stop();
                door = undefined;
                sim.dispose();
            }
        });
    });
});
