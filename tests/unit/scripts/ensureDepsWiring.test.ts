import { strict as assert } from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { ROOT } from "./sandbox";

// What the check does, run as a process with npm: tests/process/ensureDeps.test.ts.
describe("scripts/ensure-deps.js in package.json: every script that needs node_modules runs the check first", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const scripts: Record<string, string> = pkg.scripts;
    const HOOK = "node scripts/ensure-deps.js";

    it("runs the check before every script that needs node_modules; the shell commands run it themselves", () => {
        const shell = Object.entries(scripts).filter(([, cmd]) => /^scripts\/[\w-]+\.sh\b/.test(cmd));
        for (const [name, cmd] of Object.entries(scripts)) {
            if (name.startsWith("pre") && cmd === HOOK) {
                assert.ok(scripts[name.slice(3)], `${name} hooks a script that exists`);
                continue;
            }
            if (shell.some(([n]) => n === name)) continue;
            assert.equal(scripts[`pre${name}`], HOOK, `npm run ${name} needs node_modules: pre${name} must run the check`);
        }
        for (const [name, cmd] of shell) {
            const file = readFileSync(path.join(ROOT, cmd.split(" ")[0]), "utf8");
            if (name === "config") {
                // pulumi config needs no npm packages; only a missing Pulumi CLI brings in the preflight (and the check).
                assert.match(file, /^require_tools pulumi$/m);
            } else {
                assert.match(file, /^ {0,2}ensure_deps$/m, `${cmd} runs ensure_deps`);
            }
        }
    });

    it("never runs the check from an install's lifecycle scripts (npm ci runs them)", () => {
        for (const name of ["preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare"]) {
            assert.ok(!(scripts[name] ?? "").includes("ensure-deps"), name);
        }
    });
});
