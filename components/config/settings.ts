/**
 * vault-ha's configuration: one typed, validated object built from Pulumi config before any resource exists.
 *
 * Every key is declared in Pulumi.yaml with the same default as DEFAULTS below (a test keeps them equal): the Pulumi
 * CLI applies Pulumi.yaml defaults, but the SDK under test mocks and `npm run render` do not, so the code holds them too.
 */
import { z } from "zod";
import type { VaultKeys } from "../steps/contract";
import { CERT_MANAGER_CHART, INGRESS_NGINX_CHART, KIND_NODE_IMAGE, VAULT_CHART } from "./versions";

export const PROJECT = "vault-ha";

export const DEFAULTS = {
    clusterName: "vault",
    kindNodeImage: KIND_NODE_IMAGE,
    workers: 3,
    ingressHttpPort: 80,
    ingressHttpsPort: 443,
    nodePorts: [30000, 30001],
    vaultNamespace: "vault",
    vaultChartVersion: VAULT_CHART.version,
    vaultReplicas: 3,
    uiNodePort: 30000,
    raftStorageSize: "10Gi",
    keyShares: 5,
    keyThreshold: 3,
    ingressNginxNamespace: "ingress-nginx",
    ingressNginxChartVersion: INGRESS_NGINX_CHART.version,
    whoami: true,
    whoamiNamespace: "whoami",
    tls: true,
    ingressHost: "vault.localhost",
    certManagerNamespace: "cert-manager",
    certManagerChartVersion: CERT_MANAGER_CHART.version,
    kvMount: "mysecret",
};

export type SettingName = keyof typeof DEFAULTS;
export const SETTING_NAMES = Object.keys(DEFAULTS) as SettingName[];

/**
 * Optional secrets that hand vault-ha the keys of an already initialised Vault (adoption). They are not declared in
 * Pulumi.yaml: the CLI treats a declared key without a default as required, and these must stay optional.
 */
export const ADOPTION_SETTINGS = ["unsealKeys", "rootToken"] as const;

/** Kubernetes' default NodePort range; kind does not change it. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/**
 * What a user may type for each setting, shown in the fix line of an error: the default, except where a template
 * or another example helps more.
 */
const HINTS: Record<SettingName, string> = {
    ...(Object.fromEntries(SETTING_NAMES.map((name) => [name, String(DEFAULTS[name])])) as Record<SettingName, string>),
    kindNodeImage: "kindest/node:<version>@sha256:<digest from your kind release's notes>",
    // The defaults need root on some systems: the example is the usual unprivileged alternative.
    ingressHttpPort: "8080",
    ingressHttpsPort: "8443",
    nodePorts: "--path 'nodePorts[0]' 30000",
};

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KV_MOUNT = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const SEMVER = /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;
const PINNED_IMAGE = /^[^\s@]+:[^\s@:/]+@sha256:[0-9a-f]{64}$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

const wholeNumber = (min: number, max: number) =>
    z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

const hostPort = wholeNumber(1, 65535);

const dnsLabel = (maxLength: number, why: string) =>
    z
        .string()
        .min(1, "must not be empty")
        .max(maxLength, `must be at most ${maxLength} characters (${why})`)
        .regex(DNS1123_LABEL, "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit");

const chartVersion = z
    .string()
    .trim()
    .min(1, "must not be empty: an unpinned chart installs whatever is newest that day")
    .regex(SEMVER, "must be an exact chart version such as 1.2.3");

const bool = z.preprocess(
    (v) => (typeof v === "string" ? v.trim().toLowerCase() : v),
    z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")], { error: "must be true or false" }),
);

const jsonArray = <T extends z.ZodType>(inner: T) =>
    z.preprocess(
        (v) => {
            if (typeof v !== "string") return v;
            try {
                return JSON.parse(v);
            } catch {
                return v;
            }
        },
        z.array(inner, { error: "must be a list, e.g. [30000, 30001]" }),
    );

