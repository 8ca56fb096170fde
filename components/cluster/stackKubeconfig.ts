/**
 * What `npm run preflight` and `npm run down` need of a stack file before its settings are checked: the cluster mode
 * as written (a destroy must work with broken settings), and the stack's own kubeconfig (the secret
 * vault-ha:kubeconfig), handed to a check as a private temporary file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT } from "../config/settings";
import { Finding, warning } from "../problems";
import type { Runner } from "./checks";

/** The `config:` map of Pulumi.<stack>.yaml as written, or {} when there is none or it is not YAML. */
function rawStackConfig(stack: string, projectDir: string): Record<string, unknown> {
    try {
        const config = (parse(readFileSync(path.join(projectDir, `Pulumi.${stack.split("/").pop()}.yaml`), "utf8")) as { config?: unknown })?.config;
        return config && typeof config === "object" && !Array.isArray(config) ? (config as Record<string, unknown>) : {};
    } catch {
        return {};
    }
}

/** A key of the stack file, with or without the project's prefix (a key without one is the project's, as for the CLI). */
function rawSetting(config: Record<string, unknown>, name: string): unknown {
    return config[`${PROJECT}:${name}`] ?? config[name];
}

/**
 * The stack's cluster mode as its file says it, without validating anything else: `npm run down` must run with broken
 * settings too. Anything but `existing` is kind, today's behaviour.
 */
export function rawClusterMode(stack: string, projectDir: string): "kind" | "existing" {
    return rawSetting(rawStackConfig(stack, projectDir), "cluster") === "existing" ? "existing" : "kind";
}

/** Whether the stack file holds the secret vault-ha:kubeconfig (encrypted: only the Pulumi CLI can read it). */
export function stackHasKubeconfig(stack: string, projectDir: string): boolean {
    return rawSetting(rawStackConfig(stack, projectDir), "kubeconfig") !== undefined;
}

/**
 * Runs check with the stack's own kubeconfig (the secret vault-ha:kubeconfig) in a private temporary file (mode 0600
 * in a 0700 folder, removed afterwards), or with none when the stack has none. `pulumi config get --json` decrypts a
 * secret value and prints {"value": ..., "secret": true} (pulumi/pulumi pkg/cmd/pulumi/config/config_get.go); it
 * needs the passphrase in the environment, and without it the cluster is not checked (a warning: `pulumi up` asks for
 * the passphrase itself). The kubeconfig's contents reach neither an argv nor a message.
 */
export async function withStackKubeconfig(
    run: Runner,
    stack: string,
    given: boolean,
    check: (kubeconfigFile?: string) => Promise<Finding[]>,
): Promise<Finding[]> {
    if (!given) return check(undefined);
    const got = run("pulumi", ["config", "get", `${PROJECT}:kubeconfig`, "--json", "--stack", stack, "--non-interactive"]);
    let value: unknown;
    try {
        value = got.ok ? (JSON.parse(got.stdout) as { value?: unknown }).value : undefined;
    } catch {
        value = undefined;
    }
    if (typeof value !== "string" || !value.trim()) {
        return [
            warning(
                `the cluster is not checked: the stack's kubeconfig (the secret ${PROJECT}:kubeconfig) could not be read without the stack's passphrase`,
                "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) and run the preflight again",
            ),
        ];
    }
    const dir = mkdtempSync(path.join(tmpdir(), "vault-ha-preflight-"));
    try {
        const file = path.join(dir, "kubeconfig");
        writeFileSync(file, value, { mode: 0o600 });
        return await check(file);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
