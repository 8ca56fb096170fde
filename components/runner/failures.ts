/**
 * What a failed `kubectl exec ... vault ...` means: worth waiting for, or a stop with a message.
 *
 * The Vault CLI's exit code does not say it: it exits 2 for every API error, a 500 from a standby as much as a 403
 * (command/operator_raft_join.go and the other commands return 2 after any client error; docs: "2 = remote/server
 * error, API failures, bad TLS"), and 1 for local errors such as an unreadable `-leader-ca-cert=@file`. kubectl exits
 * with the remote command's code, or 1 for its own errors. So the classification reads the text:
 *
 * - an x509/TLS verification failure: fatal; retrying cannot fix a certificate;
 * - `Code: NNN`, the last one where errors nest (api/response.go formats every API error as "Error making API request.\n\nURL: ...\nCode: NNN.
 *   Errors: ..."): 5xx is a server that is not ready yet (a standby without an active node answers 500 "local node
 *   not active but active cluster node not found", a sealed node 503), 4xx is a refusal (400 wrong key, 403 token);
 * - a connection error (the API not listening yet, a pod restarting) and kubectl's own "not there yet" errors:
 *   transient;
 * - anything else (a local CLI error, an unknown flag, a missing file): fatal, with Vault's words in the message.
 */

export type FailureKind = "transient" | "refused" | "tls" | "local";

export interface Failure {
    kind: FailureKind;
    /** The HTTP status Vault answered with, when the error carries one. */
    status?: number;
    /** The last meaningful lines of the output, for messages. */
    summary: string;
}

const TLS_VERIFY =
    /x509: |tls: failed to verify|certificate signed by unknown authority|certificate is valid for|certificate has expired|tls: bad certificate|tls: unknown certificate authority/;
const HTTP_STATUS = /Code: (\d{3})\b/g;
// Go's net/http and dialer errors, as the Vault CLI prints them inside a URL error.
const CONNECTION =
    /connection refused|connection reset by peer|i\/o timeout|no such host|no route to host|network is unreachable|context deadline exceeded|TLS handshake timeout|server misbehaving|: EOF\b|unexpected EOF|broken pipe/;
// kubectl's own errors while a pod or its container is not there yet (or the API server is busy).
// "was stopped (SIGTERM)": kubectlProcess.ts's own per-call timeout ended the call; "does not have a host assigned": the
// API server's answer for a pod not scheduled yet.
const KUBECTL_NOT_YET =
    /unable to upgrade connection|container not found|error dialing backend|Error from server \(NotFound\): pods|is waiting to start|ContainerCreating|the server is currently unable to handle the request|Internal error occurred|The connection to the server .* was refused|etcdserver: request timed out|was stopped \(SIG[A-Z]+\)|does not have a host assigned/;
const KUBECTL_REFUSED = /\(Unauthorized\)|\(Forbidden\)|is not valid for pod/;
// Vault's seal-migration refusals of an unseal (vault/core.go unsealFragment), which the handler answers with a 500
// (http/sys_seal.go handleSysUnseal): no wait changes them, the request must (with or without migrate).
// "failed to obtain seal/recovery configuration": migrate sent to a node whose migration back to Shamir is done
// (vault/core.go getUnsealKey; the recovery configuration is gone: seal_autoseal.go RecoveryConfig).
const SEAL_MIGRATION_REFUSAL =
    /seal migration is pending|no migration seal found|seal migration while joining a raft cluster|failed to obtain seal\/recovery configuration/;

/** The last lines of a command's output, joined: where Vault and kubectl put the reason. */
export function lastLines(text: string, count = 3): string {
    return (
        text
            .trim()
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean)
            .slice(-count)
            .join(" / ") || "no output"
    );
}

export function classifyFailure(output: { stdout?: string; stderr: string }): Failure {
    const text = `${output.stderr}\n${output.stdout ?? ""}`;
    // Vault's API errors put the reason after "Errors:", on the lines starting with "* ".
    const reasons = [...text.matchAll(/^\* (.+)$/gm)].map((m) => m[1]);
    const summary = reasons.length ? reasons.join("; ") : lastLines(output.stderr || output.stdout || "");
    if (TLS_VERIFY.test(text)) return { kind: "tls", summary };
    if (SEAL_MIGRATION_REFUSAL.test(text)) return { kind: "refused", status: 500, summary };
    // A join nests the leader's answer inside the local node's error: the innermost (last) status is the cause.
    const status = [...text.matchAll(HTTP_STATUS)].pop();
    if (status) {
        const code = Number(status[1]);
        // 429 is Vault's "standby" answer of sys/health: a node that is not the active one yet.
        return { kind: code >= 500 || code === 429 ? "transient" : "refused", status: code, summary };
    }
    if (CONNECTION.test(text) || KUBECTL_NOT_YET.test(text)) return { kind: "transient", summary };
    if (KUBECTL_REFUSED.test(text)) return { kind: "refused", summary };
    return { kind: "local", summary };
}
