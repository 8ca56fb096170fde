/**
 * What a change to the Vault pod template does to the running pods, worked out before anything changes: which pods
 * the roll step (runner/handlers/roll.ts) will replace and why, and whether the change is a Vault downgrade, which is
 * refused. Pure functions of what the pods run (the pod-templates invoke) and what the settings ask for.
 */
import { createHash } from "crypto";
import type { PodTemplate, StepResults } from "../stepCommand/contract";
import type { PlanFixes } from "../cluster/existingPlan";
import { FixCommands, quantityBytes, VAULT_IMAGE_PATTERN } from "../config/settings";

/** The Vault version of an image reference (`hashicorp/vault:2.0.4@sha256:...` -> `2.0.4`), if it names one. */
export function vaultVersion(image: string): string | undefined {
    return VAULT_IMAGE_PATTERN.exec(image)?.groups?.tag;
}

/** Compares the numeric part (major.minor.patch) of two versions: negative when a < b. */
export function compareVersions(a: string, b: string): number {
    const parts = (v: string) => v.split(/[-+]/)[0].split(".").map(Number);
    const [x, y] = [parts(a), parts(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
}

export interface DesiredPod {
    image: string;
    tls: boolean;
    /** The vault-ha.dev/telemetry annotation the pods get ("" without metrics); absent: not compared. */
    telemetry?: string;
}

export interface PodChange {
    pod: string;
    reasons: string[];
}

export interface RollPreview {
    /** Pods whose image or TLS differ from the settings: the roll replaces them. */
    changes: PodChange[];
    /** A pod runs a newer Vault than the setting asks for. */
    downgrade?: { pod: string; running: string; wanted: string };
}

export function rollPreview(current: PodTemplate[], desired: DesiredPod): RollPreview {
    const changes: PodChange[] = [];
    let downgrade: RollPreview["downgrade"];
    const wanted = vaultVersion(desired.image);
    for (const pod of current) {
        const reasons: string[] = [];
        if (pod.image !== desired.image) reasons.push(`image ${pod.image || "(unknown)"} -> ${desired.image}`);
        if (pod.tls !== desired.tls) reasons.push(`TLS ${pod.tls ? "on" : "off"} -> ${desired.tls ? "on" : "off"}`);
        if (desired.telemetry !== undefined && pod.telemetry !== undefined && pod.telemetry !== desired.telemetry)
            reasons.push(`metrics ${pod.telemetry || "off"} -> ${desired.telemetry || "off"}`);
        if (reasons.length) changes.push({ pod: pod.pod, reasons });
        // Only a version that ran can have upgraded the data: a pod stuck on an image that never started (a typo in
        // vaultImage) must not block going back.
        const running = pod.running === false ? undefined : vaultVersion(pod.image);
        if (!downgrade && running && wanted && compareVersions(wanted, running) < 0) downgrade = { pod: pod.pod, running, wanted };
    }
    return { changes, downgrade };
}

/**
 * Raft's failure tolerance with `voters` healthy voters: how many can go with the quorum kept. raft-autopilot
 * state.go: healthy voters - requiredQuorum (voters/2 + 1) when positive, else 0. So 1 or 2 voters tolerate none.
 */
export function failureTolerance(voters: number): number {
    return Math.max(0, voters - (Math.floor(voters / 2) + 1));
}

/**
 * The preview's and the up's notice of a roll, naming each pod and why, and whether Vault keeps serving meanwhile;
 * undefined when nothing rolls. `replicas`: the voters the roll works with (the pods that run now, or the new count
 * when it is lower: departed peers are removed before the roll replaces a serving pod).
 */
export function rollNotice(preview: RollPreview, replicas: number): string | undefined {
    if (preview.changes.length === 0) return undefined;
    const pods = preview.changes.map((c) => `${c.pod} (${c.reasons.join(", ")})`).join("; ");
    const tolerance = failureTolerance(replicas);
    const serving =
        tolerance === 0
            ? `with ${replicas} replica${replicas === 1 ? "" : "s"} raft's failure tolerance is 0, so Vault is unavailable during each ` +
              `replacement, until the replaced pod is back and unsealed (no step-down then: the successor would lose the quorum too). `
            : `raft keeps its quorum throughout (failure tolerance ${tolerance}); Vault has no active node for the few seconds ` +
              `of the election after the step-down. `;
    return (
        `the Vault pod template changes, so these pods will be replaced one at a time, standbys first and the active ` +
        `node last after a step-down, each unsealed again before the next; ${serving}Pods: ${pods}`
    );
}

/** What the roll step knows of a running pod's Vault when it decides its order (a subset of `vault status`). */
export interface RollPodStatus {
    initialized: boolean;
    sealed: boolean;
    /** The active node. */
    isSelf: boolean;
    version?: string;
}

/** The roll step's order (runner/handlers/roll.ts), decided from the pods' seal status before anything is replaced. */
export type RollOrder =
    /** Nothing serves (never initialised, or every pod sealed): replacing pods costs nothing, so they go together. */
    | { serving: false; replace: string[] }
    | {
          serving: true;
          /** Sealed members, outdated or not, unsealed first: everything after needs the quorum and an active node. */
          unsealFirst: string[];
          /** The pods that serve once those are unsealed: health is asked through them. */
          servingPods: string[];
          /** Outdated pods that serve nothing (stuck on an image that never started): replacing them costs no quorum. */
          idleFirst: string[];
          /** Outdated serving pods, one at a time: standbys highest ordinal first (as a StatefulSet rolls), the active node last. */
          servingOrder: string[];
          /** A backup is taken before the first serving pod goes. */
          snapshotFirst: boolean;
      };

/**
 * The order of a roll: `names` the pods of the release in ordinal order, `outdated` those to replace (in that order),
 * `status` each pod's seal status (undefined: its Vault does not answer).
 */
export function rollOrder(names: string[], outdated: string[], status: ReadonlyMap<string, RollPodStatus | undefined>): RollOrder {
    if (!names.some((n) => status.get(n)?.sealed === false)) return { serving: false, replace: [...outdated] };
    const unsealFirst = names.filter((n) => status.get(n)?.initialized && status.get(n)?.sealed);
    const servingPods = names.filter((n) => status.get(n)?.sealed === false || unsealFirst.includes(n));
    const idleFirst = outdated.filter((n) => !servingPods.includes(n));
    const rest = outdated.filter((n) => servingPods.includes(n));
    const active = names.find((n) => status.get(n)?.isSelf);
    const servingOrder = rest.filter((n) => n !== active).sort((a, b) => b.localeCompare(a, "en", { numeric: true }));
    if (active !== undefined && rest.includes(active)) servingOrder.push(active);
    return { serving: true, unsealFirst, servingPods, idleFirst, servingOrder, snapshotFirst: servingOrder.length > 0 };
}

/**
 * What happens right before a serving pod is replaced. raft-autopilot's failure tolerance (see failureTolerance) at 0
 * means taking any voter away loses the quorum: Vault serves nothing until the pod is back, and a step-down would not
 * help (the successor loses the quorum too). Otherwise the active node hands over first; a pod that is no longer
 * active (it restarted) has nothing to hand over.
 */
export function beforeReplacing(tolerance: number, pod: Pick<RollPodStatus, "isSelf" | "sealed">): "quorum-lost" | "step-down" | "replace" {
    if (tolerance === 0) return "quorum-lost";
    return pod.isSelf && !pod.sealed ? "step-down" : "replace";
}

/**
 * A pod that runs a newer Vault than the roll's pod template (rollPlan podTemplateSummary: "image <ref>, ...") asks
 * for. The program refuses a downgrade before the release changes; should it not have seen the pods (an unreachable
 * cluster during the preview), the roll still never replaces a pod with an older Vault than one that runs.
 */
export function rollDowngrade(
    podTemplate: string | undefined,
    names: string[],
    status: ReadonlyMap<string, RollPodStatus | undefined>,
): RollPreview["downgrade"] {
    const wanted = /^image (\S+),/.exec(podTemplate ?? "")?.[1];
    const wantedVersion = wanted ? vaultVersion(wanted) : undefined;
    if (!wantedVersion) return undefined;
    for (const pod of names) {
        const running = status.get(pod)?.version;
        if (running && compareVersions(wantedVersion, running.replace(/\+.*$/, "")) < 0) return { pod, running, wanted: wantedVersion };
    }
    return undefined;
}

/** Refuses a downgrade before the release changes: Vault does not support running older binaries on newer data. */
export function downgradeMessage(downgrade: NonNullable<RollPreview["downgrade"]>, fixes: PlanFixes = new FixCommands()): string {
    return (
        `vault-ha:vaultImage asks for Vault ${downgrade.wanted}, but ${downgrade.pod} runs ${downgrade.running}: Vault does not ` +
        `support downgrades (a newer version may have upgraded its stored data), so nothing was changed. Keep the running ` +
        `version (${fixes.set("vaultImage", `<an image of ${downgrade.running} or newer>`)}), or go back by ` +
        `restoring a snapshot taken before the upgrade onto a cluster built with the older version`
    );
}

/** The raft volume claim the settings ask for: the chart's data claim template (vault-helm vault.volumeclaims). */
export interface DesiredClaim {
    storage: string;
    /** Undefined or "": the cluster's default class (the chart then renders no storageClassName). */
    storageClassName?: string;
}

/** Two quantities are the same amount (the API server stores "10240Mi" as "10Gi"). */
function sameQuantity(a: string | undefined, b: string): boolean {
    const x = a === undefined ? undefined : quantityBytes(a);
    const y = quantityBytes(b);
    return x !== undefined && y !== undefined ? x.numerator * y.denominator === y.numerator * x.denominator : a === b;
}

/**
 * Why the running StatefulSet's raft volume claims cannot become what the settings ask for, or undefined when they
 * can (they are the same, or there is no StatefulSet yet). Kubernetes refuses any change to a StatefulSet's
 * volumeClaimTemplates ("updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template',
 * 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden": kubernetes
 * pkg/apis/apps/validation/validation.go ValidateStatefulSetUpdate), so the Helm upgrade would fail half-way through
 * the up, after the resources before it changed: the program stops first.
 */
export function claimChangeMessage(
    running: StepResults["pod-templates"]["dataClaim"],
    desired: DesiredClaim,
    fixes: PlanFixes = new FixCommands(),
): string | undefined {
    if (!running) return undefined;
    const wantedClass = desired.storageClassName || undefined;
    const changes: string[] = [];
    const set: string[] = [];
    if (!sameQuantity(running.storage, desired.storage)) {
        changes.push(`raftStorageSize ${desired.storage} (the volumes were made with ${running.storage ?? "no size"})`);
        if (running.storage) set.push(fixes.set("raftStorageSize", running.storage));
    }
    if ((running.storageClassName ?? undefined) !== wantedClass) {
        const was = running.storageClassName ?? "the cluster's default class";
        changes.push(`storageClass ${wantedClass ?? "(the cluster's default)"} (the volumes were made with ${was})`);
        set.push(running.storageClassName ? fixes.set("storageClass", running.storageClassName) : fixes.rm("storageClass"));
    }
    if (changes.length === 0) return undefined;
    return (
        `vault-ha:${changes.join(" and ")}: Kubernetes does not let a running StatefulSet's volume claims change, so the ` +
        `up would fail half-way; nothing was changed. Keep the running values (${set.join(" && ")}), or move the data to ` +
        `new volumes: npm run snapshot, pulumi destroy, pulumi up, npm run restore (see docs/operations.md, Backups)`
    );
}

/**
 * The roll step's parameter: what the pods are made from, in words, with a digest of every chart value except the
 * replica count (scaling changes no pod). The step runs again exactly when this changes, and the preview shows it.
 */
export function podTemplateSummary(o: { image: string; tls: boolean; chartVersion: string; values: Record<string, unknown> }): string {
    const server = { ...(o.values.server as Record<string, unknown>) };
    const ha = { ...(server.ha as Record<string, unknown>) };
    delete ha.replicas;
    // retry_join lists every pod, so it changes with the replica count; but only a node that has not joined reads it
    // (vault/raft.go InitiateRetryJoin), and a new pod starts from the new ConfigMap anyway: no pod needs replacing.
    const raft = { ...(ha.raft as Record<string, unknown>) };
    if (typeof raft.config === "string") raft.config = raft.config.replace(/\n[ \t]*retry_join \{[^{}]*\}\n/g, "");
    if (ha.raft !== undefined) ha.raft = raft;
    // ui.activeVaultPodOnly changes only the vault-ui Service's selector (templates/ui-service.yaml), no pod.
    const ui = { ...(o.values.ui as Record<string, unknown>) };
    delete ui.activeVaultPodOnly;
    const digest = createHash("sha256")
        .update(JSON.stringify({ ...o.values, server: { ...server, ha }, ui }))
        .digest("hex")
        .slice(0, 12);
    return `image ${o.image}, TLS ${o.tls ? "on" : "off"}, chart ${o.chartVersion}, values ${digest}`;
}
