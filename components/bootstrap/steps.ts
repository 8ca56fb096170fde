/**
 * The bootstrap steps: wait for the pods, init the leader, unseal it, join and unseal the followers, verify raft.
 * Every step checks before it acts, so it can run again at any time and only does what is still missing.
 * Waiting is always polling a condition with a deadline; a timeout says what was awaited and what was seen last.
 */
import type { Clock } from "./clock";
import { readKeyFile, retireKeyFile, writeKeyFile } from "./keyFile";
import { InitResponse, JoinTarget, PodInfo, RaftPeer, SealStatus, VaultOps, VaultRefused, VaultUnavailable } from "./vaultOps";

/** A failure whose message is meant for the user: what went wrong and what to do. */
export class StepError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StepError";
    }
}

export interface PollContext {
    log(message: string): void;
    /** How long one step may wait for a condition. */
    timeoutMs: number;
    /** Time between two polls of a condition; at most 2 s. */
    pollMs: number;
    clock: Clock;
}

export interface StepContext extends PollContext {
    ops: VaultOps;
    /** Told about every secret as soon as it exists, so that nothing printed afterwards can contain it. */
    onSecret?(...values: string[]): void;
}

export const MAX_POLL_MS = 2000;

export function podNames(release: string, replicas: number): string[] {
    return Array.from({ length: replicas }, (_, i) => `${release}-${i}`);
}

/**
 * Calls `attempt` until it returns a value. VaultUnavailable means "not yet" and is retried; anything else fails at
 * once. The first attempt is immediate: nothing waits unless the condition is unmet.
 */
export async function pollUntil<T>(ctx: PollContext, what: string, attempt: () => Promise<T | undefined>, lastSeen: () => string): Promise<T> {
    const started = ctx.clock.now();
    const interval = Math.min(ctx.pollMs, MAX_POLL_MS);
    for (;;) {
        let unavailable: string;
        try {
            const value = await attempt();
            if (value !== undefined) return value;
            unavailable = "";
        } catch (err) {
            if (!(err instanceof VaultUnavailable)) throw err;
            unavailable = err.message;
        }
        const elapsed = ctx.clock.now() - started;
        if (elapsed + interval > ctx.timeoutMs) {
            const seen = unavailable || lastSeen();
            throw new StepError(`timed out after ${Math.round(elapsed / 1000)}s waiting for ${what}${seen ? `; last seen: ${seen}` : ""}`);
        }
        await ctx.clock.sleep(interval);
    }
}

function describePods(expected: string[], pods: PodInfo[]): string {
    return expected
        .map((name) => {
            const pod = pods.find((p) => p.name === name);
            if (!pod) return `${name} not created yet`;
            return `${name} ${pod.running ? "Running" : pod.phase}${pod.reason && !pod.running ? ` (${pod.reason})` : ""}`;
        })
        .join(", ");
}

/** Step 1: the pods exist and their vault container runs. Not Ready: a sealed Vault never is. */
export async function waitForPods(ctx: StepContext, expected: string[]): Promise<PodInfo[]> {
    let seen: PodInfo[] = [];
    const pods = await pollUntil(
        ctx,
        `the Vault pods ${expected.join(", ")} to be Running`,
        async () => {
            seen = await ctx.ops.listPods();
            return expected.every((name) => seen.find((p) => p.name === name)?.running) ? seen : undefined;
        },
        () => describePods(expected, seen),
    );
    ctx.log(`pods running: ${expected.join(", ")}`);
    return pods;
}

/**
 * A pod's incarnation: it changes exactly when the pod is recreated or its container restarts, which is exactly when
 * Vault comes back sealed. The unseal steps use it as their trigger.
 */
export function podIdentity(pod: PodInfo | undefined): string {
    if (!pod) return "absent";
    return pod.running ? `pod ${pod.uid} started ${pod.startedAt ?? "?"}` : `pod ${pod.uid} not running`;
}

export async function podIdentities(ctx: StepContext, expected: string[]): Promise<Record<string, string>> {
    const pods = await ctx.ops.listPods();
    return Object.fromEntries(expected.map((name) => [name, podIdentity(pods.find((p) => p.name === name))]));
}

