/**
 * The kubeconfig of an existing cluster, as every part of vault-ha uses it: one context, everything it needs inline,
 * so that the Kubernetes provider and each step (which writes it to a private file) talk to the same cluster as the
 * same user, whatever else the user's kubeconfig holds or later selects.
 */
import { parse } from "yaml";

/**
 * Prints that kubeconfig on stdout. `kubectl config view --minify` with `--context` makes that context the current one
 * and drops everything it does not use; `--flatten` inlines the certificate files; `--raw` keeps the credentials
 * (kubernetes/kubectl pkg/cmd/config/view.go, ViewOptions.Run). An unknown context fails there, naming it. A kubeconfig
 * given as the `kubeconfig` secret arrives on stdin and lives in a private temporary file only while kubectl reads it:
 * never an argument, never in the environment. Exec credential plugins (EKS, GKE, AKS) stay as they are: they run
 * where the steps run, with the user's environment.
 */
export const KUBECONFIG_SCRIPT = `set -eu
if [ -n "\${VAULT_HA_KUBECONFIG_ON_STDIN:-}" ]; then
  umask 077
  file=$(mktemp)
  trap 'rm -f "$file"' EXIT
  cat > "$file"
  KUBECONFIG=$file
  export KUBECONFIG
fi
kubectl config view --raw --minify --flatten \${VAULT_HA_KUBE_CONTEXT:+"--context=$VAULT_HA_KUBE_CONTEXT"}`;

export const KUBECONFIG_ENV = { context: "VAULT_HA_KUBE_CONTEXT", onStdin: "VAULT_HA_KUBECONFIG_ON_STDIN" } as const;

/** What the program needs to know of a one-context kubeconfig: its context, cluster and API server. */
export interface KubeconfigTarget {
    context: string;
    cluster: string;
    server: string;
}

/**
 * Reads the target of a minified kubeconfig, or says what is wrong with it (without repeating any of it: it holds
 * credentials). `where` names where it came from, for the message.
 */
export function kubeconfigTarget(text: string, where: string): KubeconfigTarget {
    let doc: unknown;
    try {
        doc = parse(text);
    } catch {
        throw new Error(`${where} is not YAML`);
    }
    const config = (doc ?? {}) as {
        "current-context"?: string;
        contexts?: Array<{ name?: string; context?: { cluster?: string } }>;
        clusters?: Array<{ name?: string; cluster?: { server?: string } }>;
    };
    const context = config["current-context"];
    if (!context) throw new Error(`${where} selects no context (current-context is empty)`);
    const cluster = config.contexts?.find((c) => c.name === context)?.context?.cluster;
    if (!cluster) throw new Error(`${where}: context ${context} names no cluster`);
    const server = config.clusters?.find((c) => c.name === cluster)?.cluster?.server;
    if (!server) throw new Error(`${where}: cluster ${cluster} of context ${context} has no server`);
    return { context, cluster, server };
}
