/**
 * The stack plan (components/stackPlan.ts) in both modes: what each component gets from the settings and what the
 * target decided, the values index.ts used to work out branch by branch.
 */
import { strict as assert } from "assert";
import type { ExistingPlan } from "../../components/cluster/existingPlan";
import { parseSettings } from "../../components/config/settings";
import { ingressNginxValues } from "../../components/ingress/ingressNginxValues";
import { renderAssumptions, stackPlan } from "../../components/stackPlan";
import { certManagerChartValues } from "../../components/tls/certManagerMode";

const OWNER = "vault-ha.prod";
const EXISTING = { cluster: "existing", kubeContext: "prod-eu" };

/** What existingPlan decides on a cluster with 3 nodes and no cert-manager, without its report. */
const DECIDED: ExistingPlan = { antiAffinity: "required", certManager: { action: "install" }, nodeAddress: undefined, decided: [], warnings: [], problems: [] };

const settingsOf = (raw: Record<string, string>) => parseSettings(raw).settings;

describe("the stack plan: what each component gets, decided once", () => {
    describe("on kind", () => {
        const plan = stackPlan(settingsOf({}), OWNER);

        it("installs ingress-nginx on kind's host ports; the URLs of Vault's Ingress and whoami carry those ports", () => {
            assert.deepEqual(plan.ingress, {
                source: "install",
                controller: {
                    namespace: "ingress-nginx",
                    chartVersion: settingsOf({}).ingressNginxChartVersion,
                    target: "kind",
                },
            });
            assert.deepEqual(plan.whoami, { namespace: "whoami", skipAwait: false, hostHttpPort: 80 });
            assert.deepEqual(plan.vaultIngress, { host: "vault.localhost", tls: true, hostHttpPort: 80, hostHttpsPort: 443, skipAwait: false });
            const ports = stackPlan(settingsOf({ ingressHttpPort: "8080", ingressHttpsPort: "8443" }), OWNER);
            assert.equal(ports.vaultIngress?.hostHttpsPort, 8443);
            assert.deepEqual(ports.whoami, { namespace: "whoami", skipAwait: false, hostHttpPort: 8080 });
        });

        it("Vault on a NodePort at localhost, nothing outlives the cluster, no owner label on cert-manager, ClusterIssuers", () => {
            assert.equal(plan.vault.serviceType, "NodePort");
            assert.equal(plan.vault.nodeAddress, "localhost");
            assert.equal(plan.vault.antiAffinity, "required");
            assert.deepEqual(plan.vault.resources, {});
            assert.deepEqual(plan.vaultNamespace, { name: "vault", retainOnDelete: false });
            assert.equal(plan.bootstrap.keepKeysOnDestroy, false);
            assert.deepEqual(plan.certManager, {
                use: "install",
                namespace: "cert-manager",
                chartVersion: settingsOf({}).certManagerChartVersion,
                owner: undefined,
                probeInVaultNamespace: false,
            });
            assert.equal(plan.vaultTls?.issuerScope, "cluster");
            assert.deepEqual(plan.proof, { mount: "mysecret" });
            assert.equal(plan.outputPortForwardCommand, false);
        });

        it("ignores what an existing cluster would have decided: kind's choices stay kind's", () => {
            const decided: ExistingPlan = {
                ...DECIDED,
                antiAffinity: "preferred",
                certManager: { action: "use-existing", namespace: "security" },
                nodeAddress: "10.0.0.1",
            };
            assert.deepEqual(stackPlan(settingsOf({}), OWNER, decided), plan);
        });

        it("releases: ingress-nginx, cert-manager and Vault, with kind's values", () => {
            assert.deepEqual(
                plan.releases.map((r) => [r.chart, r.release, r.namespace]),
                [
                    ["ingress-nginx", "ingress-nginx", "ingress-nginx"],
                    ["cert-manager", "cert-manager", "cert-manager"],
                    ["vault", "vault", "vault"],
                ],
            );
            assert.deepEqual(plan.releases[0].values, ingressNginxValues("kind"));
            assert.deepEqual(plan.releases[1].values, certManagerChartValues(undefined));
        });

        it("without TLS: no cert-manager, no CA chain, no cert-manager release", () => {
            const plain = stackPlan(settingsOf({ tls: "false" }), OWNER);
            assert.equal(plain.certManager, undefined);
            assert.equal(plain.vaultTls, undefined);
            assert.deepEqual(
                plain.releases.map((r) => r.chart),
                ["ingress-nginx", "vault"],
            );
        });
    });

    describe("on an existing cluster", () => {
        it("refuses to plan without what was decided from the cluster", () => {
            assert.throws(() => stackPlan(settingsOf(EXISTING), OWNER), /existing cluster needs what was decided/);
            assert.throws(() => stackPlan(settingsOf(EXISTING), OWNER, { ...DECIDED, certManager: undefined }), /needs the cert-manager decision/);
            assert.doesNotThrow(() => stackPlan(settingsOf({ ...EXISTING, tls: "false" }), OWNER, { ...DECIDED, certManager: undefined }));
        });

        it("by default: a load balancer (waited for longer), no ingress, data kept on destroy, cert-manager marked as the stack's, Issuers", () => {
            const plan = stackPlan(settingsOf(EXISTING), OWNER, DECIDED);
            assert.equal(plan.ingress, undefined);
            assert.equal(plan.whoami, undefined);
            assert.equal(plan.vaultIngress, undefined);
            assert.equal(plan.vault.serviceType, "LoadBalancer");
            assert.deepEqual(plan.vault.resources, { cpu: "250m", memory: "256Mi" });
            assert.deepEqual(plan.vaultNamespace, { name: "vault", retainOnDelete: true });
            assert.equal(plan.bootstrap.keepKeysOnDestroy, true);
            assert.deepEqual(plan.proof, { mount: "mysecret", timeoutSeconds: 600 });
            assert.equal(plan.certManager?.use, "install");
            assert.equal(plan.certManager?.use === "install" && plan.certManager.owner, OWNER);
            assert.equal(plan.certManager?.probeInVaultNamespace, true);
            assert.equal(plan.vaultTls?.issuerScope, "namespace");
            assert.deepEqual(plan.releases.find((r) => r.chart === "cert-manager")?.values, certManagerChartValues(OWNER));
        });

        it("takes the cluster's decisions: anti-affinity, a running cert-manager (no release), the node address of a NodePort", () => {
            const decided: ExistingPlan = {
                ...DECIDED,
                antiAffinity: "preferred",
                certManager: { action: "use-existing", namespace: "security" },
                nodeAddress: "198.51.100.7",
            };
            const plan = stackPlan(settingsOf({ ...EXISTING, vaultServiceType: "NodePort", raftVolumesOnDestroy: "delete" }), OWNER, decided);
            assert.equal(plan.vault.antiAffinity, "preferred");
            assert.equal(plan.vault.nodeAddress, "198.51.100.7");
            assert.deepEqual(plan.certManager, { use: "existing", namespace: "security", probeInVaultNamespace: true });
            assert.deepEqual(
                plan.releases.map((r) => r.chart),
                ["vault"],
            );
            assert.deepEqual(plan.vaultNamespace, { name: "vault", retainOnDelete: false });
            assert.equal(plan.proof.timeoutSeconds, undefined);
        });

        it("an ingress class the cluster has: its Ingresses not awaited, whoami at the ingress host, standard ports", () => {
            const plan = stackPlan(
                settingsOf({ ...EXISTING, ingress: "existing", ingressClassName: "public", ingressHost: "vault.example.com", vaultServiceType: "ClusterIP" }),
                OWNER,
                DECIDED,
            );
            assert.deepEqual(plan.ingress, { source: "existing", className: "public" });
            assert.deepEqual(plan.whoami, { namespace: "whoami", skipAwait: true, host: "vault.example.com" });
            assert.deepEqual(plan.vaultIngress, { host: "vault.example.com", tls: true, hostHttpPort: 80, hostHttpsPort: 443, skipAwait: true });
            assert.equal(plan.outputPortForwardCommand, true);
            assert.equal(
                plan.releases.some((r) => r.chart === "ingress-nginx"),
                false,
            );
        });

        it("ingress-nginx installed: behind a LoadBalancer Service, awaited", () => {
            const plan = stackPlan(settingsOf({ ...EXISTING, ingress: "install", ingressHost: "vault.example.com" }), OWNER, DECIDED);
            assert.equal(plan.ingress?.source === "install" && plan.ingress.controller.target, "existing");
            assert.deepEqual(plan.releases[0].values, ingressNginxValues("existing"));
            assert.equal(plan.vaultIngress?.skipAwait, false);
        });
    });

    describe("what render assumes without a cluster", () => {
        it("the chart's required anti-affinity unless set, cert-manager installed with TLS, no node address", () => {
            assert.deepEqual(renderAssumptions(settingsOf(EXISTING)), { antiAffinity: "required", certManager: { action: "install" }, nodeAddress: undefined });
            assert.deepEqual(renderAssumptions(settingsOf({ ...EXISTING, antiAffinity: "preferred", tls: "false" })), {
                antiAffinity: "preferred",
                certManager: undefined,
                nodeAddress: undefined,
            });
        });
    });
});
