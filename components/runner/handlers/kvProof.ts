/**
 * The proof through the front door: from the host, through VAULT_ADDR (the NodePort, a load balancer, or a
 * `kubectl port-forward` the step opens and closes itself), over TLS verified with the cluster CA, enable a kv-v2
 * engine, write a secret and read it back. The token travels in a request header, from this process's memory: never
 * an argument or an environment variable.
 */
import * as http from "http";
import * as https from "https";
import { ContractError, StepParams } from "../../stepCommand/contract";
import { PollContext, pollUntil, StepError } from "../poll";
import { withPortForward } from "../portForward";
import { Handler, withKubectl } from "../runtime";
import { VaultUnavailable } from "../vaultOps";

export interface FrontDoor {
    /** e.g. https://localhost:30000 */
    addr: string;
    /** PEM of the CA that signed Vault's certificate; absent for plain HTTP. */
    ca?: string;
    token?: string;
    /**
     * The name the certificate must hold, when it is not addr's host (a load balancer's bare IP): Node's https
     * `servername` (tls.connect sends it as SNI and checks the certificate against it, not against the host).
     */
    servername?: string;
    /** Called before every request (a port-forward that ended is opened again here, which may change addr). */
    before?: () => Promise<void>;
}

interface Response {
    status: number;
    body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const TLS_FAILURES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|altnames|certificate/i;

export async function vaultRequest(door: FrontDoor, method: string, path: string, body?: unknown): Promise<Response> {
    await door.before?.();
    const url = new URL(path, door.addr);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (door.token) headers["X-Vault-Token"] = door.token;
    const tls: https.RequestOptions = { ca: door.ca, ...(door.servername ? { servername: door.servername } : {}) };
    const options: https.RequestOptions = { method, headers, timeout: 10_000, ...(url.protocol === "https:" ? tls : {}) };
    const verifiedAs = door.servername ? ` as ${door.servername}` : "";
    return new Promise((resolve, reject) => {
        const req = (url.protocol === "https:" ? https : http).request(url, options, (res) => {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => {
                let parsed: unknown;
                try {
                    parsed = text ? JSON.parse(text) : undefined;
                } catch {
                    parsed = { raw: text };
                }
                resolve({ status: res.statusCode ?? 0, body: parsed });
            });
        });
        req.on("timeout", () => req.destroy(new Error("no answer within 10s")));
        req.on("error", (err: NodeJS.ErrnoException) => {
            if (TLS_FAILURES.test(`${err.code ?? ""} ${err.message}`)) {
                reject(new StepError(`could not verify Vault's certificate at ${door.addr}${verifiedAs} with the cluster CA: ${err.message}`));
            } else {
                reject(new VaultUnavailable(`${method} ${url.origin}${url.pathname}: ${err.message}`));
            }
        });
        req.end(payload);
    });
}

const errors = (r: Response) => (Array.isArray(r.body?.errors) ? r.body.errors.join("; ") : JSON.stringify(r.body));

/** Where the proof writes, and what. */
export interface KvSecret {
    mount: string;
    path: string;
    data: Record<string, string>;
}

/**
 * A read, asked again while the connection fails (a port-forward whose pod went is reopened before the next try);
 * reads change nothing, so a lost answer is simply asked for again.
 */
function readAgain(ctx: PollContext, door: FrontDoor, path: string): Promise<Response> {
    return pollUntil(
        ctx,
        `Vault to answer GET ${path} at ${door.addr}`,
        () => vaultRequest(door, "GET", path),
        () => "",
    );
}

