/**
 * The simulator's `vault` (tests/doubles/vault/bin/vault) reaches the model two ways: as a thin client of the
 * in-process server (the simulator tier) and as a Node process (where no server runs: the process tier). Whatever a
 * script in a pod runs must get the same answer either way, or the fast tier would test another simulator than the
 * process tier does.
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { vaultServer } from "../doubles/vault/vaultServer";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");
const { podHome } = require("../doubles/vault/podHome.js");

const VAULT = path.resolve(__dirname, "../doubles/vault/bin/vault");

type Path = "server" | "process";
interface Answer {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs the fake `vault` in a pod's environment, as the pod's shell would start it, through one of the two paths. */
async function vaultIn(sim: Simulation, pod: string, how: Path, argv: string[], stdin = ""): Promise<Answer> {
    const state = sim.state();
    const server = how === "server" ? (await vaultServer()).env : {};
    const env = {
        ...state.pods[pod].containers[0].env,
        HOME: podHome(sim.stateFile, `${pod}-${state.pods[pod].uid}`),
        PATH: "/usr/bin:/bin",
        VAULT_SIM_STATE: sim.stateFile,
        VAULT_SIM_POD: pod,
        ...server,
    };
    return new Promise((resolve, reject) => {
        // As a script in the pod starts it: a child of sh.
        const child = spawn("/bin/sh", ["-c", '"$0" "$@"', VAULT, ...argv], { env, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.on("error", () => undefined);
        child.stdin.end(stdin);
    });
}

describe("the simulator's vault command: the in-process server and the Node process answer alike", function () {
    this.timeout(60_000);
    const sims: Simulation[] = [];
    before(function () {
        requireRenderedPods(this);
    });
    after(() => sims.forEach((s) => s.dispose()));

    async function running(): Promise<Simulation> {
        const sim = await Simulation.create({ replicas: 1 });
        sims.push(sim);
        // The Node process reads the state from disk: share it (both paths then use the file).
        sim.shareStateFile();
        await sim.wait(60_000);
        return sim;
    }

    /** init (1 share), status, unseal with the key on stdin, status again, and a snapshot of 600 kB on stdout. */
    async function lifecycle(how: Path) {
        const sim = await running();
        const sealed = await vaultIn(sim, "vault-0", how, ["status", "-format=json"]);
        const init = await vaultIn(sim, "vault-0", how, ["operator", "init", "-format=json", "-key-shares=1", "-key-threshold=1"]);
        const keys = JSON.parse(init.stdout);
        const wrongKey = await vaultIn(sim, "vault-0", how, ["write", "-format=json", "sys/unseal", "key=-"], "bm90LXRoZS1rZXk=\n");
        const unseal = await vaultIn(sim, "vault-0", how, ["write", "-format=json", "sys/unseal", "key=-"], `${keys.unseal_keys_b64[0]}\n`);
        await sim.wait(30_000);
        const unsealed = await vaultIn(sim, "vault-0", how, ["status", "-format=json"]);
        sim.change((s: any) => model.writeData(s, "secret/big", "x".repeat(600_000)));
        const snapshot = await vaultIn(sim, "vault-0", how, ["operator", "raft", "snapshot", "save", "/dev/stdout"]);
        const withToken = await snapshotWithToken(sim, how, keys.root_token);
        const calls = sim.calls().filter((c) => c.tool === "vault");
        return { sealed, init, wrongKey, unseal, unsealed, snapshot, withToken, calls };
    }

    async function snapshotWithToken(sim: Simulation, how: Path, token: string): Promise<Answer> {
        const state = sim.state();
        const home = podHome(sim.stateFile, `vault-0-${state.pods["vault-0"].uid}`);
        fs.writeFileSync(path.join(home, ".vault-token"), token, { mode: 0o600 });
        try {
            return await vaultIn(sim, "vault-0", how, ["operator", "raft", "snapshot", "save", "/dev/stdout"]);
        } finally {
            fs.rmSync(path.join(home, ".vault-token"));
        }
    }

    it("the same exit codes, outputs and logged processes for init, unseal (key on stdin), status and a large snapshot", async () => {
        const [server, processed] = [await lifecycle("server"), await lifecycle("process")];
        const codes = (r: typeof server) => [r.sealed, r.init, r.wrongKey, r.unseal, r.unsealed, r.snapshot, r.withToken].map((a) => a.code);
        assert.deepEqual(codes(server), codes(processed));
        assert.deepEqual(codes(server).slice(0, 2), [2, 0], "sealed and uninitialised answers 2; init succeeds");
        assert.equal(server.withToken.code, 0, server.withToken.stderr);
        // Keys and ids are random per cluster: compare everything else.
        const status = (a: Answer) => {
            const { cluster_name, cluster_id, ...rest } = JSON.parse(a.stdout);
            void cluster_name;
            void cluster_id;
            return rest;
        };
        assert.deepEqual(status(server.sealed), status(processed.sealed));
        assert.deepEqual(status(server.unsealed), status(processed.unsealed));
        assert.equal(status(server.unsealed).sealed, false, "the key read from stdin unsealed the pod");
        assert.equal(server.wrongKey.stderr, processed.wrongKey.stderr);
        assert.equal(server.snapshot.stderr, processed.snapshot.stderr, "without a token: the same refusal");
        assert.ok(server.withToken.stdout.length > 600_000, `a snapshot of ${server.withToken.stdout.length} bytes`);
        assert.equal(server.withToken.stdout.length, processed.withToken.stdout.length);
        // What tests read about each process: its argv and environment, as a Node process would have logged them.
        const seen = (calls: typeof server.calls) => calls.map((c) => ({ argv: c.argv, pod: c.pod, env: Object.keys(c.env).sort() }));
        const withoutServer = (calls: typeof server.calls) =>
            seen(calls).map((c) => ({ ...c, env: c.env.filter((k) => k !== "VAULT_SIM_PORT" && k !== "VAULT_SIM_IO") }));
        assert.deepEqual(withoutServer(server.calls), withoutServer(processed.calls));
        assert.ok(
            server.calls.every((c) => c.env.VAULT_SIM_POD === "vault-0" && c.env.HOME.endsWith("/home")),
            "the server reads the environment the process was started with",
        );
    });

    it("refuses a call whose stdin rule the client and vaultCommand.js disagree on, instead of answering without its input", async function () {
        // The server reads a caller's environment from /proc; without it (macOS) bin/vault runs the Node process instead.
        if (!fs.existsSync("/proc/self/environ")) this.skip();
        const sim = await running();
        const { env } = await vaultServer();
        // A client that did not pass stdin for `key=-`: the server must not answer as if the key were empty.
        const shell = spawn("/bin/sh", ["-c", "exec sleep 30"], {
            env: { VAULT_SIM_STATE: sim.stateFile, VAULT_SIM_POD: "vault-0", HOME: "/nonexistent", PATH: "/usr/bin:/bin" },
        });
        try {
            const io = path.join(env.VAULT_SIM_IO, `t${shell.pid}`);
            // The answer (the exit code) comes once the files are written; they go when the connection closes.
            const { code, stderr } = await new Promise<{ code: string; stderr: string }>((resolve, reject) => {
                const socket = net.connect(Number(env.VAULT_SIM_PORT), "127.0.0.1");
                socket.on("error", reject);
                socket.once("data", (answer) => {
                    resolve({ code: String(answer), stderr: fs.readFileSync(`${io}.err`, "utf8") });
                    socket.end();
                });
                const argv = ["write", "sys/unseal", "key=-"];
                socket.write([String(shell.pid), "", `${io}.out`, `${io}.err`, String(argv.length), ...argv].map((f) => `${f}\0`).join(""));
            });
            assert.equal(code.trim(), "70");
            assert.match(stderr, /disagree on whether `vault write` reads stdin/);
        } finally {
            shell.kill();
        }
    });
});
