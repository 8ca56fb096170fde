/**
 * The Vault server configuration (HCL) and the values sent to the hashicorp/vault chart, as pure functions.
 * Every key here exists in the pinned chart: tests/chartKeys.test.ts checks them against its values.yaml.
 */
import { createHash } from "crypto";
import { HclBlock, HclBody, renderHcl } from "./hcl";
import type { Settings } from "../config/settings";
import {
    ANTI_AFFINITIES as ANTI_AFFINITY_SETTINGS,
    VAULT_SERVICE_TYPES as SERVICE_TYPE_SETTINGS,
    type AntiAffinity,
    type VaultServiceType,
} from "../config/settingDeclarations";
import { SERVER_TLS_SECRET, TLS_DIR, TLS_FILES } from "../tls/tlsConfig";
import { LISTENER_TELEMETRY, SERVER_TELEMETRY, serverTelemetryValues, telemetryAnnotation } from "./telemetry";
import { VAULT_IMAGE } from "../config/versions";
import { podHost, podNames, VAULT_API_PORT, VAULT_CLUSTER_PORT, VAULT_RELEASE_NAME, vaultScheme } from "./names";
import { type AutoSealPlan, isAutoSealPlan, type SealPlan } from "../seal/sealPlan";

/** Where the chart mounts the per-pod PVC; raft keeps its data there. */
export const RAFT_DATA_PATH = "/vault/data";

export type { AntiAffinity, VaultServiceType };

/** How the API (and UI) Service, the chart's `ui` Service on port 8200, is exposed: the setting's values but auto. */
export const VAULT_SERVICE_TYPES: readonly VaultServiceType[] = SERVICE_TYPE_SETTINGS.filter((t): t is VaultServiceType => t !== "auto");

/** Keep two Vault pods off one node: always (the chart's default), or when the scheduler can; the setting's values but auto. */
export const ANTI_AFFINITIES: readonly AntiAffinity[] = ANTI_AFFINITY_SETTINGS.filter((a): a is AntiAffinity => a !== "auto");

/** Kubernetes quantities for the vault container: a CPU request, and a memory request that is also its limit. */
export interface VaultResources {
    cpu?: string;
    memory?: string;
}

type VaultValuesInput = Pick<Settings, "vaultReplicas" | "uiNodePort" | "raftStorageSize" | "tls"> & {
    /** <repository>:<version>[@sha256:<digest>]; the pinned default when absent. */
    vaultImage?: string;
};

/**
 * How Vault sits on the cluster, resolved (no "auto": see components/config/clusterModes.ts). Each field is optional
 * and, when absent, leaves the values exactly as they were before it existed, so a kind stack's release (and its
 * pods' template digest, rollPlan.ts) does not change. A separate argument, not more fields beside the settings:
 * the settings hold the unresolved choices under some of these names.
 */
export interface VaultChartOptions {
    /** The `ui` Service's type; NodePort on uiNodePort when absent. */
    serviceType?: VaultServiceType;
    /** server.dataStorage.storageClass for the raft volumes; absent or "" = the cluster's default StorageClass. */
    storageClass?: string;
    /** The vault container's resources; absent (or both fields absent or "") = no resources block. */
    resources?: VaultResources;
    /** "required" (or absent) = the chart's own required term; "preferred" = the same term, preferred. */
    antiAffinity?: AntiAffinity;
    /** With a LoadBalancer: the client CIDRs it admits (ui.loadBalancerSourceRanges); absent or [] = the cloud's default. */
    loadBalancerSourceRanges?: string[];
    /** Annotations of the API Service (ui.annotations): a cloud's internal load balancer, for one. */
    serviceAnnotations?: Record<string, string>;
    /** The seal (components/seal/sealPlan.ts); absent or shamir = no seal stanza, the values of before. */
    seal?: SealPlan;
    /** vault-ha:telemetry: Prometheus metrics on every pod (components/vault/telemetry.ts); absent = off. */
    telemetry?: boolean;
    /** On a cluster with the Prometheus Operator: the ServiceMonitor and alert rules, for Vault's namespace. */
    monitoring?: { namespace: string };
}

