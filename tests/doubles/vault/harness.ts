/**
 * Runs the bootstrap's steps against the SIMULATOR (model.js, cli.js) the way @pulumi/command runs them: each step's
 * environment from stepEnvironment, its secrets as JSON on stdin, its result on stdout and its progress on stderr.
 *
 * Two ways to run a step:
 * - in-process (`runStep`): executeStep, the function the step process runs, with the simulator's kubectl and a
 *   simulated clock. Fast and deterministic: the tier for scenarios.
 * - as a process (`runStepProcess`): the exact command line the Command resource runs (`/bin/sh -c <stepCommand>`),
 *   with the fake kubectl and vault on PATH and the model on the wall clock: proves the real entry point, the real
 *   Kubectl class and the command lines.
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { executeStep, StepRuntime } from "../../../components/runner/main";
import { StepName, StepParams, stepCommand, stepEnvironment } from "../../../components/stepCommand/contract";
import { BackgroundProcess, KubectlResult, KubectlRunner, KubectlVaultOps } from "../../../components/runner/kubectl";
import type { StepContext } from "../../../components/runner/primitives/context";
import { keyFilePath } from "../../../components/runner/keyFile";
import { bootstrapPlan } from "../../../components/vault/bootstrapPlan";
import { leaderApiAddr, podNames } from "../../../components/vault/names";
import { TLS_FILES, vaultCertificateSans } from "../../../components/tls/tlsConfig";
import { VaultChartOptions, vaultHelmValues } from "../../../components/vault/vaultValues";
import { VAULT_IMAGE } from "../../../components/config/versions";
import { manifestsOfKind, oneManifest, renderChart, requireHelm } from "../../support/helm";
import { type AutoSealPlan, sealPlan, SEAL_SECRET } from "../../../components/seal/sealPlan";
import type { AutoSealType } from "../../../components/seal/sealTypes";
import { SimClock } from "./simClock";
import { FakePortForward, ForwardRecord } from "./fakePortForward";
import { vaultServer } from "./vaultServer";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("./model.js");
const { podHome } = require("./podHome.js");
const cli = require("./cli.js");
const kubeObjects = require("./kubeObjects.js");

const PROJECT_ROOT = path.resolve(__dirname, "../../..");
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
    /** Vault serves TLS with a certificate for the names vault-ha computes, signed by the CA mounted in the pods. */
    tls?: boolean;
    /** "sim" (default): simulated time, in-process steps. "wall": for runStepProcess. */
    clock?: "sim" | "wall";
    /** The Vault image the pods start with (the pinned default when absent). */
    vaultImage?: string;
    /**
     * How the program places Vault on the cluster (vaultHelmValues' second argument): `serviceType` is the type of the
     * chart's API Service (vault-ui). The chart is rendered with it, so the Services are the ones that mode installs.
     */
    chart?: VaultChartOptions;
    /**
     * An auto-unseal seal (absent: Shamir). The pods are rendered with the seal plan vault-ha makes for plausible
     * settings of that type (simulatedSealPlan), and the model reads the seal and retry_join from the rendered server
     * configuration. The KMS answers until `kms(false)`.
     */
    seal?: { type: AutoSealType; disabled?: boolean };
}

/** Settings a user could give for each seal, as the seal plan takes them (components/seal/sealPlan.ts). */
const SIMULATED_SEAL_SETTINGS: Record<AutoSealType, Parameters<typeof sealPlan>[0]> = {
    awskms: {
        seal: "awskms",
        sealKey: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        sealRegion: "eu-west-1",
        sealIdentity: "arn:aws:iam::111122223333:role/vault",
        sealTransitAddress: "",
        sealTransitMount: "transit",
        sealTransitCaCert: "",
    },
    gcpckms: {
        seal: "gcpckms",
        sealKey: "projects/my-project/locations/global/keyRings/vault/cryptoKeys/unseal",
        sealRegion: "",
        sealIdentity: "vault@my-project.iam.gserviceaccount.com",
        sealTransitAddress: "",
        sealTransitMount: "transit",
        sealTransitCaCert: "",
    },
    azurekeyvault: {
        seal: "azurekeyvault",
        sealKey: "vault-kv/unseal",
        sealRegion: "",
        sealIdentity: "11111111-2222-3333-4444-555555555555",
        sealTransitAddress: "",
        sealTransitMount: "transit",
        sealTransitCaCert: "",
    },
    transit: {
        seal: "transit",
        sealKey: "vault-ha",
        sealRegion: "",
        sealIdentity: "",
        sealTransitAddress: "https://transit.example.com:8200",
        sealTransitMount: "transit",
        sealTransitCaCert: "",
    },
};

