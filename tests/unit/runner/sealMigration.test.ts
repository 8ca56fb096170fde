/**
 * The pure parts of the roll's seal migrations, Shamir -> auto and back (components/runner/primitives/sealMigration.ts, unseal.ts):
 * when a migration is due, when it is done, the key file's rewrite, and which keys a node in migration mode is sent.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readKeyFile, writeKeyFile } from "../../../components/runner/keyFile";
import { KubectlVaultOps } from "../../../components/runner/kubectl";
import type { KubectlRunner } from "../../../components/runner/kubectlProcess";
import type { StepContext } from "../../../components/runner/primitives/context";
import {
    asMigratedKeyFile,
    asShamirKeyFile,
    earlierMigrationFailures,
    migrated,
    migrationPending,
    recordMigratedKeys,
    SealMigration,
    stopIfMigrationFailed,
} from "../../../components/runner/primitives/sealMigration";
import { unsealFrom } from "../../../components/runner/primitives/unseal";
import type { SealStatus } from "../../../components/runner/vaultOps";
import { VaultRefused } from "../../../components/runner/vaultOps";
import { parseSealStatus } from "../../../components/runner/vaultOutput";

const AWSKMS = { type: "awskms" as const, description: "AWS KMS key alias/vault" };
const TO_AWSKMS: SealMigration = { toward: "auto", seal: AWSKMS };
const OFF_AWSKMS: SealMigration = { toward: "shamir", seal: AWSKMS };
const base: SealStatus = { initialized: true, sealed: false, t: 3, n: 5, progress: 0, isSelf: false, leaderAddress: "" };
const shamir: SealStatus = { ...base, type: "shamir" };
const inMigration: SealStatus = { ...base, sealed: true, type: "awskms", recoverySeal: true, migration: true };
const done: SealStatus = { ...base, isSelf: true, type: "awskms", recoverySeal: true, migration: false };
const KEYS = ["a2V5LTE=", "a2V5LTI=", "a2V5LTM=", "a2V5LTQ=", "a2V5LTU="];

/** A node in migration mode: sealed until `t` shares arrived, each sent with migrate (a plain one is refused, as Vault does). */
function migratingNode(status: SealStatus) {
    const sent: Array<{ key: string; migrate: boolean }> = [];
    let now = { ...status };
    const ops = {
        status: async () => now,
        resetUnseal: async () => undefined,
        submitUnsealKey: async (_pod: string, key: string, migrate?: boolean) => {
            sent.push({ key, migrate: migrate === true });
            if (now.migration && !migrate) throw new VaultRefused("Error unsealing: migrate option not provided and seal migration is pending");
            if (sent.filter((s) => s.migrate === Boolean(now.migration)).length >= now.t) now = { ...now, sealed: false };
        },
    };
    const logs: string[] = [];
    const ctx: StepContext = {
        log: (line: string) => logs.push(line),
        timeoutMs: 10_000,
        pollMs: 10,
        clock: { now: () => 0, sleep: async () => undefined },
        ops: ops as unknown as StepContext["ops"],
        seal: AWSKMS,
    };
    return { ctx, sent, logs };
}

