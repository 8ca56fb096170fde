/**
 * How each auto-unseal seal names its key and the pod's workload identity, read from the settings `sealKey` and
 * `sealIdentity`: the form a user writes, an example for a fix, and what the seal stanza and the pods get from it.
 * Shared by the settings' rules (components/config/sealRules.ts) and the seal plan (sealPlan.ts), so that a value the
 * rules accept is one the plan can use.
 */
import type { AutoSealType } from "./sealTypes";

export interface SealKeyForm {
    /** The form, in words, for a message. */
    form: string;
    /** A fix's value: the form with placeholders. */
    example: string;
    /** The stanza's attributes for a key in this form, or undefined when the key is not in it. */
    stanza(key: string): Record<string, string> | undefined;
}

const AWS_KEY =
    /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_+=,.@:-]+|alias\/[A-Za-z0-9/_-]+|(mrk-)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const GCP_KEY = /^projects\/([a-z][a-z0-9.:-]{4,61}[a-z0-9])\/locations\/([a-z0-9-]+)\/keyRings\/([A-Za-z0-9_-]{1,63})\/cryptoKeys\/([A-Za-z0-9_-]{1,63})$/;
const AZURE_KEY = /^([A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9])\/([A-Za-z0-9-]{1,127})$/;
const TRANSIT_KEY = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * The stanza keys come from go-kms-wrapping's SetConfig of each wrapper, which refuses a configuration without them
 * (awskms kms_key_id; gcpckms project, region, key_ring, crypto_key; azurekeyvault vault_name, key_name; transit
 * key_name, with mount_path from the setting sealTransitMount).
 */
export const SEAL_KEY_FORMS: Record<AutoSealType, SealKeyForm> = {
    awskms: {
        form: "a KMS key id, key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), alias (alias/NAME) or alias ARN",
        example: "arn:aws:kms:<region>:<account>:key/<key-id>",
        stanza: (key) => (AWS_KEY.test(key) ? { kms_key_id: key } : undefined),
    },
    gcpckms: {
        form: "the key's resource name, projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY (gcloud kms keys describe KEY --keyring RING --location LOCATION --format 'value(name)')",
        example: "projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>",
        stanza: (key) => {
            const m = GCP_KEY.exec(key);
            return m ? { project: m[1], region: m[2], key_ring: m[3], crypto_key: m[4] } : undefined;
        },
    },
    azurekeyvault: {
        form: "VAULT_NAME/KEY_NAME: the Key Vault's name (3-24 letters, digits and hyphens), a slash, the key's name",
        example: "<key-vault-name>/<key-name>",
        stanza: (key) => {
            const m = AZURE_KEY.exec(key);
            return m ? { vault_name: m[1], key_name: m[2] } : undefined;
        },
    },
    transit: {
        form: "the transit key's name (letters, digits, _ . and -)",
        example: "<transit-key-name>",
        stanza: (key) => (TRANSIT_KEY.test(key) ? { key_name: key } : undefined),
    },
};

/** The seals that ask a cloud's KMS, with a workload identity of the cloud's Kubernetes. */
export type CloudSealType = Exclude<AutoSealType, "transit">;
export const CLOUD_SEALS: readonly CloudSealType[] = ["awskms", "gcpckms", "azurekeyvault"];

export function isCloudSeal(seal: string): seal is CloudSealType {
    return (CLOUD_SEALS as readonly string[]).includes(seal);
}

export interface IdentityForm {
    form: string;
    example: string;
    /** How the identity is named in a description: "IAM role ... (IRSA)". */
    describe(identity: string): string;
    /** What the pods get: the ServiceAccount's annotations and the pod template's labels, or undefined when not in the form. */
    apply(identity: string): { serviceAccountAnnotations: Record<string, string>; podLabels: Record<string, string> } | undefined;
    /** What the seal uses when no identity is set. */
    without: string;
}

/**
 * The workload identities: EKS IRSA (the webhook injects AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE into pods of an
 * annotated ServiceAccount), GKE Workload Identity (the annotated ServiceAccount impersonates the Google service
 * account; gcpckms uses Application Default Credentials), Azure Workload Identity (the webhook mutates only pods
 * labelled azure.workload.identity/use, with the client id the ServiceAccount's annotation names).
 */
export const IDENTITY_FORMS: Record<CloudSealType, IdentityForm> = {
    awskms: {
        form: "an IAM role ARN, arn:aws:iam::ACCOUNT:role/NAME (EKS IRSA)",
        example: "arn:aws:iam::<account>:role/<role-name>",
        describe: (arn) => `IAM role ${arn} (IRSA)`,
        apply: (arn) =>
            /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_/-]{1,200}$/.test(arn)
                ? { serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": arn }, podLabels: {} }
                : undefined,
        without: "the pod's own AWS credentials: EKS Pod Identity, else the node's role",
    },
    gcpckms: {
        form: "a Google service account's email, NAME@PROJECT.iam.gserviceaccount.com (GKE Workload Identity)",
        example: "<name>@<project>.iam.gserviceaccount.com",
        describe: (email) => `Google service account ${email} (GKE Workload Identity)`,
        apply: (email) =>
            /^[a-z0-9][a-z0-9.-]{0,62}@[a-z0-9.-]+\.gserviceaccount\.com$/.test(email)
                ? { serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": email }, podLabels: {} }
                : undefined,
        without: "the pod's Application Default Credentials: the Kubernetes ServiceAccount's own grant on the key, else the node's",
    },
    azurekeyvault: {
        form: "the client id (a GUID) of the managed identity or application the federated credential trusts (Azure Workload Identity)",
        example: "<client-id>",
        describe: (id) => `client id ${id} (Azure Workload Identity)`,
        apply: (id) =>
            /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(id)
                ? { serviceAccountAnnotations: { "azure.workload.identity/client-id": id }, podLabels: { "azure.workload.identity/use": "true" } }
                : undefined,
        without: "DefaultAzureCredential: the node's managed identity",
    },
};
