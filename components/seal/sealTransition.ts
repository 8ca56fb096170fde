/**
 * What an up does about the seal of a running release: nothing, Shamir -> auto (the roll migrates), auto -> Shamir
 * (the roll migrates, then a second up takes the old seal out of the configuration), or a refusal before anything is
 * touched. Decided once, here, from three facts: the seal the settings ask for, the seal stanza of the running server
 * configuration (the release's ConfigMap), and the seal Vault's storage holds (a node's `vault status`).
 *
 * The way back follows HashiCorp's procedure (docs concepts/seal#seal-migration, "Migration post Vault 1.5.1"): the
 * old seal stays in the configuration with `disabled = "true"`, each restarted node is in migration mode and is
 * unsealed with the recovery keys and migrate, and the node that becomes active after the step-down migrates (vault/
 * core.go migrateSeal: the recovery key becomes the Shamir key, the recovery shares the unseal shares). Until the
 * disabled stanza is gone every pod start still configures that seal (command/server.go), so once storage holds
 * Shamir the next up renders the configuration without it and the roll restarts the pods onto plain Shamir.
 */
import type { PlanFixes } from "../cluster/existingPlan";
import { isShamirToAuto, migrationWithScaleRefusal, SEAL_MIGRATION_DOCS, sealChangeRefusal, sealKeyChangeRefusal, sealMigrationNotice } from "./runningSeal";
import { isAutoSeal, type SealType } from "./sealTypes";

/** The seal the settings ask for: an auto seal's stanza, and whether it is being retired (vault-ha:sealDisabled). */
export interface WantedSeal {
    type: SealType;
    stanza?: Record<string, string>;
    disabled?: boolean;
}

/** The running release's seal; undefined before the first install. */
export interface RunningSeal {
    /** The seal stanza's type in the server configuration, shamir without one. */
    configured: SealType;
    /** That stanza's attributes (`disabled = "true"` among them while a migration to Shamir is under way). */
    stanza: Record<string, string>;
    /** The barrier seal type a node reports (sys/seal-status `type`); undefined when no node answered. */
    stored?: SealType;
}

export type SealTransition =
    /** The configuration the settings give is rendered as it is; notice: what the roll does about the seal. */
    | { kind: "render"; notice?: string; migrating: boolean }
    /** The old seal stays in the configuration, disabled: the roll migrates to Shamir. */
    | { kind: "to-shamir"; notice: string }
    /** Storage holds Shamir: the configuration is rendered without any seal stanza. */
    | { kind: "shamir-only"; notice?: string }
    | { kind: "refused"; message: string };

const isDisabled = (stanza: Record<string, string>) => stanza.disabled === "true";
/** The key attributes of a stanza, without its `disabled` flag, for the key-change check. */
const keyOf = (stanza: Record<string, string>) => Object.fromEntries(Object.entries(stanza).filter(([name]) => name !== "disabled"));

export function sealTransition(
    running: RunningSeal | undefined,
    wanted: WantedSeal,
    context: { pods: string[]; runningReplicas?: number; wantedReplicas: number; fixes: PlanFixes },
): SealTransition {
    const { fixes } = context;
    const scaled = context.runningReplicas !== undefined && context.runningReplicas !== context.wantedReplicas;
    const oneChangeAtATime = (t: SealTransition): SealTransition =>
        (t.kind === "to-shamir" || (t.kind === "render" && t.migrating)) && scaled
            ? { kind: "refused", message: migrationWithScaleRefusal(context.runningReplicas!, context.wantedReplicas, fixes) }
            : t;

    if (wanted.disabled && isAutoSeal(wanted.type)) {
        if (running === undefined) {
            return {
                kind: "refused",
                message:
                    `vault-ha:sealDisabled is true, but there is no running Vault to move off the ${wanted.type} seal: it only migrates a running ` +
                    `cluster back to Shamir. A new stack starts on Shamir without it: ${fixes.rm("sealDisabled")} && ${fixes.rm("seal")}, and remove the other seal settings`,
            };
        }
        return oneChangeAtATime(toShamir(running, { ...wanted, type: wanted.type }, context.pods, fixes));
    }

    const disabledRunning = running !== undefined && running.configured !== "shamir" && isDisabled(running.stanza);
    if (disabledRunning) {
        // A migration to Shamir was started (the disabled stanza is in the configuration).
        if (running.stored === "shamir") {
            if (wanted.type === "shamir") return { kind: "shamir-only", notice: stripNotice(running.configured, context.pods) };
            // Vault runs on Shamir already: an auto seal now is the roll's Shamir -> auto migration.
            return oneChangeAtATime(toAuto("shamir", wanted, context.pods));
        }
        return { kind: "refused", message: unfinishedToShamir(running.configured, wanted, fixes) };
    }

    const configured = running?.configured;
    const change = sealChangeRefusal(configured, wanted.type, fixes);
    if (change) return { kind: "refused", message: wanted.type === "shamir" && configured !== undefined ? backToShamirHow(configured, fixes) : change };
    if (configured !== undefined && wanted.stanza && wanted.type === configured) {
        const keyChange = sealKeyChangeRefusal(wanted.type, keyOf(running!.stanza), keyOf(wanted.stanza));
        if (keyChange) return { kind: "refused", message: keyChange };
    }
    return oneChangeAtATime(toAuto(configured, wanted, context.pods));
}

