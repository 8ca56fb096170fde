import { strict as assert } from "assert";
import { classifyFailure } from "../components/bootstrap/failures";
import { SimClock } from "./simulator/simClock";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { deleteKeyFile, keyFilePath, readKeyFile, retireKeyFile, writeKeyFile } from "../components/bootstrap/keyFile";
import { Redactor } from "../components/bootstrap/redact";
import { bootstrapPlan, pollUntil, StepError } from "../components/bootstrap/steps";
import { VaultRefused, VaultUnavailable } from "../components/bootstrap/vaultOps";

describe("redactor", () => {
    it("scrubs every registered secret, the longest first", () => {
        const r = new Redactor();
        r.add("hvs.ROOTTOKEN-abcdef", "hvs.ROOTTOKEN-abcdef-and-more", "short");
        assert.equal(r.apply("a hvs.ROOTTOKEN-abcdef-and-more b hvs.ROOTTOKEN-abcdef c short"), "a <redacted> b <redacted> c short");
    });

    it("scrubs the base64 blobs of a kubeconfig (client key, certificates)", () => {
        const key = Buffer.from("-----BEGIN EC PRIVATE KEY----- not really a key, but long enough").toString("base64");
        const r = new Redactor();
        r.addKubeconfig(`users:\n- user:\n    client-key-data: ${key}\n`);
        assert.equal(r.apply(`failed: ${key}`), "failed: <redacted>");
    });
});

describe("key file", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "keyfile-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const response = { unseal_keys_b64: ["a2V5MQ==", "a2V5Mg=="], root_token: "hvs.token" };

    it("is keyed by project and stack", () => {
        assert.equal(keyFilePath("vault-ha", "dev"), path.join(".vault-ha", "vault-ha.dev", "init.json"));
        assert.notEqual(keyFilePath("vault-ha", "dev"), keyFilePath("vault-ha", "prod"));
    });

    it("is written whole, 0600 in a 0700 folder, leaving no temporary file", () => {
        const file = path.join(dir, "p.s", "init.json");
        writeKeyFile(file, response);
        assert.deepEqual(fs.readdirSync(path.dirname(file)), ["init.json"]);
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
        const read = readKeyFile(file)!;
        assert.deepEqual(read.unseal_keys_b64, response.unseal_keys_b64);
        assert.match(read.saved_at, /^\d{4}-\d\d-\d\dT/);
    });

    it("never takes a file that is not an init response for keys", () => {
        const file = path.join(dir, "init.json");
        fs.writeFileSync(file, JSON.stringify({ something: "else" }));
        assert.throws(() => readKeyFile(file), /is not a Vault init response \(no unseal_keys_b64 \/ root_token\); it was left untouched/);
        assert.ok(fs.existsSync(file));
    });

    it("moves retired keys aside instead of deleting them, and deletes only on forget", () => {
        const file = path.join(dir, "p.s", "init.json");
        writeKeyFile(file, response);
        const aside = retireKeyFile(file);
        assert.ok(fs.existsSync(aside) && !fs.existsSync(file));
        assert.equal(readKeyFile(file), undefined);
        writeKeyFile(file, response);
        assert.equal(deleteKeyFile(file), true);
        assert.ok(fs.existsSync(aside), "retired keys survive a forget");
        assert.equal(deleteKeyFile(file), false);
    });
});

