/**
 * vault-ha's configuration: one typed, validated object built from Pulumi config before any resource exists.
 *
 * Every key is declared in Pulumi.yaml with the same default as DEFAULTS below (a test keeps them equal): the Pulumi
 * CLI applies Pulumi.yaml defaults, but the SDK under test mocks and `npm run render` do not, so the code holds them too.
 */
import { isIP } from "net";
import { z } from "zod";
import type { VaultKeys } from "../steps/contract";
import { ingressMode, vaultServiceType } from "./clusterModes";
import { tlsName, tlsNameProblem } from "../tls/tlsConfig";
import { CERT_MANAGER_CHART, INGRESS_NGINX_CHART, KIND_NODE_IMAGE, VAULT_CHART, VAULT_IMAGE } from "./versions";

export const PROJECT = "vault-ha";

export const DEFAULTS = {
    cluster: "kind" as ClusterMode,
    kubeContext: "",
    clusterName: "vault",
    kindNodeImage: KIND_NODE_IMAGE,
    workers: 3,
    ingressHttpPort: 80,
    ingressHttpsPort: 443,
    nodePorts: [30000, 30001],
    vaultNamespace: "vault",
    vaultChartVersion: VAULT_CHART.version,
    vaultImage: VAULT_IMAGE,
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
    snapshotsToKeep: 5,
    vaultServiceType: "auto" as VaultServiceTypeSetting,
    ingress: "auto" as IngressSetting,
    ingressClassName: "nginx",
    storageClass: "",
    vaultCpu: "auto",
    vaultMemory: "auto",
    antiAffinity: "auto" as AntiAffinitySetting,
    tlsExtraNames: [] as string[],
    certManager: "auto" as CertManagerSetting,
    raftVolumesOnDestroy: "keep" as RaftVolumesOnDestroy,
    vaultLoadBalancerSourceRanges: [] as string[],
    vaultServiceAnnotations: [] as string[],
};

/** Where Vault goes: a kind cluster vault-ha creates (the lab), or a cluster that already exists (a kubeconfig context). */
export const CLUSTER_MODES = ["kind", "existing"] as const;
export type ClusterMode = (typeof CLUSTER_MODES)[number];
/** How Vault's API is reached from outside the cluster; auto is NodePort on kind, LoadBalancer on an existing cluster. */
export const VAULT_SERVICE_TYPES = ["auto", "NodePort", "LoadBalancer", "ClusterIP"] as const;
export type VaultServiceTypeSetting = (typeof VAULT_SERVICE_TYPES)[number];
export type VaultServiceType = Exclude<VaultServiceTypeSetting, "auto">;
/** install ingress-nginx, use an ingress class already in the cluster, or no Ingress; auto is install on kind, none elsewhere. */
export const INGRESS_MODES = ["auto", "install", "existing", "none"] as const;
export type IngressSetting = (typeof INGRESS_MODES)[number];
export type IngressMode = Exclude<IngressSetting, "auto">;
/** auto: required when there are enough schedulable nodes for one Vault pod each, preferred otherwise. */
export const ANTI_AFFINITIES = ["auto", "required", "preferred"] as const;
export type AntiAffinitySetting = (typeof ANTI_AFFINITIES)[number];
export type AntiAffinity = Exclude<AntiAffinitySetting, "auto">;
/** auto: use a cert-manager that already runs in the cluster (and is not vault-ha's), install one otherwise. */
export const CERT_MANAGER_MODES = ["auto", "install", "existing"] as const;
export type CertManagerSetting = (typeof CERT_MANAGER_MODES)[number];
export const RAFT_VOLUMES_ON_DESTROY = ["keep", "delete"] as const;
export type RaftVolumesOnDestroy = (typeof RAFT_VOLUMES_ON_DESTROY)[number];

/** Settings that only mean something for a kind cluster vault-ha creates: with cluster=existing they must stay unset. */
export const KIND_ONLY_SETTINGS = ["clusterName", "kindNodeImage", "workers", "ingressHttpPort", "ingressHttpsPort", "nodePorts"] as const;

export type SettingName = keyof typeof DEFAULTS;
export const SETTING_NAMES = Object.keys(DEFAULTS) as SettingName[];

/**
 * Optional secrets that hand vault-ha the keys of an already initialised Vault (adoption). They are not declared in
 * Pulumi.yaml: the CLI treats a declared key without a default as required, and these must stay optional.
 */
export const ADOPTION_SETTINGS = ["unsealKeys", "rootToken"] as const;

/**
 * Every optional secret: the adoption keys, and the kubeconfig of an existing cluster (for a cluster that is not in the
 * user's own kubeconfig). Not declared in Pulumi.yaml either, for the same reason.
 */
export const SECRET_SETTINGS = [...ADOPTION_SETTINGS, "kubeconfig"] as const;

/** Kubernetes' default NodePort range; kind does not change it. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/** The stack `npm run up` uses. A fix for any other stack names it with --stack. */
export const DEFAULT_STACK = "dev";

/**
 * Bounds of raftStorageSize, in bytes. At least 1Gi: the volume holds Vault's raft log, its BoltDB database and its
 * snapshots, and Kubernetes refuses a claim of zero. At most 1Ti: kind's default StorageClass is rancher's
 * local-path-provisioner (kind: pkg/build/nodeimage/const_storage.go), whose README says "The capacity limit will be
 * ignored", so a claim reserves nothing and a larger one gains nothing; a request above 1Ti is more than a laptop's
 * disk and almost always a wrong unit (Ei for Gi).
 */
export const RAFT_STORAGE_BOUNDS = { min: { text: "1Gi", bytes: 2n ** 30n }, max: { text: "1Ti", bytes: 2n ** 40n } } as const;

/**
 * Paths where Vault refuses to mount a secrets engine: its `mount()` rejects any path that starts with one of
 * `protectedMounts` ("audit/", "auth/", "sys/", "cubbyhole/", "identity/") with 403 "cannot mount" (hashicorp/vault,
 * vault/mount.go). kvMount has no slash, so only these exact names collide.
 */
export const VAULT_RESERVED_MOUNTS = ["sys", "auth", "audit", "cubbyhole", "identity"] as const;

/**
 * Namespaces the cluster has before vault-ha runs. Each component creates its namespace as a Namespace resource of its
 * own, so one of these would fail to create (it exists) and be deleted with the stack. Kubernetes starts with default,
 * kube-system, kube-public and kube-node-lease and reserves the kube- prefix for itself ("Avoid creating namespaces
 * with the prefix kube-", kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/); kind runs its storage
 * provisioner in local-path-storage, and every Vault volume depends on it.
 */
function reservedNamespace(name: string): string | undefined {
    if (name.startsWith("kube-")) return "Kubernetes keeps the kube- prefix for its own namespaces";
    if (name === "default") return "Kubernetes creates it for objects without a namespace";
    if (name === "local-path-storage") return "kind runs its storage provisioner there, which every Vault volume needs";
    return undefined;
}

/** The namespace settings, in the order their components are described; each component creates its own Namespace. */
const NAMESPACE_SETTINGS = ["vaultNamespace", "ingressNginxNamespace", "certManagerNamespace", "whoamiNamespace"] as const;

/**
 * What a user may type for each setting, shown in the fix line of an error: the default, except where a template
 * or another example helps more. Where a setting depends on another, the fix is computed from the values instead.
 */
