/**
 * `npm run status` (scripts/status.sh passes --stack): whether the stack's Vault is healthy, on one screen, like
 * `helm status`; exit 1 when it is not (statusReport.ts says when), so that CI can use it; --json for scripts.
 *
 * It reads what npm run snapshot reads (scripts/backup.ts readStackOutputs, vaultTarget: the kubeconfig and the root token, in memory only)
 * and asks Vault through the runner's VaultOps (`vault status` in each pod, autopilot's state with the token on
 * stdin). The server certificate is read from its Secret, key tls.crt alone (the private key never leaves the
 * cluster). Nothing is changed.
 */
import { X509Certificate } from "crypto";
import { BackupError, backupFolder, listBackups } from "../components/backup/backupFiles";
import { PROJECT } from "../components/config/settings";
import { Kubectl, KubectlRunner, KubectlVaultOps } from "../components/runner/kubectl";
import { Redactor } from "../components/runner/redact";
import type { PodInfo, VaultOps } from "../components/runner/vaultOps";
import { podNames } from "../components/vault/names";
import { SERVER_TLS_SECRET } from "../components/tls/tlsConfig";
import { CliIo, CommandSpec, flagValue, runWithArgs, STD_IO } from "./args";
import { readStackOutputs, vaultTarget } from "./backup";
import { CertificateFacts, PodFacts, StatusFacts, statusReport } from "./statusReport";

export const STATUS_ARGS: CommandSpec = {
    command: "npm run status",
    summary:
        "Says whether the stack's Vault is healthy: each pod (sealed, standby, active, version), the leader, raft voters and failure tolerance, the raft index, the certificate's expiry and the last backup's age, with what to do about each problem. Exits 1 when unhealthy (a pod not running or sealed, no leader, failure tolerance 0, a certificate expiring within 7 days). Needs kubectl and the Pulumi CLI; changes nothing.",
    flags: [
        { name: "stack", short: "s", value: "NAME", help: "the stack to check (default: $PULUMI_STACK, else dev; scripts/status.sh passes it)" },
        { name: "json", help: "print the report as JSON (the same verdict and exit code)" },
    ],
    notes: [
        "exit codes: 0 healthy, 1 unhealthy or the stack could not be read, 2 a mistake in the arguments",
        "environment: PULUMI_STACK, PULUMI_BACKEND_URL (as npm run up), PULUMI_CONFIG_PASSPHRASE(_FILE)",
    ],
};

export interface StatusInput {
    stack: string;
    ops: VaultOps;
    /** For the certificate's Secret: only `get secret` runs through it. */
    kubectl: Pick<KubectlRunner, "run">;
    namespace: string;
    release: string;
    replicas: number;
    kubeContext?: string;
    rootToken: string;
    /** The stack serves TLS (it has a caCert output). */
    tls: boolean;
    backupFolder: string;
    now: Date;
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The server certificate's expiry, from tls.crt (the first certificate: the server's, before any chain). */
export async function readCertificate(kubectl: Pick<KubectlRunner, "run">, namespace: string): Promise<CertificateFacts> {
    const r = await kubectl.run(["get", "secret", SERVER_TLS_SECRET, "-n", namespace, "-o", "jsonpath={.data.tls\\.crt}"]);
    if (r.code !== 0) return { kind: "unreadable", reason: `kubectl get secret ${SERVER_TLS_SECRET}: ${r.stderr.trim().split("\n").pop()}` };
    const pem = Buffer.from(r.stdout.trim(), "base64").toString("utf8");
    try {
        const cert = new X509Certificate(pem);
        return { kind: "read", notAfter: new Date(cert.validTo), subject: cert.subject.replace(/\n/g, ", ") };
    } catch (err) {
        return { kind: "unreadable", reason: `${SERVER_TLS_SECRET} tls.crt is not a PEM certificate (${messageOf(err)})` };
    }
}

/** The newest complete backup of the folder, with when it was taken (its description, else its name's time). */
export function latestBackup(folder: string): { file: string; createdAt: Date } | undefined {
    const newest = listBackups(folder).pop();
    if (!newest) return undefined;
    const stamp = /(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)Z\.snap$/.exec(newest.file);
    const fromName = stamp ? new Date(`${stamp[1]}T${stamp[2]}:${stamp[3]}:${stamp[4]}Z`) : undefined;
    const described = newest.description.createdAt ? new Date(newest.description.createdAt) : undefined;
    const createdAt = described && !isNaN(described.getTime()) ? described : fromName;
    return createdAt ? { file: newest.file, createdAt } : undefined;
}

