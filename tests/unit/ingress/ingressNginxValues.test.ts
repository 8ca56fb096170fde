/**
 * ingressNginxValues (components/ingress/ingressNginxValues.ts) for each target: kind's values unchanged, and an
 * existing cluster's without anything kind-specific. What Helm renders from them: tests/charts/ingressModes.test.ts.
 */
import { strict as assert } from "assert";
import { ingressNginxValues } from "../../../components/ingress/ingressNginxValues";

describe("ingressNginxValues", () => {
    it("kind is the default target, with the values existing kind stacks were installed with", () => {
        assert.deepEqual(ingressNginxValues(), ingressNginxValues("kind"));
        assert.deepEqual(ingressNginxValues("kind"), {
            controller: {
                hostPort: { enabled: true, ports: { http: 80, https: 443 } },
                nodeSelector: { "kubernetes.io/os": "linux", "ingress-ready": "true" },
                tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
                extraArgs: { "enable-ssl-passthrough": "true", "publish-status-address": "localhost" },
                publishService: { enabled: false },
                service: { type: "NodePort" },
                ingressClass: "nginx",
                ingressClassResource: { name: "nginx", enabled: true, default: true },
                updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
                terminationGracePeriodSeconds: 0,
            },
        });
    });

    it("an existing cluster: a LoadBalancer, published in Ingress status, SSL passthrough, no host ports, no kind node, not the default class", () => {
        const c = (ingressNginxValues("existing") as { controller: Record<string, any> }).controller;
        assert.deepEqual(c.service, { type: "LoadBalancer" });
        assert.deepEqual(c.hostPort, { enabled: false });
        assert.deepEqual(c.publishService, { enabled: true });
        assert.deepEqual(c.extraArgs, { "enable-ssl-passthrough": "true" });
        assert.deepEqual(c.ingressClassResource, { name: "nginx", enabled: true, default: false });
        for (const kindOnly of ["nodeSelector", "tolerations", "updateStrategy", "terminationGracePeriodSeconds"])
            assert.equal(c[kindOnly], undefined, kindOnly);
    });
});
