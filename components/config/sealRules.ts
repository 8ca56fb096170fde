/**
 * The rules between the seal settings (sealDeclarations.ts) and the others: each auto seal has the key (and, for
 * transit, the address and token) it needs, in the form its wrapper reads; a seal setting the chosen seal does not
 * use is refused rather than ignored; cloud seals need a cluster with workload identity; an auto seal needs no
 * in-cluster unsealer.
 */
import { problem, Problem } from "../problems";
import { CLOUD_SEALS, IDENTITY_FORMS, isCloudSeal, SEAL_KEY_FORMS } from "../seal/sealForms";
import { type AutoSealType, isAutoSeal, SEAL_TYPES, type SealType } from "../seal/sealTypes";
import { FixCommands, PROJECT } from "./configProblems";
import type { SettingName, Settings } from "./settingDeclarations";

const AUTO_SEALS = SEAL_TYPES.filter(isAutoSeal);

/** Each seal setting, and the seals that use it. */
export const SEAL_SETTING_USERS = {
    sealDisabled: AUTO_SEALS,
    sealKey: AUTO_SEALS,
    sealRegion: ["awskms"],
    sealIdentity: CLOUD_SEALS,
    sealTransitAddress: ["transit"],
    sealTransitMount: ["transit"],
    sealTransitCaCert: ["transit"],
} as const satisfies Partial<Record<SettingName, readonly AutoSealType[]>>;
export type SealSettingName = keyof typeof SEAL_SETTING_USERS;
const SEAL_SETTINGS = Object.keys(SEAL_SETTING_USERS) as SealSettingName[];

/** Whether `name` is a seal setting that `seal` does not use (so its fix is to remove it). */
export function unusedBySeal(name: SettingName, seal: SealType): boolean {
    if (!(name in SEAL_SETTING_USERS)) return false;
    return !(SEAL_SETTING_USERS[name as SealSettingName] as readonly SealType[]).includes(seal);
}

const or = (words: readonly string[]) => (words.length === 1 ? words[0] : `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`);

/** Where the transit token comes from in a fix: a file on stdin, so that it reaches neither an argv nor the shell's history. */
export const TRANSIT_TOKEN_FILE = "path/to/transit-token";

export interface SealRuleContext {
    isSet(name: SettingName): boolean;
    issue(name: SettingName, message: string, fix: string): void;
    report(found: Problem): void;
    fixes: FixCommands;
    /** vault-ha:sealTransitToken (a secret) is set. */
    sealTransitTokenGiven: boolean;
}

export function checkSealRules(v: Partial<Settings>, { isSet, issue, report, fixes, sealTransitTokenGiven }: SealRuleContext): void {
    const seal = v.seal;
    if (seal === undefined) return;
    const tokenName = `${PROJECT}:sealTransitToken`;
    for (const name of SEAL_SETTINGS) {
        if (isSet(name) && v[name] !== undefined && unusedBySeal(name, seal)) {
            issue(name, `is only used with seal ${or(SEAL_SETTING_USERS[name])} (seal is ${seal})`, fixes.rm(name));
        }
    }
    if (sealTransitTokenGiven && seal !== "transit") {
        report(problem(`${tokenName} is set, but only seal transit uses it (seal is ${seal})`, fixes.rm("sealTransitToken")));
    }
    if (!isAutoSeal(seal)) return;

    // Back to Shamir: the seal and every seal setting and secret removed.
    const toShamir = [
        fixes.rm("seal"),
        ...SEAL_SETTINGS.filter((name) => isSet(name)).map((name) => fixes.rm(name)),
        ...(sealTransitTokenGiven ? [fixes.rm("sealTransitToken")] : []),
    ].join(" && ");
    if (v.autoUnseal === "in-cluster") {
        issue(
            "autoUnseal",
            `is in-cluster, but seal ${seal} unseals Vault by itself: init makes recovery keys, which cannot unseal, so the unsealer would have nothing to send`,
            `${fixes.rm("autoUnseal")}, or ${toShamir}`,
        );
    }
    if (isCloudSeal(seal) && v.cluster === "kind") {
        issue(
            "seal",
            `cannot be ${seal} on cluster: kind, whose pods have no cloud workload identity to reach the KMS with (seal transit works on kind)`,
            `${toShamir}, or ${fixes.set("cluster", "existing")}`,
        );
    }
    const keyForm = SEAL_KEY_FORMS[seal];
    if (v.sealKey === "") {
        issue("sealKey", `must name the key with seal ${seal}: ${keyForm.form}`, fixes.set("sealKey", keyForm.example));
    } else if (v.sealKey !== undefined && keyForm.stanza(v.sealKey) === undefined) {
        issue("sealKey", `is not ${keyForm.form}, as seal ${seal} needs`, fixes.set("sealKey", keyForm.example));
    }
    if (isCloudSeal(seal) && v.sealIdentity !== undefined && v.sealIdentity !== "" && IDENTITY_FORMS[seal].apply(v.sealIdentity) === undefined) {
        const identity = IDENTITY_FORMS[seal];
        issue(
            "sealIdentity",
            `is not ${identity.form}, as seal ${seal} needs`,
            `${fixes.set("sealIdentity", identity.example)}, or ${fixes.rm("sealIdentity")} (${identity.without})`,
        );
    }
    if (seal === "transit") {
        if (v.sealTransitAddress === "") {
            issue(
                "sealTransitAddress",
                "must be set with seal transit: the https:// address of the Vault whose transit engine seals this one",
                fixes.set("sealTransitAddress", "https://<transit-vault-host>:8200"),
            );
        }
        if (!sealTransitTokenGiven) {
            report(
                problem(
                    `${tokenName} is not set: seal transit needs a token of the transit Vault that may encrypt and decrypt with its key (update on transit/encrypt/KEY and transit/decrypt/KEY)`,
                    fixes.setSecretFromFile("sealTransitToken", TRANSIT_TOKEN_FILE),
                ),
            );
        }
    }
}
