// @ts-check
/**
 * SIMULATOR — what Envoy Gateway v1.9's Kubernetes infra provider makes for a Gateway, as far as the Gateway's status
 * depends on it: the Envoy Service's type, the Envoy Deployment's pod (where the scheduler may put it) and whether the
 * Deployment has an available replica. Not Envoy Gateway.
 *
 * Sources (envoyproxy/gateway v1.9.0):
 * - The EnvoyProxy in effect: the Gateway's spec.infrastructure.parametersRef (a LocalParametersReference: in the
 *   Gateway's namespace), else its GatewayClass's spec.parametersRef, else the defaults (internal/gatewayapi/
 *   contexts.go); the class's reference namespace defaults to "default" (internal/provider/kubernetes/controller.go).
 * - envoyService.type defaults to LoadBalancer (api/v1alpha1/shared_types.go).
 * - The Deployment (internal/infrastructure/kubernetes/proxy/resource_provider.go): envoyDeployment.pod's nodeSelector
 *   and tolerations on the pod template; envoyDeployment.patch merged over the rendered Deployment
 *   (utils.MergeWithPatch; StrategicMerge merges containers by name and their ports by containerPort). The envoy
 *   container declares only metrics 19001 and readiness 19003, without host ports (proxy/resource.go).
 * - Programmed needs the Deployment's status.availableReplicas > 0 (internal/gatewayapi/status/gateway.go
 *   updateGatewayProgrammedCondition; the status updater reads the Deployment: internal/provider/kubernetes/status.go
 *   updateStatusForGateway, predicates.go envoyObjectForGateway). A replica is available once its pod is scheduled,
 *   started and ready; `startMs` is that start (image pull and readiness), from the moment the pod is scheduled.
 */

const scheduling = require("./podScheduling.js");

const ENVOY_PROXY_GROUP = "gateway.envoyproxy.io";

/** The container the infra provider renders (proxy/resource.go expectedProxyContainers). */
const ENVOY_CONTAINER_PORTS = [
    { name: "metrics", containerPort: 19001, protocol: "TCP" },
    { name: "readiness", containerPort: 19003, protocol: "TCP" },
];

/**
 * The EnvoyProxy that applies to a Gateway, or undefined for the defaults. Throws for a reference to an EnvoyProxy not
 * applied yet: the program creates its EnvoyProxy before the Gateway (components/gateway/envoyGateway.ts).
 * @param {{ envoyProxies: any[], classes: any[] }} w @param {any} gateway
 */
function envoyProxyFor(w, gateway) {
    const find = (/** @type {string} */ namespace, /** @type {string} */ name) =>
        w.envoyProxies.find((p) => p.metadata.namespace === namespace && p.metadata.name === name);
    const local = gateway.spec.infrastructure?.parametersRef;
    const gwNs = gateway.metadata.namespace;
    if (local?.group === ENVOY_PROXY_GROUP && local.kind === "EnvoyProxy") {
        const proxy = find(gwNs, local.name);
        if (!proxy) throw new Error(`simulator: Gateway ${gwNs}/${gateway.metadata.name} names EnvoyProxy ${local.name}, which is not applied`);
        return proxy;
    }
    const cls = w.classes.find((c) => c.metadata.name === gateway.spec.gatewayClassName);
    const ref = cls?.spec.parametersRef;
    return ref?.group === ENVOY_PROXY_GROUP && ref.kind === "EnvoyProxy" ? find(ref.namespace ?? "default", ref.name) : undefined;
}

/** @param {any} proxy @returns {"LoadBalancer" | "ClusterIP" | "NodePort"} */
function serviceType(proxy) {
    return proxy?.spec?.provider?.kubernetes?.envoyService?.type ?? "LoadBalancer";
}

/**
 * The Envoy pod's placement: the pod fields, and the envoy container's ports after the strategic-merge patch.
 * @param {any} proxy @returns {import("./podScheduling.js").PodPlacement}
 */
function envoyPod(proxy) {
    const deployment = proxy?.spec?.provider?.kubernetes?.envoyDeployment ?? {};
    const patch = deployment.patch;
    if (patch && patch.type !== "StrategicMerge") throw new Error(`simulator: EnvoyProxy patch type ${patch.type} is not modelled`);
    const patched = (patch?.value?.spec?.template?.spec?.containers ?? []).find((/** @type {any} */ c) => c.name === "envoy");
    const ports = [...ENVOY_CONTAINER_PORTS];
    for (const p of patched?.ports ?? []) {
        const at = ports.findIndex((q) => q.containerPort === p.containerPort);
        if (at >= 0) ports.splice(at, 1, { ...ports[at], ...p });
        else ports.push(p);
    }
    return {
        nodeSelector: deployment.pod?.nodeSelector ?? {},
        tolerations: deployment.pod?.tolerations ?? [],
        hostPorts: ports
            .filter((p) => /** @type {any} */ (p).hostPort)
            .map((p) => ({ hostPort: /** @type {any} */ (p).hostPort, protocol: p.protocol ?? "TCP" })),
    };
}

/**
 * The Envoy Deployment of a Gateway at `now`: its available replicas, and while it has none, why (its pod's
 * PodScheduled message when the scheduler cannot place it).
 * @param {any} kube @param {{ envoyProxies: any[], classes: any[] }} w @param {{ manifest: any, envoy: { createdAt: number, startMs: number } }} gw @param {number} now
 * @returns {{ availableReplicas: number, pending?: string }}
 */
function envoyDeployment(kube, w, gw, now) {
    const pod = envoyPod(envoyProxyFor(w, gw.manifest));
    const place = scheduling.scheduled(kube, pod, gw.envoy.createdAt);
    if (!place || place.at > now) return { availableReplicas: 0, pending: scheduling.unschedulableMessage(kube, pod, now) };
    return { availableReplicas: now >= place.at + gw.envoy.startMs ? 1 : 0 };
}

module.exports = { envoyDeployment, envoyPod, envoyProxyFor, serviceType };
