/**
 * The existing-cluster steps against the SIMULATOR: cluster-facts on several cluster shapes and permissions,
 * vault-address waiting for a load balancer, and the kv proof through each exposure (a node's address, a load
 * balancer's bare IP verified as a name the certificate holds, and a port-forward the step opens and always closes).
 * The Services are the ones the chart renders for the program's values in each exposure mode, and the steps are given
 * the program's own names for them (API_SERVICE, PORT_FORWARD_SERVICE), so a wrong name in the program fails here.
 * Simulated time throughout: the waits cost nothing, and nothing depends on the machine's speed.
 */
import { strict as assert } from "assert";
import type { ClusterFacts } from "../../components/stepCommand/contract";
import { stepEnvironment } from "../../components/stepCommand/contract";
import { API_SERVICE, PORT_FORWARD_SERVICE } from "../../components/vault/exposure";
import { requireRenderedPods, Simulation, SimulationOptions } from "../doubles/vault/harness";
import { FakeVaultFrontDoor, makePki, TestPki } from "../doubles/vault/frontDoor";
import { assertNothingExposed } from "../doubles/vault/exposure";

/* eslint-disable @typescript-eslint/no-require-imports */
const { giveLoadBalancer, installCertManager } = require("../doubles/vault/kubeObjects.js");
const cli = require("../doubles/vault/cli.js");
const model = require("../doubles/vault/model.js");

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
                // The simulator's discovery serves no monitoring.coreos.com (kubectl api-resources prints nothing).
                prometheusOperator: false,
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

    describe("vault-address, on the API Service the chart renders (API_SERVICE)", () => {
        const env = (timeoutSeconds = 600) => stepEnvironment("vault-address", { namespace: "vault", service: API_SERVICE, timeoutSeconds });
        const loadBalancer = (afterMs: number | null, ingress: object[]) => (s: any) => giveLoadBalancer(s, `vault/${API_SERVICE}`, afterMs, ingress);
        const exposed = { chart: { serviceType: "LoadBalancer" as const } };

        it("the chart renders the program's API Service with the type vaultServiceType sets, beside vault, vault-active, vault-standby and vault-internal", async () => {
            sim = await Simulation.create(exposed);
            const services = sim.state().kube.services;
            assert.deepEqual(Object.keys(services).sort(), [
                "vault/vault",
                "vault/vault-active",
                "vault/vault-internal",
                "vault/vault-standby",
                "vault/vault-ui",
            ]);
            assert.equal(services[`vault/${API_SERVICE}`].type, "LoadBalancer");
            assert.equal(services[`vault/${PORT_FORWARD_SERVICE}`].type, "ClusterIP");
            assert.equal(services[`vault/${PORT_FORWARD_SERVICE}`].selector["vault-active"], "true");
        });

        it("waits until the load balancer has an IP, and returns it", async () => {
            sim = await Simulation.create(exposed);
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
            sim = await Simulation.create(exposed);
            sim.change(loadBalancer(0, [{ hostname: "a1b2c3.elb.eu-west-1.amazonaws.com" }]));
            const run = await sim.runStep("vault-address", { env: env() });
            assert.deepEqual(JSON.parse(run.stdout), { address: "a1b2c3.elb.eu-west-1.amazonaws.com" });
        });

        it("times out when no controller ever gives an address, naming the service, what was awaited and the likely cause", async () => {
            sim = await Simulation.create(exposed);
            sim.change(loadBalancer(null, []));
            const run = await sim.runStep("vault-address", { env: env(120) });
            assert.equal(run.code, 1);
            assert.match(
                run.stderr,
                /timed out after 1\d\ds waiting for a load balancer address for service vault-ui in namespace vault \(status.loadBalancer.ingress\[0\].ip or .hostname\); last seen: no ingress point yet/,
            );
            assert.match(run.stderr, /No load balancer controller in this cluster\?/);
        });

        it("refuses at once the API Service of a chart rendered with NodePort or ClusterIP, which no controller gives an address", async () => {
            for (const serviceType of ["NodePort", "ClusterIP"] as const) {
                sim = await Simulation.create({ chart: { serviceType } });
                assert.throws(
                    () => sim.change(loadBalancer(0, [{ ip: "203.0.113.10" }])),
                    new RegExp(`is of type ${serviceType}: no load balancer controller serves it`),
                );
                const run = await sim.runStep("vault-address", { env: env() });
                assert.equal(run.code, 1);
                assert.match(run.stderr, new RegExp(`service vault-ui in namespace vault is of type ${serviceType}, not LoadBalancer`));
                sim.dispose();
            }
        });
    });

    describe("the kv proof through each exposure (fake Vault over real TLS, simulated time)", () => {
        const token = "hvs.existing-cluster-proof-token";
        const password = "generated-password-for-the-existing-proof";
        let door: FakeVaultFrontDoor;
        let pki: TestPki;
        afterEach(async () => door?.stop());

        async function start(p: TestPki, options: Partial<ConstructorParameters<typeof FakeVaultFrontDoor>[0]> = {}, simOptions: SimulationOptions = {}) {
            pki = p;
            door = new FakeVaultFrontDoor({ token, pki, ...options });
            const addr = await door.start();
            sim = await Simulation.create(simOptions);
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

        /** The fake Vault answers for whichever pod the forward reaches (the record says which pod that was). */
        function forwardTo(port: number) {
            sim.change((s) => (s.kube.services[`vault/${PORT_FORWARD_SERVICE}`].backend = `127.0.0.1:${port}`));
        }
        const forwardEnv = (extra = {}) =>
            proofEnv({ portForwardNamespace: "vault", portForwardService: PORT_FORWARD_SERVICE, portForwardPort: 8200, ...extra });
        const clusterIp: SimulationOptions = { chart: { serviceType: "ClusterIP" } };
        /** A ClusterIP Vault, bootstrapped in the simulator: one pod is active and labelled so by Vault. */
        async function startBootstrapped(p: TestPki, options: Partial<ConstructorParameters<typeof FakeVaultFrontDoor>[0]> = {}) {
            const port = await start(p, options, clusterIp);
            await sim.bootstrap();
            forwardTo(port);
            return port;
        }
        /** `kubectl get pods -l vault-active=true`: the pods Vault labelled active, by name. */
        function labelledActive(): string[] {
            const r = cli.kubectl(sim.state(), ["get", "pods", "-n", "vault", "-l", "vault-active=true", "-o", "json"], {
                kubeconfig: sim.kubeconfig,
                stdin: "",
            });
            return JSON.parse(r.stdout).items.map((p: any) => p.metadata.name);
        }

        it("through a port-forward it opens itself: kubectl's chosen port is used, and the forward is closed afterwards", async () => {
            await startBootstrapped(makePki(["vault.vault.svc"], ["127.0.0.1"]), { unhealthyFor: 1, upgradingWrites: 1 });
            const run = await sim.runStep("kv-proof", {
                env: forwardEnv(),
                secrets: { rootToken: token, password, caCert: pki.caPem, kubeconfig: sim.kubeconfig } as any,
            });
            assert.equal(run.code, 0, run.stderr);
            assert.deepEqual(door.stored("mysecret/logins/study")?.data, { username: "demo", password });
            assert.equal(sim.forwards.length, 1);
            const [fwd] = sim.forwards;
            assert.deepEqual(fwd.argv, ["port-forward", "-n", "vault", "service/vault-active", "--address", "127.0.0.1", "--pod-running-timeout=30s", ":8200"]);
            assert.equal(fwd.pod, sim.state().active, "the forward went to the active pod");
            assert.ok(fwd.connections > 0);
            assert.deepEqual(fwd.ended, { code: 143, stderr: "", stoppedByStep: true }, "the step stopped kubectl");
            assert.match(run.stderr, new RegExp(`through https://127.0.0.1:${fwd.localPort}`));
            assertNothingExposed(sim, [token, password]);
        });

        it("closes the forward when the proof fails", async () => {
            await startBootstrapped(makePki(["vault.vault.svc"], ["127.0.0.1"]), { corruptReads: true });
            const run = await sim.runStep("kv-proof", {
                env: forwardEnv(),
                secrets: { rootToken: token, password, caCert: pki.caPem, kubeconfig: sim.kubeconfig } as any,
            });
            assert.equal(run.code, 1);
            assert.match(run.stderr, /did not return what was written/);
            assert.equal(sim.forwards.length, 1);
            assert.equal(sim.forwards[0].ended?.stoppedByStep, true, "closed on failure too");
        });

        it("opens the forward again when the pod it went to is recreated (kubectl does not follow the Service), to the newly elected active pod", async () => {
            await startBootstrapped(makePki(["vault.vault.svc"], ["127.0.0.1"]), { unhealthyFor: 3 });
            const first = sim.state().active;
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
            assert.equal(sim.forwards[0].pod, first);
            const second = sim.state().active;
            assert.ok(second && second !== first, `leadership moved from ${first} (to ${second})`);
            assert.equal(sim.forwards[1].pod, second, "the new forward went to the new active pod");
        });

        it("names a refused port-forward with `kubectl auth can-i`", async () => {
            await startBootstrapped(makePki());
            sim.change((s) => s.kube.forbidden.push("create pods/portforward vault"));
            const refused = await sim.runStep("kv-proof", { env: forwardEnv(), secrets: { rootToken: token, password, caCert: pki.caPem } });
            assert.equal(refused.code, 1);
            assert.match(
                refused.stderr,
                /kubectl port-forward to service\/vault-active in vault was refused: .*cannot create resource "pods\/portforward".*needs "get" and "create" on pods\/portforward in vault \(`kubectl auth can-i get pods --subresource=portforward -n vault` and the same with create show it\)/,
            );
            assert.ok(sim.forwards.every((f) => f.ended !== undefined));
        });

        it("after the full bootstrap in the simulator, the proof's forward to PORT_FORWARD_SERVICE reaches the active pod; after a step-down and after the active pod restarts, the next forward reaches the new one", async () => {
            const port = await start(makePki(["vault.vault.svc"], ["127.0.0.1"]), {}, { ...clusterIp, tls: true });
            const outcome = await sim.bootstrap();
            assert.equal(outcome.peers.filter((p) => p.leader).length, 1);
            forwardTo(port);
            const secrets = { rootToken: token, password, caCert: pki.caPem };
            const proof = async () => {
                const run = await sim.runStep("kv-proof", { env: forwardEnv(), secrets });
                assert.equal(run.code, 0, run.stderr);
                assert.deepEqual(door.stored("mysecret/logins/study")?.data, { username: "demo", password });
                return sim.forwards[sim.forwards.length - 1];
            };

            // Vault labelled its own pod: exactly the active one carries vault-active=true, the others false.
            const first = sim.state().active;
            assert.deepEqual(labelledActive(), [first]);
            for (const pod of sim.pods) {
                const labels = sim.state().pods[pod].labels;
                assert.equal(labels["vault-active"], String(pod === first));
                assert.equal(labels["vault-sealed"], "false");
                assert.equal(labels["vault-initialized"], "true");
                assert.equal(labels["vault-perf-standby"], "false");
            }
            assert.equal((await proof()).pod, first, "the forward went to the active pod");

            // A step-down moves the leadership; a new forward follows Vault's labels to the new active pod.
            sim.change((s) => model.stepDown(s, first, s.cluster.rootToken));
            assert.deepEqual(labelledActive(), [], "no pod is labelled active until the election");
            await sim.wait(5000);
            const second = sim.state().active;
            assert.ok(second && second !== first, `a new leader after the step-down (${second})`);
            assert.deepEqual(labelledActive(), [second]);
            assert.equal((await proof()).pod, second, "the next forward went to the new active pod");

            // The active pod's container crashes: its label is stale (it still says active) until its new process
            // starts; the forward is refused while that pod is not running, waits for a pod to be labelled active,
            // and reaches the pod raft elects.
            const before = sim.forwards.length;
            sim.restart(second);
            assert.deepEqual(labelledActive(), [second], "a crash leaves Vault's last labels");
            const third = await proof();
            const now = sim.state();
            assert.ok(now.active && now.active !== second, `a new leader after the restart (${now.active})`);
            assert.equal(third.pod, now.active, "the forward after the restart went to the pod elected since");
            assert.ok(sim.forwards.slice(before).every((f) => f.pod !== second));
            assert.match(
                sim.forwards[before].ended?.stderr ?? "",
                /unable to forward port because pod is not running/,
                "the stale label led kubectl to the crashed pod first",
            );
            assert.equal(now.pods[second].labels["vault-active"], "false", "its new Vault process wrote the pre-running state");
            assert.equal(now.pods[second].labels["vault-sealed"], "true");
            assert.equal(now.pods[second].labels["vault-initialized"], "false");
            assert.ok(
                sim.forwards.every((f) => f.ended !== undefined),
                "none is left running",
            );
            assertNothingExposed(sim, [token, password]);
        });

        it("with no pod labelled active, kubectl waits --pod-running-timeout for one and fails as kubectl does; the step says what it waited for", async () => {
            await start(makePki(), {}, clusterIp);
            forwardTo(1);
            const started = sim.clock.now();
            const run = await sim.runStep("kv-proof", { env: forwardEnv(), secrets: { rootToken: token, password, caCert: pki.caPem } });
            assert.equal(run.code, 1);
            assert.equal(sim.forwards.length, 1, "one kubectl, which waited its whole --pod-running-timeout");
            assert.deepEqual(sim.forwards[0].ended, { code: 1, stderr: "error: timed out waiting for the condition\n", stoppedByStep: false });
            assert.ok(sim.clock.now() - started >= 30_000, "kubectl waited 30s (--pod-running-timeout=30s)");
            assert.match(
                run.stderr,
                /timed out after 30s waiting for kubectl port-forward to service\/vault-active in vault to listen on 127.0.0.1; last seen: .*timed out waiting for the condition/,
            );
            assert.equal(door.requests.length, 0, "nothing reached Vault");
        });
    });
});
