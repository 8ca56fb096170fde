/**
 * front-door-facts: which pods hold the host ports 80 and 443 (components/frontDoor/frontDoorSwitch.ts), read on
 * every preview and up on kind, before either front door's release changes. Read-only; a cluster that cannot be read
 * (not created yet, stopped) is reported as unknown rather than failing the preview: the releases' own waits say more.
 */
import { portHolders } from "../../frontDoor/frontDoorSwitch";
import { Handler, withKubectl } from "../runtime";
import type { KubectlReads } from "./clusterFacts";

export async function readPortHolders(kubectl: KubectlReads): Promise<{ holders: ReturnType<typeof portHolders>; unknown?: string }> {
    const r = await kubectl.run(["get", "pods", "--all-namespaces", "-o", "json"]);
    if (r.code !== 0) return { holders: [], unknown: (r.stderr || r.stdout).trim().split("\n").pop() ?? "kubectl failed" };
    try {
        return { holders: portHolders(JSON.parse(r.stdout)) };
    } catch (err) {
        return { holders: [], unknown: `kubectl get pods printed no JSON: ${(err as Error).message}` };
    }
}

export const frontDoorFactsStep: Handler<"front-door-facts"> = (_p, secrets, ctx) =>
    withKubectl(ctx, secrets.kubeconfig, async (kubectl) => {
        const facts = await readPortHolders(kubectl);
        if (facts.unknown) ctx.log(`could not read the pods holding ports 80/443: ${facts.unknown}`);
        return facts;
    });
