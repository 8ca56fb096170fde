/**
 * The Vault server configuration (HCL) and the values sent to the hashicorp/vault chart, as pure functions.
 * Every key here exists in the pinned chart: tests/chartKeys.test.ts checks them against its values.yaml.
 */
import { HclBody, renderHcl } from "./hcl";
import type { Settings } from "./settings";
import { VAULT_IMAGE_TAG } from "./versions";

/** The Helm release name. The chart derives every object and DNS name from it (vault-0.vault-internal, ...). */
export const VAULT_RELEASE_NAME = "vault";
export const VAULT_API_PORT = 8200;
export const VAULT_CLUSTER_PORT = 8201;
/** Where the chart mounts the per-pod PVC; raft keeps its data there. */
export const RAFT_DATA_PATH = "/vault/data";

type VaultSettings = Pick<Settings, "vaultReplicas" | "uiNodePort" | "raftStorageSize">;

/** The server configuration as data: the TLS issue adds certificate attributes to the listener. */
export function vaultServerConfig(): HclBody {
    return {
        attributes: {
            ui: true,
            // Written unquoted on purpose: the chart appends its own `disable_mlock = true` unless this exact form is
            // present, and Vault >= 1.21 refuses a config that sets an attribute twice.
            disable_mlock: true,
        },
        blocks: [
            {
                type: "listener",
                labels: ["tcp"],
                attributes: {
                    address: `[::]:${VAULT_API_PORT}`,
                    cluster_address: `[::]:${VAULT_CLUSTER_PORT}`,
                    tls_disable: true,
                },
            },
            { type: "storage", labels: ["raft"], attributes: { path: RAFT_DATA_PATH } },
            // Labels each pod vault-active=true|false and vault-sealed=..., which the vault-active Service selects on.
            { type: "service_registration", labels: ["kubernetes"] },
        ],
    };
}

export function vaultServerHcl(): string {
    return renderHcl(vaultServerConfig());
}

export function vaultHelmValues(s: VaultSettings): Record<string, unknown> {
    return {
        global: { enabled: true, tlsDisable: true },
        // The agent injector is not part of this lab; leaving it on would add a webhook that needs its own TLS.
        injector: { enabled: false },
        server: {
            image: { repository: "hashicorp/vault", tag: VAULT_IMAGE_TAG },
            // An HTTP probe instead of the chart's default `vault status -tls-skip-verify` exec: it needs no TLS
            // bypass, and it reports a pod Ready only once it is unsealed and active or standby.
            readinessProbe: { enabled: true, path: "/v1/sys/health?standbyok=true", port: VAULT_API_PORT },
            dataStorage: { enabled: true, size: s.raftStorageSize, mountPath: RAFT_DATA_PATH },
            ha: {
                enabled: true,
                replicas: s.vaultReplicas,
                raft: {
                    enabled: true,
                    // Node id = pod name, so `raft list-peers` reads vault-0, vault-1, ... instead of UUIDs.
                    setNodeId: true,
                    // With raft enabled the chart reads only this key; server.ha.config would be ignored.
                    config: vaultServerHcl(),
                },
            },
        },
        ui: {
            enabled: true,
            serviceType: "NodePort",
            serviceNodePort: s.uiNodePort,
            externalPort: VAULT_API_PORT,
            // Send host traffic only to unsealed pods: a sealed pod answers every request with 503.
            publishNotReadyAddresses: false,
        },
    };
}
