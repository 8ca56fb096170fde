/**
 * The in-cluster unsealer (components/unsealer, issue 21 part 1) against the simulator: its real pass text under a
 * real shell, on simulated time, calling each Vault pod by its headless name (tests/doubles/vault/unsealerTask.ts).
 * Nothing here runs a step or a `pulumi up` unless it says so: the pods heal by themselves.
 */
import { DEPTH } from "../support/depth";
import { strict as assert } from "assert";
import * as crypto from "crypto";
import { assertNothingExposed, secretsOf } from "../doubles/vault/exposure";
import { requireRenderedPods, Simulation, SimulationSnapshot } from "../doubles/vault/harness";
import { unsealed } from "../doubles/vault/inspect";
import { UnsealerTask, unsealerCalls } from "../doubles/vault/unsealerTask";

/* eslint-disable @typescript-eslint/no-require-imports */
const model = require("../doubles/vault/model.js");
const cli = require("../doubles/vault/cli.js");

const DATA = "written before the restarts";

/** Another cluster's keys: what its own init gave it. */
const otherKeys = (n: number) => Array.from({ length: n }, () => crypto.randomBytes(33).toString("base64"));

for (const tls of [false, true]) {
    // TLS on in npm test (it adds the CA's checks); the same without TLS in the depth tier (CI: npm run test:depth).
    describe(`the in-cluster unsealer against the simulator (TLS ${tls ? "on" : "off"})${tls ? "" : DEPTH}`, () => {
        let live: SimulationSnapshot;
        let keys: string[];
        before(async function () {
            requireRenderedPods(this);
            const sim = await Simulation.create({ tls });
            keys = (await sim.bootstrap()).keys.unsealKeys;
            sim.change((s) => model.writeData(s, "secret/app", DATA));
            live = sim.snapshot();
            sim.dispose();
        });

        let sim: Simulation;
        let unsealer: UnsealerTask;
        afterEach(async () => {
            await unsealer?.stop();
            unsealer?.dispose();
            sim?.dispose();
        });

        /** A live cluster (bootstrapped by an up, data written) with the unsealer's container set up, not started. */
        function liveCluster(options: ConstructorParameters<typeof UnsealerTask>[1] = {}): void {
            sim = Simulation.restore(live);
            unsealer = new UnsealerTask(sim, options);
        }

        /** Lets simulated time pass until every pod is unsealed and raft has a leader; the time it took. */
        async function healed(limitMs: number): Promise<number> {
            const started = sim.clock.now();
            while (!(unsealed(sim).length === sim.pods.length && sim.state().active)) {
                assert.ok(sim.clock.now() - started <= limitMs, `not healed within ${limitMs / 1000} s: unsealed ${unsealed(sim).join(", ") || "none"}`);
                await sim.wait(250);
            }
            return sim.clock.now() - started;
        }

        /** The unsealer's output and every argv and environment the simulator saw hold no key or token. */
        function assertNoSecretShown(): void {
            assertNothingExposed(sim);
            const printed = unsealer.output();
            for (const secret of secretsOf(sim)) assert.ok(!printed.includes(secret), "the unsealer printed a secret");
        }

        it("unseals a restarted standby, then the restarted active node, then every pod after a reboot, each within 20 s", async () => {
            liveCluster();
            const callsBefore = sim.calls().length;
            unsealer.start();
            await healed(1000);
            const standby = sim.pods.find((p) => p !== sim.state().active)!;

            sim.restart(standby);
            assert.ok(!unsealed(sim).includes(standby));
            const standbyTook = await healed(20_000);

            const active = sim.state().active;
            sim.restart(active);
            const activeTook = await healed(20_000);
            assert.notEqual(sim.state().active, null, "raft elected a leader again");

            sim.change((s) => model.restartAll(s));
            assert.deepEqual(unsealed(sim), []);
            const allTook = await healed(20_000);

            // Within an interval of the API answering, plus an election where the leader went.
            assert.ok(standbyTook <= 2000 + unsealer.intervalMs + 250, `standby healed in ${standbyTook} ms`);
            assert.ok(activeTook <= 2000 + unsealer.intervalMs + 3000 + 250, `active healed in ${activeTook} ms`);
            assert.ok(allTook <= 2000 + unsealer.intervalMs + 3000 + 250, `all healed in ${allTook} ms`);
            assert.equal(model.readData(sim.state(), "secret/app"), DATA, "the data written before reads back");

            // No step, no kubectl: only the unsealer's own vault calls, and no key sent twice to a pod in one burst.
            assert.equal(sim.output.length, 0, "no step ran");
            const since = sim.calls().slice(callsBefore);
            assert.deepEqual([...new Set(since.map((c) => `${c.tool} ${c.pod}`))], ["vault @unsealer"]);
            const sent = unsealerCalls(sim, callsBefore).filter((c) => c.argv[0] === "write");
            assert.equal(sent.length, 3 + 3 + 9, "a threshold of shares per sealed pod: 3 for the standby, 3 for the active, 9 after the reboot");
            assert.match(unsealer.output(), new RegExp(`${standby}\\.vault-internal: sealed, unsealing\\n.*${standby}\\.vault-internal: unsealed`));
            assertNoSecretShown();
        });

        it("leaves alone a pod of another cluster (another seal configuration) and an uninitialised pod (a new, empty volume)", async () => {
            liveCluster();
            const other = { id: crypto.randomUUID(), keys: otherKeys(3), threshold: 2, shares: 3 };
            sim.change((s) => {
                s.pods["vault-2"].vault.foreign = other;
                model.restart(s, "vault-2");
                s.pods["vault-1"].vault = model.freshNode();
                model.restart(s, "vault-1");
            });
            const callsBefore = sim.calls().length;
            const initsBefore = sim.state().inits;
            unsealer.start();
            await sim.wait(30_000);
            await unsealer.stop();
            const calls = unsealerCalls(sim, callsBefore);
            assert.ok(unsealer.passes.length >= 6, `${unsealer.passes.length} passes`);

            // Another seal configuration (2 of 3, the keys are for 3 of 5): no key, and asked less and less often.
            const toForeign = calls.filter((c) => c.host === "vault-2.vault-internal");
            assert.deepEqual(
                toForeign.filter((c) => c.argv[0] !== "status"),
                [],
                "nothing but `vault status` reached it",
            );
            // Backing off after the pass that first reads its status (the 2nd: the pod starts 2 s after its restart), it
            // is asked again 2, then 3 passes later.
            assert.ok(toForeign.length < unsealer.passes.length - 2, `asked ${toForeign.length} times in ${unsealer.passes.length} passes`);
            assert.equal(sim.state().pods["vault-2"].vault.sealed, true);
            assert.deepEqual(sim.state().pods["vault-2"].vault.progress, []);
            assert.deepEqual(
                unsealer
                    .output()
                    .split("\n")
                    .filter((l) => l.includes("vault-2.vault-internal: its seal")),
                [
                    "vault-ha-unsealer: vault-2.vault-internal: its seal takes 2 of 3 key shares, the keys held here are for 3 of 5: not sent (another cluster's data, or a rekey: hand in the new keys and run pulumi up)",
                ],
                "said once",
            );

            // Not initialised (it has not joined): only `vault status`, never init, join or a key.
            const toFresh = calls.filter((c) => c.host === "vault-1.vault-internal");
            assert.ok(toFresh.length >= 5, "it keeps looking");
            assert.deepEqual([...new Set(toFresh.map((c) => c.argv.join(" ")))], ["status -format=json"]);
            const fresh = sim.state().pods["vault-1"].vault;
            assert.deepEqual(
                { initialized: fresh.initialized, pending: fresh.pending, progress: fresh.progress },
                { initialized: false, pending: null, progress: [] },
            );
            assert.equal(sim.state().inits, initsBefore);
            assert.match(unsealer.output(), /vault-1\.vault-internal: sealed and not part of the raft cluster yet: left to pulumi up, which joins it\n/);

            assert.deepEqual(unsealed(sim), ["vault-0"], "its own pod stays unsealed");
            assertNoSecretShown();
        });

        // What follows does not depend on the scheme: with TLS on, the stricter of the two.
        if (tls) {
            it("unseals alongside the bootstrap's own unseal step: both succeed, whoever comes first", async () => {
                const winners = new Set<string>();
                for (const offset of [0, 3000]) {
                    liveCluster();
                    unsealer.start();
                    await sim.wait(offset);
                    sim.restart("vault-0");
                    const step = await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys } });
                    assert.equal(step.code, 0, step.stderr);
                    await healed(20_000);
                    await unsealer.stop();
                    winners.add(/vault-0 is already unsealed/.test(step.stderr) ? "unsealer" : "step");
                    assert.ok(
                        unsealer.passes.every((p) => p.code === 0),
                        unsealer.passes.map((p) => p.stdout).join(""),
                    );
                    assertNoSecretShown();
                    unsealer.dispose();
                    sim.dispose();
                }
                assert.deepEqual([...winners].sort(), ["step", "unsealer"], "each order happened once");

                // Within one burst: a share the pod already holds (the step's first, just sent) is ignored, not refused.
                liveCluster();
                sim.restart("vault-0");
                await sim.wait(2000);
                sim.change((s) => model.unseal(s, "vault-0", keys[0]));
                assert.equal(sim.state().pods["vault-0"].vault.progress.length, 1);
                const pass = await unsealer.pass();
                assert.equal(pass.code, 0, pass.stdout);
                assert.deepEqual(unsealed(sim), sim.pods);
            });

            it("stops sending keys to a pod that, once unsealed, reports another cluster id (a clone our keys open)", async () => {
                liveCluster();
                unsealer.start();
                await healed(1000);
                // A restored copy of this cluster's data: the same keys open it, only its cluster id tells.
                const clone = { ...sim.state().cluster, id: crypto.randomUUID() };
                sim.change((s) => {
                    s.pods["vault-2"].vault.foreign = clone;
                    model.restart(s, "vault-2");
                });
                await sim.wait(10_000);
                assert.match(
                    unsealer.output(),
                    new RegExp(`vault-2\\.vault-internal: reports cluster id ${clone.id}, not this cluster's ${sim.state().cluster.id}`),
                );
                const callsBefore = sim.calls().length;
                sim.restart("vault-2");
                await sim.wait(15_000);
                await unsealer.stop();
                const after = unsealerCalls(sim, callsBefore).filter((c) => c.host === "vault-2.vault-internal");
                assert.ok(after.length >= 2, "it is still looked at");
                assert.deepEqual([...new Set(after.map((c) => c.argv[0]))], ["status"], "but sent no key again");
                assert.equal(sim.state().pods["vault-2"].vault.sealed, true);
                assertNoSecretShown();
            });

            it("with the cluster id the bootstrap recorded, a clone seen first is the foreign one, not this cluster's pods", async () => {
                // The clone is the only pod unsealed when the unsealer starts: learning the id from it would mark ours.
                const probe = Simulation.restore(live);
                const ours = probe.state().cluster.id;
                probe.dispose();
                liveCluster({ clusterId: ours });
                const clone = { ...sim.state().cluster, id: crypto.randomUUID() };
                sim.change((s) => {
                    s.pods["vault-2"].vault.foreign = clone;
                    model.restart(s, "vault-2");
                    model.restart(s, "vault-0");
                    model.restart(s, "vault-1");
                });
                sim.change((s) => {
                    // vault-2 comes up first, opened by someone else's hand.
                    s.pods["vault-2"].apiUpAt = s.now;
                    s.pods["vault-2"].runningAt = s.now;
                    for (const key of s.cluster.keys.slice(0, s.cluster.threshold)) model.unseal(s, "vault-2", key);
                });
                assert.equal(sim.state().pods["vault-2"].vault.sealed, false, "the clone is unsealed first");
                unsealer.start();
                await sim.wait(20_000);
                await unsealer.stop();
                assert.equal(sim.state().pods["vault-0"].vault.sealed, false, "this cluster's pods are unsealed");
                assert.equal(sim.state().pods["vault-1"].vault.sealed, false);
                assert.match(unsealer.output(), new RegExp(`vault-2\\.vault-internal: reports cluster id ${clone.id}, not this cluster's ${ours}`));
                assert.doesNotMatch(unsealer.output(), /vault-[01]\.vault-internal: reports cluster id/);
                assertNoSecretShown();
            });

            it("with a CA that did not sign Vault's certificate, sends nothing and says why", async () => {
                const otherCa = `-----BEGIN CERTIFICATE-----\n${Buffer.from("another CA").toString("base64")}\n-----END CERTIFICATE-----\n`;
                liveCluster({ caPem: otherCa });
                sim.restart("vault-1");
                const callsBefore = sim.calls().length;
                unsealer.start();
                await sim.wait(15_000);
                await unsealer.stop();
                const calls = unsealerCalls(sim, callsBefore);
                assert.ok(calls.length >= 9);
                assert.deepEqual([...new Set(calls.map((c) => c.argv[0]))], ["status"], "no key was sent");
                assert.deepEqual(sim.state().pods["vault-1"].vault.progress, []);
                assert.ok(!unsealed(sim).includes("vault-1"));
                assert.match(
                    unsealer.output(),
                    /vault-1\.vault-internal: not answering yet: Error checking seal status: Get "https:\/\/vault-1\.vault-internal:8200\/v1\/sys\/seal-status": tls: failed to verify certificate: x509: certificate signed by unknown authority\n/,
                );
                assertNoSecretShown();
            });
        }
    });
}

