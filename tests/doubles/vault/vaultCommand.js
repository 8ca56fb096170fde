#!/usr/bin/env node
// @ts-check
/**
 * SIMULATOR — what the Vault CLI does inside a simulated Vault pod (see ./cli.js), for commands that run under a real
 * shell in the pod (`kubectl exec ... -- sh -c ...`). One function for both ways it is started: by ./bin/vault through
 * the in-process server of the simulator tier (./vaultServer.ts), or as this file's own process elsewhere.
 * The token comes from VAULT_TOKEN or $HOME/.vault-token, as the real CLI reads it (command/base.go, the token helper).
 */
"use strict";
const fs = require("fs");
const path = require("path");
const model = require("./model.js");
const cli = require("./cli.js");

/**
 * Whether the command reads its stdin: a value of "-", or a snapshot restored from /dev/stdin. Reading it otherwise
 * could block on a terminal, or take input that the script meant for a later command. ./bin/vault mirrors this rule
 * in shell, and the server refuses a call where the two disagree.
 * @param {string[]} argv
 */
function readsStdin(argv) {
    return argv.includes("key=-") || argv[argv.length - 1] === "/dev/stdin";
}

/**
 * One `vault` process: logs the call as a process would appear (its argv and environment), then answers from the model.
 * @param {{ stateFile: string, pod: string, argv: string[], env: Record<string, string | undefined>, stdin: string }} call
 * @returns {{ code: number, stdout: string, stderr: string }}
 */
function runVault({ stateFile, pod, argv, env, stdin }) {
    model.logCall(stateFile, { tool: "vault", pod, argv, env });
    let token = env.VAULT_TOKEN;
    if (!token) {
        try {
            token = fs.readFileSync(path.join(env.HOME ?? "/nonexistent", ".vault-token"), "utf8").trim();
        } catch {
            token = undefined;
        }
    }
    return model.update(stateFile, (s) => cli.vault(s, pod, argv, env, stdin, token));
}

module.exports = { readsStdin, runVault };

if (require.main === module) {
    const stateFile = process.env.VAULT_SIM_STATE;
    const pod = process.env.VAULT_SIM_POD;
    if (!stateFile || !pod) {
        process.stderr.write("simulator vault: not inside a simulated pod\n");
        process.exit(70);
    }
    const argv = process.argv.slice(2);
    const result = runVault({ stateFile, pod, argv, env: process.env, stdin: readsStdin(argv) ? fs.readFileSync(0, "utf8") : "" });
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    // Not process.exit: writes to a pipe are asynchronous in Node, and exiting at once cuts a large output (a snapshot).
    process.exitCode = result.code;
}
