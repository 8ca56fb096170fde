/**
 * The cluster everything else is built in, whichever it is: the kind cluster vault-ha creates, or one the user has.
 * Only this file and the two cluster components know which; the ingress, TLS, Vault and the bootstrap take a
 * provider and a kubeconfig and work the same on both.
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, FixCommands, Settings } from "../config/settings";
import { KindCluster } from "../kind/kindCluster";
import { kindConfigYaml } from "../kind/kindConfig";
import { kindShape } from "../kind/kindShape";
import { ClusterFacts, parseStepResult, stepCommand, stepEnvironment } from "../stepCommand/contract";
import { Logging, projectDir } from "../stepCommand/stepResource";
import { clusterFactsParams, ExistingCluster } from "./existingCluster";
import { ExistingPlan, existingPlan } from "./existingPlan";
import { findingLine, problem } from "../problems";
import { KUBECONFIG_ENV, KUBECONFIG_SCRIPT, kubeconfigTarget } from "./kubeconfig";
import { VAULT_RELEASE_NAME } from "../vault/names";

export interface Target {
    provider: k8s.Provider;
    /** A one-context kubeconfig (secret), for the steps. */
    kubeconfig: pulumi.Output<string>;
    kubeContext: pulumi.Output<string>;
    clusterName: pulumi.Output<string>;
    /**
     * kind's cluster: everything in it is `deletedWith` it, so `pulumi destroy` deletes the cluster instead of each
     * object. Undefined on an existing cluster, which vault-ha never deletes: each object is deleted in turn.
     */
    deletedWith?: pulumi.Resource;
    /** On an existing cluster: what the program decided from what the cluster reported. */
    plan?: ExistingPlan;
}

export function kindTarget(settings: Settings, owner: string): Target {
    const kind = new KindCluster("kind", {
        clusterName: settings.clusterName,
        nodeImage: settings.kindNodeImage,
        configYaml: kindConfigYaml(settings),
        owner,
        shape: kindShape(settings, kindConfigYaml(settings)),
    });
    return { provider: kind.provider, kubeconfig: kind.kubeconfig, kubeContext: kind.kubeContext, clusterName: kind.clusterName, deletedWith: kind.command };
}

/**
 * Reads the user's cluster before anything is registered: its one-context kubeconfig, then what it offers (nodes,
 * storage classes, cert-manager). Both run on every preview and up, and a cluster that does not answer stops the
 * program here, with nothing created.
 */
export async function existingTarget(settings: Settings, givenKubeconfig: string | undefined, owner: string): Promise<Target> {
    const where = givenKubeconfig !== undefined ? "vault-ha:kubeconfig" : `the kubeconfig (${process.env.KUBECONFIG ? "KUBECONFIG" : "~/.kube/config"})`;
    const fixes = new FixCommands(pulumi.getStack());
    const flattened = await command.local
        .run({
            command: KUBECONFIG_SCRIPT,
            environment: {
                ...(settings.kubeContext ? { [KUBECONFIG_ENV.context]: settings.kubeContext } : {}),
                ...(givenKubeconfig !== undefined ? { [KUBECONFIG_ENV.onStdin]: "1" } : {}),
            },
            stdin: givenKubeconfig,
            // stdout is the kubeconfig with its credentials: never logged.
            logging: Logging.Stderr,
        })
        .catch((err: Error) => {
            // kubectl's own words are on stderr, which Pulumi shows; this says what was being read and the way out.
            const what = settings.kubeContext ? `context ${settings.kubeContext}` : "the current context";
            throw new ConfigError([
                problem(
                    `could not read ${what} from ${where} with kubectl config view (${err.message.split("\n")[0] || "kubectl failed"})`,
                    `kubectl config get-contexts -o name, then ${fixes.set("kubeContext", "<one of them>")}`,
                ),
            ]);
        });
    const target = kubeconfigTarget(flattened.stdout, settings.kubeContext ? `context ${settings.kubeContext} of ${where}` : where);
    const kubeconfig = flattened.stdout;

    const facts = parseStepResult(
        "cluster-facts",
        (
            await command.local.run({
                command: stepCommand("cluster-facts"),
                environment: stepEnvironment("cluster-facts", clusterFactsParams(settings)),
                stdin: JSON.stringify({ kubeconfig }),
                dir: projectDir(),
                logging: Logging.Stderr,
            })
        ).stdout,
    ) as ClusterFacts;

    // What the running Vault StatefulSet has, if any: auto choices made at the first install are kept (existingPlan.ts).
    const running = parseStepResult(
        "pod-templates",
        (
            await command.local.run({
                command: stepCommand("pod-templates"),
                environment: stepEnvironment("pod-templates", {
                    namespace: settings.vaultNamespace,
                    release: VAULT_RELEASE_NAME,
                    replicas: settings.vaultReplicas,
                    timeoutSeconds: 60,
                }),
                stdin: JSON.stringify({ kubeconfig }),
                dir: projectDir(),
                logging: Logging.Stderr,
            })
        ).stdout,
    );

    const plan = existingPlan(settings, facts, owner, fixes, { antiAffinity: running.antiAffinity });
    // A problem the live cluster has with the configuration is reported like a configuration mistake: nothing is created.
    if (plan.problems.length > 0) throw new ConfigError(plan.problems);
    for (const warning of plan.warnings) pulumi.log.warn(findingLine(warning));

    const cluster = new ExistingCluster("cluster", { kubeconfig: pulumi.secret(kubeconfig), target });
    return { provider: cluster.provider, kubeconfig: cluster.kubeconfig, kubeContext: cluster.kubeContext, clusterName: cluster.clusterName, plan };
}
