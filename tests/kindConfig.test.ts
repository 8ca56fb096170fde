import { strict as assert } from "assert";
import { parse } from "yaml";
import { buildKindConfig, kindConfigYaml } from "../components/kindConfig";
import { parseSettings } from "../components/settings";

describe("kind config", () => {
    const lab = parseSettings({}).settings;

    it("has one control-plane labelled ingress-ready=true with host ports 80, 443, 30000 and 30001", () => {
        const config = buildKindConfig(lab);
        assert.equal(config.apiVersion, "kind.x-k8s.io/v1alpha4");
        assert.equal(config.kind, "Cluster");
        assert.equal(config.name, "vault");
        const controlPlanes = config.nodes.filter((n) => n.role === "control-plane");
        assert.equal(controlPlanes.length, 1);
        assert.deepEqual(controlPlanes[0].labels, { "ingress-ready": "true" });
        assert.deepEqual(controlPlanes[0].extraPortMappings, [
            { containerPort: 80, hostPort: 80, protocol: "TCP" },
            { containerPort: 443, hostPort: 443, protocol: "TCP" },
            { containerPort: 30000, hostPort: 30000, protocol: "TCP" },
            { containerPort: 30001, hostPort: 30001, protocol: "TCP" },
        ]);
    });

    it("has one worker per raft peer, without labels or port mappings", () => {
        const workers = buildKindConfig(lab).nodes.filter((n) => n.role === "worker");
        assert.deepEqual(workers, [{ role: "worker" }, { role: "worker" }, { role: "worker" }]);
    });

    it("follows the settings: worker count, moved ingress host ports, extra NodePorts", () => {
        const { settings } = parseSettings({ workers: "5", ingressHttpPort: "8080", ingressHttpsPort: "8443", nodePorts: "[30000,30001,30002]" });
        const config = buildKindConfig(settings);
        assert.equal(config.nodes.filter((n) => n.role === "worker").length, 5);
        assert.deepEqual(
            config.nodes[0].extraPortMappings!.map((m) => [m.hostPort, m.containerPort]),
            [[8080, 80], [8443, 443], [30000, 30000], [30001, 30001], [30002, 30002]],
        );
    });

    it("serialises to YAML that reads back as the same document", () => {
        const yaml = kindConfigYaml(lab);
        assert.deepEqual(parse(yaml), buildKindConfig(lab));
        assert.match(yaml, /^kind: Cluster\napiVersion: kind.x-k8s.io\/v1alpha4\n/);
        // The label value must stay a string: an unquoted true would be a YAML boolean, which kind rejects.
        assert.match(yaml, /ingress-ready: "true"/);
    });
});
