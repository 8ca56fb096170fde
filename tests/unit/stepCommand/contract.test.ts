import { strict as assert } from "assert";
import { ContractError, readStepParams, readStepSecrets, STEP_NAMES, stepCommand, stepEnvironment, StepParams } from "../../../components/stepCommand/contract";

/** One valid parameter set per step, as the program builds them. */
const EXAMPLES: { [S in (typeof STEP_NAMES)[number]]: StepParams<S> } = {
    "wait-pods": { namespace: "vault", release: "vault", replicas: 3, timeoutSeconds: 600 },
    "pod-identities": { namespace: "vault", release: "vault", replicas: 3, timeoutSeconds: 120 },
    "pod-templates": { namespace: "vault", release: "vault", replicas: 3, timeoutSeconds: 60 },
    init: {
        namespace: "vault",
        release: "vault",
        replicas: 3,
        keyShares: 5,
        keyThreshold: 3,
        keyFile: ".vault-ha/vault-ha.dev/init.json",
        timeoutSeconds: 600,
    },
    unseal: { namespace: "vault", release: "vault", pod: "vault-0", keyThreshold: 3, timeoutSeconds: 600 },
    roll: {
        namespace: "vault",
        release: "vault",
        replicas: 3,
        keyThreshold: 3,
        podTemplate: "image hashicorp/vault:2.0.4, TLS on, chart 0.34.1, values 0123456789ab",
        backupFolder: "backups/vault-ha.dev",
        snapshotsToKeep: 5,
        timeoutSeconds: 600,
    },
    join: {
        namespace: "vault",
        release: "vault",
        pod: "vault-1",
        keyThreshold: 3,
        leaderAddr: "https://vault-0.vault-internal:8200",
        leaderCaFile: "/vault/userconfig/vault-tls/ca.crt",
        timeoutSeconds: 600,
    },
    verify: { namespace: "vault", release: "vault", replicas: 3, timeoutSeconds: 600 },
    "forget-keys": { keyFile: ".vault-ha/vault-ha.dev/init.json" },
    "cert-manager-ready": { timeoutSeconds: 600 },
    "read-ca": { namespace: "vault", tlsSecret: "vault-server-tls", timeoutSeconds: 300 },
    "kv-proof": { vaultAddr: "https://localhost:30000", kvMount: "mysecret", kvPath: "logins/study", kvUsername: "demo", timeoutSeconds: 300 },
    "cluster-facts": { certManagerNamespace: "cert-manager", timeoutSeconds: 60 },
    "vault-address": { namespace: "vault", service: "vault", timeoutSeconds: 600 },
    "delete-secrets": { namespace: "vault", secretNames: "vault-ha-ca,vault-server-tls", timeoutSeconds: 120 },
    "gateway-ready": {
        gatewayName: "vault-ha",
        gatewayNamespace: "envoy-gateway-system",
        routeKind: "TLSRoute",
        routeName: "vault",
        routeNamespace: "vault",
        timeoutSeconds: 600,
    },
    "front-door-facts": { timeoutSeconds: 60 },
    "gateway-crds": { timeoutSeconds: 120 },
    "delete-gateway-crds": { timeoutSeconds: 120 },
};

/**
 * The environment variable names each step has always had: a Pulumi state holds them, and a change would re-run
 * the step (or, for the init step's delete, run it with variables it no longer reads).
 */