/** The seal plan the program would make for plausible settings of `type` (with vault-ha:sealDisabled when `disabled`). */
export function simulatedSealPlan(type: AutoSealType, disabled = false): AutoSealPlan {
    return sealPlan({ ...SIMULATED_SEAL_SETTINGS[type], ...(disabled ? { sealDisabled: true } : {}) }) as AutoSealPlan;
}

/** The chart options of a simulation: its own, with the seal's plan when it has an auto seal. */
function chartOptions(options: SimulationOptions): VaultChartOptions | undefined {
    return options.seal ? { ...options.chart, seal: simulatedSealPlan(options.seal.type, options.seal.disabled) } : options.chart;
}

/** What the simulator builds its cluster from: one render of the chart (the StatefulSet, the Services, the server configuration). */
async function renderRelease(values: Record<string, unknown>): Promise<{ statefulSet: unknown; services: unknown[]; serverConfig: string }> {
    const manifests = await renderChart({ chart: "vault", release: "vault", namespace: "vault", values });
    const config = oneManifest(manifests, "ConfigMap", "vault-config");
    return {
        statefulSet: oneManifest(manifests, "StatefulSet", "vault"),
        services: manifestsOfKind(manifests, "Service"),
        serverConfig: String(Object.values(config.data ?? {})[0] ?? ""),
    };
}

export interface SimParams {
    namespace: string;
    release: string;
    replicas: number;
    keyShares: number;
    keyThreshold: number;
    /** Relative to the simulation's folder, as it is relative to the project folder in real use. */
    keyFile: string;
    leaderApiAddr: string;
    leaderCaCertFile?: string;
    timeoutSeconds: number;
    /** The roll step's parameter: what the pods should be made from (changes with `upgrade`). */
    podTemplate: string;
}

export interface StepOptions {
    pod?: string;
    secrets?: Secrets;
    env?: Record<string, string>;
}

/** For a `before` hook: the simulator needs Helm and the chart archives to render its pods; skips loudly without them. */
export function requireRenderedPods(ctx: Mocha.Context): void {
    requireHelm(ctx, "the Vault simulator (its pods come from the rendered chart)");
}

/** A PEM-shaped stand-in for a certificate: the model compares them, it does not parse them. */
const fakePem = (what: string) =>
    `-----BEGIN CERTIFICATE-----\n${Buffer.from(`simulated ${what} ${crypto.randomUUID()}`).toString("base64")}\n-----END CERTIFICATE-----\n`;

/** cert-manager's work, modelled: a CA and Vault's certificate in the secret the pods mount. */
function issueCertificate(state: any, replicas: number): void {
    const sans = vaultCertificateSans({ release: "vault", namespace: "vault", replicas, ingressHost: "vault.localhost" });
    const ca = fakePem("CA");
    state.tls = { ca, serverNames: sans.dnsNames, ipAddresses: sans.ipAddresses };
    // cert-manager's secret: the pods mount it (and stay in ContainerCreating without it).
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    state.secrets["vault/vault-server-tls"] = {
        "ca.crt": b64(ca),
        "tls.crt": b64(fakePem("server certificate")),
        "tls.key": b64("simulated private key"),
    };
}

/**
 * What a simulation holds at one moment: its folder (the model's state, the key file, the pods' $HOME folders) but not
 * its calls log, and its kubeconfig, parameters and simulated time. `Simulation.restore` starts new simulations from it.
 */
export interface SimulationSnapshot {
    readonly options: SimulationOptions;
    readonly kubeconfig: string;
    readonly params: SimParams;
    readonly pods: string[];
    readonly now: number;
    /** Relative to the folder, parents before children; a file's content, or none for a folder. */
    readonly entries: ReadonlyArray<{ rel: string; mode: number; content?: Buffer }>;
}

/** The calls log is a simulation's own: one started from a snapshot records only what it is asked afterwards. */
const CALLS_LOG = "calls.jsonl";

