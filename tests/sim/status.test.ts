/**
 * npm run status's core (scripts/status.ts gatherStatus, then statusReport) against the simulator: the runner's
 * KubectlVaultOps on the simulated kubectl and vault, and the certificate read through the simulated kubectl's
 * `get secret`. A healthy stack, a sealed pod (a restart), a lost leader (quorum gone), an expiring certificate.
 */
import { strict as assert } from "assert";
import { generateKeyPairSync } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as forge from "node-forge";
import type { KubectlResult, KubectlRunner } from "../../components/runner/kubectl";
import { gatherStatus } from "../../scripts/status";
import { statusReport } from "../../scripts/statusReport";
import { bootstrappedCluster } from "../chaos/engine";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");
const cli = require("../doubles/vault/cli.js");

const DAY = 86_400_000;

/** A server certificate valid until `notAfter` (an RSA key from Node's crypto: forge's own key generation is slow). */
function certificatePem(notAfter: Date): string {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString());
    cert.serialNumber = "01";
    cert.validity.notBefore = new Date(notAfter.getTime() - 90 * DAY);
    cert.validity.notAfter = notAfter;
    cert.setSubject([{ name: "commonName", value: "vault.vault.svc" }]);
    cert.setIssuer([{ name: "commonName", value: "vault-ha-ca" }]);
    cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs8", format: "pem" }).toString()), forge.md.sha256.create());
    return forge.pki.certificateToPem(cert);
}

/** The Secret cert-manager keeps, with a real certificate (the simulator's own stand-in is not one). */
function issue(sim: Simulation, notAfter: Date): void {
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    sim.change((s) => (s.secrets["vault/vault-server-tls"] = { "ca.crt": b64("ca"), "tls.crt": b64(certificatePem(notAfter)), "tls.key": b64("key") }));
}

/** The simulated kubectl, for the one call status makes besides VaultOps' (get secret), on simulated time. */
function simKubectl(sim: Simulation): Pick<KubectlRunner, "run"> {
    return {
        run: async (args: string[]): Promise<KubectlResult> =>
            model.update(sim.stateFile, (s: unknown) => cli.kubectl(s, args, { kubeconfig: sim.kubeconfig, stdin: "", log: () => undefined }), sim.clock.now()),
    };
}

