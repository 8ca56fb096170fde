/**
 * KindCluster: the kind cluster itself, created and deleted with the kind CLI through @pulumi/command, and a
 * Kubernetes provider for everything that runs inside it.
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { markKindConfigYaml, OWNER_LABEL_KEY } from "./kindConfig";

export interface KindClusterArgs {
    /** kind cluster name; the kubeconfig context becomes `kind-<name>`. */
    clusterName: string;
    /** Node image pinned by digest; it must come from the release notes of the installed kind. */
    nodeImage: string;
    /** The cluster configuration as YAML (see kindConfig.ts), without the owner mark. */
    configYaml: string;
    /** Who owns the cluster (ownerLabelValue of the project and stack): every node is labelled with it. */
    owner: string;
}

/** Set to 1 to let this stack take over an existing cluster of its name that it did not create. */
export const ADOPT_ENV = "VAULT_HA_ADOPT_KIND_CLUSTER";

/**
 * Creates the cluster, or reuses an existing cluster of that name when every node carries this stack's owner label, so
 * that a re-run after a failed or interrupted `up` continues instead of failing on "node(s) already exist". Any other
 * cluster of that name is refused and left untouched (the stack's destroy would delete it), unless ADOPT_ENV=1 asks
 * to label it as this stack's. Only the kubeconfig goes to stdout (kind logs to stderr). The kubeconfig is read into a
 * 0600 file in a private temporary folder that kubectl is pointed at: it never appears in a command line.
 *
 * What it relies on in kind (https://github.com/kubernetes-sigs/kind):
 * - node containers carry the docker label io.x-k8s.kind.cluster=<cluster> (pkg/cluster/internal/providers/docker/
 *   constants.go, provision.go); `kind get clusters` lists a cluster from them with `docker ps -a`, stopped ones
 *   included (provider.go, ListClusters). Only kind's own labels are docker labels: the config's node `labels` are
 *   passed to the kubelet as --node-labels (pkg/cluster/internal/create/actions/config/config.go,
 *   pkg/cluster/internal/kubeadm/config.go), so the owner label is read from the Kubernetes API, with kubectl;
 * - `kind get kubeconfig` runs `docker exec ... cat /etc/kubernetes/admin.conf` in a control-plane container
 *   (pkg/cluster/internal/kubeconfig/kubeconfig.go), which fails while that container is stopped ("container ... is
 *   not running", moby daemon/exec.go). The script asks Docker for the containers' state first, with kind's filter
 *   (`{{.State}}` is in docker ps since before Docker 24: docker/cli cli/command/formatter/container.go), and names
 *   the ones to start.
 */
export const KIND_CREATE_SCRIPT = `set -eu
name=$KIND_CLUSTER_NAME
mark="${OWNER_LABEL_KEY}=$VAULT_HA_OWNER"
if ! clusters=$(kind get clusters); then
  echo "vault-ha: kind could not list its clusters (kind's error is above). Is Docker running? Start Docker, then run again." >&2
  exit 1
fi
if ! printf '%s\\n' "$clusters" | grep -qx "$name"; then
  kind create cluster --name "$name" --image "$KIND_NODE_IMAGE" --config - --wait 5m >&2
  kind get kubeconfig --name "$name"
  exit 0
fi

if ! states=$(docker ps -a --filter "label=io.x-k8s.kind.cluster=$name" --format '{{.Names}} {{.State}}'); then
  echo "vault-ha: Docker could not list the node containers of kind cluster $name (its error is above)." >&2
  exit 1
fi
stopped=$(printf '%s\\n' "$states" | awk 'NF && $2 != "running" { print $1 }' | sort | tr '\\n' ' ')
if [ -n "$stopped" ]; then
  echo "vault-ha: kind cluster $name exists, but some of its node containers are not running:" >&2
  printf '%s\\n' "$states" | awk 'NF && $2 != "running" { print "  " $1 " (" $2 ")" }' | sort >&2
  echo "Docker was restarted or stopped them, and kind cannot read the cluster's kubeconfig while they are down." >&2
  echo "Start Docker if it is not running, start the nodes, then run again:" >&2
  echo "  docker start \${stopped% }" >&2
  exit 1
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
trap 'exit 1' HUP INT TERM
kubeconfig="$dir/kubeconfig"
if ! (umask 077 && kind get kubeconfig --name "$name" >"$kubeconfig"); then
  echo "vault-ha: kind could not read the kubeconfig of cluster $name (kind's error is above)." >&2
  exit 1
fi
kc() { kubectl --kubeconfig "$kubeconfig" "$@"; }
count() { printf '%s' "$1" | grep -c . || true; }
if ! all=$(kc get nodes -o name); then
  echo "vault-ha: could not list the nodes of kind cluster $name to check who created it (kubectl's error is above). If its containers just started, wait a minute for its API server, then run again." >&2
  exit 1
fi
ours=$(kc get nodes -o name -l "$mark")

if [ "$(count "$all")" -gt 0 ] && [ "$(count "$ours")" -eq "$(count "$all")" ]; then
  echo "kind cluster $name already exists and its nodes carry this stack's mark $mark: reusing it" >&2
elif [ "\${${ADOPT_ENV}:-}" = 1 ]; then
  kc label nodes --all --overwrite "$mark" >&2
  echo "kind cluster $name adopted as ${ADOPT_ENV}=1 asked: its nodes are now labelled $mark, and destroying this stack deletes it" >&2
else
  if [ "$(count "$ours")" -gt 0 ]; then
    why="only some of its nodes carry the label $mark"
  elif [ -n "$(kc get nodes -o name -l "${OWNER_LABEL_KEY}")" ]; then
    why="its nodes are labelled ${OWNER_LABEL_KEY} for another vault-ha project or stack, not $VAULT_HA_OWNER (see: kubectl --context kind-$name get nodes -L ${OWNER_LABEL_KEY})"
  else
    why="its nodes do not carry the label $mark that vault-ha puts on the clusters it creates"
  fi
  cat >&2 <<EOF
vault-ha: refusing to use the existing kind cluster $name: this stack ($VAULT_HA_OWNER) did not create it;
$why.
Destroying this stack would delete the cluster it uses, so vault-ha leaves this one alone: nothing was changed.
- If this stack should manage it (for example a cluster made by a vault-ha version that did not mark its clusters),
  adopt it on purpose; this labels its nodes $mark:
    ${ADOPT_ENV}=1 npm run up        (or ${ADOPT_ENV}=1 pulumi up)
- If you do not need it, delete it, then run again:
    kind delete cluster --name $name
- To keep it, give this stack another cluster name: pulumi config set vault-ha:clusterName <another-name>
EOF
  exit 1
fi
cat "$kubeconfig"
`;