const HINTS: Record<SettingName, string> = {
    ...(Object.fromEntries(SETTING_NAMES.map((name) => [name, String(DEFAULTS[name])])) as Record<SettingName, string>),
    kindNodeImage: "kindest/node:<version>@sha256:<digest from your kind release's notes>",
    vaultImage: "hashicorp/vault:<version>@sha256:<digest>",
    // The defaults need root on some systems: the example is the usual unprivileged alternative.
    ingressHttpPort: "8080",
    ingressHttpsPort: "8443",
    kubeContext: "<a name from: kubectl config get-contexts -o name>",
    storageClass: "<a name from: kubectl get storageclass>",
    vaultCpu: "250m",
    vaultMemory: "256Mi",
    tlsExtraNames: `'["vault.example.com"]'`,
    vaultLoadBalancerSourceRanges: `'["203.0.113.0/24"]'`,
    vaultServiceAnnotations: `'["service.beta.kubernetes.io/aws-load-balancer-scheme=internal"]'`,
};

/** One thing wrong with the configuration: what (naming the setting, key or file), and a fix that changes something. */
export interface ConfigIssue {
    /** Without a final period. */
    problem: string;
    /** Commands or edits; alternatives joined with ", or ". */
    fix: string;
}

export class ConfigError extends Error {
    /** Each issue as one line: "<problem>. Fix: <fix>" (no period after a question). */
    readonly problems: string[];

    constructor(readonly issues: ConfigIssue[]) {
        const problems = issues.map((issue) => `${issue.problem}${issue.problem.endsWith("?") ? "" : "."} Fix: ${issue.fix}`);
        super(`${PROJECT}: invalid configuration; nothing was created.\n` + problems.map((p) => `  - ${p}`).join("\n"));
        this.problems = problems;
        this.name = "ConfigError";
    }
}

/** The `pulumi config` commands of fixes for one stack; any stack but dev is named with --stack. */
export class FixCommands {
    private readonly flag: string;

    constructor(readonly stack: string = DEFAULT_STACK) {
        this.flag = stack === DEFAULT_STACK ? "" : ` --stack ${stack}`;
    }

    set(name: string, value: string | number | boolean): string {
        return `pulumi config set${this.flag} ${PROJECT}:${name} ${value}`;
    }

    /** Sets one item of a list: `--path` takes the whole key with its index. */
    setItem(name: string, index: number, value: number): string {
        return `pulumi config set${this.flag} --path '${PROJECT}:${name}[${index}]' ${value}`;
    }

    setSecret(name: string, value: string): string {
        return `pulumi config set${this.flag} --secret ${PROJECT}:${name} ${value}`;
    }

    rm(name: string): string {
        return this.rmKey(`${PROJECT}:${name}`);
    }

    /** Removes a key of any namespace, written as it is stored. */
    rmKey(key: string): string {
        return `pulumi config rm${this.flag} ${key}`;
    }
}

export interface Settings {
    cluster: ClusterMode;
    kubeContext: string;
    clusterName: string;
    kindNodeImage: string;
    workers: number;
    ingressHttpPort: number;
    ingressHttpsPort: number;
    nodePorts: number[];
    vaultNamespace: string;
    vaultChartVersion: string;
    vaultImage: string;
    vaultReplicas: number;
    uiNodePort: number;
    raftStorageSize: string;
    keyShares: number;
    keyThreshold: number;
    ingressNginxNamespace: string;
    ingressNginxChartVersion: string;
    whoami: boolean;
    whoamiNamespace: string;
    tls: boolean;
    ingressHost: string;
    certManagerNamespace: string;
    certManagerChartVersion: string;
    kvMount: string;
    snapshotsToKeep: number;
    vaultServiceType: VaultServiceTypeSetting;
    ingress: IngressSetting;
    ingressClassName: string;
    storageClass: string;
    /** "auto", "none" or a CPU quantity (the request). */
    vaultCpu: string;
    /** "auto", "none" or a memory quantity (request and limit). */
    vaultMemory: string;
    antiAffinity: AntiAffinitySetting;
    tlsExtraNames: string[];
    certManager: CertManagerSetting;
    raftVolumesOnDestroy: RaftVolumesOnDestroy;
    /** Client CIDRs Vault's load balancer admits; [] = the cloud's default (often anyone). */
    vaultLoadBalancerSourceRanges: string[];
    /** "key=value" annotations of Vault's API Service. */
    vaultServiceAnnotations: string[];
}

/** A value read, or what is wrong with it; `index` names the list item at fault. */
type Parsed<T> = { ok: true; value: T } | { ok: false; errors: Array<{ message: string; index?: number }> };
type Field<T> = (input: unknown) => Parsed<T>;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const wrong = <T>(message: string, index?: number): Parsed<T> => ({ ok: false, errors: [{ message, index }] });

/** A zod schema as a field; only its first issue is reported, so order the checks from the most helpful. */
const fromZod =
    <T>(schema: z.ZodType<T>): Field<T> =>
    (input) => {
        const result = schema.safeParse(input);
        return result.success ? ok(result.data) : wrong(result.error.issues[0].message);
    };

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KV_MOUNT = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const SEMVER = /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;
const PINNED_IMAGE = /^[^\s@]+:[^\s@:/]+@sha256:[0-9a-f]{64}$/;
/**
 * A Vault server image: `<repository>:<version>` with an optional `@sha256:<digest>`, the version a release tag such as
 * 2.0.4 or 1.21.7-ent (the roll compares versions to refuse a downgrade, and `latest` moves under a running cluster).
 */
export const VAULT_IMAGE_PATTERN = /^(?<repository>[a-z0-9][a-z0-9._\-/:]*[a-z0-9]):(?<tag>\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?)(@sha256:[0-9a-f]{64})?$/;
/**
 * Vault image tags that need the IPC_LOCK capability the chart does not grant, so their pods never start (Vault's
 * important-changes notes: required in 1.19.17, 1.20.11, 1.21.6 and 2.0.1, removed again in the next patch release).
 */
export const VAULT_TAGS_NEEDING_IPC_LOCK = ["1.19.17", "1.20.11", "1.21.6", "2.0.1"];
/** What the Pulumi CLI accepts for an integer setting given as text (Go's strconv.Atoi): decimal digits, a sign. */
const DECIMAL_INTEGER = /^[+-]?[0-9]+$/;

/**
 * A whole number: a number (YAML's, or a test's) or decimal text, as the Pulumi CLI hands config over. Not "0x3",
 * "3e0", "3.0" or " 3", which a number coercion would read as 3.
 */
const wholeNumber =
    (min: number, max: number): Field<number> =>
    (input) => {
        const value = typeof input === "number" ? input : typeof input === "string" && DECIMAL_INTEGER.test(input) ? Number(input) : NaN;
        if (!Number.isInteger(value)) return wrong("must be a whole number written in decimal digits");
        if (value < min) return wrong(`must be at least ${min}`);
        if (value > max) return wrong(`must be at most ${max}`);
        return ok(value);
    };

const hostPort = wholeNumber(1, 65535);
const nodePort = wholeNumber(NODE_PORT_RANGE.min, NODE_PORT_RANGE.max);

/**
 * A Kubernetes quantity as an exact number of bytes (a fraction: "1.5", "100m" and "1e-3" are allowed by the
 * grammar), or undefined when the text is not one. Grammar from k8s.io/apimachinery/pkg/api/resource/quantity.go:
 * a signed decimal number, then a binary suffix (Ki..Ei, powers of 1024), a decimal suffix (m, k, M, G, T, P, E,
 * powers of 1000) or an exponent (e or E and a signed integer). "1E" is exa, "1E3" is 1000.
 */
