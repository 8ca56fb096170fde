import * as pulumi from "@pulumi/pulumi";

/**
 * Options for a resource that lives inside the kind cluster. The provider is inherited from the parent component,
 * but `deletedWith` is not, so it is passed on explicitly: with it, `pulumi destroy` deletes the kind cluster and
 * skips the per-object deletes (and their finalizers) that would die with it anyway.
 */
export function inCluster(parent: pulumi.Resource, opts: pulumi.ComponentResourceOptions | undefined, extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    return { ...extra, parent, deletedWith: opts?.deletedWith };
}
