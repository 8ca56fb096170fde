/**
 * vault-ha: a HashiCorp Vault HA (raft) cluster, initialised, unsealed and proven, from one `pulumi up`: on a kind
 * cluster it creates (the lab), or on a Kubernetes cluster you already have (`cluster: existing`).
 * This file only reads the configuration, wires the components together and returns the outputs. It is async
 * because on an existing cluster the program first asks the cluster what it offers (components/cluster/target.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { CertManager } from "./components/tls/certManager";
import { existingTarget, kindTarget } from "./components/cluster/target";
import { IngressNginx } from "./components/ingress/ingressNginx";
import { KvProof } from "./components/vault/kvProof";
import { loadSettings } from "./components/config/settings";
import { ownerLabelValue } from "./components/kind/kindConfig";
import { stackPlan } from "./components/stackPlan";
import { isAutoSealPlan } from "./components/seal/sealPlan";
import { VaultBootstrap } from "./components/vault/vaultBootstrap";
import { VaultCluster } from "./components/vault/vaultCluster";
import { VaultIngress } from "./components/vault/vaultIngress";
import { VaultNamespace } from "./components/vault/vaultNamespace";
import { VaultTls } from "./components/tls/vaultTls";
import { Whoami } from "./components/ingress/whoami";
import { EnvoyGateway } from "./components/gateway/envoyGateway";
import { VaultRoute } from "./components/gateway/vaultRoute";
import { InClusterUnsealer } from "./components/unsealer/inClusterUnsealer";

async function main() {
    // Validates everything first: bad input stops here, before any resource is registered.
    const { settings, adopted, kubeconfig: givenKubeconfig, sealTransitToken } = loadSettings();
    const owner = ownerLabelValue(pulumi.getProject(), pulumi.getStack());

    const target = settings.cluster === "kind" ? kindTarget(settings, owner) : await existingTarget(settings, givenKubeconfig, owner);
    // Every choice that depends on the mode, made once (components/stackPlan.ts): below, each component gets its part.
    const plan = stackPlan(settings, owner, target.plan);
    const inCluster = { provider: target.provider, deletedWith: target.deletedWith };

    // On kind both front doors take the node's ports 80/443: a switch in one up is refused before either release changes.
    const portCheck = plan.cluster === "kind" ? { kubeconfig: target.kubeconfig } : undefined;
    const ingressClassName =
        plan.ingress?.source === "install"
            ? new IngressNginx("ingress-nginx", { ...plan.ingress.controller, portCheck }, inCluster).ingressClassName
            : plan.ingress?.source === "existing"
              ? pulumi.output(plan.ingress.className)
              : undefined;

    // The Gateway front door (issue 22): vault-ha's own Envoy Gateway on kind, or the user's Gateway.
    const gateway = plan.ingress?.source === "gateway" ? plan.ingress.gateway : undefined;
    const envoyGateway = gateway?.envoy
        ? new EnvoyGateway("envoy-gateway", { ...gateway.envoy, portCheck, kubeconfig: target.kubeconfig }, inCluster)
        : undefined;
    const afterGateway = { ...inCluster, dependsOn: envoyGateway ? [envoyGateway] : [] };

    const whoami =
        ingressClassName && plan.whoami
            ? new Whoami("whoami", { ...plan.whoami, ingressClassName }, inCluster)
            : gateway && plan.whoami
              ? new Whoami("whoami", { ...plan.whoami, gateway: gateway.target }, afterGateway)
              : undefined;

    // Vault's namespace comes first: the server certificate, the release, the Ingress and the bootstrap live in it and
    // take its name from here, so each waits for it.
    const vaultNs = new VaultNamespace(
        "vault-namespace",
        {
            ...plan.vaultNamespace,
            // VaultCluster "vault" used to create it as "vault-ns": the alias moves it in the state instead of replacing
            // it (deleting a namespace deletes everything in it, Vault's data included).
            aliases: [{ name: "vault-ns", parent: pulumi.createUrn("vault", "vault-ha:vault:VaultCluster") }],
        },
        inCluster,
    );

    // With TLS: cert-manager (installed, or the one the cluster runs), then the CA chain and Vault's certificate,
    // which the Vault pods mount.
    const tls =
        plan.certManager && plan.vaultTls
            ? (() => {
                  const { probeInVaultNamespace, ...which } = plan.certManager;
                  const certManager = new CertManager(
                      "cert-manager",
                      { ...which, kubeconfig: target.kubeconfig, probeNamespace: probeInVaultNamespace ? vaultNs.name : undefined },
                      inCluster,
                  );
                  return new VaultTls(
                      "vault-tls",
                      {
                          ...plan.vaultTls,
                          certManagerNamespace: certManager.namespace,
                          vaultNamespace: vaultNs.name,
                          kubeconfig: target.kubeconfig,
                          certManagerReady: certManager.webhookReady,
                      },
                      inCluster,
                  );
              })()
            : undefined;

    const vault = new VaultCluster(
        "vault",
        {
            ...plan.vault,
            namespace: vaultNs.name,
            kubeconfig: target.kubeconfig,
            kubeContext: target.kubeContext,
            certificateSans: tls?.sans,
            sealTransitToken: sealTransitToken === undefined ? undefined : pulumi.secret(sealTransitToken),
        },
        // The pods mount the server certificate's secret: it must exist before they start.
        { ...inCluster, dependsOn: tls ? [tls.serverCertificate] : [] },
    );

    const vaultIngress =
        ingressClassName && plan.vaultIngress
            ? new VaultIngress("vault-ingress", { ...plan.vaultIngress, namespace: vaultNs.name, ingressClassName }, inCluster)
            : gateway && plan.vaultIngress
              ? new VaultRoute(
                    "vault-route",
                    {
                        ...plan.vaultIngress,
                        namespace: vaultNs.name,
                        vaultNamespace: plan.vaultNamespace.name,
                        gateway: gateway.target,
                        gatewayRef: envoyGateway?.gateway ?? { name: gateway.name, namespace: gateway.namespace },
                        kubeconfig: target.kubeconfig,
                    },
                    // Its backend, vault-active, is the release's: the readiness step would call it missing before.
                    { ...afterGateway, dependsOn: [...afterGateway.dependsOn, vault.release] },
                )
              : undefined;

    const bootstrap = new VaultBootstrap(
        "bootstrap",
        {
            ...plan.bootstrap,
            kubeconfig: target.kubeconfig,
            namespace: vaultNs.name,
            adopted: adopted ? pulumi.secret(adopted) : undefined,
            // Joins verify the leader's certificate with the cluster CA, mounted in every pod.
            tls: tls ? { caFile: tls.podCaFile } : undefined,
            podTemplate: vault.podTemplate,
            seal: plan.seal.type,
            sealDescription: isAutoSealPlan(plan.seal) ? plan.seal.describe : undefined,
            sealDisabled: isAutoSealPlan(plan.seal) && plan.seal.disabled === true,
        },
        { ...inCluster, dependsOn: [vault.release] },
    );

    // autoUnseal in-cluster: from now on a sealed pod is unsealed without an up (it needs the keys init made).
    const unsealer = plan.unsealer
        ? new InClusterUnsealer(
              "unsealer",
              { ...plan.unsealer, namespace: vaultNs.name, unsealKeys: bootstrap.unsealKeys, sealFacts: bootstrap.sealFacts },
              { ...inCluster, dependsOn: [bootstrap] },
          )
        : undefined;

    // The proof goes the way the user will: the NodePort, the load balancer, or a port-forward it opens itself.
    const proof = new KvProof(
        "kv-proof",
        {
            ...plan.proof,
            vaultAddr: vault.vaultAddr,
            caCert: tls?.caCert,
            rootToken: bootstrap.rootToken,
            tlsServerName: vault.tlsServerName,
            portForward: vault.portForward,
            kubeconfig: target.kubeconfig,
        },
        { deletedWith: target.deletedWith, dependsOn: [bootstrap] },
    );

    return {
        cluster: settings.cluster,
        clusterName: target.clusterName,
        kubeconfig: target.kubeconfig,
        kubeContext: target.kubeContext,
        vaultAddr: vault.vaultAddr,
        uiUrl: vault.uiUrl,
        ingressUrl: vaultIngress?.url,
        vaultNamespace: vault.namespace,
        whoamiUrl: whoami?.url,
        caCert: tls?.caCert,
        /** Paste into a shell after `pulumi stack output caCert > vault-ca.pem` (and, with ClusterIP, the port-forward). */
        vaultEnv: vault.vaultEnv,
        /** With vaultServiceType ClusterIP: the command that makes vaultAddr answer on this machine. */
        portForwardCommand: plan.outputPortForwardCommand ? vault.portForwardCommand : undefined,
        rootToken: bootstrap.rootToken,
        unsealKeys: bootstrap.unsealKeys,
        /** With an auto seal (which leaves unsealKeys empty): the recovery keys init made. A retired seal's are unsealKeys. */
        recoveryKeys: isAutoSealPlan(plan.seal) && !plan.seal.disabled ? bootstrap.recoveryKeys : undefined,
        raftPeers: bootstrap.raftPeers,
        unsealer: unsealer?.deploymentName,
        kvSecretPath: proof.path,
    };
}

// The Node.js host calls an exported function and awaits what it returns as the stack outputs
// (@pulumi/pulumi cmd/run/run.js: `programExport instanceof Function ? programExport() : programExport`).
export = main;
