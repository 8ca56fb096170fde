/**
 * The bootstrap step runner that VaultBootstrap's commands call:
 *
 *     node -r ts-node/register/transpile-only components/bootstrap/cli.ts <step>
 *
 * Parameters come from VAULT_HA_* environment variables (nothing secret: they show in `pulumi preview`), secrets
 * from a JSON object on stdin: {"kubeconfig": "...", "unsealKeys": [...], "rootToken": "..."}. The step's result is
 * one JSON line on stdout, printed only on success (a failed command's error text includes its stdout). Progress and
 * errors go to stderr, with every known secret value scrubbed out.
 */
import { Clock, systemClock } from "./clock";
import { readCaCert, waitForCertManagerWebhook } from "./clusterChecks";
import { kvRoundTrip } from "./frontDoor";
import { deleteKeyFile } from "./keyFile";
import { Kubectl, KubectlRunner, KubectlVaultOps } from "./kubectlOps";
import { Redactor } from "./redact";
import { initLeader, joinAndUnseal, MAX_POLL_MS, podIdentities, podNames, PollContext, StepContext, StepError, unsealPod, verifyRaft, waitForPods } from "./steps";
import { VaultOps, VaultRefused } from "./vaultOps";

export const STEPS = ["wait-pods", "pod-identities", "init", "unseal", "join", "verify", "forget-keys", "cert-manager-ready", "read-ca", "kv-proof"] as const;
export type StepName = (typeof STEPS)[number];

interface Secrets {
    kubeconfig?: string;
    unsealKeys?: string[];
    rootToken?: string;
    /** kv-proof: the value to write, and the CA to verify Vault with (public, but it travels with the token). */
    password?: string;
    caCert?: string;
}

/** What a step runs with: the real process's, or the simulator's. */
export interface StepRuntime {
    env: Record<string, string | undefined>;
    clock: Clock;
    /** Opens kubectl for the cluster of this kubeconfig. */
    kubectl(kubeconfig: string): KubectlRunner;
    /** Progress and errors, one scrubbed line at a time, as they happen. */
    stderr(line: string): void;
}

const processRuntime: StepRuntime = {
    env: process.env,
    clock: systemClock,
    kubectl: (kubeconfig) => new Kubectl(kubeconfig),
    stderr: (line) => process.stderr.write(line),
};

function requireSecret<K extends keyof Secrets>(secrets: Secrets, key: K, step: string): NonNullable<Secrets[K]> {
    const value = secrets[key];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) throw new StepError(`step ${step} needs ${key} on stdin`);
    return value as NonNullable<Secrets[K]>;
}

