/**
 * The scan every simulator scenario ends with: no unseal key (base64 or hex), root token or kubeconfig client key in
 * anything a user or another process could see (logged lines, argv, environments).
 */
import { strict as assert } from "assert";
import type { Simulation } from "./harness";

export function secretsOf(sim: Simulation): string[] {
    const state = sim.state();
    // With an auto seal the cluster's keys are its recovery keys (model.js initAutoSealed).
    const keys: string[] = [...(state.cluster?.keys ?? []), ...(state.cluster?.recovery?.keys ?? [])];
    const clientKey = /client-key-data: (\S+)/.exec(sim.kubeconfig)![1];
    return [...keys, ...keys.map((k) => Buffer.from(k, "base64").toString("hex")), state.cluster?.rootToken, clientKey].filter(Boolean);
}

export function assertNothingExposed(sim: Simulation, extra: string[] = []): void {
    const exposed = sim.exposedText();
    assert.ok(sim.calls().length > 0, "the simulator saw the calls");
    for (const secret of [...secretsOf(sim), ...extra]) {
        assert.ok(!exposed.includes(secret), `a secret (${secret.slice(0, 6)}...) reached an argv, an environment or a log`);
    }
}
