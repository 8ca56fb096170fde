/**
 * Representative configs for the configuration tests: each mode's defaults, rules and warnings, bad values of every
 * grammar, the adoption secrets and keys of other namespaces. The golden test pins what the readers answer for them;
 * the fix-line test runs every fix they print.
 */
import { ConfigEntry } from "../../../components/config/settings";

const EXISTING = { cluster: "existing", kubeContext: "prod-eks" };

/** Raw settings as Pulumi hands them over, with the stack the fixes name. */
export const SETTINGS_CASES: Record<string, { raw: Record<string, string>; stack?: string }> = {
    "kind defaults": { raw: {} },
    "kind defaults, stack prod": { raw: {}, stack: "prod" },
    "kind, tls false": { raw: { tls: "false" } },
    "kind, every setting given": {
        raw: {
            clusterName: "lab",
            workers: "5",
            ingressHttpPort: "8080",
            ingressHttpsPort: "8443",
            nodePorts: "[30010, 30011, 30012]",
            vaultReplicas: "5",
            uiNodePort: "30011",
            raftStorageSize: "20Gi",
            keyShares: "7",
            keyThreshold: "4",
            whoami: "false",
            kvMount: "kv",
            snapshotsToKeep: "9",
            vaultServiceType: "ClusterIP",
            ingress: "none",
            storageClass: "standard",
            vaultCpu: "500m",
            vaultMemory: "1Gi",
            antiAffinity: "preferred",
            tlsExtraNames: '["vault.example.com", "203.0.113.10"]',
            vaultServiceAnnotations: '["a.example.com/b=c"]',
        },
    },
    "existing cluster, defaults": { raw: EXISTING },
    "existing cluster, stack prod": { raw: EXISTING, stack: "prod" },
    "existing cluster, quiet": {
        raw: {
            ...EXISTING,
            vaultServiceType: "ClusterIP",
            ingress: "existing",
            ingressHost: "vault.example.com",
            ingressClassName: "traefik",
            raftVolumesOnDestroy: "delete",
            certManager: "existing",
        },
    },
    "existing cluster, LoadBalancer with source ranges": { raw: { ...EXISTING, vaultLoadBalancerSourceRanges: '["10.0.0.0/8"]' } },
    "existing cluster, tls false": { raw: { ...EXISTING, tls: "false", vaultServiceType: "ClusterIP" } },
    "existing cluster, kind-only settings": {
        raw: {
            ...EXISTING,
            clusterName: "x",
            kindNodeImage: "kindest/node:v1@sha256:" + "a".repeat(64),
            workers: "3",
            ingressHttpPort: "80",
            ingressHttpsPort: "443",
            nodePorts: "[30000]",
        },
    },
    "existing cluster without a context": { raw: { cluster: "existing" } },
    "existing cluster without a context, stack prod": { raw: { cluster: "existing" }, stack: "prod" },
    "existing cluster, uiNodePort with LoadBalancer": { raw: { ...EXISTING, uiNodePort: "30000" } },
    "existing cluster, ingressClassName without ingress existing": { raw: { ...EXISTING, ingressClassName: "traefik" } },
    "existing cluster, whoami true without an ingress": { raw: { ...EXISTING, whoami: "true", vaultServiceType: "ClusterIP" } },
    "existing cluster, source ranges without a LoadBalancer": {
        raw: { ...EXISTING, vaultServiceType: "ClusterIP", vaultLoadBalancerSourceRanges: '["10.0.0.0/8"]' },
    },
    "existing cluster, ingress with the default host": { raw: { ...EXISTING, ingress: "existing", vaultServiceType: "ClusterIP" } },
    "kind, kubeContext": { raw: { kubeContext: "other" } },
    "kind, kubeContext, stack prod": { raw: { kubeContext: "other" }, stack: "prod" },
    "kind, LoadBalancer": { raw: { vaultServiceType: "LoadBalancer" } },
    "kind, ingress existing": { raw: { ingress: "existing" } },
    "kind, certManager existing": { raw: { certManager: "existing" } },
    "kind, raftVolumesOnDestroy": { raw: { raftVolumesOnDestroy: "keep" } },
    "kind, uiNodePort with ClusterIP": { raw: { vaultServiceType: "ClusterIP", uiNodePort: "30000" } },
    "kind, ingressClassName": { raw: { ingressClassName: "nginx" } },
    "kind, whoami true with ingress none": { raw: { ingress: "none", whoami: "true" } },
    "kind, source ranges": { raw: { vaultLoadBalancerSourceRanges: '["10.0.0.0/8"]' } },
    "kind, tlsExtraNames with tls false": { raw: { tls: "false", tlsExtraNames: '["a.example.com"]' } },
    "kind, even replicas": { raw: { vaultReplicas: "2" } },
    "kind, unpinned vaultImage": { raw: { vaultImage: "hashicorp/vault:2.0.4" } },
    "kind, unpinned vaultImage, stack prod": { raw: { vaultImage: "hashicorp/vault:2.0.4" }, stack: "prod" },
    "bad values everywhere": {
        raw: {
            cluster: "cloud",
            kubeContext: "a\nb",
            kindNodeImage: "kindest/node:v1",
            ingressHttpPort: "0",
            vaultChartVersion: "",
            ingressNginxChartVersion: "latest",
            whoami: "yes",
            ingressHost: "Vault",
            ingressClassName: "A_B",
            storageClass: "Fast!",
            vaultCpu: "1m",
            vaultMemory: "1Ti",
            antiAffinity: "hard",
            tlsExtraNames: '["", "a.example.com", "A.example.com"]',
            certManager: "maybe",
            raftVolumesOnDestroy: "wipe",
            vaultLoadBalancerSourceRanges: '["10.0.0.0/33", "x", 3]',
            vaultServiceAnnotations: '["novalue", "-bad/x=1", "ok/-x=1"]',
            snapshotsToKeep: "101",
            tls: "maybe",
        },
    },
    "bad lists": {
        raw: { tlsExtraNames: "vault.example.com", vaultLoadBalancerSourceRanges: "10.0.0.0/8", vaultServiceAnnotations: "a=b", nodePorts: "30002" },
    },
    "bad values, stack prod": { raw: { cluster: "cloud", nodePorts: '[30000, "x"]', ingressHttpsPort: "30001", whoami: "yes" }, stack: "prod" },
    "namespace twice, both set": { raw: { vaultNamespace: "shared", whoamiNamespace: "shared", certManagerNamespace: "shared" } },
    "kind, transit seal without address or token": { raw: { seal: "transit", sealKey: "vault-ha" } },
    "kind, transit seal, bad address and mount": {
        raw: { seal: "transit", sealKey: "vault-ha", sealTransitAddress: "http://transit.example.com:8200/v1", sealTransitMount: "/transit/" },
    },
    "kind, awskms seal": { raw: { seal: "awskms", sealKey: "alias/vault" } },
    "kind, awskms seal, stack prod": { raw: { seal: "awskms", sealKey: "alias/vault", sealRegion: "eu-west-1" }, stack: "prod" },
    "kind, shamir with seal settings": {
        raw: { sealKey: "k", sealRegion: "eu-west-1", sealIdentity: "x", sealTransitAddress: "https://v.example.com", sealTransitMount: "t" },
    },
    "kind, transit seal with the unsealer": { raw: { seal: "transit", sealKey: "k", sealTransitAddress: "https://v.example.com", autoUnseal: "in-cluster" } },
    "existing cluster, awskms seal": {
        raw: {
            ...EXISTING,
            seal: "awskms",
            sealKey: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            sealRegion: "eu-west-1",
            sealIdentity: "arn:aws:iam::111122223333:role/vault",
        },
    },
    "existing cluster, awskms seal without a key": { raw: { ...EXISTING, seal: "awskms" } },
    "existing cluster, awskms seal, bad key, region and identity": {
        raw: { ...EXISTING, seal: "awskms", sealKey: "my key", sealRegion: "Europe", sealIdentity: "vault-role" },
    },
    "existing cluster, awskms seal, a key the chart would rewrite": { raw: { ...EXISTING, seal: "awskms", sealKey: "alias/HOSTNAME-key" } },
    "existing cluster, gcpckms seal, a key that is not a resource name": {
        raw: { ...EXISTING, seal: "gcpckms", sealKey: "vault-ring/vault-key", sealIdentity: "vault@proj.iam.gserviceaccount.com" },
    },
    "existing cluster, gcpckms seal, a bad identity": {
        raw: {
            ...EXISTING,
            seal: "gcpckms",
            sealKey: "projects/my-proj/locations/global/keyRings/vault/cryptoKeys/unseal",
            sealIdentity: "arn:aws:iam::1:role/x",
        },
    },
    "existing cluster, azurekeyvault seal, a key without the vault": {
        raw: { ...EXISTING, seal: "azurekeyvault", sealKey: "unseal-key", sealIdentity: "not-a-guid" },
    },
    "existing cluster, azurekeyvault seal with the unsealer": {
        raw: { ...EXISTING, seal: "azurekeyvault", sealKey: "vault-kv/unseal", autoUnseal: "in-cluster", sealTransitMount: "transit" },
    },
    "existing cluster, awskms seal with transit settings": {
        raw: { ...EXISTING, seal: "awskms", sealKey: "alias/vault", sealTransitAddress: "https://v.example.com", sealTransitCaCert: "nope" },
    },
    "misspelled keys": { raw: { Workers: "4", rootTokn: "x", unsealkeys: "[]", Kubeconfig: "y", zzz: "1" } },
};

