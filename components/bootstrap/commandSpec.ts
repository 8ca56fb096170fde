/**
 * How each bootstrap step is invoked: the command line and its (non-secret) environment. VaultBootstrap builds its
 * Commands from these, and the simulator tests run exactly the same invocations.
 */
import type { StepName } from "./cli";

/**
 * Commands run in the Pulumi project's folder, where node_modules holds ts-node. Relative paths keep the state free
 * of machine-specific folders.
 */
export const STEP_RUNNER = "node --require ts-node/register/transpile-only components/bootstrap/cli.ts";

export function stepCommand(step: StepName): string {
    return `${STEP_RUNNER} ${step}`;
}

export interface BootstrapParams {
    namespace: string;
    release: string;
    replicas: number;
    keyShares: number;
    keyThreshold: number;
    /** Where the init response is kept, relative to the project folder (see keyFile.ts). */
    keyFile: string;
    /** The leader's API address as followers reach it, e.g. http://vault-0.vault-internal:8200. */
    leaderApiAddr: string;
    /** In-pod path of the CA that signed Vault's certificate; empty for plain HTTP. */
    leaderCaCertFile?: string;
    /** How long a step waits for a condition before it fails. */
    timeoutSeconds: number;
}

/**
 * Each step gets only the parameters it reads, so that changing one setting re-runs only the steps it concerns
 * (every Command re-runs when any of its inputs change).
 */
export type BootstrapStep = Exclude<StepName, "cert-manager-ready" | "read-ca" | "kv-proof">;

export function stepEnvironment(step: BootstrapStep, p: BootstrapParams, pod?: string): Record<string, string> {
    const where = { VAULT_HA_NAMESPACE: p.namespace, VAULT_HA_RELEASE: p.release };
    const timeout = { VAULT_HA_TIMEOUT_SECONDS: String(p.timeoutSeconds) };
    switch (step) {
        case "wait-pods":
        case "verify":
            return { ...where, VAULT_HA_REPLICAS: String(p.replicas), ...timeout };
        case "pod-identities":
            return { ...where, VAULT_HA_REPLICAS: String(p.replicas) };
        case "init":
            return {
                ...where,
                VAULT_HA_REPLICAS: String(p.replicas),
                VAULT_HA_KEY_SHARES: String(p.keyShares),
                VAULT_HA_KEY_THRESHOLD: String(p.keyThreshold),
                VAULT_HA_KEY_FILE: p.keyFile,
                ...timeout,
            };
        case "unseal":
            return { ...where, VAULT_HA_POD: pod!, VAULT_HA_KEY_THRESHOLD: String(p.keyThreshold), ...timeout };
        case "join":
            return {
                ...where,
                VAULT_HA_POD: pod!,
                VAULT_HA_KEY_THRESHOLD: String(p.keyThreshold),
                VAULT_HA_LEADER_ADDR: p.leaderApiAddr,
                ...(p.leaderCaCertFile ? { VAULT_HA_LEADER_CA_FILE: p.leaderCaCertFile } : {}),
                ...timeout,
            };
        case "forget-keys":
            return { VAULT_HA_KEY_FILE: p.keyFile };
    }
}

export function certManagerReadyEnvironment(timeoutSeconds: number): Record<string, string> {
    return { VAULT_HA_TIMEOUT_SECONDS: String(timeoutSeconds) };
}

export function readCaEnvironment(namespace: string, secret: string, timeoutSeconds: number): Record<string, string> {
    return { VAULT_HA_NAMESPACE: namespace, VAULT_HA_TLS_SECRET: secret, VAULT_HA_TIMEOUT_SECONDS: String(timeoutSeconds) };
}

export interface KvProofParams {
    /** VAULT_ADDR as users have it: https://localhost:30000 */
    vaultAddr: string;
    mount: string;
    path: string;
    username: string;
    timeoutSeconds: number;
}

export function kvProofEnvironment(p: KvProofParams): Record<string, string> {
    return {
        VAULT_HA_VAULT_ADDR: p.vaultAddr,
        VAULT_HA_KV_MOUNT: p.mount,
        VAULT_HA_KV_PATH: p.path,
        VAULT_HA_KV_USERNAME: p.username,
        VAULT_HA_TIMEOUT_SECONDS: String(p.timeoutSeconds),
    };
}
