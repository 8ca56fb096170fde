import { strict as assert } from "assert";
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

describe("polling", () => {
    const ctx = (timeoutMs: number) => ({ log: () => undefined, timeoutMs, pollMs: 10 });

    it("returns at once when the condition already holds (no fixed sleep)", async () => {
        const started = Date.now();
        assert.equal(await pollUntil(ctx(1000), "x", async () => 42, () => ""), 42);
        assert.ok(Date.now() - started < 20);
    });

    it("retries 'not yet' and 'unavailable', and times out naming what it awaited and what it saw", async () => {
        let calls = 0;
        await assert.rejects(
            pollUntil(ctx(300), "the thing to happen", async () => {
                calls++;
                if (calls % 2) throw new VaultUnavailable("connection refused");
                return undefined;
            }, () => "still waiting"),
            (err: Error) => err instanceof StepError && /timed out after \ds waiting for the thing to happen; last seen: (connection refused|still waiting)/.test(err.message),
        );
        assert.ok(calls >= 2, `retried (${calls} calls)`);
    });

    it("polls at least every 2 s, even when asked for a longer interval", async () => {
        let calls = 0;
        const started = Date.now();
        const value = await pollUntil({ log: () => undefined, timeoutMs: 10_000, pollMs: 60_000 }, "x", async () => (++calls === 2 ? "ready" : undefined), () => "");
        assert.equal(value, "ready");
        const waited = Date.now() - started;
        assert.ok(waited >= 1900 && waited < 3000, `waited ${waited} ms between two polls`);
    });

    it("fails at once on a refusal, without polling again", async () => {
        let calls = 0;
        await assert.rejects(
            pollUntil({ log: () => undefined, timeoutMs: 1000, pollMs: 60_000 }, "x", async () => {
                calls++;
                throw new VaultRefused("permission denied");
            }, () => ""),
            /permission denied/,
        );
        assert.equal(calls, 1);
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