/** Everything the report needs, read from the cluster; what does not answer becomes a fact, never an exception. */
export async function gatherStatus(input: StatusInput): Promise<StatusFacts> {
    const { ops } = input;
    const base = {
        stack: input.stack,
        now: input.now,
        namespace: input.namespace,
        kubeContext: input.kubeContext,
        replicas: input.replicas,
        backupFolder: input.backupFolder,
        latestBackup: latestBackup(input.backupFolder),
    };
    const certificate: Promise<CertificateFacts> = input.tls ? readCertificate(input.kubectl, input.namespace) : Promise.resolve({ kind: "none" });
    let listed: PodInfo[];
    try {
        listed = await ops.listPods();
    } catch (err) {
        return { ...base, pods: [], podsError: messageOf(err), certificate: await certificate };
    }
    const names = [...new Set([...podNames(input.release, input.replicas), ...listed.map((p) => p.name)])].sort(
        (a, b) => Number(a.slice(a.lastIndexOf("-") + 1)) - Number(b.slice(b.lastIndexOf("-") + 1)),
    );
    const pods: PodFacts[] = await Promise.all(
        names.map(async (name) => {
            const pod = listed.find((p) => p.name === name);
            if (!pod) return { name, running: false };
            const facts: PodFacts = { name, phase: pod.phase, running: pod.running, reason: pod.reason, restartCount: pod.restartCount };
            if (!pod.running) return facts;
            try {
                return { ...facts, seal: await ops.status(name) };
            } catch (err) {
                return { ...facts, sealError: messageOf(err) };
            }
        }),
    );
    // Autopilot answers on any unsealed node (a standby forwards); the active node first.
    const asked = pods.find((p) => p.seal?.isSelf && !p.seal.sealed) ?? pods.find((p) => p.seal && !p.seal.sealed);
    let autopilot: StatusFacts["autopilot"];
    let autopilotError: string | undefined;
    if (asked) {
        try {
            autopilot = await ops.autopilotState(asked.name, input.rootToken);
        } catch (err) {
            autopilotError = messageOf(err);
        }
    } else autopilotError = "no unsealed pod to ask";
    return { ...base, pods, autopilot, autopilotError, certificate: await certificate };
}

/** argv: flags (scripts/status.sh passes --stack). */
export async function main(argv: string[], io: CliIo = STD_IO): Promise<number> {
    return runWithArgs(argv, STATUS_ARGS, (args) => status(flagValue(args, "stack") ?? "dev", args.flags.json === true, io), io);
}

async function status(stack: string, json: boolean, io: CliIo): Promise<number> {
    const redactor = new Redactor();
    let kubectl: Kubectl | undefined;
    try {
        const outputs = readStackOutputs(stack, { showSecrets: true });
        const kubeconfig = typeof outputs.kubeconfig === "string" ? outputs.kubeconfig : "";
        const rootToken = typeof outputs.rootToken === "string" ? outputs.rootToken : "";
        if (!kubeconfig || !rootToken) throw new BackupError(`stack ${stack} has no kubeconfig or root token in its outputs; deploy it first (npm run up)`);
        redactor.addKubeconfig(kubeconfig);
        redactor.add(rootToken);
        const target = vaultTarget(outputs);
        kubectl = new Kubectl(kubeconfig, 60_000);
        const facts = await gatherStatus({
            stack,
            ops: new KubectlVaultOps(kubectl, { namespace: target.namespace, release: target.release }),
            kubectl,
            ...target,
            kubeContext: typeof outputs.kubeContext === "string" ? outputs.kubeContext : undefined,
            rootToken,
            tls: typeof outputs.caCert === "string" && outputs.caCert !== "",
            backupFolder: backupFolder(PROJECT, stack),
            now: new Date(),
        });
        const report = statusReport(facts);
        io.out(redactor.apply(json ? `${JSON.stringify(report.json, null, 2)}\n` : `${report.lines.join("\n")}\n`));
        return report.healthy ? 0 : 1;
    } catch (err) {
        const message = err instanceof BackupError ? err.message : `unexpected failure: ${(err as Error).stack ?? err}`;
        if (json) io.out(`${JSON.stringify({ stack, healthy: false, error: redactor.apply(message) }, null, 2)}\n`);
        io.error(`vault-ha status: ERROR: ${redactor.apply(message)}`);
        return 1;
    } finally {
        kubectl?.dispose();
    }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