/** An auto seal's part of the server configuration: its stanza, and the pods that join by themselves. */
export interface AutoSealServer {
    seal: AutoSealPlan;
    replicas: number;
}

/**
 * The chart's server.image: it renders `image: "<repository>:<tag>"` (templates/server-statefulset.yaml), so a digest
 * rides along in the tag ("2.0.4@sha256:..."), which makes the reference `<repository>:<version>@sha256:<digest>`.
 */
export function chartImage(image: string): { repository: string; tag: string } {
    const at = image.indexOf("@");
    const named = at >= 0 ? image.slice(0, at) : image;
    const colon = named.lastIndexOf(":");
    return { repository: named.slice(0, colon), tag: named.slice(colon + 1) + (at >= 0 ? image.slice(at) : "") };
}

/** The listener: plain HTTP, or TLS with the cert-manager certificate (and its CA for client certificates). */
function listener(tls: boolean): Record<string, string | boolean> {
    const addresses = { address: `[::]:${VAULT_API_PORT}`, cluster_address: `[::]:${VAULT_CLUSTER_PORT}` };
    if (!tls) return { ...addresses, tls_disable: true };
    return { ...addresses, tls_disable: false, tls_cert_file: TLS_FILES.cert, tls_key_file: TLS_FILES.key, tls_client_ca_file: TLS_FILES.ca };
}

/**
 * raft retry_join, one block per pod: with an auto seal a new node joins by itself (every 2 s, physical/raft
 * JoinRaftCluster) and unseals with the seal, so no step has to join it. Each pod's own name is in Vault's certificate
 * (vaultCertificateSans), verified with the CA every pod mounts.
 */
function retryJoinBlocks(tls: boolean, replicas: number): HclBlock[] {
    return podNames(VAULT_RELEASE_NAME, replicas).map((pod) => ({
        type: "retry_join",
        attributes: {
            leader_api_addr: `${vaultScheme(tls)}://${podHost(VAULT_RELEASE_NAME, pod)}:${VAULT_API_PORT}`,
            ...(tls ? { leader_ca_cert_file: TLS_FILES.ca } : {}),
        },
    }));
}

/** The server configuration as data; with an auto seal, its stanza and the raft retry_join blocks. */
/** telemetry: metrics on; unauthenticated: readable without a token (only where a ServiceMonitor scrapes them). */
export function vaultServerConfig(tls: boolean, autoSeal?: AutoSealServer, telemetry?: { unauthenticated: boolean }): HclBody {
    const storage: HclBlock = { type: "storage", labels: ["raft"], attributes: { path: RAFT_DATA_PATH } };
    if (autoSeal) storage.blocks = retryJoinBlocks(tls, autoSeal.replicas);
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
                attributes: listener(tls),
                ...(telemetry?.unauthenticated ? { blocks: [LISTENER_TELEMETRY] } : {}),
            },
            storage,
            // Labels each pod vault-active=true|false and vault-sealed=..., which the vault-active Service selects on.
            { type: "service_registration", labels: ["kubernetes"] },
            ...(autoSeal ? [{ type: "seal", labels: [autoSeal.seal.type], attributes: autoSeal.seal.stanza }] : []),
            ...(telemetry ? [SERVER_TELEMETRY] : []),
        ],
    };
}

export function vaultServerHcl(tls: boolean, autoSeal?: AutoSealServer, telemetry?: { unauthenticated: boolean }): string {
    return renderHcl(vaultServerConfig(tls, autoSeal, telemetry));
}

/** The auto seal of chart options, with the replicas that join by themselves; undefined for Shamir. */
export function autoSealServer(seal: SealPlan | undefined, replicas: number): AutoSealServer | undefined {
    return isAutoSealPlan(seal) ? { seal, replicas } : undefined;
}