describe("a vault call from a pod that is not a Vault pod (simulator)", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("reaches the pod its VAULT_ADDR names, and fails as the Go client does on the way there", async () => {
        const fs = await import("fs");
        const path = await import("path");
        sim = await Simulation.create({ tls: true });
        const state = sim.state();
        const caFile = path.join(sim.dir, "ca.crt");
        fs.writeFileSync(caFile, state.tls.ca);
        const notPem = path.join(sim.dir, "not-pem.crt");
        fs.writeFileSync(notPem, "not a certificate");
        const call = (argv: string[], env: Record<string, string>) =>
            model.update(
                sim.stateFile,
                (s: any) => cli.vault(s, "@unsealer", argv, { VAULT_SIM_POD: "@unsealer", VAULT_CACERT: caFile, ...env }, "", undefined),
                sim.clock.now(),
            );
        const status = (env: Record<string, string>) => call(["status", "-format=json"], env);
        const url = (host: string, scheme = "https") => `${scheme}://${host}:8200/v1/sys/seal-status`;

        assert.deepEqual(status({ VAULT_ADDR: "https://vault-7.vault-internal:8200" }), {
            code: 1,
            stdout: "",
            stderr: `Error checking seal status: Get "${url("vault-7.vault-internal")}": dial tcp: lookup vault-7.vault-internal on 10.96.0.10:53: no such host\n`,
        });
        sim.change((s: any) => (s.pods["vault-2"].created = false));
        assert.match(status({ VAULT_ADDR: "https://vault-2.vault-internal:8200" }).stderr, /no such host/);
        sim.restart("vault-1");
        assert.match(status({ VAULT_ADDR: "https://vault-1.vault-internal:8200" }).stderr, /dial tcp 10\.244\.1\.11:8200: connect: connection refused/);
        await sim.wait(2000);
        assert.equal(status({ VAULT_ADDR: "https://vault-1.vault-internal:8200" }).code, 2, "sealed, and reached");
        assert.match(
            status({ VAULT_ADDR: "http://vault-1.vault-internal:8200" }).stderr,
            /Code: 400\. Errors:\n\n\* Client sent an HTTP request to an HTTPS server\./,
        );
        assert.match(
            status({ VAULT_ADDR: "https://vault-1.vault-internal:8200", VAULT_CACERT: path.join(sim.dir, "absent.crt") }).stderr,
            /^Error checking seal status: Error loading CA File: open .*absent\.crt: no such file or directory\n$/,
        );
        assert.match(
            status({ VAULT_ADDR: "https://vault-1.vault-internal:8200", VAULT_CACERT: notPem }).stderr,
            /Error loading CA File: Couldn't parse PEM in: .*not-pem\.crt/,
        );
        assert.match(
            status({ VAULT_ADDR: "https://vault-1.vault-internal:8200", VAULT_TLS_SERVER_NAME: "vault.example.com" }).stderr,
            /x509: certificate is valid for .*, not vault\.example\.com/,
        );
        assert.match(status({}).stderr, /dial tcp 127\.0\.0\.1:8200: connect: connection refused/, "nothing of Vault listens in the caller's pod");
        assert.match(call(["operator", "init", "-format=json"], { VAULT_ADDR: "https://vault-1.vault-internal:8200" }).stderr, /not modelled/);
    });

    it("prints sys/unseal's answer as the CLI prints a secret: the seal status under data", async () => {
        sim = await Simulation.create();
        sim.change((s: any) => model.init(s, "vault-0", 1, 1));
        const key = sim.state().cluster.keys[0];
        const written = model.update(
            sim.stateFile,
            (s: any) =>
                cli.vault(
                    s,
                    "@unsealer",
                    ["write", "-format=json", "sys/unseal", "key=-"],
                    { VAULT_SIM_POD: "@unsealer", VAULT_ADDR: "http://vault-0.vault-internal:8200" },
                    `${key}\n`,
                    undefined,
                ),
            sim.clock.now(),
        );
        assert.equal(written.code, 0, written.stderr);
        const answer = JSON.parse(written.stdout);
        assert.deepEqual(Object.keys(answer), ["request_id", "lease_id", "lease_duration", "renewable", "data", "warnings"]);
        assert.equal(answer.data.sealed, false);
        assert.equal(answer.data.ha_enabled, undefined, "sys/leader's fields are `vault status`'s, not the unseal answer's");
        assert.ok(!written.stdout.includes(key));
    });
});

