/**
 * VaultBootstrap: init, unseal and raft join as dependent @pulumi/command steps, then proof of 1 leader + N-1
 * followers. Each step runs components/bootstrap/cli.ts, which drives Vault through `kubectl exec`.
 *
 * Secrets (kubeconfig, unseal keys, root token) reach the steps only on stdin, which Pulumi stores encrypted; the
 * environment holds plain parameters, so a preview shows exactly what changed.
 *
 * Later `pulumi up`s: an invoke reads each pod's incarnation (pod uid + container start time) on every preview and
 * up. It is each unseal step's trigger, so a pod that restarted (and so came back sealed) is unsealed again, and the
 * preview shows which pod and why. An unchanged cluster previews no changes. A pod sealed on purpose
 * (`vault operator seal`) without a restart is left sealed.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { BootstrapParams, BootstrapStep, stepCommand, stepEnvironment } from "./bootstrap/commandSpec";
import { Logging, projectDir, stepResource, stepStdin } from "./bootstrap/stepResource";
import { bootstrapPlan, podNames } from "./bootstrap/steps";
import type { RaftPeer } from "./bootstrap/vaultOps";
import { inCluster } from "./inCluster";
import type { AdoptedKeys } from "./settings";
import { VAULT_API_PORT, VAULT_RELEASE_NAME } from "./vaultValues";


export interface VaultBootstrapArgs {
    /** Admin kubeconfig of the cluster (secret). */
    kubeconfig: pulumi.Input<string>;
    namespace: pulumi.Input<string>;
    /** A plain number: the program creates one unseal or join step per pod. */
    replicas: number;
    keyShares: pulumi.Input<number>;
    keyThreshold: pulumi.Input<number>;
    /** Keys of an already initialised Vault, from config (secret); used instead of `vault operator init`. */
    adopted?: pulumi.Input<AdoptedKeys | undefined>;
    /** How followers reach the leader: http, or https verified against the CA at leaderCaCertFile (in the pod). */
    leaderScheme?: pulumi.Input<"http" | "https">;
    leaderCaCertFile?: pulumi.Input<string | undefined>;
    /** Where the init response is kept (keyFile.ts); relative to the project folder. */
    keyFile: pulumi.Input<string>;
    /** How long a step waits for a condition (pods Running, Vault answering, raft converged). */
    timeoutSeconds?: pulumi.Input<number>;
}

export class VaultBootstrap extends pulumi.ComponentResource {
    /** Root token from `vault operator init` (or config): secret. */
    public readonly rootToken: pulumi.Output<string>;
    /** Unseal key shares (base64): secret. */
    public readonly unsealKeys: pulumi.Output<string[]>;
    /** The raft configuration after the bootstrap: node id, address, leader, voter. */
    public readonly raftPeers: pulumi.Output<RaftPeer[]>;
    /** The step commands by plan id (wait-pods, init, unseal-vault-0, join-vault-1, ..., verify). */
    public readonly steps: Record<string, command.local.Command>;

