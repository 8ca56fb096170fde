// @ts-check
/**
 * SIMULATOR — where the kube-scheduler places the pods vault-ha's front door depends on: Envoy's proxy pod (the
 * Gateway on kind) and the pods that hold host ports on the nodes (ingress-nginx's controller). Not a scheduler: the
 * filters those pods meet, run node by node in the default profile's order, stopping at a node's first failure.
 *
 * Sources (kubernetes v1.35):
 * - pkg/scheduler/framework/plugins/nodeunschedulable: spec.unschedulable, "node(s) were unschedulable".
 * - plugins/tainttoleration/taint_toleration.go: a NoSchedule/NoExecute taint no toleration tolerates,
 *   "node(s) had untolerated taint {<key>: <value>}"; k8s.io/api core/v1 toleration.go ToleratesTaint (an empty
 *   effect matches every effect, Exists matches any value, an empty key with Exists matches every taint).
 * - plugins/nodeaffinity/node_affinity.go: spec.nodeSelector, ErrReasonPod "node(s) didn't match Pod's node
 *   affinity/selector".
 * - plugins/nodeports/node_ports.go: Filter is Unschedulable with ErrReason "node(s) didn't have free ports for the
 *   requested pod ports" when a (hostIP, protocol, hostPort) the pod asks for is used by a pod on the node
 *   (fitsPorts, HostPortInfo.CheckConflict; hostIP 0.0.0.0, the default, conflicts with every IP). A pod keeps its
 *   ports until it is gone, so the pod waits, Pending, and is scheduled when the holder leaves.
 * - framework/types.go FitError.Error: "0/<nodes> nodes are available: <count> <reason>, ... ." (the reasons with
 *   their counts, sort.Strings'ed). The PostFilter (preemption) suffix is not modelled.
 * - Every node carries the kubelet's labels kubernetes.io/os, kubernetes.io/arch and kubernetes.io/hostname
 *   (pkg/kubelet/kubelet_node_status.go initialNode); kind adds the labels of its cluster config's nodes
 *   (kind pkg/cluster/internal/create/actions/config: --node-labels).
 */

/**
 * A pod's placement constraints: what the filters above read.
 * @typedef {{ nodeSelector: Record<string, string>, tolerations: any[], hostPorts: Array<{ hostPort: number, protocol: string }> }} PodPlacement
 * A running pod holding host ports on a node, from `since` until `until` (null: still there).
 * @typedef {{ namespace: string, name: string, node: string, hostPorts: Array<{ hostPort: number, protocol: string }>, since: number, until: number | null }} HostPortPod
 */

/** @param {any} node @returns {Record<string, string>} */
function nodeLabels(node) {
    return { "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": node.name, "kubernetes.io/os": "linux", ...(node.labels ?? {}) };
}

/** ToleratesTaint. @param {any} t a toleration @param {{ key: string, value?: string, effect: string }} taint */
function tolerates(t, taint) {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.key && t.key !== taint.key) return false;
    if ((t.operator ?? "Equal") === "Exists") return true;
    return !!t.key && (t.value ?? "") === (taint.value ?? "");
}

/** @param {any} kube @param {number} at @returns {HostPortPod[]} */
function holdersAt(kube, at) {
    return (kube.hostPortPods ?? []).filter((/** @type {HostPortPod} */ p) => p.since <= at && (p.until === null || p.until > at));
}

/**
 * The first filter the node fails for this pod at time `at`, as the scheduler words it; undefined when it fits.
 * @param {any} kube @param {any} node @param {PodPlacement} pod @param {number} at
 */
