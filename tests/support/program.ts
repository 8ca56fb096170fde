/**
 * Runs index.ts under Pulumi mocks and records every resource registration with the options the engine would see
 * (parent, dependencies, provider, deletedWith, additionalSecretOutputs, ...), which the SDK's mocks do not expose.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { kindCommandStdout, kindNodesAnswer, shapeRecordStdout } from "./kindWorld";
import { KUBECONFIG_SCRIPT } from "../../components/cluster/kubeconfig";
import type { ClusterFacts } from "../../components/stepCommand/contract";

/* eslint-disable @typescript-eslint/no-require-imports */
const runtimeSettings = require("@pulumi/pulumi/runtime/settings");
const runtimeState = require("@pulumi/pulumi/runtime/state");
/* eslint-enable @typescript-eslint/no-require-imports */

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export const FAKE_KEYS = {
    unsealKeys: ["a2V5LW9uZS1vbmUtb25lLW9uZQ==", "a2V5LXR3by10d28tdHdvLXR3bw==", "a2V5LXRocmVlLXRocmVlLXRocmVl"],
    rootToken: "hvs.FAKE-ROOT-TOKEN-FOR-MOCKS",
};
export const FAKE_CA = "-----BEGIN CERTIFICATE-----\nTUlJQmZha2VDQQ==\n-----END CERTIFICATE-----\n";
export const FAKE_PASSWORD = "FAKE-RANDOM-PASSWORD-0123456789";
export const FAKE_IDENTITIES: Record<string, string> = { "vault-0": "pod 00000000-0000 started 2026-11-28T04:00:00Z" };

/** Type tokens the program-graph tests (tests/program/) look registrations up by. */
export const RELEASE = "kubernetes:helm.sh/v3:Release";
export const COMMAND = "command:local:Command";
export const PROVIDER = "pulumi:providers:kubernetes";
/** The type token of a cert-manager custom resource (ClusterIssuer, Certificate). */
export const CR = (kind: string) => `kubernetes:cert-manager.io/v1:${kind}`;

/** Asserts that `r` waits for `on` directly (it is in r's own dependencies). */
export const dependsOn = (r: Registration, on: Registration) => assert.ok(r.dependencies.includes(on.urn), `${r.name} depends on ${on.name}`);

/** What `kubectl config view --minify --flatten --context prod-eu` prints for an existing cluster (mocks). */
export const FAKE_EXISTING_KUBECONFIG = [
    "apiVersion: v1",
    "kind: Config",
    "current-context: prod-eu",
    "contexts:",
    "- name: prod-eu",
    "  context: {cluster: prod-eu-cluster, user: prod-eu-admin}",
    "clusters:",
    "- name: prod-eu-cluster",
    "  cluster: {server: 'https://203.0.113.5:6443', certificate-authority-data: RkFLRS1DQQ==}",
    "users:",
    "- name: prod-eu-admin",
    "  user: {token: FAKE-EXISTING-CLUSTER-TOKEN}",
    "",
].join("\n");

/** The load balancer address the vault-address step reports under mocks. */
export const FAKE_LB_ADDRESS = "203.0.113.20";

/** What cluster-facts reports by default for an existing cluster: 3 nodes, a default StorageClass, no cert-manager. */
export const FAKE_FACTS: ClusterFacts = {
    schedulableNodes: 3,
    nodeAddress: "198.51.100.7",
    storageClasses: [{ name: "gp3", isDefault: true }],
    certManager: { crds: false, webhookReady: false },
    unreadable: [],
};

export const FAKE_KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- name: kind-vault\n  user:\n    client-key-data: RkFLRS1LRVk=\n";