export function quantityBytes(text: string): { numerator: bigint; denominator: bigint } | undefined {
    const match = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?[0-9]+)|(m|k|M|G|T|P|E))?$/.exec(text);
    if (!match || text.length > 100) return undefined;
    const [, sign, number, binary, exponent, decimal] = match;
    const [whole, fraction = ""] = number.split(".");
    let numerator = BigInt(`${whole || "0"}${fraction}`) * (sign === "-" ? -1n : 1n);
    let denominator = 10n ** BigInt(fraction.length);
    const power = (base: bigint, n: number) => {
        if (n >= 0) numerator *= base ** BigInt(n);
        else denominator *= base ** BigInt(-n);
    };
    if (binary) power(1024n, ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].indexOf(binary) + 1);
    // Past ±400 the value is far outside any bound whatever the (at most 100) digits are: clamping keeps it cheap.
    if (exponent) power(10n, Math.max(-400, Math.min(400, Number(exponent))));
    if (decimal) power(1000n, ["m", "", "k", "M", "G", "T", "P", "E"].indexOf(decimal) - 1);
    return { numerator, denominator };
}

const raftStorageSize: Field<string> = (input) => {
    const text = typeof input === "string" ? input.trim() : String(input);
    const size = quantityBytes(text);
    if (!size) {
        return wrong(
            "must be a Kubernetes quantity such as 10Gi: a number, then Ki, Mi, Gi, Ti, Pi or Ei (powers of 1024), k, M, G, T, P or E (of 1000), or none",
        );
    }
    const { min, max } = RAFT_STORAGE_BOUNDS;
    if (size.numerator < min.bytes * size.denominator) {
        return wrong(`must be at least ${min.text}: the volume holds Vault's raft log, its database and its snapshots`);
    }
    if (size.numerator > max.bytes * size.denominator) {
        return wrong(
            `must be at most ${max.text}: kind's local-path storage neither reserves nor limits the size, so a bigger claim gains nothing, and one this big is most likely a wrong unit`,
        );
    }
    return ok(text);
};

const dnsLabel = (maxLength: number, why: string) =>
    z
        .string()
        .min(1, "must not be empty")
        .max(maxLength, `must be at most ${maxLength} characters (${why})`)
        .regex(DNS1123_LABEL, "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit");

const namespace: Field<string> = (input) => {
    const parsed = fromZod(dnsLabel(63, "a Kubernetes namespace name"))(input);
    if (!parsed.ok) return parsed;
    const why = reservedNamespace(parsed.value);
    return why ? wrong(`is reserved: ${why}; vault-ha creates each component's namespace, and deletes it with the stack`) : parsed;
};

const chartVersion = fromZod(
    z
        .string()
        .trim()
        .min(1, "must not be empty: an unpinned chart installs whatever is newest that day")
        .regex(SEMVER, "must be an exact chart version such as 1.2.3"),
);

const bool = fromZod(
    z.preprocess(
        (v) => (typeof v === "string" ? v.trim().toLowerCase() : v),
        z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")], { error: "must be true or false" }),
    ),
);

const kvMount: Field<string> = (input) => {
    const parsed = fromZod(z.string().trim().regex(KV_MOUNT, "must be a Vault mount path without slashes, such as mysecret"))(input);
    if (!parsed.ok) return parsed;
    return (VAULT_RESERVED_MOUNTS as readonly string[]).includes(parsed.value)
        ? wrong(`is reserved by Vault, which refuses to mount anything at ${VAULT_RESERVED_MOUNTS.join(", ")}`)
        : parsed;
};

/** A list setting as Pulumi hands it over (JSON text) or as a test gives it; anything else as it is, for the message. */
function jsonList(input: unknown): unknown {
    if (typeof input !== "string") return input;
    try {
        return JSON.parse(input);
    } catch {
        return input;
    }
}

/** nodePorts: a list (JSON text, as Pulumi hands it over), not empty, each item a NodePort, none twice. */
const nodePorts: Field<number[]> = (input) => {
    const list = jsonList(input);
    if (!Array.isArray(list)) return wrong("must be a list, e.g. [30000, 30001]");
    if (list.length === 0) return wrong("must list at least one port: uiNodePort is served on one of them");
    const errors: Array<{ message: string; index: number }> = [];
    const ports: number[] = [];
    /** Each port's first index in the list. */
    const seen = new Map<number, number>();
    list.forEach((item, index) => {
        const port = nodePort(item);
        if (!port.ok) {
            errors.push({ message: `nodePorts[${index}] (${JSON.stringify(item)}) ${port.errors[0].message}`, index });
            return;
        }
        const first = seen.get(port.value);
        if (first !== undefined) {
            errors.push({ message: `nodePorts[${index}] repeats nodePorts[${first}] (${port.value}): kind maps each host port once`, index });
        }
        seen.set(port.value, first ?? index);
        ports.push(port.value);
    });
    return errors.length > 0 ? { ok: false, errors } : ok(ports);
};

/** One of a fixed list of words, written exactly (the chart and Kubernetes spell NodePort so). */
const oneOf = <T extends string>(values: readonly T[]): Field<T> =>
    fromZod(
        z.preprocess(
            (v) => (typeof v === "string" ? v.trim() : v),
            z.enum(values as unknown as [T, ...T[]], { error: `must be one of ${values.join(", ")}` }),
        ) as unknown as z.ZodType<T>,
    );

/** A bound of a quantity: units/per (cores or bytes), and how a message writes it. */
interface Bound {
    text: string;
    units: bigint;
    per: bigint;
}

/**
 * "auto" (the mode's default), "none" (no request or limit) or a Kubernetes quantity within bounds: a pod resource.
 * `bounds` in the quantity's own unit (cores for CPU, bytes for memory).
 */
const podResource =
    (what: string, example: string, min: Bound, max: Bound): Field<string> =>
    (input) => {
        const text = typeof input === "string" ? input.trim() : String(input);
        if (text === "auto" || text === "none") return ok(text);
        const size = quantityBytes(text);
        if (!size) return wrong(`must be auto, none or a Kubernetes ${what} quantity such as ${example}`);
        // a/b < c/d  <=>  a*d < c*b (all denominators positive)
        if (size.numerator * min.per < min.units * size.denominator) return wrong(`must be at least ${min.text}: less does not run Vault`);
        if (size.numerator * max.per > max.units * size.denominator) return wrong(`must be at most ${max.text}: more is most likely a wrong unit`);
        return ok(text);
    };

/** tlsExtraNames: a list (JSON text, as Pulumi hands it over) of DNS names or IP addresses, none twice. */
const tlsExtraNames: Field<string[]> = (input) => {
    const list = jsonList(input);
    if (!Array.isArray(list)) return wrong(`must be a list, e.g. ["vault.example.com", "203.0.113.10"]`);
    const errors: Array<{ message: string; index: number }> = [];
    /** Each name as the certificate writes it (lower case, canonical IP), and where it first came. */
    const seen = new Map<string, number>();
    list.forEach((item, index) => {
        // The certificate's own rule (tlsConfig.ts), so that a name accepted here never fails at `up`.
        const problem = typeof item === "string" ? tlsNameProblem(item) : `${JSON.stringify(item)} is not text`;
        if (problem) return void errors.push({ message: `tlsExtraNames[${index}]: ${problem}`, index });
        const written = tlsName(item as string).name;
        const first = seen.get(written);
        if (first !== undefined) errors.push({ message: `tlsExtraNames[${index}] (${JSON.stringify(item)}) repeats tlsExtraNames[${first}]`, index });
        else seen.set(written, index);
    });
    return errors.length > 0 ? { ok: false, errors } : ok((list as string[]).slice());
};

