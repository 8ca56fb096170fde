/**
 * VaultNamespace: the namespace Vault lives in, created first and on its own. Everything in it (the server
 * certificate, the Vault release, its Ingress, the bootstrap) takes `name`, the Namespace's output, and so waits for
 * it; and the namespace itself waits for nothing in it (the Vault release, for one, waits for its certificate).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inCluster } from "../inCluster";

export interface VaultNamespaceArgs {
    name: pulumi.Input<string>;
    /** Earlier identities of the Namespace in the state, so that moving it here does not replace it (and empty it). */
    aliases?: pulumi.Input<pulumi.URN | pulumi.Alias>[];
    /**
     * Leave the namespace (and the raft volume claims in it, which Helm does not delete) when the stack is destroyed:
     * on a cluster vault-ha does not own, Vault's data then survives a `pulumi destroy` (raftVolumesOnDestroy: keep).
     * Required, from the stack plan: a forgotten argument must not quietly delete the data of a stack that keeps it.
     */
    retainOnDelete: boolean;
}

export class VaultNamespace extends pulumi.ComponentResource {
    /** The namespace's name, known once it exists: what depends on it waits for it. */
    public readonly name: pulumi.Output<string>;

    constructor(name: string, args: VaultNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:vault:VaultNamespace", name, {}, opts);

        const namespace = new k8s.core.v1.Namespace(
            `${name}-ns`,
            { metadata: { name: args.name } },
            inCluster(this, opts, { aliases: args.aliases, ...(args.retainOnDelete ? { retainOnDelete: true } : {}) }),
        );
        this.name = namespace.metadata.name;

        this.registerOutputs({ name: this.name });
    }
}