function filterNode(kube, node, pod, at) {
    if (node.unschedulable) return "node(s) were unschedulable";
    const taint = (node.taints ?? []).find(
        (/** @type {any} */ x) => (x.effect === "NoSchedule" || x.effect === "NoExecute") && !pod.tolerations.some((t) => tolerates(t, x)),
    );
    if (taint) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`;
    const labels = nodeLabels(node);
    if (!Object.entries(pod.nodeSelector).every(([k, v]) => labels[k] === v)) return "node(s) didn't match Pod's node affinity/selector";
    const used = holdersAt(kube, at)
        .filter((p) => p.node === node.name)
        .flatMap((p) => p.hostPorts);
    if (pod.hostPorts.some((w) => used.some((u) => u.hostPort === w.hostPort && u.protocol === w.protocol))) {
        return "node(s) didn't have free ports for the requested pod ports";
    }
    return undefined;
}

/**
 * Where and when a pod created at `createdAt` is scheduled: the first moment from then on (its creation, or a holder
 * leaving) at which a node fits, and the first such node. Null while no node will ever fit as the cluster stands.
 * @param {any} kube @param {PodPlacement} pod @param {number} createdAt @returns {{ node: string, at: number } | null}
 */
function scheduled(kube, pod, createdAt) {
    const moments = [createdAt, ...(kube.hostPortPods ?? []).map((/** @type {HostPortPod} */ p) => p.until).filter((u) => u !== null && u > createdAt)];
    for (const at of moments.sort((a, b) => a - b)) {
        const node = kube.nodes.find((/** @type {any} */ n) => filterNode(kube, n, pod, at) === undefined);
        if (node) return { node: node.name, at };
    }
    return null;
}

/** The scheduler's FailedScheduling message for the pod at time `at` (FitError.Error). @param {any} kube @param {PodPlacement} pod @param {number} at */
function unschedulableMessage(kube, pod, at) {
    /** @type {Record<string, number>} */
    const counts = {};
    for (const n of kube.nodes) {
        const reason = filterNode(kube, n, pod, at);
        if (reason) counts[reason] = (counts[reason] ?? 0) + 1;
    }
    const reasons = Object.entries(counts)
        .map(([reason, count]) => `${count} ${reason}`)
        .sort();
    return `0/${kube.nodes.length} nodes are available: ${reasons.join(", ")}.`;
}

/**
 * Runs a pod that holds host ports (a controller's, as its chart places it), from now on: the scheduler places it as
 * any other pod. Throws when it would not be scheduled at once: the tests that need one running say so.
 * @param {{ kube: any, now: number }} s @param {{ namespace: string, name: string } & PodPlacement} pod
 */
function runHostPortPod(s, pod) {
    const place = scheduled(s.kube, pod, s.now);
    if (!place || place.at !== s.now)
        throw new Error(`simulator: ${pod.namespace}/${pod.name} would not be scheduled: ${unschedulableMessage(s.kube, pod, s.now)}`);
    s.kube.hostPortPods = [
        ...(s.kube.hostPortPods ?? []),
        { namespace: pod.namespace, name: pod.name, node: place.node, hostPorts: pod.hostPorts, since: s.now, until: null },
    ];
}

/** The pod is deleted now (its controller uninstalled): its host ports are free from now on. @param {{ kube: any, now: number }} s @param {string} name */
function stopHostPortPod(s, name) {
    const pod = (s.kube.hostPortPods ?? []).find((/** @type {HostPortPod} */ p) => p.name === name && p.until === null);
    if (!pod) throw new Error(`simulator: no running host-port pod ${name}`);
    pod.until = s.now;
}

/**
 * kind's node labels from the cluster config the program writes (components/kind/kindConfig.ts): its nodes in order,
 * control plane first, onto the simulated nodes in order. @param {any} kube @param {{ nodes: Array<{ labels?: Record<string, string> }> }} config
 */
function labelKindNodes(kube, config) {
    if (config.nodes.length !== kube.nodes.length)
        throw new Error(`simulator: the kind config has ${config.nodes.length} nodes, the cluster ${kube.nodes.length}`);
    config.nodes.forEach((n, i) => {
        if (n.labels) kube.nodes[i].labels = { ...n.labels };
    });
}

module.exports = { labelKindNodes, nodeLabels, runHostPortPod, scheduled, stopHostPortPod, unschedulableMessage };
