// @ts-check
/**
 * SIMULATOR — not Vault. A model of a Vault raft cluster on Kubernetes, following Vault's documented behaviour, that
 * the fake `kubectl` and `vault` commands beside it (bin/) operate on. It exists so the bootstrap's real commands can
 * run here, where there is no Docker. What it models:
 *
 * - pods: created, Running or stuck (with a reason), restarted (new start time, Vault sealed again), recreated (new uid);
 * - `vault status`: exit 0 unsealed, 2 sealed, 1 when the API does not answer; initialized / sealed / t / n / progress;
 * - `vault operator init`: once per cluster, Shamir shares and a threshold (Vault's limits), a root token;
 *   "already initialized" on a second init;
 * - unseal: one share per call, progress counts distinct shares, a repeated share is ignored, a malformed share is
 *   refused at once, a wrong share is detected when the threshold is reached (progress resets), a restart reseals;
 * - raft join: only on an uninitialised node, only to an unsealed leader at its headless-service address, and (with
 *   TLS) only when the CA given verifies the leader's certificate; the joined node stays sealed until unsealed with
 *   the leader's shares, then becomes a member; new members are non-voters until autopilot promotes them;
 * - `raft list-peers`: needs a valid token (from VAULT_TOKEN or ~/.vault-token) and an unsealed node.
 *
 * State lives in one JSON file so that separate processes (the fake commands) share it; a lock directory serialises
 * changes. Every process appends its argv and environment to calls.jsonl, so tests can scan what was exposed.
 */
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

/** @typedef {{ initialized: boolean, sealed: boolean, member: boolean, voter: boolean, progress: string[], promoteAfter: number }} VaultNode */
/** @typedef {{ uid: string, created: boolean, running: boolean, reason?: string, restartCount: number, startedAt: string, runningAfterLists: number, apiDownCalls: number, vault: VaultNode }} Pod */
/** @typedef {{ keys: string[], threshold: number, shares: number, rootToken: string }} Cluster */
/**
 * @typedef {{
 *   namespace: string, release: string, kubeconfig: string, latencyMs: number,
 *   tls: null | { caFile: string, caId: string, serverNames: string[] },
 *   autopilotPromotionLists: number, listCalls: number, inits: number,
 *   certManager: { admitAfterProbes: number, probes: number }, secrets: Record<string, Record<string, string>>,
 *   statusHidesJoin?: boolean,
 *   cluster: Cluster | null, pods: Record<string, Pod>
 * }} State
 */

const NOT_RUNNING = (/** @type {string} */ pod) => `error: unable to upgrade connection: container not found ("vault") in pod ${pod}`;

/** @returns {VaultNode} */
function freshNode() {
    return { initialized: false, sealed: true, member: false, voter: false, progress: [], promoteAfter: 0 };
}

function uid() {
    return crypto.randomUUID();
}

/**
 * @param {{ replicas?: number, namespace?: string, release?: string, kubeconfig?: string, latencyMs?: number }} [options]
 * @returns {State}
 */
function newState(options = {}) {
    const replicas = options.replicas ?? 3;
    const release = options.release ?? "vault";
    /** @type {Record<string, Pod>} */
    const pods = {};
    for (let i = 0; i < replicas; i++) {
        pods[`${release}-${i}`] = {
            uid: uid(),
            created: true,
            running: true,
            restartCount: 0,
            startedAt: new Date(Date.UTC(2026, 10, 28, 4, 0, i)).toISOString(),
            runningAfterLists: 0,
            apiDownCalls: 0,
            vault: freshNode(),
        };
    }
    return {
        namespace: options.namespace ?? "vault",
        release,
        kubeconfig: options.kubeconfig ?? "apiVersion: v1\nkind: Config\n# simulator kubeconfig\n",
        latencyMs: options.latencyMs ?? 0,
        tls: null,
        autopilotPromotionLists: 0,
        listCalls: 0,
        inits: 0,
        certManager: { admitAfterProbes: 0, probes: 0 },
        secrets: {},
        cluster: null,
        pods,
    };
}

/** @param {string} file */
function load(file) {
    return /** @type {State} */ (JSON.parse(fs.readFileSync(file, "utf8")));
}

