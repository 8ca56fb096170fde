/**
 * Which seal a running release was configured with, read from the server configuration the chart put in its ConfigMap
 * (`<release>-config`, key extraconfig-from-values.hcl: vault-helm templates/server-config-configmap.yaml), and what
 * a change of it means: Vault's seal migration, which vault-ha does not do. A changed seal stanza reaches a pod at its
 * next restart, and a pod whose configuration names another seal than its storage enters migration mode: it no longer
 * unseals, with keys or by itself, until `vault operator unseal -migrate` (vault/core.go "migrate option not provided
 * and seal migration is pending"; docs concepts/seal#seal-migration). So the change is refused before the release is
 * touched.
 */
import type { PlanFixes } from "../cluster/existingPlan";
import { SEAL_TYPES, SealType } from "./sealTypes";

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
        `is a seal migration, which vault-ha does not do. Nothing was changed. Put the key settings back (${was}), or rotate within the same key ` +
        `(the KMS's own key rotation keeps the key's name)`
    );
}

/** The refusal of a seal change on a running release, with the way back; undefined when the seal stays. */
export function sealChangeRefusal(running: SealType | undefined, wanted: SealType, fixes: Pick<PlanFixes, "set" | "rm">): string | undefined {
    if (running === undefined || running === wanted) return undefined;
    const back = running === "shamir" ? fixes.rm("seal") : fixes.set("seal", running);
    return (
        `vault-ha:seal is ${wanted}, but the running Vault was configured with the ${running} seal: moving a live cluster between seals is ` +
        `Vault's seal migration (vault operator unseal -migrate, standbys first, the active node last), which vault-ha does not do, and a pod ` +
        `restarted with the new seal would stay sealed until it is migrated. Nothing was changed. Put the setting back: ${back}. ` +
        `To move seals, follow https://developer.hashicorp.com/vault/docs/concepts/seal#seal-migration by hand, then set vault-ha:seal to match`
    );
}
