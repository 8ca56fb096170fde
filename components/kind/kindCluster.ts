/**
 * KindCluster: the kind cluster itself, created and deleted with the kind CLI through @pulumi/command, and a
 * Kubernetes provider for everything that runs inside it.
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { markKindConfigYaml, OWNER_LABEL_KEY } from "./kindConfig";
import {
    DOCKER_UNAVAILABLE,
    dockerUnavailableMessage,
    KindShape,
    liveShapeChanges,
    parseNodesReport,
    parseShapeRecord,
    shapeChangeMessage,
    shapeChanges,
    stoppedNodesWarning,
    vanishedMessage,
} from "./kindShape";

export interface KindClusterArgs {
    /** kind cluster name; the kubeconfig context becomes `kind-<name>`. */
    clusterName: string;
    /** Node image pinned by digest; it must come from the release notes of the installed kind. */
    nodeImage: string;
    /** The cluster configuration as YAML (see kindConfig.ts), without the owner mark. */
    configYaml: string;
    /** Who owns the cluster (ownerLabelValue of the project and stack): every node is labelled with it. */
    owner: string;
    /** What kind cannot change in a running cluster (kindShape of the settings and configYaml). */
    shape: KindShape;
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
/** The docker inspect template of KIND_NODES_SCRIPT: one JSON object per container. */
export const NODE_INSPECT_FORMAT =
    '{"name":{{json .Name}},"role":{{json (index .Config.Labels "io.x-k8s.kind.role")}},"state":{{json .State.Status}},"image":{{json .Config.Image}},"ports":{{json .HostConfig.PortBindings}}}';

/** The shape record's command: it prints the shape it was created with (see KindCluster). */
export const SHAPE_RECORD_SCRIPT = `printf '%s\\n' "$VAULT_HA_KIND_SHAPE"`;

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

/**
 * Prints the node containers of kind cluster $KIND_CLUSTER_NAME, one JSON object per line (name, kind's role label,
 * state, image, published ports), nothing when it has none, or DOCKER_UNAVAILABLE and Docker's error when Docker
 * does not answer. Always exits 0: the program reads the answer and says what it means (kindShape.ts).
 *
 * What it relies on:
 * - kind labels every node container io.x-k8s.kind.cluster=<cluster> and io.x-k8s.kind.role=<role> (kind
 *   pkg/cluster/internal/providers/docker/constants.go clusterLabelKey, nodeRoleLabelKey; provision.go commonArgs,
 *   runArgsForNode) and lists a cluster's nodes with `docker ps -a` and that filter, stopped ones included
 *   (provider.go ListNodes): a cluster whose containers were stopped by a Docker restart is listed, not "gone";
 * - kind publishes each extraPortMapping as --publish=<address>:<hostPort>:<containerPort>/<protocol>, and the API
 *   server's port 6443 on the control plane (provision.go planCreation, generatePortMappings), which docker inspect
 *   shows in HostConfig.PortBindings, keyed "<port>/<protocol>" (docker/go-connections nat.PortMap);
 * - docker's --format templates offer `json` and Go's `index` (docker/cli templates/templates.go), and `index` of a
 *   missing label is "".
 */
export const KIND_NODES_SCRIPT = `set -uf
name=$KIND_CLUSTER_NAME
if ! names=$(docker ps -a --filter "label=io.x-k8s.kind.cluster=$name" --format '{{.Names}}' 2>&1); then
  printf '%s\\n%s\\n' '${DOCKER_UNAVAILABLE}' "$names"
  exit 0
fi
[ -n "$names" ] || exit 0
if ! out=$(docker inspect --format '${NODE_INSPECT_FORMAT}' $names 2>&1); then
  printf '%s\\n%s\\n' '${DOCKER_UNAVAILABLE}' "$out"
  exit 0
fi
printf '%s\\n' "$out"
`;

/** kind documents delete as idempotent: it exits 0 when the cluster is already gone. */
export const KIND_DELETE_SCRIPT = `kind delete cluster --name "$KIND_CLUSTER_NAME"`;

