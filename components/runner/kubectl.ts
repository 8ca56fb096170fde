/**
 * VaultOps through `kubectl`: `kubectl exec` into the Vault pods, the path a person takes by hand.
 *
 * Secrets never reach an argv, host or pod: unseal keys go to `vault write sys/unseal key=-` on stdin, and the root
 * token goes on stdin into a throwaway $HOME/.vault-token that the Vault CLI reads (an environment variable would be
 * visible in the process table of the pod).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { classifyFailure } from "./failures";
import { privateFolder, releaseFolder, track } from "./tempFolders";
import {
    AutopilotState,
    ClaimInfo,
    DataClaim,
    InitResponse,
    JoinTarget,
    PodInfo,
    RaftPeer,
    SealStatus,
    StatefulSetInfo,
    VaultOps,
    VaultRefused,
    VaultUnavailable,
} from "./vaultOps";

export interface KubectlResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** What a streamed call sends: a short text first (a token, one line), then a file's bytes. */
export interface StreamInput {
    text: string;
    file?: string;
    /** Told the running total of bytes streamed (read from the file, or written to the output file). */
    onBytes?: (total: number) => void;
}

/** Runs one kubectl command line: the real binary in production, the simulator's in tests. */
export interface KubectlRunner {
    run(args: string[], stdin?: string): Promise<KubectlResult>;
    /**
     * Like run, for data too large or too binary for a string (a raft snapshot): stdin is `input` (the file streamed
     * after the text), stdout goes to `outputFile` (0600) as it arrives. The output file is removed if the call fails.
     */
    stream(args: string[], input: StreamInput, outputFile?: string): Promise<{ code: number; stderr: string }>;
    /**
     * Starts a long-running kubectl (`port-forward`) with the same kubeconfig, for the caller to stop. Its stdout
     * comes line by line; it keeps running until it exits by itself or stop() is called.
     */
    background(args: string[]): BackgroundProcess;
    /** Removes whatever the runner keeps on disk (the kubeconfig file). */
    dispose(): void;
}

/** A kubectl that runs until it is stopped. */
export interface BackgroundProcess {
    /** Called with each complete line of stdout, in order (lines printed before the call are passed at once). */
    onLine(listener: (line: string) => void): void;
    /** Settles when the process has ended, by itself or by stop(): its exit code (128 + signal) and stderr. */
    readonly exited: Promise<{ code: number; stderr: string }>;
    /** Ends it (SIGTERM) and waits until it has. Safe to call more than once, or after it ended. */
    stop(): Promise<void>;
}

/** Line splitting and replay for BackgroundProcess implementations. */
export class LineFeed {
    private buffer = "";
    private readonly lines: string[] = [];
    private readonly listeners: Array<(line: string) => void> = [];

    push(chunk: string): void {
        this.buffer += chunk;
        let nl: number;
        while ((nl = this.buffer.indexOf("\n")) >= 0) {
            const line = this.buffer.slice(0, nl).replace(/\r$/, "");
            this.buffer = this.buffer.slice(nl + 1);
            this.lines.push(line);
            for (const l of this.listeners) l(line);
        }
    }

    onLine(listener: (line: string) => void): void {
        this.listeners.push(listener);
        for (const line of this.lines) listener(line);
    }
}

/** How long a background kubectl may print nothing at all before it is stopped (wall clock, like callTimeoutMs). */
export const BACKGROUND_SILENCE_MS = 120_000;

/** Reads the root token from stdin into a private, temporary token file for exactly one Vault CLI call. */
export const LIST_PEERS_SCRIPT = `set -eu
umask 077
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/.vault-token"
HOME="$home" vault operator raft list-peers -format=json`;

/** Like LIST_PEERS_SCRIPT, for `vault operator raft remove-peer "$1"` (command/operator_raft_remove_peer.go). */
export const REMOVE_PEER_SCRIPT = `set -eu
umask 077
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/.vault-token"
HOME="$home" vault operator raft remove-peer "$1"`;

/**
 * Like LIST_PEERS_SCRIPT, for `vault operator step-down` (command/operator_step_down.go: PUT sys/step-down, which needs
 * a token; exit 0 on success, 2 on an API error).
 */
export const STEP_DOWN_SCRIPT = `set -eu
umask 077
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/.vault-token"
HOME="$home" vault operator step-down`;