function toAuto(configured: SealType | undefined, wanted: WantedSeal, pods: string[]): SealTransition {
    const notice = sealMigrationNotice(configured, wanted.type, pods);
    return { kind: "render", migrating: isShamirToAuto(configured, wanted.type), ...(notice ? { notice } : {}) };
}

function toShamir(running: RunningSeal, wanted: WantedSeal & { type: Exclude<SealType, "shamir"> }, pods: string[], fixes: PlanFixes): SealTransition {
    if (running.configured === "shamir" || running.stored === "shamir") {
        // Storage holds Shamir (the migration is done), or the release never had a seal stanza: Shamir only.
        const notice =
            running.configured === "shamir"
                ? `vault-ha:sealDisabled is true and Vault runs on Shamir with no seal in its configuration: nothing to migrate. ${settingsGoNotice(wanted.type, fixes)}`
                : stripNotice(running.configured, pods, settingsGoNotice(wanted.type, fixes));
        return { kind: "shamir-only", notice };
    }
    if (running.configured !== wanted.type) {
        return {
            kind: "refused",
            message:
                `vault-ha:sealDisabled is true for seal ${wanted.type}, but the running Vault is configured with the ${running.configured} seal: ` +
                `only the seal Vault runs on can be disabled. Nothing was changed. ${fixes.set("seal", running.configured)}, with that seal's settings`,
        };
    }
    const keyChange = wanted.stanza ? sealKeyChangeRefusal(wanted.type, keyOf(running.stanza), keyOf(wanted.stanza)) : undefined;
    if (keyChange) return { kind: "refused", message: keyChange };
    const which = pods.length ? ` (${pods.join(", ")})` : "";
    return {
        kind: "to-shamir",
        notice:
            `seal migration ${wanted.type} -> shamir: the ${wanted.type} seal stays in Vault's configuration, disabled, and must answer throughout. ` +
            `A snapshot of Vault's data and its keys is taken first; the roll then replaces the pods${which} one at a time, standbys first, the ` +
            `active node last after a step-down; each is unsealed with the recovery keys and -migrate, and the first migrated node to become active ` +
            `completes the migration. Afterwards the recovery keys are the unseal keys (stack output unsealKeys, the key file's unseal_keys_b64). ` +
            `Then run up once more: it takes the disabled seal out of the configuration, so that a pod start no longer needs the ${wanted.type} key`,
    };
}

function stripNotice(from: SealType, pods: string[], then = ""): string {
    const which = pods.length ? ` (${pods.join(", ")})` : "";
    return (
        `Vault's storage holds the Shamir seal: the disabled ${from} seal leaves its configuration, and the roll restarts the pods${which} onto ` +
        `Shamir alone, each unsealed with the unseal keys.${then ? ` ${then}` : ""}`
    );
}

function settingsGoNotice(type: SealType, fixes: PlanFixes): string {
    return `Once this up is done, remove the ${type} seal's settings: ${fixes.rm("seal")} && ${fixes.rm("sealDisabled")}, and the other seal settings (sealKey, ...)`;
}

function unfinishedToShamir(from: SealType, wanted: WantedSeal, fixes: PlanFixes): string {
    const asked = wanted.type === "shamir" ? "seal is shamir" : `seal is ${wanted.type} without sealDisabled`;
    return (
        `Vault is part-way through a migration off the ${from} seal (its configuration has the ${from} seal disabled; its storage does not ` +
        `hold Shamir yet), but vault-ha:${asked}. Nothing was changed. Finish the migration first: ${fixes.set("seal", from)} && ` +
        `${fixes.set("sealDisabled", "true")}, with the ${from} seal's settings, and run up again; afterwards a move to another seal starts from Shamir`
    );
}

function backToShamirHow(from: SealType, fixes: PlanFixes): string {
    return (
        `vault-ha:seal is shamir, but the running Vault opens itself with the ${from} seal: moving it back to Shamir is Vault's seal migration, ` +
        `which needs the ${from} seal in the configuration, disabled, while it runs. Nothing was changed. Keep seal ${from} and its settings and ` +
        `retire it: ${fixes.set("seal", from)} && ${fixes.set("sealDisabled", "true")}, then run up (${SEAL_MIGRATION_DOCS})`
    );
}

/** What a node's `vault status` says about its seal (components/runner/vaultOps.ts SealStatus). */
export interface NodeSeal {
    initialized: boolean;
    sealed: boolean;
    isSelf: boolean;
    type?: string;
    migration?: boolean;
    recoverySeal?: boolean;
}

/**
 * The seal Vault's storage holds, as the nodes tell it; undefined when they do not agree or nothing answered. A node
 * in migration mode already reports the target seal's type before the migration (back to Shamir its Shamir seal's
 * cached configuration), so only nodes with `migration` false count; the active node, which performed any migration,
 * is asked first; a node still running the old configuration after a migration may report the old type, so without
 * an active node the others must agree.
 */
export function storedSealOf(nodes: Array<NodeSeal | undefined>): SealType | undefined {
    const settled = nodes.filter((n): n is NodeSeal => n !== undefined && n.initialized && n.migration !== true && n.type !== undefined);
    const typeOf = (n: NodeSeal) => (n.type === "shamir" && n.recoverySeal !== true ? "shamir" : n.type === "shamir" ? undefined : n.type);
    const active = settled.find((n) => n.isSelf && !n.sealed);
    if (active) return typeOf(active) as SealType | undefined;
    const types = new Set(settled.map(typeOf));
    return types.size === 1 ? ([...types][0] as SealType | undefined) : undefined;
}
