/**
 * The new refusals stop index.ts before its first resource: the program, run under Pulumi's mocks with each mistake,
 * registers nothing and fails with the ConfigError that names the setting.
 */
import { strict as assert } from "assert";
import { runProgram } from "../../support/program";

describe("configuration mistakes stop the program before anything is registered", () => {
    const mistakes: Array<[Record<string, string>, RegExp]> = [
        [{ raftStorageSize: "0" }, /vault-ha:raftStorageSize = "0": must be at least 1Gi/],
        [{ kvMount: "sys" }, /vault-ha:kvMount = "sys": is reserved by Vault/],
        [{ workers: "0x3" }, /vault-ha:workers = "0x3": must be a whole number written in decimal digits/],
        [{ vaultNamespace: "kube-system" }, /vault-ha:vaultNamespace = "kube-system": is reserved/],
        [{ vaultNamespace: "whoami" }, /vault-ha:vaultNamespace = "whoami": is also whoamiNamespace/],
        [{ nodePorts: "[]" }, /vault-ha:nodePorts = "\[\]": must list at least one port/],
    ];
    for (const [config, expected] of mistakes) {
        it(JSON.stringify(config), async () => {
            await assert.rejects(runProgram(config), (err: Error) => {
                assert.equal(err.name, "ConfigError");
                assert.match(err.message, expected);
                assert.deepEqual((err as Error & { registrations: unknown[] }).registrations, []);
                return true;
            });
        });
    }
});
