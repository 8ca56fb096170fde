/**
 * vault-ha: a kind cluster with ingress-nginx and a HashiCorp Vault HA (raft) cluster, from one `pulumi up`.
 * This file only reads the configuration, wires the components together and exports the outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { CertManager } from "./components/tls/certManager";
import { IngressNginx } from "./components/ingress/ingressNginx";
import { KindCluster } from "./components/kind/kindCluster";
import { kindConfigYaml, ownerLabelValue } from "./components/kind/kindConfig";
import { kindShape } from "./components/kind/kindShape";
import { KvProof } from "./components/vault/kvProof";
import { loadSettings } from "./components/config/settings";
import { VaultBootstrap } from "./components/vault/vaultBootstrap";
import { VaultCluster } from "./components/vault/vaultCluster";
import { VaultIngress } from "./components/vault/vaultIngress";
import { VaultNamespace } from "./components/vault/vaultNamespace";
import { VaultTls } from "./components/tls/vaultTls";
import { Whoami } from "./components/ingress/whoami";

// Validates everything first: bad input stops here, before any resource is registered.
const { settings, adopted } = loadSettings();

const kind = new KindCluster("kind", {
    clusterName: settings.clusterName,
    nodeImage: settings.kindNodeImage,
    configYaml: kindConfigYaml(settings),
    owner: ownerLabelValue(pulumi.getProject(), pulumi.getStack()),
    shape: kindShape(settings, kindConfigYaml(settings)),
});

const inCluster = { provider: kind.provider, deletedWith: kind.command };

const ingress = new IngressNginx("ingress-nginx", { namespace: settings.ingressNginxNamespace, chartVersion: settings.ingressNginxChartVersion }, inCluster);

const whoami = settings.whoami
    ? new Whoami(
          "whoami",
          { namespace: settings.whoamiNamespace, ingressClassName: ingress.ingressClassName, hostHttpPort: settings.ingressHttpPort },
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
    },
    inCluster,
);

// With TLS: cert-manager, then the CA chain and Vault's certificate, which the Vault pods mount.
const tls = settings.tls
    ? (() => {
          const certManager = new CertManager(
              "cert-manager",
              { namespace: settings.certManagerNamespace, chartVersion: settings.certManagerChartVersion, kubeconfig: kind.kubeconfig },
              inCluster,
          );
          return new VaultTls(
              "vault-tls",
              {
                  certManagerNamespace: certManager.namespace,
                  vaultNamespace: vaultNs.name,
                  replicas: settings.vaultReplicas,
                  ingressHost: settings.ingressHost,
                  kubeconfig: kind.kubeconfig,
                  certManagerReady: certManager.webhookReady,
              },
              inCluster,
          );
      })()
    : undefined;

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
        kubeconfig: kind.kubeconfig,
    },
    // The pods mount the server certificate's secret: it must exist before they start.
    { ...inCluster, dependsOn: tls ? [tls.serverCertificate] : [] },
);

const vaultIngress = new VaultIngress(
    "vault-ingress",
    {
        namespace: vaultNs.name,
        host: settings.ingressHost,
        ingressClassName: ingress.ingressClassName,
        tls: settings.tls,
        hostHttpPort: settings.ingressHttpPort,
        hostHttpsPort: settings.ingressHttpsPort,
    },
    inCluster,
);

const bootstrap = new VaultBootstrap(
    "bootstrap",
    {
        kubeconfig: kind.kubeconfig,
        namespace: vaultNs.name,
        replicas: settings.vaultReplicas,
        keyShares: settings.keyShares,
        keyThreshold: settings.keyThreshold,
        adopted: adopted ? pulumi.secret(adopted) : undefined,
        // Joins verify the leader's certificate with the cluster CA, mounted in every pod.
        tls: tls ? { caFile: tls.podCaFile } : undefined,
        podTemplate: vault.podTemplate,
        snapshotsToKeep: settings.snapshotsToKeep,
    },
    { ...inCluster, dependsOn: [vault.release] },
);

const proof = new KvProof(
    "kv-proof",
    { vaultAddr: vault.vaultAddr, caCert: tls?.caCert, rootToken: bootstrap.rootToken, mount: settings.kvMount },
    { deletedWith: kind.command, dependsOn: [bootstrap] },
);

export const clusterName = kind.clusterName;
export const kubeconfig = kind.kubeconfig;
export const kubeContext = kind.kubeContext;
export const vaultAddr = vault.vaultAddr;
export const uiUrl = vault.uiUrl;
export const ingressUrl = vaultIngress.url;
export const vaultNamespace = vault.namespace;
export const whoamiUrl = whoami?.url;
export const caCert = tls?.caCert;
/** Paste into a shell after `pulumi stack output caCert > vault-ca.pem`. */
export const vaultEnv = vault.vaultAddr.apply((addr) =>
    settings.tls ? `export VAULT_ADDR=${addr}\nexport VAULT_CACERT="$PWD/vault-ca.pem"` : `export VAULT_ADDR=${addr}`,
);
export const rootToken = bootstrap.rootToken;
export const unsealKeys = bootstrap.unsealKeys;
export const raftPeers = bootstrap.raftPeers;
export const kvSecretPath = proof.path;