/** @param {string} file @param {State} state */
function save(file, state) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(state, null, 1));
    fs.renameSync(tmp, file);
}

/** @param {number} ms */
function sleepSync(ms) {
    if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `change` on the state with the lock held, then saves it.
 * @template T @param {string} file @param {(state: State) => T} change @returns {T}
 */
function update(file, change) {
    const lock = `${file}.lock`;
    const deadline = Date.now() + 10_000;
    for (;;) {
        try {
            fs.mkdirSync(lock);
            break;
        } catch {
            if (Date.now() > deadline) throw new Error(`simulator: could not lock ${file}`);
            sleepSync(2);
        }
    }
    try {
        const state = load(file);
        const result = change(state);
        save(file, state);
        return result;
    } finally {
        fs.rmdirSync(lock);
    }
}

/** @param {string} file @param {Record<string, unknown>} entry */
function logCall(file, entry) {
    fs.appendFileSync(path.join(path.dirname(file), "calls.jsonl"), JSON.stringify(entry) + "\n");
}

/** @typedef {{ code: number, stdout: string, stderr: string }} Result */
const ok = (/** @type {unknown} */ body, code = 0) => ({ code, stdout: typeof body === "string" ? body : JSON.stringify(body, null, 2) + "\n", stderr: "" });
const fail = (/** @type {number} */ code, /** @type {string} */ stderr) => ({ code, stdout: "", stderr: stderr + "\n" });
const apiError = (/** @type {string} */ what, /** @type {string} */ url, /** @type {string} */ message) =>
    fail(2, `Error ${what}: Error making API request.\n\nURL: PUT ${url}\nCode: 400. Errors:\n\n* ${message}`);

/** `kubectl get pods -o json` */
/** @param {State} s */
function listPods(s) {
    s.listCalls++;
    const items = Object.entries(s.pods)
        .filter(([, p]) => p.created)
        .map(([name, p]) => {
            if (!p.running && !p.reason && p.runningAfterLists > 0 && s.listCalls >= p.runningAfterLists) p.running = true;
            return {
                metadata: { name, namespace: s.namespace, uid: p.uid, labels: { "app.kubernetes.io/instance": s.release, component: "server" } },
                status: {
                    phase: p.running ? "Running" : "Pending",
                    conditions: p.reason?.startsWith("Unschedulable") ? [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: p.reason.replace(/^Unschedulable: /, "") }] : [],
                    containerStatuses: p.running
                        ? [{ name: "vault", restartCount: p.restartCount, state: { running: { startedAt: p.startedAt } } }]
                        : p.reason && !p.reason.startsWith("Unschedulable")
                          ? [{ name: "vault", restartCount: p.restartCount, state: { waiting: { reason: p.reason } } }]
                          : [],
                },
            };
        });
    return ok({ apiVersion: "v1", kind: "List", items });
}

/** @param {State} s @param {string} pod */
function sealStatus(s, pod) {
    const node = s.pods[pod].vault;
    const known = node.initialized && s.cluster;
    // vault#9618: some versions report a joined, still sealed follower as not initialised.
    const hidden = s.statusHidesJoin && node.initialized && !node.member;
    return {
        type: "shamir",
        initialized: node.initialized && !hidden,
        sealed: node.sealed,
        t: known ? s.cluster.threshold : 0,
        n: known ? s.cluster.shares : 0,
        progress: node.progress.length,
        nonce: "",
        version: "2.0.4",
        storage_type: "raft",
        ha_enabled: true,
    };
}

/** @param {State} s @param {string} pod */
function status(s, pod) {
    const p = s.pods[pod];
    if (p.apiDownCalls > 0) {
        p.apiDownCalls--;
        return fail(1, `Error checking seal status: Get "http://127.0.0.1:8200/v1/sys/seal-status": dial tcp 127.0.0.1:8200: connect: connection refused`);
    }
    const st = sealStatus(s, pod);
    return ok(st, st.sealed ? 2 : 0);
}

