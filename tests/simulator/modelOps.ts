/**
 * SIMULATOR: VaultOps straight on the model (model.js), in this process, with a fixed latency per call. The
 * benchmark uses it to time the bootstrap's own logic (step graph, parallelism, polling) without process start-up
 * costs; the kubectl path is covered by the tests that run the real commands.
 */
import { parsePodList, parseRaftPeers, parseSealStatus } from "../../components/bootstrap/kubectlOps";
import { InitResponse, JoinTarget, PodInfo, RaftPeer, SealStatus, VaultOps, VaultRefused, VaultUnavailable } from "../../components/bootstrap/vaultOps";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("./model.js");
/* eslint-enable @typescript-eslint/no-require-imports */

interface Result {
    code: number;
    stdout: string;
    stderr: string;
}

export class ModelOps implements VaultOps {
    /** Calls made, in order. */
    readonly calls: string[] = [];

    constructor(
        readonly state: any,  
        private readonly latencyMs: number,
    ) {}

    private async call(what: string, operation: () => Result): Promise<Result> {
        this.calls.push(what);
        await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
        return operation();
    }

    private static check(result: Result, what: string): Result {
        if (result.code === 2) throw new VaultRefused(`${what}: ${result.stderr.trim()}`);
        if (result.code !== 0) throw new VaultUnavailable(`${what}: ${result.stderr.trim()}`);
        return result;
    }

    async listPods(): Promise<PodInfo[]> {
        return parsePodList((await this.call("get pods", () => model.listPods(this.state))).stdout);
    }

    async status(pod: string): Promise<SealStatus> {
        const r = await this.call(`${pod} status`, () => model.status(this.state, pod));
        if (r.code !== 0 && r.code !== 2) throw new VaultUnavailable(r.stderr);
        return parseSealStatus(r.stdout);
    }

    async init(pod: string, shares: number, threshold: number): Promise<InitResponse> {
        return JSON.parse(ModelOps.check(await this.call(`${pod} init`, () => model.init(this.state, pod, shares, threshold)), "init").stdout);
    }

    async submitUnsealKey(pod: string, key: string): Promise<void> {
        ModelOps.check(await this.call(`${pod} unseal`, () => model.unseal(this.state, pod, key)), "unseal");
    }

    async resetUnseal(pod: string): Promise<void> {
        await this.call(`${pod} unseal -reset`, () => model.resetUnseal(this.state, pod));
    }

    async join(pod: string, target: JoinTarget): Promise<void> {
        ModelOps.check(await this.call(`${pod} join`, () => model.join(this.state, pod, target.leaderApiAddr, { caFile: target.leaderCaCertFile })), "join");
    }

    async raftPeers(pod: string, token: string): Promise<RaftPeer[]> {
        return parseRaftPeers(ModelOps.check(await this.call(`${pod} list-peers`, () => model.listPeers(this.state, pod, token)), "list-peers").stdout);
    }
}
