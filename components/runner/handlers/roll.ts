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
 *
 * A stack changed from Shamir to an auto seal is migrated by this same order (primitives/sealMigration.ts): each
 * replaced pod is unsealed with the Shamir keys and migrate, the node that becomes active after the step-down
 * completes the migration, and only then does the old active pod go; the key file then records the keys as recovery
 * keys. A run stopped half-way continues: a pod in migration mode is unsealed with migrate, a migrated one opens itself.
 */
import { podNames, podOrdinal } from "../../vault/names";
import { beforeReplacing, downgradeMessage, rollDowngrade, rollOrder } from "../../vault/rollPlan";
import { takeSnapshot } from "../../backup/snapshot";
import { pollUntil, retrying, StepError } from "../poll";
import { Handler, withVault } from "../runtime";
import { PodInfo, SealStatus } from "../vaultOps";
import { StepContext, waitForApi } from "../primitives/context";
import { removeDepartedPeers } from "../primitives/departedPeers";
import { handOver } from "../primitives/handOver";
import { isStuck, observedStatefulSet, replacePod } from "../primitives/podReplacement";
import { askAny, sealStatuses, waitForCaughtUp, waitForHealthyRaft } from "../primitives/raftHealth";
import { unsealFrom } from "../primitives/unseal";
import {
    type SealMigration,
    earlierMigrationFailures,
    keyFileBeforeMigration,
    migrationPending,
    migrationWords,
    recordMigratedKeys,
    sealMigrationOf,
    waitForMigration,
} from "../primitives/sealMigration";

/** The pods among `names` that exist, are not being deleted, and run another revision than `revision`. */
export function outdatedPods(pods: PodInfo[], names: string[], revision: string): PodInfo[] {
    return names.map((name) => pods.find((p) => p.name === name && !p.terminating)).filter((p): p is PodInfo => p !== undefined && p.revision !== revision);
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
    await unsealFrom(ctx, pod.name, status, o.keys, o.threshold, o.recoveryKeys);
    await waitForCaughtUp(ctx, pod.name);
    await waitForHealthyRaft(ctx, [pod.name, ...podNames(o.release, o.replicas).filter((n) => n !== pod.name)], o.token, pod.name);
}

export interface RollOptions {
    /** The roll step's parameter (rollPlan.ts podTemplateSummary): it names the image the pods should run. */
    podTemplate?: string;
    /** Where the backup taken before the first serving pod goes is saved, and how many are kept. */
    backup?: { folder: string; keep: number };
    release: string;
    replicas: number;
    keys: string[];
    /** An auto seal's recovery keys, kept with the backup (the keys are then empty). */
    recoveryKeys?: string[];
    threshold: number;
    token: string;
    /** With an auto seal: the key file, rewritten to hold the keys as recovery keys once a Shamir cluster is migrated. */
    keyFile?: string;
}

/** After a seal migration: the key file says what the keys are now (a no-op once it does, or without one). */
async function recordMigration(ctx: StepContext, o: RollOptions, names: string[], wait: boolean): Promise<void> {
    const m = sealMigrationOf(ctx);
    if (!m || !o.keyFile || !keyFileBeforeMigration(m, o.keyFile)) return;
    if (wait) await waitForMigration(ctx, m, names);
    else if (migrationPending(m, (await sealStatuses(ctx, names)).values())) return;
    recordMigratedKeys(ctx, m, o.keyFile);
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
    const seal = await sealStatuses(ctx, names);
    const serving = names.find((n) => seal.get(n)?.sealed === false);
    // Only through an active node: with sealed pods the quorum may wait for the unseal steps that come after this one.
    const active = names.some((n) => seal.get(n)?.isSelf || seal.get(n)?.leaderAddress);
    if (!serving || !active) {
        ctx.log(`left from a scale-down: ${[...new Set(left)].join(", ")}; no active Vault node yet, so verify removes them after the unseal steps`);
        return;
    }
    await removeDepartedPeers(ctx, serving, o.release, o.replicas, o.token);
}

/**
 * The keys that open the snapshot taken before the roll, as they are at that moment: before a migration back to
 * Shamir the stack's keys are still the recovery keys of the seal that holds the data.
 */
function snapshotKeys(o: RollOptions, migrating: SealMigration | undefined): { unsealKeys: string[]; rootToken: string; recoveryKeys?: string[] } {
    if (migrating?.toward === "shamir") return { unsealKeys: [], recoveryKeys: o.keys, rootToken: o.token };
    return { unsealKeys: o.keys, rootToken: o.token, ...(o.recoveryKeys?.length ? { recoveryKeys: o.recoveryKeys } : {}) };
}

