/**
 * vault-ha: a kind cluster with ingress-nginx and a HashiCorp Vault HA (raft) cluster, from one `pulumi up`.
 * This file only reads the configuration, wires the components together and exports the outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { keyFilePath } from "./components/bootstrap/keyFile";
import { IngressNginx } from "./components/ingressNginx";
import { KindCluster } from "./components/kindCluster";
import { kindConfigYaml } from "./components/kindConfig";
import { loadSettings } from "./components/settings";
import { VaultBootstrap } from "./components/vaultBootstrap";
import { VaultCluster } from "./components/vaultCluster";
import { Whoami } from "./components/whoami";

// Validates everything first: bad input stops here, before any resource is registered.
const { settings, adopted } = loadSettings();

const kind = new KindCluster("kind", {
    clusterName: settings.clusterName,
    nodeImage: settings.kindNodeImage,
    configYaml: kindConfigYaml(settings),
});

const inCluster = { provider: kind.provider, deletedWith: kind.command };

const ingress = new IngressNginx(
    "ingress-nginx",
    { namespace: settings.ingressNginxNamespace, chartVersion: settings.ingressNginxChartVersion },
    inCluster,
);

const whoami = settings.whoami
    ? new Whoami(
          "whoami",
          { namespace: settings.whoamiNamespace, ingressClassName: ingress.ingressClassName, hostHttpPort: settings.ingressHttpPort },
          inCluster,
      )
    : undefined;

const vault = new VaultCluster(
    "vault",
    {
        namespace: settings.vaultNamespace,
        chartVersion: settings.vaultChartVersion,
        replicas: settings.vaultReplicas,
        uiNodePort: settings.uiNodePort,
        raftStorageSize: settings.raftStorageSize,
    },
    inCluster,
);

const bootstrap = new VaultBootstrap(
    "bootstrap",
    {
        kubeconfig: kind.kubeconfig,
        namespace: vault.namespace,
        replicas: settings.vaultReplicas,
        keyShares: settings.keyShares,
        keyThreshold: settings.keyThreshold,
        adopted: adopted ? pulumi.secret(adopted) : undefined,
        keyFile: keyFilePath(pulumi.getProject(), pulumi.getStack()),
    },
    { ...inCluster, dependsOn: [vault.release] },
);

export const clusterName = kind.clusterName;
export const kubeconfig = kind.kubeconfig;
export const kubeContext = kind.kubeContext;
export const vaultAddr = vault.vaultAddr;
export const uiUrl = vault.uiUrl;
export const vaultNamespace = vault.namespace;
export const whoamiUrl = whoami?.url;
export const rootToken = bootstrap.rootToken;
export const unsealKeys = bootstrap.unsealKeys;
export const raftPeers = bootstrap.raftPeers;
