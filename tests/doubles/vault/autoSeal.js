// @ts-check
/**
 * SIMULATOR — not Vault. The pure parts of the auto-unseal model (model.js holds the state and the events): what the
 * pods' server configuration says about the seal and raft's retry_join, read from the configuration Helm rendered, and
 * the errors a seal's KMS gives when it does not answer, as Vault reports them.
 *
 * Upstream, for every behaviour here and in model.js's auto-seal parts (research: /work/research/seals.md):
 * - command/server.go setSeal: the wrapper's SetConfig runs at process start and checks the key (awskms DescribeKey,
 *   gcpckms GetCryptoKey, azurekeyvault GetKey, transit a test Encrypt: go-kms-wrapping wrappers/*); an error makes
 *   `vault server` print "error parsing Seal configuration: <error>" and exit 1 (third-party logs show the line).
 * - command/server.go runUnseal: core.UnsealWithStoredKeys every 5 s until it succeeds, logging
 *   "failed to unseal core" (vault/init.go UnsealWithStoredKeys: "stored unseal keys are supported, but none were
 *   found" before the node has data, "fetching stored unseal keys failed: <error>" when the KMS does not decrypt).
 * - vault/raft.go JoinRaftCluster: retry_join tries every leader, every 2 s ("failed to retry join raft cluster"),
 *   refuses a leader of another seal type ("mismatching seal types between raft leader (%s) and follower (%s)"), and
 *   an auto-sealed follower answers the challenge with its seal ("error decrypting challenge: ..." without the KMS).
 */

/**
 * @typedef {{ type: string, stanza: Record<string, string> }} SealStanza
 * @typedef {{ leaderApiAddr: string, leaderCaCertFile?: string }} RetryJoin
 * @typedef {{ seal: SealStanza | null, retryJoin: RetryJoin[] }} ServerConfig
 */

/** `key = "value"` lines of one block body, and bare booleans. @param {string} body */
function attributes(body) {
    /** @type {Record<string, string>} */
    const out = {};
    for (const m of body.matchAll(/^\s*([a-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$/gm)) out[m[1]] = m[2] !== undefined ? JSON.parse(`"${m[2]}"`) : m[3];
    return out;
}

/**
 * What the server configuration (the chart's ConfigMap, as vault-ha writes it: components/vault/vaultValues.ts
 * renderHcl) says about the seal and raft's retry_join. Only the shapes vault-ha writes are read; anything that looks
 * like a seal or retry_join block but is not read whole fails loudly, so that a change of shape is seen.
 * @param {string} hcl @returns {ServerConfig}
 */
function parseServerConfig(hcl) {
    const seals = [...hcl.matchAll(/^seal "([a-z]+)" \{\n([\s\S]*?)^\}/gm)];
    if (seals.length > 1) throw new Error("(simulator: more than one seal stanza: Vault CE refuses two enabled seals)");
    const retryJoin = [...hcl.matchAll(/^ {2}retry_join \{\n([\s\S]*?)^ {2}\}/gm)].map((m) => {
        const a = attributes(m[1]);
        if (!a.leader_api_addr) throw new Error(`(simulator: a retry_join block without leader_api_addr: ${m[0]})`);
        return { leaderApiAddr: a.leader_api_addr, ...(a.leader_ca_cert_file ? { leaderCaCertFile: a.leader_ca_cert_file } : {}) };
    });
    if ((hcl.match(/retry_join/g) ?? []).length !== retryJoin.length) throw new Error("(simulator: a retry_join block the model cannot read)");
    return { seal: seals[0] ? { type: seals[0][1], stanza: attributes(seals[0][2]) } : null, retryJoin };
}

/**
 * The error a seal's KMS gives for `op` when it does not answer, as the wrapper returns it; each names the key as the
 * cloud's error does. The shapes are those of real reports (seals.md §1, §6: AWS SDK v1's "<Code>: <message>\n\tstatus
 * code: ..., request id: ..." of awserr; GCP's gRPC status; azure-sdk-for-go's ResponseError; the transit Vault's API
 * error); the exact words of each cloud's message are inference.
 * @param {SealStanza} seal @param {"check" | "encrypt" | "decrypt"} op
 */
function kmsError(seal, op) {
    const a = seal.stanza;
    switch (seal.type) {
        case "awskms": {
            const action = { check: "kms:DescribeKey", encrypt: "kms:Encrypt", decrypt: "kms:Decrypt" }[op];
            const prefix = op === "check" ? "error fetching AWS KMS wrapping key information: " : "";
            return `${prefix}AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/vault/1764302400000000000 is not authorized to perform: ${action} on resource: ${a.kms_key_id} because no identity-based policy allows the ${action} action\n\tstatus code: 400, request id: 0b6c3b1e-6f7a-4c2e-9a55-3f0e8c1d2a47`;
        }
        case "gcpckms": {
            const name = `projects/${a.project}/locations/${a.region}/keyRings/${a.key_ring}/cryptoKeys/${a.crypto_key}`;
            if (op === "check")
                return `error checking key existence: rpc error: code = PermissionDenied desc = Permission 'cloudkms.cryptoKeys.get' denied on resource '${name}' (or it may not exist).`;
            const permission = op === "encrypt" ? "cloudkms.cryptoKeyVersions.useToEncrypt" : "cloudkms.cryptoKeyVersions.useToDecrypt";
            return `rpc error: code = PermissionDenied desc = Permission '${permission}' denied on resource '${name}' (or it may not exist).`;
        }
        case "azurekeyvault": {
            const url = `https://${a.vault_name}.vault.azure.net/keys/${a.key_name}/${op === "check" ? "" : op === "encrypt" ? "wrapkey" : "unwrapkey"}`;
            const prefix = op === "check" ? "error fetching Azure Key Vault wrapper key information: " : "";
            const line = "-".repeat(80);
            return `${prefix}${op === "check" ? "GET" : "POST"} ${url}\n${line}\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n${line}\n{"error":{"code":"Forbidden","message":"Caller is not authorized to perform action on resource."}}\n${line}`;
        }
        case "transit": {
            // The test Encrypt of the check and every later call: PUT <address>/v1/<mount_path><op>/<key_name>.
            const path = `${a.mount_path ?? "transit/"}${op === "decrypt" ? "decrypt" : "encrypt"}/${a.key_name}`;
            return `Error making API request.\n\nURL: PUT ${a.address}/v1/${path}\nCode: 503. Errors:\n\n* Vault is sealed`;
        }
    }
    throw new Error(`(simulator: no KMS model for seal "${seal.type}")`);
}

/** What `vault server` prints before it exits when the seal's check fails (command/server.go setSeal). @param {SealStanza} seal */
function sealConfigurationError(seal) {
    return `error parsing Seal configuration: ${kmsError(seal, "check")}`;
}

/**
 * The kubelet's restart back-off for a container that keeps exiting: 10 s, doubled after each exit, at most 5 min
 * (kubernetes docs: pod lifecycle, "Container restarts"; pkg/kubelet/kubelet.go backOffPeriod, MaxContainerBackOff).
 * @param {number | undefined} previousMs the back-off before this exit, if the container was already crash-looping
 */
function nextBackOffMs(previousMs) {
    return previousMs === undefined ? 10_000 : Math.min(previousMs * 2, 300_000);
}

module.exports = { parseServerConfig, kmsError, sealConfigurationError, nextBackOffMs };
