/**
 * The step runner: the process each step's Command starts (see components/stepCommand/contract.ts for the contract),
 * through the entry point at the path states hold:
 *
 *     node --require ts-node/register/transpile-only components/bootstrap/cli.ts <step>
 *
 * It reads the step's parameters from the environment and its secrets from stdin, runs the step's handler, and prints
 * the result as one JSON line on stdout, only on success (a failed command's error text includes its stdout).
 * Progress and errors go to stderr, with every known secret value scrubbed out.
 */
import { ContractError, POLL_MS_ENV, readStepParams, readStepSecrets, StepName, STEP_NAMES, StepParams, StepSecrets } from "../stepCommand/contract";
import { systemClock } from "./clock";
import { Kubectl } from "./kubectl";
import { MAX_POLL_MS, StepError } from "./poll";
import { Redactor } from "./redact";
import { Handler, HandlerContext, StepRuntime } from "./runtime";
import { certManagerReadyStep, readCaStep } from "./handlers/clusterChecks";
import { clusterFactsStep } from "./handlers/clusterFacts";
import { initStep } from "./handlers/init";
import { forgetKeys } from "./handlers/keys";
import { kvProofStep } from "./handlers/kvProof";
import { podIdentitiesStep, podTemplatesStep, waitPodsStep } from "./handlers/pods";
import { rollStep } from "./handlers/roll";
import { joinStep } from "./handlers/join";
import { unsealStep } from "./handlers/unseal";
import { vaultAddressStep } from "./handlers/vaultAddress";
import { deleteSecretsStep } from "./handlers/deleteSecrets";
import { gatewayReadyStep } from "./handlers/gatewayReady";
import { frontDoorFactsStep } from "./handlers/frontDoorFacts";
import { deleteGatewayCrdsStep, gatewayCrdsStep } from "./handlers/gatewayCrds";
import { verifyStep } from "./handlers/verify";
import { VaultRefused } from "./vaultOps";

export type { StepRuntime };

/** One handler per step: the table is the whole of the runner's dispatch. */
const HANDLERS: { [S in StepName]: Handler<S> } = {
    "wait-pods": waitPodsStep,
    "pod-identities": podIdentitiesStep,
    "pod-templates": podTemplatesStep,
    init: initStep,
    unseal: unsealStep,
    roll: rollStep,
    join: joinStep,
    verify: verifyStep,
    "forget-keys": forgetKeys,
    "cert-manager-ready": certManagerReadyStep,
    "read-ca": readCaStep,
    "kv-proof": kvProofStep,
    "cluster-facts": clusterFactsStep,
    "vault-address": vaultAddressStep,
    "delete-secrets": deleteSecretsStep,
    "gateway-ready": gatewayReadyStep,
    "front-door-facts": frontDoorFactsStep,
    "gateway-crds": gatewayCrdsStep,
    "delete-gateway-crds": deleteGatewayCrdsStep,
};

const DEFAULT_TIMEOUT_SECONDS = 600;

export interface StepOutcome {
    code: number;
    /** The step's result as one JSON line; empty on failure. */
    stdout: string;
}

function run<S extends StepName>(step: S, params: StepParams<S>, secrets: StepSecrets[S], ctx: HandlerContext) {
    return HANDLERS[step](params, secrets, ctx);
}

/**
 * One step, start to finish, as the process runs it. The simulator calls this directly with its own runtime.
 */
export async function executeStep(stepArg: string | undefined, stdinText: string, runtime: StepRuntime): Promise<StepOutcome> {
    const step = stepArg as StepName;
    const redactor = new Redactor();
    const log = (line: string) => runtime.stderr(`vault-ha ${step}: ${redactor.apply(line)}\n`);
    try {
        if (!STEP_NAMES.includes(step)) throw new StepError(`unknown step "${stepArg ?? ""}"; one of: ${STEP_NAMES.join(", ")}`);
        const secrets = readStepSecrets(step, stdinText, runtime.env) as Record<string, unknown>;
        redactor.addKubeconfig(secrets.kubeconfig as string | undefined);
        redactor.add(
            ...((secrets.unsealKeys as string[] | undefined) ?? []),
            ...((secrets.recoveryKeys as string[] | undefined) ?? []),
            secrets.rootToken as string | undefined,
            secrets.password as string | undefined,
        );
        const params = readStepParams(step, runtime.env);
        const pollMs = Number(runtime.env[POLL_MS_ENV] ?? MAX_POLL_MS);
        const ctx: HandlerContext = {
            log,
            clock: runtime.clock,
            runtime,
            timeoutMs: ("timeoutSeconds" in params ? (params.timeoutSeconds as number) : DEFAULT_TIMEOUT_SECONDS) * 1000,
            pollMs: Math.min(Number.isFinite(pollMs) ? pollMs : MAX_POLL_MS, MAX_POLL_MS),
            onSecret: (...values) => redactor.add(...values),
        };
        const result = await run(step, params, secrets as StepSecrets[typeof step], ctx);
        return { code: 0, stdout: JSON.stringify(result) + "\n" };
    } catch (err) {
        // Messages written for the user; anything else is a bug, reported with its stack.
        const known = err instanceof StepError || err instanceof VaultRefused || err instanceof ContractError;
        log(`ERROR: ${known ? (err as Error).message : `unexpected failure: ${(err as Error).stack ?? err}`}`);
        return { code: 1, stdout: "" };
    }
}

const processRuntime: StepRuntime = {
    env: process.env,
    clock: systemClock,
    kubectl: (kubeconfig) => new Kubectl(kubeconfig),
    stderr: (line) => process.stderr.write(line),
};

async function readStdin(): Promise<string> {
    if (process.stdin.isTTY) return "";
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

/** Runs the step named on the command line, as the process. */
export function runProcess(): void {
    void readStdin()
        .then((stdin) => executeStep(process.argv[2], stdin, processRuntime))
        .then((outcome) => {
            process.stdout.write(outcome.stdout);
            process.exitCode = outcome.code;
        });
}

if (require.main === module) runProcess();
