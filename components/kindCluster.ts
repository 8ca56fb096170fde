/**
 * KindCluster: the kind cluster itself, created and deleted with the kind CLI through @pulumi/command, and a
 * Kubernetes provider for everything that runs inside it.
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

export interface KindClusterArgs {
    /** kind cluster name; the kubeconfig context becomes `kind-<name>`. */
    clusterName: pulumi.Input<string>;
    /** Node image pinned by digest; it must come from the release notes of the installed kind. */
    nodeImage: pulumi.Input<string>;
    /** The cluster configuration as YAML (see kindConfig.ts). */
    configYaml: pulumi.Input<string>;
}

/**
 * Reuses a cluster of the same name if one exists, so a re-run after a failed or interrupted `up` continues instead of
 * failing on "node(s) already exist". Only the kubeconfig goes to stdout (kind logs to stderr).
 */
export const KIND_CREATE_SCRIPT = `set -eu
clusters=$(kind get clusters)
if printf '%s\\n' "$clusters" | grep -qx "$KIND_CLUSTER_NAME"; then
  echo "kind cluster $KIND_CLUSTER_NAME already exists: reusing it" >&2
else
  kind create cluster --name "$KIND_CLUSTER_NAME" --image "$KIND_NODE_IMAGE" --config - --wait 5m >&2
fi
kind get kubeconfig --name "$KIND_CLUSTER_NAME"
`;

/** kind documents delete as idempotent: it exits 0 when the cluster is already gone. */
export const KIND_DELETE_SCRIPT = `kind delete cluster --name "$KIND_CLUSTER_NAME"`;

export class KindCluster extends pulumi.ComponentResource {
    /** The command resource that owns the cluster; pass it as `deletedWith` to everything inside the cluster. */
    public readonly command: command.local.Command;
    public readonly clusterName: pulumi.Output<string>;
    /** Admin kubeconfig of the cluster (holds a client key): secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly kubeContext: pulumi.Output<string>;
    public readonly provider: k8s.Provider;

    constructor(name: string, args: KindClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:kind:KindCluster", name, {}, opts);

        // Changes to any of these can only be applied by building a new cluster.
        const shape = pulumi.all([args.clusterName, args.nodeImage, args.configYaml]);

        this.command = new command.local.Command(
            `${name}-cluster`,
            {
                create: KIND_CREATE_SCRIPT,
                delete: KIND_DELETE_SCRIPT,
                stdin: args.configYaml,
                environment: { KIND_CLUSTER_NAME: args.clusterName, KIND_NODE_IMAGE: args.nodeImage },
                triggers: shape.apply(([clusterName, image, config]) => [clusterName, image, config]),
                // stdout is the kubeconfig: keep it out of the logs and out of the environment of later runs.
                logging: command.types.enums.local.Logging.Stderr,
                addPreviousOutputInEnv: false,
            },
            {
                parent: this,
                additionalSecretOutputs: ["stdout"],
                // The replacement has the same name: the old cluster must be gone before the new one is created,
                // or the idempotent create would adopt the old cluster and the delete would then remove it.
                deleteBeforeReplace: true,
                customTimeouts: { create: "15m", update: "15m", delete: "5m" },
            },
        );

        this.clusterName = pulumi.output(args.clusterName);
        this.kubeconfig = pulumi.secret(this.command.stdout);
        this.kubeContext = this.clusterName.apply((n) => `kind-${n}`);

        this.provider = new k8s.Provider(
            `${name}-k8s`,
            {
                kubeconfig: this.kubeconfig,
                // Replace the provider (and with it every in-cluster resource) exactly when the cluster is rebuilt,
                // not whenever the kubeconfig is unknown during a preview.
                clusterIdentifier: shape.apply(([clusterName, image, config]) =>
                    `${clusterName}-${createHash("sha256").update(`${image}\n${config}`).digest("hex").slice(0, 12)}`,
                ),
            },
            { parent: this },
        );

        this.registerOutputs({
            clusterName: this.clusterName,
            kubeconfig: this.kubeconfig,
            kubeContext: this.kubeContext,
        });
    }
}
