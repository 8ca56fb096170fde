/**
 * KvProof (components/vault/kvProof.ts): the kv-v2 round trip through VAULT_ADDR.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { COMMAND, dependsOn, FAKE_CA, FAKE_KEYS, FAKE_PASSWORD, ProgramRun, runProgramOnce } from "../support/program";

describe("KvProof (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramOnce();
    });

    it("proves a kv-v2 round trip through VAULT_ADDR after the bootstrap, with token, password and CA on stdin", () => {
        const proof = run.one(COMMAND, "kv-proof-roundtrip");
        assert.match(proof.inputs.create, /cli\.ts kv-proof$/);
        dependsOn(proof, run.one(COMMAND, "bootstrap-verify"));
        assert.deepEqual(proof.inputs.environment, {
            VAULT_HA_VAULT_ADDR: "https://localhost:30000",
            VAULT_HA_KV_MOUNT: "mysecret",
            VAULT_HA_KV_PATH: "logins/study",
            VAULT_HA_KV_USERNAME: "demo",
            VAULT_HA_TIMEOUT_SECONDS: "300",
        });
        assert.ok(proof.secretInputs.includes("stdin"));
        assert.deepEqual(JSON.parse(proof.inputs.stdin), { rootToken: FAKE_KEYS.rootToken, password: FAKE_PASSWORD, caCert: FAKE_CA });
        const exposed = JSON.stringify([proof.inputs.create, proof.inputs.environment]);
        for (const secret of [FAKE_KEYS.rootToken, FAKE_PASSWORD]) assert.ok(!exposed.includes(secret));
        const password = run.one("random:index/randomPassword:RandomPassword", "kv-proof-password");
        assert.equal(password.inputs.length, 24);
    });
});
