/**
 * The commands behind `npm run snapshot` and `npm run restore -- FILE` (scripts/backup.sh passes --stack).
 *
 * They act on the stack's cluster with what the Pulumi state holds: the kubeconfig, the unseal keys and the root token,
 * read with `pulumi stack output --json --show-secrets` into this process's memory (never printed, never an argument
 * of another process). kubectl gets the kubeconfig as a private file, Vault the token on stdin (components/backup/).
 *
 * After a restore onto another cluster (a rebuilt one), the cluster opens only with the snapshot's keys: this writes
 * them into the key file (the rebuilt cluster's kept beside it, runner/keyFile.ts takeOverKeyFile) and hands them to
 * the stack as vault-ha:unsealKeys / vault-ha:rootToken (`pulumi config set --secret`, the value on stdin:
 * pkg/cmd/pulumi/config/config.go reads stdin when it is not a terminal), and the next `npm run up` moves them into
 * the state.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { backupFolder, BackupError } from "../components/backup/backupFiles";
import { restoreSnapshot, takeSnapshot } from "../components/backup/snapshot";
import { DEFAULT_STACK, shellFixes } from "../components/config/configProblems";
import { DEFAULTS, PROJECT } from "../components/config/settings";
import { readStackSettings } from "../components/config/stackFile";
import { keyFilePath, takeOverKeyFile } from "../components/runner/keyFile";
import { Kubectl, KubectlVaultOps } from "../components/runner/kubectl";
import { systemClock } from "../components/runner/clock";
import { StepError } from "../components/runner/poll";
import { Redactor } from "../components/runner/redact";
import { VaultRefused } from "../components/runner/vaultOps";
import { VAULT_RELEASE_NAME } from "../components/vault/names";
import { CliIo, CommandSpec, FlagSpec, flagValue, runWithArgs, STD_IO, usage } from "./args";

/** The stack's settings, when its file reads (settings the up would refuse still allow a snapshot). */
function settingsOf(stack: string) {
    try {
        return readStackSettings(stack).settings;
    } catch {
        return undefined;
    }
}

/** Backups kept: the stack's snapshotsToKeep (older ones are removed with their keys). */
function backupsToKeep(stack: string): number {
    return settingsOf(stack)?.snapshotsToKeep ?? DEFAULTS.snapshotsToKeep;
}

interface StackOutputs {
    kubeconfig: string;
    rootToken: string;
    unsealKeys: string[];
    /** An auto-sealed stack's recovery keys (its unsealKeys are empty). */
    recoveryKeys?: string[];
    vaultNamespace: string;
    raftPeers: unknown[];
}

/**
 * The outputs of `stack`, as `pulumi stack output --json` prints them, for the stack and backend scripts/lib.sh chose
 * (npm run status and outputs read them this way too). With showSecrets they hold the kubeconfig, keys and root
 * token, which stay in memory; without it Pulumi decrypts nothing and blinds each secret as "[secret]".
 */
export function readStackOutputs(stack: string, options: { showSecrets: boolean }): Record<string, unknown> {
    const args = ["stack", "output", "--json", ...(options.showSecrets ? ["--show-secrets"] : []), "--stack", stack, "--non-interactive"];
    const out = spawnSync("pulumi", args, { encoding: "utf8" });
    if (out.error) throw new BackupError(`could not run pulumi (${out.error.message}); install the Pulumi CLI (npm run preflight says how)`);
    if (out.status !== 0) {
        throw new BackupError(
            `could not read the outputs of stack ${stack} (pulumi stack output failed: ${out.stderr.trim().split("\n").pop()}); has it been deployed (npm run up)?`,
        );
    }
    let outputs: unknown;
    try {
        outputs = JSON.parse(out.stdout);
    } catch {
        throw new BackupError(`pulumi stack output --json printed something other than JSON for stack ${stack}`);
    }
    return (outputs ?? {}) as Record<string, unknown>;
}

/** Where the stack's Vault runs, by its outputs: the namespace, the Helm release, and how many raft servers it has. */
export interface VaultTarget {
    namespace: string;
    release: string;
    replicas: number;
}

/** vaultNamespace, and raftPeers (the verify step's list) for the replica count; 3, the default, when it is missing. */
export function vaultTarget(outputs: { vaultNamespace?: unknown; raftPeers?: unknown }): VaultTarget {
    return {
        namespace: (outputs.vaultNamespace as string | undefined) ?? "vault",
        release: VAULT_RELEASE_NAME,
        replicas: Array.isArray(outputs.raftPeers) && outputs.raftPeers.length > 0 ? outputs.raftPeers.length : 3,
    };
}