describe("polling (on simulated time)", () => {
    const ctx = (timeoutMs: number, pollMs = 10) => ({ log: () => undefined, timeoutMs, pollMs, clock: new SimClock(0) });

    it("returns at once when the condition already holds (no fixed sleep)", async () => {
        const c = ctx(1000);
        assert.equal(await pollUntil(c, "x", async () => 42, () => ""), 42);
        assert.equal(c.clock.now(), 0, "no time passed");
    });

    it("retries 'not yet' and 'unavailable', and times out naming what it awaited and what it saw", async () => {
        let calls = 0;
        const c = ctx(300);
        await assert.rejects(
            pollUntil(c, "the thing to happen", async () => {
                calls++;
                if (calls % 2) throw new VaultUnavailable("connection refused");
                return undefined;
            }, () => "still waiting"),
            (err: Error) => err instanceof StepError && /timed out after 0s waiting for the thing to happen; last seen: connection refused/.test(err.message),
        );
        // Polls at 0, 10, ..., 300 ms: the next one would end past the 300 ms deadline.
        assert.equal(calls, 31);
        assert.equal(c.clock.now(), 300);
    });

    it("polls at least every 2 s, even when asked for a longer interval", async () => {
        let calls = 0;
        const c = ctx(10_000, 60_000);
        const value = await pollUntil(c, "x", async () => (++calls === 2 ? "ready" : undefined), () => "");
        assert.equal(value, "ready");
        assert.equal(c.clock.now(), 2000, "the second poll came 2 s after the first");
    });

    it("fails at once on a refusal, without polling again", async () => {
        let calls = 0;
        await assert.rejects(
            pollUntil(ctx(1000, 60_000), "x", async () => {
                calls++;
                throw new VaultRefused("permission denied");
            }, () => ""),
            /permission denied/,
        );
        assert.equal(calls, 1);
    });
});

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
            apiError(500, "failed to join raft cluster: failed to get raft challenge") + '* (vault-1\'s log) error="error during raft bootstrap init call: Error making API request.\\n\\nURL: PUT https://vault-0.vault-internal:8200/v1/sys/storage/raft/bootstrap/challenge\\nCode: 503. Errors:\\n\\n* Vault is sealed"',
            "transient",
            503,
        ],
        ["a certificate the CA did not sign", 'Error checking seal status: Get "https://127.0.0.1:8200/v1/sys/seal-status": tls: failed to verify certificate: x509: certificate signed by unknown authority', "tls", undefined],
        ["the API not listening yet", 'Error checking seal status: Get "http://127.0.0.1:8200/v1/sys/seal-status": dial tcp 127.0.0.1:8200: connect: connection refused', "transient", undefined],
        ["a pod whose container is not running", 'error: unable to upgrade connection: container not found ("vault")', "transient", undefined],
        ["a pod that does not exist yet", 'Error from server (NotFound): pods "vault-2" not found', "transient", undefined],
        ["a wrong kubeconfig", "error: You must be logged in to the server (Unauthorized)", "refused", undefined],
        ["a container name the pod does not have", "Error from server (BadRequest): container vualt is not valid for pod vault-0", "refused", undefined],
        ["an unreadable CA file (a local error, exit 1)", "Failed to parse leader CA certificate: error reading file: open /x/ca.crt: no such file or directory\ncommand terminated with exit code 1", "local", undefined],
        ["flags after the address", "Too many arguments (expected 0-1, got 2)", "local", undefined],
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

describe("bootstrap plan", () => {
    it("puts followers after the leader's unseal and nothing else, and verify after all of them", () => {
        assert.deepEqual(bootstrapPlan(["vault-0", "vault-1", "vault-2"]), [
            { id: "wait-pods", kind: "wait", after: [] },
            { id: "init", kind: "init", pod: "vault-0", after: ["wait-pods"] },
            { id: "unseal-vault-0", kind: "unseal", pod: "vault-0", after: ["init"] },
            { id: "join-vault-1", kind: "join", pod: "vault-1", after: ["unseal-vault-0"] },
            { id: "join-vault-2", kind: "join", pod: "vault-2", after: ["unseal-vault-0"] },
            { id: "verify", kind: "verify", pod: "vault-0", after: ["unseal-vault-0", "join-vault-1", "join-vault-2"] },
        ]);
    });

    it("for a single replica: no joins", () => {
        assert.deepEqual(bootstrapPlan(["vault-0"]).map((s) => s.id), ["wait-pods", "init", "unseal-vault-0", "verify"]);
    });
});