/** Like LIST_PEERS_SCRIPT, for autopilot's state (command/operator_raft_autopilot_state.go; GET sys/storage/raft/autopilot/state). */
export const AUTOPILOT_STATE_SCRIPT = `set -eu
umask 077
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/.vault-token"
HOME="$home" vault operator raft autopilot state -format=json`;

/**
 * `vault operator raft snapshot save` into the pod's stdout, which kubectl exec streams back: no copy stays in the
 * pod (command/operator_raft_snapshot_save.go opens the path it is given with os.OpenFile; /dev/stdout is the exec
 * stream). The first line of stdin is the token.
 */
export const SNAPSHOT_SAVE_SCRIPT = `set -eu
umask 077
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
IFS= read -r token
printf '%s' "$token" > "$home/.vault-token"
# The CLI's own 60 s client timeout would cut a large snapshot short (api/client.go VAULT_CLIENT_TIMEOUT).
VAULT_CLIENT_TIMEOUT=3600 HOME="$home" vault operator raft snapshot save /dev/stdout`;

/**
 * Where a snapshot to restore is staged in the pod: $HOME, the chart's emptyDir, private to the pod. A restore streamed
 * through `kubectl exec` straight into the Vault CLI would reach Vault's listener at the speed of the user's
 * connection, and the listener gives a request body 30 s (http_read_timeout) and a request 90 s
 * (max_request_duration), Vault's defaults (docs: configuration/listener/tcp; vault/request_handling.go
 * DefaultMaxRequestDuration; hashicorp/vault#24245, #24255). Raising them would change the server config, which rolls
 * every pod. So the file is uploaded first (an upload changes nothing in Vault: it can be repeated, and is checked by
 * size and SHA-256 in the pod), and the CLI then sends it over loopback.
 */
export const STAGED_SNAPSHOT_FILE = "$HOME/.vault-ha-restore.snap";

/** Receives the snapshot on stdin into the staging file (a partial file first, so a cut upload is never taken whole). */
export const STAGE_SNAPSHOT_SCRIPT = `set -eu
umask 077
f="${STAGED_SNAPSHOT_FILE}"
rm -f "$f"
cat > "$f.partial"
mv "$f.partial" "$f"`;

/** Prints the staged file's size and SHA-256 (busybox wc and sha256sum in the Vault image), nothing if there is none. */
export const CHECK_STAGED_SNAPSHOT_SCRIPT = `f="${STAGED_SNAPSHOT_FILE}"; if [ -f "$f" ]; then wc -c < "$f"; sha256sum "$f"; fi`;

export const DROP_STAGED_SNAPSHOT_SCRIPT = `rm -f "${STAGED_SNAPSHOT_FILE}" "${STAGED_SNAPSHOT_FILE}.partial"`;

/** What the restore script says, and its exit code, when its pod is not the active node (nothing was sent). */
export const NOT_ACTIVE_EXIT = 3;
export const NOT_ACTIVE_MESSAGE = "vault-ha: this Vault node is not the active one; nothing was sent";

/**
 * \`vault operator raft snapshot restore [-force] FILE\` of the staged file (command/operator_raft_snapshot_restore.go
 * os.Opens the path and streams it to Vault at 127.0.0.1). The first line of stdin is the token. The staged file is
 * removed when the script ends, whatever the outcome. $1: "-force" or "".
 *
 * Only on the active node: a standby answers the snapshot paths with a 307 to the active node (http/handler.go
 * alwaysRedirectPaths), which the CLI takes for success without anything restored (api/client.go follows one
 * redirect with a body already read; 307 is no error). The leadership can move during a long upload, so the pod
 * is asked again right before the call.
 */
export const RESTORE_STAGED_SNAPSHOT_SCRIPT = `set -eu
umask 077
f="${STAGED_SNAPSHOT_FILE}"
home=$(mktemp -d)
trap 'rm -rf "$home" "$f"' EXIT
IFS= read -r token
printf '%s' "$token" > "$home/.vault-token"
export VAULT_CLIENT_TIMEOUT=3600
if ! HOME="$home" vault status -format=json | grep -q '"is_self": true'; then
  echo "${NOT_ACTIVE_MESSAGE}" >&2
  exit ${NOT_ACTIVE_EXIT}
fi
if [ "$1" = -force ]; then
  HOME="$home" vault operator raft snapshot restore -force "$f"
else
  HOME="$home" vault operator raft snapshot restore "$f"
fi`;