function stackOutputs(stack: string): StackOutputs {
    const outputs = readStackOutputs(stack, { showSecrets: true }) as Partial<StackOutputs>;
    if (!outputs.kubeconfig || !outputs.rootToken || (!outputs.unsealKeys?.length && !outputs.recoveryKeys?.length)) {
        throw new BackupError(`stack ${stack} has no kubeconfig, root token or unseal keys in its outputs; deploy it first (npm run up)`);
    }
    return outputs as StackOutputs;
}

function setSecretConfig(stack: string, key: string, value: string): void {
    const result = spawnSync("pulumi", ["config", "set", "--secret", "--stack", stack, key], { input: value, encoding: "utf8" });
    if (result.error) throw new BackupError(`could not run pulumi config set --secret ${key} (${result.error.message})`);
    if (result.status !== 0) throw new BackupError(`pulumi config set --secret ${key} failed: ${result.stderr.trim()}`);
}

const STACK_FLAG: FlagSpec = {
    name: "stack",
    short: "s",
    value: "NAME",
    help: "the stack whose Vault it acts on (default: $PULUMI_STACK, else dev; scripts/backup.sh passes it)",
};

/** `npm run snapshot`: no operand. */
export const SNAPSHOT_ARGS: CommandSpec = {
    command: "npm run snapshot",
    summary:
        "Saves a raft snapshot of the stack's Vault, with the keys that open it, into backups/<project>.<stack>/ (the oldest beyond snapshotsToKeep are removed). Needs kubectl and the Pulumi CLI.",
    flags: [STACK_FLAG],
};

/** `npm run restore -- FILE`: the snapshot to restore. */
export const RESTORE_ARGS: CommandSpec = {
    command: "npm run restore",
    summary:
        "Restores a snapshot into the stack's Vault; onto a rebuilt cluster it hands the snapshot's keys to the stack (then run npm run up). Needs kubectl and the Pulumi CLI.",
    flags: [STACK_FLAG],
    operands: [{ name: "FILE", help: "the snapshot: backups/<project>.<stack>/<time>.snap", required: true }],
};

/**
 * A forced restore opens the cluster with the snapshot's keys from then on, while the in-cluster unsealer keeps
 * sending the running cluster's: Vault combines whichever shares reach it first, and a mix fails ("invalid key") for
 * the restore's unseal as for the unsealer. So the unsealer goes first, and comes back with the snapshot's keys.
 */
export function unsealerForcedRefusal(stack: string): string {
    const fixes = shellFixes(stack);
    const up = `${stack === DEFAULT_STACK ? "" : `PULUMI_STACK=${stack} `}npm run up`;
    return (
        "this snapshot is of another Vault cluster, so the restore would be forced, and the in-cluster unsealer (autoUnseal: in-cluster) " +
        `would keep unsealing with the running cluster's keys. Turn it off first: ${fixes.set("autoUnseal", "none")} && ${up}; ` +
        `then run this restore again, and ${up}; then turn it on again, which gives it the snapshot's keys: ${fixes.set("autoUnseal", "in-cluster")} && ${up}`
    );
}

/**
 * A forced restore (a snapshot of another cluster) onto an auto-sealed cluster cannot open: the snapshot's keyring is
 * encrypted by the other cluster's seal key (its KMS key, or its transit key), which this cluster's seal does not
 * use, and recovery keys never decrypt a keyring (they only authorise; vault/core.go getUnsealKey verifies them). So it
 * is refused before anything is sent.
 */
export function autoSealForcedRefusal(seal: string): string {
    return (
        `this snapshot is of another Vault cluster, so the restore would be forced, and this stack's seal is ${seal}: the snapshot's keyring is sealed by ` +
        `the other cluster's seal key (or its unseal keys), not this cluster's, and recovery keys cannot unseal. ` +
        `Nothing opens it here: restore a Shamir cluster's snapshot onto a Shamir stack, which takes the snapshot's unseal keys`
    );
}

/** Why a forced restore must not run on this stack, if it must not. */
function forcedRefusal(stack: string): string | undefined {
    const settings = settingsOf(stack);
    if (settings?.seal && settings.seal !== "shamir") return autoSealForcedRefusal(settings.seal);
    return settings?.autoUnseal === "in-cluster" ? unsealerForcedRefusal(stack) : undefined;
}

/** argv: snapshot | restore, then its flags and operands (scripts/backup.sh puts the command first). */
export async function main(argv: string[], io: CliIo = STD_IO): Promise<number> {
    const [command, ...rest] = argv;
    const spec = command === "snapshot" ? SNAPSHOT_ARGS : command === "restore" ? RESTORE_ARGS : undefined;
    if (!spec) {
        io.error(
            `scripts/backup.ts: the first argument must be snapshot or restore, not ${command ?? "nothing"}\n\n${usage(SNAPSHOT_ARGS)}\n${usage(RESTORE_ARGS).trimEnd()}`,
        );
        return 2;
    }
    // RESTORE_ARGS requires FILE: a restore always has its operand.
    return runWithArgs(rest, spec, (args) => backup(command, flagValue(args, "stack") ?? "dev", args.operands[0] ?? ""), io);
}

