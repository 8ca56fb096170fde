/**
 * The simulator's auto-unseal seals (tests/doubles/vault/model.js, autoSeal.js), driven through the fake kubectl and
 * Vault CLI as a step would drive them, not through the runner: init with recovery keys, the seal status, pods that
 * unseal themselves, a KMS that does not answer, recovery keys that cannot unseal, and followers that join by
 * themselves through the rendered configuration's retry_join.
 */
import { DEPTH } from "../support/depth";
import { strict as assert } from "assert";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { unsealed } from "../doubles/vault/inspect";
import type { AutoSealType } from "../../components/seal/sealTypes";

import { kubectl, status, vault } from "../doubles/vault/directCli";
/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");

function podStatus(sim: Simulation, pod: string) {
    const list = JSON.parse(kubectl(sim, ["get", "pods", "-n", "vault", "-l", `statefulset.kubernetes.io/pod-name=${pod}`, "-o", "json"]).stdout);
    const status = list.items[0].status;
    // Only the vault container (with TLS the pod also runs the certificate reloader).
    return { ...status, containerStatuses: status.containerStatuses.filter((c: { name: string }) => c.name === "vault") };
}

function initRecovery(sim: Simulation, shares = 5, threshold = 3) {
    const run = vault(sim, "vault-0", ["operator", "init", `-recovery-shares=${shares}`, `-recovery-threshold=${threshold}`, "-format=json"]);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout);
}

/** Lets simulated time pass until `done` holds, at most `ms`; returns how long it took. */
async function waitFor(sim: Simulation, done: () => boolean, ms: number): Promise<number> {
    const start = sim.clock.now();
    while (!done()) {
        if (sim.clock.now() - start > ms) assert.fail(`not within ${ms} ms of simulated time`);
        await sim.wait(100);
    }
    return sim.clock.now() - start;
}

const allUnsealed = (sim: Simulation) => () => unsealed(sim).length === sim.pods.length;

