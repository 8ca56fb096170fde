import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { ROOT } from "../unit/scripts/sandbox";

const SCRIPT = path.join(ROOT, "scripts", "ensure-deps.js");

/** The environment of a plain shell: none of the npm_* variables that `npm test` hands to this process. */
function plainEnv(extra: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== "VAULT_HA_ENSURE_DEPS" && v !== undefined) env[k] = v;
    return { ...env, ...extra };
}

describe("scripts/ensure-deps.js: npm scripts install the locked packages when node_modules is missing or stale", () => {
    /** A lock file as npm writes it: the project, a dev dependency with a nested one, a scoped one, an optional one for macOS. */
    const LOCK = {
        name: "p",
        version: "1.0.0",
        lockfileVersion: 3,
        requires: true,
        packages: {
            "": { name: "p", version: "1.0.0", devDependencies: { a: "1.0.0", "@s/c": "3.0.0" } },
            "node_modules/a": { version: "1.0.0", dev: true },
            "node_modules/a/node_modules/b": { version: "2.0.0", dev: true },
            "node_modules/@s/c": { version: "3.0.0", dev: true },
            "node_modules/fsevents": { version: "2.3.3", dev: true, optional: true, os: ["darwin"] },
        },
    };
    type Packages = Record<string, { version: string; [k: string]: unknown }>;
    /** What npm ci leaves: each package's folder, and node_modules/.package-lock.json listing the installed ones. */
    const FAKE_CI = `node -e '
const fs = require("fs");
const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
const packages = {};
for (const [where, pin] of Object.entries(lock.packages)) {
    if (!where || pin.optional) continue;
    fs.mkdirSync(where, { recursive: true });
    packages[where] = pin;
}
fs.writeFileSync("node_modules/.package-lock.json", JSON.stringify({ ...lock, packages }));
'`;
    let dir: string;
    let project: string;
    let bin: string;
    let calls: string;

    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "ensure-deps-"));
        project = path.join(dir, "project");
        bin = path.join(dir, "bin");
        calls = path.join(dir, "npm-calls");
        mkdirSync(path.join(project, "scripts"), { recursive: true });
        mkdirSync(bin);
        copyFileSync(SCRIPT, path.join(project, "scripts", "ensure-deps.js"));
        writeFileSync(path.join(project, "package-lock.json"), JSON.stringify(LOCK, null, 2));
        // A fake npm: records its arguments, folder and the recursion guard, then "installs" as npm ci does (the
        // packages' folders, and the hidden lockfile without the optional package for another platform), printing its
        // report on stdout.
        fakeNpm(`${FAKE_CI}; echo "added 3 packages"`);
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const fakeNpm = (body: string) => {
        writeFileSync(path.join(bin, "npm"), `#!/bin/sh\necho "$PWD|$*|\${VAULT_HA_ENSURE_DEPS:-}" >> "${calls}"\n${body}\n`);
        chmodSync(path.join(bin, "npm"), 0o755);
    };
    const npmCalls = () => (existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : []);
    /** node_modules as npm leaves it: the folders and the hidden lockfile listing them. */
    const install = (packages: Packages = LOCK.packages as Packages) => {
        const listed: Packages = {};
        for (const [where, pin] of Object.entries(packages)) {
            if (!where || pin.optional) continue;
            mkdirSync(path.join(project, where), { recursive: true });
            listed[where] = pin;
        }
        writeFileSync(path.join(project, "node_modules", ".package-lock.json"), JSON.stringify({ ...LOCK, packages: listed }));
    };
    /** Runs the copy as npm runs a pre-script: a plain environment with the fake npm first in PATH. */
    const check = (env: Record<string, string> = {}) =>
        spawnSync(process.execPath, [path.join(project, "scripts", "ensure-deps.js")], {
            cwd: path.join(project, "scripts"),
            encoding: "utf8",
            env: plainEnv({ PATH: `${bin}:${process.env.PATH}`, ...env }),
        });

    it("installs on a fresh clone (no node_modules), says why on stderr, and keeps stdout for the script", () => {
        const r = check();
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(npmCalls(), [`${project}|ci --no-audit --no-fund|running`]);
        assert.match(r.stderr, /^vault-ha: node_modules is missing\.\nvault-ha: installing the locked packages: npm ci --no-audit --no-fund\n/);
        assert.match(r.stderr, /added 3 packages/, "npm's report goes to stderr");
        assert.equal(r.stdout, "");
        // Installed now: the next script finds nothing to do.
        const next = check();
        assert.equal(next.status, 0);
        assert.equal(npmCalls().length, 1);
        assert.equal(next.stdout + next.stderr, "");
    });

    it("does nothing, silently, when node_modules matches the lock file (after CI's npm ci); a missing optional package is fine", () => {
        install();
        assert.ok(!existsSync(path.join(project, "node_modules", "fsevents")));
        // A package installed without --save is not in the lock file: left alone.
        mkdirSync(path.join(project, "node_modules", "extra"));
        const r = check();
        assert.equal(r.status, 0);
        assert.equal(r.stdout + r.stderr, "");
        assert.deepEqual(npmCalls(), []);
    });

    const stale: Array<[string, () => void, RegExp]> = [
        [
            "node_modules without npm's record of it",
            () => mkdirSync(path.join(project, "node_modules", "a"), { recursive: true }),
            /node_modules has no \.package-lock\.json/,
        ],
        [
            "package-lock.json changed (a git pull) after the last install",
            () => {
                install();
                const lock = structuredClone(LOCK);
                lock.packages["node_modules/a"].version = "1.1.0";
                writeFileSync(path.join(project, "package-lock.json"), JSON.stringify(lock));
            },
            /node_modules does not match package-lock\.json: a 1\.0\.0 is installed, package-lock\.json pins 1\.1\.0/,
        ],
        [
            "a locked package never installed",
            () => install(Object.fromEntries(Object.entries(LOCK.packages).filter(([where]) => where !== "node_modules/@s/c")) as Packages),
            /@s\/c 3\.0\.0 is not installed/,
        ],
        [
            "a package folder deleted by hand",
            () => {
                install();
                rmSync(path.join(project, "node_modules", "a", "node_modules", "b"), { recursive: true });
            },
            /b is listed as installed, but node_modules\/a\/node_modules\/b is missing/,
        ],
    ];
    for (const [what, arrange, reason] of stale) {
        it(`reinstalls after: ${what}`, () => {
            arrange();
            const r = check();
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stderr, reason);
            assert.equal(npmCalls().length, 1);
            assert.equal(check().stderr, "", "then up to date");
        });
    }

    it("never runs inside an npm install, nor inside the npm ci it started", () => {
        for (const command of ["ci", "install"]) {
            const r = check({ npm_command: command });
            assert.equal(r.status, 0);
            assert.equal(r.stderr, "");
        }
        assert.equal(check({ VAULT_HA_ENSURE_DEPS: "running" }).stderr, "");
        assert.deepEqual(npmCalls(), []);
        // An install that runs npm scripts (a prepare hook, say) reaches the check again: it must not install again.
        fakeNpm(`node scripts/ensure-deps.js; ${FAKE_CI}`);
        const r = check();
        assert.equal(r.status, 0, r.stderr);
        assert.equal(npmCalls().length, 1);
    });

    it("fails with npm's exit status when the install fails", () => {
        fakeNpm(`echo "npm error network" >&2; exit 7`);
        const r = check();
        assert.equal(r.status, 7);
        assert.match(r.stderr, /npm error network\nvault-ha: npm ci failed \(exit 7\); its error is above\./);
    });

    it("works with the real npm: a fresh clone's `npm test` installs, then runs the test; after `npm ci` it does nothing", function () {
        this.timeout(120_000);
        // A dependency from a local tarball: npm installs it like a registry package, without the network.
        const pkg = path.join(dir, "dep", "package");
        mkdirSync(pkg, { recursive: true });
        writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "dep", version: "1.0.0", main: "index.js" }));
        writeFileSync(path.join(pkg, "index.js"), "module.exports = 'dep works';\n");
        assert.equal(spawnSync("tar", ["czf", path.join(project, "dep-1.0.0.tgz"), "-C", path.dirname(pkg), "package"]).status, 0);
        writeFileSync(
            path.join(project, "package.json"),
            JSON.stringify({
                name: "p",
                version: "1.0.0",
                private: true,
                devDependencies: { dep: "file:dep-1.0.0.tgz" },
                scripts: { pretest: "node scripts/ensure-deps.js", test: `node -e "console.log(require('dep'))"` },
            }),
        );
        rmSync(path.join(project, "package-lock.json"));
        writeFileSync(path.join(dir, "npmrc"), "");
        const env = plainEnv({
            npm_config_cache: path.join(dir, "npm-cache"),
            npm_config_userconfig: path.join(dir, "npmrc"),
            npm_config_offline: "true",
            npm_config_update_notifier: "false",
        });
        const npm = (...args: string[]) => spawnSync("npm", args, { cwd: project, encoding: "utf8", env });
        const lock = npm("install", "--package-lock-only", "--no-audit", "--no-fund");
        assert.equal(lock.status, 0, lock.stderr);
        assert.ok(!existsSync(path.join(project, "node_modules")), "a fresh clone: the lock file, no node_modules");

        const first = npm("test");
        assert.equal(first.status, 0, first.stdout + first.stderr);
        assert.match(first.stderr, /vault-ha: node_modules is missing\./);
        assert.match(first.stdout, /dep works/);

        const ci = npm("ci", "--no-audit", "--no-fund");
        assert.equal(ci.status, 0, ci.stderr);
        const second = npm("test");
        assert.equal(second.status, 0, second.stderr);
        assert.doesNotMatch(second.stderr, /vault-ha:/, "after npm ci the check finds nothing to do");
        assert.match(second.stdout, /dep works/);
    });
});
