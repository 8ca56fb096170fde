/**
 * The grammars of vault-ha's settings: what text each kind of value accepts, and what the message says when it does
 * not. Each parser reads one value on its own; rules between settings are in settingRules.ts and modeRules.ts.
 */
import { isIP } from "net";
import { z } from "zod";
import { tlsName, tlsNameProblem } from "../tls/tlsConfig";

/** Kubernetes' default NodePort range; kind does not change it. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

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

/** A value read, or what is wrong with it; `index` names the list item at fault. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: Array<{ message: string; index?: number }> };
export type Field<T> = (input: unknown) => Parsed<T>;

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const wrong = <T>(message: string, index?: number): Parsed<T> => ({ ok: false, errors: [{ message, index }] });

/** A zod schema as a field; only its first issue is reported, so order the checks from the most helpful. */
export const fromZod =
    <T>(schema: z.ZodType<T>): Field<T> =>
    (input) => {
        const result = schema.safeParse(input);
        return result.success ? ok(result.data) : wrong(result.error.issues[0].message);
    };

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KV_MOUNT = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const SEMVER = /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;
export const PINNED_IMAGE = /^[^\s@]+:[^\s@:/]+@sha256:[0-9a-f]{64}$/;
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
export const wholeNumber =
    (min: number, max: number): Field<number> =>
    (input) => {
        const value = typeof input === "number" ? input : typeof input === "string" && DECIMAL_INTEGER.test(input) ? Number(input) : NaN;
        if (!Number.isInteger(value)) return wrong("must be a whole number written in decimal digits");
        if (value < min) return wrong(`must be at least ${min}`);
        if (value > max) return wrong(`must be at most ${max}`);
        return ok(value);
    };

export const hostPort = wholeNumber(1, 65535);
export const nodePort = wholeNumber(NODE_PORT_RANGE.min, NODE_PORT_RANGE.max);

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

export const raftStorageSize: Field<string> = (input) => {
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

export const dnsLabel = (maxLength: number, why: string) =>
    z
        .string()
        .min(1, "must not be empty")
        .max(maxLength, `must be at most ${maxLength} characters (${why})`)
        .regex(DNS1123_LABEL, "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit");

export const namespace: Field<string> = (input) => {
    const parsed = fromZod(dnsLabel(63, "a Kubernetes namespace name"))(input);
    if (!parsed.ok) return parsed;
    const why = reservedNamespace(parsed.value);
    return why ? wrong(`is reserved: ${why}; vault-ha creates each component's namespace, and deletes it with the stack`) : parsed;
};

export const chartVersion = fromZod(
    z
        .string()
        .trim()
        .min(1, "must not be empty: an unpinned chart installs whatever is newest that day")
        .regex(SEMVER, "must be an exact chart version such as 1.2.3"),
);

export const bool = fromZod(
    z.preprocess(
        (v) => (typeof v === "string" ? v.trim().toLowerCase() : v),
        z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")], { error: "must be true or false" }),
    ),
);

export const kvMount: Field<string> = (input) => {
    const parsed = fromZod(z.string().trim().regex(KV_MOUNT, "must be a Vault mount path without slashes, such as mysecret"))(input);
    if (!parsed.ok) return parsed;
    return (VAULT_RESERVED_MOUNTS as readonly string[]).includes(parsed.value)
        ? wrong(`is reserved by Vault, which refuses to mount anything at ${VAULT_RESERVED_MOUNTS.join(", ")}`)
        : parsed;
};

/** A list setting as Pulumi hands it over (JSON text) or as a test gives it; anything else as it is, for the message. */
export function jsonList(input: unknown): unknown {
    if (typeof input !== "string") return input;
    try {
        return JSON.parse(input);
    } catch {
        return input;
    }
}

/** nodePorts: a list (JSON text, as Pulumi hands it over), not empty, each item a NodePort, none twice. */
export const nodePorts: Field<number[]> = (input) => {
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
export const oneOf = <T extends string>(values: readonly T[]): Field<T> =>
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
export const podResource =
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
export const tlsExtraNames: Field<string[]> = (input) => {
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
export const listOf =
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
export function cidrProblem(text: string): string | undefined {
    const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
    const kind = match ? isIP(match[1]) : 0;
    if (!match || kind === 0) return "must be a network such as 203.0.113.0/24 or 2001:db8::/32";
    return Number(match[2]) > (kind === 4 ? 32 : 128) ? `has a prefix longer than an IPv${kind} address` : undefined;
}

/** key=value, the key a Kubernetes annotation key: an optional DNS-subdomain prefix and "/", then a name of at most 63. */
export function annotationProblem(text: string): string | undefined {
    const at = text.indexOf("=");
    if (at <= 0) return "must be key=value";
    const key = text.slice(0, at);
    const [prefix, name] = key.includes("/") ? [key.slice(0, key.lastIndexOf("/")), key.slice(key.lastIndexOf("/") + 1)] : [undefined, key];
    if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return `has a key prefix (${prefix}) that is not a DNS subdomain`;
    return /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(name) ? undefined : `has a key name (${name}) Kubernetes refuses`;
}

// A kubeconfig context name is free text (EKS names them by ARN); only a line break could not be one.
export const kubeContextName = fromZod(
    z
        .string()
        .trim()
        .max(253, "must be at most 253 characters")
        .regex(/^[^\r\n\t]*$/, "must be one line: the name of a context in your kubeconfig"),
);

// A node is a container named <cluster>-control-plane whose hostname must fit in 63 characters.
export const kindClusterName = fromZod(dnsLabel(49, "kind appends '-control-plane' to form a 63-character host name"));

export const kindNodeImage = fromZod(
    z
        .string()
        .trim()
        .regex(
            PINNED_IMAGE,
            "must be pinned by digest (<image>:<tag>@sha256:<64 hex>), as kind requires: a node image only works with the kind release that built it",
        ),
);

export const vaultImage = fromZod(
    z
        .string()
        .trim()
        .regex(VAULT_IMAGE_PATTERN, "must be <repository>:<version>, optionally @sha256:<digest>, such as hashicorp/vault:2.0.4 (not latest)")
        .refine(
            (image) => !VAULT_TAGS_NEEDING_IPC_LOCK.includes(VAULT_IMAGE_PATTERN.exec(image)?.groups?.tag ?? ""),
            "this Vault release needs the IPC_LOCK capability, which the chart does not grant, so its pods would not start; use the next patch release",
        ),
);

export const ingressHost = fromZod(
    z.string().trim().max(253, "must be at most 253 characters").regex(DNS1123_SUBDOMAIN, "must be a lower-case DNS name such as vault.localhost"),
);

export const ingressClassName = fromZod(
    z.string().trim().max(253, "must be at most 253 characters").regex(DNS1123_SUBDOMAIN, "must be an IngressClass name such as nginx"),
);

export const storageClass = fromZod(
    z
        .string()
        .trim()
        .max(253, "must be at most 253 characters")
        .regex(/^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "must be empty (the cluster's default) or a StorageClass name"),
);

export const vaultCpu = podResource("CPU", "250m or 1", { text: "10m", units: 1n, per: 100n }, { text: "64", units: 64n, per: 1n });
export const vaultMemory = podResource(
    "memory",
    "256Mi or 1Gi",
    { text: "64Mi", units: 64n * 2n ** 20n, per: 1n },
    { text: "256Gi", units: 256n * 2n ** 30n, per: 1n },
);
export const cidrList = listOf("CIDR", `["203.0.113.0/24"]`, cidrProblem);
export const annotationList = listOf("annotation", `["service.beta.kubernetes.io/aws-load-balancer-scheme=internal"]`, annotationProblem);