const STATE_COMPATIBLE_ENV: Record<string, string[]> = {
    "wait-pods": ["VAULT_HA_NAMESPACE", "VAULT_HA_RELEASE", "VAULT_HA_REPLICAS", "VAULT_HA_TIMEOUT_SECONDS"],
    // An invoke, not a resource: no state holds its environment.
    "pod-identities": ["VAULT_HA_NAMESPACE", "VAULT_HA_RELEASE", "VAULT_HA_REPLICAS", "VAULT_HA_TIMEOUT_SECONDS"],
    "pod-templates": ["VAULT_HA_NAMESPACE", "VAULT_HA_RELEASE", "VAULT_HA_REPLICAS", "VAULT_HA_TIMEOUT_SECONDS"],
    init: [
        "VAULT_HA_NAMESPACE",
        "VAULT_HA_RELEASE",
        "VAULT_HA_REPLICAS",
        "VAULT_HA_KEY_SHARES",
        "VAULT_HA_KEY_THRESHOLD",
        "VAULT_HA_KEY_FILE",
        "VAULT_HA_TIMEOUT_SECONDS",
    ],
    unseal: ["VAULT_HA_NAMESPACE", "VAULT_HA_RELEASE", "VAULT_HA_POD", "VAULT_HA_KEY_THRESHOLD", "VAULT_HA_TIMEOUT_SECONDS"],
    roll: [
        "VAULT_HA_NAMESPACE",
        "VAULT_HA_RELEASE",
        "VAULT_HA_REPLICAS",
        "VAULT_HA_KEY_THRESHOLD",
        "VAULT_HA_POD_TEMPLATE",
        "VAULT_HA_BACKUP_FOLDER",
        "VAULT_HA_SNAPSHOTS_TO_KEEP",
        "VAULT_HA_TIMEOUT_SECONDS",
    ],
    join: [
        "VAULT_HA_NAMESPACE",
        "VAULT_HA_RELEASE",
        "VAULT_HA_POD",
        "VAULT_HA_KEY_THRESHOLD",
        "VAULT_HA_LEADER_ADDR",
        "VAULT_HA_LEADER_CA_FILE",
        "VAULT_HA_TIMEOUT_SECONDS",
    ],
    verify: ["VAULT_HA_NAMESPACE", "VAULT_HA_RELEASE", "VAULT_HA_REPLICAS", "VAULT_HA_TIMEOUT_SECONDS"],
    "forget-keys": ["VAULT_HA_KEY_FILE"],
    "cert-manager-ready": ["VAULT_HA_TIMEOUT_SECONDS"],
    "read-ca": ["VAULT_HA_NAMESPACE", "VAULT_HA_TLS_SECRET", "VAULT_HA_TIMEOUT_SECONDS"],
    "kv-proof": ["VAULT_HA_VAULT_ADDR", "VAULT_HA_KV_MOUNT", "VAULT_HA_KV_PATH", "VAULT_HA_KV_USERNAME", "VAULT_HA_TIMEOUT_SECONDS"],
    // New steps (issue 13): an invoke, and a resource with no state before it.
    "cluster-facts": ["VAULT_HA_CERT_MANAGER_NAMESPACE", "VAULT_HA_TIMEOUT_SECONDS"],
    "vault-address": ["VAULT_HA_NAMESPACE", "VAULT_HA_SERVICE", "VAULT_HA_TIMEOUT_SECONDS"],
    "delete-secrets": ["VAULT_HA_NAMESPACE", "VAULT_HA_SECRET_NAMES", "VAULT_HA_TIMEOUT_SECONDS"],
    // New (issue 22): no state holds it before.
    "gateway-ready": [
        "VAULT_HA_GATEWAY_NAME",
        "VAULT_HA_GATEWAY_NAMESPACE",
        "VAULT_HA_ROUTE_KIND",
        "VAULT_HA_ROUTE_NAME",
        "VAULT_HA_ROUTE_NAMESPACE",
        "VAULT_HA_TIMEOUT_SECONDS",
    ],
    "front-door-facts": ["VAULT_HA_TIMEOUT_SECONDS"],
    "gateway-crds": ["VAULT_HA_TIMEOUT_SECONDS"],
    "delete-gateway-crds": ["VAULT_HA_TIMEOUT_SECONDS"],
};

