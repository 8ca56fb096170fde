/**
 * VaultCluster (components/vault/vaultCluster.ts): the Vault release, what it waits for and what it does not.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "assert";
import { parseSettings } from "../../components/config/settings";
import { VAULT_IMAGE } from "../../components/config/versions";
import { VaultCluster, VaultClusterArgs } from "../../components/vault/vaultCluster";
import { vaultHelmValues } from "../../components/vault/vaultValues";
import { COMMAND, CR, dependsOn, ProgramRun, promiseOf, RELEASE, runProgram, runProgramOnce } from "../support/program";

describe("VaultCluster (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramOnce();
    });

    it("does not make Vault wait for ingress: the two install in parallel", () => {
        const vault = run.one(RELEASE, "vault-release");
        assert.ok(!vault.dependencies.includes(run.one(RELEASE, "ingress-nginx-release").urn));
    });

    it("starts Vault only after its certificate exists, and bootstraps after both", () => {
        const release = run.one(RELEASE, "vault-release");
        dependsOn(release, run.one(CR("Certificate"), "vault-tls-server-certificate"));
        dependsOn(run.one(COMMAND, "bootstrap-wait-pods"), release);
        assert.equal(release.inputs.values.global.tlsDisable, false);
    });

    it("installs Vault as release `vault`, pinned, with the values built for these settings, without waiting", () => {
        const vault = run.one(RELEASE, "vault-release");
        assert.equal(vault.inputs.name, "vault");
        assert.equal(vault.inputs.chart, "vault");
        assert.equal(vault.inputs.version, "0.34.1");
        assert.deepEqual(vault.inputs.repositoryOpts, { repo: "https://helm.releases.hashicorp.com" });
        assert.equal(vault.inputs.namespace, "vault");
        assert.equal(vault.inputs.skipAwait, true);
        assert.deepEqual(vault.inputs.values, vaultHelmValues(parseSettings({}).settings, { telemetry: true }));
    });
});

describe("VaultCluster: a changed pod template, seen before the release changes", () => {
    const running = (image: string, tls = true) => ({
        "pod-templates": { pods: ["vault-0", "vault-1", "vault-2"].map((pod) => ({ pod, image, tls })) },
    });

    it("names a change of metrics as the reason pods roll: pods made before telemetry (no annotation) and after it is turned off", async () => {
        const pods = (telemetry: string) => ({
            "pod-templates": { pods: ["vault-0", "vault-1", "vault-2"].map((pod) => ({ pod, image: "hashicorp/vault:2.0.4", tls: true, telemetry })) },
        });
        const on = await runProgram({}, [], pods(""));
        assert.ok(
            on.warnings.some((w) => /vault-0 \(metrics off -> prometheus\)/.test(w)),
            on.warnings.join("\n"),
        );
        const off = await runProgram({ telemetry: "false" }, [], pods("prometheus"));
        assert.ok(
            off.warnings.some((w) => /vault-0 \(metrics prometheus -> off\)/.test(w)),
            off.warnings.join("\n"),
        );
        const same = await runProgram({}, [], pods("prometheus"));
        assert.ok(!same.warnings.some((w) => /pods will be replaced/.test(w)), "nothing rolls when the pods have the metrics already");
    });

    it("names the pods the roll will replace and why, in the preview and the up", async () => {
        const run = await runProgram({ vaultImage: "hashicorp/vault:2.0.5" }, [], running("hashicorp/vault:2.0.4"));
        const notice = run.warnings.find((w) => /pods will be replaced one at a time/.test(w));
        assert.ok(notice, run.warnings.join("\n"));
        assert.match(notice, /vault-0 \(image hashicorp\/vault:2\.0\.4 -> hashicorp\/vault:2\.0\.5\); vault-1 .*; vault-2/);
        assert.deepEqual(run.one(RELEASE, "vault-release").inputs.values.server.image, { repository: "hashicorp/vault", tag: "2.0.5" });
    });

    it("says nothing when the pods run what the settings ask for", async () => {
        const run = await runProgram({}, [], running("hashicorp/vault:2.0.4"));
        assert.ok(!run.warnings.some((w) => /pods will be replaced/.test(w)), run.warnings.join("\n"));
    });

    it("refuses a Vault downgrade before the release is registered, naming the pod, both versions and the way back", async function () {
        // The check fails the Release's values, so the Release is never registered. Under the Pulumi CLI that
        // rejection reaches the runtime's unhandled-rejection handler (runtime/resource.js runAsyncResourceOp), which
        // logs a ResourceError's message and fails the program (cmd/run/run.js); here the test listens for it.
        const err = await refusal(/downgrade/, { vaultImage: "hashicorp/vault:2.0.3" }, running("hashicorp/vault:2.0.4"));
        assert.ok(pulumi.ResourceError.isInstance(err), "a ResourceError, which the runtime logs against the component");
        assert.match(err.message, /asks for Vault 2\.0\.3, but vault-0 runs 2\.0\.4: Vault does not support downgrades/);
        assert.equal((err as Error & { hideStack?: boolean }).hideStack, true, "the message, not a stack trace");
    });

    it("announces a Shamir -> auto seal migration in the preview and the up, naming the pods the roll migrates", async () => {
        const transit = { seal: "transit", sealKey: "vault-ha", sealTransitAddress: "https://transit.example.com:8200", sealTransitToken: "hvs.transit" };
        const run = await runProgram(transit, ["sealTransitToken"], {
            "pod-templates": { ...running("hashicorp/vault:2.0.4")["pod-templates"], seal: "shamir" },
        });
        const notice = run.warnings.find((w) => /^seal migration shamir -> transit/.test(w));
        assert.ok(notice, run.warnings.join("\n"));
        assert.match(notice, /a snapshot of Vault's data and its keys is taken first/);
        assert.match(notice, /replaces the pods \(vault-0, vault-1, vault-2\) one at a time, standbys first, the active node last after a step-down/);
        assert.match(notice, /each is unsealed with the unseal keys and -migrate/);
        assert.match(notice, /Afterwards the unseal keys are recovery keys/);
        assert.ok(run.one(RELEASE, "vault-release"), "the release goes ahead");
    });

    it("refuses a seal migration and a new replica count in one up: a pod joining while the others migrate could not be opened", async function () {
        const transit = { seal: "transit", sealKey: "vault-ha", sealTransitAddress: "https://transit.example.com:8200", sealTransitToken: "hvs.transit" };
        const answers = {
            "pod-templates": {
                ...running("hashicorp/vault:2.0.4")["pod-templates"],
                seal: "shamir",
                replicas: 3,
                claims: ["data-vault-0", "data-vault-1", "data-vault-2"],
            },
        };
        const err = await refusal(/in the same up as the seal migration/, { ...transit, vaultReplicas: "5", workers: "5" }, answers, ["sealTransitToken"]);
        assert.match(err.message, /vault-ha:vaultReplicas changes 3 -> 5 in the same up as the seal migration/);
        assert.match(err.message, /Nothing was changed\. Migrate first with the running count \(npm run config -- set vault-ha:vaultReplicas 3\)/);
        // The same count migrates.
        assert.ok((await runProgram(transit, ["sealTransitToken"], answers)).one(RELEASE, "vault-release"));
    });

    describe("the way back to Shamir (vault-ha:sealDisabled)", () => {
        const transit = { seal: "transit", sealKey: "vault-ha", sealTransitAddress: "https://transit.example.com:8200", sealTransitToken: "hvs.transit" };
        const runningTransit = (stanza: Record<string, string>, storedSeal?: string) => ({
            "pod-templates": {
                ...running("hashicorp/vault:2.0.4")["pod-templates"],
                seal: "transit",
                sealStanza: stanza,
                ...(storedSeal ? { storedSeal } : {}),
            },
        });
        const transitStanza = {
            address: "https://transit.example.com:8200",
            mount_path: "transit/",
            key_name: "vault-ha",
            tls_ca_cert: "/etc/ssl/certs/ca-certificates.crt",
        };
        const serverConfig = (run: Awaited<ReturnType<typeof runProgram>>) =>
            String(((run.one(RELEASE, "vault-release")!.inputs.values as any).server.ha.raft.config as string) ?? "");

        it("keeps the seal in the configuration, disabled, while storage holds it, and announces the migration and the second up", async () => {
            const run = await runProgram({ ...transit, sealDisabled: "true" }, ["sealTransitToken"], runningTransit(transitStanza, "transit"));
            assert.match(serverConfig(run), /seal "transit" \{[^}]*disabled\s+= "true"/);
            const notice = run.warnings.find((w) => /^seal migration transit -> shamir/.test(w));
            assert.ok(notice, run.warnings.join("\n"));
            assert.match(notice, /each is unsealed with the recovery keys and -migrate/);
            assert.match(notice, /Then run up once more: it takes the disabled seal out of the configuration/);
            // The transit token stays where the pods read it from until the seal has left their configuration.
            assert.ok(run.one("kubernetes:core/v1:Secret", "vault-seal"), "the seal's Secret stays");
        });

        it("once storage holds Shamir, renders Vault's configuration without any seal, and says which settings can go", async () => {
            const disabled = { ...transitStanza, disabled: "true" };
            const run = await runProgram({ ...transit, sealDisabled: "true" }, ["sealTransitToken"], runningTransit(disabled, "shamir"));
            const values = run.one(RELEASE, "vault-release")!.inputs.values as Record<string, unknown>;
            assert.doesNotMatch(serverConfig(run), /seal "/);
            assert.equal(JSON.stringify(values).includes("vault-ha.dev/seal"), false, "no seal annotation: the pods roll onto plain Shamir");
            assert.ok(
                run.warnings.some((w) => /Vault's storage holds the Shamir seal: the disabled transit seal leaves its configuration/.test(w)),
                run.warnings.join("\n"),
            );
            assert.ok(run.warnings.some((w) => /remove the transit seal's settings: npm run config -- rm vault-ha:seal/.test(w)));
            // The settings removed: the same values, nothing more to do.
            const after = await runProgram({}, [], runningTransit(disabled, "shamir"));
            assert.deepEqual(after.one(RELEASE, "vault-release")!.inputs.values, values);
        });

        it("refuses to leave a migration half-way, and sealDisabled on a first install", async function () {
            const half = await refusal(/part-way through a migration/, {}, runningTransit({ ...transitStanza, disabled: "true" }, "transit"));
            assert.match(
                half.message,
                /Finish the migration first: npm run config -- set vault-ha:seal transit && npm run config -- set vault-ha:sealDisabled true/,
            );
            const first = await refusal(/no running Vault to move off/, { ...transit, sealDisabled: "true" }, { "pod-templates": { pods: [] } }, [
                "sealTransitToken",
            ]);
            assert.match(first.message, /npm run config -- rm vault-ha:sealDisabled/);
        });
    });

    it("refuses any other change of seal on a running release before it is registered, with the safe sequence by hand", async function () {
        const back = await refusal(/seal migration/, {}, { "pod-templates": { ...running("hashicorp/vault:2.0.4")["pod-templates"], seal: "transit" } });
        assert.ok(pulumi.ResourceError.isInstance(back));
        assert.match(back.message, /vault-ha:seal is shamir, but the running Vault opens itself with the transit seal/);
        assert.match(back.message, /needs the transit seal in the configuration, disabled, while it runs\. Nothing was changed\./);
        assert.match(back.message, /npm run config -- set vault-ha:seal transit && npm run config -- set vault-ha:sealDisabled true, then run up/);
        assert.match(back.message, /https:\/\/developer\.hashicorp\.com\/vault\/docs\/concepts\/seal#seal-migration/);
        const gcpOnTransit = {
            cluster: "existing",
            kubeContext: "prod-eu",
            seal: "gcpckms",
            sealKey: "projects/my-project/locations/global/keyRings/vault/cryptoKeys/unseal",
        };
        const across = await refusal(/seal migration/, gcpOnTransit, { "pod-templates": { pods: [], seal: "transit" } });
        assert.match(across.message, /vault-ha:seal is gcpckms, but the running Vault was configured with the transit seal/);
        // Another key for the same seal: the data stays encrypted by the running one.
        const gcp = {
            cluster: "existing",
            kubeContext: "prod-eu",
            seal: "gcpckms",
            sealKey: "projects/my-project/locations/global/keyRings/vault/cryptoKeys/other",
        };
        const runningStanza = { project: "my-project", region: "global", key_ring: "vault", crypto_key: "unseal" };
        const keyChange = await refusal(/seal's key would change/, gcp, {
            "pod-templates": { pods: [], seal: "gcpckms", sealStanza: runningStanza },
        });
        assert.match(keyChange.message, /the gcpckms seal's key would change \(crypto_key unseal -> other\)/);
        // The same seal, or a first install (no ConfigMap yet), goes ahead.
        await runProgram({}, [], { "pod-templates": { pods: [], seal: "shamir" } });
        await runProgram({}, [], { "pod-templates": { pods: [] } });
    });

    it("refuses a change to the raft volumes' size before the release is registered: Kubernetes would refuse it half-way", async function () {
        const answers = { "pod-templates": { ...running("hashicorp/vault:2.0.4")["pod-templates"], dataClaim: { storage: "10Gi" } } };
        const err = await refusal(/volume claims change/, { raftStorageSize: "20Gi" }, answers);
        assert.ok(pulumi.ResourceError.isInstance(err));
        assert.match(
            err.message,
            /vault-ha:raftStorageSize 20Gi \(the volumes were made with 10Gi\): Kubernetes does not let a running StatefulSet's volume claims change/,
        );
        assert.match(
            err.message,
            /npm run config -- set vault-ha:raftStorageSize 10Gi\), or move the data to new volumes: npm run snapshot, pulumi destroy, pulumi up, npm run restore/,
        );
    });

    /** The ResourceError a refused program run rejects with (see the downgrade test for how it surfaces). */
    function refusal(match: RegExp, config: Record<string, string>, answers: Record<string, unknown>, secretKeys: string[] = []): Promise<Error> {
        const refused = new Promise<Error>((resolve) => {
            const listener = (reason: unknown) => {
                const err = reason as Error;
                if (!match.test(String(err?.message))) return;
                process.off("unhandledRejection", listener);
                resolve(err);
            };
            process.prependListener("unhandledRejection", listener);
        });
        runProgram(config, secretKeys, answers).catch(() => undefined);
        return refused;
    }
    const runningReplicas = (replicas: number) => ({
        "pod-templates": {
            pods: Array.from({ length: replicas }, (_, i) => ({ pod: `vault-${i}`, image: VAULT_IMAGE, tls: true })),
            dataClaim: { storage: "10Gi" },
            replicas,
        },
    });

    it("refuses a scale-down the raft quorum would not survive (3 -> 1), with the steps that are safe, before the release", async () => {
        const err = await refusal(/would delete vault-1, vault-2 at once/, { vaultReplicas: "1" }, runningReplicas(3));
        assert.ok(pulumi.ResourceError.isInstance(err));
        assert.match(err.message, /leaving 1 of 3 raft voters: fewer than the 2 a quorum needs/);
        assert.match(err.message, /npm run config -- set vault-ha:vaultReplicas 2 && pulumi up; 2 -> 1 cannot keep a quorum in place: npm run snapshot/);
    });

    it("announces a scale-down the quorum survives (5 -> 3): which pods go, and that their peers and volumes are removed after", async () => {
        const run = await runProgram({}, [], runningReplicas(5));
        const notice = run.warnings.find((w) => /vaultReplicas 5 -> 3/.test(w));
        assert.ok(notice, run.warnings.join("\n"));
        assert.match(notice, /deletes vault-3, vault-4 together; 3 of the 5 raft voters stay/);
        assert.match(notice, /verify removes their raft peers and then deletes their raft volumes \(data-vault-3, data-vault-4\)/);
        assert.equal(run.one(RELEASE, "vault-release").inputs.values.server.ha.replicas, 3);
    });

    it("says nothing about scaling when the replica count is the running one", async () => {
        const run = await runProgram({}, [], runningReplicas(3));
        assert.ok(!run.warnings.some((w) => /vaultReplicas/.test(w)), run.warnings.join("\n"));
    });

    it("takes the running claims as unchanged when they are the same amount in another unit", async () => {
        const answers = { "pod-templates": { ...running("hashicorp/vault:2.0.4")["pod-templates"], dataClaim: { storage: "10Gi" } } };
        const run = await runProgram({ raftStorageSize: "10240Mi" }, [], answers);
        assert.equal(run.all(RELEASE).filter((r) => r.name === "vault-release").length, 1);
    });
});

