#!/usr/bin/env node
/**
 * node scripts/ensure-deps.js: installs the npm packages when node_modules is missing or does not hold what
 * package-lock.json pins, so that every npm script works on a fresh clone (`npm test` first of all). npm runs it
 * before the scripts that need node_modules (the `pre<script>` entries of package.json); up.sh, down.sh and e2e.sh
 * run it themselves. It says why on stderr, then runs `npm ci --no-audit --no-fund`.
 *
 * Plain Node and no dependencies: it runs before node_modules exists.
 *
 * "Up to date" means what npm itself records: npm writes node_modules/.package-lock.json (its hidden lockfile) after
 * every install, listing each package it put in node_modules with its version (npm docs, package-lock.json, "Hidden
 * Lockfiles"). Each package that package-lock.json pins must be there at the same version, and its folder must exist.
 * Packages that only the hidden lockfile lists (installed with --no-save, say) are left alone. Optional packages may be
 * absent: npm skips those made for another platform. When everything matches, it prints nothing and exits at once
 * (CI runs `npm ci` first; its `npm test` then finds nothing to do).
 *
 * It never runs inside an npm install (npm_command is ci, install, ...): an install that ran an npm script would
 * otherwise start another install. The `npm ci` it starts carries VAULT_HA_ENSURE_DEPS=running for the same reason.
 */
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const GUARD = "VAULT_HA_ENSURE_DEPS";
/** npm commands that install or remove packages themselves (npm_command, as npm sets it for the scripts it runs). */
const INSTALLING = new Set(["ci", "install", "install-ci-test", "install-test", "update", "uninstall", "dedupe", "prune", "rebuild", "link"]);

function readJson(file) {
    return JSON.parse(fs.readFileSync(file, "utf8"));
}

/**
 * Why projectDir's node_modules needs an install, or undefined when it matches package-lock.json.
 * @param {string} projectDir
 * @returns {string | undefined}
 */
function staleReason(projectDir) {
    const lockFile = path.join(projectDir, "package-lock.json");
    const modules = path.join(projectDir, "node_modules");
    const hiddenFile = path.join(modules, ".package-lock.json");
    if (!fs.existsSync(modules)) return "node_modules is missing";
    if (!fs.existsSync(hiddenFile)) return "node_modules has no .package-lock.json (npm writes it at every install)";
    let locked, installed;
    try {
        locked = readJson(lockFile).packages ?? {};
        installed = readJson(hiddenFile).packages ?? {};
    } catch (err) {
        return `cannot read the lock files (${err.message})`;
    }
    const problems = [];
    for (const [where, pin] of Object.entries(locked)) {
        if (!where.startsWith("node_modules/")) continue; // "" is the project itself; workspaces are not used
        const have = installed[where];
        const name = where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length);
        if (!have) {
            if (!pin.optional && !pin.devOptional) problems.push(`${name} ${pin.version} is not installed`);
        } else if (have.version !== pin.version || Boolean(have.link) !== Boolean(pin.link) || (pin.link && have.resolved !== pin.resolved)) {
            problems.push(`${name} ${have.version ?? have.resolved} is installed, package-lock.json pins ${pin.version ?? pin.resolved}`);
        } else if (!fs.existsSync(path.join(projectDir, where))) {
            problems.push(`${name} is listed as installed, but ${where} is missing`);
        }
    }
    if (!problems.length) return undefined;
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : "";
    return `node_modules does not match package-lock.json: ${problems.slice(0, 3).join("; ")}${more}`;
}

/**
 * Installs when needed; returns the exit status.
 * @param {string} projectDir
 * @param {NodeJS.ProcessEnv} env
 * @returns {number}
 */
function ensureDeps(projectDir, env = process.env) {
    if (env[GUARD] || INSTALLING.has(env.npm_command ?? "")) return 0;
    const reason = staleReason(projectDir);
    if (!reason) return 0;
    if (!fs.existsSync(path.join(projectDir, "package-lock.json"))) {
        console.error(`vault-ha: ${reason}, and there is no package-lock.json to install from: restore it (git checkout package-lock.json).`);
        return 1;
    }
    const args = ["ci", "--no-audit", "--no-fund"];
    console.error(`vault-ha: ${reason}.\nvault-ha: installing the locked packages: npm ${args.join(" ")}`);
    const result = spawnSync("npm", args, {
        cwd: projectDir,
        // npm's report goes to stderr too: stdout belongs to the script that asked (npm run render > file).
        stdio: ["ignore", 2, 2],
        env: { ...env, [GUARD]: "running" },
        shell: process.platform === "win32",
    });
    if (result.error) {
        console.error(`vault-ha: could not run npm: ${result.error.message}`);
        return 1;
    }
    if (result.status !== 0) {
        console.error(`vault-ha: npm ci failed (exit ${result.status ?? result.signal}); its error is above.`);
        return result.status || 1;
    }
    return 0;
}

module.exports = { staleReason, ensureDeps };

if (require.main === module) process.exitCode = ensureDeps(path.resolve(__dirname, ".."));
