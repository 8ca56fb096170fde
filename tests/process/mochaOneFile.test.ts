import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { ROOT } from "../unit/scripts/sandbox";

describe("npx mocha <file> runs only that file", function () {
    this.timeout(60_000);

    it("has no spec in .mocharc.json (it would add every test file to the one asked for)", () => {
        const rc = JSON.parse(readFileSync(path.join(ROOT, ".mocharc.json"), "utf8"));
        assert.equal(rc.spec, undefined);
    });

    it("npx mocha tests/unit/kind/kindConfig.test.ts runs the kind config tests and nothing else", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "mocha-one-file-"));
        try {
            const report = path.join(dir, "report.json");
            const file = "tests/unit/kind/kindConfig.test.ts";
            const run = spawnSync("npx", ["--no", "mocha", file, "--reporter", "json", "--reporter-option", `output=${report}`], {
                cwd: ROOT,
                encoding: "utf8",
                timeout: 60_000,
            });
            assert.equal(run.status, 0, run.stdout + run.stderr);
            const result = JSON.parse(readFileSync(report, "utf8"));
            const files = new Set((result.tests as Array<{ file: string }>).map((t) => path.relative(ROOT, t.file)));
            assert.deepEqual([...files], [file]);
            assert.ok(result.stats.tests >= 5, `${result.stats.tests} tests`);
            assert.equal(result.stats.failures, 0);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
