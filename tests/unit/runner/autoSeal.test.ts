/**
 * The pure parts of the auto-seal path (components/runner/primitives/autoUnseal.ts and what it reads): which node is
 * auto-sealed, which log entries are a KMS failure and which are Vault waiting, the key file with recovery keys, and the
 * stdin contract of a step that gets no unseal keys.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { autoSealOf, isAutoSealed, sealFailure } from "../../../components/runner/primitives/autoUnseal";
import type { StepContext } from "../../../components/runner/primitives/context";
import { keySettingsNotice, readKeyFile, writeKeyFile } from "../../../components/runner/keyFile";
import { parsePodList, parseSealStatus } from "../../../components/runner/vaultOutput";
import type { PodInfo, SealStatus } from "../../../components/runner/vaultOps";
import { toKeys } from "../../../components/runner/handlers/init";
import { readStepSecrets } from "../../../components/stepCommand/contract";
import { autoSealForcedRefusal } from "../../../scripts/backup";

const T = "2026-01-01T00:00:00.000Z";

function ctxWith(pod: Partial<PodInfo>, logs: { current?: string[]; previous?: string[] }): StepContext {
    return {
        log: () => undefined,
        timeoutMs: 1000,
        pollMs: 10,
        clock: { now: () => 0, sleep: async () => undefined },
        ops: {
            listPods: async () => [{ name: "vault-1", uid: "u", phase: "Running", running: false, secretVolumes: [], terminating: false, ...pod }],
            vaultLog: async (_pod: string, previous: boolean) => (previous ? logs.previous : logs.current) ?? [],
        } as unknown as StepContext["ops"],
    };
}

const sealed: SealStatus = { initialized: true, sealed: true, t: 3, n: 5, progress: 0, isSelf: false, leaderAddress: "", type: "awskms", recoverySeal: true };

describe("auto seals in the runner", () => {
    it("reads the seal from the step's parameters: none for Shamir, refused when unknown", () => {
        assert.equal(autoSealOf({}), undefined);
        assert.equal(autoSealOf({ seal: "shamir" }), undefined);
        assert.deepEqual(autoSealOf({ seal: "transit", sealDescription: "transit key k" }), { type: "transit", description: "transit key k" });
        assert.throws(() => autoSealOf({ seal: "hsm" }), /unknown seal type "hsm"/);
    });

    it("vault status: type and recovery_seal say the node opens itself", () => {
        const auto = parseSealStatus(
            JSON.stringify({ initialized: true, sealed: false, t: 3, n: 5, type: "awskms", recovery_seal: true, recovery_seal_type: "shamir" }),
        );
        assert.equal(auto.type, "awskms");
        assert.equal(auto.recoverySeal, true);
        assert.ok(isAutoSealed(auto));
        const shamir = parseSealStatus(JSON.stringify({ initialized: true, sealed: true, t: 3, n: 5, type: "shamir" }));
        assert.ok(!isAutoSealed(shamir));
    });

    it("kubectl get pods: the vault container's restart count", () => {
        const pods = parsePodList(
            JSON.stringify({
                items: [
                    {
                        metadata: { name: "vault-0", uid: "u" },
                        status: {
                            phase: "Running",
                            containerStatuses: [{ name: "vault", restartCount: 4, state: { waiting: { reason: "CrashLoopBackOff" } } }],
                        },
                    },
                ],
            }),
        );
        assert.equal(pods[0].restartCount, 4);
        assert.equal(pods[0].running, false);
    });

    it("a crash loop: quotes the previous log's 'Error parsing Seal configuration' entry, continuation lines joined", async () => {
        const failure = await sealFailure(
            ctxWith(
                { reason: "CrashLoopBackOff: back-off 20s", restartCount: 2 },
                {
                    previous: [
                        "error parsing Seal configuration: error fetching AWS KMS wrapping key information: AccessDeniedException: denied on key/1",
                        "\tstatus code: 400",
                    ],
                },
            ),
            "vault-1",
        );
        assert.equal(
            failure,
            "error parsing Seal configuration: error fetching AWS KMS wrapping key information: AccessDeniedException: denied on key/1 status code: 400",
        );
    });

    it("a pod that is running, or starting for the first time, is not diagnosed from an old log", async () => {
        const old = { previous: ["error parsing Seal configuration: x"] };
        assert.equal(await sealFailure(ctxWith({ running: true, restartCount: 3 }, old), "vault-1"), undefined);
        assert.equal(await sealFailure(ctxWith({ reason: "ContainerCreating", restartCount: 0 }, old), "vault-1"), undefined);
    });

    it("running sealed: 'failed to unseal core' is a failure, unless Vault only has no stored keys yet (before init, a join)", async () => {
        const waiting = [`${T} [WARN]  failed to unseal core: error="stored unseal keys are supported, but none were found"`];
        assert.equal(await sealFailure(ctxWith({ running: true }, { current: waiting }), "vault-1", sealed), undefined);
        const multiLineWaiting = [`${T} [WARN]  failed to unseal core:`, "  error=", "  | stored unseal keys are supported, but none were found"];
        assert.equal(await sealFailure(ctxWith({ running: true }, { current: multiLineWaiting }), "vault-1", sealed), undefined);
        const kms = [
            ...waiting,
            `${T} [WARN]  failed to unseal core:`,
            "  error=",
            "  | fetching stored unseal keys failed: rpc error: PermissionDenied",
            "  | on key k",
        ];
        assert.equal(
            await sealFailure(ctxWith({ running: true }, { current: kms }), "vault-1", sealed),
            "[WARN] failed to unseal core: fetching stored unseal keys failed: rpc error: PermissionDenied on key k",
        );
        assert.equal(await sealFailure(ctxWith({ running: true }, { current: kms }), "vault-1", { ...sealed, initialized: false }), undefined);
    });

    it("the key file keeps recovery keys (no unseal keys), and the key-settings notice speaks of them", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recovery-"));
        try {
            const file = path.join(dir, "init.json");
            const answer = {
                unseal_keys_b64: [],
                root_token: "hvs.root",
                recovery_keys_b64: ["r1", "r2", "r3"],
                recovery_keys_shares: 3,
                recovery_keys_threshold: 2,
            };
            writeKeyFile(file, answer);
            const saved = readKeyFile(file)!;
            assert.deepEqual(saved.recovery_keys_b64, ["r1", "r2", "r3"]);
            assert.deepEqual(toKeys(saved), { unsealKeys: [], rootToken: "hvs.root", recoveryKeys: ["r1", "r2", "r3"] });
            assert.equal(keySettingsNotice(saved, 3, 2), undefined);
            assert.match(keySettingsNotice(saved, 5, 3)!, /initialised with 3 recovery key shares, threshold 2/);
            fs.writeFileSync(file, JSON.stringify({ unseal_keys_b64: [], root_token: "hvs.root" }));
            assert.throws(() => readKeyFile(file), /is not a Vault init response/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        // A Shamir answer's keys have no recoveryKeys field: the init step's result is what it was.
        assert.deepEqual(Object.keys(toKeys({ unseal_keys_b64: ["k"], root_token: "t" })), ["unsealKeys", "rootToken"]);
    });

    it("a step of an auto-sealed stack needs no unseal keys on stdin; a Shamir stack's still does", () => {
        assert.deepEqual(readStepSecrets("unseal", '{"kubeconfig":"k"}', { VAULT_HA_SEAL: "awskms" }), { kubeconfig: "k", unsealKeys: [] });
        assert.throws(() => readStepSecrets("unseal", '{"kubeconfig":"k","unsealKeys":[]}', {}), /needs unsealKeys/);
        assert.throws(() => readStepSecrets("unseal", '{"kubeconfig":"k","unsealKeys":[]}', { VAULT_HA_SEAL: "shamir" }), /needs unsealKeys/);
    });

    it("a forced restore onto an auto-sealed stack is refused with the reason", () => {
        assert.match(
            autoSealForcedRefusal("gcpckms"),
            /seal is gcpckms: the snapshot's keyring is sealed by the other cluster's seal key.*recovery keys cannot unseal/,
        );
    });
});