describe("the step contract (components/stepCommand/contract.ts)", () => {
    for (const step of STEP_NAMES) {
        it(`${step}: the runner reads back exactly what the program writes, under the variable names states hold`, () => {
            const env = stepEnvironment(step, EXAMPLES[step] as never);
            assert.deepEqual(Object.keys(env).sort(), [...STATE_COMPATIBLE_ENV[step]].sort());
            assert.deepEqual(readStepParams(step, env), EXAMPLES[step]);
        });
    }

    it("leaves an optional parameter without a value out, and reads it back as absent", () => {
        const env = stepEnvironment("join", { ...EXAMPLES.join, leaderCaFile: undefined });
        assert.ok(!("VAULT_HA_LEADER_CA_FILE" in env));
        assert.equal(readStepParams("join", env).leaderCaFile, undefined);
    });

    it("kv-proof: without the existing-cluster parameters its environment is exactly the one kind stacks' states hold", () => {
        // A changed environment re-runs the step on every existing stack: the optional parameters must leave no trace.
        const before = {
            VAULT_HA_VAULT_ADDR: "https://localhost:30000",
            VAULT_HA_KV_MOUNT: "mysecret",
            VAULT_HA_KV_PATH: "logins/study",
            VAULT_HA_KV_USERNAME: "demo",
            VAULT_HA_TIMEOUT_SECONDS: "300",
        };
        assert.deepEqual(stepEnvironment("kv-proof", EXAMPLES["kv-proof"]), before);
        const explicitUndefined = {
            ...EXAMPLES["kv-proof"],
            portForwardNamespace: undefined,
            portForwardService: undefined,
            portForwardPort: undefined,
            tlsServerName: undefined,
        };
        assert.deepEqual(stepEnvironment("kv-proof", explicitUndefined), before);
        assert.deepEqual(stepEnvironment("kv-proof", { ...EXAMPLES["kv-proof"], tlsServerName: "" }), before);
    });

    it("kv-proof: the port-forward and TLS server name travel under new names and are read back typed", () => {
        const params = {
            ...EXAMPLES["kv-proof"],
            vaultAddr: "https://127.0.0.1:8200",
            portForwardNamespace: "vault",
            portForwardService: "vault",
            portForwardPort: 8200,
            tlsServerName: "vault.vault.svc",
        };
        const env = stepEnvironment("kv-proof", params);
        assert.equal(env.VAULT_HA_PORT_FORWARD_NAMESPACE, "vault");
        assert.equal(env.VAULT_HA_PORT_FORWARD_SERVICE, "vault");
        assert.equal(env.VAULT_HA_PORT_FORWARD_PORT, "8200");
        assert.equal(env.VAULT_HA_TLS_SERVER_NAME, "vault.vault.svc");
        assert.deepEqual(readStepParams("kv-proof", env), params);
        assert.throws(
            () => readStepParams("kv-proof", { ...env, VAULT_HA_PORT_FORWARD_PORT: "http" }),
            /VAULT_HA_PORT_FORWARD_PORT must be a number, not "http"/,
        );
        assert.equal(readStepParams("cluster-facts", { VAULT_HA_TIMEOUT_SECONDS: "60" }).certManagerNamespace, undefined);
    });

    it("kv-proof takes a kubeconfig only when it is given one (for its port-forward); the new steps need it", () => {
        assert.deepEqual(readStepSecrets("kv-proof", '{"rootToken":"t","password":"p"}'), { rootToken: "t", password: "p" });
        assert.throws(() => readStepSecrets("cluster-facts", "{}"), /step cluster-facts needs kubeconfig on stdin/);
        assert.throws(() => readStepSecrets("vault-address", "{}"), /step vault-address needs kubeconfig on stdin/);
    });

    it("refuses a missing or malformed parameter, naming the variable", () => {
        assert.throws(
            () => readStepParams("unseal", { VAULT_HA_NAMESPACE: "vault" }),
            (e: Error) => e instanceof ContractError && /VAULT_HA_RELEASE is not set/.test(e.message),
        );
        assert.throws(
            () => readStepParams("cert-manager-ready", { VAULT_HA_TIMEOUT_SECONDS: "soon" }),
            /VAULT_HA_TIMEOUT_SECONDS must be a number, not "soon"/,
        );
        assert.throws(() => stepEnvironment("unseal", { ...EXAMPLES.unseal, pod: "" }), /parameter pod has no value/);
    });

    it("checks the secrets on stdin: JSON, and the ones the step cannot run without", () => {
        assert.deepEqual(readStepSecrets("verify", '{"kubeconfig":"k","rootToken":"t"}'), { kubeconfig: "k", rootToken: "t" });
        assert.throws(() => readStepSecrets("verify", '{"kubeconfig":"k"}'), /step verify needs rootToken on stdin/);
        assert.throws(() => readStepSecrets("unseal", '{"kubeconfig":"k","unsealKeys":[]}'), /step unseal needs unsealKeys on stdin/);
        assert.throws(() => readStepSecrets("init", "not json"), /stdin is not the JSON object vault-ha sends/);
        assert.throws(() => readStepSecrets("init", "[1]"), /stdin is not the JSON object vault-ha sends/);
        assert.deepEqual(readStepSecrets("forget-keys", ""), {});
    });

    it("runs every step through the one entry point, at the path existing states hold", () => {
        for (const step of STEP_NAMES) assert.equal(stepCommand(step), `node --require ts-node/register/transpile-only components/bootstrap/cli.ts ${step}`);
    });
});