/** Polls `vault status` until the pod's Vault API answers (its container may still be starting). */
export async function waitForApi(ctx: StepContext, pod: string): Promise<SealStatus> {
    try {
        return await pollUntil(ctx, `the Vault API in ${pod} to answer`, () => ctx.ops.status(pod), () => "");
    } catch (err) {
        if (err instanceof VaultRefused && err.kind === "tls") {
            throw new StepError(`the Vault CLI in ${pod} cannot verify Vault's certificate with the CA in VAULT_CACERT (${err.message}); check the certificate's names and the mounted CA`);
        }
        if (err instanceof VaultRefused) throw new StepError(`vault status failed in ${pod}: ${err.message}`);
        throw err;
    }
}

export interface Keys {
    unsealKeys: string[];
    rootToken: string;
}

export interface InitParams {
    leader: string;
    shares: number;
    threshold: number;
    keyFile: string;
    /** Keys handed in through config (vault-ha:unsealKeys / vault-ha:rootToken) for an already initialised Vault. */
    adopted?: Keys;
}

export interface InitResult extends Keys {
    source: "vault-init" | "key-file" | "config";
}

const toKeys = (r: InitResponse): Keys => ({ unsealKeys: r.unseal_keys_b64, rootToken: r.root_token });

/**
 * Step 2: initialise the leader, once. The response is on disk before anything else happens to it; a re-run reuses
 * it. An initialised Vault without known keys is a stop, never a re-init over its data.
 */
export async function initLeader(ctx: StepContext, p: InitParams): Promise<InitResult> {
    const status = await waitForApi(ctx, p.leader);

    if (p.adopted) {
        if (!status.initialized) {
            throw new StepError(
                `vault-ha:unsealKeys and vault-ha:rootToken are set, but ${p.leader} is not initialised, so they cannot belong to this cluster. ` +
                    `To initialise a new cluster, remove them: pulumi config rm vault-ha:unsealKeys && pulumi config rm vault-ha:rootToken`,
            );
        }
        ctx.log(`${p.leader} is initialised; using the unseal keys and root token from config (adoption)`);
        return { ...p.adopted, source: "config" };
    }

    const saved = readKeyFile(p.keyFile);
    if (status.initialized) {
        if (!saved) {
            throw new StepError(
                `${p.leader} is already initialised, but vault-ha has no unseal keys for it (no ${p.keyFile}, no vault-ha:unsealKeys in config). ` +
                    `It will not initialise again over existing data. If you have the keys, hand them in and run pulumi up again: ` +
                    `pulumi config set --secret vault-ha:unsealKeys '["<key 1>","<key 2>","<key 3>"]' && pulumi config set --secret vault-ha:rootToken <root token>. ` +
                    `If the data is disposable, start over: npm run down && npm run up`,
            );
        }
        if (saved.unseal_keys_b64.length !== p.shares) {
            ctx.log(`note: Vault was initialised with ${saved.unseal_keys_b64.length} key shares, config now says ${p.shares}; vault-ha does not rekey (use vault operator rekey)`);
        }
        ctx.log(`${p.leader} is initialised; reusing the unseal keys saved in ${p.keyFile}`);
        return { ...toKeys(saved), source: "key-file" };
    }

    if (saved) {
        const aside = retireKeyFile(p.keyFile);
        ctx.log(`found keys of an earlier cluster in ${p.keyFile}, but ${p.leader} is not initialised: moved them to ${aside}`);
    }
    const response = await pollUntil(ctx, `${p.leader} to answer vault operator init`, async () => {
        try {
            return await ctx.ops.init(p.leader, p.shares, p.threshold);
        } catch (err) {
            if (err instanceof VaultRefused) throw new StepError(`Vault refused to initialise: ${err.message}`);
            // The request may have reached Vault even though no answer came back. Initialising again would fail
            // anyway ("already initialized"); what matters is to say that the keys went with the lost answer.
            const now = await ctx.ops.status(p.leader);
            if (now.initialized) {
                throw new StepError(
                    `${p.leader} was initialised, but its answer (the unseal keys) was lost on the way: ${(err as Error).message}. ` +
                        `Without the keys this Vault can never be unsealed; its data is new and empty, so start over: npm run down && npm run up`,
                );
            }
            throw err;
        }
    }, () => "");
    ctx.onSecret?.(...response.unseal_keys_b64, response.root_token);
    // Nothing happens to the keys before they are safely on disk.
    try {
        writeKeyFile(p.keyFile, response);
        ctx.log(`initialised ${p.leader} (${p.shares} key shares, threshold ${p.threshold}); keys saved to ${p.keyFile} (mode 0600)`);
    } catch (err) {
        // Failing now would lose the keys for certain. Succeeding hands them to Pulumi, which keeps them, encrypted,
        // in the state (this step's stdout is a secret output that is never logged).
        ctx.log(
            `WARNING: initialised ${p.leader} but could not save the keys to ${p.keyFile} (${(err as Error).message}). ` +
                `They are kept only in the Pulumi state: back them up now with pulumi stack output unsealKeys --show-secrets`,
        );
    }
    return { ...toKeys(response), source: "vault-init" };
}