describe("the in-cluster unsealer against a pod whose keys are not these (simulator)", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    let unsealer: UnsealerTask;
    afterEach(async () => {
        await unsealer?.stop();
        unsealer?.dispose();
        sim?.dispose();
    });

    it("is refused with the same seal configuration, and backs off: a handful of bursts in three minutes, not one a pass", async () => {
        // One pod, so that three simulated minutes of passes stay cheap.
        sim = await Simulation.create({ replicas: 1, tls: true });
        // This cluster's keys (its init), and on the pod's volume another cluster's data with the same 3 of 5.
        sim.change((s) => {
            model.init(s, "vault-0", 5, 3);
            s.pods["vault-0"].vault.foreign = { id: crypto.randomUUID(), keys: otherKeys(5), threshold: 3, shares: 5 };
        });
        unsealer = new UnsealerTask(sim);
        const callsBefore = sim.calls().length;
        unsealer.start();
        await sim.wait(3 * 60_000);
        await unsealer.stop();
        const bursts = unsealer.passes.filter((p) => p.stdout.includes("sealed, unsealing")).length;
        const writes = unsealerCalls(sim, callsBefore).filter((c) => c.argv[0] === "write").length;
        assert.equal(unsealer.passes.length, 36);
        // Skipping 1, 2, 4 ... 64 passes after each refusal: bursts at passes 1, 3, 6, 11, 20, then 37, 70 ...
        assert.deepEqual(
            unsealer.passes.flatMap((p, i) => (p.stdout.includes("sealed, unsealing") ? [i + 1] : [])),
            [1, 3, 6, 11, 20],
        );
        assert.equal(bursts, 5);
        assert.equal(writes, 5 * 3, "a threshold of shares per burst");
        assert.ok(unsealer.passes.filter((p) => p.code !== 0).length === bursts, "each burst is reported as a refusal");
        assert.equal(sim.state().pods["vault-0"].vault.sealed, true);
        const said = unsealer
            .output()
            .split("\n")
            .filter((l) => /Vault refused/.test(l));
        assert.deepEqual(said, ["vault-ha-unsealer: vault-0.vault-internal: Vault refused the unseal: * Unseal failed, invalid key"], "said once");
        assertNothingExposed(sim);
    });
});