/**
 * Where `vault operator init` writes its answer inside the pod first: $HOME is the chart's emptyDir, private to the
 * pod and kept across container restarts. If this process dies between Vault answering and the key file being on
 * the laptop's disk, the answer is still in the pod, and the next run takes it from there (INIT_SCRIPT, then
 * TAKE_STAGED_INIT_SCRIPT). It is removed as soon as the key file is written.
 */
export const STAGED_INIT_FILE = "$HOME/.vault-ha-init.json";

/**
 * Runs init into the staging file, then prints it. $1/$2: key shares and threshold. No clean-up trap: if the shell
 * is stopped while vault still writes, the ".partial" file is the only copy of the answer, and TAKE_STAGED_INIT
 * reads it too (a failed init leaves it without keys, which the reader ignores).
 */
export const INIT_SCRIPT = `set -eu
umask 077
f="${STAGED_INIT_FILE}"
vault operator init -key-shares="$1" -key-threshold="$2" -format=json > "$f.partial"
mv "$f.partial" "$f"
cat "$f"`;

/** Prints the staged answer if there is one, complete or not yet renamed (exit 0, empty output if none). */
export const TAKE_STAGED_INIT_SCRIPT = `f="${STAGED_INIT_FILE}"; for c in "$f" "$f.partial"; do if [ -s "$c" ]; then cat "$c"; exit 0; fi; done`;
export const DROP_STAGED_INIT_SCRIPT = `rm -f "${STAGED_INIT_FILE}" "${STAGED_INIT_FILE}.partial"`;

export class Kubectl implements KubectlRunner {
    private readonly kubeconfigFile: string;
    private readonly dir: string;

    /** The kubeconfig is written to a private temporary file (never passed as an argument) and removed by dispose(). */
    constructor(
        kubeconfig: string,
        private readonly callTimeoutMs = 120_000,
    ) {
        this.dir = privateFolder();
        this.kubeconfigFile = path.join(this.dir, "kubeconfig");
        fs.writeFileSync(this.kubeconfigFile, kubeconfig, { mode: 0o600 });
    }

    dispose(): void {
        releaseFolder(this.dir);
    }