/** A list setting (JSON text, as Pulumi hands it over): each item checked by `problem`, none twice. */
const listOf =
    (what: string, example: string, problem: (item: string) => string | undefined): Field<string[]> =>
    (input) => {
        const list = jsonList(input);
        if (!Array.isArray(list)) return wrong(`must be a list of ${what}s, e.g. ${example}`);
        const errors: Array<{ message: string; index: number }> = [];
        list.forEach((item, index) => {
            const why = typeof item !== "string" ? "is not text" : (problem(item) ?? (list.indexOf(item) < index ? "repeats an earlier one" : undefined));
            if (why) errors.push({ message: `[${index}] (${JSON.stringify(item)}) ${why}`, index });
        });
        return errors.length > 0 ? { ok: false, errors } : ok((list as string[]).slice());
    };

/** An IPv4 or IPv6 network in CIDR notation (what Kubernetes' Service validation accepts for loadBalancerSourceRanges). */
function cidrProblem(text: string): string | undefined {
    const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
    const kind = match ? isIP(match[1]) : 0;
    if (!match || kind === 0) return "must be a network such as 203.0.113.0/24 or 2001:db8::/32";
    return Number(match[2]) > (kind === 4 ? 32 : 128) ? `has a prefix longer than an IPv${kind} address` : undefined;
}

/** key=value, the key a Kubernetes annotation key: an optional DNS-subdomain prefix and "/", then a name of at most 63. */
function annotationProblem(text: string): string | undefined {
    const at = text.indexOf("=");
    if (at <= 0) return "must be key=value";
    const key = text.slice(0, at);
    const [prefix, name] = key.includes("/") ? [key.slice(0, key.lastIndexOf("/")), key.slice(key.lastIndexOf("/") + 1)] : [undefined, key];
    if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return `has a key prefix (${prefix}) that is not a DNS subdomain`;
    return /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(name) ? undefined : `has a key name (${name}) Kubernetes refuses`;
}

const FIELDS: { [K in SettingName]: Field<Settings[K]> } = {
    cluster: oneOf(CLUSTER_MODES),
    // A kubeconfig context name is free text (EKS names them by ARN); only a line break could not be one.
    kubeContext: fromZod(
        z
            .string()
            .trim()
            .max(253, "must be at most 253 characters")
            .regex(/^[^\r\n\t]*$/, "must be one line: the name of a context in your kubeconfig"),
    ),
    // A node is a container named <cluster>-control-plane whose hostname must fit in 63 characters.
    clusterName: fromZod(dnsLabel(49, "kind appends '-control-plane' to form a 63-character host name")),
    kindNodeImage: fromZod(
        z
            .string()
            .trim()
            .regex(
                PINNED_IMAGE,
                "must be pinned by digest (<image>:<tag>@sha256:<64 hex>), as kind requires: a node image only works with the kind release that built it",
            ),
    ),
    workers: wholeNumber(1, 20),
    ingressHttpPort: hostPort,
    ingressHttpsPort: hostPort,
    nodePorts,
    vaultNamespace: namespace,
    vaultChartVersion: chartVersion,
    vaultImage: fromZod(
        z
            .string()
            .trim()
            .regex(VAULT_IMAGE_PATTERN, "must be <repository>:<version>, optionally @sha256:<digest>, such as hashicorp/vault:2.0.4 (not latest)")
            .refine(
                (image) => !VAULT_TAGS_NEEDING_IPC_LOCK.includes(VAULT_IMAGE_PATTERN.exec(image)?.groups?.tag ?? ""),
                "this Vault release needs the IPC_LOCK capability, which the chart does not grant, so its pods would not start; use the next patch release",
            ),
    ),
    vaultReplicas: wholeNumber(1, 20),
    uiNodePort: nodePort,
    raftStorageSize,
    // Vault's Shamir split supports at most 255 shares.
    keyShares: wholeNumber(1, 255),
    keyThreshold: wholeNumber(1, 255),
    ingressNginxNamespace: namespace,
    ingressNginxChartVersion: chartVersion,
    whoami: bool,
    whoamiNamespace: namespace,
    tls: bool,
    ingressHost: fromZod(
        z.string().trim().max(253, "must be at most 253 characters").regex(DNS1123_SUBDOMAIN, "must be a lower-case DNS name such as vault.localhost"),
    ),
    certManagerNamespace: namespace,
    certManagerChartVersion: chartVersion,
    kvMount,
    snapshotsToKeep: wholeNumber(1, 100),
    vaultServiceType: oneOf(VAULT_SERVICE_TYPES),
    ingress: oneOf(INGRESS_MODES),
    ingressClassName: fromZod(
        z.string().trim().max(253, "must be at most 253 characters").regex(DNS1123_SUBDOMAIN, "must be an IngressClass name such as nginx"),
    ),
    storageClass: fromZod(
        z
            .string()
            .trim()
            .max(253, "must be at most 253 characters")
            .regex(/^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "must be empty (the cluster's default) or a StorageClass name"),
    ),
    vaultCpu: podResource("CPU", "250m or 1", { text: "10m", units: 1n, per: 100n }, { text: "64", units: 64n, per: 1n }),
    vaultMemory: podResource("memory", "256Mi or 1Gi", { text: "64Mi", units: 64n * 2n ** 20n, per: 1n }, { text: "256Gi", units: 256n * 2n ** 30n, per: 1n }),
    antiAffinity: oneOf(ANTI_AFFINITIES),
    tlsExtraNames,
    certManager: oneOf(CERT_MANAGER_MODES),
    raftVolumesOnDestroy: oneOf(RAFT_VOLUMES_ON_DESTROY),
    vaultLoadBalancerSourceRanges: listOf("CIDR", `["203.0.113.0/24"]`, cidrProblem),
    vaultServiceAnnotations: listOf("annotation", `["service.beta.kubernetes.io/aws-load-balancer-scheme=internal"]`, annotationProblem),
};

export interface ParsedSettings {
    settings: Settings;
    /** Allowed but unwise choices; the program logs them as warnings. */
    warnings: string[];
}

/** Options of the readers: the stack the fixes name, and where the values came from (a file), for the messages. */
export interface ReadOptions {
    stack?: string;
    source?: string;
}

/** Edit distance (Levenshtein), for "did you mean". */
export function distance(a: string, b: string): number {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const next = [i];
        for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        row = next;
    }
    return row[b.length];
}

const KNOWN_NAMES: string[] = [...SETTING_NAMES, ...SECRET_SETTINGS];

/** The setting a key name most likely meant: same letters in another case, or at most two edits away. */
function nearestName(name: string): string | undefined {
    const same = KNOWN_NAMES.find((known) => known.toLowerCase() === name.toLowerCase());
    if (same) return same;
    const scored = KNOWN_NAMES.map((known) => ({ known, d: distance(known.toLowerCase(), name.toLowerCase()) })).sort((a, b) => a.d - b.d);
    return scored[0].d <= 2 && name.length > 3 ? scored[0].known : undefined;
}

/** A value as a shell word in a fix; secrets and values that are not simple words are left for the user to type. */
export function shellValue(value: string | undefined, secret: boolean): string {
    if (secret || value === undefined) return "<value>";
    return /^[A-Za-z0-9_.:/@+=-]+$/.test(value) ? value : "<value>";
}

/** "set it to what <name> should hold", with --secret for a secret or an adoption setting. */
function setMeant(fixes: FixCommands, name: string, value: string | undefined, secret: boolean): string {
    const isSecret = secret || (SECRET_SETTINGS as readonly string[]).includes(name);
    return isSecret ? fixes.setSecret(name, "<value>") : fixes.set(name, shellValue(value, false));
}

