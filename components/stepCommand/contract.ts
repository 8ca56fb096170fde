/**
 * The contract between the two sides of a step: the Pulumi program, which creates one @pulumi/command Command per
 * step, and the step runner (components/runner/), the child process each Command starts. Both sides import this
 * module, so a step's name, its parameters and the secrets it reads cannot drift apart.
 *
 * - Parameters travel as environment variables: they are not secret, and a preview shows exactly which one changed
 *   (every Command re-runs when any of its inputs change, so each step gets only the parameters it reads).
 * - Secrets travel as one JSON object on stdin, which Pulumi stores encrypted.
 * - The result is one JSON line on stdout.
 */
import type { StepResults } from "./results";
export type {
    ClusterFacts,
    GatewayFacts,
    GatewayListenerFact,
    GatewayReadyResult,
    LabelSelectorFact,
    PodTemplate,
    RaftPeer,
    SealFacts,
    StepResults,
    StorageClassFact,
    UnreadableFact,
    UnsealOutcome,
    VaultKeys,
} from "./results";

/**
 * Commands run in the Pulumi project's folder, where node_modules holds ts-node. Relative paths keep the state free
 * of machine-specific folders. The command line is part of every step's state: a new one re-runs every step on the
 * next up (and an init without its key file on this machine would then stop). So it keeps the path it has always
 * had, components/bootstrap/cli.ts, which hands over to the runner (components/runner/main.ts).
 */
export const STEP_RUNNER = "node --require ts-node/register/transpile-only components/bootstrap/cli.ts";