    constructor(name: string, args: VaultBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:vault:VaultBootstrap", name, {}, opts);

        const pods = podNames(VAULT_RELEASE_NAME, args.replicas);
        const params: pulumi.Output<BootstrapParams> = pulumi
            .all([args.namespace, args.keyShares, args.keyThreshold, args.leaderScheme ?? "http", args.leaderCaCertFile, args.keyFile, args.timeoutSeconds ?? 600])
            .apply(([namespace, keyShares, keyThreshold, scheme, leaderCaCertFile, keyFile, timeoutSeconds]) => ({
                namespace,
                release: VAULT_RELEASE_NAME,
                replicas: args.replicas,
                keyShares,
                keyThreshold,
                keyFile,
                leaderApiAddr: `${scheme}://${pods[0]}.${VAULT_RELEASE_NAME}-internal:${VAULT_API_PORT}`,
                leaderCaCertFile,
                timeoutSeconds,
            }));
        const environment = (step: BootstrapStep, pod?: string) => params.apply((p) => stepEnvironment(step, p, pod));
        // Every step's stdin carries the kubeconfig, plus the secrets that step needs.
        const secrets = (extra: pulumi.Input<Record<string, unknown>> = {}) =>
            pulumi.all([args.kubeconfig, extra]).apply(([kubeconfig, e]) => ({ kubeconfig, ...e }));

        const waitPods = stepResource(
            `${name}-wait-pods`,
            { step: "wait-pods", environment: environment("wait-pods"), secrets: secrets(), triggers: [args.namespace, args.replicas], logging: Logging.StdoutAndStderr },
            inCluster(this, opts),
        );

        const identities = pulumi
            .unsecret(
                command.local.runOutput(
                    {
                        command: stepCommand("pod-identities"),
                        environment: environment("pod-identities"),
                        stdin: stepStdin(secrets()),
                        dir: projectDir(),
                        addPreviousOutputInEnv: false,
                        logging: Logging.Stderr,
                    },
                    { parent: this, dependsOn: [waitPods] },
                ).stdout,
            )
            .apply((out) => JSON.parse(out) as Record<string, string>);
        // unsecret: the identities are pod uids and start times, shown in the preview as the reason for an unseal.
        const identityOf = (pod: string) => identities.apply((all) => `${pod}: ${all[pod] ?? "absent"}`);

        const init = stepResource(
            `${name}-init`,
            {
                step: "init",
                // Destroy removes the saved keys: they open nothing once the cluster is gone.
                onDelete: "forget-keys",
                environment: environment("init"),
                secrets: secrets(pulumi.output(args.adopted).apply((a) => (a ? { unsealKeys: a.unsealKeys, rootToken: a.rootToken } : {}))),
                // stdout holds the keys: never logged; stderr is progress with secrets scrubbed out.
                logging: Logging.Stderr,
            },
            // Not deletedWith the cluster: its delete must run to remove the key file.
            { parent: this, dependsOn: [waitPods], additionalSecretOutputs: ["stdout"] },
        );
        const keys = pulumi.secret(init.stdout.apply((out) => JSON.parse(out) as { unsealKeys: string[]; rootToken: string }));

        this.steps = { "wait-pods": waitPods, init };
        for (const step of bootstrapPlan(pods)) {
            if (step.kind !== "unseal" && step.kind !== "join") continue;
            const pod = step.pod!;
            this.steps[step.id] = stepResource(
                `${name}-${step.id}`,
                {
                    step: step.kind,
                    environment: environment(step.kind, pod),
                    secrets: secrets(keys.apply((k) => ({ unsealKeys: k.unsealKeys }))),
                    // A new incarnation of the pod is a sealed Vault: run this step again.
                    triggers: [identityOf(pod)],
                    logging: Logging.StdoutAndStderr,
                },
                inCluster(this, opts, { dependsOn: step.after.map((id) => this.steps[id]) }),
            );
        }

        const verifyStep = bootstrapPlan(pods).find((s) => s.kind === "verify")!;
        const verify = stepResource(
            `${name}-verify`,
            {
                step: "verify",
                environment: environment("verify"),
                secrets: secrets(keys.apply((k) => ({ rootToken: k.rootToken }))),
                // Re-checked whenever any pod was unsealed again.
                triggers: pods.map(identityOf),
                logging: Logging.StdoutAndStderr,
            },
            inCluster(this, opts, { dependsOn: verifyStep.after.map((id) => this.steps[id]) }),
        );
        this.steps.verify = verify;

        this.rootToken = pulumi.secret(keys.apply((k) => k.rootToken));
        this.unsealKeys = pulumi.secret(keys.apply((k) => k.unsealKeys));
        this.raftPeers = verify.stdout.apply((out) => (JSON.parse(out) as { peers: RaftPeer[] }).peers);

        this.registerOutputs({ rootToken: this.rootToken, unsealKeys: this.unsealKeys, raftPeers: this.raftPeers });
    }
}
