/**
 * VaultBootstrap: init, unseal and raft join as dependent @pulumi/command steps, then proof of 1 leader + N-1
 * followers. Each step runs the step runner (components/runner/), which drives Vault through `kubectl exec`.
 *
 * Secrets (kubeconfig, unseal keys, root token) reach the steps only on stdin, which Pulumi stores encrypted; the
 * environment holds plain parameters, so a preview shows exactly what changed.
 *
 * A changed pod template (image, TLS, server config) reaches the pods through the roll step: the chart's StatefulSet
 * uses OnDelete, so only deleting a pod applies it, and the roll does that one pod at a time (runner/handlers/roll.ts).
 *
 * Later `pulumi up`s: an invoke reads each pod's incarnation (pod uid + container start time) on every preview and
 * up. It is each unseal step's trigger, so a pod that restarted (and so came back sealed) is unsealed again, and the
 * preview shows which pod and why. An unchanged cluster previews no changes. A pod sealed on purpose
 * (`vault operator seal`) without a restart is left sealed.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { AdoptedKeys } from "../config/settings";
import { inCluster } from "../inCluster";
import { keyFilePath, keySettingsNotice, readKeyFile } from "../runner/keyFile";
import { parseStepResult, RaftPeer, SealFacts, StepParams, stepCommand, stepEnvironment, VaultKeys } from "../stepCommand/contract";
import { Logging, projectDir, stepResource, stepStdin } from "../stepCommand/stepResource";
import { bootstrapPlan } from "./bootstrapPlan";
import { backupFolder } from "../backup/backupFiles";
import { leaderApiAddr, podNames, VAULT_RELEASE_NAME } from "./names";
import { isAutoSeal, type SealType } from "../seal/sealTypes";

/** How long the identities invoke waits for restarting pods to run (see runner/handlers/pods.ts podIdentities). */
const IDENTITY_WAIT_SECONDS = 120;

export interface VaultBootstrapArgs {
    /** Admin kubeconfig of the cluster (secret). */
    kubeconfig: pulumi.Input<string>;
    namespace: pulumi.Input<string>;
    /** The program creates one unseal or join step per pod. */
    replicas: number;
    keyShares: number;
    keyThreshold: number;
    /** Keys of an already initialised Vault, from config (secret); used instead of `vault operator init`. */
    adopted?: pulumi.Input<AdoptedKeys | undefined>;
    /** With TLS, followers join over https and verify the leader with the CA at this path in the pods. */
    tls?: { caFile: string };
    /** How long a step waits for a condition (pods Running, Vault answering, raft converged). */
    timeoutSeconds?: number;
    /** What the pods are made from (VaultCluster.podTemplate): the roll step runs again when it changes. */
    podTemplate: pulumi.Input<string>;
    /** Backups kept in backups/<project>.<stack>/ (the roll saves one before it replaces a serving pod). */
    snapshotsToKeep: number;
    /**
     * The raft volumes outlive the stack (an existing cluster with raftVolumesOnDestroy: keep): destroy moves the key
     * file into the backup folder instead of deleting it, since those volumes open only with these keys.
     */
    keepKeysOnDestroy?: boolean;
    /**
     * How Vault is sealed. With an auto seal (not shamir) init makes recovery keys, no unseal key is ever sent, and the
     * steps that wait for a pod to unseal itself name sealDescription (the key and the identity) when it cannot.
     */
    seal: SealType;
    sealDescription?: string;
    /**
     * vault-ha:sealDisabled: the stack moves off `seal` back to Shamir. Its steps then act as on Shamir (keys are sent),
     * the roll migrates (VAULT_HA_MIGRATE_FROM_SEAL), and the recovery keys are the unseal keys.
     */
    sealDisabled?: boolean;
}

