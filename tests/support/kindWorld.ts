/**
 * What Docker and the Pulumi state hold about the kind cluster, for index.ts under Pulumi mocks
 * (tests/support/program.ts): the answers of KindCluster's two node checks (KIND_NODES_SCRIPT before and after the
 * kind Command) and the stdout of the shape record. Set it before runProgram, reset it after (the mocks are global).
 *
 * The default is a stack's first up: no node containers before the kind Command, its nodes after, and a shape record
 * that prints the shape it is created with (SHAPE_RECORD_SCRIPT).
 */
import * as pulumi from "@pulumi/pulumi";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeState = require("@pulumi/pulumi/runtime/state");
import { KIND_NODES_SCRIPT } from "../../components/kind/kindCluster";
import { DOCKER_UNAVAILABLE, KindShape, NodeContainer } from "../../components/kind/kindShape";
import { current, Registration, runProgram } from "./program";

export type Nodes = NodeContainer[] | "docker-unavailable";

export interface KindWorld {
    /** The node containers of the configured cluster name before the kind Command is registered. */
    beforeKind?: Nodes;
    /** ... and after it (the cluster the state holds, or the one the kind Command just created). */
    afterKind?: Nodes;
    /** What the state's shape record printed when it was created; by default what it prints now. */
    shapeRecord?: string;
    /**
     * The kind Command's stdout: by default the kubeconfig (the state holds the cluster, or the up just created it);
     * "" in the preview that creates it (pulumi-command's Create does not run the script in preview).
     */
    kindCommandStdout?: string;
}

let world: KindWorld = {};

export function setKindWorld(w: KindWorld): void {
    world = w;
}

export function resetKindWorld(): void {
    world = {};
}

/** The node containers kind makes for this shape, as docker inspect reports them (see KIND_NODES_SCRIPT). */
export function nodesOf(shape: KindShape, state: (name: string) => string = () => "running"): NodeContainer[] {
    const ports: Record<string, string[]> = {
        "80/tcp": [String(shape.ingressHttpPort)],
        "443/tcp": [String(shape.ingressHttpsPort)],
        ...Object.fromEntries(shape.nodePorts.map((p) => [`${p}/tcp`, [String(p)]])),
        "6443/tcp": ["41234"],
    };
    const cp = `${shape.clusterName}-control-plane`;
    return [
        { name: cp, role: "control-plane", state: state(cp), image: shape.nodeImage, ports },
        ...Array.from({ length: shape.workers }, (_, i) => {
            const name = `${shape.clusterName}-worker${i ? i + 1 : ""}`;
            return { name, role: "worker", state: state(name), image: shape.nodeImage, ports: {} };
        }),
    ];
}

/** The stdout of KIND_NODES_SCRIPT for these containers: docker inspect's JSON, as the script's template prints it. */
export function nodesStdout(nodes: Nodes): string {
    if (nodes === "docker-unavailable")
        return `${DOCKER_UNAVAILABLE}\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n`;
    return nodes
        .map((n) =>
            JSON.stringify({
                name: `/${n.name}`,
                role: n.role,
                state: n.state,
                image: n.image,
                ports: Object.keys(n.ports).length
                    ? Object.fromEntries(
                          Object.entries(n.ports).map(([k, hostPorts]) => [
                              k,
                              hostPorts.map((p) => ({ HostIp: k === "6443/tcp" ? "127.0.0.1" : "0.0.0.0", HostPort: p })),
                          ]),
                      )
                    : {},
            }),
        )
        .map((l) => `${l}\n`)
        .join("");
}

/** The mocks' answer to a command:local:run invoke of KIND_NODES_SCRIPT; undefined for any other command. */
export function kindNodesAnswer(inputs: Record<string, any>): string | undefined {
    if (inputs.command !== KIND_NODES_SCRIPT) return undefined;
    const name: string = inputs.environment.KIND_CLUSTER_NAME;
    if (inputs.environment.VAULT_HA_CHECK === "shape") return nodesStdout(world.beforeKind ?? []);
    const generic: NodeContainer[] = [{ name: `${name}-control-plane`, role: "control-plane", state: "running", image: "", ports: {} }];
    return nodesStdout(world.afterKind ?? generic);
}

/** The kind Command's stdout under mocks, when the world sets it. */
export function kindCommandStdout(): string | undefined {
    return world.kindCommandStdout;
}

/** The stdout of the shape record Command under mocks; undefined for any other resource. */
export function shapeRecordStdout(name: string, inputs: Record<string, any>): string | undefined {
    if (!name.endsWith("-shape") || inputs.environment?.VAULT_HA_KIND_SHAPE === undefined) return undefined;
    return world.shapeRecord ?? `${inputs.environment.VAULT_HA_KIND_SHAPE}\n`;
}

/**
 * Runs index.ts under the mocks with this world and expects the program to fail asynchronously (a KindCluster check
 * throws inside an apply, as under the real engine; the SDK turns it into an unhandled rejection, which the Pulumi
 * language host reports). Returns the first error and what was registered by the time the program settled.
 */
/**
 * Waits until the program has registered whatever it still would: under mocks every registration follows from
 * promises and callbacks already queued, so the count standing still for QUIET_TURNS turns of the event loop (each
 * runs every ready callback and microtask) means nothing more is coming. Turns, not milliseconds: a loaded machine
 * slows them down without ending the wait early.
 */
const QUIET_TURNS = 200;
async function settled(count: () => number): Promise<void> {
    let last = count();
    for (let quiet = 0; quiet < QUIET_TURNS;) {
        await new Promise((r) => setImmediate(r));
        const now = count();
        quiet = now === last ? quiet + 1 : 0;
        last = now;
    }
}

export async function runProgramFailing(w: KindWorld, config: Record<string, string> = {}): Promise<FailedRun> {
    const errors: unknown[] = [];
    const onRejection = (e: unknown) => errors.push(e);
    const listeners = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", onRejection);
    const logged: string[] = [];
    const logError = pulumi.log.error;
    (pulumi.log as any).error = (msg: string) => {
        logged.push(msg);
    };
    setKindWorld(w);
    try {
        // The program's outputs never resolve after such a failure: do not wait for runProgram, wait for the error.
        void runProgram(config).then(
            () => errors.push(new Error("the program finished without error")),
            (e) => errors.push(e),
        );
        const deadline = Date.now() + 20_000;
        while (!errors.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await settled(() => current.registrations.length);
        const { registrations, warnings } = current;
        // The failed program's outputs never resolve, by design: they are not leaks of a program that finished (the
        // SDK's leak check at exit, @pulumi/pulumi runtime/debuggable.js, would otherwise report them).
        runtimeState.getStore().leakCandidates.clear();
        return { error: errors[0] as Error | undefined, logged, registrations: [...registrations], warnings: [...warnings] };
    } finally {
        (pulumi.log as any).error = logError;
        process.removeListener("unhandledRejection", onRejection);
        for (const l of listeners) process.on("unhandledRejection", l);
        resetKindWorld();
    }
}

export interface FailedRun {
    error: Error | undefined;
    /** What the program logged as errors (pulumi.log.error): KindCluster's full message. */
    logged: string[];
    registrations: Registration[];
    warnings: string[];
}
