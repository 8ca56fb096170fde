/**
 * The in-cluster unsealer's objects, as plain data (the component adds the keys, which are Outputs). One Deployment
 * with one pod in Vault's namespace, running the Vault image (nothing new to trust) with unsealerScript.ts:
 *
 * - It reaches each Vault pod by its headless-service name, which the chart publishes ready or not
 *   (vault-helm templates/server-headless-service.yaml: publishNotReadyAddresses), and with TLS verifies it with
 *   this stack's CA against that name (the server certificate holds every pod's name: tls/tlsConfig.ts). So it
 *   needs no Kubernetes API at all: its ServiceAccount has no role and no token is mounted.
 * - The key shares (the threshold, not more) are a Secret mounted into this pod only; the Vault pods never see it.
 *   Only the CA of the server certificate's Secret is mounted, not the server's private key.
 * - Switching it on or off creates or deletes these objects and touches no Vault pod: nothing rolls.
 *
 * Names are fixed (not auto-named): the README and the troubleshooting commands name them.
 */
import { podHost, podNames, VAULT_API_PORT, vaultScheme } from "../vault/names";
import { SERVER_TLS_SECRET } from "../tls/tlsConfig";
import { UNSEALER_ENV, UNSEALER_INTERVAL_SECONDS, UNSEALER_MAX_SKIP_PASSES, unsealerScript } from "./unsealerScript";

export const UNSEALER_NAMES = {
    deployment: "vault-ha-unsealer",
    serviceAccount: "vault-ha-unsealer",
    keysSecret: "vault-ha-unseal-keys",
} as const;

/** Where the unsealer's container finds what it reads and writes. */
export const UNSEALER_PATHS = {
    keys: "/unsealer/keys",
    ca: "/unsealer/tls/ca.crt",
    state: "/unsealer/state",
} as const;

export interface UnsealerPlan {
    release: string;
    replicas: number;
    tls: boolean;
    /** The seal's shares and threshold: what the active node reported (SealFacts), else the settings. */
    keyShares: number;
    keyThreshold: number;
    image: string;
    /** The cluster id the active node reported at verify, when the state has it. */
    clusterId?: string;
}

/** How old the heartbeat the pass touches may get before the kubelet restarts the container (minutes). */
export const UNSEALER_HEARTBEAT_MINUTES = 5;

const LABELS = { "app.kubernetes.io/name": UNSEALER_NAMES.deployment, "app.kubernetes.io/part-of": "vault-ha" };

/** The image's vault user and group (vault-helm values.yaml server.uid / server.gid defaults: 100 and 1000). */
const VAULT_UID = 100;
const VAULT_GID = 1000;

/** The Secret's data: key-1 ... key-<threshold>, each exactly the share (no newline: it goes to Vault as it is). */
export function unsealKeysSecretData(keys: readonly string[], threshold: number): Record<string, string> {
    if (keys.length < threshold) {
        throw new Error(`the in-cluster unsealer needs ${threshold} unseal keys (the threshold), but vault-ha holds ${keys.length}`);
    }
    return Object.fromEntries(keys.slice(0, threshold).map((key, i) => [`key-${i + 1}`, key]));
}

/** The container's environment: every name from UNSEALER_ENV, so the script and this cannot drift apart. */
export function unsealerEnvironment(p: UnsealerPlan): Record<string, string> {
    return {
        [UNSEALER_ENV.pods]: podNames(p.release, p.replicas)
            .map((pod) => podHost(p.release, pod))
            .join(" "),
        [UNSEALER_ENV.scheme]: vaultScheme(p.tls),
        [UNSEALER_ENV.port]: String(VAULT_API_PORT),
        [UNSEALER_ENV.keysDir]: UNSEALER_PATHS.keys,
        [UNSEALER_ENV.threshold]: String(p.keyThreshold),
        [UNSEALER_ENV.shares]: String(p.keyShares),
        [UNSEALER_ENV.clusterId]: p.clusterId ?? "",
        [UNSEALER_ENV.stateDir]: UNSEALER_PATHS.state,
        [UNSEALER_ENV.intervalSeconds]: String(UNSEALER_INTERVAL_SECONDS),
        [UNSEALER_ENV.maxSkip]: String(UNSEALER_MAX_SKIP_PASSES),
        // The CLI's home (it looks for a token file there; there is none): the writable state folder.
        HOME: UNSEALER_PATHS.state,
        // One try per call, 5 s at most: the CLI would otherwise retry a sealed pod's 500 from sys/leader and wait up to
        // 60 s for a dead pod (api/client.go: VAULT_MAX_RETRIES 2, VAULT_CLIENT_TIMEOUT 60), pod after pod.
        VAULT_MAX_RETRIES: "0",
        VAULT_CLIENT_TIMEOUT: "5",
        ...(p.tls ? { VAULT_CACERT: UNSEALER_PATHS.ca } : {}),
    };
}

