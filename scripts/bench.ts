/**
 * npm run bench: times the bootstrap against the simulator with a fixed latency per Vault call, for 3 and 5 replicas,
 * beside the critical-path minimum: wait + init + threshold unseals on the leader + one join and threshold unseals on
 * a follower + verify. It runs the real step functions on the plan the Pulumi component uses (followers in parallel).
 * Fails when the bootstrap takes more than 1.2 times that minimum.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bootstrapPlan, initLeader, joinAndUnseal, podNames, StepContext, unsealPod, verifyRaft, waitForPods } from "../components/bootstrap/steps";
import { ModelOps } from "../tests/simulator/modelOps";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../tests/simulator/model.js");
/* eslint-enable @typescript-eslint/no-require-imports */

export const BENCH_LIMIT = 1.2;

export interface BenchResult {
    replicas: number;
    threshold: number;
    latencyMs: number;
    wallMs: number;
    minimumMs: number;
    calls: number;
}

export async function benchBootstrap(replicas: number, latencyMs: number, shares = 5, threshold = 3): Promise<BenchResult> {
    const ops = new ModelOps(model.newState({ replicas }), latencyMs);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-ha-bench-"));
    const ctx: StepContext = { ops, log: () => undefined, timeoutMs: 60_000, pollMs: 2000 };
    const pods = podNames("vault", replicas);
    const plan = bootstrapPlan(pods);
    const started = process.hrtime.bigint();
    try {
        await waitForPods(ctx, pods);
        const keys = await initLeader(ctx, { leader: pods[0], shares, threshold, keyFile: path.join(dir, "init.json") });
        await unsealPod(ctx, pods[0], keys.unsealKeys, threshold);
        const target = { leaderApiAddr: `http://${pods[0]}.vault-internal:8200` };
        await Promise.all(plan.filter((s) => s.kind === "join").map((s) => joinAndUnseal(ctx, s.pod!, target, keys.unsealKeys, threshold)));
        await verifyRaft(ctx, pods[0], pods, keys.rootToken);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    // wait + init + threshold unseals (leader) + join + threshold unseals (one follower) + verify
    const minimumMs = (1 + 1 + threshold + 1 + threshold + 1) * latencyMs;
    return { replicas, threshold, latencyMs, wallMs, minimumMs, calls: ops.calls.length };
}

async function main(): Promise<void> {
    const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 100);
    let failed = false;
    console.log(`bootstrap against the simulator, ${latencyMs} ms per Vault call, 5 key shares, threshold 3`);
    console.log("replicas   wall time   critical-path minimum   ratio   Vault calls");
    for (const replicas of [3, 5]) {
        const r = await benchBootstrap(replicas, latencyMs);
        const ratio = r.wallMs / r.minimumMs;
        failed ||= ratio > BENCH_LIMIT;
        console.log(`${String(replicas).padStart(8)}   ${r.wallMs.toFixed(0).padStart(7)} ms   ${r.minimumMs.toFixed(0).padStart(18)} ms   ${ratio.toFixed(2).padStart(5)}   ${String(r.calls).padStart(11)}`);
    }
    if (failed) {
        console.error(`FAIL: the bootstrap took more than ${BENCH_LIMIT}x its critical-path minimum`);
        process.exit(1);
    }
}

if (require.main === module) void main();