export async function runStep(step: StepName, secrets: Secrets, redactor: Redactor, log: (line: string) => void, runtime: StepRuntime): Promise<unknown> {
    const env = (name: string, fallback?: string): string => {
        const value = runtime.env[name] ?? fallback;
        if (value === undefined || value === "") throw new StepError(`${name} is not set (vault-ha passes it to every step)`);
        return value;
    };
    const envNumber = (name: string, fallback?: number) => {
        const value = Number(env(name, fallback === undefined ? undefined : String(fallback)));
        if (!Number.isFinite(value)) throw new StepError(`${name} must be a number`);
        return value;
    };

    if (step === "forget-keys") {
        const file = env("VAULT_HA_KEY_FILE");
        const deleted = deleteKeyFile(file);
        log(deleted ? `deleted ${file}: the keys of a deleted cluster open nothing` : `${file} was already gone`);
        return { deleted };
    }

    const timing = (): PollContext => ({
        log,
        clock: runtime.clock,
        timeoutMs: envNumber("VAULT_HA_TIMEOUT_SECONDS", 600) * 1000,
        pollMs: Math.min(envNumber("VAULT_HA_POLL_MS", MAX_POLL_MS), MAX_POLL_MS),
    });

    if (step === "kv-proof") {
        // Through the front door, like a user: no kubectl at all.
        const password = requireSecret(secrets, "password", step);
        return kvRoundTrip(
            timing(),
            { addr: env("VAULT_HA_VAULT_ADDR"), ca: secrets.caCert || undefined, token: requireSecret(secrets, "rootToken", step) },
            { mount: env("VAULT_HA_KV_MOUNT"), path: env("VAULT_HA_KV_PATH"), data: { username: env("VAULT_HA_KV_USERNAME"), password } },
        );
    }

    if (step === "cert-manager-ready" || step === "read-ca") {
        const kubectl = runtime.kubectl(requireSecret(secrets, "kubeconfig", step));
        try {
            const ctx = timing();
            if (step === "cert-manager-ready") {
                await waitForCertManagerWebhook(ctx, kubectl);
                return { ready: true };
            }
            return { caCert: await readCaCert(ctx, kubectl, env("VAULT_HA_NAMESPACE"), env("VAULT_HA_TLS_SECRET")) };
        } finally {
            kubectl.dispose();
        }
    }

    const namespace = env("VAULT_HA_NAMESPACE");
    const release = env("VAULT_HA_RELEASE", "vault");
    const pods = () => podNames(release, envNumber("VAULT_HA_REPLICAS"));
    const leader = `${release}-0`;
    const kubectl = runtime.kubectl(requireSecret(secrets, "kubeconfig", step));
    const ops: VaultOps = new KubectlVaultOps(kubectl, { namespace, release });
    const ctx: StepContext = { ...timing(), ops, onSecret: (...values) => redactor.add(...values) };
    const threshold = () => envNumber("VAULT_HA_KEY_THRESHOLD");

    try {
        switch (step) {
            case "wait-pods":
                await waitForPods(ctx, pods());
                return { pods: pods() };
            case "pod-identities":
                try {
                    return await podIdentities(ctx, pods());
                } catch (err) {
                    // Runs during every preview: an unreachable cluster must not break it. The steps that need the
                    // cluster fail with their own, clearer message.
                    log(`could not read the Vault pods: ${(err as Error).message}`);
                    return Object.fromEntries(pods().map((p) => [p, "unknown"]));
                }
            case "init": {
                const adopted = secrets.unsealKeys?.length && secrets.rootToken ? { unsealKeys: secrets.unsealKeys, rootToken: secrets.rootToken } : undefined;
                const result = await initLeader(ctx, {
                    leader,
                    shares: envNumber("VAULT_HA_KEY_SHARES"),
                    threshold: threshold(),
                    keyFile: env("VAULT_HA_KEY_FILE"),
                    adopted,
                });
                return result;
            }
            case "unseal": {
                const pod = env("VAULT_HA_POD");
                return { pod, result: await unsealPod(ctx, pod, requireSecret(secrets, "unsealKeys", step), threshold()) };
            }
            case "join": {
                const pod = env("VAULT_HA_POD");
                const target = { leaderApiAddr: env("VAULT_HA_LEADER_ADDR"), leaderCaCertFile: runtime.env.VAULT_HA_LEADER_CA_FILE || undefined };
                return { pod, result: await joinAndUnseal(ctx, pod, leader, target, requireSecret(secrets, "unsealKeys", step), threshold()) };
            }
            case "verify":
                return { peers: await verifyRaft(ctx, leader, pods(), requireSecret(secrets, "rootToken", step)) };
        }
    } finally {
        kubectl.dispose();
    }
}

export interface StepOutcome {
    code: number;
    /** The step's result as one JSON line; empty on failure (a failed command's error text includes its stdout). */
    stdout: string;
}

/**
 * One step, start to finish, as the process runs it: parses stdin, runs the step, prints the result (stdout) or the
 * error (stderr), every line scrubbed of the secrets it was given or learnt. The simulator calls this directly.
 */
export async function executeStep(stepArg: string | undefined, stdinText: string, runtime: StepRuntime): Promise<StepOutcome> {
    const step = stepArg as StepName;
    const redactor = new Redactor();
    const log = (line: string) => runtime.stderr(`vault-ha ${step}: ${redactor.apply(line)}\n`);
    try {
        if (!STEPS.includes(step)) throw new StepError(`unknown step "${stepArg ?? ""}"; one of: ${STEPS.join(", ")}`);
        const input = stdinText.trim();
        let secrets: Secrets = {};
        try {
            secrets = input ? (JSON.parse(input) as Secrets) : {};
        } catch {
            throw new StepError("stdin is not the JSON object vault-ha sends");
        }
        redactor.addKubeconfig(secrets.kubeconfig);
        redactor.add(...(secrets.unsealKeys ?? []), secrets.rootToken, secrets.password);
        const result = await runStep(step, secrets, redactor, log, runtime);
        return { code: 0, stdout: JSON.stringify(result) + "\n" };
    } catch (err) {
        // StepError and VaultRefused carry messages written for the user; anything else is a bug, with its stack.
        const message = err instanceof StepError || err instanceof VaultRefused ? err.message : `unexpected failure: ${(err as Error).stack ?? err}`;
        log(`ERROR: ${message}`);
        return { code: 1, stdout: "" };
    }
}

async function readStdin(): Promise<string> {
    if (process.stdin.isTTY) return "";
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

if (require.main === module) {
    void readStdin()
        .then((stdin) => executeStep(process.argv[2], stdin, processRuntime))
        .then((outcome) => {
            process.stdout.write(outcome.stdout);
            process.exitCode = outcome.code;
        });
}
