/**
 * The kind cluster's shape: what kind cannot change in a running cluster (its name, node image, workers and the
 * control plane's host port mappings), as data; how to compare the shape a stack wants with the one it accepted
 * earlier or with the cluster Docker runs; and the messages that stop an `up` before anything is touched.
 *
 * Pure: no Pulumi, no processes. KindCluster (kindCluster.ts) and the preflight (scripts/preflight.ts) use it.
 */
import { createHash } from "crypto";
import { FixCommands } from "../config/settings";
import type { Settings } from "../config/settings";

type ShapeSettings = Pick<Settings, "clusterName" | "kindNodeImage" | "workers" | "ingressHttpPort" | "ingressHttpsPort" | "nodePorts">;

export interface KindShape {
    clusterName: string;
    nodeImage: string;
    workers: number;
    ingressHttpPort: number;
    ingressHttpsPort: number;
    nodePorts: number[];
    /**
     * Digest of the kind config YAML the kind Command's triggers hold (kindConfigYaml): it changes when a vault-ha
     * release builds the config differently, which replaces the cluster as surely as a setting does.
     */
    configDigest: string;
}

export function kindShape(s: ShapeSettings, configYaml: string): KindShape {
    return {
        clusterName: s.clusterName,
        nodeImage: s.kindNodeImage,
        workers: s.workers,
        ingressHttpPort: s.ingressHttpPort,
        ingressHttpsPort: s.ingressHttpsPort,
        nodePorts: [...s.nodePorts],
        configDigest: createHash("sha256").update(configYaml).digest("hex").slice(0, 16),
    };
}

/** A setting of the shape, under its configuration key. */
export type ShapeSetting = "clusterName" | "kindNodeImage" | "workers" | "ingressHttpPort" | "ingressHttpsPort" | "nodePorts";

/** One thing that differs: the setting (or the config vault-ha builds), its old and new value, and how to put it back. */
export interface ShapeChange {
    setting: ShapeSetting | "kind config";
    from: string;
    to: string;
    /** The command that puts the old value back; none for the config vault-ha builds. */
    revert?: string;
}

