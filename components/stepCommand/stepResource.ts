/**
 * One step of vault-ha's cluster work as a @pulumi/command Command: the step runner (cli.ts) with its plain
 * parameters in the environment and its secrets as one JSON object on stdin, run in the project folder, never
 * handed its previous stdout (which can hold the keys).
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { StepName, StepParams, stepCommand, stepEnvironment, StepSecrets } from "./contract";

export const Logging = command.types.enums.local.Logging;
type LoggingValue = (typeof Logging)[keyof typeof Logging];

/**
 * The runner, node_modules and the key file are addressed relative to the project folder. Commands run where
 * `pulumi` was started unless told otherwise, so they are told: relative to here, which is "." in normal use and
 * keeps machine-specific folders out of the state.
 */
export function projectDir(): string {
    return path.relative(process.cwd(), path.resolve(__dirname, "../..")) || ".";
}

/** The stdin of a step: secrets only, marked secret so that the state keeps them encrypted. */
export function stepStdin(secrets: pulumi.Input<Record<string, unknown>>): pulumi.Output<string> {
    return pulumi.secret(pulumi.output(secrets).apply((s) => JSON.stringify(s)));
}

/** Each value may be an Input: what comes from other resources. */
type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

export interface StepResourceArgs<S extends StepName> {
    step: S;
    /** The step's parameters, as the contract types them; they become its environment. */
    params: pulumi.Input<StepParams<S>>;
    /** Each secret an Input, or all of them as one Output (when which ones are sent depends on other outputs). */
    secrets: Inputs<StepSecrets[S]> | pulumi.Output<StepSecrets[S]>;
    /** What Pulumi may log; never stdout where stdout holds secrets. */
    logging: LoggingValue;
    triggers?: pulumi.Input<unknown[]>;
    /** A step to run when the resource is deleted, with this step's environment (it reads a subset of it). */
    onDelete?: StepName;
}

export function stepResource<S extends StepName>(name: string, args: StepResourceArgs<S>, opts: pulumi.CustomResourceOptions): command.local.Command {
    return new command.local.Command(
        name,
        {
            create: stepCommand(args.step),
            delete: args.onDelete ? stepCommand(args.onDelete) : undefined,
            environment: pulumi.output(args.params).apply((p) => stepEnvironment(args.step, p as StepParams<S>)),
            stdin: stepStdin(args.secrets as pulumi.Input<Record<string, unknown>>),
            triggers: args.triggers,
            logging: args.logging,
            dir: projectDir(),
            addPreviousOutputInEnv: false,
        },
        // Steps wait for conditions (image pulls, raft convergence) with their own deadlines, but not forever.
        { customTimeouts: { create: "15m", update: "15m" }, ...opts },
    );
}
