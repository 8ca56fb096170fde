/**
 * Cluster-level steps that are not about Vault itself: cert-manager's webhook being ready, and reading the CA.
 */
import type { KubectlRunner } from "../kubectl";
import { Handler, withKubectl } from "../runtime";
import { PollContext, pollUntil, StepError } from "../poll";
import { VaultUnavailable } from "../vaultOps";

/** A ClusterIssuer that is only ever submitted as a server-side dry run: nothing is stored. */
export const WEBHOOK_PROBE = JSON.stringify({
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name: "vault-ha-webhook-probe" },
    spec: { selfSigned: {} },
});

/**
 * The probe for a cluster vault-ha does not own: an Issuer in Vault's namespace, which goes through the same
 * admission webhook but needs only the namespaced right the up needs anyway (a dry run is authorized like the real
 * create: kubernetes apiserver, dry-run requests go through authorization and admission unchanged).
 */
export function webhookProbe(namespace?: string): string {
    if (namespace === undefined) return WEBHOOK_PROBE;
    return JSON.stringify({
        apiVersion: "cert-manager.io/v1",
        kind: "Issuer",
        metadata: { name: "vault-ha-webhook-probe", namespace },
        spec: { selfSigned: {} },
    });
}

/**
 * cert-manager's Helm install can finish before its webhook serves, and then the first Issuer fails with "failed
 * calling webhook". A server-side dry run goes through the same admission webhook: once it is accepted, real
 * Issuers will be too.
 */
export async function waitForCertManagerWebhook(ctx: PollContext, kubectl: KubectlRunner, probeNamespace?: string): Promise<void> {
    let last = "";
    await pollUntil(
        ctx,
        `cert-manager's webhook to admit ${probeNamespace ? `an Issuer in ${probeNamespace}` : "a ClusterIssuer"} (server-side dry run)`,
        async () => {
            const r = await kubectl.run(["create", "--dry-run=server", "-f", "-", "-o", "name"], webhookProbe(probeNamespace));
            if (r.code === 0) return true;
            last = r.stderr.trim().split("\n").pop() ?? "";
            return undefined;
        },
        () => last,
    );
    ctx.log("cert-manager's webhook admits issuers");
}

/** The CA certificate (public) from the server certificate's secret, without reading its private key into state. */
export async function readCaCert(ctx: PollContext, kubectl: KubectlRunner, namespace: string, secret: string): Promise<string> {
    return pollUntil(
        ctx,
        `the CA certificate in secret ${namespace}/${secret}`,
        async () => {
            const r = await kubectl.run(["get", "secret", secret, "-n", namespace, "-o", "jsonpath={.data.ca\\.crt}"]);
            if (r.code !== 0) throw new VaultUnavailable(r.stderr.trim());
            const pem = Buffer.from(r.stdout.trim(), "base64").toString("utf8");
            if (!pem.includes("BEGIN CERTIFICATE")) {
                if (r.stdout.trim() === "") return undefined;
                throw new StepError(`${namespace}/${secret} has no PEM certificate under ca.crt`);
            }
            return pem;
        },
        () => "",
    );
}

export const certManagerReadyStep: Handler<"cert-manager-ready"> = (p, secrets, ctx) =>
    withKubectl(ctx, secrets.kubeconfig, async (kubectl) => {
        await waitForCertManagerWebhook(ctx, kubectl, p.probeNamespace);
        return { ready: true as const };
    });

export const readCaStep: Handler<"read-ca"> = (p, secrets, ctx) =>
    withKubectl(ctx, secrets.kubeconfig, async (kubectl) => ({ caCert: await readCaCert(ctx, kubectl, p.namespace, p.tlsSecret) }));