/** What a shape record (the stdout of the shape Command) holds; undefined when there is none (yet). */
export function parseShapeRecord(text: string | undefined): KindShape | undefined {
    if (!text || !text.trim()) return undefined;
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        throw new Error(`the kind shape record is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
    }
    const v = value as Partial<KindShape>;
    const ok =
        typeof v.clusterName === "string" &&
        typeof v.nodeImage === "string" &&
        Number.isInteger(v.workers) &&
        Number.isInteger(v.ingressHttpPort) &&
        Number.isInteger(v.ingressHttpsPort) &&
        Array.isArray(v.nodePorts) &&
        v.nodePorts.every(Number.isInteger) &&
        typeof v.configDigest === "string";
    if (!ok) throw new Error(`the kind shape record lacks a field: ${JSON.stringify(value)}`);
    return v as KindShape;
}

const list = (ports: number[]) => `[${ports.join(", ")}]`;

/** The commands that set a shape setting back to an old value. */
export function revertCommand(stack: string, setting: ShapeSetting, old: string | number | number[]): string {
    const fixes = new FixCommands(stack);
    if (Array.isArray(old)) return [fixes.rm(setting), ...old.map((p, i) => fixes.setItem(setting, i, p))].join(" && ");
    return fixes.set(setting, old);
}

/** Every difference between the shape a stack accepted (old) and the one its settings ask for now (desired). */
export function shapeChanges(old: KindShape, desired: KindShape, stack: string): ShapeChange[] {
    const changes: ShapeChange[] = [];
    const add = (setting: ShapeSetting, from: string | number | number[], to: string | number | number[]) => {
        const text = (v: string | number | number[]) => (Array.isArray(v) ? list(v) : String(v));
        if (text(from) !== text(to)) changes.push({ setting, from: text(from), to: text(to), revert: revertCommand(stack, setting, from) });
    };
    add("clusterName", old.clusterName, desired.clusterName);
    add("kindNodeImage", old.nodeImage, desired.nodeImage);
    add("workers", old.workers, desired.workers);
    add("ingressHttpPort", old.ingressHttpPort, desired.ingressHttpPort);
    add("ingressHttpsPort", old.ingressHttpsPort, desired.ingressHttpsPort);
    add("nodePorts", old.nodePorts, desired.nodePorts);
    if (!changes.length && old.configDigest !== desired.configDigest) {
        changes.push({ setting: "kind config", from: `sha256 ${old.configDigest}`, to: `sha256 ${desired.configDigest}` });
    }
    return changes;
}

// --- the running cluster, as Docker reports it -------------------------------------------------------------------

/** One node container of a kind cluster, as the nodes script (kindCluster.ts KIND_NODES_SCRIPT) prints it. */
export interface NodeContainer {
    name: string;
    /** kind's docker label io.x-k8s.kind.role: control-plane, worker or external-load-balancer. */
    role: string;
    /** docker's State.Status: created, running, paused, restarting, removing, exited or dead. */
    state: string;
    /** The image reference the container was created from (Config.Image). */
    image: string;
    /** Published ports: "80/tcp" → host ports. */
    ports: Record<string, string[]>;
}

export type NodesReport = { docker: "unavailable"; detail: string } | { docker: "ok"; containers: NodeContainer[] };

/** The first line the nodes script prints when Docker does not answer. */
export const DOCKER_UNAVAILABLE = "vault-ha: docker unavailable";

/**
 * Reads the nodes script's stdout: one JSON object per container, or DOCKER_UNAVAILABLE followed by Docker's error.
 * Port bindings come as docker inspect prints HostConfig.PortBindings: {"80/tcp": [{"HostIp": "0.0.0.0",
 * "HostPort": "80"}], ...} (docker/go-connections nat: PortMap, PortBinding), or null when there are none.
 */
export function parseNodesReport(stdout: string): NodesReport {
    const lines = stdout.split("\n").filter((l) => l.trim());
    if (lines[0] === DOCKER_UNAVAILABLE) return { docker: "unavailable", detail: lines.slice(1).join(" ").trim() };
    const containers = lines.map((line): NodeContainer => {
        const raw = JSON.parse(line) as {
            name: string;
            role: string;
            state: string;
            image: string;
            ports: Record<string, Array<{ HostPort: string }> | null> | null;
        };
        const ports: Record<string, string[]> = {};
        for (const [key, bindings] of Object.entries(raw.ports ?? {})) ports[key.toLowerCase()] = (bindings ?? []).map((b) => b.HostPort);
        return { name: raw.name.replace(/^\//, ""), role: raw.role, state: raw.state, image: raw.image, ports };
    });
    return { docker: "ok", containers: containers.sort((a, b) => a.name.localeCompare(b.name)) };
}

/** kind publishes the API server's port 6443 on every control plane (kind pkg/cluster/internal/providers/common/constants.go APIServerInternalPort). */
const API_SERVER_PORT = "6443/tcp";

interface ImageRef {
    name: string;
    tag?: string;
    digest?: string;
}

/** name[:tag][@digest], with Docker Hub's implicit docker.io/ and library/ removed. */
function parseImage(ref: string): ImageRef {
    // An image id (a container made from an id) is no manifest digest: it says nothing certain.
    if (/^sha256:[0-9a-f]+$/.test(ref)) return { name: "" };
    const [nameTag, digest] = ref.split("@");
    const slash = nameTag.lastIndexOf("/");
    const colon = nameTag.lastIndexOf(":");
    const tag = colon > slash ? nameTag.slice(colon + 1) : undefined;
    const name = (colon > slash ? nameTag.slice(0, colon) : nameTag).replace(/^docker\.io\//, "").replace(/^library\//, "");
    return { name, tag, digest };
}

/**
 * Whether two image references name different images, said only when certain: by digest when both carry one,
 * otherwise by name and tag when both carry a tag. kind runs each node from the reference it was given (`--image`
 * overrides every node's image: kind pkg/cluster/internal/create/create.go; provision.go runArgsForNode appends it to
 * `docker run`), but whatever spelling Docker keeps must never make an unchanged cluster look changed.
 */
export function imagesDiffer(a: string, b: string): boolean {
    const x = parseImage(a);
    const y = parseImage(b);
    if (x.digest && y.digest) return x.digest !== y.digest;
    if (x.tag && y.tag) return x.name !== y.name || x.tag !== y.tag;
    return false;
}

/**
 * The differences between the running cluster (its node containers) and the shape the settings ask for, in the
 * settings' terms: worker count (kind's role label on each container), the control plane's host ports (what kind
 * published from extraPortMappings, without the API server's), and the node image. Nothing when there are no
 * containers: a cluster that does not exist has no shape to keep.
 */
export function liveShapeChanges(containers: NodeContainer[], desired: KindShape, stack: string): ShapeChange[] {
    if (!containers.length) return [];
    const changes: ShapeChange[] = [];
    const workers = containers.filter((c) => c.role === "worker").length;
    if (workers !== desired.workers) {
        changes.push({ setting: "workers", from: String(workers), to: String(desired.workers), revert: revertCommand(stack, "workers", workers) });
    }
    const controlPlane = containers.find((c) => c.role === "control-plane");
    if (controlPlane) {
        const hostPort = (containerPort: number) => controlPlane.ports[`${containerPort}/tcp`]?.[0];
        const http = hostPort(80);
        const https = hostPort(443);
        if (http !== String(desired.ingressHttpPort)) {
            changes.push({
                setting: "ingressHttpPort",
                from: http ?? "none",
                to: String(desired.ingressHttpPort),
                revert: http ? revertCommand(stack, "ingressHttpPort", http) : undefined,
            });
        }
        if (https !== String(desired.ingressHttpsPort)) {
            changes.push({
                setting: "ingressHttpsPort",
                from: https ?? "none",
                to: String(desired.ingressHttpsPort),
                revert: https ? revertCommand(stack, "ingressHttpsPort", https) : undefined,
            });
        }
        // NodePorts are mapped one to one (kindConfig.ts): the container ports other than 80, 443 and the API server's.
        const live = Object.keys(controlPlane.ports)
            .filter((k) => k.endsWith("/tcp") && k !== API_SERVER_PORT && k !== "80/tcp" && k !== "443/tcp")
            .map((k) => Number(k.split("/")[0]))
            .sort((a, b) => a - b);
        const wanted = [...desired.nodePorts].sort((a, b) => a - b);
        if (live.join(",") !== wanted.join(",")) {
            changes.push({
                setting: "nodePorts",
                from: list(live),
                to: list(desired.nodePorts),
                revert: revertCommand(stack, "nodePorts", live),
            });
        }
    }
    const other = containers.find((c) => c.role !== "external-load-balancer" && imagesDiffer(c.image, desired.nodeImage));
    if (other) changes.push({ setting: "kindNodeImage", from: other.image, to: desired.nodeImage, revert: revertCommand(stack, "kindNodeImage", other.image) });
    return changes;
}

// --- messages ----------------------------------------------------------------------------------------------------

const stackFlag = (stack: string) => (stack === "dev" ? "" : ` --stack ${stack}`);

/**
 * Stops an `up` (and its preview) whose settings would replace the kind cluster. `against` says what the settings
 * were compared with: the shape this stack accepted when it created the cluster, or the cluster Docker runs.
 */
export function shapeChangeMessage(clusterName: string, changes: ShapeChange[], stack: string, against: "record" | "live"): string {
    const what = changes.map(
        (c) => `  - ${c.setting === "kind config" ? "the kind config vault-ha builds (a vault-ha upgrade)" : c.setting}: ${c.from} → ${c.to}`,
    );
    const reverts = changes.filter((c) => c.revert).map((c) => `    ${c.revert}`);
    const seen =
        against === "record"
            ? `the kind cluster ${clusterName} this stack created`
            : `the running kind cluster ${clusterName} (its node containers, as Docker reports them)`;
    return [
        `vault-ha: these settings change the shape of ${seen}:`,
        ...what,
        `kind cannot change a running cluster: applying this would delete cluster ${clusterName} and everything in it (Vault's data included) before building a new one. Nothing was changed.`,
        `To apply the change, rebuild the cluster:`,
        `  1. take a snapshot (npm run snapshot)`,
        `  2. pulumi destroy${stackFlag(stack)}`,
        `  3. pulumi up${stackFlag(stack)}`,
        `  4. restore the snapshot (npm run restore -- FILE)`,
        ...(reverts.length ? [`To keep the running cluster instead, put the setting${reverts.length > 1 ? "s" : ""} back:`, ...reverts] : []),
    ].join("\n");
}

/** Stops an `up` (and its preview) whose state holds a kind cluster that Docker no longer has. */
export function vanishedMessage(clusterName: string, stack: string): string {
    return [
        `vault-ha: the kind cluster ${clusterName} is gone: this stack created it and its state still holds it and everything in it, but Docker has no node container of it (label io.x-k8s.kind.cluster=${clusterName}, stopped ones included).`,
        `It was deleted outside vault-ha (kind delete cluster, a Docker reset or a new Docker VM); its contents, Vault's data included, went with it. Nothing was changed.`,
        `To build it again:`,
        `  1. pulumi destroy${stackFlag(stack)}    (it works with the cluster gone: it deletes nothing inside the cluster one by one)`,
        `  2. pulumi up${stackFlag(stack)}`,
        `  3. if you took a snapshot (npm run snapshot) before it was lost, restore it (npm run restore -- FILE)`,
    ].join("\n");
}

/** Stops an `up` of a stack with a cluster when Docker does not answer: nothing inside the cluster could be reached. */
export function dockerUnavailableMessage(clusterName: string, detail: string): string {
    return [
        `vault-ha: Docker does not answer, so the kind cluster ${clusterName} cannot be checked or reached${detail ? ` (${detail})` : ""}. Nothing was changed.`,
        `Start Docker (Docker Desktop, colima, or the docker service; check with docker info), then run again.`,
    ].join("\n");
}

/** A warning, not a stop: the cluster exists, but some of its node containers are not running. */
export function stoppedNodesWarning(clusterName: string, containers: NodeContainer[]): string | undefined {
    const stopped = containers.filter((c) => c.state !== "running").map((c) => c.name);
    if (!stopped.length) return undefined;
    return `kind cluster ${clusterName}: node containers not running: ${stopped.join(", ")}. Start them (docker start ${stopped.join(" ")}), wait about a minute for the API server, then run again.`;
}
