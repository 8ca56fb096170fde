/**
 * roll: brings the Vault pods to the StatefulSet's update revision, one pod at a time. With raft's failure tolerance
 * at 1 or more (3+ voters) the quorum is kept throughout; at 0 (1 or 2 voters) each replacement of a serving pod
 * leaves Vault unavailable until that pod is back and unsealed, and the log says so before it goes.
 *
 * The chart's StatefulSet uses `updateStrategy: OnDelete` (vault-helm values.yaml server.updateStrategyType), so a new
 * image, TLS switched on, a changed probe or server config updates the StatefulSet and restarts nothing: each pod runs
 * its old template until it is deleted, and the controller then makes it again from the update revision (kubernetes
 * pkg/controller/statefulset/stateful_set_control.go newVersionedStatefulSetPod). HashiCorp's documented order for
 * Vault on Kubernetes (vault docs platform/k8s/helm/run.mdx, "Upgrading Vault on Kubernetes") is followed: the
 * standbys first, one at a time, the active node last. The active node is asked to step down before it goes, so the
 * cluster elects a new active node from the upgraded standbys rather than noticing a dead leader.
 *
 * After each pod: it runs the new revision, it is unsealed with the cluster's keys, and autopilot reports the cluster
 * healthy with that node a healthy voter again (sys/storage/raft/autopilot/state) before the next pod goes. A roll
 * stopped half-way (a crash, a timeout) is finished by the next run: what is still to roll is read from the pods'
 * revisions, never remembered.
 */
import { podNames, podOrdinal } from "../../vault/names";
import { pollUntil, retrying, StepError } from "../poll";
import { Handler, withVault } from "../runtime";
import { AutopilotState, PodInfo, SealStatus, StatefulSetInfo, VaultRefused, VaultUnavailable } from "../vaultOps";
import { StepContext, waitForApi } from "./context";
import { unsealFrom } from "./unseal";
import { removeDepartedPeers } from "./verify";
import { compareVersions, downgradeMessage, vaultVersion } from "../../vault/rollPlan";
import { takeSnapshot } from "../../backup/snapshot";

/** The answer of the first node that gives one; the last "not yet" when none does. */
async function askAny<T>(nodes: string[], ask: (node: string) => Promise<T>): Promise<T> {
    let last: unknown = new VaultUnavailable("no Vault node to ask");
    for (const node of nodes) {
        try {
            return await ask(node);
        } catch (err) {
            if (!(err instanceof VaultUnavailable)) throw err;
            last = err;
        }
    }
    throw last;
}

/** The controller has seen the latest spec: its updateRevision is the template the release just applied. */
export async function observedStatefulSet(ctx: StepContext): Promise<StatefulSetInfo> {
    let last = "";
    return pollUntil(
        ctx,
        "the Vault StatefulSet's controller to observe its latest spec",
        async () => {
            const sts = await ctx.ops.statefulSet();
            last = `generation ${sts.generation}, observed ${sts.observedGeneration}`;
            return sts.observedGeneration >= sts.generation && sts.updateRevision ? sts : undefined;
        },
        () => last,
    );
}

/** The pods among `names` that exist, are not being deleted, and run another revision than `revision`. */
export function outdatedPods(pods: PodInfo[], names: string[], revision: string): PodInfo[] {
    return names.map((name) => pods.find((p) => p.name === name && !p.terminating)).filter((p): p is PodInfo => p !== undefined && p.revision !== revision);
}

function describeAutopilot(state: AutopilotState | undefined): string {
    if (!state) return "no answer yet";
    const servers = state.servers.map((s) => `${s.id} ${s.status}${s.healthy ? "" : " (unhealthy)"}`).join(", ");
    return `${state.healthy ? "healthy" : "not healthy"}, failure tolerance ${state.failureTolerance}: ${servers}`;
}

/**
 * Autopilot reports the cluster healthy, and (when given) `pod` a healthy voter. Asked through the first of `via`
 * that answers (a standby forwards the request to the active node; a node that restarted meanwhile answers 503).
 */
