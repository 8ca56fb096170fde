/**
 * The bootstrap with an auto-unseal seal against the SIMULATOR (tests/doubles/vault: seals modelled from upstream,
 * /work/research/seals.md), with the real step code on simulated time: init makes recovery keys, followers join by
 * retry_join and unseal themselves, no unseal key is ever submitted, a restarted pod comes back unsealed by itself,
 * and a KMS that does not answer fails the step at once with the key named and Vault's words quoted.
 */
import { DEPTH } from "../support/depth";
import { strict as assert } from "assert";
import * as fs from "fs";
import type { AutoSealType } from "../../components/seal/sealTypes";
import { ENV, StepName } from "../../components/stepCommand/contract";
import { requireRenderedPods, Simulation, simulatedSealPlan, StepOptions } from "../doubles/vault/harness";
import { unsealed, vaultCalls } from "../doubles/vault/inspect";

/** What VaultBootstrap adds to a step's environment for an auto seal. */
function sealEnv(type: AutoSealType): Record<string, string> {
    return { [ENV.seal]: type, [ENV.sealDescription]: simulatedSealPlan(type).describe };
}

/** Runs a step as the program would for a stack with this seal. */
const withSeal = (sim: Simulation, type: AutoSealType) => (step: StepName, o: StepOptions) => sim.runStep(step, { ...o, env: { ...sealEnv(type), ...o.env } });

/** No unseal key was ever sent to any pod (sys/unseal, operator unseal), and init never asked for key shares. */
function assertNoKeySent(sim: Simulation, since = 0): void {
    const calls = vaultCalls(sim, since);
    assert.deepEqual(
        calls.filter((c) => /sys\/unseal|operator unseal|-key-shares|-key-threshold/.test(c)),
        [],
    );
}

