/**
 * The README's configuration table is the user's reference: it must name every setting with the default the code
 * applies (components/config/settings.ts DEFAULTS), and nothing else.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { DEFAULTS, parseSettings, rawFromStackConfig, SETTING_NAMES } from "../../../components/config/settings";
import { configurationTable as renderedTable, defaultCell, tableRows } from "../../../components/config/settingsTable";

const README = fs.readFileSync(path.resolve(__dirname, "../../../README.md"), "utf8");

/** A page of the docs, if it exists. */
function readPage(relative: string): string[] {
    const file = path.resolve(__dirname, "../../..", relative);
    return fs.existsSync(file) ? [fs.readFileSync(file, "utf8")] : [];
}

/** The rows of the table under "## Configuration": each row's keys and shown defaults, split on " / ". */
function configurationTable(): Map<string, string> {
    const section = README.split("\n## Configuration\n")[1]?.split("\n## ")[0] ?? "";
    const rows = section.split("\n").filter((line) => line.startsWith("| `"));
    const table = new Map<string, string>();
    for (const row of rows) {
        const [keys, defaults] = row.split(" | ").map((cell) => cell.replace(/^\| /, ""));
        const names = [...keys.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
        const shown = [...defaults.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
        assert.equal(names.length, shown.length, `the row for ${names.join(", ")} shows one default per key`);
        names.forEach((name, i) => table.set(name, shown[i]));
    }
    return table;
}

/** How the README writes a default: as the value, arrays as JSON with a space, long digests shortened with "…". */
function matches(shown: string, value: unknown): boolean {
    // An empty text default is written `""`.
    const text = Array.isArray(value) ? `[${value.join(", ")}]` : value === "" ? '""' : String(value);
    if (shown.includes("…")) {
        const [head, tail] = shown.split("…");
        return text.startsWith(head) && text.endsWith(tail) && head.length >= 20;
    }
    return shown === text;
}

describe("README configuration table", () => {
    const table = configurationTable();

    it("lists every setting, and only settings", () => {
        assert.deepEqual([...table.keys()].sort(), [...SETTING_NAMES].sort());
    });

    for (const name of SETTING_NAMES) {
        it(`shows the default of ${name} that the code applies`, () => {
            assert.ok(
                matches(table.get(name) ?? "(missing)", DEFAULTS[name]),
                `README shows ${table.get(name)}, the code's default is ${JSON.stringify(DEFAULTS[name])}`,
            );
        });
    }

    it("the check itself catches a wrong default", () => {
        assert.ok(!matches("31000", 30000));
        assert.ok(!matches("[30000]", [30000, 30001]));
        assert.ok(!matches("kindest/node:v1.34.0@sha256:07b2…23c0", DEFAULTS.kindNodeImage));
    });
});

describe("README: the example stack file for a cloud cluster", () => {
    it("is a valid stack file for cluster: existing, with nothing to warn about", () => {
        // The README's section on existing clusters, or the page it moved to.
        const pages = [README.split("\n## On your own cluster\n")[1] ?? "", ...readPage("docs/existing-cluster.md")];
        const example = /An example stack file for a cloud cluster[^\n]*\n\n```yaml\n([\s\S]*?)```/;
        const block = pages.map((page) => example.exec(page)?.[1]).find((found) => found !== undefined);
        assert.ok(block, "the example is there");
        const { settings, warnings } = parseSettings(rawFromStackConfig(parse(block).config));
        assert.equal(settings.cluster, "existing");
        assert.deepEqual(warnings, []);
    });
});

describe("README configuration table: rendered from the declarations (components/config/settingsTable.ts)", () => {
    it("shows each setting in exactly one row", () => {
        const shown = tableRows().flatMap((row) => row.names);
        assert.deepEqual([...shown].sort(), [...SETTING_NAMES].sort());
        assert.equal(new Set(shown).size, shown.length);
    });

    it("is the table the declarations render, row for row", () => {
        const section = README.split("\n## Configuration\n")[1]?.split("\n## ")[0] ?? "";
        const lines = section.split("\n").filter((line) => line.startsWith("| "));
        assert.deepEqual(lines, renderedTable().split("\n"));
    });

    it("writes a pinned digest short, and a list as the README does", () => {
        assert.equal(defaultCell(`kindest/node:v1@sha256:${"0123".padEnd(60, "a")}cdef`), "`kindest/node:v1@sha256:0123…cdef`");
        assert.equal(defaultCell([30000, 30001]), "`[30000, 30001]`");
        assert.equal(defaultCell(""), '`""`');
    });
});
