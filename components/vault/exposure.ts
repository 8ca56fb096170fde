/**
 * How Vault's API is reached from outside the cluster, as pure functions: the address a user (and the proof) goes
 * to for each Service type, the name its certificate is verified as, and the shell lines that set a Vault CLI up.
 */
import { isIP } from "net";
import { certificateCovers, Sans, tlsServerNameFor } from "../tls/tlsConfig";
import { VAULT_API_PORT, VAULT_RELEASE_NAME, vaultScheme } from "./names";

/** The chart's API Service ({{ fullname }}-ui, templates/ui-service.yaml): the one whose type the setting chooses. */
export const API_SERVICE = `${VAULT_RELEASE_NAME}-ui`;
/**
 * The Service a port-forward goes to: the chart's vault-active (templates/server-ha-active-service.yaml, on by
 * default), which selects the pod labelled active. kubectl resolves it to one pod at start and does not use the
 * Service's endpoints (kubernetes/kubectl pkg/cmd/portforward/portforward.go), so it must select the active pod itself.
 */
export const PORT_FORWARD_SERVICE = `${VAULT_RELEASE_NAME}-active`;

/** host:port for a URL: an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
    return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

export function vaultUrl(tls: boolean, host: string, port: number): string {
    return `${vaultScheme(tls)}://${hostPort(host, port)}`;
}

/** The local address of a port-forward a user opens with portForwardCommand: 127.0.0.1, which the certificate holds. */
export const PORT_FORWARD_LOCAL = { host: "127.0.0.1", port: VAULT_API_PORT } as const;

export function portForwardCommand(context: string, namespace: string): string {
    return `kubectl --context ${context} -n ${namespace} port-forward service/${PORT_FORWARD_SERVICE} ${PORT_FORWARD_LOCAL.port}:${VAULT_API_PORT}`;
}

/**
 * The name to verify Vault's certificate as when `host` is not in it (a load balancer's or a node's IP): one it holds.
 * Undefined without TLS, or when the host is in the certificate.
 */
export function serverNameFor(sans: Sans | undefined, host: string): string | undefined {
    return sans === undefined || certificateCovers(sans, host) ? undefined : tlsServerNameFor(sans, host);
}

/**
 * The lines to paste into a shell (after `pulumi stack output caCert > vault-ca.pem`). VAULT_TLS_SERVER_NAME is read
 * by Vault's API client into the TLS config's server name (hashicorp/vault api/client.go), so the CLI verifies the
 * certificate as that name while it connects to the address.
 */
export function vaultEnv(addr: string, tls: boolean, serverName?: string): string {
    const lines = [`export VAULT_ADDR=${addr}`];
    if (tls) lines.push(`export VAULT_CACERT="$PWD/vault-ca.pem"`);
    if (tls && serverName) lines.push(`export VAULT_TLS_SERVER_NAME=${serverName}`);
    return lines.join("\n");
}
