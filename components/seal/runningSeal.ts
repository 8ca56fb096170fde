/**
 * Which seal a running release was configured with, read from the server configuration the chart put in its ConfigMap
 * (`<release>-config`, key extraconfig-from-values.hcl: vault-helm templates/server-config-configmap.yaml), and what
 * a change of it means: Vault's seal migration. A changed seal stanza reaches a pod at its next restart, and a pod
 * whose configuration names another seal than its storage enters migration mode: it no longer unseals, with keys or by
 * itself, until `vault operator unseal -migrate` (vault/core.go "migrate option not provided and seal migration is
 * pending"; docs concepts/seal#seal-migration). vault-ha's roll does Shamir -> auto seal (the roll step unseals each
 * replaced pod with the Shamir keys and migrate); every other change is refused before the release is touched.
 */
import type { PlanFixes } from "../cluster/existingPlan";
import { SEAL_TYPES, SealType } from "./sealTypes";

/** HashiCorp's procedure for the seal migrations vault-ha does not do itself. */
export const SEAL_MIGRATION_DOCS = "https://developer.hashicorp.com/vault/docs/concepts/seal#seal-migration";

/** The safe sequence for a migration by hand, for the refusals' messages. */
function byHand(from: string, keys: string): string {
    return (
        `The safe sequence, by hand (${SEAL_MIGRATION_DOCS}): save a snapshot (npm run snapshot); with the old and the new seal both reachable, ` +
        `restart the standbys one at a time with the new seal configuration (${from}) and unseal each with vault operator unseal -migrate and the ${keys}; ` +
        `step the active node down (vault operator step-down) and wait for a migrated standby to log "seal migration complete"; restart the old active node ` +
        `last; then set vault-ha:seal to match`
    );
}

/** The seal a server configuration names: its first `seal "<type>"` block, or shamir when it has none. */
export function sealOfServerConfig(hcl: string): SealType {
    const named = /^\s*seal\s+"([a-z0-9]+)"/m.exec(hcl)?.[1];
    if (named === undefined) return "shamir";
    if (!(SEAL_TYPES as readonly string[]).includes(named)) throw new Error(`the running server configuration names a seal vault-ha does not know: ${named}`);
    return named as SealType;
}

/**
 * The attributes of the first seal stanza of a server configuration (vault-ha writes each as `name = "value"` on its
 * own line: components/vault/hcl.ts); empty without one.
 */
export function sealStanzaOfServerConfig(hcl: string): Record<string, string> {
    const body = /^\s*seal\s+"[a-z0-9]+"\s*\{([^}]*)\}/m.exec(hcl)?.[1] ?? "";
    return Object.fromEntries([...body.matchAll(/^\s*([a-z_]+)\s*=\s*"([^"]*)"\s*$/gm)].map((m) => [m[1], m[2]]));
}

/**
 * What names the key a seal opens Vault with: the data stays encrypted by that key, so pods restarted onto another
 * one could not open it (go-kms-wrapping: gcpckms, azurekeyvault and transit decrypt with the configured key).
 */
const KEY_ATTRIBUTES: Record<Exclude<SealType, "shamir">, readonly string[]> = {
    awskms: ["kms_key_id"],
    gcpckms: ["project", "region", "key_ring", "crypto_key"],
    azurekeyvault: ["vault_name", "key_name"],
    transit: ["address", "mount_path", "key_name"],
};

/** The refusal of a new key for the same auto seal on a running release; undefined when the key stays. */
export function sealKeyChangeRefusal(type: SealType, running: Record<string, string>, wanted: Record<string, string>): string | undefined {
    if (type === "shamir" || Object.keys(running).length === 0) return undefined;
    const changed = KEY_ATTRIBUTES[type].filter((name) => (running[name] ?? "") !== (wanted[name] ?? ""));
    if (changed.length === 0) return undefined;
    const was = changed.map((name) => `${name} ${running[name] ?? "(none)"}`).join(", ");
    return (
        `the ${type} seal's key would change (${changed.map((name) => `${name} ${running[name] ?? "(none)"} -> ${wanted[name] ?? "(none)"}`).join(", ")}), ` +
        `but Vault's data stays encrypted by the key it was opened with: pods restarted onto another key could not open it. Moving to a new key ` +
        `is a seal migration, which vault-ha does not do (it migrates only from Shamir to an auto seal). Nothing was changed. Put the key settings back ` +
        `(${was}), or rotate within the same key (the KMS's own key rotation keeps the key's name). ` +
        byHand(`the old seal stanza with disabled = "true" beside the new one`, "recovery keys")
    );
}

/**
 * The refusal of a seal change on a running release, with the way back; undefined when the seal stays, and for Shamir
 * to an auto seal, which the roll migrates (sealMigrationNotice).
 */
export function sealChangeRefusal(running: SealType | undefined, wanted: SealType, fixes: Pick<PlanFixes, "set" | "rm">): string | undefined {
    if (running === undefined || running === wanted || isShamirToAuto(running, wanted)) return undefined;
    const back = running === "shamir" ? fixes.rm("seal") : fixes.set("seal", running);
    const keys = "recovery keys";
    const from = wanted === "shamir" ? `the ${running} stanza with disabled = "true"` : `the ${running} stanza with disabled = "true" beside the ${wanted} one`;
    return (
        `vault-ha:seal is ${wanted}, but the running Vault was configured with the ${running} seal: moving a live cluster between seals is ` +
        `Vault's seal migration (vault operator unseal -migrate, standbys first, the active node last); vault-ha does it only from shamir to an auto ` +
        `seal, and a pod restarted with the new seal would stay sealed until it is migrated. Nothing was changed. Put the setting back: ${back}. ` +
        byHand(from, keys)
    );
}

/**
 * A seal migration and a new replica count in one up: a pod that joins from an empty volume while the others migrate
 * cannot be unsealed with migrate (vault/core.go unsealFragment: "can't perform a seal migration while joining a raft
 * cluster"), nor open itself (its storage is not migrated yet). One change per up: the seal first.
 */
export function migrationWithScaleRefusal(running: number, wanted: number, fixes: Pick<PlanFixes, "set">): string {
    return (
        `vault-ha:vaultReplicas changes ${running} -> ${wanted} in the same up as the seal migration, and a pod that joins while the others ` +
        `migrate can be neither unsealed with the Shamir keys nor opened by the new seal. Nothing was changed. Migrate first with the ` +
        `running count (${fixes.set("vaultReplicas", running)}), then set the new count and run up again`
    );
}

/** The running seal is Shamir and the wanted one an auto seal: the migration vault-ha's roll does. */
export function isShamirToAuto(running: SealType | undefined, wanted: SealType): boolean {
    return running === "shamir" && wanted !== "shamir";
}

/**
 * The preview's and the up's warning for a Shamir -> auto seal migration, naming the pods the roll replaces; undefined
 * when there is none to do.
 */
export function sealMigrationNotice(running: SealType | undefined, wanted: SealType, pods: string[]): string | undefined {
    if (!isShamirToAuto(running, wanted)) return undefined;
    const which = pods.length ? ` (${pods.join(", ")})` : "";
    return (
        `seal migration shamir -> ${wanted}: a snapshot of Vault's data and its keys is taken first; the roll then replaces the pods${which} one at a time, ` +
        `standbys first, the active node last after a step-down; each is unsealed with the unseal keys and -migrate, and the first migrated node to become ` +
        `active completes the migration. Afterwards the unseal keys are recovery keys (stack output recoveryKeys, the key file's recovery_keys_b64): ` +
        `they no longer unseal Vault, its ${wanted} seal does`
    );
}