export interface Registration {
    type: string;
    name: string;
    urn: string;
    custom: boolean;
    /** A component whose children a provider registers (Construct), not this program: they never appear here. */
    remote: boolean;
    /** Earlier identities (aliases), each as a URN or as the spec the engine turns into one. */
    aliases: AliasRecord[];
    /** Inputs with secrets unwrapped. */
    inputs: Record<string, any>;
    /** Top-level input names whose value arrived as a secret. */
    secretInputs: string[];
    parent: string;
    dependencies: string[];
    provider: string;
    /** Providers handed to a component for its children, by package. */
    providers: Record<string, string>;
    deletedWith: string;
    additionalSecretOutputs: string[];
    deleteBeforeReplace: boolean;
    retainOnDelete: boolean;
    ignoreChanges: string[];
    customTimeouts?: { create: string; update: string; delete: string };
}

export interface AliasRecord {
    urn?: string;
    name?: string;
    type?: string;
    parentUrn?: string;
    noParent?: boolean;
}

export interface Invoke {
    token: string;
    inputs: Record<string, any>;
}

export interface ProgramRun {
    registrations: Registration[];
    invokes: Invoke[];
    outputs: Record<string, { value: unknown; secret: boolean }>;
    warnings: string[];
    /** The one registration of that type (and name, if given); throws when there is not exactly one. */
    one(type: string, name?: string): Registration;
    all(type: string): Registration[];
    byUrn(urn: string): Registration;
}

function unwrapSecrets(value: any): { value: any; secret: boolean } {
    if (value && typeof value === "object" && !Array.isArray(value)) {
        if (value[SECRET_SIG] !== undefined) return { value: unwrapSecrets(value.value).value, secret: true };
        const out: Record<string, any> = {};
        let secret = false;
        for (const [k, v] of Object.entries(value)) {
            const u = unwrapSecrets(v);
            out[k] = u.value;
            secret ||= u.secret;
        }
        return { value: out, secret };
    }
    if (Array.isArray(value)) {
        const items = value.map(unwrapSecrets);
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    return { value, secret: false };
}

/** Outputs the mocks hand back for each resource type, beyond echoing the inputs. */
function mockState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    switch (type) {
        case "command:local:Command": {
            const step = /cli\.ts (\S+)$/.exec(inputs.create ?? "")?.[1];
            const stdout =
                step === "init"
                    ? JSON.stringify({ ...FAKE_KEYS, source: "vault-init" })
                    : step === "verify"
                      ? JSON.stringify({ peers: [{ node_id: "vault-0", address: "vault-0.vault-internal:8201", leader: true, voter: true }] })
                      : step === "read-ca"
                        ? JSON.stringify({ caCert: FAKE_CA })
                        : step === "kv-proof"
                          ? JSON.stringify({ path: "mysecret/logins/study", version: 1 })
                          : step === "vault-address"
                            ? JSON.stringify({ address: FAKE_LB_ADDRESS })
                            : step
                              ? JSON.stringify({ ok: true })
                              : name.endsWith("-cluster")
                                ? (kindCommandStdout() ?? FAKE_KUBECONFIG)
                                : (shapeRecordStdout(name, inputs) ?? "");
            return { ...inputs, stdout, stderr: "" };
        }
        case "random:index/randomPassword:RandomPassword":
            return { ...inputs, result: FAKE_PASSWORD };
        case "kubernetes:helm.sh/v3:Release":
            return { ...inputs, status: { name: inputs.name, namespace: inputs.namespace, status: "deployed", revision: 1 } };
        default:
            return inputs;
    }
}

/** What the latest runProgram has recorded so far, also while it waits on a program that failed (kindWorld.ts). */
export let current: Pick<ProgramRun, "registrations" | "warnings" | "invokes"> = { registrations: [], warnings: [], invokes: [] };

/** Runs index.ts with this stack config; keys listed in `secretKeys` are marked secret, as `config set --secret` does. */
export function runProgram(config: Record<string, string> = {}, secretKeys: string[] = [], invokeAnswers: Record<string, unknown> = {}): Promise<ProgramRun> {
    return runWith(config, secretKeys, invokeAnswers, () => {
        const entry = path.resolve(__dirname, "../../index.ts");
        delete require.cache[require.resolve(entry)];
        return require(entry); // eslint-disable-line @typescript-eslint/no-require-imports
    });
}