export class VaultBootstrap extends pulumi.ComponentResource {
    /** Root token from `vault operator init` (or config): secret. */
    public readonly rootToken: pulumi.Output<string>;
    /** Unseal key shares (base64): secret. Empty with an auto seal, which opens itself. */
    public readonly unsealKeys: pulumi.Output<string[]>;
    /** With an auto seal, the recovery key shares (base64) init made: secret. Empty for Shamir. */
    public readonly recoveryKeys: pulumi.Output<string[]>;
    /** The raft configuration after the bootstrap: node id, address, leader, voter. */
    public readonly raftPeers: pulumi.Output<RaftPeer[]>;
    /** The seal configuration and cluster id the active node reported at verify; undefined from older results. */
    public readonly sealFacts: pulumi.Output<SealFacts | undefined>;
    /** Where the init response is kept, relative to the project folder (see runner/keyFile.ts). */
    public readonly keyFile: string;

    constructor(name: string, args: VaultBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:vault:VaultBootstrap", name, {}, opts);

        const release = VAULT_RELEASE_NAME;
        const pods = podNames(release, args.replicas);
        const timeoutSeconds = args.timeoutSeconds ?? 600;
        this.keyFile = keyFilePath(pulumi.getProject(), pulumi.getStack());
        // Shown by the preview and the up: changed key settings do nothing to an initialised Vault.
        let saved;
        try {
            saved = readKeyFile(this.keyFile);
        } catch {
            saved = undefined; // A damaged key file is the init step's to report, with what to do.
        }
        const notice = keySettingsNotice(saved, args.keyShares, args.keyThreshold, pulumi.getStack());
        if (notice) pulumi.log.warn(notice, this);
        const where = pulumi.output(args.namespace).apply((namespace) => ({ namespace, release }));
        const params = <T extends object>(extra: T) => where.apply((w) => ({ ...w, ...extra }));
        // Only an auto seal adds parameters: a Shamir stack's steps keep the environment their states hold.
        const retiring = isAutoSeal(args.seal) && args.sealDisabled === true;
        const autoSeal = isAutoSeal(args.seal) && !retiring;
        // A seal being retired: every step that may meet a pod in migration mode (the roll, unseal, join) knows it.
        const sealParams = autoSeal
            ? { seal: args.seal, sealDescription: args.sealDescription }
            : retiring
              ? { migrateFromSeal: args.seal, sealDescription: args.sealDescription }
              : {};
        // Every step's stdin carries the kubeconfig, plus the secrets that step needs.
        const kubeconfig = args.kubeconfig;

        // Each pod's incarnation, read on every preview and up: the unseal steps' trigger.
        const identities = (waitPods: pulumi.Resource) =>
            pulumi
                .unsecret(
                    command.local.runOutput(
                        {
                            command: stepCommand("pod-identities"),
                            environment: where.apply((w) =>
                                stepEnvironment("pod-identities", { ...w, replicas: args.replicas, timeoutSeconds: IDENTITY_WAIT_SECONDS }),
                            ),
                            stdin: stepStdin({ kubeconfig }),
                            dir: projectDir(),
                            addPreviousOutputInEnv: false,
                            logging: Logging.Stderr,
                        },
                        { parent: this, dependsOn: [waitPods] },
                    ).stdout,
                )
                .apply((out) => parseStepResult("pod-identities", out));
        // unsecret: the identities are pod uids and start times, shown in the preview as the reason for an unseal.
        let identityOf: (pod: string) => pulumi.Output<string> = () => pulumi.output("absent");
        let keys: pulumi.Output<VaultKeys> | undefined;
        let published: pulumi.Output<VaultKeys> | undefined;
        const steps: Record<string, command.local.Command> = {};
        const after = (ids: string[]) => ids.map((id) => steps[id]);

        // Every step from the plan, in its order (each one's dependencies come before it).
        for (const planned of bootstrapPlan(pods)) {
            const id = `${name}-${planned.id}`;
            switch (planned.step) {
                case "wait-pods": {
                    const wait = stepResource(
                        id,
                        {
                            step: "wait-pods",
                            params: params({ replicas: args.replicas, timeoutSeconds }),
                            secrets: { kubeconfig },
                            triggers: [args.namespace, args.replicas],
                            logging: Logging.StdoutAndStderr,
                        },
                        inCluster(this, opts),
                    );
                    steps[planned.id] = wait;
                    break;
                }
                case "roll": {
                    const roll = stepResource(
                        id,
                        {
                            step: "roll",
                            params: pulumi.all([params({}), args.podTemplate]).apply(([w, podTemplate]) => ({
                                ...w,
                                replicas: args.replicas,
                                keyThreshold: args.keyThreshold,
                                podTemplate,
                                backupFolder: backupFolder(pulumi.getProject(), pulumi.getStack()),
                                snapshotsToKeep: args.snapshotsToKeep,
                                timeoutSeconds,
                                ...sealParams,
                                // After a seal migration the roll records there what the keys are now.
                                ...(autoSeal || retiring ? { keyFile: this.keyFile } : {}),
                            })),
                            secrets: {
                                kubeconfig,
                                // During a seal migration: the keys the replaced pods are unsealed with (migrate): the
                                // Shamir keys toward an auto seal, the recovery keys (as unseal keys) back to Shamir.
                                unsealKeys: (autoSeal ? keys! : published!).apply((k) => k.unsealKeys),
                                rootToken: keys!.apply((k) => k.rootToken),
                                // Kept with the backup the roll takes; only auto seals have them.
                                ...(autoSeal ? { recoveryKeys: keys!.apply((k) => k.recoveryKeys ?? []) } : {}),
                            },
                            logging: Logging.StdoutAndStderr,
                        },
                        // Each pod may take the step's timeout to come back and catch up: 5 of them need more than
                        // the 15 minutes the other steps get.
                        inCluster(this, opts, { dependsOn: after(planned.after), customTimeouts: { create: "90m", update: "90m" } }),
                    );
                    steps[planned.id] = roll;
                    // Read after the roll: the pods it replaced are unsealed already, under their new identities.
                    const all = identities(roll);
                    identityOf = (pod) => all.apply((known) => `${pod}: ${known[pod] ?? "absent"}`);
                    break;
                }
                case "init": {
                    const init = stepResource(
                        id,
                        {
                            step: "init",
                            // Destroy removes the saved keys: they open nothing once the cluster is gone (unless its
                            // raft volumes are kept: keepKeysOnDestroy).
                            onDelete: "forget-keys",
                            params: params({
                                replicas: args.replicas,
                                keyShares: args.keyShares,
                                keyThreshold: args.keyThreshold,
                                keyFile: this.keyFile,
                                timeoutSeconds,
                                // Kept raft volumes open only with these keys: destroy moves them aside instead.
                                ...(args.keepKeysOnDestroy ? { keepKeysIn: backupFolder(pulumi.getProject(), pulumi.getStack()) } : {}),
                                // A seal being retired keeps init's parameters: init reads the same key file either way.
                                ...(isAutoSeal(args.seal) ? { seal: args.seal } : {}),
                            }),
                            secrets: {
                                kubeconfig,
                                unsealKeys: pulumi.output(args.adopted).apply((a) => a?.unsealKeys),
                                rootToken: pulumi.output(args.adopted).apply((a) => a?.rootToken),
                            },
                            // stdout holds the keys: never logged; stderr is progress with secrets scrubbed out.
                            logging: Logging.Stderr,
                        },
                        // Not deletedWith the cluster: its delete must run to remove the key file.
                        { parent: this, dependsOn: after(planned.after), additionalSecretOutputs: ["stdout"] },
                    );
                    steps[planned.id] = init;
                    keys = pulumi.secret(init.stdout.apply((out) => parseStepResult("init", out)));
                    // With an auto seal, keys that came as unseal keys (a Shamir init, from the key file or config) are
                    // recovery keys, and on Shamir recovery keys are the unseal keys: a seal migration turns one into the
                    // other with the same shares (vault/core.go migrateSeal, both ways).
                    published = keys.apply((k) => (autoSeal ? asRecoveryKeys(k) : asUnsealKeys(k)));
                    break;
                }
                case "unseal":
                case "join": {
                    const pod = planned.pod!;
                    // An auto-sealed stack's steps get the Shamir keys a pod in migration mode needs (none once migrated).
                    const unsealKeys = (autoSeal ? keys! : published!).apply((k) => k.unsealKeys);
                    const common = { pod, keyThreshold: args.keyThreshold, timeoutSeconds, ...sealParams };
                    const options = {
                        secrets: { kubeconfig, unsealKeys },
                        // A new incarnation of the pod is a sealed Vault: run this step again.
                        triggers: [identityOf(pod)],
                        logging: Logging.StdoutAndStderr,
                    };
                    steps[planned.id] =
                        planned.step === "unseal"
                            ? stepResource(
                                  id,
                                  { step: "unseal", params: params(common), ...options },
                                  inCluster(this, opts, { dependsOn: after(planned.after) }),
                              )
                            : stepResource(
                                  id,
                                  {
                                      step: "join",
                                      params: params<Omit<StepParams<"join">, "namespace" | "release">>({
                                          ...common,
                                          leaderAddr: leaderApiAddr(release, Boolean(args.tls)),
                                          leaderCaFile: args.tls?.caFile,
                                      }),
                                      ...options,
                                      // The token reads raft's configuration: a pod with raft data is a member, or a node the cluster removed.
                                      secrets: { ...options.secrets, rootToken: keys!.apply((k) => k.rootToken) },
                                  },
                                  inCluster(this, opts, { dependsOn: after(planned.after) }),
                              );
                    break;
                }
                case "verify":
                    steps[planned.id] = stepResource(
                        id,
                        {
                            step: "verify",
                            params: params({ replicas: args.replicas, timeoutSeconds }),
                            secrets: { kubeconfig, rootToken: keys!.apply((k) => k.rootToken) },
                            // Re-checked whenever any pod was unsealed again.
                            triggers: pods.map((pod) => identityOf(pod)),
                            logging: Logging.StdoutAndStderr,
                        },
                        inCluster(this, opts, { dependsOn: after(planned.after) }),
                    );
                    break;
            }
        }

        this.rootToken = pulumi.secret(keys!.apply((k) => k.rootToken));
        this.unsealKeys = pulumi.secret(published!.apply((k) => k.unsealKeys));
        this.recoveryKeys = pulumi.secret(published!.apply((k) => k.recoveryKeys ?? []));
        this.raftPeers = steps.verify.stdout.apply((out) => parseStepResult("verify", out).peers);
        this.sealFacts = steps.verify.stdout.apply((out) => parseStepResult("verify", out).seal);

        this.registerOutputs({ rootToken: this.rootToken, unsealKeys: this.unsealKeys, raftPeers: this.raftPeers });
    }
}

/**
 * An auto-sealed cluster's keys as the stack shows them: any unseal keys are its recovery keys (before the roll's
 * seal migration, the Shamir keys it turns into them), and it has no unseal keys.
 */
export function asRecoveryKeys(keys: VaultKeys): VaultKeys {
    if (keys.unsealKeys.length === 0) return keys;
    return { ...keys, unsealKeys: [], recoveryKeys: keys.recoveryKeys?.length ? keys.recoveryKeys : keys.unsealKeys };
}

/**
 * A Shamir cluster's keys as the stack shows them: recovery keys (an auto seal's, before or after the roll's
 * migration back to Shamir) are its unseal keys, and it has no recovery keys. A Shamir init's keys are unchanged.
 */
export function asUnsealKeys(keys: VaultKeys): VaultKeys {
    if (!keys.recoveryKeys?.length) return keys;
    const { recoveryKeys, ...rest } = keys;
    return { ...rest, unsealKeys: keys.unsealKeys.length ? keys.unsealKeys : recoveryKeys };
}