describe("the roll's seal migration (shamir -> auto)", () => {
    it("vault status: migration is read, false when absent", () => {
        assert.equal(parseSealStatus(JSON.stringify({ initialized: true, sealed: true, migration: true })).migration, true);
        assert.equal(parseSealStatus(JSON.stringify({ initialized: true, sealed: true })).migration, false);
    });

    it("the migrate unseal sends the body as JSON on stdin (a boolean migrate, the key off the command line); a plain one is unchanged", async () => {
        const calls: Array<{ args: string[]; stdin?: string }> = [];
        const runner = { run: async (args: string[], stdin?: string) => (calls.push({ args, stdin }), { code: 0, stdout: "{}", stderr: "" }) };
        const ops = new KubectlVaultOps(runner as unknown as KubectlRunner, { namespace: "vault", release: "vault" });
        await ops.submitUnsealKey("vault-1", KEYS[0], true);
        await ops.submitUnsealKey("vault-1", KEYS[1]);
        const prefix = ["exec", "-i", "-n", "vault", "vault-1", "-c", "vault", "--", "vault", "write", "-format=json", "sys/unseal"];
        assert.deepEqual(calls[0].args, [...prefix, "-"]);
        assert.deepEqual(JSON.parse(calls[0].stdin!), { key: KEYS[0], migrate: true });
        assert.deepEqual(calls[1], { args: [...prefix, "key=-"], stdin: KEYS[1] });
        assert.ok(!calls.some((c) => c.args.some((a) => KEYS.some((k) => a.includes(k)))), "no key in argv");
    });

    it("is due while the stack asks for an auto seal and a node still runs on Shamir or is in migration mode", () => {
        assert.equal(migrationPending(TO_AWSKMS, [shamir, done]), true);
        assert.equal(migrationPending(TO_AWSKMS, [done, inMigration]), true);
        assert.equal(migrationPending(TO_AWSKMS, [done, { ...done, isSelf: false }]), false, "every node on the auto seal");
        assert.equal(migrationPending(undefined, [shamir]), false, "a Shamir stack migrates nothing");
        assert.equal(migrationPending(TO_AWSKMS, [{ ...shamir, initialized: false }, undefined]), false, "nothing initialised: a new cluster");
    });

    it("is done when the active node reports the auto seal and no pending migration", () => {
        assert.equal(migrated(TO_AWSKMS, done), true);
        assert.equal(migrated(TO_AWSKMS, { ...done, migration: true }), false);
        assert.equal(migrated(TO_AWSKMS, { ...done, type: "shamir" }), false);
        assert.equal(migrated(TO_AWSKMS, { ...done, isSelf: false }), false, "a standby does not tell");
        assert.equal(migrated({ toward: "auto", seal: { type: "transit", description: "t" } }, done), false, "another auto seal");
        assert.equal(migrated(TO_AWSKMS, undefined), false);
    });

    it("a node in migration mode is unsealed with the Shamir keys and migrate, even though its type names the auto seal", async () => {
        const { ctx, sent, logs } = migratingNode({ ...inMigration, isSelf: false });
        assert.equal(await unsealFrom(ctx, "vault-1", inMigration, KEYS, 3), "unsealed");
        assert.deepEqual(
            sent,
            KEYS.slice(0, 3).map((key) => ({ key, migrate: true })),
        );
        assert.ok(
            logs.some((l) => /vault-1 is in seal migration mode \(shamir -> awskms\)/.test(l)),
            logs.join("\n"),
        );
    });

    it("keys handed in as recovery keys (config on an auto-sealed stack) serve a node in migration mode: the same shares", async () => {
        const { ctx, sent } = migratingNode(inMigration);
        assert.equal(await unsealFrom(ctx, "vault-1", inMigration, [], 3, KEYS), "unsealed");
        assert.deepEqual(
            sent.map((s) => s.migrate),
            [true, true, true],
        );
    });

    it("a node that asks for migrate though its status did not say so gets the keys again, with migrate", async () => {
        const unreported: SealStatus = { ...inMigration, migration: undefined, type: "shamir", recoverySeal: false };
        const { ctx, sent } = migratingNode({ ...unreported, migration: true });
        assert.equal(await unsealFrom(ctx, "vault-1", unreported, KEYS, 3), "unsealed");
        assert.ok(sent.some((s) => !s.migrate) && sent.slice(-3).every((s) => s.migrate), JSON.stringify(sent));
    });

    it("a node in migration mode without keys, or on a Shamir stack, is a stop that says why, and nothing is sent", async () => {
        const { ctx, sent } = migratingNode(inMigration);
        await assert.rejects(unsealFrom(ctx, "vault-1", inMigration, [], 3), /vault-1 is in seal migration mode .*AWS KMS key alias\/vault.*vault-ha has none/);
        await assert.rejects(
            unsealFrom({ ...ctx, seal: undefined }, "vault-1", inMigration, KEYS, 3),
            /the stack's seal is shamir and it retires no auto seal.*Nothing was sent.*developer\.hashicorp\.com/,
        );
        assert.deepEqual(sent, []);
    });

    it("a migrated node is never sent a key: it opens itself", async () => {
        // Read sealed (restarted), then it opens itself through its seal.
        const { ctx, sent } = migratingNode({ ...done, isSelf: false });
        assert.equal(await unsealFrom(ctx, "vault-2", { ...done, isSelf: false, sealed: true }, KEYS, 3), "unsealed");
        assert.deepEqual(sent, []);
    });

    describe("the key file after the migration", () => {
        let dir: string;
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-ha-migration-"));
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
        const shamirAnswer = {
            unseal_keys_b64: KEYS,
            unseal_keys_hex: ["01", "02", "03", "04", "05"],
            unseal_shares: 5,
            unseal_threshold: 3,
            recovery_keys_b64: [],
            recovery_keys_hex: [],
            recovery_keys_shares: 0,
            recovery_keys_threshold: 0,
            root_token: "hvs.root",
        };
        const quiet = { log: () => undefined } as unknown as StepContext;

        it("holds the unseal keys as recovery keys, same shares and threshold, no unseal keys, the root token kept", () => {
            const file = path.join(dir, "init.json");
            writeKeyFile(file, shamirAnswer);
            recordMigratedKeys(quiet, TO_AWSKMS, file);
            const now = readKeyFile(file)!;
            assert.deepEqual(now.unseal_keys_b64, []);
            assert.deepEqual(now.recovery_keys_b64, KEYS);
            assert.equal(now.recovery_keys_shares, 5);
            assert.equal(now.recovery_keys_threshold, 3);
            assert.equal(now.root_token, "hvs.root");
            assert.deepEqual((now as unknown as Record<string, unknown>).recovery_keys_hex, shamirAnswer.unseal_keys_hex);
            assert.equal(now.unseal_shares, undefined);
            assert.equal((fs.statSync(file).mode & 0o777).toString(8), "600");
            assert.deepEqual(
                fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")),
                [],
                "no temporary file left",
            );
        });

        it("is left alone once it holds recovery keys, and a missing or broken file stops nothing", () => {
            const file = path.join(dir, "init.json");
            const migratedAnswer = asMigratedKeyFile({ ...shamirAnswer, saved_at: "x" })!;
            writeKeyFile(file, migratedAnswer);
            const before = fs.readFileSync(file, "utf8");
            recordMigratedKeys(quiet, TO_AWSKMS, file);
            assert.equal(fs.readFileSync(file, "utf8"), before);
            assert.equal(asMigratedKeyFile({ ...migratedAnswer, saved_at: "x" }), undefined);
            recordMigratedKeys(quiet, TO_AWSKMS, path.join(dir, "absent.json"));
            const broken = path.join(dir, "broken.json");
            fs.writeFileSync(broken, "{");
            const logs: string[] = [];
            recordMigratedKeys({ log: (l: string) => logs.push(l) } as unknown as StepContext, TO_AWSKMS, broken);
            assert.match(logs.join("\n"), /WARNING: the seal migration is done, but .*broken\.json could not be rewritten/);
            assert.equal(fs.readFileSync(broken, "utf8"), "{", "a file vault-ha cannot read is not overwritten");
        });
    });

    describe("the way back, awskms -> shamir", () => {
        // A node on the old seal; one in migration mode before the migration (its Shamir seal's cached configuration
        // already says shamir, with the recovery t/n); the new active node after it (vault/logical_system.go
        // GetSealStatus: migration false once storage holds Shamir).
        const onAwskms: SealStatus = { ...base, type: "awskms", recoverySeal: true, migration: false };
        const backInMigration: SealStatus = { ...base, sealed: true, type: "shamir", recoverySeal: false, migration: true };
        const backDone: SealStatus = { ...base, isSelf: true, type: "shamir", recoverySeal: false, migration: false };

        it("is due while a node is on the old seal or in migration mode; type shamir alone does not say done", () => {
            assert.equal(migrationPending(OFF_AWSKMS, [backDone, onAwskms]), true);
            assert.equal(migrationPending(OFF_AWSKMS, [backDone, backInMigration]), true);
            assert.equal(migrationPending(OFF_AWSKMS, [backDone, { ...backDone, isSelf: false }]), false);
            assert.equal(migrated(OFF_AWSKMS, backDone), true);
            assert.equal(migrated(OFF_AWSKMS, { ...backInMigration, sealed: false, isSelf: true }), false, "migration still pending");
            assert.equal(migrated(OFF_AWSKMS, { ...onAwskms, isSelf: true }), false, "the old active node, elected again");
        });

        it("a node in migration mode gets the recovery keys with migrate; a refusal after the migration finished turns into a plain unseal", async () => {
            const { ctx, sent, logs } = migratingNode({ ...backInMigration, t: 3 });
            const back = { ...ctx, seal: undefined, retiringSeal: AWSKMS };
            assert.equal(await unsealFrom(back, "vault-1", backInMigration, KEYS, 3), "unsealed");
            assert.deepEqual(
                sent,
                KEYS.slice(0, 3).map((key) => ({ key, migrate: true })),
            );
            assert.ok(
                logs.some((l) => /awskms -> shamir\): unsealing it with the recovery keys and migrate/.test(l)),
                logs.join("\n"),
            );

            // Migrated in the meantime: Vault refuses migrate (vault/core.go getUnsealKey), the keys go again without it.
            const raced: Array<{ key: string; migrate: boolean }> = [];
            let sealed = true;
            const ops = {
                status: async () => ({ ...backInMigration, migration: false, sealed }),
                resetUnseal: async () => undefined,
                submitUnsealKey: async (_pod: string, key: string, migrate?: boolean) => {
                    raced.push({ key, migrate: migrate === true });
                    if (migrate) throw new VaultRefused("Error writing data to sys/unseal: Code: 500. Errors: * failed to obtain seal/recovery configuration");
                    if (raced.filter((r) => !r.migrate).length >= 3) sealed = false;
                },
            };
            assert.equal(await unsealFrom({ ...back, ops: ops as unknown as StepContext["ops"] }, "vault-2", backInMigration, KEYS, 3), "unsealed");
            assert.deepEqual(
                raced.filter((r) => !r.migrate).map((r) => r.key),
                KEYS.slice(0, 3),
            );
        });

        it("without keys the stop names the recovery keys; a node in migration mode on a stack that retires nothing gets nothing", async () => {
            const { ctx, sent } = migratingNode(backInMigration);
            await assert.rejects(
                unsealFrom({ ...ctx, seal: undefined, retiringSeal: AWSKMS }, "vault-1", backInMigration, [], 3),
                /awskms -> shamir.*opens only with the recovery keys sent with migrate, and vault-ha has none/,
            );
            await assert.rejects(
                unsealFrom({ ...ctx, seal: undefined }, "vault-1", backInMigration, KEYS, 3),
                /retires no auto seal \(vault-ha:sealDisabled\)/,
            );
            assert.deepEqual(sent, []);
        });

        it("the key file then holds the recovery keys as unseal keys, same shares and threshold", () => {
            const autoAnswer = {
                unseal_keys_b64: [],
                unseal_keys_hex: [],
                recovery_keys_b64: KEYS,
                recovery_keys_hex: ["01", "02", "03", "04", "05"],
                recovery_keys_shares: 5,
                recovery_keys_threshold: 3,
                root_token: "hvs.root",
                saved_at: "x",
            };
            const next = asShamirKeyFile(autoAnswer)!;
            assert.deepEqual(next.unseal_keys_b64, KEYS);
            assert.deepEqual(next.recovery_keys_b64, []);
            assert.equal(next.unseal_shares, 5);
            assert.equal(next.unseal_threshold, 3);
            assert.equal(next.root_token, "hvs.root");
            assert.deepEqual((next as unknown as Record<string, unknown>).unseal_keys_hex, autoAnswer.recovery_keys_hex);
            assert.equal(asShamirKeyFile({ ...autoAnswer, ...next, saved_at: "y" }), undefined, "once recorded, left alone");
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-ha-back-"));
            try {
                const file = path.join(dir, "init.json");
                writeKeyFile(file, autoAnswer);
                recordMigratedKeys({ log: () => undefined } as unknown as StepContext, OFF_AWSKMS, file);
                assert.deepEqual(readKeyFile(file)!.unseal_keys_b64, KEYS);
                // The forward rewrite does not apply to it: the file holds unseal keys of a Shamir cluster now.
                assert.deepEqual(readKeyFile(file)!.recovery_keys_b64 ?? [], []);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("a failed migration, as the roll reads it from the pods' logs", () => {
        const failure = (at: string) => [
            `${at} [INFO]  core: seal migration initiated`,
            `${at} [ERROR] core: seal migration error:`,
            `  error=`,
            `  | error getting recovery key to set on new seal: failed to decrypt encrypted stored keys: AccessDeniedException`,
        ];
        const ctxWithLogs = (logs: Record<string, string[]>) =>
            ({ log: () => undefined, ops: { vaultLog: async (pod: string) => logs[pod] ?? [] } }) as unknown as StepContext;

        it("quotes Vault's whole entry, and ignores a failure an earlier run already reported", async () => {
            const logs: Record<string, string[]> = { "vault-1": failure("2026-12-08T03:00:00.000Z") };
            const ctx = ctxWithLogs(logs);
            await assert.rejects(
                stopIfMigrationFailed(ctx, OFF_AWSKMS, ["vault-1"]),
                /could not complete the seal migration from awskms back to Shamir: .*"\[ERROR\] core: seal migration error: error getting recovery key to set on new seal: failed to decrypt encrypted stored keys: AccessDeniedException"/,
            );
            const earlier = await earlierMigrationFailures(ctx, ["vault-1", "vault-2"]);
            assert.deepEqual([...earlier.keys()], ["vault-1"]);
            await stopIfMigrationFailed({ ...ctx, earlierMigrationFailures: earlier }, OFF_AWSKMS, ["vault-1"]);
            // This run's own failure, later in the same container's log, stops it.
            logs["vault-1"] = [...logs["vault-1"], ...failure("2026-12-08T03:05:00.000Z")];
            await assert.rejects(
                stopIfMigrationFailed({ ...ctx, earlierMigrationFailures: earlier }, OFF_AWSKMS, ["vault-1"]),
                /vault-1 became the active node/,
            );
        });

        it("a migrate unseal refused because the old seal did not answer names the seal, not wrong keys", async () => {
            const ops = {
                status: async () => ({ ...base, sealed: true, type: "shamir", migration: true }),
                resetUnseal: async () => undefined,
                submitUnsealKey: async () => {
                    throw new VaultRefused(
                        "Error writing data to sys/unseal: Code: 400. Errors: * invalid key: failed to verify recovery key: failed to decrypt encrypted stored keys: AccessDeniedException",
                    );
                },
            };
            const ctx = {
                log: () => undefined,
                timeoutMs: 10_000,
                pollMs: 10,
                clock: { now: () => 0, sleep: async () => undefined },
                ops: ops as unknown as StepContext["ops"],
                retiringSeal: AWSKMS,
            } as StepContext;
            await assert.rejects(
                unsealFrom(ctx, "vault-1", { ...base, sealed: true, type: "shamir", migration: true }, KEYS, 3),
                /vault-1 cannot start: the seal Vault is moving off, the AWS KMS key alias\/vault, .*did not answer/,
            );
        });
    });
});
