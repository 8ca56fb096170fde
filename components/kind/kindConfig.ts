/**
 * The kind cluster configuration, built as data and serialised with a YAML library (never a string template).
 */
import { createHash } from "crypto";
import { parse, stringify } from "yaml";
import type { Settings } from "../config/settings";
import { OWNER_LABEL_KEY } from "../vault/names";

/** Label that pins the ingress controller to the node whose ports are mapped to the host. */
export const INGRESS_NODE_LABEL = { key: "ingress-ready", value: "true" } as const;

export interface PortMapping {
    containerPort: number;
    hostPort: number;
    protocol: "TCP";
}

export interface KindNode {
    role: "control-plane" | "worker";
    labels?: Record<string, string>;
    extraPortMappings?: PortMapping[];
}

export interface KindClusterConfig {
    kind: "Cluster";
    apiVersion: "kind.x-k8s.io/v1alpha4";
    name: string;
    nodes: KindNode[];
}

type KindSettings = Pick<Settings, "clusterName" | "workers" | "ingressHttpPort" | "ingressHttpsPort" | "nodePorts">;

/**
 * One control-plane node that carries every host port mapping and the ingress label, plus one worker per raft peer.
 * The label uses kind's native `labels` field: a kubeadm `node-labels` patch would replace these labels, not add to them.
 */
export function buildKindConfig(s: KindSettings): KindClusterConfig {
    const tcp = (containerPort: number, hostPort: number): PortMapping => ({ containerPort, hostPort, protocol: "TCP" });
    return {
        kind: "Cluster",
        apiVersion: "kind.x-k8s.io/v1alpha4",
        name: s.clusterName,
        nodes: [
            {
                role: "control-plane",
                labels: { [INGRESS_NODE_LABEL.key]: INGRESS_NODE_LABEL.value },
                extraPortMappings: [
                    // The ingress controller listens on hostPort 80/443 inside the node; the host side is configurable.
                    tcp(80, s.ingressHttpPort),
                    tcp(443, s.ingressHttpsPort),
                    // A NodePort is only reachable from the host when the same number is mapped on both sides.
                    ...s.nodePorts.map((port) => tcp(port, port)),
                ],
            },
            ...Array.from({ length: s.workers }, (): KindNode => ({ role: "worker" })),
        ],
    };
}

export function kindConfigYaml(s: KindSettings): string {
    return stringify(buildKindConfig(s));
}

export { OWNER_LABEL_KEY };

/**
 * A label value, as Kubernetes validates it (IsLabelValue in k8s.io/apimachinery/pkg/api/validate/content/kube.go):
 * at most 63 characters, alphanumerics, '-', '_' and '.', starting and ending with an alphanumeric. kind passes node
 * labels to the kubelet as --node-labels (kind pkg/cluster/internal/create/actions/config/config.go), and the kubelet
 * refuses to start with an invalid one (ValidateKubeletFlags in kubernetes cmd/kubelet/app/options/options.go).
 */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_VALUE_MAX = 63;

/** `<project>.<stack>` when that is a valid label value; otherwise a digest of the two, which always is. */
export function ownerLabelValue(project: string, stack: string): string {
    const readable = `${project}.${stack}`;
    if (readable.length <= LABEL_VALUE_MAX && LABEL_VALUE.test(readable)) return readable;
    return `sha256-${createHash("sha256").update(`${project}\n${stack}`).digest("hex").slice(0, 40)}`;
}

/** The config with the owner label added to every node (other labels kept). */
export function withOwnerLabel(config: KindClusterConfig, owner: string): KindClusterConfig {
    return { ...config, nodes: config.nodes.map((n) => ({ ...n, labels: { ...n.labels, [OWNER_LABEL_KEY]: owner } })) };
}

/**
 * Adds the owner label to the YAML of kindConfigYaml. The unmarked YAML stays what it was before vault-ha marked its
 * clusters: KindCluster keys its triggers (a change rebuilds the cluster) on it, so adding the mark rebuilds nothing.
 */
export function markKindConfigYaml(configYaml: string, owner: string): string {
    return stringify(withOwnerLabel(parse(configYaml) as KindClusterConfig, owner));
}
