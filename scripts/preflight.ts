/**
 * npm run preflight [-- --stack NAME]: checks the stack's settings (the program's own warnings, or that they are
 * fine) and this machine before `pulumi up` (tools and versions, a running Docker daemon, free host ports), and says
 * how to fix what is missing. `npm run up` runs it first.
 *
 * With `cluster: existing` it checks no Docker, kind or ports: the kubeconfig context, its permissions, and what the
 * up's own plan decides from the cluster instead (scripts/preflightExisting.ts).
 *
 * npm run preflight -- --tools pulumi,kind: checks only Node.js and the named tools (docker, kind, kubectl, pulumi;
 * docker means a running engine), neither the stack's settings nor the cluster nor the ports: what `npm run config`
 * and the start of `npm run e2e` need.
 *
 * npm run preflight -- --destroy [--stack NAME]: the tools a destroy of the stack runs, by its cluster mode (kind:
 * pulumi and kind; existing: pulumi and kubectl), read leniently: `npm run down` must work with Docker, the cluster
 * or the stack's settings gone or broken.
 */
import { spawnSync } from "child_process";
import { existsSync, readFileSync } from "fs";
import * as net from "net";
import * as path from "path";
import type { Runner } from "../components/cluster/checks";
import { rawClusterMode, stackHasKubeconfig, withStackKubeconfig } from "../components/cluster/stackKubeconfig";
import { ConfigError, DEFAULT_STACK, FixCommands, Settings, shellFixes } from "../components/config/settings";
import { readStackSettings, stackName } from "../components/config/stackFile";
import { KIND_RELEASE } from "../components/config/versions";
import { Finding, ok, problem, warning } from "../components/problems";
import { checkExistingCluster } from "./preflightExisting";
import { runWithArgs } from "./args";
import { PREFLIGHT_ARGS } from "./preflightArgs";
import { atLeast, parseVersion, satisfiesRange } from "./versionRanges";

export { atLeast, parseVersion, satisfiesRange };

export type { Runner, RunResult } from "../components/cluster/checks";
export type { Finding } from "../components/problems";

/**
 * The Node.js versions this project runs on: package.json's engines (the intersection of its dependencies' engines,
 * which a test keeps true).
 */
export const NODE_ENGINES: string = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")).engines.node;

/** Minimum versions of the other tools; the README's prerequisites table states the same. */
export const MINIMUM = {
    docker: "24.0.0",
    kind: KIND_RELEASE.replace(/^v/, ""),
    kubectl: "1.34.0",
    pulumi: "3.248.0",
};

export function nodeFinding(nodeVersion: string, engines = NODE_ENGINES): Finding {
    const version = parseVersion(nodeVersion);
    const text = version ? version.join(".") : nodeVersion;
    return version && satisfiesRange(version, engines)
        ? ok(`node ${text}`)
        : problem(
              `node ${text} is not a supported version (package.json engines: ${engines})`,
              "install a Node.js release in that range, 22 LTS recommended: https://nodejs.org/en/download",
          );
}

function versionFinding(tool: string, output: { ok: boolean; stdout: string }, minimum: string, install: string): Finding {
    const version = output.ok ? parseVersion(output.stdout) : undefined;
    if (!version) return problem(`${tool}: not found`, install);
    const text = version.join(".");
    return atLeast(version, minimum) ? ok(`${tool} ${text}`) : problem(`${tool} ${text} is older than ${minimum}`, install);
}

/** The tools the preflight knows; `docker` is a running Docker engine, not only its CLI. */
export const TOOLS = ["docker", "kind", "kubectl", "pulumi"] as const;
export type Tool = (typeof TOOLS)[number];

/** The tools of a `--tools a,b` argument; throws on a name it does not know. */
export function parseTools(list: string): Tool[] {
    const names = list.split(",").filter(Boolean);
    const unknown = names.filter((n) => !(TOOLS as readonly string[]).includes(n));
    if (unknown.length || !names.length) throw new Error(`preflight --tools: expected some of ${TOOLS.join(",")}, got "${list}"`);
    return names as Tool[];
}