/**
 * Runs `build` instead of index.ts, under the same mocks and recording: a component's graph in one mode, with the
 * arguments the program would pass in that mode. What `build` returns is recorded as the outputs. Queued behind
 * runProgramOnce's runs (the mocks are global).
 */
export function runComponents(build: () => Record<string, unknown>, config: Record<string, string> = {}): Promise<ProgramRun> {
    const run = runQueue.then(() => runWith(config, [], {}, build));
    runQueue = run.catch(() => undefined);
    return run;
}

async function runWith(
    config: Record<string, string>,
    secretKeys: string[],
    invokeAnswers: Record<string, unknown>,
    load: () => Record<string, unknown>,
): Promise<ProgramRun> {
    const registrations: Registration[] = [];
    const warnings: string[] = [];
    const invokes: Invoke[] = [];
    current = { registrations, warnings, invokes };

    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({ id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) }),
            call: (args) => {
                invokes.push({ token: args.token, inputs: args.inputs });
                if (args.token !== "command:local:run") return args.inputs;
                const kindNodes = kindNodesAnswer(args.inputs);
                if (kindNodes !== undefined) return { ...args.inputs, stdout: kindNodes, stderr: "" };
                // An existing cluster's one-context kubeconfig (components/cluster/kubeconfig.ts).
                if (args.inputs.command === KUBECONFIG_SCRIPT) {
                    const kubeconfig = "kubeconfig" in invokeAnswers ? invokeAnswers.kubeconfig : FAKE_EXISTING_KUBECONFIG;
                    if (kubeconfig instanceof Error) throw kubeconfig;
                    return { ...args.inputs, stdout: kubeconfig, stderr: "" };
                }
                // Each invoke's answer by the step it runs: the pods' identities, or what the running pods were made from.
                const step = /cli\.ts (\S+)$/.exec(args.inputs.command ?? "")?.[1] ?? "";
                const defaults: Record<string, unknown> = { "pod-templates": { pods: [] }, "cluster-facts": FAKE_FACTS, "front-door-facts": { holders: [] } };
                const answer = step in invokeAnswers ? invokeAnswers[step] : step in defaults ? defaults[step] : FAKE_IDENTITIES;
                return { ...args.inputs, stdout: JSON.stringify(answer), stderr: "" };
            },
        },
        "vault-ha",
        "dev",
        false,
    );

    const monitor = runtimeState.getStore().settings.monitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        const raw = require("@pulumi/pulumi/runtime/rpc").deserializeProperties(req.getObject()); // eslint-disable-line @typescript-eslint/no-require-imports
        const inputs: Record<string, any> = {};
        const secretInputs: string[] = [];
        for (const [k, v] of Object.entries(raw)) {
            const u = unwrapSecrets(v);
            inputs[k] = u.value;
            if (u.secret) secretInputs.push(k);
        }
        const timeouts = req.getCustomtimeouts();
        const rec: Registration = {
            type: req.getType(),
            name: req.getName(),
            urn: "",
            custom: req.getCustom(),
            remote: req.getRemote(),
            aliases: req.getAliasesList().map((a: any): AliasRecord => {
                const spec = a.getSpec();
                if (!spec) return { urn: a.getUrn() };
                return {
                    name: spec.getName() || undefined,
                    type: spec.getType() || undefined,
                    parentUrn: spec.getParenturn() || undefined,
                    noParent: spec.getNoparent() || undefined,
                };
            }),
            inputs,
            secretInputs,
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
            provider: req.getProvider(),
            providers: Object.fromEntries(req.getProvidersMap().toArray()),
            deletedWith: req.getDeletedwith(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            deleteBeforeReplace: req.getDeletebeforereplace(),
            retainOnDelete: req.getRetainondelete(),
            ignoreChanges: req.getIgnorechangesList(),
            customTimeouts: timeouts ? { create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() } : undefined,
        };
        registrations.push(rec);
        register(req, (err: unknown, resp: any) => {
            if (resp) rec.urn = resp.getUrn();
            callback(err, resp);
        });
    };

    const log = pulumi.log.warn;
    (pulumi.log as any).warn = (msg: string) => {
        warnings.push(msg);
    };
    try {
        pulumi.runtime.setAllConfig(
            Object.fromEntries(Object.entries(config).map(([k, v]) => [`vault-ha:${k}`, v])),
            secretKeys.map((k) => `vault-ha:${k}`),
        );
        let program: Record<string, unknown>;
        try {
            // index.ts exports its main function, as the Pulumi Node.js host expects (it awaits it for the outputs).
            const loaded: unknown = load();
            program = typeof loaded === "function" ? await (loaded as () => Promise<Record<string, unknown>>)() : (loaded as Record<string, unknown>);
        } catch (err) {
            await runtimeSettings.waitForRPCs();
            // Lets tests assert what (if anything) was registered before the program failed.
            throw Object.assign(err as Error, { registrations });
        }

        const outputs: ProgramRun["outputs"] = {};
        for (const [key, value] of Object.entries(program)) {
            if (pulumi.Output.isInstance(value)) {
                outputs[key] = { value: await promiseOf(value), secret: await pulumi.isSecret(value) };
            } else if (value !== undefined) {
                outputs[key] = { value, secret: false };
            }
        }
        await runtimeSettings.waitForRPCs();

        const all = (type: string) => registrations.filter((r) => r.type === type);
        return {
            registrations,
            invokes,
            outputs,
            warnings,
            all,
            one(type, name) {
                const found = all(type).filter((r) => name === undefined || r.name === name);
                if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
                return found[0];
            },
            byUrn(urn) {
                const found = registrations.find((r) => r.urn === urn);
                if (!found) throw new Error(`no registration with URN ${urn}`);
                return found;
            },
        };
    } finally {
        (pulumi.log as any).warn = log;
    }
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** The provider reference format is "<urn>::<id>". */
export function providerUrn(ref: string): string {
    return ref.split("::").slice(0, -1).join("::");
}

