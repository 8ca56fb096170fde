/**
 * SIMULATOR: runs a step that only reads the cluster around Vault (no `kubectl exec`, no port-forward) in-process on
 * the simulation's clock, with exactly the environment the test gives it. For steps the harness does not know the
 * parameters of (Simulation.runStep builds a bootstrap step's own), such as gateway-ready.
 */
import { executeStep } from "../../../components/runner/main";
import type { KubectlRunner } from "../../../components/runner/kubectlProcess";
import type { StepRuntime } from "../../../components/runner/runtime";
import type { StepName } from "../../../components/stepCommand/contract";
import type { Simulation, StepRun } from "./harness";

/* eslint-disable @typescript-eslint/no-require-imports */
const cli = require("./cli.js");
const model = require("./model.js");

function clusterKubectl(sim: Simulation, kubeconfig: string): KubectlRunner {
    return {
        async run(args) {
            await sim.clock.sleep(sim.state().timing.callMs);
            model.logCall(sim.stateFile, { tool: "kubectl", argv: args, env: { KUBECONFIG: "/tmp/vault-ha-XXXXXX/kubeconfig" } });
            const result = model.update(sim.stateFile, (s: unknown) => cli.kubectl(s, args, { kubeconfig, stdin: "" }), sim.clock.now());
            if ("shell" in result) throw new Error(`(simulator: clusterStep runs no shell: kubectl ${args.join(" ")})`);
            return result;
        },
        stream() {
            throw new Error("(simulator: clusterStep streams nothing)");
        },
        background() {
            throw new Error("(simulator: clusterStep starts no port-forward)");
        },
        dispose() {},
    };
}

/** One step with `env` as its whole environment (plus the poll interval), its stdout and scrubbed stderr. */
export async function runClusterStep(sim: Simulation, step: StepName, env: Record<string, string>, pollMs = 2000): Promise<StepRun> {
    let stderr = "";
    const runtime: StepRuntime = {
        env: { ...env, VAULT_HA_POLL_MS: String(pollMs) },
        clock: sim.clock,
        kubectl: (kubeconfig) => clusterKubectl(sim, kubeconfig),
        stderr: (line) => (stderr += line),
    };
    const outcome = await executeStep(step, JSON.stringify({ kubeconfig: sim.kubeconfig }), runtime);
    return { ...outcome, stderr };
}
