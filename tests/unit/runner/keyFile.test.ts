import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { deleteKeyFile, keyFilePath, readKeyFile, retireKeyFile, writeKeyFile } from "../../../components/runner/keyFile";

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
