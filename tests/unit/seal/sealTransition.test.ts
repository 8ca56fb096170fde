/**
 * What an up does about a running release's seal (components/seal/sealTransition.ts): from the settings, the running
 * configuration's seal stanza and the seal storage holds. The way back to Shamir follows HashiCorp's procedure
 * (/work/research/auto-to-shamir.md): the old seal disabled while storage holds it, then no seal at all.
 */
import { strict as assert } from "assert";
import { FixCommands } from "../../../components/config/configProblems";
import { RunningSeal, sealTransition, storedSealOf, WantedSeal } from "../../../components/seal/sealTransition";

const fixes = new FixCommands();
const context = { pods: ["vault-0", "vault-1", "vault-2"], runningReplicas: 3, wantedReplicas: 3, fixes };
const KMS = { kms_key_id: "alias/vault" };
const DISABLED = { ...KMS, disabled: "true" };
const retire: WantedSeal = { type: "awskms", stanza: DISABLED, disabled: true };
const onAwskms = (stored?: "awskms" | "shamir"): RunningSeal => ({ configured: "awskms", stanza: KMS, ...(stored ? { stored } : {}) });
const onDisabled = (stored?: "awskms" | "shamir"): RunningSeal => ({ configured: "awskms", stanza: DISABLED, ...(stored ? { stored } : {}) });

describe("the seal transition of an up", () => {
    it("the same seal, a first install, or Shamir -> auto renders the settings' configuration (the last one migrates)", () => {
        assert.deepEqual(sealTransition(undefined, { type: "shamir" }, context), { kind: "render", migrating: false });
        assert.deepEqual(sealTransition(onAwskms("awskms"), { type: "awskms", stanza: KMS }, context), { kind: "render", migrating: false });
        const forward = sealTransition({ configured: "shamir", stanza: {}, stored: "shamir" }, { type: "awskms", stanza: KMS }, context);
        assert.equal(forward.kind, "render");
        assert.ok(forward.kind === "render" && forward.migrating && /^seal migration shamir -> awskms/.test(forward.notice!));
    });

    it("retiring the seal keeps it in the configuration, disabled, until storage holds Shamir (a resumed up too, or nobody answering)", () => {
        for (const running of [onAwskms("awskms"), onAwskms(), onDisabled("awskms"), onDisabled()]) {
            const t = sealTransition(running, retire, context);
            assert.equal(t.kind, "to-shamir", JSON.stringify(running));
            assert.ok(t.kind === "to-shamir");
            assert.match(t.notice, /^seal migration awskms -> shamir: the awskms seal stays in Vault's configuration, disabled, and must answer throughout/);
            assert.match(t.notice, /replaces the pods \(vault-0, vault-1, vault-2\) one at a time, standbys first/);
            assert.match(t.notice, /unsealed with the recovery keys and -migrate/);
            assert.match(t.notice, /Then run up once more/);
        }
    });

    it("once storage holds Shamir, the configuration has no seal: with the setting still on, or removed", () => {
        const still = sealTransition(onDisabled("shamir"), retire, context);
        assert.equal(still.kind, "shamir-only");
        assert.ok(still.kind === "shamir-only" && /the disabled awskms seal leaves its configuration/.test(still.notice!));
        assert.ok(still.kind === "shamir-only" && /npm run config -- rm vault-ha:seal && npm run config -- rm vault-ha:sealDisabled/.test(still.notice!));
        assert.equal(sealTransition(onDisabled("shamir"), { type: "shamir" }, context).kind, "shamir-only");
        // Nothing left to migrate: a release without a stanza.
        const none = sealTransition({ configured: "shamir", stanza: {}, stored: "shamir" }, retire, context);
        assert.ok(none.kind === "shamir-only" && /nothing to migrate/.test(none.notice!));
        // From Shamir storage, an enabled auto seal again is the forward migration.
        const again = sealTransition(onDisabled("shamir"), { type: "awskms", stanza: KMS }, context);
        assert.ok(again.kind === "render" && again.migrating);
    });

    it("refuses what would leave Vault unable to start or open", () => {
        const refused = (running: RunningSeal | undefined, wanted: WantedSeal, ctx = context) => {
            const t = sealTransition(running, wanted, ctx);
            assert.equal(t.kind, "refused", JSON.stringify({ running, wanted }));
            return (t as { message: string }).message;
        };
        // Storage still holds the seal: a configuration without it would not start (vault/core.go checkForSealMigration).
        assert.match(refused(onDisabled("awskms"), { type: "shamir" }), /part-way through a migration off the awskms seal/);
        assert.match(refused(onDisabled(), { type: "awskms", stanza: KMS }), /vault-ha:seal is awskms without sealDisabled/);
        assert.match(
            refused(onAwskms("awskms"), { type: "shamir" }),
            /set vault-ha:seal awskms && npm run config -- set vault-ha:sealDisabled true, then run up/,
        );
        assert.match(refused(undefined, retire), /no running Vault to move off the awskms seal/);
        assert.match(refused({ configured: "transit", stanza: { key_name: "k" }, stored: "transit" }, retire), /only the seal Vault runs on can be disabled/);
        assert.match(refused(onAwskms("awskms"), { ...retire, stanza: { kms_key_id: "alias/other", disabled: "true" } }), /seal's key would change/);
        assert.match(
            refused(onAwskms("awskms"), retire, { ...context, wantedReplicas: 5 }),
            /vaultReplicas changes 3 -> 5 in the same up as the seal migration/,
        );
        // The up that only takes the disabled seal out migrates nothing: a new count may come with it.
        assert.equal(sealTransition(onDisabled("shamir"), retire, { ...context, wantedReplicas: 5 }).kind, "shamir-only");
    });

    it("storage's seal is what the active node says, else what every settled node agrees on; a node in migration mode does not count", () => {
        const node = (o: Record<string, unknown>) => ({ initialized: true, sealed: false, isSelf: false, migration: false, ...o });
        const shamir = node({ type: "shamir" });
        const awskms = node({ type: "awskms", recoverySeal: true });
        const migrating = node({ type: "shamir", migration: true, sealed: true });
        assert.equal(storedSealOf([migrating, awskms]), "awskms");
        assert.equal(storedSealOf([migrating, migrating]), undefined, "only nodes in migration mode: not known");
        assert.equal(storedSealOf([shamir, awskms]), undefined, "no active node and no agreement");
        assert.equal(storedSealOf([{ ...shamir, isSelf: true }, awskms]), "shamir", "the active node migrated");
        assert.equal(storedSealOf([shamir, shamir, undefined]), "shamir");
        assert.equal(storedSealOf([{ ...shamir, initialized: false }]), undefined);
    });
});