const onceRuns = new Map<string, Promise<ProgramRun>>();
let runQueue: Promise<unknown> = Promise.resolve();

/**
 * runProgram, once per configuration within a test process, for suites that only read what the program registers
 * (the program-graph tests, one file per component, and the chart and CRD tests share these runs). Runs never overlap:
 * the mocks are global. Treat the result as read-only.
 */
export function runProgramOnce(config: Record<string, string> = {}): Promise<ProgramRun> {
    const key = JSON.stringify(Object.entries(config).sort());
    let run = onceRuns.get(key);
    if (!run) {
        run = runQueue.then(() => runProgram(config));
        runQueue = run.catch(() => undefined);
        onceRuns.set(key, run);
    }
    return run;
}

/**
 * A registration as the engine keeps it in the state, without what the mocks record for the tests' own sake: what the
 * golden tests (tests/program/stackGolden*.test.ts) compare.
 */
export function registrationState(r: Registration) {
    return {
        urn: r.urn,
        custom: r.custom,
        parent: r.parent,
        provider: r.provider,
        providers: r.providers,
        deletedWith: r.deletedWith,
        dependencies: [...r.dependencies].sort(),
        aliases: r.aliases,
        secretInputs: [...r.secretInputs].sort(),
        additionalSecretOutputs: r.additionalSecretOutputs,
        deleteBeforeReplace: r.deleteBeforeReplace,
        retainOnDelete: r.retainOnDelete,
        ignoreChanges: r.ignoreChanges,
        customTimeouts: r.customTimeouts,
        inputs: r.inputs,
    };
}
