/**
 * Issue 13 under Pulumi mocks: index.ts with `cluster: existing`. No kind resource at all; one provider built from
 * the context's kubeconfig; nothing `deletedWith` a cluster that is not vault-ha's; each exposure mode's outputs and
 * proof; what the live cluster reports (cluster-facts) deciding anti-affinity, cert-manager and the storage check
 * before anything is registered; the Vault namespace kept or not on destroy.
 */
import { strict as assert } from "assert";
import { KUBECONFIG_SCRIPT } from "../../components/cluster/kubeconfig";
import type { ClusterFacts } from "../../components/stepCommand/contract";
import {
    COMMAND,
    FAKE_CA,
    FAKE_EXISTING_KUBECONFIG,
    FAKE_FACTS,
    FAKE_LB_ADDRESS,
    ProgramRun,
    PROVIDER,
    providerUrn,
    RELEASE,
    runProgram,
} from "../support/program";

const EXISTING = { cluster: "existing", kubeContext: "prod-eu" };
const facts = (change: Partial<ClusterFacts>): ClusterFacts => ({ ...FAKE_FACTS, ...change });
/** The kubeconfig invoke, and its environment. */
const kubeconfigInvoke = (run: ProgramRun) => run.invokes.find((i) => i.token === "command:local:run" && i.inputs.command === KUBECONFIG_SCRIPT);

async function refusal(config: Record<string, string>, answers: Record<string, unknown>): Promise<{ message: string; registered: number }> {
    try {
        await runProgram({ ...EXISTING, ...config }, [], answers);
    } catch (err) {
        return { message: (err as Error).message, registered: ((err as { registrations?: unknown[] }).registrations ?? []).length };
    }
    assert.fail("expected the program to stop");
}