async function backup(command: string, stack: string, file: string): Promise<number> {
    const redactor = new Redactor();
    const log = (line: string) => process.stderr.write(`vault-ha ${command}: ${redactor.apply(line)}\n`);
    let kubectl: Kubectl | undefined;
    try {
        const outputs = stackOutputs(stack);
        redactor.addKubeconfig(outputs.kubeconfig);
        redactor.add(...(outputs.unsealKeys ?? []), ...(outputs.recoveryKeys ?? []), outputs.rootToken);
        kubectl = new Kubectl(outputs.kubeconfig, 3_600_000);
        const target = vaultTarget(outputs);
        const ctx = {
            ops: new KubectlVaultOps(kubectl, { namespace: target.namespace, release: target.release }),
            log,
            clock: systemClock,
            timeoutMs: 600_000,
            pollMs: 2000,
            onSecret: (...values: string[]) => redactor.add(...values),
        };
        const replicas = target.replicas;
        const keys = {
            unsealKeys: outputs.unsealKeys ?? [],
            rootToken: outputs.rootToken,
            ...(outputs.recoveryKeys?.length ? { recoveryKeys: outputs.recoveryKeys } : {}),
        };
        if (command === "snapshot") {
            const { file: saved } = await takeSnapshot(ctx, {
                release: target.release,
                replicas,
                keys,
                folder: backupFolder(PROJECT, stack),
                keep: backupsToKeep(stack),
                now: new Date(),
            });
            log(`backup: ${saved} (restore it with: npm run restore -- ${saved})`);
            return 0;
        }
        let handedOver = false;
        // npm runs scripts in the project folder; a relative FILE means the folder the user typed it in (INIT_CWD).
        const snapFile = path.resolve(process.env.INIT_CWD ?? process.cwd(), file);
        const snapKeys = snapFile.replace(/\.snap$/, ".keys.json");
        try {
            const result = await restoreSnapshot(ctx, {
                release: target.release,
                replicas,
                file: snapFile,
                currentToken: outputs.rootToken,
                keyThreshold: settingsOf(stack)?.keyThreshold ?? DEFAULTS.keyThreshold,
                forcedRefusal: forcedRefusal(stack),
                onForced: (snapshotKeys, threshold) => {
                    // First thing after Vault accepted the snapshot: the key file (where the README says the keys
                    // are) gets the keys that open the cluster now, the rebuilt cluster's kept beside it; the
                    // snapshot's keys are on disk throughout, in the backup's .keys.json (keyFile.ts takeOverKeyFile).
                    const keyFile = keyFilePath(PROJECT, stack);
                    const aside = takeOverKeyFile(keyFile, {
                        unseal_keys_b64: snapshotKeys.unsealKeys,
                        root_token: snapshotKeys.rootToken,
                        unseal_shares: snapshotKeys.unsealKeys.length,
                        ...(threshold ? { unseal_threshold: threshold } : {}),
                    });
                    handedOver = true;
                    // The state takes them over through these: the init step prefers keys handed in as config to the
                    // key file (runner/handlers/init.ts), and only a change of its inputs makes Pulumi run it again.
                    setSecretConfig(stack, `${PROJECT}:unsealKeys`, JSON.stringify(snapshotKeys.unsealKeys));
                    setSecretConfig(stack, `${PROJECT}:rootToken`, snapshotKeys.rootToken);
                    log(
                        `the cluster now opens only with the snapshot's keys: ${keyFile} holds the snapshot's keys, and they are set as vault-ha:unsealKeys / vault-ha:rootToken (secret)` +
                            (aside ? `; the rebuilt cluster's keys, which open nothing now, are kept in ${aside}` : ""),
                    );
                },
            });
            if (result.forced) log("run npm run up now: the state takes over the snapshot's keys (the preview shows the init and unseal steps using them)");
        } catch (err) {
            if (handedOver) {
                log(
                    `the restore was accepted, so the cluster opens only with the snapshot's keys, which ${keyFilePath(PROJECT, stack)} and ${snapKeys} hold (and, unless the error below says otherwise, vault-ha:unsealKeys / vault-ha:rootToken); ` +
                        "fix the cause below, then run npm run up: it unseals the pods with them",
                );
            }
            throw err;
        }
        return 0;
    } catch (err) {
        const known = err instanceof BackupError || err instanceof StepError || err instanceof VaultRefused;
        log(`ERROR: ${known ? (err as Error).message : `unexpected failure: ${(err as Error).stack ?? err}`}`);
        return 1;
    } finally {
        kubectl?.dispose();
    }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
