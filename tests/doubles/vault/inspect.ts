/**
 * Reading a simulation's record: which Vault commands ran where, and which pods are unsealed.
 */
import type { Simulation } from "./harness";

/** "<pod> <argv>" of every Vault CLI call, optionally from the `since`-th recorded call on. */
export function vaultCalls(sim: Simulation, since = 0): string[] {
    return sim
        .calls()
        .slice(since)
        .filter((c) => c.tool === "vault")
        .map((c) => `${c.pod} ${c.argv.join(" ")}`);
}

export function unsealed(sim: Simulation): string[] {
    return Object.entries<{ vault: { sealed: boolean } }>(sim.state().pods)
        .filter(([, p]) => !p.vault.sealed)
        .map(([name]) => name);
}
