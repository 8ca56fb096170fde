/**
 * VaultOps through `kubectl`: `kubectl exec` into the Vault pods, the path a person takes by hand. The process is
 * kubectlProcess.ts, the scripts sent into the pods vaultScripts.ts, the reading of their output vaultOutput.ts.
 *
 * Secrets never reach an argv, host or pod: unseal keys go to `vault write sys/unseal key=-` on stdin (with migrate,
 * the whole JSON body to `vault write sys/unseal -`), and the root token goes on stdin into a throwaway
 * $HOME/.vault-token that the Vault CLI reads (an environment variable would be visible in the process table of the
 * pod).
 */
import { classifyFailure } from "./failures";
import type { KubectlResult, KubectlRunner } from "./kubectlProcess";
import { parseAutopilotState, parseClaimList, parsePodList, parseRaftPeers, parseSealStatus, parseStatefulSet } from "./vaultOutput";
import {
    AUTOPILOT_STATE_SCRIPT,
    CHECK_STAGED_SNAPSHOT_SCRIPT,
    DROP_STAGED_INIT_SCRIPT,
    DROP_STAGED_SNAPSHOT_SCRIPT,
    INIT_RECOVERY_SCRIPT,
    INIT_SCRIPT,
    LIST_PEERS_SCRIPT,
    NOT_ACTIVE_EXIT,
    NOT_ACTIVE_MESSAGE,
    REMOVE_PEER_SCRIPT,
    RESTORE_STAGED_SNAPSHOT_SCRIPT,
    SNAPSHOT_SAVE_SCRIPT,
    STAGE_SNAPSHOT_SCRIPT,
    STEP_DOWN_SCRIPT,
    TAKE_STAGED_INIT_SCRIPT,
} from "./vaultScripts";
import {
    AutopilotState,
    ClaimInfo,
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

export * from "./kubectlProcess";
export * from "./vaultScripts";
export * from "./vaultOutput";

export interface KubectlOpsOptions {
    namespace: string;
    /** Helm release name: pods are <release>-0..N-1 and carry app.kubernetes.io/instance=<release>. */
    release: string;
}

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

    async init(pod: string, shares: number, threshold: number, recovery = false): Promise<InitResponse> {
        const script = recovery ? INIT_RECOVERY_SCRIPT : INIT_SCRIPT;
        const result = await this.exec(pod, ["sh", "-c", script, "vault-ha-init", String(shares), String(threshold)]);
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
            // Only a whole answer counts: one still being written, or a failed init's, has no keys yet (unseal keys, or
            // with an auto seal recovery keys).
            const keys = [
                ...(Array.isArray(answer.unseal_keys_b64) ? answer.unseal_keys_b64 : []),
                ...(Array.isArray(answer.recovery_keys_b64) ? answer.recovery_keys_b64 : []),
            ];
            return Array.isArray(answer.unseal_keys_b64) && keys.length > 0 && answer.root_token ? answer : undefined;
        } catch {
            return undefined;
        }
    }

    async dropStagedInit(pod: string): Promise<void> {
        const result = await this.exec(pod, ["sh", "-c", DROP_STAGED_INIT_SCRIPT]);
        if (result.code !== 0) throw failureOf(`removing the staged init answer in ${pod}`, result);
    }

    async submitUnsealKey(pod: string, key: string, migrate = false): Promise<void> {
        // `migrate=true` as an argument would reach Vault as the string "true", which sys/unseal's UnsealRequest (Migrate
        // bool, http/sys_seal.go) cannot decode: 400. A lone "-" makes the CLI read the whole body as JSON from stdin
        // (kvbuilder addReader), so the boolean stays a boolean and the key stays off the command line.
        const result = migrate
            ? await this.exec(pod, ["vault", "write", "-format=json", "sys/unseal", "-"], JSON.stringify({ key, migrate: true }))
            : await this.exec(pod, ["vault", "write", "-format=json", "sys/unseal", "key=-"], key);
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

    async serverConfig(): Promise<string | undefined> {
        // The chart's ConfigMap (vault-helm templates/server-config-configmap.yaml), absent before the first install.
        const name = `${this.options.release}-config`;
        const result = await this.kubectl.run(["get", "configmap", name, "-n", this.options.namespace, "-o", "json", "--ignore-not-found"]);
        if (result.code !== 0) throw failureOf(`kubectl get configmap ${name}`, result);
        if (!result.stdout.trim()) return undefined;
        const data = JSON.parse(result.stdout)?.data ?? {};
        return typeof data["extraconfig-from-values.hcl"] === "string" ? data["extraconfig-from-values.hcl"] : undefined;
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

    async vaultLog(pod: string, previous: boolean): Promise<string[]> {
        const result = await this.kubectl.run(["logs", "-n", this.options.namespace, pod, "-c", "vault", "--tail=100", ...(previous ? ["--previous"] : [])]);
        if (result.code !== 0) throw failureOf(`kubectl logs ${previous ? "--previous " : ""}${pod}`, result);
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
