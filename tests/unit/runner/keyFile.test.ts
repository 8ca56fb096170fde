import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { deleteKeyFile, KeyFileError, keyFilePath, keySettingsNotice, readKeyFile, retireKeyFile, writeKeyFile } from "../../../components/runner/keyFile";

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
        assert.throws(
            () => readKeyFile(file),
            /is not a Vault init response \(it needs unseal_keys_b64, a list of keys, and root_token\)\. vault-ha left it untouched/,
        );
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

describe("a key file that is there but cannot be used", () => {
    let dir: string;
    let file: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-ha-keyfile-"));
        file = path.join(dir, "init.json");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const cases: Array<[string, () => void, RegExp]> = [
        ["empty", () => fs.writeFileSync(file, ""), /is empty/],
        ["cut off mid-write", () => fs.writeFileSync(file, '{"unseal_keys_b64": ["a2V5"'), /is not valid JSON/],
        ["not an init response", () => fs.writeFileSync(file, '{"keys": []}'), /is not a Vault init response/],
        ["keys that are not strings", () => fs.writeFileSync(file, '{"unseal_keys_b64": [1, 2], "root_token": "hvs.x"}'), /is not a Vault init response/],
        ["a directory in its place", () => fs.mkdirSync(file), /is a directory, not a file/],
    ];
    for (const [what, make, problem] of cases) {
        it(`${what}: names the file, the problem and the way out, and leaves it untouched`, () => {
            make();
            const before = fs.statSync(file).isDirectory() ? "dir" : fs.readFileSync(file, "utf8");
            assert.throws(
                () => readKeyFile(file),
                (err: Error) =>
                    err instanceof KeyFileError &&
                    err.message.includes(`the key file ${file} `) &&
                    problem.test(err.message) &&
                    err.message.includes(`mv ${file} ${file}.broken`) &&
                    err.message.includes("npm run config -- set --secret vault-ha:unsealKeys"),
            );
            assert.equal(fs.statSync(file).isDirectory() ? "dir" : fs.readFileSync(file, "utf8"), before);
        });
    }

    it("destroy leaves a directory in the key file's place alone", () => {
        fs.mkdirSync(file);
        assert.equal(deleteKeyFile(file), false);
        assert.ok(fs.statSync(file).isDirectory());
    });
});

describe("key settings changed after init (keySettingsNotice)", () => {
    const saved = { unseal_keys_b64: ["a", "b", "c", "d", "e"], unseal_threshold: 3 };

    it("says nothing while the settings match Vault's, or before init", () => {
        assert.equal(keySettingsNotice(saved, 5, 3), undefined);
        assert.equal(keySettingsNotice(undefined, 7, 4), undefined);
        assert.equal(keySettingsNotice({ unseal_keys_b64: ["a", "b", "c", "d", "e"] }, 5, 4), undefined, "an answer without a threshold: shares only");
    });

    it("says that changed shares or threshold apply only at init, and how to change them", () => {
        for (const [shares, threshold] of [
            [7, 3],
            [5, 4],
        ]) {
            const notice = keySettingsNotice(saved, shares, threshold)!;
            assert.match(
                notice,
                new RegExp(`keyShares/keyThreshold are ${shares}/${threshold}, but Vault was initialised with 5 shares, threshold 3: they apply only at init`),
            );
            assert.match(notice, /vault operator rekey/);
        }
    });

    it("saves the new keys with a fix that works in a plain shell, naming any stack but dev", () => {
        assert.match(
            keySettingsNotice(saved, 7, 3)!,
            /save the new keys \(a JSON list, typed when asked\) with npm run config -- set --secret vault-ha:unsealKeys,/,
        );
        assert.match(keySettingsNotice(saved, 7, 3, "prod")!, /with PULUMI_STACK=prod npm run config -- set --secret vault-ha:unsealKeys,/);
    });
});
