/**
 * The model that runs fix lines (fixLines.ts) is as strict as the Pulumi CLI about list settings, so that a fix the
 * CLI would store as text (and `pulumi up` then refuse) fails the tests that apply fixes.
 */
import { strict as assert } from "assert";
import { parseSettings } from "../../../components/config/settings";
import { applyCommands, toMap, toRaw } from "./fixLines";

const run = (line: string, raw: Record<string, string> = {}) => applyCommands(line.split(" && "), toMap(raw));

describe("fix lines model: list settings as the Pulumi CLI stores them", () => {
    it("refuses a plain set of a list setting: the CLI stores text, which up refuses for a type: array key", () => {
        assert.throws(
            () => run("npm run config -- set vault-ha:nodePorts '[30000,30002]'"),
            /Stack 'dev' with configuration key 'nodePorts' must be of type 'array<integer>'/,
        );
        assert.throws(
            () => run(`npm run config -- set vault-ha:tlsExtraNames '["vault.example.com"]'`),
            /configuration key 'tlsExtraNames' must be of type 'array<string>'/,
        );
    });

    it("builds a list with set --path, numbers for whole numbers, and the program reads it", () => {
        const config = run(
            "npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts[0]' 30000 && npm run config -- set --path 'vault-ha:nodePorts[1]' 30002",
            { nodePorts: "[30000,30001,30003]" },
        );
        assert.deepEqual(config["vault-ha:nodePorts"].list, [30000, 30002]);
        assert.deepEqual(parseSettings(toRaw(config)).settings.nodePorts, [30000, 30002]);
    });

    it("without rm, set --path keeps the items past the index, as the CLI does", () => {
        const config = run("npm run config -- set --path 'vault-ha:nodePorts[0]' 30005", { nodePorts: "[30000,30001]" });
        assert.deepEqual(config["vault-ha:nodePorts"].list, [30005, 30001]);
    });

    it("refuses what the CLI refuses: an index past the end, an item of the wrong type", () => {
        assert.throws(
            () => run("npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts[1]' 30000"),
            /array index out of range/,
        );
        // A leading zero keeps the item text (map.go adjustObjectValue), which array<integer> refuses.
        assert.throws(() => run("npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts[0]' 030000"), /array<integer>/);
        assert.throws(() => run("npm run config -- rm vault-ha:tlsExtraNames && npm run config -- set --path 'vault-ha:tlsExtraNames[0]' 42"), /array<string>/);
    });
});
