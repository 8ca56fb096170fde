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
import {
    certManagerOwner,
    ingressMode,
    ingressNginxTarget,
    issuerScope,
    vaultChartOptions,
    vaultServiceType,
    whoamiEnabled,
} from "./components/config/clusterModes";
import { KvProof } from "./components/vault/kvProof";
import { loadSettings } from "./components/config/settings";
import { ownerLabelValue } from "./components/kind/kindConfig";
import { VaultBootstrap } from "./components/vault/vaultBootstrap";
import { VaultCluster } from "./components/vault/vaultCluster";
import { VaultIngress } from "./components/vault/vaultIngress";
import { VaultNamespace } from "./components/vault/vaultNamespace";
import { VaultTls } from "./components/tls/vaultTls";
import { Whoami } from "./components/ingress/whoami";

async function main() {
    // Validates everything first: bad input stops here, before any resource is registered.
    const { settings, adopted, kubeconfig: givenKubeconfig } = loadSettings();
    const onKind = settings.cluster === "kind";
    const owner = ownerLabelValue(pulumi.getProject(), pulumi.getStack());

    const target = onKind ? kindTarget(settings, owner) : await existingTarget(settings, givenKubeconfig, owner);
    const inCluster = { provider: target.provider, deletedWith: target.deletedWith };

    const ingress = ingressMode(settings);
    const ingressClassName =
        ingress === "install"
            ? new IngressNginx(
                  "ingress-nginx",
                  { namespace: settings.ingressNginxNamespace, chartVersion: settings.ingressNginxChartVersion, target: ingressNginxTarget(settings) },
                  inCluster,
              ).ingressClassName
            : ingress === "existing"
              ? pulumi.output(settings.ingressClassName)
              : undefined;
    // On kind the ingress answers on localhost's mapped ports; elsewhere at the ingress host, on 80 and 443.
    const hostPorts = onKind ? { hostHttpPort: settings.ingressHttpPort, hostHttpsPort: settings.ingressHttpsPort } : {};

    const whoami =
        ingressClassName && whoamiEnabled(settings)
            ? new Whoami(
                  "whoami",
                  {
                      namespace: settings.whoamiNamespace,
                      ingressClassName,
                      ...(onKind ? { hostHttpPort: settings.ingressHttpPort } : { host: settings.ingressHost }),
                      skipAwait: ingress === "existing",
                  },
                  inCluster,
              )
            : undefined;

    // Vault's namespace comes first: the server certificate, the release, the Ingress and the bootstrap live in it and
    // take its name from here, so each waits for it.
    const vaultNs = new VaultNamespace(
        "vault-namespace",
        {
            name: settings.vaultNamespace,
            // VaultCluster "vault" used to create it as "vault-ns": the alias moves it in the state instead of replacing
            // it (deleting a namespace deletes everything in it, Vault's data included).
            aliases: [{ name: "vault-ns", parent: pulumi.createUrn("vault", "vault-ha:vault:VaultCluster") }],
            // Helm leaves a StatefulSet's volume claims behind, and the namespace holds them: kept, it keeps Vault's
            // data through a `pulumi destroy` of a cluster vault-ha does not own.
            retainOnDelete: !onKind && settings.raftVolumesOnDestroy === "keep",
        },
        inCluster,
    );

    // With TLS: cert-manager (installed, or the one the cluster runs), then the CA chain and Vault's certificate,
    // which the Vault pods mount.
    const tls = settings.tls
        ? (() => {
              const plan = target.plan?.certManager ?? { action: "install" as const };
              const certManager = new CertManager(
                  "cert-manager",
                  {
                      ...(plan.action === "use-existing"
                          ? { use: "existing" as const, namespace: plan.namespace, kubeconfig: target.kubeconfig }
                          : {
                                namespace: settings.certManagerNamespace,
                                chartVersion: settings.certManagerChartVersion,
                                // Marks the install as this stack's on a cluster others share; kind's stays unmarked (unchanged).
                                owner: certManagerOwner(settings, owner),
                                kubeconfig: target.kubeconfig,
                            }),
                      // On a shared cluster the gate probes with an Issuer in Vault's namespace (no cluster-wide right).
                      probeNamespace: onKind ? undefined : vaultNs.name,
                  },
                  inCluster,
              );
              return new VaultTls(
                  "vault-tls",
                  {
                      certManagerNamespace: certManager.namespace,
                      vaultNamespace: vaultNs.name,
                      replicas: settings.vaultReplicas,
                      ingressHost: settings.ingressHost,
                      tlsExtraNames: settings.tlsExtraNames,
                      // On a shared cluster everything of the CA lives in Vault's namespace (see tlsConfig.ts).
                      issuerScope: issuerScope(settings),
                      kubeconfig: target.kubeconfig,
                      certManagerReady: certManager.webhookReady,
                  },
                  inCluster,
              );
          })()
        : undefined;

    const serviceType = vaultServiceType(settings);
    const vault = new VaultCluster(
        "vault",
        {
            namespace: vaultNs.name,
            chartVersion: settings.vaultChartVersion,
            replicas: settings.vaultReplicas,
            uiNodePort: settings.uiNodePort,
            raftStorageSize: settings.raftStorageSize,
            tls: settings.tls,
            vaultImage: settings.vaultImage,
            kubeconfig: target.kubeconfig,
            kubeContext: target.kubeContext,
            // kind: the chart's required rule (workers >= replicas is checked with the settings).
            ...vaultChartOptions(settings, target.plan),
            // Where a NodePort is reached: localhost on kind (mapped by kind), a node's address elsewhere.
            nodeAddress: onKind ? "localhost" : target.plan?.nodeAddress,
            certificateSans: tls?.sans,
        },
        // The pods mount the server certificate's secret: it must exist before they start.
        { ...inCluster, dependsOn: tls ? [tls.serverCertificate] : [] },
    );

    const vaultIngress = ingressClassName
        ? new VaultIngress(
              "vault-ingress",
              // A class vault-ha did not install may never publish an address: do not wait for one.
              { namespace: vaultNs.name, host: settings.ingressHost, ingressClassName, tls: settings.tls, ...hostPorts, skipAwait: ingress === "existing" },
              inCluster,
          )
        : undefined;

    const bootstrap = new VaultBootstrap(
        "bootstrap",
        {
            kubeconfig: target.kubeconfig,
            namespace: vaultNs.name,
            replicas: settings.vaultReplicas,
            keyShares: settings.keyShares,
            keyThreshold: settings.keyThreshold,
            adopted: adopted ? pulumi.secret(adopted) : undefined,
            // Joins verify the leader's certificate with the cluster CA, mounted in every pod.
            tls: tls ? { caFile: tls.podCaFile } : undefined,
            podTemplate: vault.podTemplate,
            snapshotsToKeep: settings.snapshotsToKeep,
            keepKeysOnDestroy: !onKind && settings.raftVolumesOnDestroy === "keep",
        },
        { ...inCluster, dependsOn: [vault.release] },
    );

    // The proof goes the way the user will: the NodePort, the load balancer, or a port-forward it opens itself.
    const proof = new KvProof(
        "kv-proof",
        {
            vaultAddr: vault.vaultAddr,
            caCert: tls?.caCert,
            rootToken: bootstrap.rootToken,
            mount: settings.kvMount,
            tlsServerName: vault.tlsServerName,
            portForward: vault.portForward,
            kubeconfig: target.kubeconfig,
            // A new load balancer's DNS name can take minutes to resolve (AWS's): wait longer (within the step's 15 minutes).
            ...(serviceType === "LoadBalancer" ? { timeoutSeconds: 600 } : {}),
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
        portForwardCommand: serviceType === "ClusterIP" ? vault.portForwardCommand : undefined,
        rootToken: bootstrap.rootToken,
        unsealKeys: bootstrap.unsealKeys,
        raftPeers: bootstrap.raftPeers,
        kvSecretPath: proof.path,
    };
}

// The Node.js host calls an exported function and awaits what it returns as the stack outputs
// (@pulumi/pulumi cmd/run/run.js: `programExport instanceof Function ? programExport() : programExport`).
export = main;