async function waitForHealthyRaft(ctx: StepContext, via: string[], token: string, pod?: string): Promise<void> {
    let seen: AutopilotState | undefined;
    await pollUntil(
        ctx,
        pod ? `raft to be healthy again with ${pod} a healthy voter` : "raft to be healthy before any pod is replaced",
        async () => {
            try {
                seen = await askAny(via, (node) => ctx.ops.autopilotState(node, token));
            } catch (err) {
                if (err instanceof VaultRefused && err.kind === "refused") {
                    throw new StepError(`reading raft's autopilot state was refused (${err.message}); is vault-ha's root token still valid?`);
                }
                throw err;
            }
            const node = pod ? seen.servers.find((s) => s.id === pod) : undefined;
            const nodeReady = !pod || (node !== undefined && node.healthy && (node.status === "voter" || node.status === "leader"));
            return seen.healthy && nodeReady ? true : undefined;
        },
        () => describeAutopilot(seen),
    );
    ctx.log(`raft healthy: ${describeAutopilot(seen)}`);
}

/** Each pod's seal status, or undefined when its Vault does not answer. */
async function statuses(ctx: StepContext, pods: string[]): Promise<Map<string, SealStatus | undefined>> {
    const entries = await Promise.all(
        pods.map(async (pod) => {
            try {
                return [pod, await ctx.ops.status(pod)] as const;
            } catch (err) {
                if (err instanceof VaultUnavailable) return [pod, undefined] as const;
                throw err;
            }
        }),
    );
    return new Map(entries);
}

/** Deletes `old` and waits until its successor runs the update revision. */
async function replacePod(ctx: StepContext, old: PodInfo, revision: string): Promise<void> {
    await retrying(ctx, `kubectl to delete ${old.name}`, () => ctx.ops.deletePod(old.name));
    ctx.log(`${old.name}: deleted; waiting for the StatefulSet to make it again from revision ${revision}`);
    let seen = "";
    await pollUntil(
        ctx,
        `${old.name} to run again from revision ${revision}`,
        async () => {
            const now = (await ctx.ops.listPods()).find((p) => p.name === old.name);
            seen = !now
                ? "not created yet"
                : now.terminating || now.uid === old.uid
                  ? "the old pod is still terminating"
                  : `revision ${now.revision}, ${now.running ? "running" : (now.reason ?? now.phase)}`;
            const fresh = now && !now.terminating && now.uid !== old.uid;
            if (fresh && !now.running && now.reason && STUCK.test(now.reason)) {
                // Waiting does not fix these: the image does not exist or Vault does not start with this template.
                throw new StepError(
                    `${old.name} does not start from revision ${revision}: ${now.reason}. Nothing else was replaced. Fix the setting ` +
                        `(vault-ha:vaultImage must name an image that exists, e.g. hashicorp/vault:<version>), then run pulumi up again: ` +
                        `the roll replaces this pod first`,
                );
            }
            return fresh && now.revision === revision && now.running ? now : undefined;
        },
        () => seen,
    );
}

/** Replaces a pod, unseals it if it holds raft data, and waits until raft is healthy with it a healthy voter. */
async function replaceAndUnseal(ctx: StepContext, pod: PodInfo, revision: string, o: RollOptions): Promise<void> {
    await replacePod(ctx, pod, revision);
    const status = await waitForApi(ctx, pod.name);
    if (!status.initialized) {
        // A pod that had not joined yet: the join step makes it a member.
        ctx.log(`${pod.name} runs revision ${revision}; it is not a raft member yet, so the join step takes it from here`);
        return;
    }
    await unsealFrom(ctx, pod.name, status, o.keys, o.threshold);
    await waitForCaughtUp(ctx, pod.name);
    await waitForHealthyRaft(ctx, [pod.name, ...podNames(o.release, o.replicas).filter((n) => n !== pod.name)], o.token, pod.name);
}