/**
 * What an auto seal adds to the server's values: the workload identity (server.serviceAccount.annotations on the
 * chart's ServiceAccount, server.extraLabels on the pod template), the secrets read from the environment
 * (server.extraSecretEnvironmentVars: a secretKeyRef, so the value is in neither the values nor the ConfigMap), and
 * the files mounted from a Secret, one volume per Secret with only the keys named (after the TLS volume, if any).
 */
/** The pod annotation that carries the seal into the StatefulSet's template (the roll's revision). */
export const SEAL_ANNOTATION = "vault-ha.dev/seal";

/** `<type> <first 12 hex of the stanza's SHA-256>`: the seal and its key, so a change of either rolls the pods. */
export function sealAnnotation(seal: AutoSealPlan): string {
    return `${seal.type} ${createHash("sha256").update(JSON.stringify(seal.stanza)).digest("hex").slice(0, 12)}`;
}

function sealServerValues(seal: AutoSealPlan, tlsServer: Record<string, unknown> | undefined): Record<string, unknown> {
    const volumes = [...((tlsServer?.volumes as unknown[]) ?? [])];
    const volumeMounts = [...((tlsServer?.volumeMounts as unknown[]) ?? [])];
    for (const secretName of [...new Set((seal.files ?? []).map((f) => f.secretName))]) {
        const files = (seal.files ?? []).filter((f) => f.secretName === secretName);
        const dir = files[0].path.slice(0, files[0].path.lastIndexOf("/"));
        if (files.some((f) => f.path.slice(0, f.path.lastIndexOf("/")) !== dir)) throw new Error(`seal files of Secret ${secretName} in more than one folder`);
        volumes.push({
            name: secretName,
            secret: { secretName, defaultMode: 0o440, items: files.map((f) => ({ key: f.secretKey, path: f.path.slice(dir.length + 1) })) },
        });
        volumeMounts.push({ name: secretName, mountPath: dir, readOnly: true });
    }
    return {
        // The seal stanza lives in the ConfigMap, which the pods read only at start, and the chart stamps no checksum of
        // it on them (server.includeConfigAnnotation is off): without this the StatefulSet's template would not change
        // for every seal (gcpckms, awskms without a region), the roll would replace no pod, and a pod that restarts
        // later would start migrating on its own, sealed. Its key names the seal and what opens it, never a secret.
        annotations: { [SEAL_ANNOTATION]: sealAnnotation(seal) },
        ...(Object.keys(seal.serviceAccountAnnotations).length > 0 ? { serviceAccount: { annotations: seal.serviceAccountAnnotations } } : {}),
        ...(Object.keys(seal.podLabels).length > 0 ? { extraLabels: seal.podLabels } : {}),
        ...(seal.secretEnv.length > 0 ? { extraSecretEnvironmentVars: seal.secretEnv } : {}),
        ...(seal.env ? { extraEnvironmentVars: { ...((tlsServer?.extraEnvironmentVars as Record<string, string>) ?? {}), ...seal.env } } : {}),
        ...(volumes.length > 0 ? { volumes, volumeMounts } : {}),
    };
}

/**
 * Vault reads its certificate only at start and on SIGHUP. cert-manager renews the certificate 30 days before it
 * expires and the kubelet updates the mounted files; this sidecar (the Vault image, so nothing new to pull) notices
 * the change within a minute and sends SIGHUP to Vault, which then serves the new certificate without a restart
 * (a restart would seal it). The pod shares one process namespace so the sidecar can signal Vault.
 */
export const TLS_RELOAD_SCRIPT = `files="${TLS_FILES.cert} ${TLS_FILES.ca}"
seen=$(cat $files | sha256sum)
while true; do
  sleep 60
  now=$(cat $files | sha256sum)
  if [ "$now" != "$seen" ] && pid=$(pidof vault); then
    kill -HUP $pid && seen=$now && echo "certificate changed: vault (pid $pid) reloaded it"
  fi
done`;