/** Enables kv-v2 at `mount` unless it is there, writes `data` at `path` and reads it back; fails unless it round-trips. */
export async function kvRoundTrip(ctx: PollContext, door: FrontDoor, p: KvSecret): Promise<{ path: string; version: number }> {
    // Sealed or starting pods are not behind the NodePort yet: wait until one answers as active or standby.
    await pollUntil(
        ctx,
        `Vault to answer at ${door.addr}`,
        async () => {
            const health = await vaultRequest(door, "GET", "/v1/sys/health?standbyok=true");
            if (health.status === 200) return true;
            throw new VaultUnavailable(`sys/health answered ${health.status}`);
        },
        () => "",
    );

    const mount = await readAgain(ctx, door, `/v1/sys/mounts/${p.mount}`);
    if (mount.status === 200) {
        const info = mount.body?.data ?? mount.body;
        if (info?.type !== "kv" || String(info?.options?.version) !== "2") {
            throw new StepError(
                `${p.mount}/ is already mounted as ${info?.type} (version ${info?.options?.version ?? "1"}), not kv-v2: choose another vault-ha:kvMount`,
            );
        }
    } else {
        const enabled = await vaultRequest(door, "POST", `/v1/sys/mounts/${p.mount}`, { type: "kv", options: { version: "2" } });
        if (enabled.status >= 300) throw new StepError(`enabling kv-v2 at ${p.mount}/ failed (${enabled.status}): ${errors(enabled)}`);
        ctx.log(`enabled kv-v2 at ${p.mount}/`);
    }

    // A new kv-v2 mount needs a moment to set itself up; until then writes are refused with a retryable error.
    const written = await pollUntil(
        ctx,
        `kv-v2 at ${p.mount}/ to accept a write`,
        async () => {
            const r = await vaultRequest(door, "POST", `/v1/${p.mount}/data/${p.path}`, { data: p.data });
            if (r.status === 200) return r;
            if (r.status >= 500 || /upgrad|not yet|no handler/i.test(errors(r))) throw new VaultUnavailable(`write answered ${r.status}: ${errors(r)}`);
            throw new StepError(`writing ${p.mount}/${p.path} failed (${r.status}): ${errors(r)}`);
        },
        () => "",
    );

    const read = await readAgain(ctx, door, `/v1/${p.mount}/data/${p.path}`);
    const got = read.body?.data?.data ?? {};
    const matches = Object.entries(p.data).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(p.data).length;
    if (read.status !== 200 || !matches) {
        throw new StepError(`reading ${p.mount}/${p.path} back through ${door.addr} did not return what was written (${read.status})`);
    }
    const version = Number(written.body?.data?.version ?? read.body?.data?.metadata?.version ?? 0);
    ctx.log(`wrote and read back ${p.mount}/${p.path} (version ${version}) through ${door.addr}`);
    return { path: `${p.mount}/${p.path}`, version };
}

/** The port-forward parameters, all three or none. */
function portForwardTarget(p: StepParams<"kv-proof">) {
    const given = [p.portForwardNamespace, p.portForwardService, p.portForwardPort].filter((v) => v !== undefined).length;
    if (given === 0) return undefined;
    if (given !== 3) {
        throw new ContractError(
            "VAULT_HA_PORT_FORWARD_NAMESPACE, VAULT_HA_PORT_FORWARD_SERVICE and VAULT_HA_PORT_FORWARD_PORT go together (vault-ha passes all three or none)",
        );
    }
    return { namespace: p.portForwardNamespace!, service: p.portForwardService!, remotePort: p.portForwardPort! };
}

/**
 * Through the front door, like a user: no kubectl at all, unless Vault is only reachable through a port-forward,
 * which the step then opens itself and always closes.
 */
export const kvProofStep: Handler<"kv-proof"> = async (p, secrets, ctx) => {
    const secret: KvSecret = { mount: p.kvMount, path: p.kvPath, data: { username: p.kvUsername, password: secrets.password } };
    const door: FrontDoor = { addr: p.vaultAddr, ca: secrets.caCert || undefined, token: secrets.rootToken, servername: p.tlsServerName };
    const target = portForwardTarget(p);
    if (!target) return kvRoundTrip(ctx, door, secret);
    if (!secrets.kubeconfig) throw new ContractError("step kv-proof needs kubeconfig on stdin for its port-forward");
    const scheme = new URL(p.vaultAddr).protocol;
    return withKubectl(ctx, secrets.kubeconfig, (kubectl) =>
        withPortForward(ctx, kubectl, target, (forward) => {
            const through: FrontDoor = {
                ...door,
                get addr() {
                    return `${scheme}//127.0.0.1:${forward.localPort}`;
                },
                before: async () => {
                    await forward.ensureOpen();
                },
            };
            return kvRoundTrip(ctx, through, secret);
        }),
    );
};