/**
 * The replaced node has applied the log up to the index it knows to be committed. Autopilot's state is refreshed
 * periodically, so right after a replacement it may still describe the node as it was before; the node's own indexes
 * (`vault status` raft_committed_index / raft_applied_index, api/sys_seal.go) are current.
 */
async function waitForCaughtUp(ctx: StepContext, pod: string): Promise<void> {
    let last = "";
    await pollUntil(
        ctx,
        `${pod} to catch up with raft's log`,
        async () => {
            const s = await ctx.ops.status(pod);
            if (s.raftAppliedIndex === undefined || s.raftCommittedIndex === undefined) return true;
            last = `applied ${s.raftAppliedIndex} of ${s.raftCommittedIndex}`;
            return s.raftAppliedIndex >= s.raftCommittedIndex ? true : undefined;
        },
        () => last,
    );
}

const STUCK = /^(ErrImagePull|ImagePullBackOff|InvalidImageName|CrashLoopBackOff)\b/;

/**
 * A pod left stuck by a roll that failed on a broken template (an image that does not exist): once the template is
 * fixed, the roll step itself may not run again (its inputs equal the last ones that succeeded), so the pod's own
 * unseal or join step replaces it from the fixed revision. Only a pod that is not running, stuck for a reason waiting
 * does not fix, and on an older revision than the StatefulSet's is touched: it serves nothing.
 */
export async function replaceIfStuck(ctx: StepContext, name: string): Promise<void> {
    const pod = (await retrying(ctx, "the Vault pods to be listed", () => ctx.ops.listPods())).find((p) => p.name === name);
    if (!pod || pod.running || pod.terminating || !pod.reason || !STUCK.test(pod.reason)) return;
    const sts = await observedStatefulSet(ctx);
    if (pod.revision === sts.updateRevision) return;
    ctx.log(`${name} is stuck on an older revision (${pod.reason}): replacing it from revision ${sts.updateRevision}`);
    await replacePod(ctx, pod, sts.updateRevision);
}

export interface RollOptions {
    /** The roll step's parameter (rollPlan.ts podTemplateSummary): it names the image the pods should run. */
    podTemplate?: string;
    /** Where the backup taken before the first serving pod goes is saved, and how many are kept. */
    backup?: { folder: string; keep: number };
    release: string;
    replicas: number;
    keys: string[];
    threshold: number;
    token: string;
}

/**
 * What an earlier scale-down left behind (pods, raft peers, volumes beyond the replica count), when its up failed
 * before verify and the replica count changed again since: this step runs on every change of the count, verify only
 * when its own inputs differ from its last success, which they may not. Tidied like verify does it (see
 * removeDepartedPeers), and only while the cluster serves: with every pod sealed (a first install, a full restart)
 * verify does it after the unseal steps.
 */
async function tidyDeparted(ctx: StepContext, o: RollOptions, names: string[]): Promise<void> {
    const beyond = (pod: string) => (podOrdinal(o.release, pod) ?? -1) >= o.replicas;
    const pods = await retrying(ctx, "the Vault pods to be listed", () => ctx.ops.listPods());
    const claims = await retrying(ctx, "the volume claims to be listed", () => ctx.ops.listClaims());
    const left = [...pods.map((p) => p.name), ...claims.filter((c) => c.name.startsWith("data-")).map((c) => c.name.slice("data-".length))].filter(beyond);
    if (left.length === 0) return;
    const seal = await statuses(ctx, names);
    const serving = names.find((n) => seal.get(n)?.sealed === false);
    // Only through an active node: with sealed pods the quorum may wait for the unseal steps that come after this one.
    const active = names.some((n) => seal.get(n)?.isSelf || seal.get(n)?.leaderAddress);
    if (!serving || !active) {
        ctx.log(`left from a scale-down: ${[...new Set(left)].join(", ")}; no active Vault node yet, so verify removes them after the unseal steps`);
        return;
    }
    await removeDepartedPeers(ctx, serving, o.release, o.replicas, o.token);
}

