/**
 * The kind cluster configuration, built as data and serialised with a YAML library (never a string template).
 */
import { stringify } from "yaml";
import type { Settings } from "./settings";

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