export class Simulation {
    readonly dir: string;
    /** The model's state, for this process's model calls (it is kept in memory); another process gets shareStateFile(). */
    readonly stateFile: string;
    /** What the program would pass the steps; tests may change it to provoke a failure. */
    readonly params: SimParams;
    pods: string[];
    readonly kubeconfig: string;
    readonly clock: SimClock;
    /** What each step printed. Pulumi logs all of it except the init step's stdout (the keys, a secret output). */
    readonly output: Array<{ step: StepName; stdout: string; stderr: string }> = [];
    /** Every `kubectl port-forward` a step started, and how it ended (tests check none is left running). */
    readonly forwards: ForwardRecord[] = [];
    private readonly pollMs: number;

    /**
     * The pods come from the StatefulSet that the pinned chart renders for the program's values, so that the simulator
     * runs against the containers, environment and mounts the cluster would get. Call `requireRenderedPods` in a
     * `before` hook first: it skips (loudly) where Helm or the chart archives are missing.
     */
    static async create(options: SimulationOptions = {}): Promise<Simulation> {
        const replicas = options.replicas ?? 3;
        const values = vaultHelmValues(
            {
                vaultReplicas: replicas,
                uiNodePort: 30000,
                raftStorageSize: "10Gi",
                tls: options.tls ?? false,
                vaultImage: options.vaultImage,
            },
            chartOptions(options),
        );
        return new Simulation(options, await renderRelease(values));
    }

    /**
     * A new simulation (its own folder, an empty calls log, no output or port-forwards yet) exactly where `snapshot`
     * left another one: the same model state, files, kubeconfig, parameters and simulated time.
     */
    static restore(snapshot: SimulationSnapshot): Simulation {
        return new Simulation(snapshot.options, undefined, snapshot);
    }

    /** See SimulationSnapshot. Only on simulated time: a wall-clock model moves on by itself. */
    snapshot(): SimulationSnapshot {
        if (this.options.clock === "wall") throw new Error("(simulator: only a simulation on simulated time can be snapshotted)");
        model.writeOut(this.stateFile);
        const entries: Array<{ rel: string; mode: number; content?: Buffer }> = [];
        const walk = (rel: string) => {
            for (const name of fs.readdirSync(path.join(this.dir, rel)).sort()) {
                const child = path.join(rel, name);
                if (child === CALLS_LOG) continue;
                const full = path.join(this.dir, child);
                const stat = fs.lstatSync(full);
                if (stat.isDirectory()) {
                    entries.push({ rel: child, mode: stat.mode & 0o7777 });
                    walk(child);
                } else if (stat.isFile()) entries.push({ rel: child, mode: stat.mode & 0o7777, content: fs.readFileSync(full) });
                else throw new Error(`(simulator: cannot snapshot ${full}: neither a file nor a folder)`);
            }
        };
        walk("");
        return {
            options: structuredClone(this.options),
            kubeconfig: this.kubeconfig,
            params: { ...this.params },
            pods: [...this.pods],
            now: this.clock.now(),
            entries,
        };
    }

    /** The chart options the release was rendered with (kept for `upgrade`; a seal migration changes its seal). */
    private chart: VaultChartOptions | undefined;

    private readonly options: SimulationOptions;

