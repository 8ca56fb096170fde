/**
 * SIMULATOR — the in-cluster unsealer's container (components/unsealer), run against a simulation: the REAL script
 * (unsealerScript(): its prelude, UNSEAL_PASS_FUNCTIONS and start-up line) in one real `sh` that lives as long as the
 * container, with the container's environment from unsealerEnvironment, on simulated time. Only the loop's sleep is
 * replaced: the task writes a line for each pass and sleeps the interval on the SimClock (`start`), a pass taking no
 * simulated time (time stands still during real I/O). Its `vault` is the simulator's (bin/vault), called from a pod
 * that is not a Vault pod (VAULT_SIM_POD=@unsealer): each call reaches the Vault pod its VAULT_ADDR names
 * (cli.js remoteVault, model.remoteTransportError), and is logged like any other call.
 *
 * The container's paths (UNSEALER_PATHS) are folders of a temporary folder here: the keys the Secret would hold
 * (unsealKeysSecretData of the simulation's keys), the CA its pods mount (the server TLS Secret's ca.crt) and the
 * state folder, which lives as long as the task, as the emptyDir lives as long as the pod.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UNSEAL_PASS_FUNCTIONS, UNSEALER_ENV, unsealerScript } from "../../../components/unsealer/unsealerScript";
import { UNSEALER_PATHS, UnsealerPlan, unsealerEnvironment, unsealKeysSecretData } from "../../../components/unsealer/unsealerManifests";
import { SERVER_TLS_SECRET } from "../../../components/tls/tlsConfig";
import { VAULT_IMAGE } from "../../../components/config/versions";
import type { Simulation } from "./harness";
import { vaultServer } from "./vaultServer";

const SIM_BIN = path.join(__dirname, "bin");
/** How the unsealer's calls are told apart in the calls log (cli.js remoteVault). */
export const UNSEALER_CALLER = "@unsealer";

export interface UnsealerPassRun {
    /** Simulated time the pass ran at. */
    at: number;
    code: number;
    stdout: string;
    stderr: string;
}

export interface UnsealerTaskOptions {
    /** The CA file's content (default: the CA in the server TLS Secret, what the Deployment mounts). */
    caPem?: string;
    /** The keys the program holds (default: the simulation's, from its init). */
    keys?: string[];
    /** The cluster id the bootstrap's verify recorded (UNSEALER_CLUSTER_ID); absent: a state from before it. */
    clusterId?: string;
}

/** The deployed script's loop: a pass, then a sleep of the interval (tests/unit/unsealer/unsealerScript.test.ts). */
export const DEPLOYED_LOOP = `while :; do\n  unseal_pass || true\n  sleep "$\{${UNSEALER_ENV.intervalSeconds}}"\ndone\n`;
const PASS_END = "@@vault-sim-unsealer-pass-end";
/** The simulator's loop instead: a pass each time the task writes a line, its end and exit status marked. */
const DRIVEN_LOOP = `while read -r _; do\n  unseal_pass </dev/null\n  echo "${PASS_END} $?"\n  echo "${PASS_END}" >&2\ndone\n`;

/** What the deployed script runs before its pass functions (`set -u`, the umask): the simulated pass runs it too. */
export function unsealerPrelude(): string {
    const script = unsealerScript();
    const at = script.indexOf(UNSEAL_PASS_FUNCTIONS);
    if (at < 0) throw new Error("(simulator: unsealerScript() does not contain UNSEAL_PASS_FUNCTIONS)");
    return script.slice(0, at);
}

/**
 * The deployed script with its loop's sleep handed to the simulated clock: everything before the loop runs as it is,
 * in one shell that lives as long as the container (so what one pass leaves in the shell, the next one sees).
 */
export function simulatedUnsealerScript(): string {
    const script = unsealerScript();
    if (!script.endsWith(DEPLOYED_LOOP)) throw new Error("(simulator: unsealerScript() no longer ends with the loop the simulator replaces)");
    return script.slice(0, script.length - DEPLOYED_LOOP.length) + DRIVEN_LOOP;
}

export class UnsealerTask {
    /** The container's filesystem, as far as the unsealer uses it. */
    readonly root: string;
    readonly env: Record<string, string>;
    readonly intervalMs: number;
    /** Every pass, in order. */
    readonly passes: UnsealerPassRun[] = [];
    private running: Promise<void> | undefined;
    private stopping = false;
    private container: { child: ChildProcess; stdout: string; stderr: string; exited: number | null } | undefined;

