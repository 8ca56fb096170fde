/**
 * The seal plan: from the settings, what Vault's seal needs on the cluster, as plain data. The `seal "<type>"`
 * stanza's attributes (never a secret: the server configuration is a ConfigMap), the ServiceAccount annotations and
 * pod labels of the workload identity, the secrets the pods read from the environment, the files they mount, and
 * one phrase naming the key and the identity for messages. components/vault/vaultValues.ts turns it into chart
 * values; the bootstrap names `describe` when the KMS does not answer.
 *
 * How Vault reads it (hashicorp/vault internalshared/configutil kms.go, env_var_util.go): the stanza's keys, merged
 * with environment variables. For transit the stanza's `address` wins over VAULT_ADDR (which the chart sets to the
 * pod itself), and any tls_* key in the stanza makes Vault ignore VAULT_CACERT (which, with TLS on, names the pods'
 * own CA): so both are always written. The token is never written: Vault reads it from VAULT_TOKEN.
 */
import type { Settings } from "../config/settingDeclarations";
import { IDENTITY_FORMS, isCloudSeal, SEAL_KEY_FORMS } from "./sealForms";
import { type AutoSealType, isAutoSeal } from "./sealTypes";

/** The Secret the program writes for a transit seal, in Vault's namespace, before the release. */
export const SEAL_SECRET = { name: "vault-ha-seal", tokenKey: "token", caKey: "ca.crt" } as const;
/** Where the pods mount the transit CA (only that key of the Secret: the token stays out of the file system). */
export const SEAL_CA_DIR = `/vault/userconfig/${SEAL_SECRET.name}`;
export const SEAL_CA_FILE = `${SEAL_CA_DIR}/${SEAL_SECRET.caKey}`;
/** The public CA bundle of the Vault image (Alpine's ca-certificates), for a transit Vault with a public certificate. */
export const PUBLIC_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** An environment variable of the vault container read from a Secret (the chart's server.extraSecretEnvironmentVars). */
export interface SecretEnv {
    envName: string;
    secretName: string;
    secretKey: string;
}

/** A file the vault container mounts from one key of a Secret. */
export interface SecretFile {
    secretName: string;
    secretKey: string;
    /** The file's path in the container. */
    path: string;
}

export interface ShamirSealPlan {
    type: "shamir";
}

export interface AutoSealPlan {
    type: AutoSealType;
    /** The `seal "<type>"` stanza's attributes, in the order they are written. */
    stanza: Record<string, string>;
    serviceAccountAnnotations: Record<string, string>;
    podLabels: Record<string, string>;
    secretEnv: SecretEnv[];
    /** Plain environment variables of the Vault container (server.extraEnvironmentVars). */
    env?: Record<string, string>;
    files?: SecretFile[];
    /** transit: the Secret the program writes; the token is given at up (vault-ha:sealTransitToken), never in the plan. */
    secret?: { name: string; tokenKey: string; caCert?: { key: string; pem: string } };
    /** The key and the identity in one phrase, for messages: "AWS KMS key ... through IAM role ... (IRSA)". */
    describe: string;
    /**
     * vault-ha:sealDisabled: Vault is moving off this seal back to Shamir; the stanza carries `disabled = "true"`
     * (sealTransition.ts decides, from the running cluster, whether it is rendered at all).
     */
    disabled?: boolean;
}

export type SealPlan = ShamirSealPlan | AutoSealPlan;

export const SHAMIR_SEAL: ShamirSealPlan = { type: "shamir" };

export function isAutoSealPlan(plan: SealPlan | undefined): plan is AutoSealPlan {
    return plan !== undefined && plan.type !== "shamir";
}

type SealSettings = Partial<Pick<Settings, "sealDisabled">> &
    Pick<Settings, "seal" | "sealKey" | "sealRegion" | "sealIdentity" | "sealTransitAddress" | "sealTransitMount" | "sealTransitCaCert">;

const KMS_NAMES: Record<AutoSealType, string> = {
    awskms: "AWS KMS key",
    gcpckms: "GCP Cloud KMS key",
    azurekeyvault: "Azure Key Vault key",
    transit: "transit key",
};

/** The plan for valid settings (components/config/sealRules.ts checked them); throws on a key the rules would refuse. */
export function sealPlan(s: SealSettings): SealPlan {
    const plan = enabledSealPlan(s);
    // Vault's own form for a seal being migrated away from (command/server.go: a lone disabled seal means Shamir).
    return isAutoSealPlan(plan) && s.sealDisabled ? { ...plan, stanza: { ...plan.stanza, disabled: "true" }, disabled: true } : plan;
}

function enabledSealPlan(s: SealSettings): SealPlan {
    if (!isAutoSeal(s.seal)) return SHAMIR_SEAL;
    const seal = s.seal;
    const keyAttributes = SEAL_KEY_FORMS[seal].stanza(s.sealKey);
    if (!keyAttributes) throw new Error(`sealPlan: sealKey ${JSON.stringify(s.sealKey)} is not ${SEAL_KEY_FORMS[seal].form}`);
    if (seal === "transit") return transitPlan(s, keyAttributes);

    const identity = isCloudSeal(seal) && s.sealIdentity !== "" ? IDENTITY_FORMS[seal] : undefined;
    const applied = identity?.apply(s.sealIdentity);
    if (identity && !applied) throw new Error(`sealPlan: sealIdentity ${JSON.stringify(s.sealIdentity)} is not ${identity.form}`);
    const region: Record<string, string> = seal === "awskms" && s.sealRegion !== "" ? { region: s.sealRegion } : {};
    const where = seal === "awskms" && s.sealRegion !== "" ? ` in ${s.sealRegion}` : "";
    const through = applied ? identity!.describe(s.sealIdentity) : IDENTITY_FORMS[seal as Exclude<AutoSealType, "transit">].without;
    return {
        type: seal,
        stanza: { ...region, ...keyAttributes },
        serviceAccountAnnotations: applied?.serviceAccountAnnotations ?? {},
        podLabels: applied?.podLabels ?? {},
        secretEnv: [],
        // Vault lets AWS_REGION / AWS_DEFAULT_REGION override the stanza's region (internalshared/configutil
        // env_var_util.go AWSKMSEnvVars), and EKS's identity webhook injects the cluster's region into them: the pod
        // states the setting's region itself, in both, so the key's region wins (the webhook leaves variables a
        // container sets alone: inference from amazon-eks-pod-identity-webhook, to be confirmed on EKS).
        ...(region.region ? { env: { AWS_REGION: region.region, AWS_DEFAULT_REGION: region.region } } : {}),
        describe: `${KMS_NAMES[seal]} ${s.sealKey}${where} through ${through}`,
    };
}

function transitPlan(s: SealSettings, keyAttributes: Record<string, string>): AutoSealPlan {
    const address = s.sealTransitAddress.replace(/\/+$/, "");
    const mount = `${s.sealTransitMount}/`;
    const caCert = s.sealTransitCaCert.trim() !== "" ? { key: SEAL_SECRET.caKey, pem: s.sealTransitCaCert } : undefined;
    return {
        type: "transit",
        stanza: { address, mount_path: mount, ...keyAttributes, tls_ca_cert: caCert ? SEAL_CA_FILE : PUBLIC_CA_BUNDLE },
        serviceAccountAnnotations: {},
        podLabels: {},
        secretEnv: [{ envName: "VAULT_TOKEN", secretName: SEAL_SECRET.name, secretKey: SEAL_SECRET.tokenKey }],
        ...(caCert ? { files: [{ secretName: SEAL_SECRET.name, secretKey: SEAL_SECRET.caKey, path: SEAL_CA_FILE }] } : {}),
        secret: { name: SEAL_SECRET.name, tokenKey: SEAL_SECRET.tokenKey, ...(caCert ? { caCert } : {}) },
        describe: `${KMS_NAMES.transit} ${s.sealKey} at ${address}/v1/${mount} (token in Secret ${SEAL_SECRET.name}, verified with ${caCert ? "the CA of sealTransitCaCert" : "the image's public CAs"})`,
    };
}
