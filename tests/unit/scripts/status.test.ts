/**
 * npm run status's verdict (scripts/statusReport.ts statusReport), from facts built here: each verdict and the fix
 * it names, the exit-code rule (healthy) and the JSON for scripts.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { AutopilotState, SealStatus } from "../../../components/runner/vaultOps";
import { latestBackup } from "../../../scripts/status";
import { duration, PodFacts, StatusFacts, statusReport } from "../../../scripts/statusReport";

const NOW = new Date("2026-11-28T12:00:00Z");
const DAY = 86_400_000;

function seal(over: Partial<SealStatus> = {}): SealStatus {
    return {
        initialized: true,
        sealed: false,
        t: 3,
        n: 5,
        progress: 0,
        isSelf: false,
        leaderAddress: "http://vault-0.vault-internal:8200",
        version: "1.21.1",
        raftCommittedIndex: 120,
        raftAppliedIndex: 120,
        ...over,
    };
}

const running = (name: string, s: SealStatus): PodFacts => ({ name, phase: "Running", running: true, restartCount: 0, seal: s });

function autopilot(tolerance: number, sick: string[] = []): AutopilotState {
    return {
        healthy: sick.length === 0,
        failureTolerance: tolerance,
        servers: ["vault-0", "vault-1", "vault-2"].map((id, i) => ({ id, healthy: !sick.includes(id), status: i === 0 ? "leader" : "voter" })),
    };
}

/** A healthy three-pod stack with TLS, a certificate good for 60 days and a backup of yesterday. */
function healthy(): StatusFacts {
    return {
        stack: "dev",
        now: NOW,
        namespace: "vault",
        kubeContext: "kind-vault",
        replicas: 3,
        pods: [running("vault-0", seal({ isSelf: true })), running("vault-1", seal()), running("vault-2", seal())],
        autopilot: autopilot(1),
        certificate: { kind: "read", notAfter: new Date(NOW.getTime() + 60 * DAY) },
        backupFolder: "backups/vault-ha.dev",
        latestBackup: { file: "backups/vault-ha.dev/2026-11-27T12-00-00Z.snap", createdAt: new Date(NOW.getTime() - DAY) },
    };
}

const problems = (facts: StatusFacts, severity?: "unhealthy" | "warning") =>
    (statusReport(facts).json.problems as Array<{ severity: string; what: string; fix: string }>).filter((p) => !severity || p.severity === severity);

