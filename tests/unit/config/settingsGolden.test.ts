/**
 * Pins what the configuration readers return, byte for byte: the settings, the warnings and every error message, for
 * a representative set of configs (each mode's defaults, each mode's rules and warnings, the adoption secrets, keys
 * of other namespaces, stack files). A change of any text shows here as a diff of golden/settings.json.
 * To accept an intended change: VAULT_HA_UPDATE_GOLDEN=1 npx mocha tests/unit/config/settingsGolden.test.ts, then review the diff.
 */
import { strict as assert } from "assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parseAdoption, parseConfig, parseSettings } from "../../../components/config/settings";
import { readStackSettings } from "../../../components/config/stackFile";
import { CONFIG_CASES, SETTINGS_CASES } from "./configCases";

const GOLDEN = path.join(__dirname, "golden", "settings.json");

/** Stack files as render and preflight read them. */
const STACK_FILES: Record<string, { stack?: string; files: Record<string, string> }> = {
    "no file": { files: {} },
    "no file, a near stack": { stack: "prdo", files: { "Pulumi.prod.yaml": "config: {}\n" } },
    "YAML error": { files: { "Pulumi.dev.yaml": "config:\n  vault-ha:workers: [3\n" } },
    "YAML error, tab": { files: { "Pulumi.dev.yaml": "config:\n\tvault-ha:workers: 3\n" } },
    "not a map": { files: { "Pulumi.dev.yaml": "- a\n" } },
    "config a list": { files: { "Pulumi.dev.yaml": "config:\n  - vault-ha:workers: 3\n" } },
    "config a value": { files: { "Pulumi.dev.yaml": "config: 3\n" } },
    "stray fields": { files: { "Pulumi.dev.yaml": "workers: 5\nvault-ha:rootToken: x\nconfg:\n  a: b\nother: 1\nfoo:bar: 2\n" } },
    "stray fields, stack prod": { stack: "prod", files: { "Pulumi.prod.yaml": "vault-ha:workers: 5\n" } },
    "a bad key": { files: { "Pulumi.dev.yaml": "config:\n  a:b:c: 1\n" } },
    "null values": { files: { "Pulumi.dev.yaml": "config:\n  vault-ha:workers:\n  vault-ha:rootToken:\n  vault-ha:nodePorts:\n" } },
    "null values, stack prod": { stack: "prod", files: { "Pulumi.prod.yaml": "config:\n  vault-ha:tlsExtraNames:\n" } },
    "encrypted setting": { files: { "Pulumi.dev.yaml": "config:\n  vault-ha:workers:\n    secure: AAAA\n" } },
    "YAML values": {
        files: { "Pulumi.dev.yaml": "config:\n  workers: 0x4\n  vault-ha:vaultReplicas: 3\n  vault-ha:nodePorts: [30000, 30001]\n  vault-ha:tls: false\n" },
    },
};

type Outcome = { settings: unknown; warnings: string[] } | { error: string } | { adopted: unknown };

function outcome(read: () => unknown): Outcome {
    try {
        return JSON.parse(JSON.stringify(read())) as Outcome;
    } catch (err) {
        return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
}

function current(): Record<string, Record<string, Outcome>> {
    const stackFiles: Record<string, Outcome> = {};
    for (const [what, c] of Object.entries(STACK_FILES)) {
        const dir = mkdtempSync(path.join(tmpdir(), "vault-ha-golden-"));
        try {
            for (const [name, text] of Object.entries(c.files)) writeFileSync(path.join(dir, name), text);
            stackFiles[what] = outcome(() => readStackSettings(c.stack ?? "dev", dir));
            // The folder's random name is not part of the answer.
            stackFiles[what] = JSON.parse(JSON.stringify(stackFiles[what]).split(dir).join("<dir>")) as Outcome;
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    }
    return {
        parseSettings: Object.fromEntries(Object.entries(SETTINGS_CASES).map(([what, c]) => [what, outcome(() => parseSettings(c.raw, { stack: c.stack }))])),
        parseConfig: Object.fromEntries(
            Object.entries(CONFIG_CASES).map(([what, c]) => [what, outcome(() => parseConfig(c.entries, { stack: c.stack, source: c.source }))]),
        ),
        parseAdoption: {
            none: outcome(() => ({ adopted: parseAdoption({}, 3) ?? null })),
            both: outcome(() => ({ adopted: parseAdoption({ unsealKeys: '[" a ","b","c"]', rootToken: " hvs.x " }, 3) })),
            "token only, stack prod": outcome(() => parseAdoption({ rootToken: "hvs.x" }, 3, { stack: "prod" })),
            "too few keys": outcome(() => parseAdoption({ unsealKeys: '["a"]', rootToken: "hvs.x" }, 3)),
        },
        readStackSettings: stackFiles,
    };
}

describe("configuration readers: golden answers (golden/settings.json)", () => {
    const now = current();
    if (process.env.VAULT_HA_UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, JSON.stringify(now, null, 2) + "\n");
    const golden = JSON.parse(readFileSync(GOLDEN, "utf8")) as ReturnType<typeof current>;

    for (const [reader, cases] of Object.entries(now)) {
        describe(reader, () => {
            it("has the same cases as the golden file", () => assert.deepEqual(Object.keys(cases), Object.keys(golden[reader] ?? {})));
            for (const [what, answer] of Object.entries(cases)) {
                it(what, () => assert.deepEqual(answer, golden[reader][what]));
            }
        });
    }
});