/** What the mode rules need from checkSettings: which settings the user set, how to report, the fixes. */
interface RuleContext {
    isSet(name: SettingName): boolean;
    issue(name: SettingName, message: string, fix: string): void;
    fixes: FixCommands;
    /** vault-ha:kubeconfig (a secret) is set. */
    kubeconfigGiven: boolean;
}

/**
 * The rules between `cluster` and the settings that only make sense in one mode, checked where the values are valid.
 * A setting the mode cannot honour is refused rather than ignored: the user set it for a reason.
 */
function checkModeRules(v: Partial<Settings>, { isSet, issue, fixes, kubeconfigGiven }: RuleContext): void {
    if (v.cluster === undefined) return;
    const toExisting = fixes.set("cluster", "existing");
    const toKind = fixes.set("cluster", "kind");
    if (v.cluster === "existing") {
        for (const name of KIND_ONLY_SETTINGS) {
            if (isSet(name))
                issue(name, "is only used with cluster: kind (on an existing cluster vault-ha creates no kind cluster)", `${fixes.rm(name)}, or ${toKind}`);
        }
        if (v.kubeContext === "" && !kubeconfigGiven) {
            issue(
                "kubeContext",
                "must name the kubeconfig context of the cluster to deploy to, with cluster: existing (vault-ha never guesses a cluster)",
                `${fixes.set("kubeContext", '"$(kubectl config current-context)"')}, or ${fixes.setSecret("kubeconfig", "<value>")} (a kubeconfig of its own, e.g. < my-cluster.yaml), or ${toKind}`,
            );
        }
        if (v.certManager === undefined || v.raftVolumesOnDestroy === undefined) return;
    } else {
        if (isSet("kubeContext") && v.kubeContext !== "") {
            issue(
                "kubeContext",
                "is only used with cluster: existing; the kind cluster's context is kind-<clusterName>",
                `${fixes.rm("kubeContext")}, or ${toExisting}`,
            );
        }
        if (kubeconfigGiven) {
            issue(
                "cluster",
                "is kind, but vault-ha:kubeconfig is set: a kind cluster's kubeconfig comes from kind",
                `${fixes.rm("kubeconfig")}, or ${toExisting}`,
            );
        }
        if (v.vaultServiceType === "LoadBalancer") {
            issue(
                "vaultServiceType",
                "cannot be LoadBalancer on kind, which has no load-balancer controller (the address would never come)",
                `${fixes.set("vaultServiceType", "NodePort")}, or ${fixes.set("vaultServiceType", "ClusterIP")} (a port-forward)`,
            );
        }
        if (v.ingress === "existing") {
            issue(
                "ingress",
                "cannot be existing on kind: the cluster vault-ha creates has no ingress controller but the one it installs",
                `${fixes.set("ingress", "install")}, or ${fixes.set("ingress", "none")}`,
            );
        }
        if (v.certManager === "existing") {
            issue(
                "certManager",
                "cannot be existing on kind: the cluster vault-ha creates has no cert-manager but the one it installs",
                fixes.rm("certManager"),
            );
        }
        if (isSet("raftVolumesOnDestroy")) {
            issue(
                "raftVolumesOnDestroy",
                "is only used with cluster: existing: on kind, pulumi destroy deletes the cluster and its volumes with it (take a snapshot first: npm run snapshot)",
                fixes.rm("raftVolumesOnDestroy"),
            );
        }
    }
    if (
        v.vaultServiceType !== undefined &&
        isSet("uiNodePort") &&
        vaultServiceType({ cluster: v.cluster, vaultServiceType: v.vaultServiceType }) !== "NodePort"
    ) {
        issue(
            "uiNodePort",
            `is only used when vaultServiceType is NodePort (it is ${vaultServiceType({ cluster: v.cluster, vaultServiceType: v.vaultServiceType })})`,
            `${fixes.rm("uiNodePort")}, or ${fixes.set("vaultServiceType", "NodePort")}`,
        );
    }
    if (v.ingress !== undefined) {
        const mode = ingressMode({ cluster: v.cluster, ingress: v.ingress });
        if (isSet("ingressClassName") && mode !== "existing") {
            issue(
                "ingressClassName",
                `is only used with ingress: existing (ingress is ${mode})`,
                `${fixes.rm("ingressClassName")}, or ${fixes.set("ingress", "existing")}`,
            );
        }
        if (isSet("whoami") && v.whoami === true && mode === "none") {
            issue(
                "whoami",
                "is true, but there is no ingress for it to prove (ingress is none)",
                `${fixes.set("whoami", false)}, or ${fixes.set("ingress", v.cluster === "kind" ? "install" : "existing")}`,
            );
        }
    }
    if (v.vaultServiceType !== undefined && (v.vaultLoadBalancerSourceRanges ?? []).length > 0) {
        const type = vaultServiceType({ cluster: v.cluster, vaultServiceType: v.vaultServiceType });
        if (type !== "LoadBalancer") {
            issue(
                "vaultLoadBalancerSourceRanges",
                `is only used with a LoadBalancer (vaultServiceType is ${type})`,
                `${fixes.rm("vaultLoadBalancerSourceRanges")}${v.cluster === "existing" ? `, or ${fixes.set("vaultServiceType", "LoadBalancer")}` : ""}`,
            );
        }
    }
    if (v.tls === false && v.tlsExtraNames !== undefined && v.tlsExtraNames.length > 0) {
        issue(
            "tlsExtraNames",
            "names the certificate's extra names, but tls is false: there is no certificate",
            `${fixes.rm("tlsExtraNames")}, or ${fixes.set("tls", true)}`,
        );
    }
}

/**
 * Checks this project's settings (raw text, as Pulumi hands it over, absent keys undefined): each setting on its own,
 * then the rules between settings. Returns every issue, each with a fix for the stack; the settings when none.
 */
