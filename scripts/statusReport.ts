/**
 * The verdict of `npm run status` (scripts/status.ts), from what it read: a pure function, so that each verdict is
 * tested directly. Unhealthy (exit 1): a pod not running or not answering, a sealed pod, no leader, raft failure
 * tolerance 0 with 3 or more servers, a certificate expired or expiring within 7 days. Worth a warning only: no
 * backup or an old one, autopilot unreadable, an unhealthy server while raft can still lose one.
 */
import type { AutopilotState, SealStatus } from "../components/runner/vaultOps";

/** A certificate expiring within this many days fails the check: cert-manager renews 30 days early (tlsConfig.ts). */
export const CERTIFICATE_WARNING_DAYS = 7;
/** A newest backup older than this many days gets a warning. */
export const BACKUP_WARNING_DAYS = 7;

export interface PodFacts {
    name: string;
    /** The pod's phase; undefined: the pod does not exist. */
    phase?: string;
    /** The vault container runs. */
    running: boolean;
    /** Why it does not run, when Kubernetes says (ImagePullBackOff, Unschedulable, ...). */
    reason?: string;
    restartCount?: number;
    /** `vault status`, when it answered. */
    seal?: SealStatus;
    /** Why `vault status` did not answer, when it was asked and did not. */
    sealError?: string;
}

export type CertificateFacts = { kind: "none" } | { kind: "read"; notAfter: Date; subject?: string } | { kind: "unreadable"; reason: string };

export interface StatusFacts {
    stack: string;
    now: Date;
    namespace: string;
    /** The kubectl context of the stack's cluster (its kubeContext output), for the commands the fixes name. */
    kubeContext?: string;
    /** The raft servers the stack runs (vault-ha:vaultReplicas, as deployed). */
    replicas: number;
    pods: PodFacts[];
    /** Why the pods could not be listed: the cluster did not answer. */
    podsError?: string;
    autopilot?: AutopilotState;
    autopilotError?: string;
    certificate: CertificateFacts;
    backupFolder: string;
    /** The newest complete backup in backupFolder. */
    latestBackup?: { file: string; createdAt: Date };
}

export interface Problem {
    severity: "unhealthy" | "warning";
    what: string;
    fix: string;
}

export interface StatusReport {
    healthy: boolean;
    lines: string[];
    json: Record<string, unknown>;
}

const DAY_MS = 86_400_000;

/** "3d 4h", "5h 2m", "40s": how long, in the two largest units. */
export function duration(ms: number): string {
    const s = Math.max(0, Math.floor(ms / 1000));
    const parts: Array<[number, string]> = [
        [Math.floor(s / 86400), "d"],
        [Math.floor((s % 86400) / 3600), "h"],
        [Math.floor((s % 3600) / 60), "m"],
        [s % 60, "s"],
    ];
    const first = parts.findIndex(([n]) => n > 0);
    if (first < 0) return "0s";
    return parts
        .slice(first, first + 2)
        .filter(([n]) => n > 0)
        .map(([n, unit]) => `${n}${unit}`)
        .join(" ");
}

function podState(pod: PodFacts): string {
    if (pod.phase === undefined) return "missing";
    if (!pod.running) return `not running (${pod.phase}${pod.reason ? `: ${pod.reason}` : ""})`;
    if (!pod.seal) return "not answering";
    if (!pod.seal.initialized) return "not initialised";
    if (pod.seal.sealed) return "sealed";
    return pod.seal.isSelf ? "active" : "standby";
}

