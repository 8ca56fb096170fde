/**
 * Runs the bootstrap's real step commands the way @pulumi/command runs them (`/bin/sh -c <command>` in the project
 * folder, with the step's environment and a JSON stdin), against the SIMULATOR: tests/simulator/bin/kubectl and
 * tests/simulator/bin/vault on PATH, sharing one model of a Vault raft cluster (model.js).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BootstrapParams, BootstrapStep, stepCommand, stepEnvironment } from "../../components/bootstrap/commandSpec";
import type { StepName } from "../../components/bootstrap/cli";
import { keyFilePath } from "../../components/bootstrap/keyFile";
import { bootstrapPlan, podNames } from "../../components/bootstrap/steps";
import { TLS_FILES, vaultCertificateSans } from "../../components/tlsConfig";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("./model.js");
/* eslint-enable @typescript-eslint/no-require-imports */

const PROJECT_ROOT = path.resolve(__dirname, "../..");
const SIM_BIN = path.join(__dirname, "bin");

export interface StepRun {
    code: number;
    stdout: string;
    stderr: string;
}

export interface Secrets {
    unsealKeys?: string[];
    rootToken?: string;
    password?: string;
    caCert?: string;
}

export interface BootstrapOutcome {
    keys: { unsealKeys: string[]; rootToken: string; source: string };
    peers: Array<{ node_id: string; address: string; leader: boolean; voter: boolean }>;
    runs: Record<string, StepRun>;
}

export interface SimulationOptions {
    replicas?: number;
    keyShares?: number;
    keyThreshold?: number;
    timeoutSeconds?: number;
    pollMs?: number;
    latencyMs?: number;
    /** Vault serves TLS with a certificate for the names vault-ha computes, signed by the CA mounted in the pods. */
    tls?: boolean;
}

export class Simulation {
    readonly dir: string;
    readonly stateFile: string;
    readonly params: BootstrapParams;
    readonly pods: string[];
    readonly kubeconfig: string;
    private readonly pollMs: number;
    /** What each step printed. Pulumi logs all of it except the init step's stdout (the keys, a secret output). */
    readonly output: Array<{ step: StepName; stdout: string; stderr: string }> = [];

    constructor(options: SimulationOptions = {}) {
        // Without the fakes on PATH the steps would reach a real kubectl: refuse to run at all.
        for (const tool of ["kubectl", "vault"]) fs.accessSync(path.join(SIM_BIN, tool), fs.constants.X_OK);
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-ha-sim-"));
        this.stateFile = path.join(this.dir, "sim-state.json");
        const replicas = options.replicas ?? 3;
        // A kubeconfig with a client key, so that the scans can prove the key never leaks.
        this.kubeconfig = `apiVersion: v1\nkind: Config\nusers:\n- name: kind-vault\n  user:\n    client-key-data: ${Buffer.from(`simulated-client-key-${path.basename(this.dir)}-`.repeat(3)).toString("base64")}\n`;
        const state = model.newState({ replicas, kubeconfig: this.kubeconfig, latencyMs: options.latencyMs ?? 0 });
        if (options.tls) {
            const sans = vaultCertificateSans({ release: "vault", namespace: "vault", replicas, ingressHost: "vault.localhost" });
            state.tls = { caFile: TLS_FILES.ca, serverNames: sans.dnsNames };
        }
        model.save(this.stateFile, state);
        this.pods = podNames("vault", replicas);
        this.pollMs = options.pollMs ?? 20;
        this.params = {
            namespace: "vault",
            release: "vault",
            replicas,
            keyShares: options.keyShares ?? 5,
            keyThreshold: options.keyThreshold ?? 3,
            keyFile: keyFilePath("vault-ha", "dev"),
            leaderApiAddr: `${options.tls ? "https" : "http"}://vault-0.vault-internal:8200`,
            leaderCaCertFile: options.tls ? TLS_FILES.ca : undefined,
            timeoutSeconds: options.timeoutSeconds ?? 5,
        };
    }