function tlsServerValues(release: string, image: string): { server: Record<string, unknown>; apiAddr: string } {
    const mount = { name: "vault-tls", mountPath: TLS_DIR, readOnly: true };
    const server = {
        volumes: [{ name: "vault-tls", secret: { secretName: SERVER_TLS_SECRET, defaultMode: 0o440 } }],
        volumeMounts: [mount],
        // The CLI inside the pods talks to https://127.0.0.1:8200 and verifies it with the CA: no -tls-skip-verify.
        extraEnvironmentVars: { VAULT_CACERT: TLS_FILES.ca },
        shareProcessNamespace: true,
        extraContainers: [
            {
                name: "tls-reloader",
                image,
                command: ["/bin/sh", "-c", TLS_RELOAD_SCRIPT],
                volumeMounts: [mount],
                securityContext: { allowPrivilegeEscalation: false },
                resources: { requests: { cpu: "5m", memory: "8Mi" }, limits: { memory: "32Mi" } },
            },
        ],
    };
    // Advertise each pod by a name its certificate holds (the default, the pod IP, is not in it).
    // VAULT_K8S_POD_NAME, unlike HOSTNAME, is defined before VAULT_API_ADDR in the chart's env list.
    return { server, apiAddr: `https://${podHost(release, "$(VAULT_K8S_POD_NAME)")}:${VAULT_API_PORT}` };
}

export function vaultHelmValues(s: VaultValuesInput, o: VaultChartOptions = {}): Record<string, unknown> {
    const image = s.vaultImage ?? VAULT_IMAGE;
    const tls = s.tls ? tlsServerValues(VAULT_RELEASE_NAME, image) : undefined;
    return {
        global: { enabled: true, tlsDisable: !s.tls },
        // The agent injector is not part of this lab; leaving it on would add a webhook that needs its own TLS.
        injector: { enabled: false },
        server: {
            image: chartImage(image),
            // An HTTP(S) probe instead of the chart's default `vault status -tls-skip-verify` exec: it needs no TLS
            // bypass, and it reports a pod Ready only once it is unsealed and active or standby.
            readinessProbe: { enabled: true, path: "/v1/sys/health?standbyok=true", port: VAULT_API_PORT },
            dataStorage: {
                enabled: true,
                size: s.raftStorageSize,
                mountPath: RAFT_DATA_PATH,
                // Rendered as the claim template's storageClassName only when set (templates/_helpers.tpl,
                // "vault.volumeclaims"); without it the cluster's default StorageClass provisions the volume.
                ...(o.storageClass ? { storageClass: o.storageClass } : {}),
            },
            ...resourceValues(o.resources),
            ...affinityValues(o.antiAffinity),
            ...tls?.server,
            ...(isAutoSealPlan(o.seal) ? sealServerValues(o.seal, tls?.server) : {}),
            // The chart puts no checksum of its ConfigMap on the pods: the telemetry blocks reach the pods through a roll,
            // which this annotation makes (a new pod template), as the seal's does.
            ...(o.telemetry
                ? { annotations: { ...(isAutoSealPlan(o.seal) ? { [SEAL_ANNOTATION]: sealAnnotation(o.seal) } : {}), ...telemetryAnnotation(o) } }
                : {}),
            ha: {
                enabled: true,
                replicas: s.vaultReplicas,
                ...(tls ? { apiAddr: tls.apiAddr } : {}),
                raft: {
                    enabled: true,
                    // Node id = pod name, so `raft list-peers` reads vault-0, vault-1, ... instead of UUIDs.
                    setNodeId: true,
                    // With raft enabled the chart reads only this key; server.ha.config would be ignored.
                    config: vaultServerHcl(
                        s.tls,
                        autoSealServer(o.seal, s.vaultReplicas),
                        o.telemetry ? { unauthenticated: o.monitoring !== undefined } : undefined,
                    ),
                },
            },
        },
        ...(o.telemetry && o.monitoring
            ? { serverTelemetry: serverTelemetryValues({ tls: s.tls, namespace: o.monitoring.namespace, replicas: s.vaultReplicas }) }
            : {}),
        ui: {
            ...uiServiceValues(o.serviceType ?? "NodePort", s.uiNodePort),
            // Only the active node behind vaultAddr (templates/ui-service.yaml adds `vault-active: "true"` to the
            // selector): a standby answers what only the active node serves (raft snapshots, among others) with a
            // redirect to its own cluster-internal name (vault-0.vault-internal), which no client outside resolves.
            activeVaultPodOnly: true,
            // "service.loadBalancer" in templates/_helpers.tpl renders the ranges for a LoadBalancer only.
            ...(o.serviceType === "LoadBalancer" && (o.loadBalancerSourceRanges ?? []).length > 0
                ? { loadBalancerSourceRanges: o.loadBalancerSourceRanges }
                : {}),
            // "vault.ui.annotations" renders a map with toYaml.
            ...(o.serviceAnnotations && Object.keys(o.serviceAnnotations).length > 0 ? { annotations: o.serviceAnnotations } : {}),
        },
    };
}

