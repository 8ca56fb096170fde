/**
 * node scripts/e2e-timings.mjs: writes the e2e test's phase timings as JSON (scripts/e2e.sh write_timings passes
 * everything in E2E_* variables) and prints them as a table. E2E_EVENTS, the engine events of the `pulumi up` (one
 * JSON event per line, written by `pulumi up --event-log`, without secrets), splits the up into its parts by the
 * component that owns each resource. Plain Node and no dependencies: e2e.sh may run it when the test failed early.
 */
import fs from "node:fs";
import os from "node:os";
import { env, stdout } from "node:process";

const log = (line) => stdout.write(`${line}\n`);
const phases = env.E2E_PHASES.split("\n")
    .filter(Boolean)
    .map((line) => {
        const [name, seconds, result] = line.split("\t");
        return { name, seconds: Number(seconds), result };
    });

// The part of `pulumi up` each component belongs to.
const PARTS = {
    "vault-ha:kind:KindCluster": "cluster",
    "vault-ha:ingress:IngressNginx": "charts",
    "vault-ha:ingress:Whoami": "charts",
    "vault-ha:vault:VaultCluster": "charts",
    "vault-ha:ingress:VaultIngress": "charts",
    "vault-ha:tls:CertManager": "tls",
    "vault-ha:tls:VaultTls": "tls",
    "vault-ha:vault:VaultBootstrap": "bootstrap",
    "vault-ha:vault:KvProof": "proof",
};
function upParts(file) {
    if (!file || !fs.existsSync(file)) return undefined;
    const events = [];
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        try {
            if (line.trim()) events.push(JSON.parse(line));
        } catch {
            // a torn last line when pulumi was interrupted
        }
    }
    if (!events.length) return undefined;
    const t0 = Math.min(...events.map((e) => e.timestamp));
    const span = {};
    for (const e of events) {
        const step = e.resourcePreEvent ?? e.resOutputsEvent ?? e.resOpFailedEvent;
        if (!step || step.planning) continue;
        const types = (step.metadata.urn.split("::")[2] ?? "").split("$");
        // The components themselves only group their children.
        if (types[types.length - 1].startsWith("vault-ha:")) continue;
        const owner = types.find((t) => t.startsWith("vault-ha:"));
        if (!owner) continue;
        const part = PARTS[owner] ?? owner;
        const s = (span[part] ??= { from: Infinity, to: -Infinity, urns: new Set() });
        s.urns.add(step.metadata.urn);
        s.from = Math.min(s.from, e.timestamp - t0);
        s.to = Math.max(s.to, e.timestamp - t0);
    }
    return Object.entries(span)
        .sort(([, a], [, b]) => a.from - b.from)
        .map(([name, s]) => ({ name, seconds: s.to - s.from, from: s.from, to: s.to, resources: s.urns.size }));
}
const parts = upParts(env.E2E_EVENTS);
for (const p of phases) {
    if (p.name === "up" && parts) {
        p.parts = parts;
        p.partsNote = "from the engine event log: seconds from the start of the up; parts overlap (charts and tls run in parallel)";
    }
}
const report = {
    schema: "vault-ha/e2e-timings/1",
    finishedAt: new Date().toISOString(),
    passed: env.E2E_PASSED === "true",
    stack: env.E2E_STACK,
    cluster: env.E2E_CLUSTER,
    tls: env.E2E_TLS_MODE === "true",
    host: {
        platform: os.platform(),
        arch: os.arch(),
        cpus: os.cpus().length,
        memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
        docker: env.E2E_DOCKER,
    },
    resolutionSeconds: 1,
    totalSeconds: phases.reduce((sum, p) => sum + p.seconds, 0),
    phases,
};
fs.writeFileSync(env.E2E_OUT + ".tmp", JSON.stringify(report, null, 2) + "\n");
fs.renameSync(env.E2E_OUT + ".tmp", env.E2E_OUT);
for (const p of phases) {
    log(`${p.name.padEnd(16)} ${String(p.seconds).padStart(5)} s  ${p.result}`);
    for (const q of p.parts ?? []) log(`  ${q.name.padEnd(14)} ${String(q.seconds).padStart(5)} s  (${q.from}-${q.to} s into the up)`);
}
log(`timings: ${env.E2E_OUT}`);