export async function rollPods(ctx: StepContext, o: RollOptions): Promise<{ rolled: string[]; revision: string }> {
    const names = podNames(o.release, o.replicas);
    const sts = await observedStatefulSet(ctx);
    const revision = sts.updateRevision;
    let todo = outdatedPods(await retrying(ctx, "the Vault pods to be listed", () => ctx.ops.listPods()), names, revision);
    if (todo.length === 0) {
        ctx.log(`every Vault pod runs the StatefulSet's revision ${revision}: nothing to roll`);
        await tidyDeparted(ctx, o, names);
        return { rolled: [], revision };
    }
    ctx.log(`pods on an older revision than ${revision}: ${todo.map((p) => `${p.name} (${p.revision ?? "no revision"})`).join(", ")}`);

    // Pods that are starting or terminating (an earlier roll, a restart) are waited for first, and a running pod whose
    // Vault does not answer yet is asked again: a passing `kubectl exec` failure or a pod still starting must not look
    // like a cluster that serves nothing, nor hide a sealed pod that has to be unsealed before the health check.
    let pods: PodInfo[] = [];
    await pollUntil(
        ctx,
        `the Vault pods ${names.join(", ")} to run (or be stuck) before the roll`,
        async () => {
            pods = await ctx.ops.listPods();
            const settled = (n: string) => {
                const p = pods.find((x) => x.name === n);
                return p !== undefined && !p.terminating && (p.running || (p.reason !== undefined && STUCK.test(p.reason)));
            };
            return names.every(settled) ? true : undefined;
        },
        () => names.filter((n) => !pods.find((p) => p.name === n)?.running).join(", ") + " not running yet",
    );
    const runningPods = names.filter((n) => pods.find((p) => p.name === n)?.running);
    let seal = new Map<string, SealStatus | undefined>();
    await pollUntil(
        ctx,
        `the Vault API of the running pods ${runningPods.join(", ")} to answer before the roll`,
        async () => {
            seal = await statuses(ctx, names);
            return runningPods.every((n) => seal.get(n) !== undefined) ? true : undefined;
        },
        () => runningPods.filter((n) => seal.get(n) === undefined).join(", ") + " did not answer",
    );
    // The program refuses a downgrade before the release changes; should it not have seen the pods (an unreachable
    // cluster during the preview), the roll still never replaces a pod with an older Vault than one that runs.
    const wanted = /^image (\S+),/.exec(o.podTemplate ?? "")?.[1];
    const wantedVersion = wanted ? vaultVersion(wanted) : undefined;
    for (const name of names) {
        const running = seal.get(name)?.version;
        if (wantedVersion && running && compareVersions(wantedVersion, running.replace(/\+.*$/, "")) < 0) {
            throw new StepError(downgradeMessage({ pod: name, running, wanted: wantedVersion }).replace("nothing was changed", "no pod was replaced"));
        }
    }
    const unsealed = names.filter((n) => seal.get(n)?.sealed === false);
    const rolled: string[] = [];
    if (unsealed.length === 0) {
        // Nothing serves (never initialised, or every pod sealed): replacing pods cannot cost anything, so they go
        // together; the unseal and join steps that follow take them from there.
        ctx.log("no Vault pod is unsealed: nothing serves, so the outdated pods are replaced without the rolling order");
        for (const pod of todo) {
            await replacePod(ctx, pod, revision);
            rolled.push(pod.name);
        }
        return { rolled, revision };
    }

    // First the quorum: every running pod that holds raft data and is sealed (restarted since the last up, or
    // replaced by a roll that was interrupted) is unsealed, outdated or not. Everything after needs an active node.
    for (const name of names) {
        const status = seal.get(name);
        if (status?.initialized && status.sealed) {
            await unsealFrom(ctx, name, status, o.keys, o.threshold);
            seal.set(name, { ...status, sealed: false });
        }
    }
    const serving = names.filter((n) => seal.get(n)?.sealed === false);

    // Pods beyond the replica count that a scale-down removed still count as (dead) raft voters, and autopilot calls
    // the cluster unhealthy while they do: verify's removal runs first (never a live peer; see verify.ts).
    await removeDepartedPeers(ctx, serving[0], o.release, o.replicas, o.token);

    // Outdated pods that serve nothing (stuck: an image that never started) go next: replacing them costs no quorum,
    // and such a pod must not block the change that fixes it.
    for (const pod of todo.filter((p) => !serving.includes(p.name))) {
        await replaceAndUnseal(ctx, pod, revision, o);
        rolled.push(pod.name);
    }

    // Before a serving pod goes, autopilot says the cluster is healthy, so the pod taken away never costs the quorum.
    await waitForHealthyRaft(ctx, serving, o.token);

    // Standbys first, highest ordinal first (the order a StatefulSet's rolling update uses); the active node last.
    const rest = todo.filter((p) => serving.includes(p.name) && !rolled.includes(p.name));
    const active = names.find((n) => seal.get(n)?.isSelf);
    const order = rest.filter((p) => p.name !== active).sort((a, b) => b.name.localeCompare(a.name, "en", { numeric: true }));
    const activePod = rest.find((p) => p.name === active);
    if (activePod) order.push(activePod);

    if (order.length > 0 && o.backup) {
        // A roll replaces serving pods: the data and the keys that open it are saved first (components/backup/).
        const { file } = await takeSnapshot(ctx, {
            release: o.release,
            replicas: o.replicas,
            keys: { unsealKeys: o.keys, rootToken: o.token },
            folder: o.backup.folder,
            keep: o.backup.keep,
            now: new Date(ctx.clock.now()),
            // A resumed roll toward the same revision keeps the backup of the state before the change.
            roll: { revision },
        });
        ctx.log(`before the roll, a backup of Vault's data and the keys that open it: ${file} (npm run restore -- ${file})`);
    }

    for (const pod of order) {
        // Before each serving pod goes, autopilot's failure tolerance says whether Vault keeps serving without it:
        // raft-autopilot state.go sets FailureTolerance = healthy voters - (voters/2 + 1) when positive, else 0. At 0
        // (1 or 2 voters, or a voter unhealthy) taking any voter away loses the quorum, so Vault serves nothing until
        // this pod is back and unsealed; a step-down would not help (the successor loses the quorum too) and is not
        // made. Otherwise the active node hands over first; a pod that stopped being active (it restarted) has
        // nothing to hand over.
        const { state, now } = await retrying(ctx, `the replacement of ${pod.name} to be decided`, async () => ({
            state: await askAny([pod.name, ...serving.filter((n) => n !== pod.name)], (node) => ctx.ops.autopilotState(node, o.token)),
            now: await ctx.ops.status(pod.name),
        }));
        if (state.failureTolerance === 0) {
            const voters = state.servers.filter((s) => s.status === "voter" || s.status === "leader").length;
            ctx.log(
                `${pod.name}: raft's failure tolerance is 0 (${voters} voter${voters === 1 ? "" : "s"}; losing any voter loses the quorum): ` +
                    `Vault is unavailable until ${pod.name} is back and unsealed`,
            );
        } else if (now.isSelf && !now.sealed) {
            await handOver(ctx, pod.name, names, o.token, now);
        }
        await replaceAndUnseal(ctx, pod, revision, o);
        rolled.push(pod.name);
        ctx.log(`${pod.name} rolled to revision ${revision} (${rolled.length}/${todo.length})`);
    }
    todo = outdatedPods(await retrying(ctx, "the Vault pods to be listed", () => ctx.ops.listPods()), names, revision);
    if (todo.length)
        throw new StepError(`after the roll, pods still run an older revision than ${revision}: ${todo.map((p) => p.name).join(", ")}; run pulumi up again`);
    return { rolled, revision };
}

