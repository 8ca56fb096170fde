/**
 * `npm run snapshot` / `npm run restore` as processes (scripts/backup.ts): the real Kubectl class against the
 * simulator's kubectl and vault, and a fake `pulumi` that answers `stack output` and records `config set`. Proves the
 * secrets travel only in memory and on stdin, never in an argv or a log line.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

const ROOT = path.resolve(__dirname, "../..");
const SIM_BIN = path.join(ROOT, "tests/doubles/vault/bin");

/** A `pulumi` that prints the stack's outputs and records every call (argv, and stdin for config set). */
function fakePulumi(dir: string): { bin: string; calls: () => Array<{ argv: string[]; stdin: string }>; setOutputs: (o: object) => void } {
    const bin = path.join(dir, "fake-bin");
    fs.mkdirSync(bin, { recursive: true });
    const outputs = path.join(dir, "outputs.json");
    const log = path.join(dir, "pulumi-calls.jsonl");
    fs.writeFileSync(
        path.join(bin, "pulumi"),
        `#!/usr/bin/env node
const fs = require("fs");
const argv = process.argv.slice(2);
const stdin = argv[0] === "config" ? fs.readFileSync(0, "utf8") : "";
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ argv, stdin }) + "\\n");
if (argv[0] === "stack" && argv[1] === "output") process.stdout.write(fs.readFileSync(${JSON.stringify(outputs)}, "utf8"));
`,
        { mode: 0o755 },
    );
    return {
        bin,
        calls: () =>
            fs.existsSync(log)
                ? fs
                      .readFileSync(log, "utf8")
                      .trim()
                      .split("\n")
                      .map((l) => JSON.parse(l))
                : [],
        setOutputs: (o) => fs.writeFileSync(outputs, JSON.stringify(o)),
    };
}

describe("npm run snapshot / restore as processes (simulator)", function () {
    this.timeout(120_000);
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation | undefined;
    afterEach(() => sim?.dispose());

    it("saves and restores through kubectl, hands a rebuilt cluster's keys over on stdin, and leaks nothing", async () => {
        sim = await Simulation.create({ clock: "wall" });
        const run = (step: Parameters<Simulation["runStep"]>[0], options: Parameters<Simulation["runStep"]>[1] = {}) =>
            sim!.runStep(step, { ...options, realTime: true });
        const { keys } = await sim.bootstrap(undefined, run);
        const pulumi = fakePulumi(sim.dir);
        const outputsOf = (k: { unsealKeys: string[]; rootToken: string }) => ({
            kubeconfig: sim!.kubeconfig,
            rootToken: k.rootToken,
            unsealKeys: k.unsealKeys,
            vaultNamespace: "vault",
            raftPeers: [{}, {}, {}],
        });
        pulumi.setOutputs(outputsOf(keys));
        const cli = (...args: string[]) =>
            spawnSync("node", ["--require", "ts-node/register/transpile-only", path.join(ROOT, "scripts/backup.ts"), ...args, "--stack", "dev"], {
                cwd: sim!.dir,
                env: {
                    ...process.env,
                    NODE_PATH: path.join(ROOT, "node_modules"),
                    TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json"),
                    PATH: `${pulumi.bin}:${SIM_BIN}:${process.env.PATH}`,
                    VAULT_SIM_STATE: sim!.shareStateFile(),
                },
                encoding: "utf8",
            });

        sim.change((s) => model.writeData(s, "secret/app", "saved"));
        const saved = cli("snapshot");
        assert.equal(saved.status, 0, saved.stderr);
        const folder = path.join(sim.dir, "backups", "vault-ha.dev");
        const snap = fs.readdirSync(folder).find((f) => f.endsWith(".snap"))!;
        assert.match(saved.stderr, new RegExp(`backup: backups/vault-ha\\.dev/${snap.replace(/\./g, "\\.")} \\(restore it with: npm run restore -- `));

        // Rebuilt (destroy, up): new keys in the state; the snapshot still opens only with the old ones.
        sim.change((s) => model.rebuild(s));
        fs.rmSync(sim.keyFile, { force: true });
        const rebuilt = await sim.bootstrap(undefined, run);
        pulumi.setOutputs(outputsOf(rebuilt.keys));
        const restored = cli("restore", path.join(folder, snap));
        assert.equal(restored.status, 0, restored.stderr);
        assert.match(restored.stderr, /restoring with -force/);
        assert.match(restored.stderr, /run npm run up now/);
        assert.equal(model.readData(sim.state(), "secret/app"), "saved");

        const configSets = pulumi.calls().filter((c) => c.argv[0] === "config");
        assert.deepEqual(
            configSets.map((c) => c.argv),
            [
                ["config", "set", "--secret", "--stack", "dev", "vault-ha:unsealKeys"],
                ["config", "set", "--secret", "--stack", "dev", "vault-ha:rootToken"],
            ],
        );
        assert.deepEqual(JSON.parse(configSets[0].stdin), keys.unsealKeys, "the snapshot's keys, on stdin");
        assert.equal(configSets[1].stdin, keys.rootToken);

        // One answer to "where are my keys": the key file the README names holds the keys that open the cluster now;
        // the rebuilt cluster's keys are kept beside it under a name that says whose they are.
        const keyFile = JSON.parse(fs.readFileSync(sim.keyFile, "utf8"));
        assert.deepEqual(keyFile.unseal_keys_b64, keys.unsealKeys);
        assert.equal(keyFile.root_token, keys.rootToken);
        assert.equal(fs.statSync(sim.keyFile).mode & 0o777, 0o600);
        const aside = fs.readdirSync(path.dirname(sim.keyFile)).filter((f) => f !== path.basename(sim!.keyFile));
        assert.equal(aside.length, 1, aside.join(", "));
        assert.match(aside[0], /rebuilt-cluster/);
        assert.deepEqual(JSON.parse(fs.readFileSync(path.join(path.dirname(sim.keyFile), aside[0]), "utf8")).unseal_keys_b64, rebuilt.keys.unsealKeys);
        assert.match(restored.stderr, new RegExp(`${path.basename(sim.keyFile)}.*holds the snapshot's keys`));

        const secrets = [...keys.unsealKeys, keys.rootToken, ...rebuilt.keys.unsealKeys, rebuilt.keys.rootToken];
        const visible = [
            saved.stderr,
            saved.stdout,
            restored.stderr,
            restored.stdout,
            JSON.stringify(pulumi.calls().map((c) => c.argv)),
            JSON.stringify(sim.calls()),
        ].join("\n");
        for (const secret of secrets) assert.ok(!visible.includes(secret), `a secret (${secret.slice(0, 6)}...) reached an argv or a log`);
    });
});
