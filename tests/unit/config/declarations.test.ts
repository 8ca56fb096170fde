/**
 * Each setting is declared once (components/config/settingDeclarations.ts): Pulumi.yaml, the defaults, the grammars
 * and the mode rules follow from that declaration, and this checks that they do.
 */
import { strict as assert } from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { DECLARATIONS, DEFAULTS, EXISTING_ONLY_SETTINGS, KIND_ONLY_SETTINGS, parseSettings, SETTING_NAMES } from "../../../components/config/settings";

const project = parse(readFileSync(path.resolve(__dirname, "../../../Pulumi.yaml"), "utf8")) as {
    config: Record<string, { default: unknown; description: string }>;
};

describe("setting declarations", () => {
    it("Pulumi.yaml declares the settings in the declarations' order", () => {
        assert.deepEqual(Object.keys(project.config), SETTING_NAMES);
    });

    for (const name of SETTING_NAMES) {
        it(`${name}: Pulumi.yaml has its default and its one-line description; its default passes its own grammar`, () => {
            assert.deepEqual(project.config[name].default, DECLARATIONS[name].default);
            assert.equal(project.config[name].description, DECLARATIONS[name].doc);
            assert.ok(!DECLARATIONS[name].doc.includes("\n"), "one line");
            assert.deepEqual(DECLARATIONS[name].parse(DEFAULTS[name]), { ok: true, value: DEFAULTS[name] });
        });
    }

    it("derives the mode rules from the modes: a kind-only setting is refused on an existing cluster", () => {
        assert.deepEqual(KIND_ONLY_SETTINGS, ["clusterName", "kindNodeImage", "workers", "ingressHttpPort", "ingressHttpsPort", "nodePorts"]);
        assert.deepEqual(EXISTING_ONLY_SETTINGS, ["kubeContext", "raftVolumesOnDestroy"]);
        for (const name of KIND_ONLY_SETTINGS) {
            const value = JSON.stringify(DEFAULTS[name]).replace(/^"|"$/g, "");
            assert.throws(
                () => parseSettings({ cluster: "existing", kubeContext: "c", [name]: value }),
                new RegExp(`vault-ha:${name} = .*: is only used with cluster: kind`),
            );
        }
        for (const name of EXISTING_ONLY_SETTINGS) {
            assert.throws(
                () => parseSettings({ [name]: name === "kubeContext" ? "c" : String(DEFAULTS[name]) }),
                new RegExp(`vault-ha:${name} = .*: is only used with cluster: existing`),
            );
        }
    });
});
