import { strict as assert } from "assert";
import { parse } from "yaml";
import { buildKindConfig, kindConfigYaml, markKindConfigYaml, OWNER_LABEL_KEY, ownerLabelValue, withOwnerLabel } from "../../../components/kind/kindConfig";
import { parseSettings } from "../../../components/config/settings";

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
            [
                [8080, 80],
                [8443, 443],
                [30000, 30000],
                [30001, 30001],
                [30002, 30002],
            ],
        );
    });

    it("serialises to YAML that reads back as the same document", () => {
        const yaml = kindConfigYaml(lab);
        assert.deepEqual(parse(yaml), buildKindConfig(lab));
        assert.match(yaml, /^kind: Cluster\napiVersion: kind.x-k8s.io\/v1alpha4\n/);
        // The label value must stay a string: an unquoted true would be a YAML boolean, which kind rejects.
        assert.match(yaml, /ingress-ready: "true"/);
    });

    describe("owner mark", () => {
        // Kubernetes' label value rule (k8s.io/apimachinery/pkg/api/validate/content/kube.go IsLabelValue).
        const validLabelValue = (v: string) => v.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v);

        it("is the label vault-ha.dev/owner=<project>.<stack>, a valid Kubernetes label", () => {
            assert.equal(OWNER_LABEL_KEY, "vault-ha.dev/owner");
            assert.equal(ownerLabelValue("vault-ha", "dev"), "vault-ha.dev");
            assert.equal(ownerLabelValue("vault-ha", "e2e"), "vault-ha.e2e");
            assert.ok(validLabelValue(ownerLabelValue("vault-ha", "dev")));
        });

        it("falls back to a digest for a project and stack that do not make a valid label value, distinct per stack", () => {
            for (const stack of ["x".repeat(60), "dev-", "_dev_", "my.stack."]) {
                const value = ownerLabelValue("vault-ha", stack);
                assert.ok(validLabelValue(value), `${stack} -> ${value}`);
                assert.match(value, /^sha256-[0-9a-f]{40}$/);
            }
            assert.notEqual(ownerLabelValue("vault-ha", "x".repeat(60)), ownerLabelValue("vault-ha", "y".repeat(60)));
        });

        it("labels every node and keeps the ingress label", () => {
            const marked = withOwnerLabel(buildKindConfig(lab), "vault-ha.dev");
            assert.deepEqual(
                marked.nodes.map((n) => n.labels),
                [
                    { "ingress-ready": "true", "vault-ha.dev/owner": "vault-ha.dev" },
                    { "vault-ha.dev/owner": "vault-ha.dev" },
                    { "vault-ha.dev/owner": "vault-ha.dev" },
                    { "vault-ha.dev/owner": "vault-ha.dev" },
                ],
            );
            assert.deepEqual({ ...marked, nodes: [] }, { ...buildKindConfig(lab), nodes: [] });
        });

        it("is added to the YAML without changing the unmarked YAML, which the cluster's triggers are keyed on", () => {
            const plain = kindConfigYaml(lab);
            assert.ok(!plain.includes(OWNER_LABEL_KEY), "the shape stays what it was before clusters were marked");
            assert.deepEqual(parse(markKindConfigYaml(plain, "vault-ha.dev")), withOwnerLabel(buildKindConfig(lab), "vault-ha.dev"));
            // A value that looks like a number stays a string, as kind's map[string]string requires.
            assert.equal(parse(markKindConfigYaml(plain, "1.5")).nodes[1].labels[OWNER_LABEL_KEY], "1.5");
        });
    });
});