export function statusReport(facts: StatusFacts): StatusReport {
    const problems: Problem[] = [];
    const kubectl = `kubectl${facts.kubeContext ? ` --context ${facts.kubeContext}` : ""} -n ${facts.namespace}`;
    const upFor = facts.stack === "dev" ? "npm run up" : `PULUMI_STACK=${facts.stack} npm run up`;

    if (facts.podsError) {
        problems.push({
            severity: "unhealthy",
            what: `the cluster did not answer: ${facts.podsError}`,
            fix: `check that the cluster runs and is reachable (${kubectl} get pods); on kind, that Docker runs`,
        });
    }
    for (const pod of facts.pods) {
        const state = podState(pod);
        if (pod.phase === undefined || !pod.running) {
            problems.push({
                severity: "unhealthy",
                what: `${pod.name} is ${state}`,
                fix: `${kubectl} describe pod ${pod.name}; ${kubectl} logs ${pod.name} -c vault --previous`,
            });
        } else if (!pod.seal) {
            problems.push({
                severity: "unhealthy",
                what: `${pod.name} runs but vault status did not answer${pod.sealError ? `: ${pod.sealError}` : ""}`,
                fix: `${kubectl} logs ${pod.name} -c vault`,
            });
        } else if (pod.seal.sealed) {
            problems.push({
                severity: "unhealthy",
                what: `${pod.name} is sealed${pod.seal.initialized ? "" : " and not initialised"}`,
                fix: `${upFor} unseals it (with autoUnseal: in-cluster the unsealer does within seconds); a pod sealed on purpose stays sealed: see docs/operations.md, After a reboot`,
            });
        }
    }

    const leader = facts.pods.find((p) => p.seal?.isSelf && !p.seal.sealed);
    if (!leader && !facts.podsError) {
        problems.push({
            severity: "unhealthy",
            what: "no leader: no pod is the active node, so Vault serves nothing",
            fix: `raft needs a quorum of unsealed voters to elect one: unseal the sealed pods (${upFor}); if every pod is unsealed, wait a few seconds (an election) and look again`,
        });
    }

    const ap = facts.autopilot;
    const voters = ap ? ap.servers.filter((s) => s.status === "leader" || s.status === "voter") : [];
    if (ap) {
        if (ap.failureTolerance === 0 && facts.replicas >= 3) {
            const sick = ap.servers.filter((s) => !s.healthy).map((s) => s.id);
            problems.push({
                severity: "unhealthy",
                what: `raft failure tolerance is 0: losing one more server stops Vault${sick.length ? ` (not healthy: ${sick.join(", ")})` : ""}`,
                fix: `bring the servers that are not healthy back (unsealed, caught up): ${upFor}; ${kubectl} get pods`,
            });
        } else if (!ap.healthy) {
            const sick = ap.servers.filter((s) => !s.healthy).map((s) => s.id);
            problems.push({
                severity: "warning",
                what: `autopilot reports raft not healthy${sick.length ? ` (${sick.join(", ")})` : ""}, failure tolerance ${ap.failureTolerance}`,
                fix: "a server that was just unsealed catches up within seconds: look again; if it stays, read its log",
            });
        }
    } else if (leader) {
        problems.push({
            severity: "warning",
            what: `raft autopilot state could not be read${facts.autopilotError ? `: ${facts.autopilotError}` : ""}`,
            fix: "autopilot starts a few seconds after a leader is elected: look again",
        });
    }

    const cert = facts.certificate;
    let certificateLine: string;
    let certificateJson: Record<string, unknown> | null;
    if (cert.kind === "none") {
        certificateLine = "none (tls: false)";
        certificateJson = null;
    } else if (cert.kind === "unreadable") {
        certificateLine = `unreadable: ${cert.reason}`;
        certificateJson = { error: cert.reason };
        problems.push({
            severity: "warning",
            what: `the server certificate could not be read: ${cert.reason}`,
            fix: `${kubectl} describe certificate vault-server`,
        });
    } else {
        const left = cert.notAfter.getTime() - facts.now.getTime();
        certificateLine = `${left > 0 ? `expires in ${duration(left)}` : `EXPIRED ${duration(-left)} ago`} (${cert.notAfter.toISOString()})`;
        certificateJson = { notAfter: cert.notAfter.toISOString(), secondsLeft: Math.floor(left / 1000), ...(cert.subject ? { subject: cert.subject } : {}) };
        if (left < CERTIFICATE_WARNING_DAYS * DAY_MS) {
            problems.push({
                severity: "unhealthy",
                what: `the server certificate ${left > 0 ? `expires in ${duration(left)}` : "has expired"}: cert-manager renews it 30 days before, so the renewal failed`,
                fix: `${kubectl} describe certificate vault-server (its events say why), and cert-manager's log; the pods take a renewed certificate when they restart`,
            });
        }
    }

    const backup = facts.latestBackup;
    const backupAge = backup ? facts.now.getTime() - backup.createdAt.getTime() : undefined;
    if (!backup) {
        problems.push({ severity: "warning", what: `no backup in ${facts.backupFolder}`, fix: "npm run snapshot" });
    } else if (backupAge! > BACKUP_WARNING_DAYS * DAY_MS) {
        problems.push({ severity: "warning", what: `the newest backup is ${duration(backupAge!)} old`, fix: "npm run snapshot" });
    }

    const healthy = !problems.some((p) => p.severity === "unhealthy");
    const index = leader?.seal ?? facts.pods.find((p) => p.seal?.raftCommittedIndex !== undefined)?.seal;
    const width = Math.max(0, ...facts.pods.map((p) => p.name.length));
    const lines = [
        `stack ${facts.stack}: ${healthy ? "HEALTHY" : "UNHEALTHY"}`,
        "",
        "pods:",
        ...facts.pods.map((p) => {
            const extras = [
                p.seal?.version ? `Vault ${p.seal.version}` : "",
                p.restartCount ? `${p.restartCount} restart${p.restartCount === 1 ? "" : "s"}` : "",
            ].filter(Boolean);
            return `  ${p.name.padEnd(width)}  ${podState(p)}${extras.length ? `  ${extras.join(", ")}` : ""}`;
        }),
        ...(facts.podsError ? ["  (could not be listed)"] : []),
        `leader: ${leader ? leader.name : "none"}`,
        `raft: ${ap ? `${voters.length} voters of ${facts.replicas} servers, failure tolerance ${ap.failureTolerance}, autopilot ${ap.healthy ? "healthy" : "not healthy"}` : "autopilot state unknown"}`,
        `raft index: ${index?.raftCommittedIndex !== undefined ? `committed ${index.raftCommittedIndex}, applied ${index.raftAppliedIndex ?? "?"}` : "unknown"}`,
        `certificate: ${certificateLine}`,
        `backup: ${backup ? `${duration(backupAge!)} old (${backup.file})` : `none in ${facts.backupFolder}`}`,
        ...(problems.length ? ["", "problems:"] : []),
        ...problems.flatMap((p) => [`  ${p.severity === "unhealthy" ? "FAIL" : "WARN"} ${p.what}`, `       fix: ${p.fix}`]),
    ];
    const json = {
        stack: facts.stack,
        healthy,
        pods: facts.pods.map((p) => ({
            name: p.name,
            state: podState(p),
            running: p.running,
            sealed: p.seal?.sealed ?? null,
            active: p.seal ? p.seal.isSelf && !p.seal.sealed : null,
            version: p.seal?.version ?? null,
            restartCount: p.restartCount ?? null,
        })),
        leader: leader?.name ?? null,
        raft: ap
            ? { voters: voters.map((s) => s.id), servers: facts.replicas, failureTolerance: ap.failureTolerance, healthy: ap.healthy }
            : { servers: facts.replicas, error: facts.autopilotError ?? null },
        raftIndex: index?.raftCommittedIndex !== undefined ? { committed: index.raftCommittedIndex, applied: index.raftAppliedIndex ?? null } : null,
        certificate: certificateJson,
        backup: backup ? { file: backup.file, createdAt: backup.createdAt.toISOString(), ageSeconds: Math.floor(backupAge! / 1000) } : null,
        problems,
    };
    return { healthy, lines, json };
}
