/**
 * InClusterUnsealer (autoUnseal: in-cluster): a pod in Vault's namespace that unseals any Vault pod of this release
 * that comes back sealed (a restart, a drained node, a laptop reboot), without a `pulumi up`. What it runs and why it
 * needs no Kubernetes API: unsealerManifests.ts and unsealerScript.ts. It is created after the bootstrap (it needs
 * the keys init made) and deleting it (autoUnseal: none) leaves nothing behind and touches no Vault pod.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inCluster } from "../inCluster";
import type { SealFacts } from "../stepCommand/contract";
import { UNSEALER_NAMES, UnsealerPlan, unsealerDeployment, unsealerServiceAccount, unsealKeysSecretData } from "./unsealerManifests";

export interface InClusterUnsealerArgs extends UnsealerPlan {
    namespace: pulumi.Input<string>;
    /** What the unsealer costs, logged as a warning on every preview and up (unsealerCostNotice). */
    notice: string;
    /** The unseal key shares (secret): the Secret gets the first threshold of them. */
    unsealKeys: pulumi.Input<string[]>;
    /**
     * What the active node reported of its seal at the bootstrap's verify (VaultBootstrap.sealFacts): its t of n
     * win over keyThreshold/keyShares, which apply only at init (adopted keys, a rekey), and its cluster id is the
     * one an unsealed pod must report. Undefined in a state from before verify reported it: the settings then.
     */
    sealFacts: pulumi.Input<SealFacts | undefined>;
}

/** A plain manifest's metadata with the namespace as an Input. */
function inNamespace<T extends { metadata?: unknown }>(manifest: Record<string, unknown>, namespace: pulumi.Input<string>): T {
    // The resource's type says apiVersion and kind; the args take neither.
    const rest: Record<string, unknown> = { ...manifest };
    delete rest.apiVersion;
    delete rest.kind;
    return { ...rest, metadata: { ...(manifest.metadata as object), namespace } } as unknown as T;
}

export class InClusterUnsealer extends pulumi.ComponentResource {
    public readonly deploymentName: pulumi.Output<string>;

    constructor(name: string, args: InClusterUnsealerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:unsealer:InClusterUnsealer", name, {}, opts);

        void pulumi.log.warn(args.notice, this);

        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            inNamespace<k8s.core.v1.ServiceAccountArgs>(unsealerServiceAccount(""), args.namespace),
            inCluster(this, opts),
        );

        const plan = pulumi
            .output(args.sealFacts)
            .apply((facts): UnsealerPlan => (facts ? { ...args, keyThreshold: facts.threshold, keyShares: facts.shares, clusterId: facts.clusterId } : args));

        const keys = new k8s.core.v1.Secret(
            `${name}-keys`,
            {
                metadata: { name: UNSEALER_NAMES.keysSecret, namespace: args.namespace, labels: { "app.kubernetes.io/part-of": "vault-ha" } },
                type: "Opaque",
                stringData: pulumi.secret(pulumi.all([args.unsealKeys, plan]).apply(([all, p]) => unsealKeysSecretData(all, p.keyThreshold))),
            },
            inCluster(this, opts, { additionalSecretOutputs: ["data", "stringData"] }),
        );

        const deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                ...inNamespace<k8s.apps.v1.DeploymentArgs>(unsealerDeployment(args, ""), args.namespace),
                // What the active node reported decides the pod's environment, once the verify step has run.
                spec: plan.apply((p) => (unsealerDeployment(p, "") as { spec: k8s.types.input.apps.v1.DeploymentSpec }).spec),
            },
            inCluster(this, opts, { dependsOn: [serviceAccount, keys] }),
        );
        this.deploymentName = deployment.metadata.name;

        this.registerOutputs({ deploymentName: this.deploymentName });
    }
}
