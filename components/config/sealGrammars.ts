/**
 * The grammars of the seal settings (sealDeclarations.ts): values written into Vault's server configuration, the
 * transit address and mount, an AWS region, a workload identity's text and a PEM CA bundle.
 */
import { X509Certificate } from "crypto";
import { z } from "zod";
import { Field, fromZod, ok, wrong } from "./grammars";

/**
 * Words the Vault chart's start script replaces anywhere in the server configuration with the pod's own values
 * (vault-helm 0.34.1 templates/_helpers.tpl vault.args: `sed -Ei "s|HOST_IP|${HOST_IP?}|g"`, and so on), so a value
 * holding one would reach Vault changed.
 */
export const CHART_CONFIG_PLACEHOLDERS = ["HOST_IP", "POD_IP", "HOSTNAME", "API_ADDR", "TRANSIT_ADDR", "RAFT_ADDR"] as const;

/** Why a value written into Vault's server configuration (a seal stanza) would not reach Vault as written, if it would not. */
export function serverConfigValueProblem(text: string): string | undefined {
    if (!/^[\x21-\x7e]*$/.test(text)) return "must be one word of printable ASCII: no spaces, line breaks or other characters";
    const placeholder = CHART_CONFIG_PLACEHOLDERS.find((word) => text.includes(word));
    if (placeholder)
        return `must not contain ${placeholder}: the Vault chart's start script replaces that word in the server configuration with the pod's own value`;
    if (text.includes("{{") || text.includes("${"))
        return 'must not contain "{{" or "${": the chart passes the server configuration through Helm\'s tpl, and HCL interpolates "${"';
    if (/["\\]/.test(text)) return "must not contain a quote or a backslash";
    return undefined;
}

/** Empty (not set) or one word for Vault's server configuration, checked by serverConfigValueProblem and then `shape`. */
export const serverConfigValue =
    (shape?: (text: string) => string | undefined): Field<string> =>
    (input) => {
        const text = typeof input === "string" ? input.trim() : String(input);
        if (text === "") return ok(text);
        const why = serverConfigValueProblem(text) ?? shape?.(text);
        return why ? wrong(why) : ok(text);
    };

/** An AWS region as the SDK names it: us-east-1, eu-central-2, us-gov-west-1. */
export const awsRegion = serverConfigValue((text) => (/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(text) ? undefined : "must be an AWS region such as eu-west-1"));

/** The transit Vault's address: https, a host, an optional port and no path beyond "/" (the stanza's `address`). */
export const transitAddress = serverConfigValue((text) => {
    let url: URL;
    try {
        url = new URL(text);
    } catch {
        return "must be the transit Vault's address, such as https://vault.example.com:8200";
    }
    if (url.protocol !== "https:") return "must start with https://: the token travels with every request to the transit Vault";
    if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")) {
        return "must be only https://HOST[:PORT], without a path, credentials, query or fragment";
    }
    return undefined;
});

/** A transit mount path without leading or trailing slash: transit, or nested such as team/transit. */
export const transitMount = serverConfigValue((text) =>
    /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(text) ? undefined : "must be the transit engine's mount path, such as transit (no leading or trailing slash)",
);

/** One line of text, at most 253 characters (a workload identity: a role ARN, an email, a client id). */
export const identityText = fromZod(
    z
        .string()
        .trim()
        .max(253, "must be at most 253 characters")
        .regex(/^[\x21-\x7e]*$/, "must be one word of printable ASCII"),
);

/** Empty, or PEM CERTIFICATE blocks that each parse as an X.509 certificate (a CA bundle). */
export const pemCertificates: Field<string> = (input) => {
    const text = typeof input === "string" ? input.trim() : String(input);
    if (text === "") return ok(text);
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    const rest = blocks.reduce((left, block) => left.replace(block, ""), text).trim();
    if (blocks.length === 0 || rest !== "")
        return wrong("must be PEM certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----) and nothing else");
    for (const [index, block] of blocks.entries()) {
        try {
            new X509Certificate(block);
        } catch {
            return wrong(`holds a certificate (number ${index + 1}) that does not parse`);
        }
    }
    return ok(text + "\n");
};
