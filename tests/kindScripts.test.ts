import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { KIND_CREATE_SCRIPT, KIND_DELETE_SCRIPT } from "../components/kindCluster";
import { kindConfigYaml } from "../components/kindConfig";
import { parseSettings } from "../components/settings";

/** Runs a KindCluster script the way @pulumi/command does (/bin/sh -c, environment, stdin), with a fake kind. */
function runScript(script: string, state: string, stdin = "", extraEnv: Record<string, string> = {}) {
    return spawnSync("/bin/sh", ["-c", script], {
        input: stdin,
        encoding: "utf8",
        env: {
            ...process.env,
            PATH: `${path.join(__dirname, "doubles")}:${process.env.PATH}`,
            FAKE_KIND_STATE: state,
            KIND_CLUSTER_NAME: "vault",
            KIND_NODE_IMAGE: "kindest/node:v1.35.8@sha256:" + "0".repeat(64),
            ...extraEnv,
        },
    });
}

describe("kind create/delete scripts (against a fake kind CLI)", () => {
    let state: string;
    const config = kindConfigYaml(parseSettings({}).settings);
    const calls = () => readFileSync(path.join(state, "calls.log"), "utf8").trim().split("\n");

    beforeEach(() => {
        state = mkdtempSync(path.join(tmpdir(), "fake-kind-"));
    });
    afterEach(() => rmSync(state, { recursive: true, force: true }));

    it("creates the cluster from the config on stdin and prints only the kubeconfig", () => {
        const result = runScript(KIND_CREATE_SCRIPT, state, config);
        assert.equal(result.status, 0, result.stderr);
        assert.equal(readFileSync(path.join(state, "vault.cluster"), "utf8"), config);
        assert.equal(result.stdout, "apiVersion: v1\nkind: Config\ncurrent-context: kind-vault\n");
        assert.match(result.stderr, /Creating cluster "vault"/);
        assert.ok(calls().includes(`kind create cluster --name vault --image kindest/node:v1.35.8@sha256:${"0".repeat(64)} --config - --wait 5m`));
    });

    it("reuses an existing cluster of that name instead of failing (re-run after an interrupted up)", () => {
        assert.equal(runScript(KIND_CREATE_SCRIPT, state, config).status, 0);
        const again = runScript(KIND_CREATE_SCRIPT, state, config);
        assert.equal(again.status, 0, again.stderr);
        assert.match(again.stderr, /kind cluster vault already exists: reusing it/);
        assert.equal(calls().filter((c) => c.startsWith("kind create")).length, 1);
        assert.match(again.stdout, /current-context: kind-vault/);
    });

    it("fails without creating anything when kind cannot list clusters (Docker down)", () => {
        const result = runScript(KIND_CREATE_SCRIPT, state, config, { FAKE_KIND_FAIL: "get-clusters" });
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, /Cannot connect to the Docker daemon/);
        assert.ok(!calls().some((c) => c.startsWith("kind create")));
        assert.equal(result.stdout, "");
    });

    it("deletes the cluster, and succeeds again when it is already gone", () => {
        assert.equal(runScript(KIND_CREATE_SCRIPT, state, config).status, 0);
        assert.equal(runScript(KIND_DELETE_SCRIPT, state).status, 0);
        assert.ok(!existsSync(path.join(state, "vault.cluster")));
        const again = runScript(KIND_DELETE_SCRIPT, state);
        assert.equal(again.status, 0, again.stderr);
    });
});
