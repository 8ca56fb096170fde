import { strict as assert } from "assert";
import { classifyFailure } from "../../../components/runner/failures";

describe("classifying a failed kubectl exec (failures.ts)", () => {
    const apiError = (code: number, message: string) =>
        `Error joining the node to the Raft cluster: Error making API request.\n\nURL: POST https://127.0.0.1:8200/v1/sys/storage/raft/join\nCode: ${code}. Errors:\n\n* ${message}\ncommand terminated with exit code 2\n`;
    const cases: Array<[string, string, string, number | undefined]> = [
        ["a standby without an active node (500)", apiError(500, "local node not active but active cluster node not found"), "transient", 500],
        ["a sealed node (503)", apiError(503, "Vault is sealed"), "transient", 503],
        ["a wrong unseal key (400)", apiError(400, "Unseal failed, invalid key"), "refused", 400],
        ["a bad token (403)", apiError(403, "permission denied"), "refused", 403],
        [
            "a join whose cause is in the log: the innermost status counts",
            apiError(500, "failed to join raft cluster: failed to get raft challenge") +
                '* (vault-1\'s log) error="error during raft bootstrap init call: Error making API request.\\n\\nURL: PUT https://vault-0.vault-internal:8200/v1/sys/storage/raft/bootstrap/challenge\\nCode: 503. Errors:\\n\\n* Vault is sealed"',
            "transient",
            503,
        ],
        [
            "a certificate the CA did not sign",
            'Error checking seal status: Get "https://127.0.0.1:8200/v1/sys/seal-status": tls: failed to verify certificate: x509: certificate signed by unknown authority',
            "tls",
            undefined,
        ],
        [
            "the API not listening yet",
            'Error checking seal status: Get "http://127.0.0.1:8200/v1/sys/seal-status": dial tcp 127.0.0.1:8200: connect: connection refused',
            "transient",
            undefined,
        ],
        ["a pod whose container is not running", 'error: unable to upgrade connection: container not found ("vault")', "transient", undefined],
        ["a pod that does not exist yet", 'Error from server (NotFound): pods "vault-2" not found', "transient", undefined],
        ["a wrong kubeconfig", "error: You must be logged in to the server (Unauthorized)", "refused", undefined],
        ["a container name the pod does not have", "Error from server (BadRequest): container vualt is not valid for pod vault-0", "refused", undefined],
        [
            "an unreadable CA file (a local error, exit 1)",
            "Failed to parse leader CA certificate: error reading file: open /x/ca.crt: no such file or directory\ncommand terminated with exit code 1",
            "local",
            undefined,
        ],
        ["flags after the address", "Too many arguments (expected 0-1, got 2)", "local", undefined],
        [
            // vault/core.go unsealFragment's refusals are 500s (http/sys_seal.go), yet no wait changes them.
            "a plain unseal of a node in seal migration mode",
            "Error writing data to sys/unseal: Error making API request.\n\nURL: PUT https://127.0.0.1:8200/v1/sys/unseal\nCode: 500. Errors:\n\n* migrate option not provided and seal migration is pending",
            "refused",
            500,
        ],
        [
            "a migrate unseal of a node with no migration seal",
            "Error writing data to sys/unseal: Error making API request.\n\nURL: PUT https://127.0.0.1:8200/v1/sys/unseal\nCode: 500. Errors:\n\n* can't perform a seal migration, no migration seal found",
            "refused",
            500,
        ],
    ];
    for (const [what, stderr, kind, status] of cases) {
        it(`${what}: ${kind}`, () => {
            const failure = classifyFailure({ stderr });
            assert.equal(failure.kind, kind);
            assert.equal(failure.status, status);
        });
    }

    it("summarises Vault's reasons, not the boilerplate", () => {
        assert.equal(classifyFailure({ stderr: apiError(400, "Unseal failed, invalid key") }).summary, "Unseal failed, invalid key");
    });
});

describe("classifying kubectl's own trouble", () => {
    it("our per-call timeout ending kubectl, and a pod without a node yet, are 'not yet'", () => {
        assert.equal(classifyFailure({ stderr: "\nkubectl exec was stopped (SIGTERM)" }).kind, "transient");
        assert.equal(classifyFailure({ stderr: "Error from server (BadRequest): pod vault-2 does not have a host assigned" }).kind, "transient");
    });
});