const schema = z
    .object({
        // A node is a container named <cluster>-control-plane whose hostname must fit in 63 characters.
        clusterName: dnsLabel(49, "kind appends '-control-plane' to form a 63-character host name"),
        kindNodeImage: z
            .string()
            .trim()
            .regex(
                PINNED_IMAGE,
                "must be pinned by digest (<image>:<tag>@sha256:<64 hex>), as kind requires: a node image only works with the kind release that built it",
            ),
        workers: wholeNumber(1, 20),
        ingressHttpPort: hostPort,
        ingressHttpsPort: hostPort,
        nodePorts: jsonArray(wholeNumber(NODE_PORT_RANGE.min, NODE_PORT_RANGE.max)).refine(
            (ports) => new Set(ports).size === ports.length,
            "must not list a port twice",
        ),
        vaultNamespace: dnsLabel(63, "a Kubernetes namespace name"),
        vaultChartVersion: chartVersion,
        vaultReplicas: wholeNumber(1, 20),
        uiNodePort: wholeNumber(NODE_PORT_RANGE.min, NODE_PORT_RANGE.max),
        raftStorageSize: z.string().trim().regex(QUANTITY, "must be a Kubernetes quantity such as 10Gi"),
        // Vault's Shamir split supports at most 255 shares.
        keyShares: wholeNumber(1, 255),
        keyThreshold: wholeNumber(1, 255),
        ingressNginxNamespace: dnsLabel(63, "a Kubernetes namespace name"),
        ingressNginxChartVersion: chartVersion,
        whoami: bool,
        whoamiNamespace: dnsLabel(63, "a Kubernetes namespace name"),
        tls: bool,
        ingressHost: z
            .string()
            .trim()
            .max(253, "must be at most 253 characters")
            .regex(DNS1123_SUBDOMAIN, "must be a lower-case DNS name such as vault.localhost"),
        certManagerNamespace: dnsLabel(63, "a Kubernetes namespace name"),
        certManagerChartVersion: chartVersion,
        kvMount: z.string().trim().regex(KV_MOUNT, "must be a Vault mount path without slashes, such as mysecret"),
    })
    .superRefine((s, ctx) => {
        const fail = (path: SettingName, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
        if (s.keyThreshold > s.keyShares) {
            fail("keyThreshold", `must not exceed keyShares (${s.keyShares}): Vault cannot require more keys than it creates`);
        } else if (s.keyShares > 1 && s.keyThreshold < 2) {
            fail("keyThreshold", "must be at least 2 when keyShares is more than 1: Vault refuses a threshold of 1 for several shares");
        }
        if (s.vaultReplicas > s.workers) {
            fail("vaultReplicas", `must not exceed workers (${s.workers}): the Vault chart allows one Vault pod per node, so extra pods would stay Pending`);
        }
        if (!s.nodePorts.includes(s.uiNodePort)) {
            fail("uiNodePort", `must be one of nodePorts ${JSON.stringify(s.nodePorts)}: only those are mapped from the control-plane node to localhost`);
        }
        if (s.ingressHttpPort === s.ingressHttpsPort) {
            fail("ingressHttpsPort", `must differ from ingressHttpPort (${s.ingressHttpPort})`);
        }
        for (const port of [s.ingressHttpPort, s.ingressHttpsPort]) {
            if (s.nodePorts.includes(port)) {
                fail("nodePorts", `must not include ${port}, which is already an ingress host port`);
            }
        }
    });

export type Settings = z.infer<typeof schema>;

export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`${PROJECT}: invalid configuration; nothing was created.\n` + problems.map((p) => `  - ${p}`).join("\n"));
        this.name = "ConfigError";
    }
}

export interface ParsedSettings {
    settings: Settings;
    /** Allowed but unwise choices; the program logs them as warnings. */
    warnings: string[];
}

/**
 * Raw config as Pulumi stores it: each value a string (lists as JSON), absent keys undefined.
 * Throws ConfigError naming every bad setting with its fix; returns the typed settings otherwise.
 */
export function parseSettings(raw: Partial<Record<string, string>>): ParsedSettings {
    const problems: string[] = [];
    const known: string[] = [...SETTING_NAMES, ...ADOPTION_SETTINGS];
    const unknown = Object.keys(raw).filter((k) => !known.includes(k));
    for (const key of unknown) {
        const near = known.find((name) => name.toLowerCase() === key.toLowerCase());
        problems.push(
            `${PROJECT}:${key} is not a setting of ${PROJECT}` +
                (near
                    ? `; did you mean ${near}? Fix: pulumi config rm ${PROJECT}:${key} && pulumi config set ${PROJECT}:${near} <value>`
                    : `. Fix: pulumi config rm ${PROJECT}:${key}`),
        );
    }

    const input: Record<string, unknown> = {};
    for (const name of SETTING_NAMES) {
        input[name] = raw[name] === undefined ? DEFAULTS[name] : raw[name];
    }
    const result = schema.safeParse(input);
    if (!result.success) {
        for (const issue of result.error.issues) {
            const name = issue.path[0] as SettingName;
            const given = raw[name] === undefined ? `${JSON.stringify(DEFAULTS[name])} (default)` : JSON.stringify(raw[name]);
            problems.push(
                `${PROJECT}:${name} = ${given}: ${issue.message}. ` +
                    `Fix: pulumi config set ${PROJECT}:${name} ${HINTS[name]}` +
                    (raw[name] === undefined ? "" : `, or pulumi config rm ${PROJECT}:${name} for the default (${JSON.stringify(DEFAULTS[name])})`),
            );
        }
    }
    if (problems.length > 0 || !result.success) {
        throw new ConfigError(problems);
    }

    const settings = result.data;
    const warnings: string[] = [];
    if (settings.vaultReplicas % 2 === 0) {
        warnings.push(
            `${PROJECT}:vaultReplicas = ${settings.vaultReplicas}: an even raft cluster tolerates no more failures than ` +
                `${settings.vaultReplicas - 1} nodes do (quorum is ${settings.vaultReplicas / 2 + 1}); prefer an odd number`,
        );
    }
    return { settings, warnings };
}

