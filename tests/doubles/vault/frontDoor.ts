/**
 * SIMULATOR: Vault's HTTP API as reached through VAULT_ADDR (the NodePort), not Vault. It serves, on 127.0.0.1, the
 * calls the kv proof makes (sys/health, sys/mounts, kv-v2 data), over TLS with a certificate from a throwaway test CA
 * (or plain HTTP), and records every request so tests can check where the token travelled. Documented behaviour it
 * follows: a token is required (403 without), GET sys/mounts/:path answers 400 for an unknown mount, a new kv-v2
 * mount refuses writes for a moment while it upgrades, and kv-v2 returns data under data.data with a version.
 */
import * as http from "http";
import * as https from "https";
import type { AddressInfo } from "net";
import * as forge from "node-forge";

export interface TestPki {
    caPem: string;
    certPem: string;
    keyPem: string;
}

type Attributes = forge.pki.CertificateField[];

/** A day-long certificate for `subject`, signed with `signer`'s key under `issuer`'s name. */
function certificate(
    serial: string,
    subject: Attributes,
    issuer: Attributes,
    publicKey: forge.pki.rsa.PublicKey,
    signer: forge.pki.rsa.PrivateKey,
    extensions: object[],
) {
    const cert = forge.pki.createCertificate();
    cert.publicKey = publicKey;
    cert.serialNumber = serial;
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    cert.setSubject(subject);
    cert.setIssuer(issuer);
    cert.setExtensions(extensions);
    cert.sign(signer, forge.md.sha256.create());
    return cert;
}

/** A CA and a server certificate for `names` and `ips` (localhost / 127.0.0.1 by default) signed by it. */
export function makePki(names = ["localhost"], ips = ["127.0.0.1"]): TestPki {
    const caKeys = forge.pki.rsa.generateKeyPair(2048);
    const caName = [{ name: "commonName", value: "vault-ha test CA" }];
    const ca = certificate("01", caName, caName, caKeys.publicKey, caKeys.privateKey, [
        { name: "basicConstraints", cA: true },
        { name: "keyUsage", keyCertSign: true, cRLSign: true },
    ]);
    const keys = forge.pki.rsa.generateKeyPair(2048);
    const cert = certificate("02", [{ name: "commonName", value: names[0] }], caName, keys.publicKey, caKeys.privateKey, [
        { name: "subjectAltName", altNames: [...names.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))] },
        { name: "extKeyUsage", serverAuth: true },
    ]);
    return { caPem: forge.pki.certificateToPem(ca), certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

export interface FrontDoorOptions {
    token: string;
    pki?: TestPki;
    /** sys/health answers 503 (sealed) this many times first. */
    unhealthyFor?: number;
    /** A new kv-v2 mount refuses this many writes while it "upgrades". */
    upgradingWrites?: number;
    /** Reads return another password than was written (a broken round trip). */
    corruptReads?: boolean;
    /** Mounts that exist already: path -> { type, version }. */
    mounts?: Record<string, { type: string; version: string }>;
}

export interface RecordedRequest {
    method: string;
    url: string;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

export class FakeVaultFrontDoor {
    readonly requests: RecordedRequest[] = [];
    private server!: http.Server;
    private readonly mounts: Record<string, { type: string; version: string; writesRefused: number }> = {};
    private readonly data = new Map<string, { data: Record<string, string>; version: number }>();
    private unhealthy: number;

    constructor(private readonly options: FrontDoorOptions) {
        this.unhealthy = options.unhealthyFor ?? 0;
        for (const [path, m] of Object.entries(options.mounts ?? {})) this.mounts[path] = { ...m, writesRefused: 0 };
    }

    async start(): Promise<string> {
        const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
            let body = "";
            req.on("data", (d) => (body += d));
            req.on("end", () => {
                this.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
                const [status, payload] = this.answer(req.method!, new URL(req.url!, "http://x"), req.headers["x-vault-token"], body);
                res.writeHead(status, { "content-type": "application/json" });
                res.end(payload === undefined ? "" : JSON.stringify(payload));
            });
        };
        const pki = this.options.pki;
        this.server = pki ? https.createServer({ key: pki.keyPem, cert: pki.certPem }, handler) : http.createServer(handler);
        await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
        return `${pki ? "https" : "http"}://localhost:${(this.server.address() as AddressInfo).port}`;
    }

    stop(): Promise<void> {
        return new Promise((resolve) => this.server.close(() => resolve()));
    }

    stored(path: string) {
        return this.data.get(path);
    }

    private answer(method: string, url: URL, token: unknown, body: string): [number, unknown] {
        const path = url.pathname;
        if (path === "/v1/sys/health") {
            if (this.unhealthy > 0) {
                this.unhealthy--;
                return [503, { sealed: true }];
            }
            return [200, { initialized: true, sealed: false, standby: false }];
        }
        if (token !== this.options.token) return [403, { errors: ["permission denied"] }];
        const mount = /^\/v1\/sys\/mounts\/([^/]+)$/.exec(path);
        if (mount) {
            const existing = this.mounts[mount[1]];
            if (method === "GET") {
                return existing
                    ? [200, { data: { type: existing.type, options: { version: existing.version } } }]
                    : [400, { errors: [`No secret engine mount at ${mount[1]}/`] }];
            }
            if (existing) return [400, { errors: [`path is already in use at ${mount[1]}/`] }];
            const request = JSON.parse(body);
            this.mounts[mount[1]] = { type: request.type, version: String(request.options?.version ?? "1"), writesRefused: 0 };
            return [204, undefined];
        }
        const kv = /^\/v1\/([^/]+)\/data\/(.+)$/.exec(path);
        const m = kv && this.mounts[kv[1]];
        if (!kv || !m) return [404, { errors: [] }];
        const key = `${kv[1]}/${kv[2]}`;
        if (method === "POST") {
            if (m.writesRefused < (this.options.upgradingWrites ?? 0)) {
                m.writesRefused++;
                return [
                    400,
                    {
                        errors: [
                            "Upgrading from non-versioned to versioned data. This backend will be unavailable for a brief period and will resume service shortly.",
                        ],
                    },
                ];
            }
            const version = (this.data.get(key)?.version ?? 0) + 1;
            this.data.set(key, { data: JSON.parse(body).data, version });
            return [200, { data: { version } }];
        }
        const stored = this.data.get(key);
        if (!stored) return [404, { errors: [] }];
        const data = this.options.corruptReads ? { ...stored.data, password: "something-else" } : stored.data;
        return [200, { data: { data, metadata: { version: stored.version } } }];
    }
}