/** Node.js, then each of tools (all by default), in the order of TOOLS. */
export function checkTools(run: Runner, nodeVersion = process.version, tools: readonly Tool[] = TOOLS): Finding[] {
    const findings: Finding[] = [nodeFinding(nodeVersion)];

    if (tools.includes("docker")) {
        const docker = run("docker", ["version", "--format", "{{.Server.Version}}"]);
        if (!docker.ok || !parseVersion(docker.stdout)) {
            findings.push(
                problem(
                    "docker: no running Docker engine answered",
                    "start Docker (Docker Desktop, colima, or the docker service) and check with `docker info`",
                ),
            );
        } else {
            findings.push(versionFinding("docker engine", docker, MINIMUM.docker, "update Docker"));
        }
    }

    if (tools.includes("kind")) {
        const kind = versionFinding(
            "kind",
            run("kind", ["version"]),
            MINIMUM.kind,
            `install kind ${KIND_RELEASE}: https://kind.sigs.k8s.io/docs/user/quick-start/#installation`,
        );
        findings.push(kind);
        if (kind.level === "ok" && !kind.what.endsWith(MINIMUM.kind)) {
            // Newer kind releases usually run older node images, but kind only promises it for the release that built them.
            findings.push(
                ok(
                    `note: the pinned node image was built for kind ${KIND_RELEASE}; if the cluster fails to start, use that release or set kindNodeImage from your kind's release notes`,
                ),
            );
        }
    }
    if (tools.includes("kubectl")) {
        findings.push(
            versionFinding(
                "kubectl",
                run("kubectl", ["version", "--client"]),
                MINIMUM.kubectl,
                "install kubectl 1.34 or newer (the bootstrap runs `kubectl exec` in the Vault pods): https://kubernetes.io/docs/tasks/tools/",
            ),
        );
    }
    if (tools.includes("pulumi")) {
        findings.push(
            versionFinding("pulumi", run("pulumi", ["version"]), MINIMUM.pulumi, "install or update the Pulumi CLI: https://www.pulumi.com/docs/install/"),
        );
    }
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

/** The host ports kind maps to NodePorts: kubernetes' default NodePort range (--service-node-port-range). */
const NODE_PORT_RANGE = { first: 30000, last: 32767 };

/**
 * The fix for busy nodePorts: the whole list, each busy port replaced by one that is free here and in no other
 * setting (nodePorts is a list, so one port alone is refused), and uiNodePort moved with its port (it must be one of
 * nodePorts). Undefined when no NodePort is free.
 */
export async function nodePortsFix(settings: Settings, busy: number[], inUse: typeof portInUse, fixes: FixCommands): Promise<string | undefined> {
    const taken = new Set([...settings.nodePorts, settings.ingressHttpPort, settings.ingressHttpsPort]);
    const moved = new Map<number, number>();
    for (let candidate = NODE_PORT_RANGE.first; candidate <= NODE_PORT_RANGE.last && moved.size < busy.length; candidate++) {
        if (taken.has(candidate) || (await inUse(candidate))) continue;
        moved.set(busy[moved.size], candidate);
        taken.add(candidate);
    }
    if (moved.size < busy.length) return undefined;
    const nodePorts = settings.nodePorts.map((p) => moved.get(p) ?? p);
    const ui = moved.get(settings.uiNodePort);
    return [fixes.set("nodePorts", nodePorts), ...(ui === undefined ? [] : [fixes.set("uiNodePort", ui)])].join(" && ");
}

export async function checkPorts(settings: Settings, run: Runner, inUse = portInUse, stack = DEFAULT_STACK): Promise<Finding[]> {
    const clusters = run("kind", ["get", "clusters"]);
    if (clusters.ok && clusters.stdout.split("\n").includes(settings.clusterName)) {
        return [ok(`kind cluster ${settings.clusterName} exists: its host ports are its own`)];
    }
    const fixes = shellFixes(stack);
    const ports: Array<[number, "ingressHttpPort" | "ingressHttpsPort" | "nodePorts"]> = [
        [settings.ingressHttpPort, "ingressHttpPort"],
        [settings.ingressHttpsPort, "ingressHttpsPort"],
        ...settings.nodePorts.map((p): [number, "nodePorts"] => [p, "nodePorts"]),
    ];
    const busy = new Set<number>();
    for (const [port] of ports) if (await inUse(port)) busy.add(port);
    const busyNodePorts = settings.nodePorts.filter((p) => busy.has(p));
    const moveNodePorts = busyNodePorts.length ? await nodePortsFix(settings, busyNodePorts, inUse, fixes) : undefined;
    // A busy ingress port gets a free one in its place (8080.., 8443..), one no other setting uses.
    const taken = new Set<number>(ports.map(([p]) => p));
    const freeIngressPort = async (from: number): Promise<number | undefined> => {
        for (let candidate = from; candidate < from + 20; candidate++) {
            if (taken.has(candidate) || (await inUse(candidate))) continue;
            taken.add(candidate);
            return candidate;
        }
        return undefined;
    };
    const ingressMoves = new Map<number, number | undefined>();
    for (const [port, setting] of ports) {
        if (busy.has(port) && setting !== "nodePorts") ingressMoves.set(port, await freeIngressPort(setting === "ingressHttpPort" ? 8080 : 8443));
    }
    return ports.map(([port, setting]): Finding => {
        if (!busy.has(port)) return ok(`port ${port} is free`);
        const choose =
            setting !== "nodePorts"
                ? fixes.set(setting, ingressMoves.get(port) ?? "<port>")
                : (moveNodePorts ?? `${fixes.set("nodePorts", ["<free port from 30000-32767>"])} (one set --path per port, uiNodePort one of them)`);
        return problem(`port ${port} on localhost is in use`, `stop what listens there (\`sudo lsof -i :${port}\`) or choose another port: ${choose}`);
    });
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
    if (!stopped.length) return [ok(`kind cluster ${name}: its ${containers.length} node containers are running`)];
    return [
        problem(
            `kind cluster ${name}: node containers not running: ${stopped.map(([n, state]) => `${n} (${state ?? "unknown"})`).join(", ")}`,
            `start them (Docker must be running), then run again: docker start ${stopped.map(([n]) => n).join(" ")}`,
        ),
    ];
}

/**
 * A kind cluster this stack deployed that Docker no longer has (kind delete cluster, a Docker reset), or a cluster
 * name changed since. The stack's outputs say which cluster it deployed: `pulumi stack output --json` prints them
 * without decrypting anything (secrets are blinded unless --show-secrets: pulumi/pulumi pkg/cmd/pulumi/stack/
 * stack_output.go), and fails for a stack that does not exist yet (no finding then). kind's node containers carry
 * io.x-k8s.kind.cluster=<name> and `docker ps -a` lists stopped ones too (kind pkg/cluster/internal/providers/docker/
 * constants.go, provider.go ListNodes), so stopped containers are not "gone". `pulumi up` makes the same checks
 * (components/kind/kindCluster.ts); this says it before anything starts.
 */
export function checkDeployedCluster(settings: Settings, run: Runner, stack: string): Finding[] {
    const out = run("pulumi", ["stack", "output", "--json", "--stack", stack, "--non-interactive"]);
    if (!out.ok) return [];
    let deployed: unknown;
    try {
        deployed = (JSON.parse(out.stdout) as Record<string, unknown>)?.clusterName;
    } catch {
        return [];
    }
    if (typeof deployed !== "string" || !deployed) return [];
    const ps = run("docker", ["ps", "-a", "--filter", `label=io.x-k8s.kind.cluster=${deployed}`, "--format", "{{.Names}}"]);
    if (!ps.ok) return [];
    const flag = stack === "dev" ? "" : ` --stack ${stack}`;
    if (!ps.stdout.trim()) {
        return [
            problem(
                `kind cluster ${deployed} is gone: stack ${stack} deployed it and its state still holds it, but Docker has no node container of it (deleted with kind delete cluster, or Docker was reset)`,
                `pulumi destroy${flag} (it works with the cluster gone), then npm run up; restore a snapshot afterwards if you took one (npm run restore -- FILE)`,
            ),
        ];
    }
    if (deployed !== settings.clusterName) {
        return [
            problem(
                `clusterName changed: ${deployed} → ${settings.clusterName}; kind cannot rename a cluster, and pulumi up would delete ${deployed} and everything in it first`,
                `keep it: ${shellFixes(stack).set("clusterName", deployed)}; or rebuild: take a snapshot (npm run snapshot), pulumi destroy${flag}, npm run up, restore it (npm run restore -- FILE)`,
            ),
        ];
    }
    return [ok(`kind cluster ${deployed} of stack ${stack} exists`)];
}

/**
 * The stack's settings, as the program reads them, and the findings that say so: each warning the program would log
 * at the up, or one line that the configuration is fine. Throws ConfigError for settings the program would refuse.
 */
export function checkStackSettings(stack: string, projectDir: string): { settings: Settings; findings: Finding[] } {
    const { settings, warnings } = readStackSettings(stack, projectDir);
    const file = `Pulumi.${stack.split("/").pop()}.yaml`;
    const findings: Finding[] = warnings.length
        ? warnings.map((what) => warning(`configuration: ${what}`))
        : [ok(`configuration: the settings of stack ${stack} (${file}) are valid, with no warning`)];
    return { settings, findings };
}

/** Where the stack files are: next to this script, which may run with components/ linked from another checkout. */
const PROJECT_DIR = path.join(__dirname, "..");

const systemRunner: Runner = (command, args) => {
    const result = spawnSync(command, args, { encoding: "utf8", timeout: 20_000 });
    return { ok: result.status === 0, stdout: `${result.stdout ?? ""}`, stderr: `${result.stderr ?? ""}` };
};

async function main(argv = process.argv.slice(2)): Promise<void> {
    if (argv.includes("--destroy")) {
        let stack: string;
        try {
            stack = stackName(argv);
        } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            console.error(err.message);
            process.exit(2);
        }
        // kind mode: pulumi destroy runs `kind delete cluster`; existing mode: the Kubernetes provider and kubectl.
        return report(
            checkTools(systemRunner, process.version, rawClusterMode(stack, PROJECT_DIR) === "existing" ? ["kubectl", "pulumi"] : ["kind", "pulumi"]),
        );
    }
    const toolsFlag = argv.indexOf("--tools");
    if (toolsFlag >= 0) {
        let tools: Tool[];
        try {
            tools = parseTools(argv[toolsFlag + 1] ?? "");
        } catch (err) {
            console.error((err as Error).message);
            process.exit(2);
        }
        return report(checkTools(systemRunner, process.version, tools));
    }
    let settings: Settings;
    let configuration: Finding[];
    const stack = stackName(argv);
    // The backend npm run up uses (scripts/lib.sh use_stack), when none is set.
    const state = path.join(PROJECT_DIR, ".pulumi-state");
    if (!process.env.PULUMI_BACKEND_URL && existsSync(state)) process.env.PULUMI_BACKEND_URL = `file://${state}`;
    try {
        ({ settings, findings: configuration } = checkStackSettings(stack, PROJECT_DIR));
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        console.error(err.message);
        process.exit(1);
    }
    if (settings.cluster === "existing") {
        // No Docker, kind or host ports: the cluster exists, and is reached through a kubeconfig context.
        return report([
            ...configuration,
            ...checkTools(systemRunner, process.version, ["kubectl", "pulumi"]),
            ...(await withStackKubeconfig(systemRunner, stack, stackHasKubeconfig(stack, PROJECT_DIR), (kubeconfigFile) =>
                checkExistingCluster(settings, systemRunner, { context: settings.kubeContext, kubeconfigFile }, stack),
            )),
        ]);
    }
    report([
        ...configuration,
        ...checkTools(systemRunner),
        ...checkDeployedCluster(settings, systemRunner, stack),
        ...checkClusterNodes(settings, systemRunner),
        ...(await checkPorts(settings, systemRunner, portInUse, stack)),
    ]);
}

const MARKS: Record<Finding["level"], string> = { ok: "ok  ", warn: "warn", problem: "FAIL" };

/** A finding as the preflight prints it: its mark and what, and a fix on the line below. */
export function reportLine(f: Finding): string {
    return `${MARKS[f.level]} ${f.what}${f.fix ? `\n       fix: ${f.fix}` : ""}`;
}

function report(findings: Finding[]): void {
    for (const f of findings) console.log(reportLine(f));
    if (findings.some((f) => f.level === "problem")) {
        console.error("\npreflight: fix the items marked FAIL, then run again.");
        process.exit(1);
    }
}

if (require.main === module) void runWithArgs(process.argv.slice(2), PREFLIGHT_ARGS, () => main().then(() => 0)).then((code) => (process.exitCode = code));