    private constructor(
        options: SimulationOptions,
        release: { statefulSet: unknown; services: unknown[]; serverConfig: string } | undefined,
        from?: SimulationSnapshot,
    ) {
        // Without the fakes the process-level steps would reach a real kubectl: refuse to run at all.
        for (const tool of ["kubectl", "vault"]) fs.accessSync(path.join(SIM_BIN, tool), fs.constants.X_OK);
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-ha-sim-"));
        this.stateFile = path.join(this.dir, "sim-state.json");
        this.options = structuredClone(options);
        this.chart = chartOptions(options);
        if (from) {
            for (const entry of from.entries) {
                const full = path.join(this.dir, entry.rel);
                if (entry.content === undefined) fs.mkdirSync(full, { mode: entry.mode });
                else fs.writeFileSync(full, entry.content, { mode: entry.mode, flag: "wx" });
                // The umask does not narrow what the snapshot recorded.
                fs.chmodSync(full, entry.mode);
            }
            model.keepInMemory(this.stateFile);
            this.kubeconfig = from.kubeconfig;
            this.clock = new SimClock(from.now);
            this.pods = [...from.pods];
            this.pollMs = 2000;
            this.params = { ...from.params };
            return;
        }
        if (!release) throw new Error("(simulator: a new simulation needs the rendered release)");
        const replicas = options.replicas ?? 3;
        const tls = options.tls ?? false;
        // A kubeconfig with a client key, so that the scans can prove the key never leaks.
        this.kubeconfig = `apiVersion: v1\nkind: Config\nusers:\n- name: kind-vault\n  user:\n    client-key-data: ${Buffer.from(`simulated-client-key-${path.basename(this.dir)}-`.repeat(3)).toString("base64")}\n`;
        const state = model.newState({ ...release, kubeconfig: this.kubeconfig, clock: options.clock ?? "sim", seal: options.seal });
        if (options.clock === "wall") Object.assign(state.timing, { electionMs: 300, followerUnsealMs: 200, stabilizationMs: 400, restartMs: 100 });
        if (tls) issueCertificate(state, replicas);
        // The Secret the program writes for a transit seal before the release (the token reaches Vault as VAULT_TOKEN).
        if (options.seal?.type === "transit")
            state.secrets[`vault/${SEAL_SECRET.name}`] = { [SEAL_SECRET.tokenKey]: Buffer.from("hvs.simulated-transit-token").toString("base64") };
        model.save(this.stateFile, state);
        model.keepInMemory(this.stateFile);
        this.clock = new SimClock(state.now);
        this.pods = podNames("vault", replicas);
        this.pollMs = options.clock === "wall" ? 50 : 2000;
        this.params = {
            namespace: "vault",
            release: "vault",
            replicas,
            keyShares: options.keyShares ?? 5,
            keyThreshold: options.keyThreshold ?? 3,
            keyFile: keyFilePath("vault-ha", "dev"),
            leaderApiAddr: leaderApiAddr("vault", tls),
            leaderCaCertFile: tls ? TLS_FILES.ca : undefined,
            timeoutSeconds: options.timeoutSeconds ?? 600,
            podTemplate: `image ${options.vaultImage ?? VAULT_IMAGE}, TLS ${tls ? "on" : "off"}`,
        };
    }

    /**
     * A `pulumi up` with new Vault settings reaches the cluster as a `helm upgrade`: the StatefulSet gets the template
     * the chart renders for them (real Helm), and the program passes the roll step the new template summary. With TLS
     * switched on, cert-manager's certificate secret exists first (the release depends on it). With `seal` the chart
     * is rendered with that seal's plan, as `create` does, and a transit seal's token Secret exists first; the running
     * pods keep the configuration they started with. The seal migrations: a Shamir release moving to an auto seal
     * (`{ type }`), an auto seal's release retiring it (`{ type, disabled: true }`: the stanza with disabled = "true",
     * the way back to Shamir), and, once storage holds Shamir, the plain Shamir values (`{ type: "shamir" }`).
     */
    async upgrade(change: {
        vaultImage?: string;
        tls?: boolean;
        raftStorageSize?: string;
        seal?: { type: AutoSealType; disabled?: boolean } | { type: "shamir" };
    }): Promise<void> {
        const tls = change.tls ?? this.params.leaderCaCertFile !== undefined;
        const seal = change.seal;
        if (seal) {
            if (seal.type === "shamir") delete this.options.seal;
            else this.options.seal = { type: seal.type, ...("disabled" in seal && seal.disabled ? { disabled: true } : {}) };
            this.chart = chartOptions(this.options);
        }
        const sealType = seal?.type;
        const values = vaultHelmValues(
            { vaultReplicas: this.params.replicas, uiNodePort: 30000, raftStorageSize: change.raftStorageSize ?? "10Gi", tls, vaultImage: change.vaultImage },
            this.chart,
        );
        const { statefulSet, services, serverConfig } = await renderRelease(values);
        this.change((s) => {
            if (sealType === "transit")
                s.secrets[`vault/${SEAL_SECRET.name}`] = { [SEAL_SECRET.tokenKey]: Buffer.from("hvs.simulated-transit-token").toString("base64") };
            model.applyServerConfig(s, serverConfig);
            if (tls && !s.tls) issueCertificate(s, this.params.replicas);
            model.applyStatefulSet(s, statefulSet);
            kubeObjects.applyServices(s.kube, s.namespace, services);
        });
        this.params.leaderApiAddr = leaderApiAddr("vault", tls);
        this.params.leaderCaCertFile = tls ? TLS_FILES.ca : undefined;
        this.params.podTemplate = `image ${change.vaultImage ?? VAULT_IMAGE}, TLS ${tls ? "on" : "off"}`;
    }