export async function rollPods(ctx: StepContext, o: RollOptions): Promise<{ rolled: string[]; revision: string }> {
    const names = podNames(o.release, o.replicas);
    const sts = await observedStatefulSet(ctx);
    const revision = sts.updateRevision;
    let todo = outdatedPods(await retrying(ctx, "the Vault pods to be listed", () => ctx.ops.listPods()), names, revision);
    if (todo.length === 0) {
        ctx.log(`every Vault pod runs the StatefulSet's revision ${revision}: nothing to roll`);
        await tidyDeparted(ctx, o, names);
        // A run stopped between the migration and the key file's rewrite.
        await recordMigration(ctx, o, names, false);
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
                return p !== undefined && !p.terminating && (p.running || isStuck(p.reason));
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
            seal = await sealStatuses(ctx, names);
            return runningPods.every((n) => seal.get(n) !== undefined) ? true : undefined;
        },
        () => runningPods.filter((n) => seal.get(n) === undefined).join(", ") + " did not answer",
    );
    const downgrade = rollDowngrade(o.podTemplate, names, seal);
    if (downgrade) throw new StepError(downgradeMessage(downgrade).replace("nothing was changed", "no pod was replaced"));
    const plan = rollOrder(
        names,
        todo.map((p) => p.name),
        seal,
    );
    const migration = sealMigrationOf(ctx);
    const migrating = migrationPending(migration, seal.values()) ? migration : undefined;
    // A failure an earlier run reported stays in its container's log: only this run's count.
    if (migrating) ctx = { ...ctx, earlierMigrationFailures: await earlierMigrationFailures(ctx, names) };
    if (migrating) {
        ctx.log(
            `seal migration ${migrationWords(migrating)}: each replaced pod is unsealed with the ${migrating.toward === "auto" ? "unseal" : "recovery"} keys ` +
                `and migrate; the node that becomes active after the step-down completes the migration before the old active pod goes`,
        );
    }
    const podOf = (name: string) => todo.find((p) => p.name === name)!;
    const rolled: string[] = [];
    if (!plan.serving) {
        // The unseal and join steps that follow take the replaced pods from there.
        ctx.log("no Vault pod is unsealed: nothing serves, so the outdated pods are replaced without the rolling order");
        for (const name of plan.replace) {
            await replacePod(ctx, podOf(name), revision);
            rolled.push(name);
        }
        return { rolled, revision };
    }

    // First the quorum: pods that hold raft data and are sealed (restarted since the last up, or replaced by a roll
    // that was interrupted).
    for (const name of plan.unsealFirst) await unsealFrom(ctx, name, seal.get(name)!, o.keys, o.threshold, o.recoveryKeys);
    const serving = plan.servingPods;

    // Pods beyond the replica count that a scale-down removed still count as (dead) raft voters, and autopilot calls
    // the cluster unhealthy while they do: their removal runs first (never a live peer; see primitives/departedPeers.ts).
    await removeDepartedPeers(ctx, serving[0], o.release, o.replicas, o.token);

    // Stuck pods must not block the change that fixes them.
    for (const name of plan.idleFirst) {
        await replaceAndUnseal(ctx, podOf(name), revision, o);
        rolled.push(name);
    }

    // Before a serving pod goes, autopilot says the cluster is healthy, so the pod taken away never costs the quorum.
    await waitForHealthyRaft(ctx, serving, o.token);

    if (plan.snapshotFirst && o.backup) {
        // A roll replaces serving pods: the data and the keys that open it are saved first (components/backup/).
        const { file } = await takeSnapshot(ctx, {
            release: o.release,
            replicas: o.replicas,
            keys: snapshotKeys(o, migrating),
            folder: o.backup.folder,
            keep: o.backup.keep,
            now: new Date(ctx.clock.now()),
            // A resumed roll toward the same revision keeps the backup of the state before the change.
            roll: { revision },
        });
        ctx.log(`before the roll, a backup of Vault's data and the keys that open it: ${file} (npm run restore -- ${file})`);
    }

    for (const name of plan.servingOrder) {
        // Autopilot's failure tolerance, and whether this pod is still the active node, are read right before it
        // goes: a voter may have turned unhealthy, or the leadership moved, since the order was decided.
        const { state, now } = await retrying(ctx, `the replacement of ${name} to be decided`, async () => ({
            state: await askAny([name, ...serving.filter((n) => n !== name)], (node) => ctx.ops.autopilotState(node, o.token)),
            now: await ctx.ops.status(name),
        }));
        const next = beforeReplacing(state.failureTolerance, now);
        if (next === "quorum-lost") {
            const voters = state.servers.filter((s) => s.status === "voter" || s.status === "leader").length;
            ctx.log(
                `${name}: raft's failure tolerance is 0 (${voters} voter${voters === 1 ? "" : "s"}; losing any voter loses the quorum): ` +
                    `Vault is unavailable until ${name} is back and unsealed`,
            );
        } else if (next === "step-down") {
            await handOver(ctx, name, names, o.token, now);
            // The new active node migrates as it takes over; the old one goes only once that is done.
            if (migrating) {
                await waitForMigration(ctx, migrating, names, name);
                if (o.keyFile) recordMigratedKeys(ctx, migrating, o.keyFile);
            }
        }
        await replaceAndUnseal(ctx, podOf(name), revision, o);
        rolled.push(name);
        ctx.log(`${name} rolled to revision ${revision} (${rolled.length}/${todo.length})`);
    }
    todo = outdatedPods(await retrying(ctx, "the Vault pods to be listed", () => ctx.ops.listPods()), names, revision);
    if (todo.length)
        throw new StepError(`after the roll, pods still run an older revision than ${revision}: ${todo.map((p) => p.name).join(", ")}; run pulumi up again`);
    // Without a step-down (failure tolerance 0) the migration happened when the active pod went.
    if (migrating) await recordMigration(ctx, o, names, true);
    return { rolled, revision };
}

export const rollStep: Handler<"roll"> = (p, secrets, ctx) =>
    withVault(ctx, secrets.kubeconfig, p, (vault) =>
        rollPods(vault, {
            podTemplate: p.podTemplate,
            backup: { folder: p.backupFolder, keep: p.snapshotsToKeep },
            release: p.release,
            replicas: p.replicas,
            keys: secrets.unsealKeys,
            recoveryKeys: secrets.recoveryKeys,
            threshold: p.keyThreshold,
            token: secrets.rootToken,
            keyFile: p.keyFile,
        }),
    );