function checkSettings(
    raw: Partial<Record<string, string>>,
    fixes: FixCommands,
    secretNames: ReadonlySet<string> = new Set(),
    options: { kubeconfigGiven?: boolean } = {},
): { settings?: Settings; issues: ConfigIssue[]; warnings: string[] } {
    const issues: ConfigIssue[] = [];
    for (const key of Object.keys(raw).filter((k) => !KNOWN_NAMES.includes(k))) {
        const near = nearestName(key);
        issues.push({
            problem: `${PROJECT}:${key} is not a setting of ${PROJECT}` + (near ? `; did you mean ${near}?` : ""),
            fix: fixes.rm(key) + (near ? ` && ${setMeant(fixes, near, raw[key], secretNames.has(key))}` : ""),
        });
    }

    const isSet = (name: SettingName) => raw[name] !== undefined;
    const given = (name: SettingName) => (isSet(name) ? JSON.stringify(raw[name]) : `${JSON.stringify(DEFAULTS[name])} (default)`);
    const label = (name: SettingName) => `${PROJECT}:${name} = ${given(name)}`;
    const orDefault = (name: SettingName) => (isSet(name) ? `, or ${fixes.rm(name)} for the default (${JSON.stringify(DEFAULTS[name])})` : "");

    /** The settings whose values are valid on their own. */
    const v: Partial<Settings> = {};
    const failed: Array<{ name: SettingName; errors: Array<{ message: string; index?: number }> }> = [];
    for (const name of SETTING_NAMES) {
        const parsed = FIELDS[name](raw[name] === undefined ? DEFAULTS[name] : raw[name]);
        if (parsed.ok) (v as Record<string, unknown>)[name] = parsed.value;
        else failed.push({ name, errors: parsed.errors });
    }
    // A value wrong on its own: the hint, or a value that fits the settings it depends on.
    const hint = (name: SettingName): string | number => {
        switch (name) {
            case "keyThreshold":
                return v.keyShares === undefined ? HINTS.keyThreshold : v.keyShares === 1 ? 1 : Math.min(DEFAULTS.keyThreshold, v.keyShares);
            case "keyShares":
                return Math.max(DEFAULTS.keyShares, v.keyThreshold ?? 0);
            case "vaultReplicas":
                return Math.min(DEFAULTS.vaultReplicas, v.workers ?? DEFAULTS.vaultReplicas);
            case "workers":
                return Math.max(DEFAULTS.workers, v.vaultReplicas ?? 0);
            case "uiNodePort":
                return v.nodePorts?.[0] ?? DEFAULTS.uiNodePort;
            default:
                return HINTS[name];
        }
    };
    /** The first NodePort that neither `taken` nor the ingress host ports use. */
    const freeNodePort = (taken: number[]): number => {
        const used = new Set([...taken, v.ingressHttpPort, v.ingressHttpsPort]);
        let port: number = NODE_PORT_RANGE.min;
        while (used.has(port) && port < NODE_PORT_RANGE.max) port++;
        return port;
    };
    for (const { name, errors } of failed) {
        for (const { message, index } of errors) {
            if (name === "nodePorts") {
                const list = (() => {
                    try {
                        return JSON.parse(String(raw.nodePorts)) as unknown[];
                    } catch {
                        return undefined;
                    }
                })();
                const others = Array.isArray(list) ? list.filter((_, i) => i !== index).filter((p): p is number => typeof p === "number") : [];
                const fix = Array.isArray(list)
                    ? fixes.setItem("nodePorts", index ?? 0, index === undefined ? (v.uiNodePort ?? DEFAULTS.uiNodePort) : freeNodePort(others))
                    : `${fixes.rm("nodePorts")} && ${fixes.setItem("nodePorts", 0, v.uiNodePort ?? DEFAULTS.uiNodePort)}`;
                issues.push({ problem: `${label(name)}: ${message}`, fix: fix + orDefault(name) });
            } else {
                issues.push({ problem: `${label(name)}: ${message}`, fix: fixes.set(name, hint(name)) + orDefault(name) });
            }
        }
    }

    // Rules between settings, checked where both values are valid. The setting blamed is the one the user set (the
    // other keeping its default); the fix offers a value for each side that satisfies the rule.
    const blame = <A extends SettingName, B extends SettingName>(a: A, b: B): A | B => (isSet(a) && !isSet(b) ? a : b);
    const issue = (name: SettingName, message: string, fix: string) => issues.push({ problem: `${label(name)}: ${message}`, fix });

    if (v.keyShares !== undefined && v.keyThreshold !== undefined) {
        const shares = v.keyShares;
        const threshold = v.keyThreshold;
        const fittingThreshold = shares === 1 ? 1 : Math.min(DEFAULTS.keyThreshold, shares);
        if (threshold > shares) {
            const why = "Vault cannot require more keys than it creates";
            if (blame("keyShares", "keyThreshold") === "keyShares") {
                issue(
                    "keyShares",
                    `must be at least keyThreshold (${threshold}): ${why}`,
                    `${fixes.set("keyShares", threshold)}, or ${fixes.set("keyThreshold", fittingThreshold)}`,
                );
            } else {
                issue(
                    "keyThreshold",
                    `must not exceed keyShares (${shares}): ${why}`,
                    `${fixes.set("keyThreshold", fittingThreshold)}, or ${fixes.set("keyShares", threshold)}`,
                );
            }
        } else if (shares > 1 && threshold < 2) {
            issue(
                "keyThreshold",
                "must be at least 2 when keyShares is more than 1: Vault refuses a threshold of 1 for several shares",
                `${fixes.set("keyThreshold", fittingThreshold)}, or ${fixes.set("keyShares", 1)}`,
            );
        }
    }

    // The lab's rules: a kind cluster's workers and the ports it maps to localhost. None of them applies to a cluster
    // that exists already (the mode rules below refuse these settings there).
    const onKind = v.cluster !== "existing";
    if (onKind) {
        if (v.workers !== undefined && v.vaultReplicas !== undefined && v.vaultReplicas > v.workers) {
            const why = "the Vault chart allows one Vault pod per node, so extra pods would stay Pending";
            const fix = `${fixes.set("workers", v.vaultReplicas)}, or ${fixes.set("vaultReplicas", v.workers)}`;
            if (blame("workers", "vaultReplicas") === "workers") issue("workers", `must be at least vaultReplicas (${v.vaultReplicas}): ${why}`, fix);
            else issue("vaultReplicas", `must not exceed workers (${v.workers}): ${why}`, fix);
        }

        if (v.nodePorts !== undefined && v.uiNodePort !== undefined && !v.nodePorts.includes(v.uiNodePort)) {
            const why = "only those are mapped from the control-plane node to localhost";
            const addUi = fixes.setItem("nodePorts", v.nodePorts.length, v.uiNodePort);
            const moveUi = fixes.set("uiNodePort", v.nodePorts[0]);
            if (blame("nodePorts", "uiNodePort") === "nodePorts")
                issue("nodePorts", `must include uiNodePort (${v.uiNodePort}): ${why}`, `${addUi}, or ${moveUi}`);
            else issue("uiNodePort", `must be one of nodePorts ${JSON.stringify(v.nodePorts)}: ${why}`, `${moveUi}, or ${addUi}`);
        }

        /** A host port for the ingress that clashes with nothing: the hint, the default, then others. */
        const freeHostPort = (name: "ingressHttpPort" | "ingressHttpsPort", taken: Array<number | undefined>): number =>
            [Number(HINTS[name]), DEFAULTS[name], name === "ingressHttpPort" ? 9080 : 9443].find((port) => !taken.includes(port)) ?? Number(HINTS[name]);

        if (v.ingressHttpPort !== undefined && v.ingressHttpsPort !== undefined && v.ingressHttpPort === v.ingressHttpsPort) {
            const name = blame("ingressHttpPort", "ingressHttpsPort");
            const other = name === "ingressHttpPort" ? "ingressHttpsPort" : "ingressHttpPort";
            issue(name, `must differ from ${other} (${v[other]})`, fixes.set(name, freeHostPort(name, [v[other], ...(v.nodePorts ?? [])])));
        }

        if (v.nodePorts !== undefined && v.ingressHttpPort !== undefined && v.ingressHttpsPort !== undefined) {
            const ports = v.nodePorts;
            for (const name of ["ingressHttpPort", "ingressHttpsPort"] as const) {
                const index = ports.indexOf(v[name]!);
                if (index < 0) continue;
                const other = name === "ingressHttpPort" ? v.ingressHttpsPort : v.ingressHttpPort;
                const alternatives = [fixes.set(name, freeHostPort(name, [other, ...ports]))];
                // The UI's NodePort cannot move without moving uiNodePort too: then only the ingress port moves.
                if (ports[index] !== v.uiNodePort) alternatives.push(fixes.setItem("nodePorts", index, freeNodePort(ports)));
                issue("nodePorts", `nodePorts[${index}] (${ports[index]}) is also ${name}: kind maps each host port once`, alternatives.join(", or "));
            }
        }
    }

    // Each enabled component creates its own Namespace: two with one name collide.
    const ingressInstalled = v.cluster === undefined || v.ingress === undefined || ingressMode({ cluster: v.cluster, ingress: v.ingress }) === "install";
    const ingressNone = v.cluster !== undefined && v.ingress !== undefined && ingressMode({ cluster: v.cluster, ingress: v.ingress }) === "none";
    const active = NAMESPACE_SETTINGS.filter(
        (name) =>
            v[name] !== undefined &&
            (name !== "certManagerNamespace" || (v.tls !== false && v.certManager !== "existing")) &&
            (name !== "whoamiNamespace" || (v.whoami !== false && !ingressNone)) &&
            (name !== "ingressNginxNamespace" || ingressInstalled),
    );
    const blamed = new Set<(typeof NAMESPACE_SETTINGS)[number]>();
    active.forEach((a, i) => {
        for (const b of active.slice(i + 1)) {
            if (v[a] !== v[b]) continue;
            const name = blame(a, b);
            if (blamed.has(name)) continue;
            blamed.add(name);
            const taken = active.filter((n) => n !== name).map((n) => v[n]);
            const fixed = taken.includes(DEFAULTS[name]) ? `${DEFAULTS[name]}-2` : DEFAULTS[name];
            issue(
                name,
                `is also ${name === a ? b : a}: each component creates its own Namespace, and two of one name collide (and deleting one deletes the other's objects)`,
                fixes.set(name, fixed),
            );
        }
    });

    checkModeRules(v, { isSet, issue, fixes, kubeconfigGiven: options.kubeconfigGiven === true });

    if (issues.length > 0) return { issues, warnings: [] };
    const settings = v as Settings;
    const warnings: string[] = [];
    if (settings.vaultReplicas % 2 === 0) {
        warnings.push(
            `${PROJECT}:vaultReplicas = ${settings.vaultReplicas}: an even raft cluster tolerates no more failures than ` +
                `${settings.vaultReplicas - 1} nodes do (quorum is ${settings.vaultReplicas / 2 + 1}); prefer an odd number`,
        );
    }
    if (vaultServiceType(settings) === "LoadBalancer" && settings.vaultLoadBalancerSourceRanges.length === 0 && settings.vaultServiceAnnotations.length === 0) {
        warnings.push(
            `Vault's API gets a load balancer that admits every client that can reach it (on most clouds, the internet). Limit it: ` +
                `${fixes.set("vaultLoadBalancerSourceRanges", `'["<your network>/24"]'`)}, or make it internal with the cloud's annotation ` +
                `(${fixes.set("vaultServiceAnnotations", `'["service.beta.kubernetes.io/aws-load-balancer-scheme=internal"]'`)} on EKS), or ` +
                `${fixes.set("vaultServiceType", "ClusterIP")} (a port-forward)`,
        );
    }
    if (settings.cluster === "existing" && ingressMode(settings) !== "none" && !isSet("ingressHost")) {
        warnings.push(
            `${PROJECT}:ingressHost is ${DEFAULTS.ingressHost} (the default), a name that resolves to your own machine: on your own cluster, ` +
                `point a DNS name at the ingress controller and ${fixes.set("ingressHost", "vault.example.com")}`,
        );
    }
    if (isSet("vaultImage") && !settings.vaultImage.includes("@sha256:")) {
        warnings.push(
            `${PROJECT}:vaultImage = ${settings.vaultImage} is not pinned by digest: the tag can be moved to another build. ` +
                `Pin it: docker buildx imagetools inspect ${settings.vaultImage} (the Digest line), then ` +
                fixes.set("vaultImage", `${settings.vaultImage}@sha256:<digest>`),
        );
    }
    return { settings, issues, warnings };
}