/** The keys of an already initialised Vault, handed in through config. */
export type AdoptedKeys = VaultKeys;

/**
 * Validates vault-ha:unsealKeys (a JSON list of base64 key shares) and vault-ha:rootToken, set together or not at
 * all. Messages never repeat the values: they are secrets.
 */
export function parseAdoption(raw: Partial<Record<string, string>>, keyThreshold: number): AdoptedKeys | undefined {
    const keys = raw.unsealKeys;
    const token = raw.rootToken?.trim();
    if (keys === undefined && !token) return undefined;
    const fixKeys = `Fix: pulumi config set --secret ${PROJECT}:unsealKeys '["<key 1>","<key 2>","<key 3>"]'`;
    const problems: string[] = [];
    let list: unknown;
    try {
        list = keys === undefined ? undefined : JSON.parse(keys);
    } catch {
        list = null;
    }
    if (keys === undefined) {
        problems.push(`${PROJECT}:rootToken is set but ${PROJECT}:unsealKeys is not: adopting a Vault needs both. ${fixKeys}`);
    } else if (!Array.isArray(list) || !list.every((k) => typeof k === "string" && k.trim().length > 0)) {
        problems.push(`${PROJECT}:unsealKeys must be a JSON list of unseal keys (as \`vault operator init\` printed them). ${fixKeys}`);
    } else if (list.length < keyThreshold) {
        problems.push(`${PROJECT}:unsealKeys holds ${list.length} key(s); unsealing needs at least keyThreshold (${keyThreshold}). ${fixKeys}`);
    }
    if (!token) {
        problems.push(
            `${PROJECT}:unsealKeys is set but ${PROJECT}:rootToken is not: adopting a Vault needs both. Fix: pulumi config set --secret ${PROJECT}:rootToken <root token>`,
        );
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return { unsealKeys: (list as string[]).map((k) => k.trim()), rootToken: token! };
}

/**
 * Turns the `config:` map of a Pulumi.<stack>.yaml into the raw strings Pulumi would hand the program, keeping only
 * this project's keys. Encrypted values (`{secure: ...}`) are left out: they cannot be read without the CLI.
 */
export function rawFromStackConfig(config: Record<string, unknown> | undefined): Partial<Record<string, string>> {
    const raw: Partial<Record<string, string>> = {};
    for (const [key, value] of Object.entries(config ?? {})) {
        const [namespace, name] = key.split(":");
        if (namespace !== PROJECT || name === undefined) continue;
        if (value !== null && typeof value === "object" && "secure" in value) continue;
        raw[name] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return raw;
}

/**
 * Reads this project's keys from the running Pulumi program's config, validates them and logs warnings.
 * Call it before creating any resource, so that bad input stops the program with nothing created.
 */
export function loadSettings(): { settings: Settings; adopted?: AdoptedKeys } {
    // Imported here so that the pure functions above load without the Pulumi runtime (npm run render).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    // Public in the SDK's JavaScript, but not in its typings.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };
    const raw: Partial<Record<string, string>> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        const [namespace, name] = key.split(":");
        if (namespace === PROJECT && name !== undefined) raw[name] = value;
    }
    const secretRaw: Partial<Record<string, string>> = {};
    for (const name of ADOPTION_SETTINGS) {
        secretRaw[name] = raw[name];
        delete raw[name];
        // A secret read with the plain getter would be used without its secret marking: refuse plain values.
        if (secretRaw[name] !== undefined && !isConfigSecret(`${PROJECT}:${name}`)) {
            throw new ConfigError([`${PROJECT}:${name} is stored in plain text. Fix: pulumi config set --secret ${PROJECT}:${name} ...`]);
        }
    }
    const { settings, warnings } = parseSettings(raw);
    const adopted = parseAdoption(secretRaw, settings.keyThreshold);
    for (const warning of warnings) pulumi.log.warn(warning);
    return { settings, adopted };
}