describe("auto-unseal seals in the simulator", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    for (const tls of [false, true]) {
        // TLS on in npm test; the same without TLS in the depth tier (CI: npm run test:depth).
        describe(`TLS ${tls ? "on" : "off"}${tls ? "" : DEPTH}`, () => {
            it("init takes recovery flags, refuses -key-shares with 400, answers recovery keys and is unsealed at once", async () => {
                sim = await Simulation.create({ tls, seal: { type: "awskms" } });
                const refused = vault(sim, "vault-0", ["operator", "init", "-key-shares=5", "-key-threshold=3", "-format=json"]);
                assert.equal(refused.code, 2);
                assert.match(
                    refused.stderr,
                    /^Error initializing: Error making API request\.\n\nURL: PUT https?:\/\/127\.0\.0\.1:8200\/v1\/sys\/init\nCode: 400\. Errors:\n\n\* parameters secret_shares,secret_threshold not applicable to seal type awskms\n/,
                );
                assert.equal(status(sim, "vault-0").initialized, false, "a refused init changes nothing");

                const out = initRecovery(sim, 5, 3);
                assert.deepEqual(out.unseal_keys_b64, []);
                assert.deepEqual(out.unseal_keys_hex, []);
                assert.equal(out.unseal_shares, 1);
                assert.equal(out.unseal_threshold, 1);
                assert.equal(out.recovery_keys_b64.length, 5);
                assert.equal(out.recovery_keys_hex.length, 5);
                assert.equal(out.recovery_keys_shares, 5);
                assert.equal(out.recovery_keys_threshold, 3);
                assert.match(out.root_token, /^hvs\./);
                assert.equal(status(sim, "vault-0").sealed, false, "sys/init unseals with the stored key");
                const again = vault(sim, "vault-0", ["operator", "init", "-recovery-shares=5", "-recovery-threshold=3", "-format=json"]);
                assert.match(again.stderr, /Vault is already initialized/);
            });

            it("status reports the seal type, a shamir recovery seal and the recovery threshold and shares", async () => {
                sim = await Simulation.create({ tls, seal: { type: "awskms" } });
                const before = status(sim, "vault-0");
                assert.equal(before.type, "awskms");
                assert.equal(before.recovery_seal, true);
                assert.equal(before.recovery_seal_type, "shamir");
                assert.equal(before.migration, false);
                assert.deepEqual([before.initialized, before.sealed, before.t, before.n], [false, true, 0, 0]);
                initRecovery(sim, 4, 2);
                const after = status(sim, "vault-0");
                assert.deepEqual([after.type, after.initialized, after.sealed, after.t, after.n], ["awskms", true, false, 2, 4]);
                assert.equal(vault(sim, "vault-0", ["status", "-format=json"]).code, 0);
            });

            it("fresh followers join by themselves through retry_join once there is an active node, then unseal and become voters", async () => {
                sim = await Simulation.create({ tls, seal: { type: "awskms" }, replicas: tls ? 5 : 3 });
                await sim.wait(4000);
                // Before any node is initialised, retry_join keeps failing every 2 s (vault/raft.go JoinRaftCluster).
                const early = kubectl(sim, ["logs", "vault-1", "-n", "vault", "-c", "vault"]).stdout;
                assert.match(early, /failed to get raft challenge: leader_addr=http/);
                assert.match(early, /failed to retry join raft cluster: retry=2s err="failed to get raft challenge"/);
                assert.match(early, /failed to unseal core: error="stored unseal keys are supported, but none were found"/);
                const { root_token: token } = initRecovery(sim);
                await waitFor(sim, allUnsealed(sim), 15_000);
                const list = model.listPeers(sim.state(), "vault-0", token);
                assert.equal(list.code, 0, list.stderr);
                assert.deepEqual(
                    JSON.parse(list.stdout).data.config.servers.map((p: { node_id: string }) => p.node_id),
                    sim.pods,
                );
                assert.match(kubectl(sim, ["logs", "vault-2", "-n", "vault", "-c", "vault"]).stdout, /successfully joined the raft cluster: leader_addr=http/);
                await waitFor(sim, () => model.autopilot(sim.state()).Voters.length === sim.pods.length, 30_000);
                assert.equal(model.autopilot(sim.state()).Healthy, true);
                // An explicit join of a node with raft state is harmless (vault/raft.go: joined: true).
                const join = vault(sim, "vault-1", ["operator", "raft", "join", "-format=json", sim.params.leaderApiAddr]);
                assert.equal(join.code, 0, join.stderr);
                assert.deepEqual(JSON.parse(join.stdout), { joined: true });
            });

            it("a restarted, recreated or deleted pod unseals itself within 5 s of its API answering", async () => {
                sim = await Simulation.create({ tls, seal: { type: "awskms" } });
                initRecovery(sim);
                await waitFor(sim, allUnsealed(sim), 15_000);
                sim.restart("vault-0");
                sim.recreate("vault-1");
                assert.equal(kubectl(sim, ["delete", "pod", "vault-2", "-n", "vault", "--wait=false"]).code, 0);
                assert.deepEqual(unsealed(sim), []);
                await waitFor(sim, allUnsealed(sim), 20_000);
                for (const pod of sim.pods) {
                    const p = sim.state().pods[pod];
                    assert.ok(p.vault.unsealedAt - p.apiUpAt <= 5000, `${pod} unsealed ${p.vault.unsealedAt - p.apiUpAt} ms after its API answered`);
                }
                await waitFor(sim, () => sim.state().active !== null, 10_000);
            });

            it("with the KMS down a starting pod crash-loops with the seal's error, the running ones stay unsealed, and it comes up once the KMS answers", async () => {
                sim = await Simulation.create({ tls, seal: { type: "awskms" } });
                initRecovery(sim);
                await waitFor(sim, allUnsealed(sim), 15_000);
                sim.kms(false);
                sim.restart("vault-2");
                await sim.wait(2500);
                let pod = podStatus(sim, "vault-2");
                assert.equal(pod.phase, "Running");
                assert.equal(pod.containerStatuses[0].state.waiting?.reason, "CrashLoopBackOff");
                assert.deepEqual(pod.containerStatuses[0].lastState.terminated.exitCode, 1);
                const restarts = pod.containerStatuses[0].restartCount;
                const previous = kubectl(sim, ["logs", "vault-2", "-n", "vault", "-c", "vault", "--previous"]);
                assert.equal(previous.code, 0, previous.stderr);
                assert.match(
                    previous.stdout,
                    /^error parsing Seal configuration: error fetching AWS KMS wrapping key information: AccessDeniedException: .*kms:DescribeKey on resource: arn:aws:kms:eu-west-1:111122223333:key\/1234abcd-12ab-34cd-56ef-1234567890ab /,
                );
                assert.match(vault(sim, "vault-2", ["status"]).stderr, /unable to upgrade connection: container not found/);
                // The kubelet's back-off: 10 s, then 20 s, 40 s ...
                await sim.wait(10_000);
                assert.equal(podStatus(sim, "vault-2").containerStatuses[0].restartCount, restarts + 1);
                await sim.wait(20_000);
                assert.equal(podStatus(sim, "vault-2").containerStatuses[0].restartCount, restarts + 2);
                await sim.wait(30_000);
                assert.equal(podStatus(sim, "vault-2").containerStatuses[0].restartCount, restarts + 2, "the next start is 40 s after the last");
                // The others kept their barrier key: unsealed, serving, writable.
                assert.deepEqual(unsealed(sim), ["vault-0", "vault-1"]);
                sim.change((s) => model.writeData(s, "during-outage", "kept"));

                sim.kms(true);
                await waitFor(sim, allUnsealed(sim), 20_000);
                pod = podStatus(sim, "vault-2");
                assert.ok(pod.containerStatuses[0].state.running, "running again after the back-off");
                assert.equal(sim.state().data["during-outage"], "kept");
            });

            it("recovery keys cannot unseal: refused without the KMS, refused when wrong, and the node opens only through the seal", async () => {
                sim = await Simulation.create({ tls, seal: { type: "awskms" } });
                const { recovery_keys_b64: keys } = initRecovery(sim, 3, 2);
                await waitFor(sim, allUnsealed(sim), 15_000);
                // The KMS goes away after the process checked it at start but before runUnseal's first attempt.
                sim.change((s) => (s.timing.apiStartMs = 3000));
                sim.restart("vault-1");
                await sim.wait(2500);
                sim.kms(false);
                await sim.wait(4000);
                assert.equal(podStatus(sim, "vault-1").phase, "Running");
                assert.equal(status(sim, "vault-1").sealed, true);
                assert.match(
                    kubectl(sim, ["logs", "vault-1", "-n", "vault", "-c", "vault"]).stdout,
                    /failed to unseal core:\n {2}error=\n {2}\| fetching stored unseal keys failed: AccessDeniedException: .*kms:Decrypt/,
                );
                const submit = (key: string) => vault(sim, "vault-1", ["write", "-format=json", "sys/unseal", "key=-"], key);
                assert.equal(submit(keys[0]).code, 0);
                const noKms = submit(keys[1]);
                assert.equal(noKms.code, 2);
                assert.match(noKms.stderr, /Code: 400\. Errors:\n\n\* failed to verify recovery key: AccessDeniedException/);
                assert.equal(status(sim, "vault-1").sealed, true);

                sim.kms(true);
                submit(keys[0]);
                const wrong = submit(keys[0].replace(/^./, keys[0][0] === "A" ? "B" : "A"));
                assert.match(wrong.stderr, /\* failed to verify recovery key: recovery key does not match submitted values/);
                // Within 5 s runUnseal reads the stored key through the seal: the seal opens the node, not the keys.
                await waitFor(sim, () => !status(sim, "vault-1").sealed, 5000);
            });
        });
    }

    it("each seal type's rendered configuration gives its type, retry_join and the crash line naming its key", async () => {
        const keys: Record<AutoSealType, RegExp> = {
            awskms: /key\/1234abcd/,
            gcpckms: /error checking key existence: .*'projects\/my-project\/locations\/global\/keyRings\/vault\/cryptoKeys\/unseal'/,
            azurekeyvault: /error fetching Azure Key Vault wrapper key information: GET https:\/\/vault-kv\.vault\.azure\.net\/keys\/unseal\//,
            transit: /URL: PUT https:\/\/transit\.example\.com:8200\/v1\/transit\/encrypt\/vault-ha\n/,
        };
        for (const type of Object.keys(keys) as AutoSealType[]) {
            sim?.dispose();
            sim = await Simulation.create({ seal: { type }, replicas: 3 });
            assert.equal(sim.state().seal.retryJoin.length, 3);
            assert.equal(status(sim, "vault-1").type, type);
            initRecovery(sim);
            await waitFor(sim, allUnsealed(sim), 15_000);
            if (type === "transit") {
                // The transit token reaches the container as VAULT_TOKEN, which the Vault CLI prefers to ~/.vault-token:
                // a call in the pod that does not set VAULT_TOKEN itself runs as the transit token.
                const peers = vault(sim, "vault-0", ["operator", "raft", "list-peers", "-format=json"]);
                assert.match(peers.stderr, /Code: 403\. Errors:\n\n\* permission denied/);
            }
            sim.kms(false);
            sim.restart("vault-0");
            await sim.wait(3000);
            assert.match(kubectl(sim, ["logs", "vault-0", "-n", "vault", "--previous"]).stdout, keys[type], type);
        }
    });

    it("a follower refuses a leader of another seal type, and the Shamir init refuses recovery flags", async () => {
        sim = await Simulation.create({ seal: { type: "gcpckms" } });
        initRecovery(sim);
        // The leader's data says Shamir (as a cluster initialised before the seal was configured would).
        sim.change((s) => (s.cluster.sealType = "shamir"));
        await sim.wait(5000);
        assert.match(
            kubectl(sim, ["logs", "vault-1", "-n", "vault"]).stdout,
            /failed to get raft challenge: leader_addr=http:\/\/vault-0\.vault-internal:8200 error="mismatching seal types between raft leader \(shamir\) and follower \(gcpckms\)"/,
        );
        assert.deepEqual(unsealed(sim), ["vault-0"]);
        sim.dispose();

        sim = await Simulation.create();
        const refused = vault(sim, "vault-0", ["operator", "init", "-recovery-shares=5", "-recovery-threshold=3", "-format=json"]);
        assert.match(refused.stderr, /\* parameters recovery_shares,recovery_threshold not applicable to seal type shamir\n/);
        assert.equal(sim.state().seal, null);
        assert.equal(status(sim, "vault-0").recovery_seal, false);
        assert.equal("recovery_seal_type" in status(sim, "vault-0"), false);
        const previous = kubectl(sim, ["logs", "vault-0", "-n", "vault", "--previous"]);
        assert.match(previous.stderr, /previous terminated container "vault" in pod "vault-0" not found/);
    });
});