/** @param {State} s @param {string} pod @param {number} shares @param {number} threshold */
function init(s, pod, shares, threshold) {
    const node = s.pods[pod].vault;
    const url = "http://127.0.0.1:8200/v1/sys/init";
    if (node.initialized) return apiError("initializing", url, "Vault is already initialized");
    if (shares < 1 || threshold < 1) return apiError("initializing", url, "invalid seal configuration: shares and threshold must be at least one");
    if (shares > 1 && threshold === 1) return apiError("initializing", url, "invalid seal configuration: threshold must be greater than one for multiple shares");
    if (shares > 255) return apiError("initializing", url, "invalid seal configuration: shares must be less than 256");
    if (threshold > shares) return apiError("initializing", url, "invalid seal configuration: threshold cannot be larger than shares");
    const keys = Array.from({ length: shares }, () => crypto.randomBytes(33).toString("base64"));
    s.cluster = { keys, threshold, shares, rootToken: `hvs.${crypto.randomBytes(18).toString("base64url")}` };
    s.inits++;
    Object.assign(node, { initialized: true, sealed: true, member: true, voter: true, progress: [] });
    return ok({
        unseal_keys_b64: keys,
        unseal_keys_hex: keys.map((k) => Buffer.from(k, "base64").toString("hex")),
        unseal_shares: shares,
        unseal_threshold: threshold,
        recovery_keys_b64: [],
        recovery_keys_hex: [],
        recovery_keys_shares: 0,
        recovery_keys_threshold: 0,
        root_token: s.cluster.rootToken,
    });
}

/** @param {State} s @param {string} pod @param {string} key */
function unseal(s, pod, key) {
    const node = s.pods[pod].vault;
    const url = "http://127.0.0.1:8200/v1/sys/unseal";
    if (!node.initialized || !s.cluster) return apiError("writing data to sys/unseal", url, "Vault is not initialized");
    if (!node.sealed) return ok("");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, "base64").length !== 33) {
        return apiError("writing data to sys/unseal", url, "'key' must be a valid hex or base64 string");
    }
    if (!node.progress.includes(key)) node.progress.push(key);
    if (node.progress.length >= s.cluster.threshold) {
        const right = node.progress.every((k) => s.cluster?.keys.includes(k));
        node.progress = [];
        if (!right) return apiError("writing data to sys/unseal", url, "failed to decrypt keyring: cipher: message authentication failed");
        node.sealed = false;
        if (!node.member) {
            // The join completes once the joining node can answer the leader's challenge with the unseal keys.
            node.member = true;
            node.voter = s.autopilotPromotionLists === 0;
            node.promoteAfter = s.autopilotPromotionLists;
        }
    }
    return ok("");
}

/** @param {State} s @param {string} pod */
function resetUnseal(s, pod) {
    s.pods[pod].vault.progress = [];
    return ok(sealStatus(s, pod), s.pods[pod].vault.sealed ? 2 : 0);
}

/**
 * @param {State} s @param {string} pod @param {string} leaderAddr
 * @param {{ caFile?: string, caContent?: string }} tlsArgs
 */
function join(s, pod, leaderAddr, tlsArgs) {
    const node = s.pods[pod].vault;
    const url = "http://127.0.0.1:8200/v1/sys/storage/raft/join";
    if (node.initialized) return apiError("joining raft cluster", url, "raft storage is already initialized");
    // (the message of vault's join handler for a node that holds raft state already)
    const m = /^(https?):\/\/([a-z0-9-]+)\.([a-z0-9-]+):8200$/.exec(leaderAddr);
    const leader = m && s.pods[m[2]];
    if (!m || !leader || m[3] !== `${s.release}-internal`) {
        return apiError("joining raft cluster", url, `failed to join raft cluster: failed to get raft challenge: dial tcp: lookup ${leaderAddr}: no such host`);
    }
    const scheme = m[1];
    if (s.tls && scheme !== "https") return apiError("joining raft cluster", url, "failed to join raft cluster: Client sent an HTTP request to an HTTPS server.");
    if (!s.tls && scheme === "https") return apiError("joining raft cluster", url, "failed to join raft cluster: http: server gave HTTP response to HTTPS client");
    if (s.tls) {
        if (tlsArgs.caFile !== s.tls.caFile) return apiError("joining raft cluster", url, "failed to join raft cluster: tls: failed to verify certificate: x509: certificate signed by unknown authority");
        if (!s.tls.serverNames.includes(`${m[2]}.${m[3]}`)) {
            return apiError("joining raft cluster", url, `failed to join raft cluster: x509: certificate is valid for ${s.tls.serverNames.join(", ")}, not ${m[2]}.${m[3]}`);
        }
    }
    if (!leader.running || !leader.vault.initialized || leader.vault.sealed || !leader.vault.member) {
        return apiError("joining raft cluster", url, "failed to join raft cluster: failed to get raft challenge: Vault is sealed");
    }
    Object.assign(node, { initialized: true, sealed: true, member: false, voter: false, progress: [] });
    return ok("Key       Value\n---       -----\nJoined    true\n");
}