export class KindCluster extends pulumi.ComponentResource {
    /** The command resource that owns the cluster; pass it as `deletedWith` to everything inside the cluster. */
    public readonly command: command.local.Command;
    /** Records the shape the cluster was created with (see the constructor). */
    public readonly shapeRecord: command.local.Command;
    public readonly clusterName: pulumi.Output<string>;
    /** Admin kubeconfig of the cluster (holds a client key): secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly kubeContext: pulumi.Output<string>;
    public readonly provider: k8s.Provider;

    constructor(name: string, args: KindClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vault-ha:kind:KindCluster", name, {}, opts);

        const stack = pulumi.getStack();
        const desired = args.shape;
        // Stops the program: the whole message as this component's error, and a short RunError (no stack trace). The
        // SDK prefixes the thrown error's message with the path of every input it fails to serialize
        // (@pulumi/pulumi runtime/rpc.js serializeFilteredProperties), which would bury the message's first line.
        const stop: (message: string) => never = (message) => {
            pulumi.log.error(message, this);
            throw new pulumi.RunError(`${message.split("\n")[0]} Stopped before changing anything: see the error of ${name} (vault-ha:kind:KindCluster).`);
        };
        const nodes = (check: string, dependsOn?: pulumi.Resource[]) =>
            command.local
                .runOutput(
                    {
                        command: KIND_NODES_SCRIPT,
                        environment: { KIND_CLUSTER_NAME: args.clusterName, VAULT_HA_CHECK: check },
                        logging: command.types.enums.local.Logging.None,
                        addPreviousOutputInEnv: false,
                    },
                    { parent: this, dependsOn },
                )
                .stdout.apply(parseNodesReport);

        // Before the cluster is touched, on every preview and up: a change of the cluster's shape stops the program
        // here, so the kind Command (whose triggers would replace the cluster, deleting it first) is never
        // registered, and nor is anything inside the cluster. A failing program deletes nothing either: the engine
        // generates deletes only after the program has finished without error (pulumi/pulumi pkg/resource/deploy/
        // deployment_executor.go Execute: a source error cancels before performPostSteps/GenerateDeletes).
        //
        // 1. The running cluster of this name, as Docker reports it. Docker not answering proves nothing here (the
        //    check after the kind Command reports it when this stack has a cluster; kind's create says it otherwise).
        const live = nodes("shape").apply((report) => {
            if (report.docker === "ok") {
                const changes = liveShapeChanges(report.containers, desired, stack);
                if (changes.length) stop(shapeChangeMessage(args.clusterName, changes, stack, "live"));
            }
            return report;
        });

        // 2. The shape this stack accepted when it created the cluster, which knows the old name after a rename (the
        //    old cluster is not the one step 1 looked at). The record prints the shape it was created with, and
        //    `ignoreChanges: ["environment"]` keeps its inputs as they were: the engine puts the old values of ignored
        //    properties back before Check and Diff (pulumi/pulumi pkg/resource/deploy/step_generator.go
        //    processIgnoreChanges), so the record never updates and its stdout, from the state, is known in previews
        //    too. It is created with the cluster's first up (or the first up after upgrading vault-ha: step 1 covered
        //    that up), and deleted by destroy, so a rebuilt cluster records its new shape.
        this.shapeRecord = new command.local.Command(
            `${name}-shape`,
            {
                create: SHAPE_RECORD_SCRIPT,
                environment: { VAULT_HA_KIND_SHAPE: JSON.stringify(desired) },
                logging: command.types.enums.local.Logging.None,
                addPreviousOutputInEnv: false,
            },
            // Created only when step 1 passed: a new record must describe the cluster that runs.
            { parent: this, ignoreChanges: ["environment"], dependsOn: live.apply(() => []) },
        );
        const accepted = pulumi.all([this.shapeRecord.stdout, live]).apply(([recorded]) => {
            // Empty while the record is being created (a preview of a new stack): nothing to compare with yet.
            const old = parseShapeRecord(recorded);
            const changes = old ? shapeChanges(old, desired, stack) : [];
            if (old && changes.length) stop(shapeChangeMessage(old.clusterName, changes, stack, "record"));
            return [this.shapeRecord];
        });

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
                // Registered only once both shape checks passed. A dependency is not an input: adding it changes no
                // diff (step_generator.go diff compares inputs and the provider), so existing clusters see no update.
                dependsOn: accepted,
            },
        );

        // After the kind Command, on every preview and up of a stack that has it: a cluster the state holds but
        // Docker does not (kind delete cluster, a Docker reset) stops the program before anything inside the cluster
        // is registered, since the kubeconfig of the provider and of every step flows through this check. The invoke
        // waits for the kind Command's step (@pulumi/pulumi runtime/invoke.js invokeAsync: a dependency's id must be
        // known, which it is after the step, and in previews too, since local.Command returns an id from Create and
        // Update in preview: pulumi-command provider/pkg/provider/local/commandController.go). So the kind Command's
        // stdout decides whether the state holds a cluster: the kubeconfig when it does (same, or updated: Update
        // keeps the old outputs in preview), empty or unknown in the preview that creates it (Create does not run
        // the script in preview), when there is nothing to miss yet.
        const report = nodes("presence", [this.command]);
        const present = pulumi.all([report, this.command.stdout]).apply(([r, kubeconfig]) => {
            if (!kubeconfig) return false;
            if (r.docker === "unavailable") stop(dockerUnavailableMessage(args.clusterName, r.detail));
            if (r.docker === "ok" && !r.containers.length) stop(vanishedMessage(args.clusterName, stack));
            // Stopped containers (Docker restarted) are not a vanished cluster: kind lists them, and `docker start` brings it back.
            const stopped = r.docker === "ok" ? stoppedNodesWarning(args.clusterName, r.containers) : undefined;
            if (stopped) pulumi.log.warn(stopped, this);
            return true;
        });

        this.clusterName = pulumi.output(args.clusterName);
        this.kubeconfig = pulumi.secret(pulumi.all([present, this.command.stdout]).apply(([, kubeconfig]) => kubeconfig));
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