export type UnsealOutcome = "unsealed" | "already-unsealed";

async function unsealFrom(ctx: StepContext, pod: string, status: SealStatus, keys: string[], threshold: number): Promise<UnsealOutcome> {
    if (!status.sealed) {
        ctx.log(`${pod} is already unsealed`);
        return "already-unsealed";
    }
    // The node's own threshold wins over config: after adopting keys or a rekey the two can differ.
    const needed = status.t > 0 ? status.t : threshold;
    if (keys.length < needed) {
        throw new StepError(`${pod} needs ${needed} unseal keys but vault-ha has ${keys.length}; hand in more with pulumi config set --secret vault-ha:unsealKeys '[...]'`);
    }
    let last = "";
    let submitted = false;
    await pollUntil(
        ctx,
        `${pod} to accept ${needed} unseal keys`,
        async () => {
            const now = submitted ? await ctx.ops.status(pod) : status;
            if (!now.sealed) return true;
            if (now.progress > 0) {
                // Someone (or an interrupted run, or a submission that failed half-way) left part of a key set:
                // start from zero so that our keys are counted.
                await ctx.ops.resetUnseal(pod);
                ctx.log(`${pod}: discarded a half-finished unseal (${now.progress}/${needed})`);
            }
            submitted = true;
            try {
                // Key shares combine in any order, so they are submitted together rather than one round trip at a time.
                await Promise.all(keys.slice(0, needed).map((key) => ctx.ops.submitUnsealKey(pod, key)));
            } catch (err) {
                if (err instanceof VaultRefused) {
                    throw new StepError(
                        `${pod} rejected the unseal keys (${err.message}): they do not belong to this Vault cluster. ` +
                            `Check the keys in vault-ha:unsealKeys or in the saved key file`,
                    );
                }
                // A joined follower's last key sends the challenge answer to the active node, which can fail while
                // that node changes (vault/core.go unsealWithRaft): submit the set again after a pause.
                last = (err as Error).message;
                throw err;
            }
            return true;
        },
        () => last,
    );
    // `vault write sys/unseal` can return while still sealed (a follower finishes unsealing once it has the leader's
    // snapshot): only the status tells.
    await pollUntil(
        ctx,
        `${pod} to report sealed: false after ${needed} unseal keys`,
        async () => {
            const now = await ctx.ops.status(pod);
            last = `sealed, progress ${now.progress}/${now.t}`;
            return now.sealed ? undefined : now;
        },
        () => last,
    );
    ctx.log(`${pod} unsealed`);
    return "unsealed";
}

/** Step 3: unseal an initialised pod (the leader), or do nothing if it already is. */
export async function unsealPod(ctx: StepContext, pod: string, keys: string[], threshold: number): Promise<UnsealOutcome> {
    const status = await waitForApi(ctx, pod);
    if (!status.initialized) throw new StepError(`${pod} is not initialised; the init step must run first`);
    return unsealFrom(ctx, pod, status, keys, threshold);
}

/**
 * Waits until `leader` is unsealed and the cluster has an active node. An unsealed node is a standby until raft elects
 * a leader; until then the challenge a joining node asks for answers 500 "local node not active but active cluster
 * node not found" (http/sys_raft.go, hashicorp/vault#22063).
 */
export async function waitForActiveNode(ctx: StepContext, leader: string): Promise<SealStatus> {
    let last = "";
    const status = await pollUntil(
        ctx,
        `${leader} to be unsealed with an active node elected (a join needs one)`,
        async () => {
            const s = await ctx.ops.status(leader);
            last = s.sealed ? `${leader} sealed` : `${leader} unsealed, standby, no active node yet`;
            return !s.sealed && (s.isSelf || s.leaderAddress !== "") ? s : undefined;
        },
        () => last,
    );
    ctx.log(`active node: ${status.isSelf ? leader : status.leaderAddress}`);
    return status;
}

