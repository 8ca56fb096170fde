/**
 * npm run preflight [-- --stack NAME]: checks this machine before `pulumi up` (tools and versions, a running Docker
 * daemon, free host ports) and says how to fix what is missing. `npm run up` runs it first.
 */
import { spawnSync } from "child_process";
import * as net from "net";
import { ConfigError, Settings } from "../components/config/settings";
import { readStackSettings, stackName } from "../components/config/stackFile";
import { KIND_RELEASE } from "../components/config/versions";

export type Runner = (command: string, args: string[]) => { ok: boolean; stdout: string };

export interface Finding {
    ok: boolean;
    what: string;
    fix?: string;
}

/** Minimum versions; the README's prerequisites table states the same. */
export const MINIMUM = {
    node: "20.19.0",
    docker: "24.0.0",
    kind: KIND_RELEASE.replace(/^v/, ""),
    kubectl: "1.34.0",
    pulumi: "3.248.0",
};

export function parseVersion(text: string): number[] | undefined {
    const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
    return m ? m.slice(1, 4).map(Number) : undefined;
}

export function atLeast(version: number[], minimum: string): boolean {
    const min = parseVersion(minimum)!;
    for (let i = 0; i < 3; i++) {
        if (version[i] !== min[i]) return version[i] > min[i];
    }
    return true;
}

function versionFinding(tool: string, output: { ok: boolean; stdout: string }, minimum: string, install: string): Finding {
    const version = output.ok ? parseVersion(output.stdout) : undefined;
    if (!version) return { ok: false, what: `${tool}: not found`, fix: install };
    const text = version.join(".");
    return atLeast(version, minimum) ? { ok: true, what: `${tool} ${text}` } : { ok: false, what: `${tool} ${text} is older than ${minimum}`, fix: install };
}

export function checkTools(run: Runner, nodeVersion = process.version): Finding[] {
    const findings: Finding[] = [];
    findings.push(versionFinding("node", { ok: true, stdout: nodeVersion }, MINIMUM.node, "install Node.js 20.19 or newer (22 LTS recommended)"));

    const docker = run("docker", ["version", "--format", "{{.Server.Version}}"]);
    if (!docker.ok || !parseVersion(docker.stdout)) {
        findings.push({
            ok: false,
            what: "docker: no running Docker engine answered",
            fix: "start Docker (Docker Desktop, colima, or the docker service) and check with `docker info`",
        });
    } else {
        findings.push(versionFinding("docker engine", docker, MINIMUM.docker, "update Docker"));
    }

    const kind = versionFinding(
        "kind",
        run("kind", ["version"]),
        MINIMUM.kind,
        `install kind ${KIND_RELEASE}: https://kind.sigs.k8s.io/docs/user/quick-start/#installation`,
    );
    findings.push(kind);
    if (kind.ok && !kind.what.endsWith(MINIMUM.kind)) {
        // Newer kind releases usually run older node images, but kind only promises it for the release that built them.
        findings.push({
            ok: true,
            what: `note: the pinned node image was built for kind ${KIND_RELEASE}; if the cluster fails to start, use that release or set kindNodeImage from your kind's release notes`,
        });
    }
    findings.push(
        versionFinding(
            "kubectl",
            run("kubectl", ["version", "--client"]),
            MINIMUM.kubectl,
            "install kubectl 1.34 or newer: https://kubernetes.io/docs/tasks/tools/",
        ),
    );
    findings.push(
        versionFinding("pulumi", run("pulumi", ["version"]), MINIMUM.pulumi, "install or update the Pulumi CLI: https://www.pulumi.com/docs/install/"),
    );
    return findings;
}

/** True when something already accepts connections on 127.0.0.1:port. */
export function portInUse(port: number, timeoutMs = 1000): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port });
        const done = (inUse: boolean) => {
            socket.destroy();
            resolve(inUse);
        };
        socket.setTimeout(timeoutMs, () => done(false));
        socket.once("connect", () => done(true));
        socket.once("error", () => done(false));
    });
}

export async function checkPorts(settings: Settings, run: Runner, inUse = portInUse): Promise<Finding[]> {
    const clusters = run("kind", ["get", "clusters"]);
    if (clusters.ok && clusters.stdout.split("\n").includes(settings.clusterName)) {
        return [{ ok: true, what: `kind cluster ${settings.clusterName} exists: its host ports are its own` }];
    }
    const ports: Array<[number, string]> = [
        [settings.ingressHttpPort, "ingressHttpPort"],
        [settings.ingressHttpsPort, "ingressHttpsPort"],
        ...settings.nodePorts.map((p): [number, string] => [p, "nodePorts"]),
    ];
    const findings: Finding[] = [];
    for (const [port, setting] of ports) {
        findings.push(
            (await inUse(port))
                ? {
                      ok: false,
                      what: `port ${port} on localhost is in use`,
                      fix: `stop what listens there (\`sudo lsof -i :${port}\`) or choose another port: pulumi config set vault-ha:${setting} ...`,
                  }
                : { ok: true, what: `port ${port} is free` },
        );
    }
    return findings;
}

/**
 * A kind cluster of this name whose node containers are not all running (Docker was restarted, or they were stopped):
 * kind cannot read its kubeconfig and nothing inside answers until they run. kind labels its node containers
 * io.x-k8s.kind.cluster=<name> and finds them with `docker ps -a` (kind pkg/cluster/internal/providers/docker/
 * constants.go, provider.go ListNodes); `{{.State}}` is the container's state (docker/cli cli/command/formatter/
 * container.go). No finding when the cluster does not exist or Docker does not answer (checkTools reports that).
 */
export function checkClusterNodes(settings: Settings, run: Runner): Finding[] {
    const name = settings.clusterName;
    const clusters = run("kind", ["get", "clusters"]);
    if (!clusters.ok || !clusters.stdout.split("\n").includes(name)) return [];
    const ps = run("docker", ["ps", "-a", "--filter", `label=io.x-k8s.kind.cluster=${name}`, "--format", "{{.Names}} {{.State}}"]);
    if (!ps.ok) return [];
    const containers = ps.stdout
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f[0])
        .sort((a, b) => a[0].localeCompare(b[0]));
    const stopped = containers.filter(([, state]) => state !== "running");
    if (!stopped.length) return [{ ok: true, what: `kind cluster ${name}: its ${containers.length} node containers are running` }];
    return [
        {
            ok: false,
            what: `kind cluster ${name}: node containers not running: ${stopped.map(([n, state]) => `${n} (${state ?? "unknown"})`).join(", ")}`,
            fix: `start them (Docker must be running), then run again: docker start ${stopped.map(([n]) => n).join(" ")}`,
        },
    ];
}

const systemRunner: Runner = (command, args) => {
    const result = spawnSync(command, args, { encoding: "utf8", timeout: 20_000 });
    return { ok: result.status === 0, stdout: `${result.stdout ?? ""}` };
};

async function main(): Promise<void> {
    let settings: Settings;
    try {
        ({ settings } = readStackSettings(stackName()));
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        console.error(err.message);
        process.exit(1);
    }
    const findings = [...checkTools(systemRunner), ...checkClusterNodes(settings, systemRunner), ...(await checkPorts(settings, systemRunner))];
    for (const f of findings) console.log(`${f.ok ? "ok  " : "FAIL"} ${f.what}${f.fix ? `\n       fix: ${f.fix}` : ""}`);
    if (findings.some((f) => !f.ok)) {
        console.error("\npreflight: fix the items marked FAIL, then run again.");
        process.exit(1);
    }
}

if (require.main === module) void main();