describe("VaultCluster: the options for a cluster that is not kind, on the component itself", () => {
    /** A VaultCluster under Pulumi's own mocks: the values its Release gets (kind's Service type unless an option says). */
    async function releaseValues(options: Partial<VaultClusterArgs>): Promise<{ values: Record<string, unknown>; podTemplate: string }> {
        const releases: Record<string, unknown>[] = [];
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    if (args.type === RELEASE) releases.push(args.inputs);
                    return { id: `${args.name}-id`, state: args.inputs };
                },
                call: (args) => (args.token === "command:local:run" ? { ...args.inputs, stdout: JSON.stringify({ pods: [] }), stderr: "" } : args.inputs),
            },
            "vault-ha",
            "dev",
            false,
        );
        const cluster = new VaultCluster("vault", {
            namespace: "vault",
            chartVersion: "0.34.1",
            replicas: 3,
            uiNodePort: 30000,
            raftStorageSize: "10Gi",
            tls: true,
            vaultImage: VAULT_IMAGE,
            kubeconfig: "kubeconfig",
            nodeAddress: "localhost",
            ...options,
            serviceType: options.serviceType ?? "NodePort",
        });
        await promiseOf(cluster.release.urn);
        assert.equal(releases.length, 1);
        return { values: releases[0].values as Record<string, unknown>, podTemplate: await promiseOf(cluster.podTemplate) };
    }
    const settings = { vaultReplicas: 3, uiNodePort: 30000, raftStorageSize: "10Gi", tls: true, vaultImage: VAULT_IMAGE };

    it("without them, the release gets a kind stack's values, and the pods' template is unchanged", async () => {
        const { values, podTemplate } = await releaseValues({});
        assert.deepEqual(values, vaultHelmValues(settings));
        assert.equal(podTemplate, "image hashicorp/vault:2.0.4, TLS on, chart 0.34.1, values 0de5de4f4760");
    });

    it("with them, the release gets the values built with them, and the roll step sees a new template", async () => {
        const options = {
            serviceType: "LoadBalancer",
            storageClass: "gp3",
            resources: { cpu: "250m", memory: "256Mi" },
            antiAffinity: "preferred",
        } as const;
        const { values, podTemplate } = await releaseValues(options);
        assert.deepEqual(values, vaultHelmValues(settings, options));
        assert.equal((values as any).ui.serviceType, "LoadBalancer");
        assert.notEqual(podTemplate, "image hashicorp/vault:2.0.4, TLS on, chart 0.34.1, values 0de5de4f4760");
    });
});
