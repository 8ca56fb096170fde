import { isIPv4, isIPv6 } from "net";
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
    /** More names for the certificate (the tlsExtraNames setting): DNS names and IPv4/IPv6 addresses. */
    extraNames?: readonly string[];
}

export interface Sans {
    dnsNames: string[];
    ipAddresses: string[];
}

/** A name a certificate can hold, in the form it is written there: lower-case DNS name, or canonical IP text. */
export type TlsName = { kind: "dns"; name: string } | { kind: "ip"; name: string };

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The 16 bytes of an IP address (IPv4 as IPv4-mapped IPv6, as Go's net.IP holds it), or undefined. */
function ipBytes(text: string): number[] | undefined {
    if (isIPv4(text)) return [...Array(10).fill(0), 0xff, 0xff, ...text.split(".").map(Number)];
    // Zones (fe80::1%eth0) are not addresses a certificate holds; Go's net.ParseIP refuses them too.
    if (!isIPv6(text) || text.includes("%")) return undefined;
    // The URL parser writes IPv6 in its canonical form: hex groups only, the longest run of zeros as "::".
    const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    const [head, tail] = canonical.split("::");
    const groups = (part: string | undefined) => (part ? part.split(":").map((g) => parseInt(g, 16)) : []);
    const left = groups(head);
    const right = groups(tail);
    const all = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
    return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** The text Go's net.IP.String() writes for these bytes: dotted IPv4 for IPv4(-mapped), else RFC 5952 IPv6. */
function ipText(bytes: number[]): string {
    const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
    if (mapped) return bytes.slice(12).join(".");
    const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16));
    return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

/**
 * Why `name` cannot be one of the certificate's extra names, or undefined when it can. An IP address (v4, or v6
 * without brackets or zone) goes to spec.ipAddresses: cert-manager's webhook refuses what Go's net.ParseIP does not
 * read (cert-manager internal/apis/certmanager/validation/certificate.go, validateIPAddresses). A DNS name is what
 * Go's TLS client matches against a certificate (golang/go crypto/x509/verify.go, Certificate.VerifyHostname):
 * labels of letters, digits and inner hyphens, a `*` only as the whole first label. The settings can use this
 * sentence as their own, so that a name they accept never fails here at `up`.
 */
export function tlsNameProblem(name: string): string | undefined {
    if (name.trim() !== name || name === "") return `"${name}" is neither a DNS name nor an IP address (empty, or spaces around it)`;
    if (ipBytes(name.replace(/^\[(.*)\]$/, "$1"))) return name.startsWith("[") ? `"${name}": write an IPv6 address without brackets` : undefined;
    if (name.includes("://") || name.includes("/") || /:\d+$/.test(name)) return `"${name}": give a host name or an IP address, without scheme, port or path`;
    if (name.endsWith(".")) return `"${name}": write the name without the trailing dot`;
    if (name.length > 253) return `"${name}" is longer than a DNS name may be (253 characters)`;
    const labels = name.toLowerCase().split(".");
    const bad = labels.find((label, i) => !(DNS_LABEL.test(label) || (i === 0 && label === "*" && labels.length > 2)));
    if (bad !== undefined)
        return `"${name}" is not a DNS name: label "${bad}" (letters, digits and inner hyphens, at most 63; a wildcard only as "*." before at least two labels)`;
    if (/^\d+$/.test(labels[labels.length - 1])) return `"${name}" is neither an IP address nor a DNS name (its last label is a number)`;
    return undefined;
}

/** A name for the certificate in its written form; throws tlsNameProblem's sentence for one it cannot hold. */
export function tlsName(name: string): TlsName {
    const problem = tlsNameProblem(name);
    if (problem) throw new Error(`tlsExtraNames: ${problem}`);
    const ip = ipBytes(name);
    return ip ? { kind: "ip", name: ipText(ip) } : { kind: "dns", name: name.toLowerCase() };
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
    const extra = (s.extraNames ?? []).map(tlsName);
    const dnsNames = [...services.flatMap(qualify), ...pods.flatMap(qualify), "localhost", s.ingressHost];
    // The extra names come last, so a certificate without them is exactly the one before they existed.
    const extraDns = extra.filter((n) => n.kind === "dns").map((n) => n.name);
    const extraIps = extra.filter((n) => n.kind === "ip").map((n) => n.name);
    return { dnsNames: [...new Set([...dnsNames, ...extraDns])], ipAddresses: [...new Set(["127.0.0.1", ...extraIps])] };
}

/**
 * Whether a client that verifies `address` (an IP address, IPv6 with or without brackets, or a DNS name: a load
 * balancer's ingress, an ingress host) against a certificate with these names accepts it, as Go's TLS client does
 * (crypto/x509/verify.go, Certificate.VerifyHostname; Vault's CLI and API client are Go): an IP address only against
 * the IP addresses, compared as addresses; a name against the DNS names without regard to case, a trailing dot
 * ignored, a `*` first label matching exactly one label.
 */
export function certificateCovers(sans: Sans, address: string): boolean {
    const ip = ipBytes(address.replace(/^\[(.*)\]$/, "$1"));
    if (ip) return sans.ipAddresses.some((a) => ipBytes(a)?.every((b, i) => b === ip[i]));
    const host = address.toLowerCase().replace(/\.$/, "").split(".");
    if (host.some((label) => label === "")) return false;
    return sans.dnsNames.some((pattern) => {
        const want = pattern.toLowerCase().replace(/\.$/, "").split(".");
        return want.length === host.length && want.every((label, i) => label === host[i] || (i === 0 && label === "*"));
    });
}

/**
 * The name a client must verify the certificate against when it reaches Vault at `address` (VAULT_TLS_SERVER_NAME:
 * hashicorp/vault api/client.go reads it into TLSConfig.TLSServerName, the tls.Config ServerName that Go verifies
 * the certificate with): undefined when the address itself is in the certificate, else its common name.
 */
export function tlsServerNameFor(sans: Sans, address: string): string | undefined {
    return certificateCovers(sans, address) ? undefined : sans.dnsNames[0];
}

export const CA_NAMES = {
    /** Bootstraps the CA: a self-signed issuer is only used to sign the CA certificate itself. */
    selfSignedIssuer: "vault-ha-selfsigned",
    caCertificate: "vault-ha-ca",
    /** Secret holding the CA (in cert-manager's namespace, where a ClusterIssuer reads its secrets; else Vault's). */
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

/**
 * Where the issuers live. "cluster" (kind): ClusterIssuers, the CA's secret in cert-manager's namespace, where a
 * ClusterIssuer reads its secrets. "namespace" (a cluster vault-ha does not own): Issuers in Vault's namespace, the CA's
 * secret beside Vault's: nothing cluster-wide whose name another stack could take, nothing in another team's
 * cert-manager namespace, and nothing outside Vault's namespace left behind, since cert-manager does not delete a
 * Certificate's secret with it (its --enable-certificate-owner-ref is off by default).
 */
export type IssuerScope = "cluster" | "namespace";

export function caChainManifests(p: { certManagerNamespace: string; vaultNamespace: string; sans: Sans; issuerScope?: IssuerScope }): CaChain {
    const namespaced = p.issuerScope === "namespace";
    const issuerKind = namespaced ? "Issuer" : "ClusterIssuer";
    const issuerMeta = (name: string) => (namespaced ? { name, namespace: p.vaultNamespace } : { name });
    return {
        selfSignedIssuer: {
            apiVersion: "cert-manager.io/v1",
            kind: issuerKind,
            metadata: issuerMeta(CA_NAMES.selfSignedIssuer),
            spec: { selfSigned: {} },
        },
        caCertificate: {
            apiVersion: "cert-manager.io/v1",
            kind: "Certificate",
            metadata: { name: CA_NAMES.caCertificate, namespace: namespaced ? p.vaultNamespace : p.certManagerNamespace },
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
                issuerRef: { name: CA_NAMES.selfSignedIssuer, kind: issuerKind, group: ISSUER_GROUP },
            },
        },
        caIssuer: {
            apiVersion: "cert-manager.io/v1",
            kind: issuerKind,
            metadata: issuerMeta(CA_NAMES.caIssuer),
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
                issuerRef: { name: CA_NAMES.caIssuer, kind: issuerKind, group: ISSUER_GROUP },
            },
        },
    };
}

/** Values for the cert-manager chart: its CRDs come with it (`installCRDs` is deprecated). */
export function certManagerValues(): Record<string, unknown> {
    return { crds: { enabled: true } };
}