const secret = (value?: string): ConfigEntry => ({ value, secret: true });
const plain = (value?: string): ConfigEntry => ({ value, secret: false });

/** Whole config maps as the program's reader sees them, keyed <namespace>:<name>. */
export const CONFIG_CASES: Record<string, { entries: Record<string, ConfigEntry>; stack?: string; source?: string }> = {
    "adoption, both secrets": { entries: { "vault-ha:unsealKeys": secret('["a","b","c"]'), "vault-ha:rootToken": secret("hvs.x") } },
    "adoption, unreadable secrets": { entries: { "vault-ha:unsealKeys": secret(), "vault-ha:rootToken": secret() }, source: "Pulumi.dev.yaml" },
    "adoption, plain text": { entries: { "vault-ha:unsealKeys": plain('["a"]'), "vault-ha:rootToken": plain("hvs.x") } },
    "adoption, keys only": { entries: { "vault-ha:unsealKeys": secret('["a","b","c"]') } },
    "adoption, token only, stack prod": { entries: { "vault-ha:rootToken": secret("hvs.x") }, stack: "prod" },
    "adoption, too few keys": { entries: { "vault-ha:unsealKeys": secret('["a"]'), "vault-ha:rootToken": secret("hvs.x") } },
    "adoption, keys not a list": { entries: { "vault-ha:unsealKeys": secret("a,b"), "vault-ha:rootToken": secret("hvs.x") } },
    "kubeconfig on an existing cluster": {
        entries: { "vault-ha:cluster": plain("existing"), "vault-ha:kubeconfig": secret("apiVersion: v1\nclusters: []\n") },
    },
    "kubeconfig in plain text": { entries: { "vault-ha:cluster": plain("existing"), "vault-ha:kubeconfig": plain("apiVersion: v1\n") } },
    "kubeconfig that is not one": { entries: { "vault-ha:cluster": plain("existing"), "vault-ha:kubeconfig": secret("hello") } },
    "kubeconfig on kind": { entries: { "vault-ha:kubeconfig": secret("apiVersion: v1\n") } },
    "kubeconfig on kind, stack prod": { entries: { "vault-ha:kubeconfig": secret("apiVersion: v1\n") }, stack: "prod" },
    "transit seal, token as a secret": {
        entries: {
            "vault-ha:seal": plain("transit"),
            "vault-ha:sealKey": plain("vault-ha"),
            "vault-ha:sealTransitAddress": plain("https://transit.example.com:8200"),
            "vault-ha:sealTransitToken": secret("hvs.transit"),
        },
    },
    "transit seal, token in plain text": {
        entries: {
            "vault-ha:seal": plain("transit"),
            "vault-ha:sealKey": plain("vault-ha"),
            "vault-ha:sealTransitAddress": plain("https://transit.example.com:8200"),
            "vault-ha:sealTransitToken": plain("hvs.transit"),
        },
    },
    "transit seal, empty token, stack prod": {
        entries: {
            "vault-ha:seal": plain("transit"),
            "vault-ha:sealKey": plain("vault-ha"),
            "vault-ha:sealTransitAddress": plain("https://transit.example.com:8200"),
            "vault-ha:sealTransitToken": secret(" "),
        },
        stack: "prod",
    },
    "transit token without seal transit": { entries: { "vault-ha:sealTransitToken": secret("hvs.transit") } },
    "kind, transit seal, all set, with the unsealer": {
        entries: {
            "vault-ha:seal": plain("transit"),
            "vault-ha:sealKey": plain("vault-ha"),
            "vault-ha:sealTransitAddress": plain("https://transit.example.com:8200"),
            "vault-ha:sealTransitToken": secret("hvs.transit"),
            "vault-ha:autoUnseal": plain("in-cluster"),
        },
    },
    "other namespaces": {
        entries: {
            "kubernetes:context": plain("x"),
            "pulumi:tags": plain("{}"),
            "vaul-ha:workers": plain("4"),
            "vault:vaultReplicas": plain("1"),
            "vaultha:rootToken": secret("hvs.x"),
            "vault_ha:tls": plain("false"),
            "vault-ha:config:workers": plain("3"),
        },
    },
    "an encrypted setting": { entries: { "vault-ha:workers": secret() }, source: "Pulumi.prod.yaml", stack: "prod" },
};