export const STEP_NAMES = [
    "wait-pods",
    "pod-identities",
    "pod-templates",
    "init",
    "roll",
    "unseal",
    "join",
    "verify",
    "forget-keys",
    "cert-manager-ready",
    "read-ca",
    "kv-proof",
    "cluster-facts",
    "vault-address",
    "delete-secrets",
    "gateway-ready",
    "front-door-facts",
    "gateway-crds",
    "delete-gateway-crds",
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export function stepCommand(step: StepName): string {
    return `${STEP_RUNNER} ${step}`;
}

/** The environment variables, one name per parameter, whatever the step. */
export const ENV = {
    namespace: "VAULT_HA_NAMESPACE",
    release: "VAULT_HA_RELEASE",
    replicas: "VAULT_HA_REPLICAS",
    pod: "VAULT_HA_POD",
    keyShares: "VAULT_HA_KEY_SHARES",
    keyThreshold: "VAULT_HA_KEY_THRESHOLD",
    keyFile: "VAULT_HA_KEY_FILE",
    leaderAddr: "VAULT_HA_LEADER_ADDR",
    leaderCaFile: "VAULT_HA_LEADER_CA_FILE",
    tlsSecret: "VAULT_HA_TLS_SECRET",
    vaultAddr: "VAULT_HA_VAULT_ADDR",
    kvMount: "VAULT_HA_KV_MOUNT",
    kvPath: "VAULT_HA_KV_PATH",
    kvUsername: "VAULT_HA_KV_USERNAME",
    timeoutSeconds: "VAULT_HA_TIMEOUT_SECONDS",
    podTemplate: "VAULT_HA_POD_TEMPLATE",
    backupFolder: "VAULT_HA_BACKUP_FOLDER",
    snapshotsToKeep: "VAULT_HA_SNAPSHOTS_TO_KEEP",
    // Added for existing clusters (issue 13). New names only: the variables above are in users' states.
    service: "VAULT_HA_SERVICE",
    certManagerNamespace: "VAULT_HA_CERT_MANAGER_NAMESPACE",
    portForwardNamespace: "VAULT_HA_PORT_FORWARD_NAMESPACE",
    portForwardService: "VAULT_HA_PORT_FORWARD_SERVICE",
    portForwardPort: "VAULT_HA_PORT_FORWARD_PORT",
    tlsServerName: "VAULT_HA_TLS_SERVER_NAME",
    probeNamespace: "VAULT_HA_PROBE_NAMESPACE",
    secretNames: "VAULT_HA_SECRET_NAMES",
    keepKeysIn: "VAULT_HA_KEEP_KEYS_IN",
    // Added for auto-unseal seals (issue 21), set only when the stack's seal is not Shamir: a Shamir stack's steps
    // keep the environment their states hold.
    seal: "VAULT_HA_SEAL",
    sealDescription: "VAULT_HA_SEAL_DESCRIPTION",
    // Set only while a stack moves off an auto seal back to Shamir (vault-ha:sealDisabled): the roll's migration.
    migrateFromSeal: "VAULT_HA_MIGRATE_FROM_SEAL",
    // Added for the Gateway API front door (issue 22).
    gatewayName: "VAULT_HA_GATEWAY_NAME",
    gatewayNamespace: "VAULT_HA_GATEWAY_NAMESPACE",
    routeKind: "VAULT_HA_ROUTE_KIND",
    routeName: "VAULT_HA_ROUTE_NAME",
    routeNamespace: "VAULT_HA_ROUTE_NAMESPACE",
} as const;
type Param = keyof typeof ENV;

/** A tuning knob for tests, not a parameter: how often conditions are polled (at most every 2 s). */
export const POLL_MS_ENV = "VAULT_HA_POLL_MS";

type Kind = "string" | "number" | "optional-string" | "optional-number";
type Shape = Partial<Record<Param, Kind>>;

/**
 * seal, sealDescription (unseal, roll, join): an auto seal's type and its key and identity in words; with them no key
 * is ever sent, the step waits until the pod unsealed itself and names the key when it cannot. Absent for Shamir.
 * migrateFromSeal (with sealDescription, instead of seal): the auto seal a stack moves off, back to Shamir
 * (vault-ha:sealDisabled): keys are sent, a pod in migration mode gets the recovery keys with migrate.
 */
const SEAL_PARAMS = { seal: "optional-string", sealDescription: "optional-string", migrateFromSeal: "optional-string" } as const;

/** Which parameters each step reads, and their types. */
const SHAPES = {
    "wait-pods": { namespace: "string", release: "string", replicas: "number", timeoutSeconds: "number" },
    // Not a resource but an invoke, read on every preview and up: its parameters are in no state.
    "pod-identities": { namespace: "string", release: "string", replicas: "number", timeoutSeconds: "number" },
    // An invoke too: what each running pod was made from, so the program can say before anything changes which pods
    // a new template will replace (and refuse a Vault downgrade).
    "pod-templates": { namespace: "string", release: "string", replicas: "number", timeoutSeconds: "number" },
    // keepKeysIn: only for the delete (forget-keys), where the kept raft volumes' keys go; absent (kind, or volumes
    // deleted) the environment is the one existing states hold.
    init: {
        namespace: "string",
        release: "string",
        replicas: "number",
        keyShares: "number",
        keyThreshold: "number",
        keyFile: "string",
        timeoutSeconds: "number",
        keepKeysIn: "optional-string",
        // seal: an auto seal's type (init makes recovery keys); absent for Shamir.
        seal: "optional-string",
    },
    unseal: { namespace: "string", release: "string", pod: "string", keyThreshold: "number", timeoutSeconds: "number", ...SEAL_PARAMS },
    // podTemplate: what the pods are made from (image, TLS, chart values digest), in words: the preview shows it
    // change, and the step runs again exactly when it does.
    roll: {
        namespace: "string",
        release: "string",
        replicas: "number",
        keyThreshold: "number",
        podTemplate: "string",
        // Before the first serving pod goes, a snapshot with its keys is saved here (relative to the project).
        backupFolder: "string",
        snapshotsToKeep: "number",
        timeoutSeconds: "number",
        ...SEAL_PARAMS,
        // With an auto seal only: the key file, rewritten to hold the keys as recovery keys after a seal migration.
        keyFile: "optional-string",
    },
    join: {
        namespace: "string",
        release: "string",
        pod: "string",
        keyThreshold: "number",
        leaderAddr: "string",
        leaderCaFile: "optional-string",
        timeoutSeconds: "number",
        ...SEAL_PARAMS,
    },
    verify: { namespace: "string", release: "string", replicas: "number", timeoutSeconds: "number" },
    "forget-keys": { keyFile: "string", keepKeysIn: "optional-string" },
    // probeNamespace: absent (kind), the probe is a ClusterIssuer; given (a cluster vault-ha does not own), an Issuer
    // in that namespace, which needs no cluster-wide right.
    "cert-manager-ready": { timeoutSeconds: "number", probeNamespace: "optional-string" },
    "read-ca": { namespace: "string", tlsSecret: "string", timeoutSeconds: "number" },
    // The optional parameters are absent on kind: the environment is then exactly the one existing states hold.
    // portForward*: all three or none; the proof then opens `kubectl port-forward` to that Service itself and goes
    // through https://127.0.0.1:<the port kubectl chose> (vaultAddr still gives the scheme). tlsServerName: the name
    // the certificate is verified against (and sent as SNI) when vaultAddr's host is not in it (a load balancer's IP).
    "kv-proof": {
        vaultAddr: "string",
        kvMount: "string",
        kvPath: "string",
        kvUsername: "string",
        timeoutSeconds: "number",
        portForwardNamespace: "optional-string",
        portForwardService: "optional-string",
        portForwardPort: "optional-number",
        tlsServerName: "optional-string",
    },
    // An invoke, read on every preview and up (no state holds its parameters): what the cluster offers. Where
    // listing every namespace is forbidden, cert-manager's webhook is looked for in certManagerNamespace.
    // gatewayName, gatewayNamespace, namespace (Vault's): with `ingress: gateway` only, the Gateway the routes will
    // attach to and the namespace they will be in.
    "cluster-facts": {
        certManagerNamespace: "optional-string",
        timeoutSeconds: "number",
        gatewayName: "optional-string",
        gatewayNamespace: "optional-string",
        namespace: "optional-string",
    },
    // A resource after the Vault release: waits until the LoadBalancer Service has an address.
    "vault-address": { namespace: "string", service: "string", timeoutSeconds: "number" },
    // A delete: the secrets cert-manager wrote for vault-ha's certificates, which it does not delete with them.
    // secretNames: comma-separated.
    "delete-secrets": { namespace: "string", secretNames: "string", timeoutSeconds: "number" },
    // A resource after the routes: waits until the Gateway and Vault's route (routeKind TLSRoute or HTTPRoute) are
    // accepted and programmed.
    // An invoke at every preview and up on kind: which pods hold the host ports 80/443 (components/frontDoor).
    "front-door-facts": { timeoutSeconds: "number" },
    // On kind with the Gateway front door: its CRDs, recorded at create and deleted with it (runner/handlers/gatewayCrds.ts).
    "gateway-crds": { timeoutSeconds: "number" },
    "delete-gateway-crds": { timeoutSeconds: "number" },
    "gateway-ready": {
        gatewayName: "string",
        gatewayNamespace: "string",
        routeKind: "string",
        routeName: "string",
        routeNamespace: "string",
        timeoutSeconds: "number",
    },
} as const satisfies Record<StepName, Shape>;

type ValueOf<K> = K extends "number" ? number : K extends "optional-number" ? number | undefined : K extends "optional-string" ? string | undefined : string;
type ShapeOf<S extends StepName> = (typeof SHAPES)[S];
/**
 * Optional parameters a caller may leave out (every one but join's leaderCaFile, which callers have always passed,
 * as undefined when there is no CA).
 */
type Omissible<S extends StepName> = {
    [P in keyof ShapeOf<S>]: ShapeOf<S>[P] extends "optional-number" | "optional-string" ? (P extends "leaderCaFile" ? never : P) : never;
}[keyof ShapeOf<S>];
/** The typed parameters of a step, e.g. StepParams<"join">. */
export type StepParams<S extends StepName> = { -readonly [P in Exclude<keyof ShapeOf<S>, Omissible<S>>]: ValueOf<ShapeOf<S>[P]> } & {
    -readonly [P in Omissible<S>]?: ValueOf<ShapeOf<S>[P]>;
};

/** The secrets each step reads from stdin. */
export interface StepSecrets {
    "wait-pods": { kubeconfig: string };
    "pod-identities": { kubeconfig: string };
    "pod-templates": { kubeconfig: string };
    /** With unsealKeys and rootToken from config, an initialised Vault is adopted instead of initialised. */
    init: { kubeconfig: string; unsealKeys?: string[]; rootToken?: string };
    unseal: { kubeconfig: string; unsealKeys: string[] };
    /**
     * The root token: for the raft health (autopilot state) and the active node's step-down. recoveryKeys (auto seals
     * only): kept with the backup taken before serving pods go, as the unseal keys are.
     */
    roll: { kubeconfig: string; unsealKeys: string[]; rootToken: string; recoveryKeys?: string[] };
    /** The root token: to read raft's configuration, which says whether the pod is a member. */
    join: { kubeconfig: string; unsealKeys: string[]; rootToken: string };
    verify: { kubeconfig: string; rootToken: string };
    "forget-keys": Record<string, never>;
    "cert-manager-ready": { kubeconfig: string };
    "read-ca": { kubeconfig: string };
    /** The CA is public, but it travels with the token. */
    /** kubeconfig: only with a port-forward, which the step opens itself. */
    "kv-proof": { rootToken: string; password: string; caCert?: string; kubeconfig?: string };
    "cluster-facts": { kubeconfig: string };
    "vault-address": { kubeconfig: string };
    "delete-secrets": { kubeconfig: string };
    "gateway-ready": { kubeconfig: string };
    "front-door-facts": { kubeconfig: string };
    "gateway-crds": { kubeconfig: string };
    "delete-gateway-crds": { kubeconfig: string };
}

/** The secrets a step cannot run without: the runner checks them before it does anything. */
export const REQUIRED_SECRETS: { [S in StepName]: Array<keyof StepSecrets[S]> } = {
    "wait-pods": ["kubeconfig"],
    "pod-identities": ["kubeconfig"],
    "pod-templates": ["kubeconfig"],
    init: ["kubeconfig"],
    unseal: ["kubeconfig", "unsealKeys"],
    roll: ["kubeconfig", "unsealKeys", "rootToken"],
    join: ["kubeconfig", "unsealKeys", "rootToken"],
    verify: ["kubeconfig", "rootToken"],
    "forget-keys": [],
    "cert-manager-ready": ["kubeconfig"],
    "read-ca": ["kubeconfig"],
    "kv-proof": ["rootToken", "password"],
    "cluster-facts": ["kubeconfig"],
    "vault-address": ["kubeconfig"],
    "delete-secrets": ["kubeconfig"],
    "gateway-ready": ["kubeconfig"],
    "front-door-facts": ["kubeconfig"],
    "gateway-crds": ["kubeconfig"],
    "delete-gateway-crds": ["kubeconfig"],
};

/** The environment of a step: its parameters, and nothing else. Optional parameters without a value are left out. */
export function stepEnvironment<S extends StepName>(step: S, params: StepParams<S>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, kind] of Object.entries(SHAPES[step]) as Array<[Param, Kind]>) {
        const value = (params as Record<string, string | number | undefined>)[name];
        if (value === undefined || value === "") {
            if (kind.startsWith("optional-")) continue;
            throw new Error(`step ${step}: parameter ${name} has no value`);
        }
        env[ENV[name]] = String(value);
    }
    return env;
}

