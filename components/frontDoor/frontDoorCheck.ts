/**
 * The program's side of frontDoorSwitch.ts: on kind, before the front door's release changes, which pods hold the host
 * ports 80/443 (the front-door-facts step, run as an invoke at every preview and up), and the refusal, if any. The
 * invoke runs only once the kubeconfig is known: on a new stack's preview nothing is read, and nothing can collide;
 * when the kind component stops the program (a vanished cluster), this adds no error of its own.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { IngressMode } from "../config/settingDeclarations";
import { FixCommands } from "../config/configProblems";
import { parseStepResult, stepCommand, stepEnvironment } from "../stepCommand/contract";
import { Logging, projectDir } from "../stepCommand/stepResource";
import { frontDoorSwitchRefusal } from "./frontDoorSwitch";

export function frontDoorRefusal(kubeconfig: pulumi.Input<string>, wanted: IngressMode, parent: pulumi.Resource): pulumi.Output<string | undefined> {
    return pulumi.unsecret(
        pulumi.output(kubeconfig).apply(async (config) => {
            const out = await command.local.run(
                {
                    command: stepCommand("front-door-facts"),
                    environment: stepEnvironment("front-door-facts", { timeoutSeconds: 60 }),
                    // The step reads its secrets as JSON on stdin (stepStdin's shape), never from argv or env.
                    stdin: JSON.stringify({ kubeconfig: config }),
                    dir: projectDir(),
                    addPreviousOutputInEnv: false,
                    logging: Logging.Stderr,
                },
                { parent },
            );
            const facts = parseStepResult("front-door-facts", out.stdout);
            return frontDoorSwitchRefusal(facts.holders, wanted, new FixCommands(pulumi.getStack()));
        }),
    );
}

/**
 * The gate a front door component puts first: resolves when nothing collides, fails with the refusal as the
 * component's error otherwise. Its namespace and release wait for it, so that nothing of the new front door is created
 * before the refusal, in a preview or an up without one (pulumi up --skip-preview).
 */
export function frontDoorGate(portCheck: { kubeconfig: pulumi.Input<string> } | undefined, wanted: IngressMode, parent: pulumi.Resource): pulumi.Output<true> {
    if (!portCheck) return pulumi.output(true as const);
    return frontDoorRefusal(portCheck.kubeconfig, wanted, parent).apply((refusal) => {
        if (refusal) throw new pulumi.ResourceError(refusal, parent, true);
        return true as const;
    });
}