/** kind documents delete as idempotent: it exits 0 when the cluster is already gone. */
export const KIND_DELETE_SCRIPT = `kind delete cluster --name "$KIND_CLUSTER_NAME"`;

export class KindCluster extends pulumi.ComponentResource {
    /** The command resource that owns the cluster; pass it as `deletedWith` to everything inside the cluster. */
    public readonly command: command.local.Command;
    public readonly clusterName: pulumi.Output<string>;
    /** Admin kubeconfig of the cluster (holds a client key): secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly kubeContext: pulumi.Output<string>;
    public readonly provider: k8s.Provider;

    constructor(name: string, args: KindClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:kind:KindCluster", name, {}, opts);

        // Changes to any of these can only be applied by building a new cluster. The owner mark is not part of the
        // shape: marking a cluster made before vault-ha marked its clusters must not rebuild it. A change of stdin or
        // environment alone is an update, which runs the create script again (@pulumi/command v1.2.1,
        // provider/pkg/provider/local/commandController.go); only `triggers` replace (common/inputs.go): the
        // triggers are the shape.

        this.command = new command.local.Command(
            `${name}-cluster`,
            {
                create: KIND_CREATE_SCRIPT,
                delete: KIND_DELETE_SCRIPT,
                stdin: markKindConfigYaml(args.configYaml, args.owner),
                environment: { KIND_CLUSTER_NAME: args.clusterName, KIND_NODE_IMAGE: args.nodeImage, VAULT_HA_OWNER: args.owner },
                triggers: [args.clusterName, args.nodeImage, args.configYaml],
                // stdout is the kubeconfig: keep it out of the logs and out of the environment of later runs.
                logging: command.types.enums.local.Logging.Stderr,
                addPreviousOutputInEnv: false,
            },
            {
                parent: this,
                additionalSecretOutputs: ["stdout"],
                // The replacement has the same name: the old cluster must be gone before the new one is created,
                // or the idempotent create would adopt the old cluster and the delete would then remove it.
                deleteBeforeReplace: true,
                customTimeouts: { create: "15m", update: "15m", delete: "5m" },
            },
        );

        this.clusterName = pulumi.output(args.clusterName);
        this.kubeconfig = pulumi.secret(this.command.stdout);
        this.kubeContext = pulumi.output(`kind-${args.clusterName}`);

        this.provider = new k8s.Provider(
            `${name}-k8s`,
            {
                kubeconfig: this.kubeconfig,
                // Replace the provider (and with it every in-cluster resource) exactly when the cluster is rebuilt,
                // not whenever the kubeconfig is unknown during a preview.
                clusterIdentifier: `${args.clusterName}-${createHash("sha256").update(`${args.nodeImage}\n${args.configYaml}`).digest("hex").slice(0, 12)}`,
            },
            { parent: this },
        );

        this.registerOutputs({
            clusterName: this.clusterName,
            kubeconfig: this.kubeconfig,
            kubeContext: this.kubeContext,
        });
    }
}