/** The ServiceAccount: its own, bound to no role, and its token is never mounted. */
export function unsealerServiceAccount(namespace: string): Record<string, unknown> {
    return {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: UNSEALER_NAMES.serviceAccount, namespace, labels: LABELS },
        automountServiceAccountToken: false,
    };
}

export function unsealerDeployment(p: UnsealerPlan, namespace: string): Record<string, unknown> {
    const env = unsealerEnvironment(p);
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: UNSEALER_NAMES.deployment, namespace, labels: LABELS },
        spec: {
            replicas: 1,
            // Never two at once: the old pod is gone before the new one starts.
            strategy: { type: "Recreate" },
            selector: { matchLabels: LABELS },
            template: {
                metadata: { labels: LABELS },
                spec: {
                    serviceAccountName: UNSEALER_NAMES.serviceAccount,
                    automountServiceAccountToken: false,
                    enableServiceLinks: false,
                    securityContext: {
                        runAsNonRoot: true,
                        runAsUser: VAULT_UID,
                        runAsGroup: VAULT_GID,
                        fsGroup: VAULT_GID,
                        seccompProfile: { type: "RuntimeDefault" },
                    },
                    containers: [
                        {
                            name: "unsealer",
                            image: p.image,
                            command: ["/bin/sh", "-c", unsealerScript()],
                            env: Object.entries(env).map(([name, value]) => ({ name, value })),
                            volumeMounts: [
                                { name: "keys", mountPath: UNSEALER_PATHS.keys, readOnly: true },
                                { name: "state", mountPath: UNSEALER_PATHS.state },
                                ...(p.tls ? [{ name: "ca", mountPath: UNSEALER_PATHS.ca.replace(/\/[^/]+$/, ""), readOnly: true }] : []),
                            ],
                            securityContext: {
                                allowPrivilegeEscalation: false,
                                readOnlyRootFilesystem: true,
                                capabilities: { drop: ["ALL"] },
                            },
                            // The pass touches it after every round (unsealerScript.ts); a loop that stopped turning is restarted.
                            livenessProbe: {
                                exec: { command: ["/bin/sh", "-c", `find ${UNSEALER_PATHS.state}/heartbeat -mmin -${UNSEALER_HEARTBEAT_MINUTES} | grep -q .`] },
                                initialDelaySeconds: 60,
                                periodSeconds: 60,
                                failureThreshold: 2,
                            },
                            // The Vault CLI is a large Go binary; the in-memory state folder counts here too.
                            resources: { requests: { cpu: "5m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                        },
                    ],
                    volumes: [
                        { name: "keys", secret: { secretName: UNSEALER_NAMES.keysSecret, defaultMode: 0o440 } },
                        { name: "state", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
                        ...(p.tls
                            ? [{ name: "ca", secret: { secretName: SERVER_TLS_SECRET, defaultMode: 0o440, items: [{ key: "ca.crt", path: "ca.crt" }] } }]
                            : []),
                    ],
                },
            },
        },
    };
}

/** What the preview says when the unsealer is on: its price, plainly. */
export function unsealerCostNotice(namespace: string, p: Pick<UnsealerPlan, "keyThreshold" | "keyShares">): string {
    return (
        `autoUnseal in-cluster: Secret ${namespace}/${UNSEALER_NAMES.keysSecret} holds ${p.keyThreshold} of the ${p.keyShares} unseal keys, ` +
        `enough to unseal Vault. Anyone who can read Secrets in namespace ${namespace}, create pods there or exec into the unsealer can ` +
        `unseal Vault. For production, prefer an auto-unseal seal with a KMS (the README's Unsealing).`
    );
}
