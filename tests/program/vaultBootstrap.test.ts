/**
 * VaultBootstrap (components/vault/vaultBootstrap.ts): the bootstrap steps, and adopting an initialised Vault.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import {
    COMMAND,
    dependsOn,
    FAKE_IDENTITIES,
    FAKE_KEYS,
    FAKE_KUBECONFIG,
    ProgramRun,
    Registration,
    RELEASE,
    runProgram,
    runProgramOnce,
} from "../support/program";
import { asRecoveryKeys, asUnsealKeys } from "../../components/vault/vaultBootstrap";

describe("VaultBootstrap (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramOnce();
    });

    describe("bootstrap steps", () => {
        const step = (id: string) => run.one(COMMAND, `bootstrap-${id}`);
        const bootstrapSteps = () => run.all(COMMAND).filter((c) => c.name.startsWith("bootstrap-"));

        it("runs wait -> init -> roll -> unseal leader -> joins (in parallel) -> verify, after the Vault release", () => {
            assert.deepEqual(
                bootstrapSteps().map((s) => s.name),
                [
                    "bootstrap-wait-pods",
                    "bootstrap-init",
                    "bootstrap-roll",
                    "bootstrap-unseal-vault-0",
                    "bootstrap-join-vault-1",
                    "bootstrap-join-vault-2",
                    "bootstrap-verify",
                ],
            );
            const deps = (id: string) => step(id).dependencies;
            assert.ok(deps("wait-pods").includes(run.one(RELEASE, "vault-release").urn));
            assert.ok(deps("init").includes(step("wait-pods").urn));
            assert.ok(deps("roll").includes(step("init").urn));
            assert.ok(deps("unseal-vault-0").includes(step("roll").urn));
            for (const follower of ["join-vault-1", "join-vault-2"]) {
                assert.ok(deps(follower).includes(step("unseal-vault-0").urn), `${follower} after the leader is unsealed`);
            }
            assert.ok(!deps("join-vault-2").includes(step("join-vault-1").urn), "followers do not wait for each other");
            for (const id of ["unseal-vault-0", "join-vault-1", "join-vault-2"]) {
                assert.ok(deps("verify").includes(step(id).urn), `verify after ${id}`);
            }
        });

        it("runs the step runner for each step, with each pod named in the environment", () => {
            for (const [id, runner, pod] of [
                ["wait-pods", "wait-pods", undefined],
                ["init", "init", undefined],
                ["unseal-vault-0", "unseal", "vault-0"],
                ["join-vault-1", "join", "vault-1"],
                ["verify", "verify", undefined],
            ]) {
                assert.equal(step(id!).inputs.create, `node --require ts-node/register/transpile-only components/bootstrap/cli.ts ${runner}`);
                assert.equal(step(id!).inputs.environment.VAULT_HA_POD, pod);
            }
            assert.equal(step("join-vault-1").inputs.environment.VAULT_HA_LEADER_ADDR, "https://vault-0.vault-internal:8200");
            assert.equal(step("join-vault-1").inputs.environment.VAULT_HA_LEADER_CA_FILE, "/vault/userconfig/vault-tls/ca.crt");
            assert.equal(step("init").inputs.environment.VAULT_HA_KEY_SHARES, "5");
            assert.equal(step("init").inputs.environment.VAULT_HA_KEY_THRESHOLD, "3");
            assert.equal(step("init").inputs.environment.VAULT_HA_KEY_FILE, ".vault-ha/vault-ha.dev/init.json");
        });

        it("passes secrets only on stdin, marked secret, never in the command line or the environment", () => {
            const secrets = [FAKE_KUBECONFIG.trim(), "RkFLRS1LRVk=", FAKE_KEYS.rootToken, ...FAKE_KEYS.unsealKeys];
            for (const s of bootstrapSteps()) {
                assert.ok(s.secretInputs.includes("stdin"), `${s.name}: stdin is secret`);
                assert.equal(JSON.parse(s.inputs.stdin).kubeconfig, FAKE_KUBECONFIG);
                assert.ok(!s.secretInputs.includes("environment"), `${s.name}: environment is plain, so previews show it`);
                const exposed = JSON.stringify([s.inputs.create, s.inputs.delete ?? "", s.inputs.environment, s.inputs.triggers ?? []]);
                for (const secret of secrets) assert.ok(!exposed.includes(secret), `${s.name} exposes a secret`);
                assert.equal(s.inputs.addPreviousOutputInEnv, false, `${s.name}: no previous stdout in the environment`);
                assert.equal(s.inputs.dir, ".", `${s.name} runs in the project folder, named relatively`);
            }
            assert.deepEqual(JSON.parse(step("unseal-vault-0").inputs.stdin).unsealKeys, FAKE_KEYS.unsealKeys);
            assert.deepEqual(JSON.parse(step("join-vault-2").inputs.stdin).unsealKeys, FAKE_KEYS.unsealKeys);
            assert.equal(JSON.parse(step("verify").inputs.stdin).rootToken, FAKE_KEYS.rootToken);
            assert.equal(JSON.parse(step("verify").inputs.stdin).unsealKeys, undefined, "verify gets the token, not the keys");
        });

        it("keeps the init step's stdout (the keys) secret and out of the logs, and forgets the keys on destroy", () => {
            const init = step("init");
            assert.deepEqual(init.additionalSecretOutputs, ["stdout"]);
            assert.equal(init.inputs.logging, "stderr");
            assert.equal(init.inputs.delete, "node --require ts-node/register/transpile-only components/bootstrap/cli.ts forget-keys");
            assert.equal(init.deletedWith, "", "a deletedWith would skip the delete that removes the key file");
        });

        it("re-runs an unseal or join step when its pod has a new incarnation, read on every preview and up", () => {
            const identities = run.invokes.filter((i) => i.token === "command:local:run" && /cli\.ts pod-identities$/.test(i.inputs.command));
            assert.equal(identities.length, 1);
            assert.deepEqual(step("unseal-vault-0").inputs.triggers, [`vault-0: ${FAKE_IDENTITIES["vault-0"]}`]);
            assert.deepEqual(step("join-vault-1").inputs.triggers, ["vault-1: absent"]);
            assert.equal(step("verify").inputs.triggers.length, 3);
            assert.ok(step("wait-pods").inputs.triggers.includes(3), "waiting again when the replica count changes");
        });

        it("rolls the pods to a changed template after init and before the unseals, with the keys and token on stdin only", () => {
            const roll = step("roll");
            dependsOn(roll, step("init"));
            dependsOn(step("unseal-vault-0"), roll);
            assert.deepEqual(JSON.parse(roll.inputs.stdin), { kubeconfig: FAKE_KUBECONFIG, unsealKeys: FAKE_KEYS.unsealKeys, rootToken: FAKE_KEYS.rootToken });
            assert.ok(roll.secretInputs.includes("stdin"));
            assert.equal(roll.inputs.logging, "stdoutAndStderr", "its output names pods and revisions, never a secret");
            // The step runs again exactly when what the pods are made from changes; the preview shows it in words.
            assert.match(roll.inputs.environment.VAULT_HA_POD_TEMPLATE, /^image hashicorp\/vault:2\.0\.4, TLS on, chart 0\.34\.1, values [0-9a-f]{12}$/);
            assert.equal(roll.deletedWith, run.one(COMMAND, "kind-cluster").urn);
        });

        it("5 replicas make 4 parallel joins", async () => {
            const five = await runProgram({ workers: "5", vaultReplicas: "5" });
            const joins = five.all(COMMAND).filter((c) => c.name.startsWith("bootstrap-join-"));
            assert.deepEqual(
                joins.map((j) => j.name),
                ["bootstrap-join-vault-1", "bootstrap-join-vault-2", "bootstrap-join-vault-3", "bootstrap-join-vault-4"],
            );
        });
    });

    describe("adopting an initialised Vault (vault-ha:unsealKeys, vault-ha:rootToken)", () => {
        const keys = JSON.stringify(["YWRvcHRlZC1rZXktMS0xLTEtMQ==", "YWRvcHRlZC1rZXktMi0yLTItMg==", "YWRvcHRlZC1rZXktMy0zLTMtMw=="]);
        const token = "hvs.ADOPTED-ROOT-TOKEN";

        it("hands the configured keys to the init step, which uses them instead of initialising", async () => {
            const adopted = await runProgram({ unsealKeys: keys, rootToken: token }, ["unsealKeys", "rootToken"]);
            const init: Registration = adopted.one(COMMAND, "bootstrap-init");
            assert.deepEqual(JSON.parse(init.inputs.stdin), { kubeconfig: FAKE_KUBECONFIG, unsealKeys: JSON.parse(keys), rootToken: token });
            assert.ok(init.secretInputs.includes("stdin"));
        });

        it("refuses keys stored in plain text", async () => {
            await assert.rejects(
                runProgram({ unsealKeys: keys, rootToken: token }, ["rootToken"]),
                /vault-ha:unsealKeys is stored in plain text. Fix: type the keys as a JSON list, .* when asked: npm run config -- set --secret vault-ha:unsealKeys$/m,
            );
        });

        it("refuses too few keys or a missing token, without repeating the secrets", async () => {
            await assert.rejects(runProgram({ unsealKeys: JSON.stringify(["YWRvcHRlZC1rZXktMS0xLTEtMQ=="]) }, ["unsealKeys"]), (err: Error) => {
                assert.match(err.message, /vault-ha:unsealKeys holds 1 key\(s\); unsealing needs at least keyThreshold \(3\)/);
                assert.match(err.message, /vault-ha:unsealKeys is set but vault-ha:rootToken is not/);
                assert.ok(!err.message.includes("YWRvcHRlZC1rZXktMS0xLTEtMQ=="));
                return true;
            });
        });
    });

    describe("an auto seal (issue 21): the steps learn it from the environment, a Shamir stack's steps do not", () => {
        const AWSKMS = {
            cluster: "existing",
            kubeContext: "prod-eu",
            seal: "awskms",
            sealKey: "alias/vault",
            sealIdentity: "arn:aws:iam::111122223333:role/vault",
        };
        const SEAL_ENV = ["VAULT_HA_SEAL", "VAULT_HA_SEAL_DESCRIPTION"];
        let auto: ProgramRun;
        before(async () => {
            auto = await runProgramOnce(AWSKMS);
        });
        const autoStep = (id: string) => auto.one(COMMAND, `bootstrap-${id}`);

        it("init gets the seal's type (it makes recovery keys); unseal, join and roll get the type and the key in words", () => {
            assert.equal(autoStep("init").inputs.environment.VAULT_HA_SEAL, "awskms");
            assert.equal(autoStep("init").inputs.environment.VAULT_HA_SEAL_DESCRIPTION, undefined);
            for (const id of ["roll", "unseal-vault-0", "join-vault-1", "join-vault-2"]) {
                const env = autoStep(id).inputs.environment;
                assert.equal(env.VAULT_HA_SEAL, "awskms", id);
                assert.match(env.VAULT_HA_SEAL_DESCRIPTION, /^AWS KMS key alias\/vault through .*arn:aws:iam::111122223333:role\/vault/, id);
            }
            assert.equal(autoStep("verify").inputs.environment.VAULT_HA_SEAL, undefined, "verify sends no key either way");
        });

        it("keeps the same steps (same names, same order), each unseal or join step now waiting for the pod to unseal itself", () => {
            const names = (r: ProgramRun) =>
                r
                    .all(COMMAND)
                    .filter((c) => c.name.startsWith("bootstrap-"))
                    .map((c) => c.name);
            assert.deepEqual(names(auto), names(run));
        });

        it("a Shamir stack's steps have no seal variable at all (their environment is the one states hold)", () => {
            for (const c of run.all(COMMAND).filter((c) => c.name.startsWith("bootstrap-"))) {
                for (const name of SEAL_ENV) assert.equal(c.inputs.environment?.[name], undefined, `${c.name}: ${name}`);
            }
            assert.equal(JSON.parse(run.one(COMMAND, "bootstrap-roll").inputs.stdin).recoveryKeys, undefined);
            assert.equal(run.outputs.recoveryKeys, undefined, "no recoveryKeys output for Shamir");
        });

        it("the roll gets the recovery keys on stdin (kept with its backup); recoveryKeys is a secret output", () => {
            const roll = autoStep("roll");
            assert.ok(Array.isArray(JSON.parse(roll.inputs.stdin).recoveryKeys));
            assert.ok(roll.secretInputs.includes("stdin"));
            assert.equal(auto.outputs.recoveryKeys?.secret, true);
        });

        it("keys that came as unseal keys (a Shamir init, before the seal migration) are shown as recovery keys; the roll still gets them to migrate", () => {
            // The mocked init answers with unseal keys, as the init step does from a Shamir cluster's key file.
            assert.deepEqual(auto.outputs.recoveryKeys?.value, FAKE_KEYS.unsealKeys);
            assert.deepEqual(auto.outputs.unsealKeys?.value, []);
            const stdin = JSON.parse(autoStep("roll").inputs.stdin);
            assert.deepEqual(stdin.unsealKeys, FAKE_KEYS.unsealKeys, "a pod in migration mode is unsealed with the Shamir keys and migrate");
            assert.deepEqual(JSON.parse(autoStep("unseal-vault-0").inputs.stdin).unsealKeys, FAKE_KEYS.unsealKeys);
        });

        it("asRecoveryKeys: unseal keys become recovery keys; recovery keys Vault made stay", () => {
            const token = FAKE_KEYS.rootToken;
            assert.deepEqual(asRecoveryKeys({ unsealKeys: ["a", "b"], rootToken: token }), { unsealKeys: [], recoveryKeys: ["a", "b"], rootToken: token });
            assert.deepEqual(asRecoveryKeys({ unsealKeys: [], recoveryKeys: ["r"], rootToken: token }), {
                unsealKeys: [],
                recoveryKeys: ["r"],
                rootToken: token,
            });
            assert.deepEqual(asRecoveryKeys({ unsealKeys: ["a"], recoveryKeys: ["r"], rootToken: token }), {
                unsealKeys: [],
                recoveryKeys: ["r"],
                rootToken: token,
            });
        });
    });

    describe("a seal being retired (vault-ha:sealDisabled): the stack is Shamir-bound, the roll migrates off the seal", () => {
        let back: ProgramRun;
        before(async () => {
            const awskmsStanza = { region: "eu-west-1", kms_key_id: "alias/vault" };
            back = await runProgram(
                { cluster: "existing", kubeContext: "prod-eu", seal: "awskms", sealKey: "alias/vault", sealRegion: "eu-west-1", sealDisabled: "true" },
                [],
                { "pod-templates": { pods: [], seal: "awskms", sealStanza: awskmsStanza, storedSeal: "awskms", replicas: 3 } },
            );
        });
        const step = (id: string) => back.one(COMMAND, `bootstrap-${id}`);

        it("the roll, unseal and join get the seal it moves off and its description, the roll the key file; keys are sent as on Shamir", () => {
            const roll = step("roll").inputs.environment;
            assert.equal(roll.VAULT_HA_MIGRATE_FROM_SEAL, "awskms");
            assert.match(roll.VAULT_HA_SEAL_DESCRIPTION, /^AWS KMS key alias\/vault in eu-west-1/);
            assert.equal(roll.VAULT_HA_SEAL, undefined, "no auto seal: keys are sent");
            assert.ok(roll.VAULT_HA_KEY_FILE, "the key file the roll rewrites once migrated");
            // unseal and join may meet a pod in migration mode too (every pod sealed before the roll migrated).
            for (const id of ["unseal-vault-0", "join-vault-1"]) {
                assert.equal(step(id).inputs.environment.VAULT_HA_SEAL, undefined, id);
                assert.equal(step(id).inputs.environment.VAULT_HA_MIGRATE_FROM_SEAL, "awskms", id);
            }
            assert.equal(step("verify").inputs.environment.VAULT_HA_MIGRATE_FROM_SEAL, undefined, "verify sends no key");
            // init keeps its parameters: nothing to re-run while the seal is retired.
            assert.equal(step("init").inputs.environment.VAULT_HA_SEAL, "awskms");
        });

        it("asUnsealKeys: recovery keys are the unseal keys once the seal is retired; a Shamir init's keys are unchanged", () => {
            const token = FAKE_KEYS.rootToken;
            assert.deepEqual(asUnsealKeys({ unsealKeys: [], recoveryKeys: ["r1", "r2"], rootToken: token }), { unsealKeys: ["r1", "r2"], rootToken: token });
            assert.deepEqual(asUnsealKeys({ unsealKeys: ["u"], rootToken: token }), { unsealKeys: ["u"], rootToken: token });
            assert.equal(back.outputs.recoveryKeys, undefined, "no recoveryKeys output: the keys are unseal keys now");
            assert.deepEqual(JSON.parse(step("roll").inputs.stdin).unsealKeys, FAKE_KEYS.unsealKeys);
        });
    });
});