    get keyFile(): string {
        return path.join(this.dir, this.params.keyFile);
    }

    state(): any {
        return model.load(this.stateFile);
    }

    /** Changes the model at the current simulated time. */
    change(fn: (state: any) => void): void {
        model.update(this.stateFile, fn, this.clock.now());
    }

    restart(pod: string): void {
        this.change((s) => model.restart(s, pod));
    }

    /** The auto seal's KMS starts (true) or stops (false) answering, now. Only with `seal` in the options. */
    kms(up: boolean): void {
        this.change((s) => model.kms(s, up));
    }

    recreate(pod: string): void {
        this.change((s) => model.recreate(s, pod));
    }

    /** `vaultReplicas` changed: the StatefulSet creates or deletes pods, and the program passes the new count. */
    scaleTo(replicas: number): void {
        this.change((s) => {
            s.statefulSet.replicas = replicas;
            model.scaleTo(s, s.statefulSet.templates[s.statefulSet.updateRevision], replicas);
        });
        this.pods = podNames("vault", replicas);
        this.params.replicas = replicas;
    }

    /** Lets simulated time pass (elections, follower unseals, autopilot). */
    async wait(ms: number): Promise<void> {
        await this.clock.sleep(ms);
        this.change(() => undefined);
    }

    /**
     * A context for code that drives Vault outside a step (npm run snapshot / restore): the simulator's kubectl on
     * simulated time; its log lines are kept in `output` like a step's stderr.
     */
    vaultContext(what: string): StepContext & { stderr: () => string } {
        const run: RunningStep = { step: what as StepName, stderr: "", killedAt: undefined };
        const kubectl = new SimKubectl(this, this.kubeconfig, {}, run);
        const entry = { step: what as StepName, stdout: "", stderr: "" };
        this.output.push(entry);
        return {
            ops: new KubectlVaultOps(kubectl, { namespace: this.params.namespace, release: this.params.release }),
            log: (line) => {
                run.stderr += `${line}\n`;
                entry.stderr = run.stderr;
            },
            clock: this.clock,
            timeoutMs: this.params.timeoutSeconds * 1000,
            pollMs: this.pollMs,
            stderr: () => run.stderr,
        };
    }

    /** Every kubectl and vault call: argv and environment (stdin is deliberately not recorded). */
    calls(): Array<{ tool: string; argv: string[]; env: Record<string, string>; pod?: string; container?: string }> {
        return model.readCalls(this.stateFile);
    }

    /**
     * The model's state file, for a process that reads and changes it (a script run with the fake kubectl on PATH):
     * from now on every change goes through the file. Calls answered in this process need no file.
     */
    shareStateFile(): string {
        model.shareOnDisk(this.stateFile);
        return this.stateFile;
    }

    /** A bootstrap step's parameters, as VaultBootstrap builds them from the same settings. */
    stepParams(step: StepName, pod?: string): StepParams<"wait-pods" | "init" | "unseal" | "join" | "verify" | "pod-identities" | "forget-keys" | "roll"> {
        const p = this.params;
        const where = { namespace: p.namespace, release: p.release };
        switch (step) {
            case "wait-pods":
            case "verify":
                return { ...where, replicas: p.replicas, timeoutSeconds: p.timeoutSeconds };
            case "pod-identities":
                return { ...where, replicas: p.replicas, timeoutSeconds: 120 };
            case "pod-templates":
                return { ...where, replicas: p.replicas, timeoutSeconds: 60 };
            case "init":
                return {
                    ...where,
                    replicas: p.replicas,
                    keyShares: p.keyShares,
                    keyThreshold: p.keyThreshold,
                    keyFile: p.keyFile,
                    timeoutSeconds: p.timeoutSeconds,
                };
            case "unseal":
                return { ...where, pod: pod!, keyThreshold: p.keyThreshold, timeoutSeconds: p.timeoutSeconds };
            case "join":
                return {
                    ...where,
                    pod: pod!,
                    keyThreshold: p.keyThreshold,
                    leaderAddr: p.leaderApiAddr,
                    leaderCaFile: p.leaderCaCertFile,
                    timeoutSeconds: p.timeoutSeconds,
                };
            case "forget-keys":
                return { keyFile: p.keyFile };
            case "roll":
                return {
                    ...where,
                    replicas: p.replicas,
                    keyThreshold: p.keyThreshold,
                    podTemplate: p.podTemplate,
                    backupFolder: "backups/vault-ha.dev",
                    snapshotsToKeep: 5,
                    timeoutSeconds: p.timeoutSeconds,
                };
            default:
                throw new Error(`${step} takes its parameters from the test (options.env)`);
        }
    }