    constructor(
        private readonly sim: Simulation,
        options: UnsealerTaskOptions = {},
    ) {
        const state = sim.state();
        const tls = sim.params.leaderCaCertFile !== undefined;
        const plan: UnsealerPlan = {
            release: sim.params.release,
            replicas: sim.params.replicas,
            tls,
            keyShares: sim.params.keyShares,
            keyThreshold: sim.params.keyThreshold,
            image: VAULT_IMAGE,
            ...(options.clusterId !== undefined ? { clusterId: options.clusterId } : {}),
        };
        this.root = fs.mkdtempSync(path.join(os.tmpdir(), "vault-ha-unsealer-"));
        const hostPath = (containerPath: string) => path.join(this.root, containerPath);
        const containerPaths: string[] = Object.values(UNSEALER_PATHS);
        this.env = Object.fromEntries(
            Object.entries(unsealerEnvironment(plan)).map(([name, value]) => [name, containerPaths.includes(value) ? hostPath(value) : value]),
        );
        // The Secret's files (the kubelet writes each key as a file, its value as it is).
        fs.mkdirSync(hostPath(UNSEALER_PATHS.keys), { recursive: true });
        const keys = options.keys ?? state.cluster?.keys ?? [];
        for (const [file, share] of Object.entries(unsealKeysSecretData(keys, plan.keyThreshold))) {
            fs.writeFileSync(path.join(hostPath(UNSEALER_PATHS.keys), file), share, { mode: 0o400 });
        }
        fs.mkdirSync(hostPath(UNSEALER_PATHS.state), { recursive: true, mode: 0o700 });
        if (tls) {
            const secret = state.secrets[`${state.namespace}/${SERVER_TLS_SECRET}`];
            const ca = options.caPem ?? Buffer.from(secret["ca.crt"], "base64").toString("utf8");
            fs.mkdirSync(path.dirname(hostPath(UNSEALER_PATHS.ca)), { recursive: true });
            fs.writeFileSync(hostPath(UNSEALER_PATHS.ca), ca, { mode: 0o400 });
        }
        this.intervalMs = Number(this.env[UNSEALER_ENV.intervalSeconds]) * 1000;
    }

    /** One pass, now: what the container's loop does each interval. Simulated time stands still while it runs. */
    async pass(): Promise<UnsealerPassRun> {
        const sim = this.sim;
        // The model moves to the clock's time first: what happened meanwhile (pods starting, elections) has happened.
        sim.change(() => undefined);
        const at = sim.clock.now();
        const container = this.container ?? (await this.startContainer());
        const run = await sim.clock.track(
            new Promise<UnsealerPassRun>((resolve) => {
                const check = () => {
                    const out = new RegExp(`^${PASS_END} (\\d+)\\n`, "m").exec(container.stdout);
                    const err = container.stderr.indexOf(`${PASS_END}\n`);
                    if (out && err >= 0) {
                        container.child.stdout!.off("data", check);
                        container.child.stderr!.off("data", check);
                        container.child.off("close", check);
                        const result = { at, code: Number(out[1]), stdout: container.stdout.slice(0, out.index), stderr: container.stderr.slice(0, err) };
                        container.stdout = container.stdout.slice(out.index + out[0].length);
                        container.stderr = container.stderr.slice(err + PASS_END.length + 1);
                        resolve(result);
                    } else if (container.exited !== null) {
                        // The shell died (a `set -u` error, a syntax error): what it printed, and its status.
                        resolve({ at, code: container.exited, stdout: container.stdout, stderr: container.stderr });
                    }
                };
                container.child.stdout!.on("data", check);
                container.child.stderr!.on("data", check);
                container.child.on("close", check);
                container.child.stdin!.write("\n");
                check();
            }),
        );
        this.passes.push(run);
        return run;
    }

    private async startContainer() {
        const server = await vaultServer();
        const child = spawn("/bin/sh", ["-c", simulatedUnsealerScript()], {
            cwd: this.root,
            env: { ...this.env, PATH: `${SIM_BIN}:/usr/bin:/bin`, VAULT_SIM_STATE: this.sim.stateFile, VAULT_SIM_POD: UNSEALER_CALLER, ...server.env },
            stdio: ["pipe", "pipe", "pipe"],
        });
        const container = { child, stdout: "", stderr: "", exited: null as number | null };
        child.stdout.on("data", (d) => (container.stdout += d));
        child.stderr.on("data", (d) => (container.stderr += d));
        child.on("close", (code) => (container.exited = code ?? 1));
        child.stdin.on("error", () => undefined);
        this.container = container;
        return container;
    }

    /** The container's loop: a pass, then the interval, until stop(). */
    start(): void {
        if (this.running) throw new Error("(simulator: the unsealer is already running)");
        this.stopping = false;
        this.running = (async () => {
            while (!this.stopping) {
                await this.pass();
                if (this.stopping) break;
                await this.sim.clock.sleep(this.intervalMs);
            }
        })();
    }

    /** Stops the loop once its current pass or sleep is over (a sleep is over at once: simulated time jumps). */
    async stop(): Promise<void> {
        this.stopping = true;
        await this.running;
        this.running = undefined;
    }

    /** Everything the container printed. */
    output(): string {
        return this.passes.map((p) => p.stdout + p.stderr).join("");
    }

    /** The container ends (its shell reads the end of its input) and its folder goes. */
    dispose(): void {
        this.container?.child.stdin!.end();
        this.container = undefined;
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}

/** "<target host> <argv>" of each vault call the unsealer made, from the `since`-th recorded call on. */
export function unsealerCalls(sim: Simulation, since = 0): Array<{ host: string; argv: string[] }> {
    return sim
        .calls()
        .slice(since)
        .filter((c) => c.tool === "vault" && c.pod === UNSEALER_CALLER)
        .map((c) => ({ host: String(c.env.VAULT_ADDR ?? "").replace(/^https?:\/\/|:\d+$/g, ""), argv: c.argv }));
}
