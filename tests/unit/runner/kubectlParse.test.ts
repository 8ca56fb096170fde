/** Reading what kubectl and the Vault CLI print (components/runner/vaultOutput.ts), for the roll. */
import { strict as assert } from "assert";
import { parseAutopilotState, parsePodList, parseStatefulSet } from "../../../components/runner/kubectl";

describe("kubectl and Vault CLI output, as the roll reads it", () => {
    it("a pod's revision, image, mounted secrets and deletion", () => {
        const [pod] = parsePodList(
            JSON.stringify({
                items: [
                    {
                        metadata: {
                            name: "vault-1",
                            uid: "u1",
                            labels: { "controller-revision-hash": "vault-7f9c" },
                            deletionTimestamp: "2026-11-28T04:00:00Z",
                        },
                        spec: {
                            containers: [
                                { name: "tls-reloader", image: "busybox" },
                                { name: "vault", image: "hashicorp/vault:2.0.4" },
                            ],
                            volumes: [
                                { name: "data", persistentVolumeClaim: { claimName: "data-vault-1" } },
                                { name: "vault-tls", secret: { secretName: "vault-server-tls" } },
                            ],
                        },
                        status: { phase: "Running", containerStatuses: [{ name: "vault", state: { running: { startedAt: "2026-11-28T04:00:00Z" } } }] },
                    },
                ],
            }),
        );
        assert.equal(pod.revision, "vault-7f9c");
        assert.equal(pod.image, "hashicorp/vault:2.0.4", "the vault container's image, not the sidecar's");
        assert.deepEqual(pod.secretVolumes, ["vault-server-tls"]);
        assert.equal(pod.terminating, true);
    });

    it("the StatefulSet's generations and revisions (a missing status reads as not observed yet)", () => {
        assert.deepEqual(
            parseStatefulSet(
                JSON.stringify({
                    metadata: { generation: 4 },
                    spec: { replicas: 3 },
                    status: { observedGeneration: 3, updateRevision: "vault-b", currentRevision: "vault-a" },
                }),
            ),
            { generation: 4, observedGeneration: 3, updateRevision: "vault-b", currentRevision: "vault-a", replicas: 3 },
        );
        assert.equal(parseStatefulSet(JSON.stringify({ metadata: { generation: 1 }, spec: {} })).observedGeneration, 0);
    });

    it("the raft volume's claim template (data), as the API server stores it; none without one", () => {
        const claim = (spec: Record<string, unknown>) => ({ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], ...spec } });
        const sts = (templates: unknown[]) => JSON.stringify({ metadata: { generation: 1 }, spec: { replicas: 3, volumeClaimTemplates: templates } });
        assert.deepEqual(parseStatefulSet(sts([claim({ resources: { requests: { storage: "10Gi" } } })])).dataClaim, { storage: "10Gi" });
        assert.deepEqual(parseStatefulSet(sts([claim({ resources: { requests: { storage: "20Gi" } }, storageClassName: "gp3" })])).dataClaim, {
            storage: "20Gi",
            storageClassName: "gp3",
        });
        assert.equal(parseStatefulSet(sts([{ metadata: { name: "audit" }, spec: {} }])).dataClaim, undefined);
        assert.equal("dataClaim" in parseStatefulSet(sts([])), false);
    });

    it("the pod template's anti-affinity: required when it has a required term, preferred when only preferred ones", () => {
        const term = { labelSelector: { matchLabels: { component: "server" } }, topologyKey: "kubernetes.io/hostname" };
        const sts = (podAntiAffinity: unknown) => JSON.stringify({ metadata: {}, spec: { template: { spec: { affinity: { podAntiAffinity } } } } });
        assert.equal(parseStatefulSet(sts({ requiredDuringSchedulingIgnoredDuringExecution: [term] })).antiAffinity, "required");
        assert.equal(
            parseStatefulSet(sts({ preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] })).antiAffinity,
            "preferred",
        );
        assert.equal(parseStatefulSet(sts({})).antiAffinity, undefined);
    });

    it("autopilot's state with the Go field names the CLI prints (api/sys_raft.go has no json tags)", () => {
        const state = parseAutopilotState(
            JSON.stringify({
                Healthy: false,
                FailureTolerance: 0,
                Leader: "vault-0",
                Servers: {
                    "vault-0": { ID: "vault-0", Healthy: true, Status: "leader" },
                    "vault-1": { ID: "vault-1", Healthy: false, Status: "voter" },
                },
            }),
        );
        assert.deepEqual(state, {
            healthy: false,
            failureTolerance: 0,
            servers: [
                { id: "vault-0", healthy: true, status: "leader" },
                { id: "vault-1", healthy: false, status: "voter" },
            ],
        });
        assert.equal(parseAutopilotState(JSON.stringify({ healthy: true, failure_tolerance: 1, servers: {} })).healthy, true, "the API's own names too");
        assert.throws(() => parseAutopilotState("{}"), /not an autopilot state/);
    });
});