    get keyFile(): string {
        return path.join(this.dir, this.params.keyFile);
    }

    state(): any {  
        return model.load(this.stateFile);
    }

    change(fn: (state: any) => void): void {  
        model.update(this.stateFile, fn);
    }

    restart(pod: string): void {
        this.change((s) => model.restart(s, pod));
    }

    recreate(pod: string): void {
        this.change((s) => model.recreate(s, pod));
    }

    /** Every fake kubectl and vault process that ran: argv and environment (stdin is deliberately not recorded). */
    calls(): Array<{ tool: string; argv: string[]; env: Record<string, string>; pod?: string }> {
        const file = path.join(this.dir, "calls.jsonl");
        if (!fs.existsSync(file)) return [];
        return fs.readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line));
    }

    /** Starts one step the way the Command provider would; `onSpawn` gets the process (to kill it, say). */
    runStep(step: StepName, options: { pod?: string; secrets?: Secrets; env?: Record<string, string>; onSpawn?: (pid: number) => void } = {}): Promise<StepRun> {
        const bootstrapStep = !["cert-manager-ready", "read-ca", "kv-proof"].includes(step);
        const environment = { ...(bootstrapStep ? stepEnvironment(step as BootstrapStep, this.params, options.pod) : {}), ...options.env };
        const stdin = JSON.stringify({ kubeconfig: this.kubeconfig, ...options.secrets });
        return new Promise((resolve) => {
            const child = spawn("/bin/sh", ["-c", stepCommand(step)], {
                cwd: PROJECT_ROOT,
                env: {
                    ...process.env,
                    ...environment,
                    // Key files are relative to the project folder in real use; here they go to the simulation's folder.
                    VAULT_HA_KEY_FILE: environment.VAULT_HA_KEY_FILE ? path.join(this.dir, environment.VAULT_HA_KEY_FILE) : "",
                    VAULT_HA_POLL_MS: String(this.pollMs),
                    PATH: `${SIM_BIN}:${process.env.PATH}`,
                    VAULT_SIM_STATE: this.stateFile,
                },
                stdio: ["pipe", "pipe", "pipe"],
            });
            options.onSpawn?.(child.pid!);
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("close", (code, signal) => {
                this.output.push({ step, stdout, stderr });
                resolve({ code: code ?? (signal ? 137 : 1), stdout, stderr });
            });
            child.stdin.end(stdin);
        });
    }

    /** Runs the whole plan in Pulumi's order (followers in parallel); throws with the step's stderr on failure. */
    async bootstrap(adopted?: Secrets): Promise<BootstrapOutcome> {
        const runs: Record<string, StepRun> = {};
        const must = async (id: string, run: Promise<StepRun>) => {
            runs[id] = await run;
            if (runs[id].code !== 0) throw new Error(`step ${id} failed (${runs[id].code}): ${runs[id].stderr}`);
            return JSON.parse(runs[id].stdout);
        };
        const plan = bootstrapPlan(this.pods);
        await must("wait-pods", this.runStep("wait-pods"));
        const keys = await must("init", this.runStep("init", { secrets: adopted }));
        const leader = plan.find((s) => s.kind === "unseal")!;
        await must(leader.id, this.runStep("unseal", { pod: leader.pod, secrets: { unsealKeys: keys.unsealKeys } }));
        await Promise.all(
            plan.filter((s) => s.kind === "join").map((s) => must(s.id, this.runStep("join", { pod: s.pod, secrets: { unsealKeys: keys.unsealKeys } }))),
        );
        const verify = await must("verify", this.runStep("verify", { secrets: { rootToken: keys.rootToken } }));
        return { keys, peers: verify.peers, runs };
    }

    /** The text a user could see: every logged line, every argv and environment of every simulated process. */
    exposedText(): string {
        const logged = this.output.map((o) => (o.step === "init" ? o.stderr : o.stdout + o.stderr));
        const processes = this.calls().map((c) => JSON.stringify([c.argv, c.env]));
        return [...logged, ...processes].join("\n");
    }

    dispose(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