describe("npm run status (simulator)", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation | undefined;
    afterEach(() => sim?.dispose());

    async function status(s: Simulation, rootToken: string) {
        const folder = path.join(s.dir, "backups", "vault-ha.dev");
        const facts = await gatherStatus({
            stack: "dev",
            ops: s.vaultContext("status").ops,
            kubectl: simKubectl(s),
            namespace: "vault",
            release: "vault",
            replicas: 3,
            rootToken,
            tls: true,
            backupFolder: folder,
            now: new Date(s.clock.now()),
        });
        return { facts, report: statusReport(facts) };
    }

    async function live() {
        const cluster = await bootstrappedCluster();
        sim = cluster.sim;
        // Autopilot calls a server healthy once it has caught up: let the cluster settle as it would after an up.
        await sim.wait(30_000);
        issue(sim, new Date(sim.clock.now() + 60 * DAY));
        return { sim, rootToken: cluster.engine.keysInState()!.rootToken };
    }

    it("a healthy stack: every pod unsealed with its version, one leader, 3 voters tolerating 1, the index, the certificate", async () => {
        const { sim: s, rootToken } = await live();
        const { facts, report } = await status(s, rootToken);
        assert.equal(report.healthy, true, report.lines.join("\n"));
        const active = s.state().active;
        assert.equal(report.json.leader, active);
        assert.deepEqual(
            facts.pods.map((p) => [p.name, p.seal?.sealed, p.seal?.isSelf]),
            ["vault-0", "vault-1", "vault-2"].map((n) => [n, false, n === active]),
        );
        assert.ok(
            facts.pods.every((p) => /^\d+\.\d+\.\d+/.test(p.seal?.version ?? "")),
            "each pod's Vault version",
        );
        assert.deepEqual(report.json.raft, { voters: ["vault-0", "vault-1", "vault-2"], servers: 3, failureTolerance: 1, healthy: true });
        assert.equal((report.json.raftIndex as { committed: number }).committed, s.state().raftIndex);
        assert.match(
            report.lines.find((l) => l.startsWith("certificate:"))!,
            /^certificate: expires in (60d|59d 23h) /,
        );
        // Only warnings: no backup yet. A snapshot folder with one makes it clean.
        assert.deepEqual(
            (report.json.problems as Array<{ what: string }>).map((p) => p.what),
            [`no backup in ${facts.backupFolder}`],
        );
        fs.mkdirSync(facts.backupFolder, { recursive: true });
        for (const ext of ["snap", "json"]) fs.writeFileSync(path.join(facts.backupFolder, `2026-01-01T00-00-00Z.${ext}`), "{}");
        const again = await status(s, rootToken);
        assert.equal(again.facts.latestBackup?.file, path.join(facts.backupFolder, "2026-01-01T00-00-00Z.snap"));
        // Status changes nothing: no write, no unseal, no step-down.
        assert.ok(
            s.calls().every((c) => !/unseal|step-down|delete|join|snapshot/.test(c.argv.join(" "))),
            "read-only",
        );
    });

    it("a sealed pod (a restart): unhealthy, the pod named sealed, raft still led", async () => {
        const { sim: s, rootToken } = await live();
        const standby = s.pods.find((p) => p !== s.state().active)!;
        s.restart(standby);
        await s.wait(5_000);
        const { facts, report } = await status(s, rootToken);
        assert.equal(report.healthy, false);
        assert.equal(facts.pods.find((p) => p.name === standby)!.seal?.sealed, true);
        assert.ok(report.lines.includes(`  FAIL ${standby} is sealed`), report.lines.join("\n"));
        assert.equal(report.json.leader, s.state().active, "the leader stays");
        assert.match(
            report.lines.find((l) => l.startsWith("raft:"))!,
            /failure tolerance 0/,
        );
    });

    it("a lost leader (two pods restarted: no quorum): unhealthy, leader none, autopilot unreadable", async () => {
        const { sim: s, rootToken } = await live();
        const active = s.state().active;
        const others = s.pods.filter((p) => p !== active);
        s.restart(others[0]);
        s.restart(others[1]);
        await s.wait(5_000);
        assert.equal(s.state().active, null, "no quorum, no leader");
        const { facts, report } = await status(s, rootToken);
        assert.equal(report.healthy, false);
        assert.equal(report.json.leader, null);
        assert.ok(report.lines.includes("leader: none"));
        assert.equal(facts.autopilot, undefined);
        const whats = (report.json.problems as Array<{ what: string }>).map((p) => p.what);
        assert.ok(whats.includes("no leader: no pod is the active node, so Vault serves nothing"), whats.join("\n"));
        assert.deepEqual(
            whats.filter((w) => / is sealed$/.test(w)),
            others.map((p) => `${p} is sealed`),
        );
    });

    it("an expiring certificate: unhealthy with the cluster itself healthy", async () => {
        const { sim: s, rootToken } = await live();
        issue(s, new Date(s.clock.now() + 2 * DAY));
        const { report } = await status(s, rootToken);
        assert.equal(report.healthy, false);
        const unhealthy = (report.json.problems as Array<{ severity: string; what: string }>).filter((p) => p.severity === "unhealthy");
        assert.equal(unhealthy.length, 1, JSON.stringify(unhealthy));
        // Simulated time moves with each call, and a certificate's time has whole seconds: just under 2 days.
        assert.match(unhealthy[0].what, /^the server certificate expires in 1d 23h: cert-manager renews it 30 days before/);
    });
});
