/**
 * `kubectl port-forward` to a Service, opened and closed by the step that needs it (the kv proof on a ClusterIP
 * Vault), the way a user reaches such a Vault.
 *
 * What kubectl does, and what this relies on (kubernetes/kubectl pkg/cmd/portforward/portforward.go and client-go
 * tools/portforward/portforward.go):
 * - `service/NAME` is resolved once, at start, to ONE running pod behind the Service, and the service port to that
 *   pod's container port (portforward.go Complete: AttachablePodForObjectFn, translateServicePortToTargetPort); a pod
 *   that is not Running is refused ("unable to forward port because pod is not running"), after waiting up to
 *   --pod-running-timeout for one.
 * - `:PORT` (local port 0) picks a free local port (parsePorts: ":5000" selects a random available local port).
 * - `--address 127.0.0.1` listens on that address only (parseAddresses: an IPv4 address is one tcp4 listener; the
 *   default "localhost" would add ::1 and a second line).
 * - Once listening it prints "Forwarding from 127.0.0.1:NNNNN -> PORT" on stdout (getListener), then one "Handling
 *   connection for NNNNN" line per connection (handleConnection).
 * - It does not follow the Service: when that pod goes away (deleted, its container restarted) the stream connection
 *   closes and ForwardPorts returns ErrLostConnectionToPod ("lost connection to pod"); kubectl exits non-zero. So a
 *   forward that has ended is opened again (to whichever pod now runs) before the next request.
 * - Permissions: kubectl 1.31+ opens the forward over WebSockets, a GET the API server authorizes as `get` on
 *   pods/portforward, falling back to SPDY, a POST (`create`); from Kubernetes 1.35 the WebSocket upgrade also needs
 *   `create` (feature gate AuthorizePodWebsocketUpgradeCreatePermission, kubernetes/kubernetes#134577). A refusal
 *   names both.
 * - It handles only SIGINT itself (RunPortForward's signal.Notify(os.Interrupt)); SIGTERM ends it at once, which is
 *   all a forward with no connection in flight needs.
 *
 * The kubeconfig is the kubectl runner's 0600 file (never an argument); nothing secret is on the command line.
 */
import { classifyFailure, lastLines } from "./failures";
import type { BackgroundProcess, KubectlRunner } from "./kubectl";
import { PollContext, pollUntil, StepError } from "./poll";
import { VaultUnavailable } from "./vaultOps";

export interface PortForwardTarget {
    namespace: string;
    service: string;
    /** The Service's port (kubectl translates it to the pod's container port). */
    remotePort: number;
}

/** kubectl's line once it listens: client-go getListener, "Forwarding from %s -> %d\n" with net.JoinHostPort. */
const FORWARDING = /^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)$/;

/** The command line: no secret in it, the local port left to kubectl. */
export function portForwardArgs(target: PortForwardTarget, podRunningTimeoutSeconds: number): string[] {
    return [
        "port-forward",
        "-n",
        target.namespace,
        `service/${target.service}`,
        "--address",
        "127.0.0.1",
        `--pod-running-timeout=${Math.max(1, Math.round(podRunningTimeoutSeconds))}s`,
        `:${target.remotePort}`,
    ];
}

/** The local port of a "Forwarding from" line, if it is one. */
export function forwardedPort(line: string): number | undefined {
    const m = FORWARDING.exec(line.trim());
    return m ? Number(m[1]) : undefined;
}

/** Waits for the Forwarding line, or the process's end (with what it said). */
function listening(proc: BackgroundProcess): Promise<{ port: number } | { code: number; stderr: string }> {
    return new Promise((resolve) => {
        proc.onLine((line) => {
            const port = forwardedPort(line);
            if (port !== undefined) resolve({ port });
        });
        void proc.exited.then((end) => resolve(end));
    });
}

/** An open forward. `localPort` changes when it had to be opened again. */
export class PortForward {
    private proc?: BackgroundProcess;
    private ended = true;
    private port = 0;
    private closed = false;
    /** How many times kubectl was started. */
    opened = 0;

    constructor(
        private readonly ctx: PollContext,
        private readonly kubectl: KubectlRunner,
        readonly target: PortForwardTarget,
    ) {}

    get localPort(): number {
        return this.port;
    }

    get description(): string {
        return `kubectl port-forward to service/${this.target.service} in ${this.target.namespace}`;
    }

    /** Opens the forward unless it is open; within the step's deadline, retrying what kubectl reports as "not yet". */
    async ensureOpen(): Promise<number> {
        if (this.closed) throw new StepError(`${this.description} was already closed`);
        if (!this.ended && this.proc) return this.port;
        let last = "";
        this.port = await pollUntil(
            this.ctx,
            `${this.description} to listen on 127.0.0.1`,
            async () => {
                const proc = this.kubectl.background(portForwardArgs(this.target, Math.min(60, this.ctx.timeoutMs / 1000)));
                this.proc = proc;
                this.ended = false;
                this.opened++;
                void proc.exited.then(() => {
                    if (this.proc === proc) this.ended = true;
                });
                const outcome = await listening(proc);
                if ("port" in outcome) return outcome.port;
                // It ended before listening: say why, and wait only for what can get better by itself.
                this.ended = true;
                const failure = classifyFailure({ stderr: outcome.stderr });
                last = failure.summary;
                if (/\(Forbidden\)|is forbidden: /.test(outcome.stderr)) {
                    throw new StepError(
                        `${this.description} was refused: ${failure.summary}. The kubeconfig's user needs "get" and "create" on pods/portforward in ${this.target.namespace} (\`kubectl auth can-i get pods --subresource=portforward -n ${this.target.namespace}\` and the same with create show it)`,
                    );
                }
                if (
                    failure.kind === "transient" ||
                    /pod is not running|lost connection to pod|timed out waiting for the condition|NotFound/.test(outcome.stderr)
                ) {
                    throw new VaultUnavailable(`${this.description} ended (exit ${outcome.code}): ${failure.summary}`);
                }
                throw new StepError(`${this.description} failed (exit ${outcome.code}): ${lastLines(outcome.stderr)}`);
            },
            () => last,
        );
        if (this.opened > 1) this.ctx.log(`${this.description} opened again (the pod it went to had gone): 127.0.0.1:${this.port}`);
        else this.ctx.log(`${this.description} listens on 127.0.0.1:${this.port}`);
        return this.port;
    }

    /** Stops kubectl and waits until it has ended. Always safe to call. */
    async close(): Promise<void> {
        this.closed = true;
        const proc = this.proc;
        this.proc = undefined;
        this.ended = true;
        await proc?.stop();
    }
}

/** Runs `work` with a forward open, and closes it whatever happens. */
export async function withPortForward<T>(
    ctx: PollContext,
    kubectl: KubectlRunner,
    target: PortForwardTarget,
    work: (forward: PortForward) => Promise<T>,
): Promise<T> {
    const forward = new PortForward(ctx, kubectl, target);
    try {
        await forward.ensureOpen();
        return await work(forward);
    } finally {
        await forward.close();
    }
}
