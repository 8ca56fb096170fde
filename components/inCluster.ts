import * as pulumi from "@pulumi/pulumi";

/**
 * Options for a resource that lives inside the kind cluster. The provider is inherited from the parent component,
 * but `deletedWith` and `dependsOn` are not, so they are passed on explicitly. With `deletedWith`, `pulumi destroy`
 * deletes the kind cluster and skips the per-object deletes (and their finalizers) that would die with it anyway;
 * with the component's `dependsOn`, what the component waits for its resources wait for too, unless a resource names
 * its own dependencies (which then lead back to the component's).
 */
export function inCluster(
    parent: pulumi.Resource,
    opts: pulumi.ComponentResourceOptions | undefined,
    extra?: pulumi.CustomResourceOptions,
): pulumi.CustomResourceOptions {
    return { dependsOn: opts?.dependsOn, ...extra, parent, deletedWith: opts?.deletedWith };
}

/** A resource option's dependsOn as a list (the program passes lists; a single resource is one item). */
export function dependencyList(dependsOn: pulumi.ResourceOptions["dependsOn"]): pulumi.Input<pulumi.Resource>[] {
    if (dependsOn === undefined) return [];
    return Array.isArray(dependsOn) ? dependsOn : [dependsOn as pulumi.Input<pulumi.Resource>];
}