/** How many times handOver asks a pod that is elected again to step down before it gives up. */
const STEP_DOWN_ATTEMPTS = 3;

const when = (ms: number | undefined) => (ms === undefined ? "an unknown time" : new Date(ms).toISOString());

/**
 * The active node steps down, and another node starts a new term, before it is deleted. What counts is what Vault
 * reports, not a proxy for it: `/v1/sys/step-down` is forwarded (http/handler.go registers it with
 * handleRequestForwarding), so if `pod` lost the leadership just before the call, the node that is active then steps
 * down instead, and "pod is a standby and knows a leader" is true at once. So the term the pod held is recorded
 * (`active_time`, api/sys_leader.go: when that node became active, vault/ha.go) and the wait is for another node
 * reporting `is_self` with a newer `active_time` while the pod reports it is not active. That term must be seen twice,
 * one poll apart: a node the forwarded step-down reached is still active for a moment after the call returns
 * (Core.StepDown only queues the step-down on manualStepDownCh; inference: it takes well under a poll interval). If the
 * pod itself is elected again (a new term of its own: it stood once its 10 s pause ended, or the forwarded step-down
 * left it the best candidate), it is asked again, at most STEP_DOWN_ATTEMPTS times.
 */
async function handOver(ctx: StepContext, pod: string, names: string[], token: string, before: SealStatus): Promise<void> {
    let term = before.activeTime;
    for (let attempt = 1; ; attempt++) {
        try {
            await retrying(ctx, `${pod} to step down`, () => ctx.ops.stepDown(pod, token));
        } catch (err) {
            if (err instanceof VaultRefused) throw new StepError(`${pod} refused to step down (${err.message}); is vault-ha's root token still valid?`);
            throw err;
        }
        let last = "";
        let candidate = "";
        const outcome = await pollUntil(
            ctx,
            `another Vault node to start a new term as the active node after ${pod} was asked to step down (it has been active since ${when(term)})`,
            async () => {
                const seen = await statuses(ctx, names);
                const mine = seen.get(pod);
                const active = names.filter((n) => seen.get(n)?.isSelf && seen.get(n)?.sealed === false);
                last = active.length ? `active: ${active.map((n) => `${n} since ${when(seen.get(n)?.activeTime)}`).join(", ")}` : "no active node yet";
                if (mine?.isSelf && !mine.sealed) {
                    candidate = "";
                    // The same term: the step-down has not taken effect yet. A newer one: the pod was elected again.
                    const again = term !== undefined && mine.activeTime !== undefined && mine.activeTime > term;
                    return again ? { again: mine.activeTime! } : undefined;
                }
                const next = active.find((n) => n !== pod);
                const since = next ? seen.get(next)?.activeTime : undefined;
                if (!next || since === undefined || (term !== undefined && since <= term)) {
                    candidate = "";
                    return undefined;
                }
                const key = `${next}@${since}`;
                if (candidate !== key) {
                    candidate = key;
                    return undefined;
                }
                return { active: next, since };
            },
            () => last,
        );
        if ("active" in outcome) {
            ctx.log(`${pod} stepped down; ${outcome.active} is active since ${when(outcome.since)}`);
            return;
        }
        if (attempt >= STEP_DOWN_ATTEMPTS) {
            throw new StepError(
                `${pod} was elected active again after each of ${attempt} step-downs (last since ${when(outcome.again)}); nothing was deleted. ` +
                    `Check that the other Vault nodes are healthy voters (vault operator raft autopilot state), then run pulumi up again`,
            );
        }
        ctx.log(`${pod} is active again (a new term since ${when(outcome.again)}): asking it to step down again (${attempt + 1}/${STEP_DOWN_ATTEMPTS})`);
        term = outcome.again;
    }
}

export const rollStep: Handler<"roll"> = (p, secrets, ctx) =>
    withVault(ctx, secrets.kubeconfig, p, (vault) =>
        rollPods(vault, {
            podTemplate: p.podTemplate,
            backup: { folder: p.backupFolder, keep: p.snapshotsToKeep },
            release: p.release,
            replicas: p.replicas,
            keys: secrets.unsealKeys,
            threshold: p.keyThreshold,
            token: secrets.rootToken,
        }),
    );
