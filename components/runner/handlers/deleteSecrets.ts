/**
 * delete-secrets: on `pulumi destroy` of a stack on a cluster vault-ha does not own, removes the secrets cert-manager
 * wrote for vault-ha's certificates (the CA's, with its private key, and Vault's server certificate's). cert-manager
 * leaves a Certificate's secret behind when the Certificate is deleted, unless its controller runs with
 * --enable-certificate-owner-ref (off by default: cert-manager cmd/controller/app/options, and its chart's
 * enableCertificateOwnerRef: false); vault-ha cannot set that on someone else's cert-manager. The step runs after the
 * Certificates are gone (they depend on it), so cert-manager does not write them again.
 */
import { classifyFailure } from "../failures";
import type { KubectlRunner } from "../kubectl";
import { PollContext, pollUntil, StepError } from "../poll";
import { Handler, withKubectl } from "../runtime";
import { VaultUnavailable } from "../vaultOps";

/** The names in the comma-separated parameter, each a Secret name. */
export function secretNamesOf(list: string): string[] {
    const names = list
        .split(",")
        .map((n) => n.trim())
        .filter((n) => n !== "");
    for (const name of names) {
        if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) throw new StepError(`delete-secrets: ${JSON.stringify(name)} is not a Secret name`);
    }
    return names;
}

export async function deleteSecrets(ctx: PollContext, kubectl: KubectlRunner, namespace: string, names: string[]): Promise<string[]> {
    if (names.length === 0) return [];
    // -o name prints each deleted object; --ignore-not-found makes one that is already gone (or never was) no error.
    return pollUntil(
        ctx,
        `secrets ${names.join(", ")} in namespace ${namespace} to be deleted`,
        async () => {
            const r = await kubectl.run(["delete", "secret", ...names, "-n", namespace, "--ignore-not-found", "--wait=false", "-o", "name"]);
            if (r.code === 0) {
                return r.stdout
                    .split("\n")
                    .map((line) => line.trim().replace(/^secret\//, ""))
                    .filter((line) => line !== "");
            }
            const failure = classifyFailure(r);
            // A namespace that is already gone took the secrets with it.
            if (/\(NotFound\).*namespaces? /.test(r.stderr)) return [];
            if (failure.kind === "transient") throw new VaultUnavailable(failure.summary);
            throw new StepError(
                `could not delete secrets ${names.join(", ")} in namespace ${namespace}: ${failure.summary}. ` +
                    `Delete them by hand: kubectl -n ${namespace} delete secret ${names.join(" ")}`,
            );
        },
        () => "",
    );
}

export const deleteSecretsStep: Handler<"delete-secrets"> = (p, secrets, ctx) =>
    withKubectl(ctx, secrets.kubeconfig, async (kubectl) => {
        const deleted = await deleteSecrets(ctx, kubectl, p.namespace, secretNamesOf(p.secretNames));
        ctx.log(
            deleted.length > 0
                ? `deleted secrets ${deleted.join(", ")} in namespace ${p.namespace}`
                : `no secret of vault-ha's left in namespace ${p.namespace}`,
        );
        return { deleted };
    });