describe("program on an existing cluster (cluster: existing)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram(EXISTING);
    });

    describe("the cluster is the user's", () => {
        it("creates no kind cluster, shape record or kind component", () => {
            assert.equal(run.registrations.filter((r) => r.type.startsWith("vault-ha:kind:")).length, 0);
            assert.equal(run.all(COMMAND).filter((c) => c.name.startsWith("kind-")).length, 0);
            assert.equal(run.invokes.filter((i) => /docker|kind get/.test(String(i.inputs.command))).length, 0, "no docker or kind is asked");
            assert.equal(run.one("vault-ha:cluster:ExistingCluster").name, "cluster");
        });

        it("reads the context with kubectl config view --minify --flatten: the context in the environment, nothing secret on the command line", () => {
            const invoke = kubeconfigInvoke(run);
            assert.ok(invoke, "the kubeconfig is read");
            assert.match(invoke.inputs.command, /kubectl config view --raw --minify --flatten/);
            assert.deepEqual(invoke.inputs.environment, { VAULT_HA_KUBE_CONTEXT: "prod-eu" });
            assert.equal(invoke.inputs.stdin, undefined, "the user's own kubeconfig: kubectl reads it, nothing on stdin");
            assert.equal(invoke.inputs.logging, "stderr", "stdout holds credentials and is never logged");
        });

        it("builds one provider from that kubeconfig, a secret, and uses it for everything in the cluster", () => {
            const provider = run.one(PROVIDER, "cluster-k8s");
            assert.equal(provider.inputs.kubeconfig, FAKE_EXISTING_KUBECONFIG);
            // Replaced only when the API server changes, not when a token or the CA rotates.
            assert.equal(provider.inputs.clusterIdentifier, "https://203.0.113.5:6443");
            assert.ok(provider.secretInputs.includes("kubeconfig"));
            const inCluster = run.registrations.filter((r) => r.type.startsWith("kubernetes:") && r.custom);
            assert.ok(inCluster.length > 5);
            for (const r of inCluster) assert.equal(providerUrn(r.provider), provider.urn, `${r.name} uses the cluster's provider`);
            assert.equal(run.all(PROVIDER).length, 1, "no ambient provider sneaks in");
        });

        it("hands nothing deletedWith: destroy deletes each object in turn", () => {
            for (const r of run.registrations) assert.equal(r.deletedWith, "", `${r.name} is not deletedWith anything`);
        });

        it("passes the steps the context's kubeconfig on stdin, never in their environment", () => {
            const wait = run.one(COMMAND, "bootstrap-wait-pods");
            assert.ok(wait.secretInputs.includes("stdin"));
            assert.equal(JSON.parse(wait.inputs.stdin).kubeconfig, FAKE_EXISTING_KUBECONFIG);
            for (const c of run.all(COMMAND)) assert.ok(!JSON.stringify(c.inputs.environment ?? {}).includes("FAKE-EXISTING-CLUSTER-TOKEN"), c.name);
        });

        it("exports the kubeconfig as a secret and names the context and its cluster", () => {
            assert.deepEqual(run.outputs.kubeconfig, { value: FAKE_EXISTING_KUBECONFIG, secret: true });
            assert.equal(run.outputs.kubeContext.value, "prod-eu");
            assert.equal(run.outputs.clusterName.value, "prod-eu-cluster");
            assert.equal(run.outputs.cluster.value, "existing");
        });
    });

    describe("what auto chooses here", () => {
        it("no ingress and no whoami, the chart's example resources, one pod per node", () => {
            assert.deepEqual(
                run
                    .all(RELEASE)
                    .map((r) => r.name)
                    .sort(),
                ["cert-manager-release", "vault-release"],
                "no ingress-nginx",
            );
            assert.equal(run.registrations.filter((r) => r.type === "vault-ha:ingress:Whoami" || r.type === "vault-ha:ingress:VaultIngress").length, 0);
            const server = run.one(RELEASE, "vault-release").inputs.values.server;
            assert.deepEqual(server.resources, { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "256Mi" } });
            assert.equal(server.affinity, undefined, "the chart's required anti-affinity: 3 schedulable nodes for 3 pods");
        });

        it("installs cert-manager, marked as this stack's, where none runs (a plain Release, so the label reaches Helm)", () => {
            const release = run.one(RELEASE, "cert-manager-release");
            assert.equal(release.inputs.values.global.commonLabels["vault-ha.dev/owner"], "vault-ha.dev");
            assert.equal(run.all("kubernetes-cert-manager:index:CertManager").length, 0);
        });

        it("issues the CA with Issuers in Vault's namespace: nothing cluster-wide another stack could collide with", () => {
            assert.equal(run.registrations.filter((r) => r.type === "kubernetes:cert-manager.io/v1:ClusterIssuer").length, 0);
            assert.equal(run.all("kubernetes:cert-manager.io/v1:Issuer").length, 2);
        });

        it("gates on cert-manager's webhook with an Issuer probe in Vault's namespace, after that namespace", () => {
            const gate = run.one(COMMAND, "cert-manager-webhook-ready");
            assert.equal(gate.inputs.environment.VAULT_HA_PROBE_NAMESPACE, "vault");
            assert.ok(gate.dependencies.includes(run.one("kubernetes:core/v1:Namespace", "vault-namespace-ns").urn));
        });

        it("on destroy, deletes the secrets cert-manager wrote for the CA chain, after every Certificate is gone", () => {
            const cleanup = run.one(COMMAND, "vault-tls-secrets-cleanup");
            assert.equal(cleanup.inputs.create, undefined, "nothing runs on create");
            assert.match(cleanup.inputs.delete, /cli\.ts delete-secrets$/);
            assert.equal(cleanup.inputs.environment.VAULT_HA_SECRET_NAMES, "vault-ha-ca,vault-server-tls");
            assert.equal(cleanup.inputs.environment.VAULT_HA_NAMESPACE, "vault");
            assert.ok(cleanup.secretInputs.includes("stdin"));
            // Pulumi deletes dependents first: the chain depends on the cleanup, so the cleanup runs last.
            assert.ok(run.one("kubernetes:cert-manager.io/v1:Issuer", "vault-tls-selfsigned-issuer").dependencies.includes(cleanup.urn));
        });

        it("keeps the Vault namespace (and the raft volume claims in it) on destroy", () => {
            assert.equal(run.one("kubernetes:core/v1:Namespace", "vault-namespace-ns").retainOnDelete, true);
        });
    });

    describe("exposure", () => {
        it("LoadBalancer (the default): vaultAddr is the awaited address, verified as a name the certificate holds", () => {
            const address = run.one(COMMAND, "vault-address");
            assert.equal(address.inputs.environment.VAULT_HA_SERVICE, "vault-ui");
            assert.equal(run.outputs.vaultAddr.value, `https://${FAKE_LB_ADDRESS}:8200`);
            const env = String(run.outputs.vaultEnv.value);
            assert.match(env, new RegExp(`^export VAULT_ADDR=https://${FAKE_LB_ADDRESS.replace(/\./g, "\\.")}:8200$`, "m"));
            // A name the certificate holds (its first: the Service's short name).
            assert.match(env, /^export VAULT_TLS_SERVER_NAME=vault$/m);
            const proof = run.one(COMMAND, "kv-proof-roundtrip").inputs;
            assert.equal(proof.environment.VAULT_HA_VAULT_ADDR, `https://${FAKE_LB_ADDRESS}:8200`);
            assert.equal(proof.environment.VAULT_HA_TLS_SERVER_NAME, "vault");
            assert.equal(proof.environment.VAULT_HA_TIMEOUT_SECONDS, "600", "a new load balancer's name may take minutes to resolve");
            assert.equal(JSON.parse(proof.stdin).kubeconfig, undefined, "no port-forward: the proof gets no kubeconfig");
            assert.ok(run.one(COMMAND, "kv-proof-roundtrip").dependencies.includes(address.urn), "the proof waits for the address it goes to");
            assert.ok(address.dependencies.includes(run.one(RELEASE, "vault-release").urn), "the address is awaited after the release");
        });

        it("an address already in the certificate needs no server name", async () => {
            const named = await runProgram({ ...EXISTING, tlsExtraNames: JSON.stringify([FAKE_LB_ADDRESS]) });
            assert.ok(!String(named.outputs.vaultEnv.value).includes("VAULT_TLS_SERVER_NAME"));
            assert.equal(named.one(COMMAND, "kv-proof-roundtrip").inputs.environment.VAULT_HA_TLS_SERVER_NAME, undefined);
        });

        it("NodePort: a schedulable node's address and the NodePort", async () => {
            const nodePort = await runProgram({ ...EXISTING, vaultServiceType: "NodePort" });
            assert.equal(nodePort.outputs.vaultAddr.value, "https://198.51.100.7:30000");
            assert.equal(nodePort.all(COMMAND).filter((c) => c.name === "vault-address").length, 0);
            assert.equal(nodePort.one(RELEASE, "vault-release").inputs.values.ui.serviceType, "NodePort");
        });

        it("ClusterIP: 127.0.0.1 through a port-forward, which the proof opens itself with the kubeconfig", async () => {
            const clusterIp = await runProgram({ ...EXISTING, vaultServiceType: "ClusterIP" });
            assert.equal(clusterIp.outputs.vaultAddr.value, "https://127.0.0.1:8200");
            assert.equal(clusterIp.outputs.portForwardCommand.value, "kubectl --context prod-eu -n vault port-forward service/vault-active 8200:8200");
            const proof = clusterIp.one(COMMAND, "kv-proof-roundtrip").inputs;
            assert.equal(proof.environment.VAULT_HA_PORT_FORWARD_SERVICE, "vault-active");
            assert.equal(proof.environment.VAULT_HA_PORT_FORWARD_NAMESPACE, "vault");
            assert.equal(proof.environment.VAULT_HA_PORT_FORWARD_PORT, "8200");
            assert.equal(proof.environment.VAULT_HA_TLS_SERVER_NAME, undefined, "127.0.0.1 is in the certificate");
            assert.equal(JSON.parse(proof.stdin).kubeconfig, FAKE_EXISTING_KUBECONFIG);
            assert.equal(clusterIp.one(RELEASE, "vault-release").inputs.values.ui.serviceType, "ClusterIP");
        });
    });

    describe("decided from the live cluster, before anything is registered", () => {
        it("too few nodes for one pod each: preferred anti-affinity, with a warning", async () => {
            const few = await runProgram(EXISTING, [], { "cluster-facts": facts({ schedulableNodes: 2 }) });
            const affinity = String(few.one(RELEASE, "vault-release").inputs.values.server.affinity);
            assert.match(affinity, /preferredDuringSchedulingIgnoredDuringExecution/);
            assert.ok(few.warnings.some((w) => /2 schedulable node\(s\) for 3 Vault pods/.test(w)));
        });

        it("once the pods run, auto keeps their anti-affinity: a node that comes or goes rolls nothing", async () => {
            const keep = await runProgram(EXISTING, [], { "pod-templates": { pods: [], antiAffinity: "preferred" } });
            assert.match(String(keep.one(RELEASE, "vault-release").inputs.values.server.affinity), /preferredDuringSchedulingIgnoredDuringExecution/);
            assert.ok(keep.warnings.some((w) => /keep the preferred anti-affinity they were made with/.test(w)));
            const readFirst = keep.invokes.findIndex((i) => /cli\.ts pod-templates$/.test(String(i.inputs.command)));
            assert.ok(readFirst >= 0 && readFirst < keep.invokes.findIndex((i) => /cli\.ts pod-identities$/.test(String(i.inputs.command))));
        });

        it("required anti-affinity with too few nodes stops the up, nothing registered", async () => {
            const { message, registered } = await refusal({ antiAffinity: "required" }, { "cluster-facts": facts({ schedulableNodes: 2 }) });
            assert.match(message, /vault-ha:antiAffinity is required, but the cluster has 2 schedulable node\(s\) for 3 Vault pods/);
            assert.match(message, /nothing was created/);
            assert.equal(registered, 0);
        });

        it("a missing StorageClass stops the up, naming the ones there are", async () => {
            const { message, registered } = await refusal({ storageClass: "fast" }, {});
            assert.match(message, /vault-ha:storageClass fast does not exist in the cluster \(it has gp3\)/);
            assert.match(message, /Fix: npm run config -- set vault-ha:storageClass gp3, or npm run config -- rm vault-ha:storageClass for the default/);
            assert.equal(registered, 0);
        });

        it("no default StorageClass and none named stops the up", async () => {
            const { message } = await refusal({}, { "cluster-facts": facts({ storageClasses: [{ name: "slow", isDefault: false }] }) });
            assert.match(message, /the cluster has no default StorageClass/);
        });

        it("uses a cert-manager that runs and is not ours: no chart, the gate only, its namespace for the CA", async () => {
            const foreign = await runProgram(EXISTING, [], {
                "cluster-facts": facts({ certManager: { crds: true, webhookReady: true, namespace: "security" } }),
            });
            assert.equal(foreign.all("kubernetes-cert-manager:index:CertManager").length, 0);
            assert.equal(foreign.all("kubernetes:core/v1:Namespace").filter((n) => n.name === "cert-manager-ns").length, 0);
            assert.equal(foreign.one(COMMAND, "cert-manager-webhook-ready").name, "cert-manager-webhook-ready");
            // The CA lives in Vault's namespace, under Issuers of its own: nothing in the other team's namespace.
            const chain = foreign.registrations.filter((r) => r.type.startsWith("kubernetes:cert-manager.io/v1:"));
            assert.deepEqual(chain.map((r) => `${r.type.split(":").pop()} ${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`).sort(), [
                "Certificate vault/vault-ha-ca",
                "Certificate vault/vault-server",
                "Issuer vault/vault-ha-ca",
                "Issuer vault/vault-ha-selfsigned",
            ]);
        });

        it("refuses to install a second cert-manager next to a foreign one", async () => {
            const { message, registered } = await refusal(
                { certManager: "install" },
                { "cluster-facts": facts({ certManager: { crds: true, webhookReady: true, namespace: "security" } }) },
            );
            assert.match(message, /a cert-manager is already running in namespace security/);
            // cert-manager's refusal carries its own fix, as every problem of the plan does.
            assert.match(message, /will not install one\. Fix: to use it: npm run config -- set vault-ha:certManager existing, or uninstall it first$/m);
            assert.equal(registered, 0);
        });

        it("a context that cannot be read stops the up, naming it and the way to find the right one", async () => {
            const { message, registered } = await refusal({}, { kubeconfig: new Error("error: context was not found for specified context: prod-eu") });
            assert.match(message, /could not read context prod-eu from the kubeconfig \((KUBECONFIG|~\/\.kube\/config)\) with kubectl config view/);
            assert.match(message, /Fix: kubectl config get-contexts -o name, then npm run config -- set vault-ha:kubeContext <one of them>/);
            assert.equal(registered, 0);
        });
    });

    describe("configuration", () => {
        it("a kubeconfig given as a secret goes to kubectl on stdin, never as an argument or environment value", async () => {
            const given = "apiVersion: v1\nkind: Config\ncurrent-context: other\n";
            const withSecret = await runProgram({ cluster: "existing", kubeconfig: given }, ["kubeconfig"]);
            const invoke = kubeconfigInvoke(withSecret)!;
            assert.equal(invoke.inputs.stdin, given);
            assert.deepEqual(invoke.inputs.environment, { VAULT_HA_KUBECONFIG_ON_STDIN: "1" });
            assert.ok(!invoke.inputs.command.includes("current-context: other"));
        });

        it("raftVolumesOnDestroy: delete lets the namespace (and the claims) go with the stack, and the keys with them", async () => {
            const deleting = await runProgram({ ...EXISTING, raftVolumesOnDestroy: "delete" });
            assert.equal(deleting.one("kubernetes:core/v1:Namespace", "vault-namespace-ns").retainOnDelete, false);
            assert.equal(deleting.one(COMMAND, "bootstrap-init").inputs.environment.VAULT_HA_KEEP_KEYS_IN, undefined);
        });

        it("raftVolumesOnDestroy: keep (the default) keeps the keys that open the kept volumes: destroy moves them to the backups", () => {
            const init = run.one(COMMAND, "bootstrap-init");
            assert.match(init.inputs.delete, /cli\.ts forget-keys$/);
            assert.equal(init.inputs.environment.VAULT_HA_KEEP_KEYS_IN, "backups/vault-ha.dev");
        });

        it("ingress install puts ingress-nginx behind a load balancer, and whoami at the ingress host", async () => {
            const withIngress = await runProgram({ ...EXISTING, ingress: "install" });
            const values = withIngress.one(RELEASE, "ingress-nginx-release").inputs.values;
            assert.equal(values.controller.service.type, "LoadBalancer");
            assert.equal(withIngress.outputs.whoamiUrl.value, "http://vault.localhost/_whoami");
            assert.equal(withIngress.outputs.ingressUrl.value, "https://vault.localhost");
        });

        it("ingress existing uses the given class, installs no controller, and does not wait for an address it may never publish", async () => {
            const existing = await runProgram({ ...EXISTING, ingress: "existing", ingressClassName: "traefik", ingressHost: "vault.example.com" });
            assert.equal(existing.all(RELEASE).filter((r) => r.name.startsWith("ingress-nginx")).length, 0);
            const ingresses = existing.all("kubernetes:networking.k8s.io/v1:Ingress");
            assert.deepEqual(ingresses.map((i) => i.name).sort(), ["vault-ingress-ingress", "whoami-ingress"]);
            for (const ingress of ingresses) {
                assert.equal(ingress.inputs.spec.ingressClassName, "traefik");
                assert.equal(ingress.inputs.metadata.annotations["pulumi.com/skipAwait"], "true", ingress.name);
            }
            // With vault-ha's own controller the address is published (--publish-service): the await stays.
            const installed = await runProgram({ ...EXISTING, ingress: "install", ingressHost: "vault.example.com" });
            for (const ingress of installed.all("kubernetes:networking.k8s.io/v1:Ingress")) {
                assert.equal(ingress.inputs.metadata.annotations?.["pulumi.com/skipAwait"], undefined, ingress.name);
            }
        });

        it("the CA is exported as on kind", () => {
            assert.equal(run.outputs.caCert.value, FAKE_CA);
        });
    });
});