    run(args: string[], stdin?: string): Promise<KubectlResult> {
        return new Promise((resolve, reject) => {
            const env = { ...process.env, KUBECONFIG: this.kubeconfigFile };
            const child = spawn("kubectl", args, { env, stdio: ["pipe", "pipe", "pipe"], timeout: this.callTimeoutMs });
            track(child);
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("error", (err) =>
                reject(
                    new Error((err as NodeJS.ErrnoException).code === "ENOENT" ? "kubectl was not found on PATH" : `kubectl failed to start: ${err.message}`),
                ),
            );
            child.on("close", (code, signal) =>
                resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\nkubectl ${args[0]} was stopped (${signal})` : stderr }),
            );
            child.stdin.on("error", () => undefined);
            child.stdin.end(stdin ?? "");
        });
    }

    background(args: string[]): BackgroundProcess {
        // No stdin (the kubeconfig is the file KUBECONFIG names, as for every call); tracked, so that the process's
        // exit and signal handlers stop it with the step (tempFolders.ts).
        const child = spawn("kubectl", args, { env: { ...process.env, KUBECONFIG: this.kubeconfigFile }, stdio: ["ignore", "pipe", "pipe"] });
        track(child);
        const feed = new LineFeed();
        let stderr = "";
        let printed = false;
        let silenced = false;
        // kubectl bounds its own waits (--pod-running-timeout, the API server's dial); this is the backstop for a
        // kubectl that hangs before printing anything.
        const silence = setTimeout(() => {
            if (printed) return;
            silenced = true;
            child.kill("SIGTERM");
        }, BACKGROUND_SILENCE_MS);
        silence.unref();
        child.stdout.on("data", (d) => {
            printed = true;
            feed.push(String(d));
        });
        child.stderr.on("data", (d) => (stderr += d));
        const exited = new Promise<{ code: number; stderr: string }>((resolve) => {
            child.on("error", (err) => {
                clearTimeout(silence);
                const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
                resolve({ code: 127, stderr: missing ? "kubectl was not found on PATH" : `kubectl failed to start: ${err.message}` });
            });
            child.on("close", (code, signal) => {
                clearTimeout(silence);
                const note = silenced ? `\nkubectl ${args[0]} printed nothing for ${BACKGROUND_SILENCE_MS / 1000}s and was stopped (${signal})` : "";
                resolve({ code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1), stderr: stderr + note });
            });
        });
        return {
            onLine: (listener) => feed.onLine(listener),
            exited,
            stop: async () => {
                if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
                await exited;
            },
        };
    }

    stream(args: string[], input: StreamInput, outputFile?: string): Promise<{ code: number; stderr: string }> {
        // An hour at most: a stalled exec must not hang a snapshot, a restore or the roll for ever.
        const child = spawn("kubectl", args, { env: { ...process.env, KUBECONFIG: this.kubeconfigFile }, stdio: ["pipe", "pipe", "pipe"], timeout: 3_600_000 });
        track(child);
        return streamChild(child, input, outputFile);
    }
}

/** Streams a call's stdin from `input` and its stdout into `outputFile`, for Kubectl.stream. */
export function streamChild(
    child: import("child_process").ChildProcessWithoutNullStreams,
    input: StreamInput,
    outputFile?: string,
): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve, reject) => {
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        const out = outputFile ? fs.createWriteStream(outputFile, { mode: 0o600, flags: "wx" }) : undefined;
        // Only a file this call created is removed on failure: never one that was there before (flags "wx").
        let created = false;
        out?.on("open", () => (created = true));
        let total = 0;
        const count = (chunk: Buffer) => {
            total += chunk.length;
            input.onBytes?.(total);
        };
        if (out) {
            child.stdout.on("data", count);
            child.stdout.pipe(out);
        } else {
            child.stdout.resume();
        }
        const written = out ? new Promise<void>((done) => out.on("close", () => done())) : Promise.resolve();
        // A file that cannot be written (it exists, the disk is full) stops the call instead of crashing the process.
        out?.on("error", (err) => {
            child.kill("SIGTERM");
            reject(new Error(`could not write ${outputFile}: ${err.message}`));
        });
        child.on("error", (err) => reject(err));
        child.on("close", (code, signal) => {
            void written.then(() => {
                const result = { code: code ?? (signal ? 128 : 1), stderr };
                if (result.code !== 0 && outputFile && created) fs.rmSync(outputFile, { force: true });
                resolve(result);
            });
        });
        child.stdin.on("error", () => undefined);
        child.stdin.write(input.text);
        if (input.file) {
            const source = fs.createReadStream(input.file);
            source.on("error", (err) => {
                child.kill("SIGTERM");
                reject(new Error(`could not read ${input.file}: ${err.message}`));
            });
            source.on("data", (chunk) => count(chunk as Buffer));
            source.pipe(child.stdin);
        } else {
            child.stdin.end();
        }
    });
}

export interface KubectlOpsOptions {
    namespace: string;
    /** Helm release name: pods are <release>-0..N-1 and carry app.kubernetes.io/instance=<release>. */
    release: string;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- these read JSON whose shape kubectl and Vault define */

/** `kubectl get pods -o json` -> what the bootstrap needs to know of each pod. */
export function parsePodList(json: string): PodInfo[] {
    const list = JSON.parse(json) as { items: any[] };
    return list.items.map((pod) => {
        const container = (pod.status?.containerStatuses ?? []).find((c: { name: string }) => c.name === "vault");
        const unscheduled = (pod.status?.conditions ?? []).find((c: { type: string; status: string }) => c.type === "PodScheduled" && c.status === "False");
        const waiting = container?.state?.waiting;
        const spec = (pod.spec?.containers ?? []).find((c: { name: string }) => c.name === "vault");
        return {
            name: pod.metadata.name,
            uid: pod.metadata.uid,
            phase: pod.status?.phase ?? "Unknown",
            running: Boolean(container?.state?.running),
            startedAt: container?.state?.running?.startedAt,
            reason: waiting
                ? `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`
                : unscheduled
                  ? `${unscheduled.reason}: ${unscheduled.message}`
                  : undefined,
            // The StatefulSet controller labels each pod with the revision it was made from (apps/v1
            // ControllerRevisionHashLabelKey; pkg/controller/statefulset/stateful_set_utils.go setPodRevision).
            revision: pod.metadata.labels?.["controller-revision-hash"],
            image: spec?.image,
            secretVolumes: (pod.spec?.volumes ?? []).filter((v: any) => v.secret?.secretName).map((v: any) => v.secret.secretName as string),
            terminating: Boolean(pod.metadata.deletionTimestamp),
        };
    });
}

/** `kubectl get statefulset NAME -o json` */
/** `kubectl get pvc -o json`: each claim's name, and whether it is being deleted. */
export function parseClaimList(json: string): ClaimInfo[] {
    const list = JSON.parse(json) as { items?: Array<{ metadata?: { name?: string; deletionTimestamp?: string } }> };
    return (list.items ?? []).map((item) => ({ name: item.metadata?.name ?? "", terminating: Boolean(item.metadata?.deletionTimestamp) }));
}

export function parseStatefulSet(json: string): StatefulSetInfo {
    const sts = JSON.parse(json);
    return {
        generation: Number(sts.metadata?.generation ?? 0),
        observedGeneration: Number(sts.status?.observedGeneration ?? 0),
        updateRevision: String(sts.status?.updateRevision ?? ""),
        currentRevision: String(sts.status?.currentRevision ?? ""),
        replicas: Number(sts.spec?.replicas ?? 0),
        ...(dataClaimOf(sts) ? { dataClaim: dataClaimOf(sts) } : {}),
        ...(antiAffinityOf(sts) ? { antiAffinity: antiAffinityOf(sts) } : {}),
    };
}

/** The pod template's podAntiAffinity: required when it has a required term, preferred when only preferred ones. */
function antiAffinityOf(sts: any): "required" | "preferred" | undefined {
    const anti = sts.spec?.template?.spec?.affinity?.podAntiAffinity;
    if ((anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []).length > 0) return "required";
    if ((anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []).length > 0) return "preferred";
    return undefined;
}

/** The "data" claim template of a StatefulSet's JSON (vault-helm templates/_helpers.tpl vault.volumeclaims). */
function dataClaimOf(sts: any): DataClaim | undefined {
    const claim = (sts.spec?.volumeClaimTemplates ?? []).find((c: any) => c?.metadata?.name === "data");
    if (!claim) return undefined;
    const storage = claim.spec?.resources?.requests?.storage;
    const storageClassName = claim.spec?.storageClassName;
    return { ...(storage !== undefined ? { storage: String(storage) } : {}), ...(storageClassName ? { storageClassName: String(storageClassName) } : {}) };
}

/**
 * `vault operator raft autopilot state -format=json`: the Go field names the CLI prints (see AutopilotState); the
 * snake_case names of the HTTP API are read too, should a later CLI add json tags.
 */
export function parseAutopilotState(json: string): AutopilotState {
    const s = JSON.parse(json);
    const pick = (o: any, goName: string, apiName: string) => (o?.[goName] !== undefined ? o[goName] : o?.[apiName]);
    const healthy = pick(s, "Healthy", "healthy");
    if (typeof healthy !== "boolean") throw new Error("not an autopilot state");
    const servers = (pick(s, "Servers", "servers") ?? {}) as Record<string, any>;
    return {
        healthy,
        failureTolerance: Number(pick(s, "FailureTolerance", "failure_tolerance") ?? 0),
        servers: Object.entries(servers).map(([id, srv]) => ({
            id: String(pick(srv, "ID", "id") ?? id),
            healthy: Boolean(pick(srv, "Healthy", "healthy")),
            status: String(pick(srv, "Status", "status") ?? ""),
        })),
    };
}

/**
 * `active_time` (RFC 3339, Go's time.Time): ms since the epoch, or undefined for Go's zero time (0001-01-01, what a
 * standby or a sealed node prints: command/format.go shows "Active Since" only when it is not zero) or no value.
 */
function activeTimeOf(value: unknown): number | undefined {
    const ms = typeof value === "string" ? Date.parse(value) : NaN;
    return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** `vault status -format=json` */
export function parseSealStatus(json: string): SealStatus {
    const s = JSON.parse(json);
    if (typeof s?.initialized !== "boolean" || typeof s?.sealed !== "boolean") throw new Error("not a seal status");
    return {
        initialized: s.initialized,
        sealed: s.sealed,
        t: Number(s.t ?? 0),
        progress: Number(s.progress ?? 0),
        isSelf: Boolean(s.is_self),
        leaderAddress: typeof s.leader_address === "string" ? s.leader_address : "",
        activeTime: activeTimeOf(s.active_time),
        version: typeof s.version === "string" ? s.version : undefined,
        clusterId: typeof s.cluster_id === "string" && s.cluster_id ? s.cluster_id : undefined,
        raftCommittedIndex: typeof s.raft_committed_index === "number" ? s.raft_committed_index : undefined,
        raftAppliedIndex: typeof s.raft_applied_index === "number" ? s.raft_applied_index : undefined,
        removedFromCluster: s.removed_from_cluster === true,
    };
}

/** `vault operator raft list-peers -format=json` */
export function parseRaftPeers(json: string): RaftPeer[] {
    const servers = JSON.parse(json)?.data?.config?.servers as any[] | undefined;
    return (servers ?? []).map((s) => ({ node_id: s.node_id, address: s.address, leader: Boolean(s.leader), voter: Boolean(s.voter) }));
}

/* eslint-enable @typescript-eslint/no-explicit-any */

/** The error for a failed call: VaultUnavailable when waiting can help, VaultRefused when it cannot (failures.ts). */
export function failureOf(what: string, result: KubectlResult): VaultUnavailable | VaultRefused {
    const failure = classifyFailure(result);
    const message = `${what}: ${failure.summary}`;
    return failure.kind === "transient" ? new VaultUnavailable(message) : new VaultRefused(message, failure.kind);
}

export class KubectlVaultOps implements VaultOps {
    /** Progress of streamed snapshots: the running byte count (see components/backup/snapshot.ts). */
    onBytes?: (total: number) => void;

    constructor(
        private readonly kubectl: KubectlRunner,
        private readonly options: KubectlOpsOptions,
    ) {}

    private exec(pod: string, command: string[], stdin?: string): Promise<KubectlResult> {
        const interactive = stdin === undefined ? [] : ["-i"];
        return this.kubectl.run(["exec", ...interactive, "-n", this.options.namespace, pod, "-c", "vault", "--", ...command], stdin);
    }

    async listPods(): Promise<PodInfo[]> {
        const selector = `app.kubernetes.io/instance=${this.options.release},component=server`;
        const result = await this.kubectl.run(["get", "pods", "-n", this.options.namespace, "-l", selector, "-o", "json"]);
        if (result.code !== 0) throw failureOf("kubectl get pods", result);
        return parsePodList(result.stdout);
    }

    async status(pod: string): Promise<SealStatus> {
        // Exit codes (command/status.go): 0 unsealed, 2 sealed (both print the status), 1 error.
        const result = await this.exec(pod, ["vault", "status", "-format=json"]);
        if (result.code === 0 || result.code === 2) {
            try {
                return parseSealStatus(result.stdout);
            } catch {
                // Fall through: exit 2 without a status is an error of kubectl or the pod, not a sealed Vault.
            }
        }
        throw failureOf(`vault status on ${pod}`, result);
    }

    async init(pod: string, shares: number, threshold: number): Promise<InitResponse> {
        const result = await this.exec(pod, ["sh", "-c", INIT_SCRIPT, "vault-ha-init", String(shares), String(threshold)]);
        if (result.code !== 0) throw failureOf(`vault operator init on ${pod}`, result);
        try {
            return JSON.parse(result.stdout) as InitResponse;
        } catch {
            // Never quote the output: it may be part of the keys. The staged copy in the pod is complete.
            throw new VaultUnavailable(`vault operator init on ${pod} printed something other than its JSON answer`);
        }
    }

    async takeStagedInit(pod: string): Promise<InitResponse | undefined> {
        const result = await this.exec(pod, ["sh", "-c", TAKE_STAGED_INIT_SCRIPT]);
        if (result.code !== 0) throw failureOf(`reading the staged init answer in ${pod}`, result);
        if (result.stdout.trim() === "") return undefined;
        try {
            const answer = JSON.parse(result.stdout) as InitResponse;
            // Only a whole answer counts: one still being written, or a failed init's, has no keys yet.
            return Array.isArray(answer.unseal_keys_b64) && answer.unseal_keys_b64.length > 0 && answer.root_token ? answer : undefined;
        } catch {
            return undefined;
        }
    }

    async dropStagedInit(pod: string): Promise<void> {
        const result = await this.exec(pod, ["sh", "-c", DROP_STAGED_INIT_SCRIPT]);
        if (result.code !== 0) throw failureOf(`removing the staged init answer in ${pod}`, result);
    }

    async submitUnsealKey(pod: string, key: string): Promise<void> {
        const result = await this.exec(pod, ["vault", "write", "-format=json", "sys/unseal", "key=-"], key);
        if (result.code !== 0) throw failureOf(`unseal of ${pod}`, result);
    }

    async resetUnseal(pod: string): Promise<void> {
        const result = await this.exec(pod, ["vault", "operator", "unseal", "-reset", "-format=json"]);
        // Prints the status afterwards: exit 2 means "still sealed", which is the point of a reset.
        if (result.code !== 0 && !(result.code === 2 && result.stdout.trim().startsWith("{"))) throw failureOf(`unseal reset of ${pod}`, result);
    }

    async join(pod: string, target: JoinTarget): Promise<void> {
        // Flags before the address: the CLI parses flags with Go's flag package, which stops at the first argument.
        const ca = target.leaderCaCertFile ? [`-leader-ca-cert=@${target.leaderCaCertFile}`] : [];
        const result = await this.exec(pod, ["vault", "operator", "raft", "join", ...ca, target.leaderApiAddr]);
        if (result.code === 0) return;
        // The API says only "failed to get raft challenge" (vault/raft.go join() returns that and logs each leader's
        // error): the cause, a standby without an active node or a certificate that does not verify, is in the log.
        const cause = /failed to get raft challenge/.test(result.stderr) ? await this.lastLogLine(pod, /failed to get raft challenge/) : undefined;
        throw failureOf(
            `raft join of ${pod} to ${target.leaderApiAddr}`,
            cause ? { ...result, stderr: `${result.stderr}\n* (${pod}'s log) ${cause}` } : result,
        );
    }

    /**
     * The last entry of the pod's vault container log that matches, if kubectl can read it, with its continuation
     * lines: go-hclog writes a value that has newlines (a nested API error) on the lines after the entry, each
     * prefixed with "  | " (intlogger.go). One line comes back, the continuation joined with " ".
     */
    private async lastLogLine(pod: string, pattern: RegExp): Promise<string | undefined> {
        const logs = await this.kubectl.run(["logs", "-n", this.options.namespace, pod, "-c", "vault", "--tail=50"]);
        if (logs.code !== 0) return undefined;
        const lines = logs.stdout.split("\n");
        let start = -1;
        lines.forEach((line, i) => {
            if (pattern.test(line)) start = i;
        });
        if (start < 0) return undefined;
        const entry = [lines[start].trim()];
        for (let i = start + 1; i < lines.length && /^\s+(\||\w+=$)/.test(lines[i]); i++) {
            const text = lines[i].replace(/^\s+\|\s?/, "").trim();
            if (text) entry.push(text);
        }
        return entry.join(" ");
    }

    async removeRaftPeer(pod: string, token: string, nodeId: string): Promise<void> {
        const result = await this.exec(pod, ["sh", "-c", REMOVE_PEER_SCRIPT, "vault-ha-remove-peer", nodeId], token);
        if (result.code !== 0) throw failureOf(`raft remove-peer ${nodeId} on ${pod}`, result);
    }

    async statefulSet(): Promise<StatefulSetInfo> {
        const result = await this.kubectl.run(["get", "statefulset", this.options.release, "-n", this.options.namespace, "-o", "json"]);
        if (result.code !== 0) throw failureOf(`kubectl get statefulset ${this.options.release}`, result);
        return parseStatefulSet(result.stdout);
    }

    async listClaims(): Promise<ClaimInfo[]> {
        const result = await this.kubectl.run(["get", "pvc", "-n", this.options.namespace, "-o", "json"]);
        if (result.code !== 0) throw failureOf("kubectl get pvc", result);
        return parseClaimList(result.stdout);
    }

    async deleteClaim(name: string): Promise<void> {
        // --wait=false: a claim a pod still uses stays until that pod is gone (the pvc-protection finalizer); the
        // callers delete claims only of pods that are gone, and never wait on kubectl's own clock.
        const result = await this.kubectl.run(["delete", "pvc", name, "-n", this.options.namespace, "--wait=false", "--ignore-not-found=true"]);
        if (result.code !== 0) throw failureOf(`kubectl delete pvc ${name}`, result);
    }

    async deletePod(pod: string): Promise<void> {
        // --wait=false: the roll waits for the new pod itself, with its own deadline and message. A pod already gone
        // (an earlier run deleted it) is not an error.
        const result = await this.kubectl.run(["delete", "pod", pod, "-n", this.options.namespace, "--wait=false", "--ignore-not-found=true"]);
        if (result.code !== 0) throw failureOf(`kubectl delete pod ${pod}`, result);
    }

    async stepDown(pod: string, token: string): Promise<void> {
        const result = await this.exec(pod, ["sh", "-c", STEP_DOWN_SCRIPT], token);
        if (result.code !== 0) throw failureOf(`vault operator step-down on ${pod}`, result);
    }

    async autopilotState(pod: string, token: string): Promise<AutopilotState> {
        const result = await this.exec(pod, ["sh", "-c", AUTOPILOT_STATE_SCRIPT], token);
        if (result.code !== 0) throw failureOf(`raft autopilot state on ${pod}`, result);
        try {
            return parseAutopilotState(result.stdout);
        } catch {
            // 404 (autopilot not running) prints nothing and exits 0 (api/sys_raft.go RaftAutopilotStateWithContext).
            throw new VaultUnavailable(`raft autopilot state on ${pod} printed no state (autopilot not running yet)`);
        }
    }

    async saveSnapshot(pod: string, token: string, file: string): Promise<void> {
        const args = ["exec", "-i", "-n", this.options.namespace, pod, "-c", "vault", "--", "sh", "-c", SNAPSHOT_SAVE_SCRIPT];
        const result = await this.kubectl.stream(args, { text: `${token}\n`, onBytes: this.onBytes }, file);
        if (result.code !== 0) throw failureOf(`raft snapshot save on ${pod}`, { code: result.code, stdout: "", stderr: result.stderr });
    }

    async stageSnapshot(pod: string, file: string): Promise<void> {
        const args = ["exec", "-i", "-n", this.options.namespace, pod, "-c", "vault", "--", "sh", "-c", STAGE_SNAPSHOT_SCRIPT];
        const result = await this.kubectl.stream(args, { text: "", file, onBytes: this.onBytes });
        if (result.code !== 0) throw failureOf(`uploading the snapshot to ${pod}`, { code: result.code, stdout: "", stderr: result.stderr });
    }

    async stagedSnapshot(pod: string): Promise<{ bytes: number; sha256: string } | undefined> {
        const result = await this.exec(pod, ["sh", "-c", CHECK_STAGED_SNAPSHOT_SCRIPT]);
        if (result.code !== 0) throw failureOf(`checking the snapshot uploaded to ${pod}`, result);
        const m = /^\s*(\d+)\s*\n([0-9a-f]{64})\b/.exec(result.stdout);
        return m ? { bytes: Number(m[1]), sha256: m[2] } : undefined;
    }

    async dropStagedSnapshot(pod: string): Promise<void> {
        const result = await this.exec(pod, ["sh", "-c", DROP_STAGED_SNAPSHOT_SCRIPT]);
        if (result.code !== 0) throw failureOf(`removing the snapshot uploaded to ${pod}`, result);
    }

    async restoreLog(pod: string, since: Date): Promise<string[]> {
        // RFC3339 without fractions, rounded down: kubectl's --since-time (the kubelet compares each line's own time).
        const at = new Date(Math.floor(since.getTime() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
        const result = await this.kubectl.run(["logs", "-n", this.options.namespace, pod, "-c", "vault", `--since-time=${at}`]);
        if (result.code !== 0) throw failureOf(`kubectl logs ${pod}`, result);
        return result.stdout.split("\n").filter((l) => l !== "");
    }

    async restoreStagedSnapshot(pod: string, token: string, force: boolean): Promise<"sent" | "not-active"> {
        const result = await this.exec(pod, ["sh", "-c", RESTORE_STAGED_SNAPSHOT_SCRIPT, "vault-ha-restore", force ? "-force" : ""], `${token}\n`);
        if (result.code === 0) return "sent";
        if (result.code === NOT_ACTIVE_EXIT && result.stderr.includes(NOT_ACTIVE_MESSAGE)) return "not-active";
        const error = failureOf(`raft snapshot restore on ${pod}`, result);
        // An answer with an HTTP status is Vault's: the handler stores the whole upload before it answers, and every
        // error up to there comes before the restore starts (vault/logical_system_raft.go
        // handleStorageRaftSnapshotWrite): nothing was restored. Only a lost answer leaves it open.
        if (classifyFailure(result).status !== undefined && error instanceof VaultUnavailable) throw new VaultRefused(error.message);
        throw error;
    }

    async raftPeers(pod: string, token: string): Promise<RaftPeer[]> {
        const result = await this.exec(pod, ["sh", "-c", LIST_PEERS_SCRIPT], token);
        if (result.code !== 0) throw failureOf(`raft list-peers on ${pod}`, result);
        return parseRaftPeers(result.stdout);
    }
}