/**
 * The `ui` Service (templates/ui-service.yaml): Vault's API and UI on port 8200, whichever its type.
 * - The template writes `nodePort` whenever ui.serviceNodePort is set, whatever the type; the API server refuses a
 *   nodePort on a ClusterIP Service, and on a LoadBalancer a fixed port could collide on a shared cluster, so only
 *   NodePort sends it (the cloud's controller then allocates one for a LoadBalancer).
 * - ui.externalTrafficPolicy (values.yaml: Cluster) is rendered for NodePort and LoadBalancer only
 *   ("service.externalTrafficPolicy" in templates/_helpers.tpl): Cluster is kept, so any node forwards to a Ready
 *   pod. loadBalancerIP is left unset; loadBalancerSourceRanges come from the setting (vaultHelmValues).
 * - publishNotReadyAddresses: false keeps the Service's endpoints to Ready pods, i.e. unsealed ones (the readiness
 *   probe is sys/health?standbyok=true): a sealed pod answers every request with 503. This holds for the NodePort,
 *   the load balancer and in-cluster clients alike; `kubectl port-forward svc/...` does not go through endpoints
 *   (it picks one pod by the selector), so it is not covered by it.
 */
function uiServiceValues(type: VaultServiceType, nodePort: number): Record<string, unknown> {
    return {
        enabled: true,
        serviceType: type,
        ...(type === "NodePort" ? { serviceNodePort: nodePort } : {}),
        externalPort: VAULT_API_PORT,
        publishNotReadyAddresses: false,
    };
}

/**
 * server.resources, rendered on the vault container only ("vault.resources" in templates/_helpers.tpl; the
 * reloader sidecar keeps its own). CPU is a request without a limit: CFS throttling under a limit stalls Vault's
 * raft heartbeats and can cost the leadership. Memory is requested and limited alike: the scheduler reserves what
 * Vault may use, and a node under memory pressure never ranks the pod among those using more than they requested
 * (the kubelet evicts those first).
 */
function resourceValues(r: VaultResources | undefined): { resources?: Record<string, unknown> } {
    const cpu = r?.cpu || undefined;
    const memory = r?.memory || undefined;
    if (!cpu && !memory) return {};
    return {
        resources: {
            requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) },
            ...(memory ? { limits: { memory } } : {}),
        },
    };
}

/**
 * The chart passes a string server.affinity through `tpl` ("vault.affinity" in templates/_helpers.tpl), as it does
 * its own default, a required podAntiAffinity term on kubernetes.io/hostname over the server pods' labels. The
 * preferred form is that term as a preferred one, with the labels written as the chart's own templates write them,
 * so it selects exactly the pods the StatefulSet labels. "required" sends nothing: the chart's default applies.
 */
export const PREFERRED_ANTI_AFFINITY = `podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            app.kubernetes.io/name: {{ include "vault.name" . }}
            app.kubernetes.io/instance: {{ .Release.Name | quote }}
            component: server
`;

function affinityValues(a: AntiAffinity | undefined): { affinity?: string } {
    return a === "preferred" ? { affinity: PREFERRED_ANTI_AFFINITY } : {};
}
