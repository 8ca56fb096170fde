/**
 * The seals vault-ha can configure, named as Vault's `seal` stanza names them (docs: configuration/seal). `shamir` is
 * no stanza at all: Vault's default, opened with unseal key shares. The others are auto-unseal seals: Vault opens
 * itself with a key it asks a KMS (or another Vault's transit engine) to decrypt, and `vault operator init` makes
 * recovery keys instead of unseal keys (http/sys_init.go refuses secret_shares with them).
 */
export const SEAL_TYPES = ["shamir", "awskms", "gcpckms", "azurekeyvault", "transit"] as const;
export type SealType = (typeof SEAL_TYPES)[number];
export type AutoSealType = Exclude<SealType, "shamir">;

export function isAutoSeal(seal: SealType): seal is AutoSealType {
    return seal !== "shamir";
}
