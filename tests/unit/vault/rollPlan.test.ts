/** What a pod template change does, worked out before anything changes (components/vault/rollPlan.ts). */
import { strict as assert } from "assert";
import { parseSettings } from "../../../components/config/settings";
import { sealPlan } from "../../../components/seal/sealPlan";
import { FixCommands } from "../../../components/config/settings";
import {
    claimChangeMessage,
    compareVersions,
    downgradeMessage,
    failureTolerance,
    podTemplateSummary,
    rollNotice,
    rollPreview,
    vaultVersion,
} from "../../../components/vault/rollPlan";
import { vaultHelmValues } from "../../../components/vault/vaultValues";

const DIGEST = "@sha256:" + "a".repeat(64);
const base = { vaultReplicas: 3, uiNodePort: 30000, raftStorageSize: "10Gi", tls: true };

describe("roll plan", () => {
    it("reads the Vault version from an image, with or without a digest, and compares versions numerically", () => {
        assert.equal(vaultVersion("hashicorp/vault:2.0.4"), "2.0.4");
        assert.equal(vaultVersion(`hashicorp/vault:1.21.7-ent${DIGEST}`), "1.21.7-ent");
        assert.equal(vaultVersion("hashicorp/vault:latest"), undefined);
        assert.ok(compareVersions("2.0.10", "2.0.9") > 0, "10 > 9, not as text");
        assert.ok(compareVersions("1.21.7", "2.0.0") < 0);
        assert.equal(compareVersions("2.0.4-ent", "2.0.4"), 0);
    });

    it("names each pod that will roll and why; pods already on the template are left out (a resumed roll)", () => {
        const preview = rollPreview(
            [
                { pod: "vault-0", image: "hashicorp/vault:2.0.3", tls: false },
                { pod: "vault-1", image: "hashicorp/vault:2.0.4", tls: true },
                { pod: "vault-2", image: "hashicorp/vault:2.0.3", tls: true },
            ],
            { image: "hashicorp/vault:2.0.4", tls: true },
        );
        assert.deepEqual(preview.changes, [
            { pod: "vault-0", reasons: ["image hashicorp/vault:2.0.3 -> hashicorp/vault:2.0.4", "TLS off -> on"] },
            { pod: "vault-2", reasons: ["image hashicorp/vault:2.0.3 -> hashicorp/vault:2.0.4"] },
        ]);
        assert.equal(preview.downgrade, undefined);
        const notice = rollNotice(preview, 3)!;
        assert.match(notice, /one at a time, standbys first and the active node last/);
        assert.match(notice, /vault-0 \(image hashicorp\/vault:2\.0\.3 -> hashicorp\/vault:2\.0\.4, TLS off -> on\); vault-2/);
    });

    it("says Vault is unavailable during each replacement when raft's failure tolerance is 0 (1 or 2 replicas), else that the quorum is kept", () => {
        // raft-autopilot state.go: healthy voters - (voters/2 + 1), at least 0.
        assert.deepEqual([1, 2, 3, 4, 5, 7].map(failureTolerance), [0, 0, 1, 1, 2, 3]);
        const preview = rollPreview([{ pod: "vault-0", image: "hashicorp/vault:2.0.3", tls: true }], { image: "hashicorp/vault:2.0.4", tls: true });
        for (const replicas of [1, 2]) {
            const notice = rollNotice(preview, replicas)!;
            assert.match(notice, new RegExp(`with ${replicas} replicas? raft's failure tolerance is 0, so Vault is unavailable during each replacement`));
            assert.doesNotMatch(notice, /keeps its quorum/);
        }
        for (const replicas of [3, 5]) {
            const notice = rollNotice(preview, replicas)!;
            assert.match(notice, new RegExp(`raft keeps its quorum throughout \\(failure tolerance ${failureTolerance(replicas)}\\)`));
            assert.doesNotMatch(notice, /unavailable/);
        }
    });

    it("nothing to say for a cluster on the template, or a new one without pods", () => {
        assert.equal(
            rollNotice(rollPreview([{ pod: "vault-0", image: "hashicorp/vault:2.0.4", tls: true }], { image: "hashicorp/vault:2.0.4", tls: true }), 1),
            undefined,
        );
        assert.equal(rollNotice(rollPreview([], { image: "hashicorp/vault:2.0.4", tls: true }), 3), undefined);
    });

    it("finds a downgrade, and says why it is refused and what to do instead", () => {
        const preview = rollPreview([{ pod: "vault-1", image: "hashicorp/vault:2.0.4", tls: true }], { image: `hashicorp/vault:2.0.3${DIGEST}`, tls: true });
        assert.deepEqual(preview.downgrade, { pod: "vault-1", running: "2.0.4", wanted: "2.0.3" });
        const message = downgradeMessage(preview.downgrade!);
        assert.match(message, /asks for Vault 2\.0\.3, but vault-1 runs 2\.0\.4: Vault does not support downgrades/);
        assert.match(message, /nothing was changed/);
        assert.match(message, /npm run config -- set vault-ha:vaultImage/);
        assert.match(message, /restoring a snapshot/);
        // A pod stuck on an image that never ran (a typo such as 2.0.40) does not make going back a downgrade.
        assert.equal(
            rollPreview([{ pod: "vault-2", image: "hashicorp/vault:2.0.40", tls: true, running: false }], { image: "hashicorp/vault:2.0.4", tls: true })
                .downgrade,
            undefined,
        );
        // A different repository of the same version is no downgrade, only a roll.
        assert.equal(
            rollPreview([{ pod: "vault-0", image: "hashicorp/vault:2.0.4", tls: true }], { image: "mirror.example/vault:2.0.4", tls: true }).downgrade,
            undefined,
        );
    });

    it("the roll step's parameter changes with anything in the pod template, and not with the replica count", () => {
        const summary = (s: typeof base & { vaultImage?: string }) =>
            podTemplateSummary({ image: s.vaultImage ?? "hashicorp/vault:2.0.4", tls: s.tls, chartVersion: "0.34.1", values: vaultHelmValues(s) });
        assert.match(summary(base), /^image hashicorp\/vault:2\.0\.4, TLS on, chart 0\.34\.1, values [0-9a-f]{12}$/);
        assert.equal(summary({ ...base, vaultReplicas: 5 }), summary(base), "scaling replaces no pod");
        assert.notEqual(summary({ ...base, tls: false }), summary(base));
        assert.notEqual(summary({ ...base, vaultImage: "hashicorp/vault:2.0.5" }), summary(base));
        assert.notEqual(summary({ ...base, raftStorageSize: "20Gi" }), summary(base), "a values change the summary's words do not name still changes it");
    });

    it("with an auto seal, the replica count (which retry_join lists) replaces no pod either; the seal's key does", () => {
        const awskms = (replicas: number, key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab") => {
            const settings = parseSettings({
                cluster: "existing",
                kubeContext: "prod",
                seal: "awskms",
                sealKey: key,
                vaultReplicas: String(replicas),
            }).settings!;
            const values = vaultHelmValues(settings, { seal: sealPlan(settings) });
            assert.match(String((values.server as any).ha.raft.config), new RegExp(`retry_join \\{[^}]*vault-${replicas - 1}\\.vault-internal`));
            return podTemplateSummary({ image: settings.vaultImage, tls: settings.tls, chartVersion: "0.34.1", values });
        };
        assert.equal(awskms(5), awskms(3), "scaling an auto-sealed cluster replaces no pod");
        assert.notEqual(awskms(3, "alias/another-key"), awskms(3), "a new seal key is in the pods' configuration");
    });

    describe("the raft volumes' claims, which Kubernetes does not let change", () => {
        it("nothing to say before the first install, or when nothing changes (in any unit)", () => {
            assert.equal(claimChangeMessage(undefined, { storage: "20Gi" }), undefined);
            assert.equal(claimChangeMessage({ storage: "10Gi" }, { storage: "10Gi" }), undefined);
            assert.equal(claimChangeMessage({ storage: "10Gi" }, { storage: "10240Mi", storageClassName: "" }), undefined);
            assert.equal(claimChangeMessage({ storage: "10Gi", storageClassName: "gp3" }, { storage: "10Gi", storageClassName: "gp3" }), undefined);
        });

        it("a new size: the way to keep the running one, and the way to move the data", () => {
            const message = claimChangeMessage({ storage: "10Gi" }, { storage: "20Gi" }, new FixCommands("prod"));
            assert.match(message!, /^vault-ha:raftStorageSize 20Gi \(the volumes were made with 10Gi\): Kubernetes does not let/);
            assert.match(message!, /Keep the running values \(PULUMI_STACK=prod npm run config -- set vault-ha:raftStorageSize 10Gi\)/);
            assert.match(message!, /npm run snapshot, pulumi destroy, pulumi up, npm run restore/);
        });

        it("a class named where the default was used, and the other way round", () => {
            assert.match(
                claimChangeMessage({ storage: "10Gi" }, { storage: "10Gi", storageClassName: "fast" })!,
                /storageClass fast \(the volumes were made with the cluster's default class\).*\(npm run config -- rm vault-ha:storageClass\)/,
            );
            assert.match(
                claimChangeMessage({ storage: "10Gi", storageClassName: "gp3" }, { storage: "10Gi" })!,
                /storageClass \(the cluster's default\) \(the volumes were made with gp3\).*\(npm run config -- set vault-ha:storageClass gp3\)/,
            );
        });

        it("both at once, in one message", () => {
            const message = claimChangeMessage({ storage: "10Gi", storageClassName: "gp3" }, { storage: "5Gi", storageClassName: "io2" })!;
            assert.match(message, /raftStorageSize 5Gi .* and storageClass io2 /);
            assert.match(message, /raftStorageSize 10Gi && npm run config -- set vault-ha:storageClass gp3/);
        });
    });
});
