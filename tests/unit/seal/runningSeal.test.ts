/**
 * The seal a running release was configured with (components/seal/runningSeal.ts), read from the server configuration
 * vault-ha itself renders, and the refusal of a change of it.
 */
import { strict as assert } from "assert";
import { FixCommands } from "../../../components/config/configProblems";
import { parseSettings } from "../../../components/config/settings";
import { sealChangeRefusal, sealKeyChangeRefusal, sealOfServerConfig, sealStanzaOfServerConfig } from "../../../components/seal/runningSeal";
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

    it("a change is refused with the way back; the same seal, or none known yet, is not", () => {
        const fixes = new FixCommands();
        assert.equal(sealChangeRefusal(undefined, "awskms", fixes), undefined);
        assert.equal(sealChangeRefusal("awskms", "awskms", fixes), undefined);
        assert.match(sealChangeRefusal("shamir", "awskms", fixes)!, /Put the setting back: npm run config -- rm vault-ha:seal\./);
        assert.match(
            sealChangeRefusal("transit", "shamir", new FixCommands("prod"))!,
            /Put the setting back: PULUMI_STACK=prod npm run config -- set vault-ha:seal transit\./,
        );
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
            /crypto_key unseal -> other.*seal migration, which vault-ha does not do\. Nothing was changed/,
        );
        assert.equal(sealKeyChangeRefusal("gcpckms", {}, other.stanza), undefined, "nothing running to compare with");
        assert.deepEqual(sealStanzaOfServerConfig(vaultServerHcl(true)), {});
    });
});
