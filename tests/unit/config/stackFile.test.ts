/**
 * The stack file as `npm run render` and `npm run preflight` read it (components/config/stackFile.ts): what the
 * Pulumi CLI would use is read the same way, and what the CLI would ignore or refuse is an error naming the key and
 * the file, before anything is rendered or checked.
 */
import { strict as assert } from "assert";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { readStackSettings, stackName } from "../../../components/config/stackFile";
import { assertFixChangesSomething, rejectionOf } from "./problems";

describe("stack files (npm run render, npm run preflight)", () => {
    let dir: string;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "vault-ha-stack-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const write = (stack: string, text: string) => writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    const read = (stack = "dev") => readStackSettings(stack, dir);

    describe("reads what the Pulumi CLI reads", () => {
        it("a key without the project prefix is the project's key (the CLI has namespaced them since v3.44)", () => {
            write("dev", "config:\n  workers: 5\n  vaultReplicas: 5\n");
            assert.equal(read().settings.workers, 5);
            assert.equal(read().settings.vaultReplicas, 5);
        });

        it("the old <project>:config:<key> form", () => {
            write("dev", "config:\n  vault-ha:config:workers: 4\n");
            assert.equal(read().settings.workers, 4);
        });

        it("YAML numbers as numbers (0x3 is YAML's 3, for the CLI as for us), quoted strings as text", () => {
            write("dev", "config:\n  vault-ha:workers: 0x4\n");
            assert.equal(read().settings.workers, 4);
            write("dev", 'config:\n  vault-ha:workers: "0x4"\n');
            const [problem] = rejectionOf(() => read());
            assert.match(problem.what, /^vault-ha:workers = "0x4": must be a whole number written in decimal digits/);
        });

        it("other packages' settings, which are not vault-ha's business", () => {
            write("dev", "config:\n  kubernetes:context: kind-vault\n  pulumi:tags:\n    team: x\n");
            assert.equal(read().settings.workers, 3);
        });

        it("a stack file with only secrets-provider fields and no config", () => {
            write("dev", "encryptionsalt: v1:abc\nsecretsprovider: passphrase\n");
            assert.equal(read().settings.clusterName, "vault");
        });
    });

    interface FileCase {
        what: string;
        stack?: string;
        text: string;
        problem: RegExp;
        fix: string | RegExp;
    }
    const cases: FileCase[] = [
        {
            what: "a misspelled project prefix",
            text: "config:\n  vaul-ha:workers: 9\n",
            problem: /^vaul-ha:workers in Pulumi\.dev\.yaml is not read by vault-ha, whose settings are vault-ha:<name>; did you mean vault-ha:workers\?$/,
            fix: "npm run config -- rm vaul-ha:workers && npm run config -- set vault-ha:workers 9",
        },
        {
            what: "another project's prefix on one of our settings",
            text: "config:\n  vault:vaultReplicas: 1\n",
            problem:
                /^vault:vaultReplicas in Pulumi\.dev\.yaml is not read by vault-ha, whose settings are vault-ha:<name>; did you mean vault-ha:vaultReplicas\?$/,
            fix: "npm run config -- rm vault:vaultReplicas && npm run config -- set vault-ha:vaultReplicas 1",
        },
        {
            what: "a misspelled prefix in stack prod",
            stack: "prod",
            text: "config:\n  vault_ha:tls: false\n",
            problem: /^vault_ha:tls in Pulumi\.prod\.yaml is not read by vault-ha/,
            fix: "PULUMI_STACK=prod npm run config -- rm vault_ha:tls && PULUMI_STACK=prod npm run config -- set vault-ha:tls false",
        },
        {
            what: "a setting at the top level of the file, outside config:",
            text: "vault-ha:workers: 5\nconfig:\n  vault-ha:clusterName: vault\n",
            problem: /^Pulumi\.dev\.yaml: vault-ha:workers is at the top level of the file, where the Pulumi CLI ignores it \(settings go under config:\)$/,
            fix: "delete that line from Pulumi.dev.yaml, then npm run config -- set vault-ha:workers 5",
        },
        {
            what: "an unprefixed setting at the top level",
            text: "workers: 5\n",
            problem: /^Pulumi\.dev\.yaml: workers is at the top level of the file, where the Pulumi CLI ignores it \(settings go under config:\)$/,
            fix: "delete that line from Pulumi.dev.yaml, then npm run config -- set vault-ha:workers 5",
        },
        {
            what: "a misspelled config:",
            text: "confg:\n  vault-ha:workers: 5\n",
            problem:
                /^Pulumi\.dev\.yaml: confg is not a field of a stack file \(secretsprovider, encryptedkey, encryptionsalt, config, environment\), so the Pulumi CLI ignores it$/,
            fix: "rename confg to config in Pulumi.dev.yaml",
        },
        {
            what: "a config: that is a list",
            text: "config:\n  - vault-ha:workers: 5\n",
            problem: /^Pulumi\.dev\.yaml: config must map keys to values \(vault-ha:workers: 5\), not be a list$/,
            fix: "write each setting as `vault-ha:<key>: <value>` under config: in Pulumi.dev.yaml",
        },
        {
            what: "a setting without a value",
            text: "config:\n  vault-ha:workers:\n",
            problem: /^vault-ha:workers in Pulumi\.dev\.yaml has no value$/,
            fix: "npm run config -- set vault-ha:workers 3, or npm run config -- rm vault-ha:workers for the default (3)",
        },
        {
            what: "a setting stored encrypted, which the tools cannot read",
            text: "config:\n  vault-ha:workers:\n    secure: AAABAKx=\n",
            problem: /^vault-ha:workers in Pulumi\.dev\.yaml is encrypted \(set with --secret\), so this tool cannot read it; settings are not secrets$/,
            fix: "npm run config -- set vault-ha:workers <value> (without --secret)",
        },
        {
            what: "unseal keys in plain text (the check the program makes)",
            text: "config:\n  vault-ha:unsealKeys: notjson\n  vault-ha:rootToken:\n    secure: AAABAKx=\n",
            problem: /^vault-ha:unsealKeys is stored in plain text$/,
            fix: `type the keys as a JSON list, ["<key 1>","<key 2>","<key 3>"], when asked: npm run config -- set --secret vault-ha:unsealKeys`,
        },
        {
            what: "unseal keys without a root token (the check the program makes)",
            text: "config:\n  vault-ha:unsealKeys:\n    secure: AAABAKx=\n",
            problem: /^vault-ha:unsealKeys is set but vault-ha:rootToken is not: adopting a Vault needs both$/,
            fix: "type the root token when asked: npm run config -- set --secret vault-ha:rootToken",
        },
        {
            what: "invalid YAML: file, line, column and the problem, no parser stack",
            text: "config:\n  vault-ha:workers: 3\n  vault-ha:tls: true: false\n",
            problem: /^Pulumi\.dev\.yaml:3:17: Nested mappings are not allowed in compact mappings, in: " {2}vault-ha:tls: true: false"$/,
            fix: "edit Pulumi.dev.yaml at line 3, column 17: put a value that holds ': ' in quotes, and indent every setting under config: by the same two spaces",
        },
        {
            what: "a key written twice",
            text: "config:\n  vault-ha:workers: 3\n  vault-ha:workers: 4\n",
            problem: /^Pulumi\.dev\.yaml:3:3: Map keys must be unique, in: " {2}vault-ha:workers: 4"$/,
            fix: "edit Pulumi.dev.yaml at line 3, column 3: keep one of the two lines that set this key (the Pulumi CLI refuses a key set twice)",
        },
    ];
    for (const c of cases) {
        it(`refuses ${c.what}`, () => {
            write(c.stack ?? "dev", c.text);
            const problems = rejectionOf(() => read(c.stack));
            assert.equal(problems.length, 1, `expected one problem, got:\n${problems.map((p) => `${p.what}. Fix: ${p.fix}`).join("\n")}`);
            assert.match(problems[0].what, c.problem);
            if (typeof c.fix === "string") assert.equal(problems[0].fix, c.fix);
            else assert.match(problems[0].fix, c.fix);
        });
    }

    it("fixes a wrong value in stack prod with PULUMI_STACK=prod", () => {
        write("prod", "config:\n  vault-ha:workers: 2\n");
        const [problem] = rejectionOf(() => read("prod"));
        assert.equal(
            problem.fix,
            "PULUMI_STACK=prod npm run config -- set vault-ha:workers 3, or PULUMI_STACK=prod npm run config -- set vault-ha:vaultReplicas 2",
        );
        assertFixChangesSomething(problem.fix, { workers: "2" }, "prod");
    });

    it("accepts adoption secrets that are both encrypted (their contents are the program's to check)", () => {
        write("dev", "config:\n  vault-ha:unsealKeys:\n    secure: AAABAKx=\n  vault-ha:rootToken:\n    secure: AAABAKy=\n");
        assert.equal(read().settings.clusterName, "vault");
    });

    it("refuses a stack without a file whose name is a typo of one with a file, naming both", () => {
        write("dev", "config: {}\n");
        write("prod", "config: {}\n");
        const problems = rejectionOf(() => read("prdo"));
        assert.equal(problems.length, 1);
        assert.match(problems[0].what, /^Pulumi\.prdo\.yaml does not exist in .+, so stack "prdo" has no settings; did you mean prod\?$/);
        assert.equal(
            problems[0].fix,
            "--stack prod (the stack files here: Pulumi.dev.yaml, Pulumi.prod.yaml), or, for a new stack prdo, create its file first: touch Pulumi.prdo.yaml",
        );
    });

    it("warns, and reads the defaults, for a new stack without a file (npm run up checks it before creating it)", () => {
        write("dev", "config: {}\n");
        const { settings, warnings } = read("staging");
        assert.equal(settings.clusterName, "vault");
        assert.equal(warnings.length, 1);
        assert.match(
            warnings[0],
            /^Pulumi\.staging\.yaml does not exist in .+: stack "staging" has no settings of its own, so every setting is its default \(the stack files here: Pulumi\.dev\.yaml\)$/,
        );
    });

    it("reads a qualified stack name's file by its last part", () => {
        write("prod", "config:\n  vault-ha:workers: 4\n");
        assert.equal(readStackSettings("acme/vault-ha/prod", dir).settings.workers, 4);
    });

    describe("the stack name from the command line", () => {
        it("--stack NAME, --stack=NAME, -s NAME, PULUMI_STACK, else dev", () => {
            assert.equal(stackName(["--stack", "prod"]), "prod");
            assert.equal(stackName(["--manifests", "--stack=prod"]), "prod");
            assert.equal(stackName(["-s", "prod"]), "prod");
            const saved = process.env.PULUMI_STACK;
            try {
                process.env.PULUMI_STACK = "staging";
                assert.equal(stackName([]), "staging");
                delete process.env.PULUMI_STACK;
                assert.equal(stackName([]), "dev");
            } finally {
                if (saved === undefined) delete process.env.PULUMI_STACK;
                else process.env.PULUMI_STACK = saved;
            }
        });

        it("refuses --stack without a name, rather than reading another stack", () => {
            for (const argv of [["--stack"], ["--stack", "--manifests"], ["--stack="]]) {
                const problems = rejectionOf(() => stackName(argv));
                assert.match(problems[0].what, /^--stack needs a stack name/);
                assert.equal(problems[0].fix, "--stack dev (or the name of another Pulumi.<stack>.yaml here)");
            }
        });
    });
});
