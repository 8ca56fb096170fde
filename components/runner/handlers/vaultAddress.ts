/**
 * vault-address: the address of Vault's LoadBalancer Service, once the cluster's load balancer controller has
 * given it one.
 *
 * k8s.io/api core/v1 types.go: a Service's status.loadBalancer (LoadBalancerStatus) lists ingress points
 * (LoadBalancerIngress); each has `ip` ("set for load-balancer ingress points that are IP based (typically GCE or
 * OpenStack load-balancers)") or `hostname` ("set for load-balancer ingress points that are DNS based (typically AWS
 * load-balancers)"). The list stays empty until a controller (the cloud provider's, MetalLB, kube-vip, ...) serves
 * the Service; without one it stays empty for ever, so the wait has a deadline and says so.
 */
import { classifyFailure } from "../failures";
import type { KubectlRunner } from "../kubectl";
import { PollContext, pollUntil, StepError } from "../poll";
import { Handler, withKubectl } from "../runtime";
import { VaultUnavailable } from "../vaultOps";

/* eslint-disable @typescript-eslint/no-explicit-any -- reads the Service JSON the Kubernetes API defines */

/** The first ingress point's IP, else its host name; undefined while there is none. */
export function loadBalancerAddress(service: any): string | undefined {
    const first = service?.status?.loadBalancer?.ingress?.[0];
    const address = first?.ip || first?.hostname;
    return typeof address === "string" && address ? address : undefined;
}

export async function waitForLoadBalancer(ctx: PollContext, kubectl: KubectlRunner, namespace: string, service: string): Promise<string> {
    const name = `service ${service} in namespace ${namespace}`;
    let seen = "";
    try {
        const address = await pollUntil(
            ctx,
            `a load balancer address for ${name} (status.loadBalancer.ingress[0].ip or .hostname)`,
            async () => {
                const r = await kubectl.run(["get", "service", service, "-n", namespace, "-o", "json"]);
                if (r.code !== 0) {
                    const failure = classifyFailure(r);
                    if (/\(NotFound\)/.test(r.stderr)) {
                        seen = `${name} does not exist`;
                        return undefined;
                    }
                    if (failure.kind === "transient") throw new VaultUnavailable(`kubectl get service ${service}: ${failure.summary}`);
                    throw new StepError(`could not read ${name}: ${failure.summary}`);
                }
                const svc = JSON.parse(r.stdout);
                if (svc.spec?.type !== "LoadBalancer") {
                    throw new StepError(`${name} is of type ${svc.spec?.type ?? "ClusterIP"}, not LoadBalancer: no load balancer address will come`);
                }
                seen = "no ingress point yet (status.loadBalancer is empty)";
                return loadBalancerAddress(svc);
            },
            () => seen,
        );
        ctx.log(`${name} is reachable at ${address}`);
        return address;
    } catch (err) {
        if (err instanceof StepError && err.message.startsWith("timed out")) {
            throw new StepError(
                `${err.message}. No load balancer controller in this cluster? A LoadBalancer Service gets an address only from one (the cloud provider's, MetalLB, kube-vip); \`kubectl describe service ${service} -n ${namespace}\` shows its events. Or choose another vault-ha:vaultServiceType (NodePort, ClusterIP)`,
            );
        }
        throw err;
    }
}

export const vaultAddressStep: Handler<"vault-address"> = (p, secrets, ctx) =>
    withKubectl(ctx, secrets.kubeconfig, async (kubectl) => ({ address: await waitForLoadBalancer(ctx, kubectl, p.namespace, p.service) }));
