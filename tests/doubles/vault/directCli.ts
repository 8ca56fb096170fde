/**
 * SIMULATOR: the fake kubectl and vault of a Simulation called directly, without a step or a shell: for tests that pin
 * the model's answers to one command (tests/sim/sealModel.test.ts, sealMigration.test.ts).
 */
import type { Simulation } from "./harness";

/* eslint-disable @typescript-eslint/no-require-imports */
const cli = require("./cli.js");

export type CliResult = { code: number; stdout: string; stderr: string };

/** `kubectl ARGS` against the simulation, with its kubeconfig. */
export function kubectl(sim: Simulation, args: string[], stdin = ""): CliResult {
    let result: CliResult | undefined;
    sim.change((s) => (result = cli.kubectl(s, args, { kubeconfig: sim.kubeconfig, stdin })));
    return result!;
}

/** `vault ARGS` in a pod's vault container, through `kubectl exec` (-i when there is stdin). */
export const vault = (sim: Simulation, pod: string, args: string[], stdin = ""): CliResult =>
    kubectl(sim, ["exec", ...(stdin ? ["-i"] : []), "-n", "vault", pod, "-c", "vault", "--", "vault", ...args], stdin);

/** `vault status -format=json` of a pod, parsed. */
export const status = (sim: Simulation, pod: string) => JSON.parse(vault(sim, pod, ["status", "-format=json"]).stdout);