/** Step 4: join a follower to the leader's raft cluster unless it is a member already, then unseal it. */
export async function joinAndUnseal(ctx: StepContext, pod: string, leader: string, target: JoinTarget, keys: string[], threshold: number): Promise<UnsealOutcome> {
    let status = await waitForApi(ctx, pod);
    if (status.initialized) {
        // A raft member, or a node that joined and waits for its keys: a join would change nothing.
        ctx.log(`${pod} is already a raft member; not joining again`);
        return unsealFrom(ctx, pod, status, keys, threshold);
    }
    await waitForActiveNode(ctx, leader);
    let last = "";
    await pollUntil(
        ctx,
        `${pod} to join ${target.leaderApiAddr}`,
        async () => {
            try {
                await ctx.ops.join(pod, target);
                return true;
            } catch (err) {
                if (err instanceof VaultRefused) throw joinRefused(pod, target, err);
                last = (err as Error).message;
                throw err;
            }
        },
        () => last,
    );
    ctx.log(`${pod} joined the raft cluster at ${target.leaderApiAddr}`);
    // Only now does the follower know the cluster's seal (the leader's threshold, not necessarily the configured one).
    status = await waitForApi(ctx, pod);
    if (!status.initialized) throw new StepError(`${pod} reports uninitialised right after joining ${target.leaderApiAddr}; run pulumi up again`);
    return unsealFrom(ctx, pod, status, keys, threshold);
}

function joinRefused(pod: string, target: JoinTarget, err: VaultRefused): StepError {
    const head = `${pod} could not join the raft cluster at ${target.leaderApiAddr}: ${err.message}. `;
    if (err.kind === "tls") {
        return new StepError(
            head + `The leader's certificate must be signed by the CA in ${target.leaderCaCertFile ?? "(no CA file given)"} and hold the name ${new URL(target.leaderApiAddr).hostname}`,
        );
    }
    if (err.kind === "local" && target.leaderCaCertFile) {
        return new StepError(
            head +
                `The CA file ${target.leaderCaCertFile} could not be read in ${pod}: it comes from the TLS secret that the Vault chart mounts ` +
                `(server.volumes/volumeMounts); check that the Certificate is Ready and the pod mounts it (kubectl describe pod ${pod})`,
        );
    }
    return new StepError(head + "Vault refused the join; fix the cause above and run pulumi up again");
}

function describePeers(peers: RaftPeer[]): string {
    return peers.map((p) => `${p.node_id}${p.leader ? " (leader)" : ""}${p.voter ? "" : " (non-voter)"}`).join(", ") || "no peers";
}

/** Step 5: raft lists every pod as a voter, exactly one of them the leader. */
export async function verifyRaft(ctx: StepContext, leader: string, expected: string[], token: string): Promise<RaftPeer[]> {
    let seen: RaftPeer[] = [];
    const peers = await pollUntil(
        ctx,
        `raft to list ${expected.length} voters (${expected.join(", ")}) with exactly one leader`,
        async () => {
            try {
                seen = await ctx.ops.raftPeers(leader, token);
            } catch (err) {
                if (err instanceof VaultRefused && err.kind === "refused") {
                    throw new StepError(`listing the raft peers was refused (${err.message}); is vault-ha's root token still valid?`);
                }
                if (err instanceof VaultRefused) throw new StepError(`listing the raft peers failed: ${err.message}`);
                throw err;
            }
            const ids = seen.map((p) => p.node_id).sort();
            const complete = ids.join() === [...expected].sort().join() && seen.every((p) => p.voter) && seen.filter((p) => p.leader).length === 1;
            // New followers start as non-voters until autopilot promotes them: keep polling until it has.
            return complete ? seen : undefined;
        },
        () => describePeers(seen),
    );
    ctx.log(`raft: ${describePeers(peers)}`);
    return peers;
}

export type StepKind = "wait" | "init" | "unseal" | "join" | "verify";

export interface PlannedStep {
    id: string;
    kind: StepKind;
    pod?: string;
    after: string[];
}

/**
 * The order of the steps, as data: the Pulumi component creates one Command per entry with these dependencies, and
 * the benchmark schedules the same graph. Followers depend only on the leader, so they run in parallel.
 */
export function bootstrapPlan(pods: string[]): PlannedStep[] {
    const [leader, ...followers] = pods;
    const joins = followers.map((pod): PlannedStep => ({ id: `join-${pod}`, kind: "join", pod, after: [`unseal-${leader}`] }));
    return [
        { id: "wait-pods", kind: "wait", after: [] },
        { id: "init", kind: "init", pod: leader, after: ["wait-pods"] },
        { id: `unseal-${leader}`, kind: "unseal", pod: leader, after: ["init"] },
        ...joins,
        { id: "verify", kind: "verify", pod: leader, after: [`unseal-${leader}`, ...joins.map((j) => j.id)] },
    ];
}