describe("auto seals against the Vault simulator", function () {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    const cases: Array<{ type: AutoSealType; replicas: number; tls: boolean }> = [];
    (["awskms", "gcpckms", "azurekeyvault", "transit"] as const).forEach((type, i) => {
        cases.push({ type, replicas: 3, tls: i % 2 === 0 }, { type, replicas: 5, tls: i % 2 === 1 });
    });
    for (const { type, replicas, tls } of cases) {
        // Each seal once in npm test; the 5-pod variants in the depth tier (CI: npm run test:depth).
        it(`${type}: bootstraps ${replicas} pods (TLS ${tls ? "on" : "off"}) with recovery keys, retry_join and no key sent${replicas === 5 ? DEPTH : ""}`, async () => {
            sim = await Simulation.create({ seal: { type }, replicas, tls });
            const out = await sim.bootstrap(undefined, withSeal(sim, type));
            const recovery = sim.state().cluster.recovery;
            assert.deepEqual(out.keys.unsealKeys, [], "an auto seal has no unseal keys");
            const keys = out.keys as typeof out.keys & { recoveryKeys?: string[] };
            assert.deepEqual(keys.recoveryKeys, recovery.keys);
            assert.equal(keys.recoveryKeys?.length, 5);
            const file = JSON.parse(fs.readFileSync(sim.keyFile, "utf8"));
            assert.deepEqual(file.unseal_keys_b64, []);
            assert.deepEqual(file.recovery_keys_b64, recovery.keys, "the key file keeps the recovery keys");
            assert.equal(file.root_token, out.keys.rootToken);
            assert.equal(out.peers.length, replicas);
            assert.equal(out.peers.filter((p: { leader: boolean }) => p.leader).length, 1);
            assert.deepEqual(unsealed(sim).sort(), sim.pods.slice().sort());
            assert.deepEqual(
                vaultCalls(sim).filter((c) => c.includes("operator init")),
                ["vault-0 operator init -recovery-shares=5 -recovery-threshold=3 -format=json"],
            );
            assertNoKeySent(sim);
            // Followers joined by themselves: no explicit join was needed.
            assert.deepEqual(
                vaultCalls(sim).filter((c) => c.includes("raft join")),
                [],
            );
        });
    }

    it("a restarted pod comes back unsealed by itself; its join step (run again for the new incarnation) sends nothing", async () => {
        sim = await Simulation.create({ seal: { type: "awskms" } });
        const out = await sim.bootstrap(undefined, withSeal(sim, "awskms"));
        const before = sim.calls().length;
        sim.restart("vault-1");
        sim.restart("vault-0");
        const run = withSeal(sim, "awskms");
        const leader = await run("unseal", { pod: "vault-0", secrets: { unsealKeys: [] } });
        assert.equal(leader.code, 0, leader.stderr);
        const follower = await run("join", { pod: "vault-1", secrets: { unsealKeys: [], rootToken: out.keys.rootToken } });
        assert.equal(follower.code, 0, follower.stderr);
        assert.match(follower.stderr, /vault-1 (unsealed itself|is unsealed|is already unsealed)/);
        assert.deepEqual(unsealed(sim).sort(), ["vault-0", "vault-1", "vault-2"]);
        assertNoKeySent(sim, before);
    });

    for (const type of ["gcpckms", "transit"] as const) {
        it(`${type}: a KMS outage at a restart fails the unseal step at once, naming the key and quoting Vault${type === "transit" ? DEPTH : ""}`, async () => {
            sim = await Simulation.create({ seal: { type } });
            await sim.bootstrap(undefined, withSeal(sim, type));
            sim.kms(false);
            sim.restart("vault-0");
            const started = sim.clock.now();
            const result = await withSeal(sim, type)("unseal", { pod: "vault-0", secrets: { unsealKeys: [] } });
            assert.equal(result.code, 1);
            if (process.env.SHOW_SEAL_MESSAGES) console.log(result.stderr);
            assert.ok(result.stderr.includes(simulatedSealPlan(type).describe), result.stderr);
            assert.match(result.stderr, /Vault says: "error parsing Seal configuration: /);
            assert.ok(sim.clock.now() - started < 90_000, `failed after ${(sim.clock.now() - started) / 1000}s, not at the step's timeout`);
            // Once the KMS answers again the pod comes up by itself, and the step passes.
            sim.kms(true);
            await sim.wait(310_000);
            const again = await withSeal(sim, type)("unseal", { pod: "vault-0", secrets: { unsealKeys: [] } });
            assert.equal(again.code, 0, again.stderr);
        });
    }

    it("a KMS outage during a roll fails the roll at the first replaced pod, naming the key", async () => {
        sim = await Simulation.create({ seal: { type: "azurekeyvault" }, tls: true });
        const out = await sim.bootstrap(undefined, withSeal(sim, "azurekeyvault"));
        await sim.upgrade({ vaultImage: "hashicorp/vault:2.0.5" });
        sim.kms(false);
        const started = sim.clock.now();
        const before = sim.calls().length;
        const roll = await withSeal(sim, "azurekeyvault")("roll", { secrets: { unsealKeys: [], rootToken: out.keys.rootToken } });
        assert.equal(roll.code, 1);
        assert.ok(roll.stderr.includes(simulatedSealPlan("azurekeyvault").describe), roll.stderr);
        assert.match(roll.stderr, /error parsing Seal configuration: error fetching Azure Key Vault wrapper key information/);
        assert.ok(sim.clock.now() - started < 120_000);
        assertNoKeySent(sim, before);
    });

    it("the pod-templates read names the seal the release runs with (the program refuses a change of it: runningSeal.ts)", async () => {
        const seals: Array<{ seal?: { type: AutoSealType }; expected: string }> = [{ expected: "shamir" }, { seal: { type: "transit" }, expected: "transit" }];
        for (const { seal, expected } of seals) {
            sim = await Simulation.create({ ...(seal ? { seal } : {}), replicas: 3, tls: true });
            const run = await sim.runStep("pod-templates");
            assert.equal(run.code, 0, run.stderr);
            assert.equal(JSON.parse(run.stdout).seal, expected);
            sim.dispose();
        }
    });
});