describe("npm run status: the verdict (statusReport)", () => {
    it("a healthy stack: every line of the screen, no problem, exit 0", () => {
        const report = statusReport(healthy());
        assert.equal(report.healthy, true);
        assert.deepEqual(report.lines, [
            "stack dev: HEALTHY",
            "",
            "pods:",
            "  vault-0  active  Vault 1.21.1",
            "  vault-1  standby  Vault 1.21.1",
            "  vault-2  standby  Vault 1.21.1",
            "leader: vault-0",
            "raft: 3 voters of 3 servers, failure tolerance 1, autopilot healthy",
            "raft index: committed 120, applied 120",
            "certificate: expires in 60d (2027-01-27T12:00:00.000Z)",
            "backup: 1d old (backups/vault-ha.dev/2026-11-27T12-00-00Z.snap)",
        ]);
        assert.deepEqual(report.json.problems, []);
        assert.equal(report.json.leader, "vault-0");
        assert.deepEqual(report.json.raft, { voters: ["vault-0", "vault-1", "vault-2"], servers: 3, failureTolerance: 1, healthy: true });
        assert.deepEqual(report.json.raftIndex, { committed: 120, applied: 120 });
        assert.deepEqual(report.json.backup, {
            file: "backups/vault-ha.dev/2026-11-27T12-00-00Z.snap",
            createdAt: "2026-11-27T12:00:00.000Z",
            ageSeconds: 86400,
        });
        // --json is for scripts: it must survive JSON round trip unchanged.
        assert.deepEqual(JSON.parse(JSON.stringify(report.json)), report.json);
    });

    it("tls: false: the certificate is none, and that is healthy", () => {
        const report = statusReport({ ...healthy(), certificate: { kind: "none" } });
        assert.equal(report.healthy, true);
        assert.ok(report.lines.includes("certificate: none (tls: false)"));
        assert.equal(report.json.certificate, null);
    });

    it("a sealed pod: unhealthy, and the fix is the up of this stack (or the unsealer)", () => {
        const facts = healthy();
        facts.pods[2] = { ...running("vault-2", seal({ sealed: true, raftCommittedIndex: undefined, raftAppliedIndex: undefined })), restartCount: 1 };
        facts.stack = "prod";
        const report = statusReport(facts);
        assert.equal(report.healthy, false);
        assert.ok(report.lines.includes("  vault-2  sealed  Vault 1.21.1, 1 restart"), report.lines.join("\n"));
        const [sealed] = problems(facts, "unhealthy");
        assert.equal(sealed.what, "vault-2 is sealed");
        assert.match(sealed.fix, /^PULUMI_STACK=prod npm run up unseals it \(with autoUnseal: in-cluster/);
        assert.equal((report.json.pods as Array<{ sealed: boolean }>)[2].sealed, true);
    });

    it("no leader: unhealthy, with the quorum explained; autopilot unread is not reported twice", () => {
        const facts = healthy();
        facts.pods = facts.pods.map((p) => ({ ...p, seal: seal({ leaderAddress: "" }) }));
        facts.autopilot = undefined;
        facts.autopilotError = "raft autopilot state on vault-0: 500 local node not active but active cluster node not found";
        const report = statusReport(facts);
        assert.equal(report.healthy, false);
        assert.ok(report.lines.includes("leader: none"));
        assert.ok(report.lines.includes("raft: autopilot state unknown"));
        assert.deepEqual(
            problems(facts).map((p) => p.what),
            ["no leader: no pod is the active node, so Vault serves nothing"],
        );
        assert.match(problems(facts)[0].fix, /quorum of unsealed voters/);
    });

    it("failure tolerance 0 with 3 servers: unhealthy, naming the unhealthy ones; with 1 server it is the design", () => {
        const facts = { ...healthy(), autopilot: autopilot(0, ["vault-2"]) };
        assert.equal(statusReport(facts).healthy, false);
        assert.deepEqual(
            problems(facts).map((p) => p.what),
            ["raft failure tolerance is 0: losing one more server stops Vault (not healthy: vault-2)"],
        );
        const single: StatusFacts = {
            ...healthy(),
            replicas: 1,
            pods: [running("vault-0", seal({ isSelf: true }))],
            autopilot: { healthy: true, failureTolerance: 0, servers: [{ id: "vault-0", healthy: true, status: "leader" }] },
        };
        assert.equal(statusReport(single).healthy, true);
        // Tolerance left but a server behind: a warning only.
        const behind = { ...healthy(), replicas: 5, autopilot: { ...autopilot(1, ["vault-2"]) } };
        assert.equal(statusReport(behind).healthy, true);
        assert.deepEqual(
            problems(behind, "warning").map((p) => p.what),
            ["autopilot reports raft not healthy (vault-2), failure tolerance 1"],
        );
    });

    it("a certificate expiring within 7 days, or expired: unhealthy; 8 days left is fine", () => {
        const at = (days: number): StatusFacts => ({ ...healthy(), certificate: { kind: "read", notAfter: new Date(NOW.getTime() + days * DAY) } });
        const soon = statusReport(at(3));
        assert.equal(soon.healthy, false);
        assert.ok(soon.lines.includes("certificate: expires in 3d (2026-12-01T12:00:00.000Z)"));
        assert.match(problems(at(3))[0].what, /^the server certificate expires in 3d: cert-manager renews it 30 days before/);
        assert.match(problems(at(3))[0].fix, /kubectl --context kind-vault -n vault describe certificate vault-server/);
        const gone = statusReport(at(-2));
        assert.equal(gone.healthy, false);
        assert.ok(gone.lines.includes("certificate: EXPIRED 2d ago (2026-11-26T12:00:00.000Z)"));
        assert.equal(statusReport(at(8)).healthy, true);
        // Unreadable: said, with where to look, but not a failed check.
        const unreadable = { ...healthy(), certificate: { kind: "unreadable" as const, reason: "secrets not found" } };
        assert.equal(statusReport(unreadable).healthy, true);
        assert.equal(problems(unreadable, "warning").length, 1);
    });

    it("no backup, or an old one: a warning that says npm run snapshot, still healthy", () => {
        const none = { ...healthy(), latestBackup: undefined };
        assert.equal(statusReport(none).healthy, true);
        assert.deepEqual(problems(none), [{ severity: "warning", what: "no backup in backups/vault-ha.dev", fix: "npm run snapshot" }]);
        assert.ok(statusReport(none).lines.includes("backup: none in backups/vault-ha.dev"));
        const old = { ...healthy(), latestBackup: { file: "x.snap", createdAt: new Date(NOW.getTime() - 10 * DAY - 3_600_000) } };
        assert.deepEqual(problems(old), [{ severity: "warning", what: "the newest backup is 10d 1h old", fix: "npm run snapshot" }]);
        assert.ok(statusReport(old).lines.includes("  WARN the newest backup is 10d 1h old"));
    });

    it("a pod not running, one missing, one not answering, and an unreachable cluster: each unhealthy, with kubectl to look", () => {
        const facts = healthy();
        facts.pods[1] = { name: "vault-1", phase: "Pending", running: false, reason: "ImagePullBackOff" };
        facts.pods[2] = { name: "vault-2", running: false };
        facts.pods.push({ name: "vault-3", phase: "Running", running: true, sealError: "vault status on vault-3: connection refused" });
        const report = statusReport(facts);
        assert.equal(report.healthy, false);
        assert.deepEqual(
            problems(facts).map((p) => p.what),
            [
                "vault-1 is not running (Pending: ImagePullBackOff)",
                "vault-2 is missing",
                "vault-3 runs but vault status did not answer: vault status on vault-3: connection refused",
            ],
        );
        assert.equal(
            problems(facts)[0].fix,
            "kubectl --context kind-vault -n vault describe pod vault-1; kubectl --context kind-vault -n vault logs vault-1 -c vault --previous",
        );
        const down = statusReport({ ...healthy(), pods: [], podsError: "kubectl get pods: connection refused", autopilot: undefined });
        assert.equal(down.healthy, false);
        assert.deepEqual(
            (down.json.problems as Array<{ what: string }>).filter((p) => /cluster|leader/.test(p.what)).map((p) => p.what),
            ["the cluster did not answer: kubectl get pods: connection refused"],
        );
    });

    it("durations in the two largest units", () => {
        assert.equal(duration(0), "0s");
        assert.equal(duration(59_000), "59s");
        assert.equal(duration(3_600_000 + 120_000), "1h 2m");
        assert.equal(duration(2 * DAY + 5_000), "2d");
    });
});

describe("npm run status: the newest backup (latestBackup)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-ha-status-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("the newest complete backup, dated by its description, else by its name; none in a missing folder", () => {
        assert.equal(latestBackup(path.join(dir, "missing")), undefined);
        const write = (stamp: string, description: string | undefined) => {
            fs.writeFileSync(path.join(dir, `${stamp}.snap`), "");
            if (description !== undefined) fs.writeFileSync(path.join(dir, `${stamp}.json`), description);
        };
        write("2026-11-20T05-00-00Z", JSON.stringify({ createdAt: "2026-11-20T05:00:01.500Z" }));
        assert.deepEqual(latestBackup(dir), { file: path.join(dir, "2026-11-20T05-00-00Z.snap"), createdAt: new Date("2026-11-20T05:00:01.500Z") });
        write("2026-11-21T06-30-00Z", "not json");
        assert.deepEqual(latestBackup(dir), { file: path.join(dir, "2026-11-21T06-30-00Z.snap"), createdAt: new Date("2026-11-21T06:30:00Z") });
        write("2026-11-22T00-00-00Z", undefined);
        assert.equal(latestBackup(dir)?.file, path.join(dir, "2026-11-21T06-30-00Z.snap"), "a .snap without its description is not a backup");
    });
});
