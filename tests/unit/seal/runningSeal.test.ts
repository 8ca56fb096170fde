/**
 * The seal a running release was configured with (components/seal/runningSeal.ts), read from the server configuration
 * vault-ha itself renders, and the refusal of a change of it.
 */
import { strict as assert } from "assert";
import { FixCommands } from "../../../components/config/configProblems";
import { parseSettings } from "../../../components/config/settings";
import {
    sealChangeRefusal,
    sealKeyChangeRefusal,
    sealMigrationNotice,
    sealOfServerConfig,
    sealStanzaOfServerConfig,
} from "../../../components/seal/runningSeal";
import { AutoSealPlan, sealPlan } from "../../../components/seal/sealPlan";
import { vaultServerHcl } from "../../../components/vault/vaultValues";

describe("the running seal", () => {
    it("is read from the configuration vault-ha renders: shamir without a stanza, else the stanza's type", () => {
        assert.equal(sealOfServerConfig(vaultServerHcl(true)), "shamir");
        assert.equal(sealOfServerConfig(vaultServerHcl(false)), "shamir");
        const settings = parseSettings({
            cluster: "existing",
            kubeContext: "prod",
            seal: "awskms",
            sealKey: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        }).settings!;
        assert.ok(settings, "valid settings");
        assert.equal(sealOfServerConfig(vaultServerHcl(true, { seal: sealPlan(settings) as AutoSealPlan, replicas: 3 })), "awskms");
        assert.throws(() => sealOfServerConfig('seal "pkcs11" {\n}\n'), /names a seal vault-ha does not know: pkcs11/);
    });

    it("shamir -> an auto seal is the roll's migration: announced with the pods, not refused", () => {
        const fixes = new FixCommands();
        for (const type of ["awskms", "gcpckms", "azurekeyvault", "transit"] as const) {
            assert.equal(sealChangeRefusal("shamir", type, fixes), undefined, type);
            const notice = sealMigrationNotice("shamir", type, ["vault-0", "vault-1", "vault-2"])!;
            assert.match(notice, new RegExp(`^seal migration shamir -> ${type}: a snapshot of Vault's data and its keys is taken first`));
            assert.match(notice, /replaces the pods \(vault-0, vault-1, vault-2\) one at a time, standbys first, the active node last after a step-down/);
            assert.match(notice, /each is unsealed with the unseal keys and -migrate/);
            assert.match(notice, /Afterwards the unseal keys are recovery keys/);
        }
        assert.equal(sealMigrationNotice(undefined, "awskms", []), undefined, "a first install migrates nothing");
        assert.equal(sealMigrationNotice("awskms", "awskms", ["vault-0"]), undefined);
        assert.equal(sealMigrationNotice("awskms", "shamir", ["vault-0"]), undefined, "refused, not announced");
        assert.equal(sealMigrationNotice("shamir", "shamir", ["vault-0"]), undefined);
    });

    it("any other change is refused with the way back and the safe sequence by hand; the same seal, or none known yet, is not", () => {
        const fixes = new FixCommands();
        assert.equal(sealChangeRefusal(undefined, "awskms", fixes), undefined);
        assert.equal(sealChangeRefusal("awskms", "awskms", fixes), undefined);
        const back = sealChangeRefusal("transit", "shamir", new FixCommands("prod"))!;
        assert.match(back, /Put the setting back: PULUMI_STACK=prod npm run config -- set vault-ha:seal transit\./);
        assert.match(back, /vault-ha does it only from shamir to an auto seal/);
        assert.match(back, /https:\/\/developer\.hashicorp\.com\/vault\/docs\/concepts\/seal#seal-migration/);
        assert.match(
            back,
            /save a snapshot \(npm run snapshot\); .*the transit stanza with disabled = "true"\).*-migrate and the recovery keys; step the active node down/,
        );
        const across = sealChangeRefusal("awskms", "transit", fixes)!;
        assert.match(across, /vault-ha:seal is transit, but the running Vault was configured with the awskms seal/);
        assert.match(across, /Put the setting back: npm run config -- set vault-ha:seal awskms\./);
        assert.match(across, /the awskms stanza with disabled = "true" beside the transit one/);
    });

    it("the running stanza is read back as written, and a new key for the same seal is refused", () => {
        const settings = (key: string) => parseSettings({ cluster: "existing", kubeContext: "prod", seal: "gcpckms", sealKey: key }).settings!;
        const key = "projects/my-project/locations/global/keyRings/vault/cryptoKeys/unseal";
        const plan = sealPlan(settings(key)) as AutoSealPlan;
        const running = sealStanzaOfServerConfig(vaultServerHcl(true, { seal: plan, replicas: 3 }));
        assert.deepEqual(running, plan.stanza, "what the configuration holds is what the plan wrote");
        assert.equal(sealKeyChangeRefusal("gcpckms", running, plan.stanza), undefined);
        const other = sealPlan(settings("projects/my-project/locations/global/keyRings/vault/cryptoKeys/other")) as AutoSealPlan;
        assert.match(
            sealKeyChangeRefusal("gcpckms", running, other.stanza)!,
            /crypto_key unseal -> other.*seal migration, which vault-ha does not do \(it migrates only from Shamir to an auto seal\)\. Nothing was changed/,
        );
        assert.match(sealKeyChangeRefusal("gcpckms", running, other.stanza)!, /developer\.hashicorp\.com\/vault\/docs\/concepts\/seal#seal-migration/);
        assert.equal(sealKeyChangeRefusal("gcpckms", {}, other.stanza), undefined, "nothing running to compare with");
        assert.deepEqual(sealStanzaOfServerConfig(vaultServerHcl(true)), {});
    });
});