/** A contract violation: the step was started without what vault-ha always passes it. */
export class ContractError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ContractError";
    }
}

/** The runner's side of stepEnvironment: reads and checks the step's parameters from its environment. */
export function readStepParams<S extends StepName>(step: S, env: Record<string, string | undefined>): StepParams<S> {
    const params: Record<string, string | number | undefined> = {};
    for (const [name, kind] of Object.entries(SHAPES[step]) as Array<[Param, Kind]>) {
        const raw = env[ENV[name]];
        if (raw === undefined || raw === "") {
            if (kind.startsWith("optional-")) continue;
            throw new ContractError(`${ENV[name]} is not set (vault-ha passes it to the ${step} step)`);
        }
        if (kind === "number" || kind === "optional-number") {
            const value = Number(raw);
            if (!Number.isFinite(value)) throw new ContractError(`${ENV[name]} must be a number, not "${raw}"`);
            params[name] = value;
        } else {
            params[name] = raw;
        }
    }
    return params as StepParams<S>;
}

/** The runner's side of the stdin contract: the step's secrets, with the required ones present. */
export function readStepSecrets<S extends StepName>(step: S, stdin: string, env: Record<string, string | undefined> = {}): StepSecrets[S] {
    let secrets: Record<string, unknown>;
    try {
        secrets = stdin.trim() ? (JSON.parse(stdin) as Record<string, unknown>) : {};
    } catch {
        throw new ContractError("stdin is not the JSON object vault-ha sends");
    }
    if (secrets === null || typeof secrets !== "object" || Array.isArray(secrets)) throw new ContractError("stdin is not the JSON object vault-ha sends");
    // An auto-sealed Vault opens itself: its steps get no unseal keys (an empty list) and send none.
    const autoSealed = (env[ENV.seal] ?? "") !== "" && env[ENV.seal] !== "shamir";
    for (const key of REQUIRED_SECRETS[step] as string[]) {
        if (key === "unsealKeys" && autoSealed) {
            secrets.unsealKeys ??= [];
            continue;
        }
        const value = secrets[key];
        if (value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) throw new ContractError(`step ${step} needs ${key} on stdin`);
    }
    return secrets as StepSecrets[S];
}

/** The Pulumi side's reading of a step's stdout. */
export function parseStepResult<S extends StepName>(_step: S, stdout: string): StepResults[S] {
    return JSON.parse(stdout) as StepResults[S];
}
