import { headlessService, podHost, podNames } from "../vault/names";

/**
 * Vault's TLS, as pure data: the certificate's names, the cert-manager CA chain, and where the certificate is mounted.
 */

/** Secret that cert-manager writes the server certificate to: tls.crt (leaf), tls.key, ca.crt (the CA). */
export const SERVER_TLS_SECRET = "vault-server-tls";
/** Where the pods mount that secret. */
export const TLS_DIR = "/vault/userconfig/vault-tls";
export const TLS_FILES = {
    cert: `${TLS_DIR}/tls.crt`,
    key: `${TLS_DIR}/tls.key`,
    ca: `${TLS_DIR}/ca.crt`,
} as const;

export interface SanInput {
    release: string;
    namespace: string;
    replicas: number;
    ingressHost: string;
}

export interface Sans {
    dnsNames: string[];
    ipAddresses: string[];
}

/**
 * Every name a client uses to reach Vault: the chart's services (short, namespaced and fully qualified), each pod
 * behind the headless service (raft joins and in-cluster clients), localhost (the NodePort) and the ingress host; and
 * 127.0.0.1, the address the Vault CLI inside each pod talks to.
 */
export function vaultCertificateSans(s: SanInput): Sans {
    const qualify = (name: string) => [name, `${name}.${s.namespace}`, `${name}.${s.namespace}.svc`, `${name}.${s.namespace}.svc.cluster.local`];
    const services = [s.release, `${s.release}-active`, `${s.release}-standby`, headlessService(s.release)];
    const pods = podNames(s.release, s.replicas).map((pod) => podHost(s.release, pod));
    const dnsNames = [...services.flatMap(qualify), ...pods.flatMap(qualify), "localhost", s.ingressHost];
    return { dnsNames: [...new Set(dnsNames)], ipAddresses: ["127.0.0.1"] };
}

export const CA_NAMES = {
    /** Bootstraps the CA: a self-signed issuer is only used to sign the CA certificate itself. */
    selfSignedIssuer: "vault-ha-selfsigned",
    caCertificate: "vault-ha-ca",
    /** Secret holding the CA (in cert-manager's namespace, where a ClusterIssuer reads its secrets). */
    caSecret: "vault-ha-ca",
    caIssuer: "vault-ha-ca",
    serverCertificate: "vault-server",
} as const;

const ISSUER_GROUP = "cert-manager.io";

export type Manifest = {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
    spec: Record<string, unknown>;
};

/**
 * The CA chain: self-signed ClusterIssuer -> CA Certificate -> CA ClusterIssuer -> Vault's server Certificate.
 * Lifetimes suit a lab that lives for months: the CA for 5 years, the server certificate for 90 days, renewed 30 days
 * before it expires (Vault picks the new one up: see vaultValues.ts, TLS reloader).
 */
export interface CaChain {
    selfSignedIssuer: Manifest;
    caCertificate: Manifest;
    caIssuer: Manifest;
    serverCertificate: Manifest;
}

export function caChainManifests(p: { certManagerNamespace: string; vaultNamespace: string; sans: Sans }): CaChain {
    return {
        selfSignedIssuer: {
            apiVersion: "cert-manager.io/v1",
            kind: "ClusterIssuer",
            metadata: { name: CA_NAMES.selfSignedIssuer },
            spec: { selfSigned: {} },
        },
        caCertificate: {
            apiVersion: "cert-manager.io/v1",
            kind: "Certificate",
            metadata: { name: CA_NAMES.caCertificate, namespace: p.certManagerNamespace },
            spec: {
                isCA: true,
                commonName: "vault-ha CA",
                // Without a subject a self-signed certificate has an empty issuer name, which some clients reject.
                subject: { organizations: ["vault-ha"] },
                secretName: CA_NAMES.caSecret,
                duration: "43800h",
                renewBefore: "720h",
                // Renewing the CA keeps its key, so certificates it signed stay valid under the renewed CA.
                privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Never" },
                issuerRef: { name: CA_NAMES.selfSignedIssuer, kind: "ClusterIssuer", group: ISSUER_GROUP },
            },
        },
        caIssuer: {
            apiVersion: "cert-manager.io/v1",
            kind: "ClusterIssuer",
            metadata: { name: CA_NAMES.caIssuer },
            spec: { ca: { secretName: CA_NAMES.caSecret } },
        },
        serverCertificate: {
            apiVersion: "cert-manager.io/v1",
            kind: "Certificate",
            metadata: { name: CA_NAMES.serverCertificate, namespace: p.vaultNamespace },
            spec: {
                secretName: SERVER_TLS_SECRET,
                commonName: p.sans.dnsNames[0],
                dnsNames: p.sans.dnsNames,
                ipAddresses: p.sans.ipAddresses,
                duration: "2160h",
                renewBefore: "720h",
                // A fresh key at every renewal (cert-manager's default since 1.18, stated because older docs differ).
                privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
                usages: ["digital signature", "server auth", "client auth"],
                issuerRef: { name: CA_NAMES.caIssuer, kind: "ClusterIssuer", group: ISSUER_GROUP },
            },
        },
    };
}

/** Values for the cert-manager chart: its CRDs come with it (`installCRDs` is deprecated). */
export function certManagerValues(): Record<string, unknown> {
    return { crds: { enabled: true } };
}
