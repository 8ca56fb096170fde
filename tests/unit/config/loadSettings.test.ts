/**
 * The program's reader (loadSettings, in components/config/settings.ts): what the running program sees is all of the
 * stack's config, every package's keys included, with the stack's name. Checked under Pulumi's mocks, without index.ts.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { loadSettings } from "../../../components/config/settings";
import { rejectionOf } from "./problems";

async function withStack(stack: string, config: Record<string, string>, secretKeys: string[] = []): Promise<void> {
    await pulumi.runtime.setMocks(
        { newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }), call: (args) => args.inputs },
        "vault-ha",
        stack,
        false,
    );
    pulumi.runtime.setAllConfig(config, secretKeys);
}

describe("loadSettings (the program's reader)", () => {
    const warn = pulumi.log.warn;
    let warnings: string[];
    beforeEach(() => {
        warnings = [];
        (pulumi.log as { warn: (message: string) => void }).warn = (message: string) => void warnings.push(message);
    });
    afterEach(() => {
        (pulumi.log as { warn: typeof warn }).warn = warn;
    });

    it("names the stack in every fix when it is not dev", async () => {
        await withStack("prod", { "vault-ha:workers": "0x3" });
        const problems = rejectionOf(() => loadSettings());
        assert.equal(problems.length, 1);
        assert.equal(
            problems[0].fix,
            "PULUMI_STACK=prod npm run config -- set vault-ha:workers 3, or PULUMI_STACK=prod npm run config -- rm vault-ha:workers for the default (3)",
        );
    });

    it("leaves the stack out for dev, the stack npm run up uses", async () => {
        await withStack("dev", { "vault-ha:workers": "0x3" });
        assert.equal(
            rejectionOf(() => loadSettings())[0].fix,
            "npm run config -- set vault-ha:workers 3, or npm run config -- rm vault-ha:workers for the default (3)",
        );
    });

    it("refuses a setting under a misspelled project prefix, which it would otherwise never read", async () => {
        await withStack("dev", { "vaul-ha:workers": "9" });
        const problems = rejectionOf(() => loadSettings());
        assert.equal(problems.length, 1);
        assert.match(problems[0].what, /^vaul-ha:workers is not read by vault-ha, whose settings are vault-ha:<name>; did you mean vault-ha:workers\?$/);
        assert.equal(problems[0].fix, "npm run config -- rm vaul-ha:workers && npm run config -- set vault-ha:workers 9");
    });

    it("never repeats a secret value in a fix", async () => {
        await withStack("dev", { "vaulha:rootToken": "hvs.SECRET" }, ["vaulha:rootToken"]);
        const problems = rejectionOf(() => loadSettings());
        assert.equal(problems[0].fix, "npm run config -- rm vaulha:rootToken && npm run config -- set --secret vault-ha:rootToken");
    });

    it("leaves other packages' config alone", async () => {
        await withStack("dev", { "kubernetes:context": "kind-vault", "command:foo": "bar", "vault-ha:workers": "4" });
        assert.equal(loadSettings().settings.workers, 4);
    });

    it("names the stack in the adoption fixes, and reports them with the settings' problems", async () => {
        await withStack("prod", { "vault-ha:unsealKeys": '["a","b","c"]', "vault-ha:rootToken": "hvs.T", "vault-ha:workers": "0" }, ["vault-ha:rootToken"]);
        const problems = rejectionOf(() => loadSettings());
        assert.deepEqual(
            problems.map((p) => p.fix),
            [
                "PULUMI_STACK=prod npm run config -- set vault-ha:workers 3, or PULUMI_STACK=prod npm run config -- rm vault-ha:workers for the default (3)",
                `type the keys as a JSON list, ["<key 1>","<key 2>","<key 3>"], when asked: PULUMI_STACK=prod npm run config -- set --secret vault-ha:unsealKeys`,
            ],
        );
    });

    it("logs the warnings and returns the adopted keys", async () => {
        await withStack("dev", { "vault-ha:vaultReplicas": "2", "vault-ha:unsealKeys": '["a","b","c"]', "vault-ha:rootToken": "hvs.T" }, [
            "vault-ha:unsealKeys",
            "vault-ha:rootToken",
        ]);
        const { settings, adopted } = loadSettings();
        assert.equal(settings.vaultReplicas, 2);
        assert.deepEqual(adopted, { unsealKeys: ["a", "b", "c"], rootToken: "hvs.T" });
        assert.equal(warnings.length, 1);
    });
});