    /** The environment a step gets: its parameters, with the key file in the simulation's folder. */
    private stepEnv(step: StepName, options: StepOptions, pollMs = this.pollMs): Record<string, string> {
        const bootstrapStep = !["cert-manager-ready", "read-ca", "kv-proof", "cluster-facts", "vault-address", "delete-secrets"].includes(step);
        const environment = { ...(bootstrapStep ? stepEnvironment(step, this.stepParams(step, options.pod) as never) : {}), ...options.env };
        return {
            ...environment,
            // Key files are relative to the project folder in real use; here they go to the simulation's folder.
            VAULT_HA_KEY_FILE: environment.VAULT_HA_KEY_FILE ? path.join(this.dir, environment.VAULT_HA_KEY_FILE) : "",
            ...(environment.VAULT_HA_BACKUP_FOLDER ? { VAULT_HA_BACKUP_FOLDER: path.join(this.dir, environment.VAULT_HA_BACKUP_FOLDER) } : {}),
            VAULT_HA_POLL_MS: String(pollMs),
        };
    }

    /** Runs one step in-process on simulated time (or, with `systemClock`, on the wall clock: real sockets). */
    async runStep(step: StepName, options: StepOptions & { realTime?: boolean } = {}): Promise<StepRun> {
        // On the wall clock, poll quickly: the fakes answer in milliseconds.
        const env = this.stepEnv(step, options, options.realTime ? 50 : this.pollMs);
        const run: RunningStep = { step, pod: options.pod, stderr: "", killedAt: undefined };
        const runtime: StepRuntime = {
            env,
            clock: options.realTime ? { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) } : this.clock,
            kubectl: (kubeconfig) => new SimKubectl(this, kubeconfig, env, run),
            stderr: (line) => (run.stderr += line),
        };
        const stdin = JSON.stringify({ kubeconfig: this.kubeconfig, ...options.secrets });
        const outcome = await executeStep(step, stdin, runtime);
        // A killed step prints nothing after its death, and reports nothing: SIGKILL's exit status.
        const result = run.killedAt === undefined ? { ...outcome, stderr: run.stderr } : { code: 137, stdout: "", stderr: run.stderr.slice(0, run.killedAt) };
        this.output.push({ step, stdout: result.stdout, stderr: result.stderr });
        return result;
    }

    /**
     * Faults at kubectl calls: called before each call (`phase: "before"`) and once its effect happened in the
     * cluster (`"after"`, the answer not yet back); returning "kill" kills the step there, as SIGKILL would.
     */
    onCall?: (call: { phase: "before" | "after"; args: string[]; step: StepName; pod?: string }) => "kill" | void;

    /** Kills the next step whose kubectl call matches, right after the call's effect. */
    killAfter(match: (args: string[]) => boolean): void {
        let armed = true;
        this.onCall = (call) => {
            if (!armed || call.phase !== "after" || !match(call.args)) return undefined;
            armed = false;
            return "kill";
        };
    }

    /** Starts one step exactly as the Command provider would: `/bin/sh -c <command>` in the project folder. */
    runStepProcess(step: StepName, options: StepOptions & { onSpawn?: (pid: number) => void } = {}): Promise<StepRun> {
        const env = this.stepEnv(step, options);
        const stdin = JSON.stringify({ kubeconfig: this.kubeconfig, ...options.secrets });
        const stateFile = this.shareStateFile();
        return new Promise((resolve) => {
            const child = spawn("/bin/sh", ["-c", stepCommand(step)], {
                cwd: PROJECT_ROOT,
                env: { ...process.env, ...env, PATH: `${SIM_BIN}:${process.env.PATH}`, VAULT_SIM_STATE: stateFile },
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
    async bootstrap(
        adopted?: Secrets,
        run: (step: StepName, options: StepOptions) => Promise<StepRun> = (s, o) => this.runStep(s, o),
    ): Promise<BootstrapOutcome> {
        const runs: Record<string, StepRun> = {};
        const must = async (id: string, result: Promise<StepRun>) => {
            runs[id] = await result;
            if (runs[id].code !== 0) throw new Error(`step ${id} failed (${runs[id].code}): ${runs[id].stderr}`);
            return JSON.parse(runs[id].stdout);
        };
        const plan = bootstrapPlan(this.pods);
        await must("wait-pods", run("wait-pods", {}));
        const keys = await must("init", run("init", { secrets: adopted }));
        await must("roll", run("roll", { secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } }));
        const leader = plan.find((s) => s.step === "unseal")!;
        await must(leader.id, run("unseal", { pod: leader.pod, secrets: { unsealKeys: keys.unsealKeys } }));
        await Promise.all(
            plan
                .filter((s) => s.step === "join")
                .map((s) => must(s.id, run("join", { pod: s.pod, secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } }))),
        );
        const verify = await must("verify", run("verify", { secrets: { rootToken: keys.rootToken } }));
        return { keys, peers: verify.peers, runs };
    }

    /** The text a user could see: every logged line, every argv and environment of every simulated process. */
    exposedText(): string {
        const logged = this.output.map((o) => (o.step === "init" ? o.stderr : o.stdout + o.stderr));
        const processes = this.calls().map((c) => JSON.stringify([c.argv, c.env]));
        return [...logged, ...processes].join("\n");
    }

    dispose(): void {
        model.forget(this.stateFile);
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/**
 * The simulator's kubectl in-process: each call costs the model's call latency in simulated time; `exec ... sh -c`
 * runs a real shell (with the fake vault on PATH) while the clock stands still.
 */
interface RunningStep {
    step: StepName;
    pod?: string;
    stderr: string;
    /** Where stderr ended when the step was killed. */
    killedAt: number | undefined;
}

/** Thrown into the step's code where it is killed; the harness turns its run into an exit 137. */
class Killed extends Error {}

class SimKubectl implements KubectlRunner {
    constructor(
        private readonly sim: Simulation,
        private readonly kubeconfig: string,
        private readonly env: Record<string, string>,
        private readonly running: RunningStep,
    ) {}

    async run(args: string[], stdin?: string): Promise<KubectlResult> {
        this.fault("before", args);
        const result = await this.call(args, stdin);
        this.fault("after", args);
        return result;
    }

    private fault(phase: "before" | "after", args: string[]): void {
        const r = this.running;
        if (r.killedAt !== undefined) throw new Killed("already killed");
        if (this.sim.onCall?.({ phase, args, step: r.step, pod: r.pod }) === "kill") {
            r.killedAt = r.stderr.length;
            throw new Killed(`killed ${phase} kubectl ${args.join(" ")}`);
        }
    }

    private async call(args: string[], stdin?: string): Promise<KubectlResult> {
        const sim = this.sim;
        await sim.clock.sleep(sim.state().timing.callMs);
        // What a kubectl process would have seen: the step's environment and a kubeconfig file (never its content).
        model.logCall(sim.stateFile, { tool: "kubectl", argv: args, env: { ...this.env, KUBECONFIG: "/tmp/vault-ha-XXXXXX/kubeconfig" } });
        const result = model.update(
            sim.stateFile,
            (s: any) => cli.kubectl(s, args, { kubeconfig: this.kubeconfig, stdin: stdin ?? "", log: (entry: unknown) => model.logCall(sim.stateFile, entry) }),
            sim.clock.now(),
        );
        if (!("shell" in result)) return result;
        const { command, env, stdin: input, pod, home, dropAnswer } = result.shell;
        return sim.clock.track(
            vaultServer().then(
                (server) =>
                    new Promise<KubectlResult>((resolve) => {
                        const child = spawn(command[0], command.slice(1), {
                            env: {
                                ...env,
                                HOME: podHome(sim.stateFile, home),
                                PATH: `${SIM_BIN}:/usr/bin:/bin`,
                                VAULT_SIM_STATE: sim.stateFile,
                                VAULT_SIM_POD: pod,
                                ...server.env,
                            },
                            stdio: ["pipe", "pipe", "pipe"],
                        });
                        let stdout = "";
                        let stderr = "";
                        child.stdout.on("data", (d) => (stdout += d));
                        child.stderr.on("data", (d) => (stderr += d));
                        child.on("close", (code) => resolve(dropAnswer ? cli.LOST_ANSWER : cli.withExitNote({ code: code ?? 1, stdout, stderr })));
                        // A script that does not read its stdin may exit before it is written.
                        child.stdin.on("error", () => undefined);
                        child.stdin.end(input);
                    }),
            ),
        );
    }

    /**
     * A long-running kubectl: only `port-forward`, played by FakePortForward against the model. The clock stands
     * still until it listens (or fails), as it does for any real I/O.
     */
    background(args: string[]): BackgroundProcess {
        const sim = this.sim;
        this.fault("before", args);
        model.logCall(sim.stateFile, { tool: "kubectl", argv: args, env: { ...this.env, KUBECONFIG: "/tmp/vault-ha-XXXXXX/kubeconfig" } });
        if (args[0] !== "port-forward") throw new Error(`(simulator: only port-forward runs in the background, not kubectl ${args[0]})`);
        const record: ForwardRecord = { argv: args, connections: 0 };
        sim.forwards.push(record);
        const forward = new FakePortForward(record);
        const podAlive = (pod: string, uid: string) => () => {
            const state = sim.state();
            return state.pods[pod]?.uid === uid && model.running(state, pod);
        };
        type Outcome = { error: KubectlResult } | { forward: { pod: string; uid: string; remotePort: number; backend: string } };
        const ask = (): Outcome | { waitForPod: { timeoutMs: number } } =>
            model.update(sim.stateFile, (s: any) => cli.kubectlPortForward(s, args, { kubeconfig: this.kubeconfig }), sim.clock.now());
        // Time stands still while it binds its listener, as for any real I/O.
        const start = (outcome: Outcome) =>
            void sim.clock.track(
                forward.start(
                    "forward" in outcome ? { forward: { ...outcome.forward, podAlive: podAlive(outcome.forward.pod, outcome.forward.uid) } } : outcome,
                ),
            );
        const first = ask();
        if (!("waitForPod" in first)) {
            start(first);
            return forward;
        }
        // No pod matches the Service's selector yet: kubectl watches for one until --pod-running-timeout, on the
        // model's time (it sees a pod the moment it matches; asking every 100 ms is as good here).
        const deadline = sim.clock.now() + first.waitForPod.timeoutMs;
        void (async () => {
            for (;;) {
                await sim.clock.sleep(Math.min(100, Math.max(0, deadline - sim.clock.now())));
                if (forward.ended) return;
                const next = ask();
                if (!("waitForPod" in next)) return start(next);
                if (sim.clock.now() >= deadline) return start({ error: kubeObjects.NO_POD_IN_TIME });
            }
        })();
        return forward;
    }

    /** The streamed form of run: the simulated snapshot is text, so the string path carries it whole. */
    async stream(
        args: string[],
        input: { text: string; file?: string; onBytes?: (total: number) => void },
        outputFile?: string,
    ): Promise<{ code: number; stderr: string }> {
        const content = input.file ? fs.readFileSync(input.file, "utf8") : "";
        if (content) input.onBytes?.(Buffer.byteLength(content));
        const result = await this.run(args, input.text + content);
        if (result.code === 0 && outputFile) {
            fs.writeFileSync(outputFile, result.stdout, { mode: 0o600, flag: "wx" });
            input.onBytes?.(Buffer.byteLength(result.stdout));
        }
        return { code: result.code, stderr: result.stderr };
    }

    dispose(): void {
        // Nothing on disk: the kubeconfig stays in memory.
    }
}

/** The init answers staged in the pods' $HOME (kubectl.ts STAGED_INIT_FILE), as paths. */
export function stagedCopies(sim: Simulation): string[] {
    const pods = path.join(sim.dir, "pods");
    if (!fs.existsSync(pods)) return [];
    return fs
        .readdirSync(pods)
        .map((incarnation) => path.join(pods, incarnation, "home", ".vault-ha-init.json"))
        .filter((file) => fs.existsSync(file));
}
