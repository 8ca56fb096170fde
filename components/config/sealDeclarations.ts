/**
 * The seal settings (issue 21): which seal Vault opens itself with, and what that seal needs. Declared as in
 * settingDeclarations.ts, which places them after keyThreshold; their rules between settings are in sealRules.ts.
 * The transit token is no setting: it is the secret vault-ha:sealTransitToken (SECRET_SETTINGS).
 */
import * as g from "./grammars";
import * as sg from "./sealGrammars";
import type { Declaration } from "./settingDeclarations";
import { SEAL_TYPES, type SealType } from "../seal/sealTypes";

const declare = <T>(declaration: Declaration<T>): Declaration<T> => declaration;

export const SEAL_DECLARATIONS = {
    seal: declare<SealType>({
        default: "shamir",
        parse: g.oneOf(SEAL_TYPES),
        row: {
            meaning:
                "`shamir`: Vault opens with `keyThreshold` unseal keys; `awskms`, `gcpckms`, `azurekeyvault` (`cluster: existing` only) or `transit`: Vault opens itself with a KMS key (or another Vault's transit key), and `keyShares` / `keyThreshold` make recovery keys instead; see [Unsealing](#unsealing)",
        },
        doc: "shamir (unseal keys), or an auto-unseal seal: awskms, gcpckms, azurekeyvault (cluster existing only) or transit (a Vault you run). With an auto seal, keyShares/keyThreshold are the recovery keys'. A running Shamir stack migrates to an auto seal; back to Shamir with sealDisabled.",
    }),
    sealDisabled: declare<boolean>({
        default: false,
        parse: g.bool,
        row: {
            meaning:
                '`true` moves a running Vault off its auto seal back to Shamir (Vault\'s `disabled = "true"` on the old seal): keep `seal` and its settings until the up says the migration is done; see [Unsealing](#unsealing)',
        },
        doc: "true: migrate a running Vault from its auto seal back to Shamir unseal keys (the seal stanza is written disabled). Keep seal and its settings until the up that completes the migration says they can go.",
    }),
    sealKey: declare<string>({
        default: "",
        parse: sg.serverConfigValue(),
        hint: "<key>",
        row: {
            meaning:
                "with an auto seal, its key: awskms a key id, ARN or `alias/NAME`; gcpckms `projects/P/locations/L/keyRings/R/cryptoKeys/K`; azurekeyvault `VAULT_NAME/KEY_NAME`; transit the transit key's name",
        },
        doc: "With an auto seal, its key: awskms a KMS key id, ARN or alias/NAME; gcpckms projects/P/locations/L/keyRings/R/cryptoKeys/K; azurekeyvault VAULT_NAME/KEY_NAME; transit the transit key's name.",
    }),
    sealRegion: declare<string>({
        default: "",
        parse: sg.awsRegion,
        hint: "eu-west-1",
        row: { meaning: "with `seal: awskms`, the key's region; empty: the region the pod's identity gives (`AWS_REGION`)" },
        doc: "With seal awskms: the KMS key's region; empty: the region the pod's AWS identity gives (AWS_REGION).",
    }),
    sealIdentity: declare<string>({
        default: "",
        parse: sg.identityText,
        hint: "<identity>",
        row: {
            meaning:
                "with a cloud seal, the pods' workload identity: awskms an IAM role ARN (IRSA), gcpckms a Google service account's email (GKE Workload Identity), azurekeyvault a client id (Azure Workload Identity); empty: the pods' own credentials",
        },
        doc: "With a cloud seal, the workload identity of Vault's pods: awskms an IAM role ARN (IRSA), gcpckms a Google service account email (GKE Workload Identity), azurekeyvault a client id (Azure Workload Identity). Empty: the pods' own credentials.",
    }),
    sealTransitAddress: declare<string>({
        default: "",
        parse: sg.transitAddress,
        hint: "https://<transit-vault-host>:8200",
        row: {
            meaning:
                "with `seal: transit`, the address of the Vault whose transit engine opens this one, `https://HOST[:PORT]`; its token is the secret `sealTransitToken` (`npm run config -- set --secret vault-ha:sealTransitToken < token-file`)",
            with: ["sealTransitMount"],
        },
        doc: "With seal transit: the https:// address of the Vault whose transit engine seals this one. Its token is the secret vault-ha:sealTransitToken.",
    }),
    sealTransitMount: declare<string>({
        default: "transit",
        parse: sg.transitMount,
        doc: "With seal transit: the mount path of the transit engine on that Vault.",
    }),
    sealTransitCaCert: declare<string>({
        default: "",
        parse: sg.pemCertificates,
        hint: "< transit-ca.pem",
        row: {
            meaning:
                "with `seal: transit`, the PEM CA that signed the transit Vault's certificate (`npm run config -- set vault-ha:sealTransitCaCert < ca.pem`); empty: the image's public CAs",
        },
        doc: "With seal transit: the PEM CA certificate(s) that verify the transit Vault's certificate. Empty: the public CAs of the Vault image.",
    }),
};