/**
 * Raw config as Pulumi stores it: each value a string (lists as JSON), absent keys undefined.
 * Throws ConfigError naming every bad setting with its fix; returns the typed settings otherwise.
 */
export function parseSettings(raw: Partial<Record<string, string>>, options: ReadOptions = {}): ParsedSettings {
    const { settings, issues, warnings } = checkSettings(raw, new FixCommands(options.stack), new Set(), { kubeconfigGiven: raw.kubeconfig !== undefined });
    if (!settings) throw new ConfigError(issues);
    return { settings, warnings };
}

/** The keys of an already initialised Vault, handed in through config. */
export type AdoptedKeys = VaultKeys;

/** A config value as a reader found it: its text (lists as JSON), or none for a secret the reader cannot decrypt. */
export interface ConfigEntry {
    value?: string;
    secret: boolean;
}

const KEYS_EXAMPLE = `'["<key 1>","<key 2>","<key 3>"]'`;

/**
 * vault-ha:unsealKeys (a JSON list of base64 key shares) and vault-ha:rootToken, set together or not at all, each
 * stored as a secret. A value the reader cannot decrypt is checked for its presence only. Messages never repeat the
 * values: they are secrets.
 */
function checkAdoption(
    entries: Partial<Record<(typeof ADOPTION_SETTINGS)[number], ConfigEntry>>,
    keyThreshold: number | undefined,
    fixes: FixCommands,
): { adopted?: AdoptedKeys; issues: ConfigIssue[] } {
    const { unsealKeys: keys, rootToken: token } = entries;
    const plain = ADOPTION_SETTINGS.filter((name) => entries[name] !== undefined && !entries[name]!.secret);
    if (plain.length > 0) {
        // A secret read with the plain getter would be used without its secret marking: refuse plain values.
        return {
            issues: plain.map((name) => ({
                problem: `${PROJECT}:${name} is stored in plain text`,
                fix: fixes.setSecret(name, name === "unsealKeys" ? KEYS_EXAMPLE : "<root token>"),
            })),
        };
    }
    const hasToken = token !== undefined && (token.value === undefined || token.value.trim().length > 0);
    if (keys === undefined && !hasToken) return { issues: [] };
    const issues: ConfigIssue[] = [];
    const fixKeys = fixes.setSecret("unsealKeys", KEYS_EXAMPLE);
    let list: unknown;
    try {
        list = keys?.value === undefined ? undefined : JSON.parse(keys.value);
    } catch {
        list = null;
    }
    if (keys === undefined) {
        issues.push({ problem: `${PROJECT}:rootToken is set but ${PROJECT}:unsealKeys is not: adopting a Vault needs both`, fix: fixKeys });
    } else if (keys.value !== undefined) {
        if (!Array.isArray(list) || !list.every((k) => typeof k === "string" && k.trim().length > 0)) {
            issues.push({ problem: `${PROJECT}:unsealKeys must be a JSON list of unseal keys (as \`vault operator init\` printed them)`, fix: fixKeys });
        } else if (keyThreshold !== undefined && list.length < keyThreshold) {
            issues.push({
                problem: `${PROJECT}:unsealKeys holds ${list.length} key(s); unsealing needs at least keyThreshold (${keyThreshold})`,
                fix: fixKeys,
            });
        }
    }
    if (!hasToken) {
        issues.push({
            problem: `${PROJECT}:unsealKeys is set but ${PROJECT}:rootToken is not: adopting a Vault needs both`,
            fix: fixes.setSecret("rootToken", "<root token>"),
        });
    }
    if (issues.length > 0 || !Array.isArray(list) || token?.value === undefined) return { issues };
    return { issues, adopted: { unsealKeys: (list as string[]).map((k) => k.trim()), rootToken: token.value.trim() } };
}

/**
 * Validates vault-ha:unsealKeys and vault-ha:rootToken given as plain text (their secrecy is checked by parseConfig).
 * Throws ConfigError; returns the keys when both are set, undefined when neither is.
 */