/** @param {State} s @param {string} pod @param {string | undefined} token */
function listPeers(s, pod, token) {
    const node = s.pods[pod].vault;
    const url = "http://127.0.0.1:8200/v1/sys/storage/raft/configuration";
    if (node.sealed) return fail(2, `Error reading the raft cluster configuration: Error making API request.\n\nURL: GET ${url}\nCode: 503. Errors:\n\n* Vault is sealed`);
    if (!s.cluster || token !== s.cluster.rootToken) {
        return fail(2, `Error reading the raft cluster configuration: Error making API request.\n\nURL: GET ${url}\nCode: 403. Errors:\n\n* permission denied`);
    }
    const members = Object.entries(s.pods).filter(([, p]) => p.vault.member);
    for (const [, p] of members) {
        if (!p.vault.voter && --p.vault.promoteAfter <= 0) p.vault.voter = true;
    }
    const leaderName = members.find(([, p]) => p.running && !p.vault.sealed)?.[0];
    return ok({
        request_id: crypto.randomUUID(),
        lease_id: "",
        lease_duration: 0,
        renewable: false,
        data: {
            config: {
                index: members.length,
                servers: members.map(([name, p]) => ({
                    address: `${name}.${s.release}-internal:8201`,
                    leader: name === leaderName,
                    node_id: name,
                    protocol_version: "3",
                    voter: p.vault.voter,
                })),
            },
        },
        warnings: null,
    });
}

/**
 * With TLS the in-pod CLI talks to https://127.0.0.1:8200 and verifies Vault's certificate with VAULT_CACERT: without
 * the right CA every call fails before it reaches Vault.
 * @param {State} s @param {string | undefined} caCert
 */
function tlsRefusal(s, caCert) {
    if (!s.tls || caCert === s.tls.caFile) return undefined;
    return 'Get "https://127.0.0.1:8200/v1/sys/seal-status": tls: failed to verify certificate: x509: certificate signed by unknown authority';
}

/** `kubectl create --dry-run=server` of an Issuer: refused until cert-manager's webhook serves. @param {State} s */
function certManagerProbe(s) {
    s.certManager.probes++;
    if (s.certManager.probes <= s.certManager.admitAfterProbes) {
        return fail(1, 'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook "webhook.cert-manager.io": failed to call webhook: Post "https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=30s": dial tcp 10.96.0.10:443: connect: connection refused');
    }
    return ok("clusterissuer.cert-manager.io/vault-ha-webhook-probe created (server dry run)\n");
}

/** Test helper: the pod's container restarts (laptop reboot, crash): Vault comes back sealed. @param {State} s @param {string} pod */
function restart(s, pod) {
    const p = s.pods[pod];
    p.restartCount++;
    p.startedAt = new Date(Date.parse(p.startedAt) + 3_600_000).toISOString();
    p.vault.sealed = true;
    p.vault.progress = [];
}

/** Test helper: the pod is deleted and the StatefulSet recreates it (same name and volume, new uid). @param {State} s @param {string} pod */
function recreate(s, pod) {
    restart(s, pod);
    s.pods[pod].uid = uid();
    s.pods[pod].restartCount = 0;
}

module.exports = { tlsRefusal, certManagerProbe, newState, load, save, update, logCall, sleepSync, listPods, status, init, unseal, resetUnseal, join, listPeers, restart, recreate, sealStatus, NOT_RUNNING };
