/**
 * npm run bench: how long the bootstrap takes against the simulator, on simulated time, for 3 and 5 replicas, beside
 * the critical-path minimum that Vault itself imposes: the calls that must follow each other (wait, init, the roll's
 * reads of the StatefulSet, pods and claims, the leader's status/unseal/status, a follower's status/join/status/unseal
 * and its membership in raft's configuration, verify), plus the election after the leader's unseal,
 * a follower's snapshot before it unseals, and autopilot's stabilisation before it is a voter. The difference is
 * what the bootstrap adds by polling (every 2 s at most). Simulated time makes the result exact and repeatable.
 * Fails when the bootstrap takes more than BENCH_LIMIT times that minimum.
 */
import { Simulation } from "../doubles/vault/harness";
import { CommandSpec, runWithArgs } from "../../scripts/args";

export const BENCH_LIMIT = 1.25;

export interface BenchResult {
    replicas: number;
    threshold: number;
    /** Simulated milliseconds from the first step to the end of verify. */
    elapsedMs: number;
    minimumMs: number;
    /** Vault CLI calls made, all pods together. */
    vaultCalls: number;
    /** `vault write sys/unseal` calls: one per key share and pod. */
    unsealCalls: number;
}

export async function benchBootstrap(replicas: number, shares = 5, threshold = 3): Promise<BenchResult> {
    const sim = await Simulation.create({ replicas, keyShares: shares, keyThreshold: threshold });
    try {
        const { timing } = sim.state();
        const started = sim.clock.now();
        await sim.bootstrap();
        const elapsedMs = sim.clock.now() - started;
        // wait(1) + init(status, init) + roll(statefulset, pods, pods, claims: it finds nothing to roll) + leader(status,
        // unseals in parallel, status) + follower(status, join, status, unseals in parallel, then status and list-peers:
        // `initialized` does not prove membership, see join.ts confirmMembership) + verify(list-peers): 18 sequential calls.
        const minimumMs = 18 * timing.callMs + timing.electionMs + timing.followerUnsealMs + timing.stabilizationMs;
        const vault = sim.calls().filter((c) => c.tool === "vault");
        const unsealCalls = vault.filter((c) => c.argv.includes("sys/unseal")).length;
        return { replicas, threshold, elapsedMs, minimumMs, vaultCalls: vault.length, unsealCalls };
    } finally {
        sim.dispose();
    }
}

export const BENCH_ARGS: CommandSpec = {
    command: "npm run bench",
    summary: `the bootstrap against the simulator on simulated time, 3 and 5 replicas, beside its critical-path minimum; fails above ${BENCH_LIMIT}x`,
    flags: [],
};

async function main(): Promise<number> {
    let failed = false;
    console.log("bootstrap against the simulator (simulated time), 5 key shares, threshold 3");
    console.log("replicas   bootstrap   critical-path minimum   ratio   Vault calls");
    for (const replicas of [3, 5]) {
        const r = await benchBootstrap(replicas);
        const ratio = r.elapsedMs / r.minimumMs;
        failed ||= ratio > BENCH_LIMIT;
        console.log(
            `${String(replicas).padStart(8)}   ${(r.elapsedMs / 1000).toFixed(1).padStart(7)} s   ${(r.minimumMs / 1000).toFixed(1).padStart(19)} s   ${ratio.toFixed(2).padStart(5)}   ${String(r.vaultCalls).padStart(11)}`,
        );
    }
    if (failed) console.error(`FAIL: the bootstrap took more than ${BENCH_LIMIT}x its critical-path minimum`);
    return failed ? 1 : 0;
}

if (require.main === module) void runWithArgs(process.argv.slice(2), BENCH_ARGS, main).then((code) => (process.exitCode = code));