export function parseAdoption(raw: Partial<Record<string, string>>, keyThreshold: number, options: ReadOptions = {}): AdoptedKeys | undefined {
    const entries: Partial<Record<(typeof ADOPTION_SETTINGS)[number], ConfigEntry>> = {};
    for (const name of ADOPTION_SETTINGS) if (raw[name] !== undefined) entries[name] = { value: raw[name], secret: true };
    const { adopted, issues } = checkAdoption(entries, keyThreshold, new FixCommands(options.stack));
    if (issues.length > 0) throw new ConfigError(issues);
    return adopted;
}

/**
 * A config key as the Pulumi CLI reads it (sdk/go/common/resource/config/key.go ParseKey): `<namespace>:<name>`, or
 * the old `<namespace>:config:<name>`. In a stack file a key without a namespace is the project's (the CLI namespaces
 * it since v3.44, sdk/go/common/workspace/loaders.go stackConfigNamespacedWithProject). Undefined when the CLI would
 * refuse the key.
 */
export function splitConfigKey(key: string): { namespace: string; name: string } | undefined {
    const parts = key.split(":");
    if (parts.length === 1) return { namespace: PROJECT, name: key };
    if (parts.length === 2) return { namespace: parts[0], name: parts[1] };
    if (parts.length === 3 && parts[1] === "config") return { namespace: parts[0], name: parts[2] };
    return undefined;
}

/**
 * A key of another namespace that was meant for vault-ha: its namespace is the project's name misspelled, or its
 * name is one of vault-ha's settings. Other packages' keys (kubernetes:context, pulumi:tags) are theirs.
 */
function meantForProject(namespace: string, name: string): string | undefined {
    if (namespace === PROJECT || namespace === "pulumi") return undefined;
    const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
    const nearProject = squash(namespace) === squash(PROJECT) || distance(namespace.toLowerCase(), PROJECT) <= 2;
    const near = nearestName(name);
    if (KNOWN_NAMES.includes(name) || (nearProject && near)) return near ?? name;
    return nearProject ? name : undefined;
}

export interface CheckedConfig {
    settings?: Settings;
    adopted?: AdoptedKeys;
    /** vault-ha:kubeconfig (a secret): the existing cluster's kubeconfig, when it is not in the user's own. */
    kubeconfig?: string;
    warnings: string[];
    issues: ConfigIssue[];
}

/**
 * Checks a whole config map as a reader found it, keyed `<namespace>:<name>`: this project's settings and adoption
 * secrets, and keys of other namespaces that were meant for this project. One path for the program (loadSettings)
 * and for the tools that read the stack file (stackFile.ts).
 */
export function checkConfig(entries: Record<string, ConfigEntry>, options: ReadOptions = {}): CheckedConfig {
    const fixes = new FixCommands(options.stack);
    const where = options.source ? ` in ${options.source}` : "";
    const issues: ConfigIssue[] = [];
    const raw: Partial<Record<string, string>> = {};
    const secretNames = new Set<string>();
    const adoption: Partial<Record<(typeof ADOPTION_SETTINGS)[number], ConfigEntry>> = {};
    let kubeconfig: ConfigEntry | undefined;
    for (const [key, entry] of Object.entries(entries)) {
        const parsed = splitConfigKey(key);
        if (!parsed) continue;
        const { namespace, name } = parsed;
        if (namespace !== PROJECT) {
            const meant = meantForProject(namespace, name);
            if (meant) {
                issues.push({
                    problem: `${key}${where} is not read by ${PROJECT}, whose settings are ${PROJECT}:<name>; did you mean ${PROJECT}:${meant}?`,
                    fix: `${fixes.rmKey(key)} && ${setMeant(fixes, meant, entry.value, entry.secret)}`,
                });
            }
            continue;
        }
        if ((ADOPTION_SETTINGS as readonly string[]).includes(name)) {
            adoption[name as (typeof ADOPTION_SETTINGS)[number]] = entry;
            continue;
        }
        if (name === "kubeconfig") {
            kubeconfig = entry;
            continue;
        }
        if (entry.value === undefined && (SETTING_NAMES as string[]).includes(name)) {
            issues.push({
                problem: `${PROJECT}:${name}${where} is encrypted (set with --secret), so this tool cannot read it; settings are not secrets`,
                fix: `${fixes.set(name, "<value>")} (without --secret)`,
            });
            continue;
        }
        raw[name] = entry.value ?? "";
        if (entry.secret) secretNames.add(name);
    }
    const checked = checkSettings(raw, fixes, secretNames, { kubeconfigGiven: kubeconfig !== undefined });
    issues.push(...checked.issues);
    const { adopted, issues: adoptionIssues } = checkAdoption(adoption, checked.settings?.keyThreshold, fixes);
    issues.push(...adoptionIssues);
    if (kubeconfig !== undefined && !kubeconfig.secret) {
        // A kubeconfig holds credentials: refused in plain text, like the adoption keys.
        issues.push({ problem: `${PROJECT}:kubeconfig is stored in plain text`, fix: `${fixes.setSecret("kubeconfig", "<value>")} (e.g. < my-cluster.yaml)` });
    } else if (
        kubeconfig?.value !== undefined &&
        !/^\s*(apiVersion|kind|clusters|contexts|users|current-context|preferences)\s*:|^\s*\{/m.test(kubeconfig.value)
    ) {
        issues.push({
            problem: `${PROJECT}:kubeconfig does not look like a kubeconfig (YAML with clusters, contexts and users)`,
            fix: `${fixes.setSecret("kubeconfig", "<value>")} < path/to/kubeconfig.yaml`,
        });
    }
    return {
        settings: issues.length === 0 ? checked.settings : undefined,
        adopted,
        kubeconfig: kubeconfig?.value,
        warnings: checked.warnings,
        issues,
    };
}

/** checkConfig, throwing ConfigError with every issue. */
export function parseConfig(entries: Record<string, ConfigEntry>, options: ReadOptions = {}): ParsedSettings & { adopted?: AdoptedKeys; kubeconfig?: string } {
    const { settings, adopted, kubeconfig, warnings, issues } = checkConfig(entries, options);
    if (!settings || issues.length > 0) throw new ConfigError(issues);
    return { settings, adopted, kubeconfig, warnings };
}

/**
 * Turns the `config:` map of a Pulumi.<stack>.yaml into the raw strings Pulumi would hand the program, keeping only
 * this project's keys (a key without a namespace is the project's, as for the CLI). Encrypted values (`{secure: ...}`)
 * are left out: they cannot be read without the CLI.
 */
export function rawFromStackConfig(config: Record<string, unknown> | undefined): Partial<Record<string, string>> {
    const raw: Partial<Record<string, string>> = {};
    for (const [key, value] of Object.entries(config ?? {})) {
        const parsed = splitConfigKey(key);
        if (parsed?.namespace !== PROJECT) continue;
        if (value !== null && typeof value === "object" && "secure" in value) continue;
        raw[parsed.name] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return raw;
}

/**
 * Reads the running Pulumi program's config (every namespace, with the stack's name for the fixes), validates it and
 * logs warnings. Call it before creating any resource, so that bad input stops the program with nothing created.
 */
export function loadSettings(): { settings: Settings; adopted?: AdoptedKeys; kubeconfig?: string } {
    // Imported here so that the pure functions above load without the Pulumi runtime (npm run render).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    // Public in the SDK's JavaScript, but not in its typings.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };
    const entries: Record<string, ConfigEntry> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) entries[key] = { value, secret: isConfigSecret(key) };
    const { settings, adopted, kubeconfig, warnings } = parseConfig(entries, { stack: pulumi.getStack() });
    for (const warning of warnings) pulumi.log.warn(warning);
    return { settings, adopted, kubeconfig };
}
