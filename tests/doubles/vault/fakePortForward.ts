/**
 * SIMULATOR: a running `kubectl port-forward` (not kubectl). Where the model (kubeObjects.js portForward) accepted
 * the command, it listens on a real 127.0.0.1 port of the system's choosing and relays each connection to the
 * Service's backend (a fake Vault front door), printing what kubectl prints (client-go tools/portforward/
 * portforward.go: "Forwarding from 127.0.0.1:NNNNN -> PORT" once listening, "Handling connection for NNNNN" per
 * connection).
 *
 * Which pod that is, or that kubectl is still waiting for one to match the Service's selector (until its
 * --pod-running-timeout), the model says (kubeObjects.js portForward); `start` is called once it has said.
 *
 * Like kubectl it is bound to the one pod it picked at start: when that pod has been deleted or its container
 * restarted, the stream connection to it closes and kubectl ends with "error: lost connection to pod", exit 1
 * (ForwardPorts returns ErrLostConnectionToPod; kubectl's CheckErr prints "error: " and exits 1). The fake notices at
 * the next bytes sent through it (kubectl notices at once; either way the request is refused or dropped, never
 * served by another pod). stop() is SIGTERM: kubectl does not catch it, so the process ends at once (exit 128 + 15).
 */
import * as net from "net";
import type { AddressInfo } from "net";
import type { BackgroundProcess } from "../../../components/runner/kubectl";
import { LineFeed } from "../../../components/runner/kubectl";

export interface ForwardRecord {
    argv: string[];
    pod?: string;
    localPort?: number;
    connections: number;
    /** Set once the process has ended: how, and whether the step stopped it. */
    ended?: { code: number; stderr: string; stoppedByStep: boolean };
}

export interface ForwardTarget {
    pod: string;
    uid: string;
    remotePort: number;
    /** host:port of the fake Vault behind the Service. */
    backend: string;
    /** Whether the pod it picked is still that pod, running. */
    podAlive: () => boolean;
}

export class FakePortForward implements BackgroundProcess {
    readonly exited: Promise<{ code: number; stderr: string }>;
    private readonly feed = new LineFeed();
    private server?: net.Server;
    private readonly sockets = new Set<net.Socket>();
    private finish!: (end: { code: number; stderr: string }) => void;
    private done = false;

    /** The process, started; it does nothing until `start` says where kubectl's pod lookup went. */
    constructor(readonly record: ForwardRecord) {
        this.exited = new Promise((resolve) => (this.finish = resolve));
    }

    /** Whether the process has ended (a stop while kubectl still waited for a pod ends it too). */
    get ended(): boolean {
        return this.done;
    }

    /**
     * kubectl found its pod (or failed): listen and relay, or end with the failure. Settles once the listener is
     * bound (or the process failed): the harness's clock waits for it.
     */
    start(outcome: { error: { code: number; stderr: string } } | { forward: ForwardTarget }): Promise<void> {
        if (this.done) return Promise.resolve();
        if ("error" in outcome) {
            this.end(outcome.error.code, outcome.error.stderr, false);
            return Promise.resolve();
        }
        const target = outcome.forward;
        const record = this.record;
        record.pod = target.pod;
        const [host, port] = target.backend.split(":");
        this.server = net.createServer((local) => {
            if (!target.podAlive()) {
                local.destroy();
                this.end(1, "error: lost connection to pod\n", false);
                return;
            }
            record.connections++;
            this.feed.push(`Handling connection for ${record.localPort}\n`);
            this.sockets.add(local);
            const remote = net.connect(Number(port), host);
            this.sockets.add(remote);
            remote.pipe(local);
            // A connection made before the pod went is cut too (an HTTP client keeps its connection alive): kubectl's
            // streams all ride on the one connection to that pod, which closes with it.
            local.on("data", (chunk) => {
                if (target.podAlive()) remote.write(chunk);
                else this.end(1, "error: lost connection to pod\n", false);
            });
            local.on("end", () => remote.end());
            const close = () => {
                local.destroy();
                remote.destroy();
                this.sockets.delete(local);
                this.sockets.delete(remote);
            };
            local.on("error", close);
            remote.on("error", close);
            local.on("close", close);
            remote.on("close", close);
        });
        return new Promise((resolve) => {
            this.server!.listen(0, "127.0.0.1", () => {
                record.localPort = (this.server!.address() as AddressInfo).port;
                this.feed.push(`Forwarding from 127.0.0.1:${record.localPort} -> ${target.remotePort}\n`);
                resolve();
            });
        });
    }

    onLine(listener: (line: string) => void): void {
        this.feed.onLine(listener);
    }

    async stop(): Promise<void> {
        this.end(143, "", true);
        await this.exited;
    }

    private end(code: number, stderr: string, stoppedByStep: boolean): void {
        if (this.done) return;
        this.done = true;
        for (const s of this.sockets) s.destroy();
        // The listener goes with the process: a later connection is refused. Ended at once, so that what the step
        // sees next does not depend on how quickly the system closes the socket.
        if (this.server?.listening) this.server.close();
        this.record.ended = { code, stderr, stoppedByStep };
        this.finish({ code, stderr });
    }
}
