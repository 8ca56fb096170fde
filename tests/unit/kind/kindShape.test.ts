/**
 * The kind cluster's shape (components/kind/kindShape.ts): comparing the settings with the recorded shape and with the
 * running cluster, and the messages that stop an up.
 */
import { strict as assert } from "assert";
import { parseSettings } from "../../../components/config/settings";
import { kindConfigYaml } from "../../../components/kind/kindConfig";
import {
    imagesDiffer,
    KindShape,
    kindShape,
    liveShapeChanges,
    parseNodesReport,
    parseShapeRecord,
    shapeChangeMessage,
    shapeChanges,
    vanishedMessage,
} from "../../../components/kind/kindShape";
import { nodesOf, nodesStdout } from "../../support/kindWorld";

const shapeOf = (config: Record<string, string> = {}): KindShape => {
    const { settings } = parseSettings(config);
    return kindShape(settings, kindConfigYaml(settings));
};
const DEFAULT = shapeOf();
const IMAGE = DEFAULT.nodeImage;

describe("kind shape: settings against the recorded shape", () => {
    it("finds no change for the same settings, and each changed setting with its old value's revert", () => {
        assert.deepEqual(shapeChanges(DEFAULT, shapeOf(), "dev"), []);
        assert.deepEqual(shapeChanges(DEFAULT, shapeOf({ workers: "5", vaultReplicas: "3" }), "dev"), [
            { setting: "workers", from: "3", to: "5", revert: "npm run config -- set vault-ha:workers 3" },
        ]);
        assert.deepEqual(shapeChanges(DEFAULT, shapeOf({ clusterName: "lab" }), "prod"), [
            { setting: "clusterName", from: "vault", to: "lab", revert: "PULUMI_STACK=prod npm run config -- set vault-ha:clusterName vault" },
        ]);
        const ports = shapeChanges(DEFAULT, shapeOf({ ingressHttpPort: "8080", ingressHttpsPort: "8443", nodePorts: "[30000]" }), "dev");
        assert.deepEqual(
            ports.map((c) => [c.setting, c.from, c.to, c.revert]),
            [
                ["ingressHttpPort", "80", "8080", "npm run config -- set vault-ha:ingressHttpPort 80"],
                ["ingressHttpsPort", "443", "8443", "npm run config -- set vault-ha:ingressHttpsPort 443"],
                [
                    "nodePorts",
                    "[30000, 30001]",
                    "[30000]",
                    "npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts[0]' 30000 && npm run config -- set --path 'vault-ha:nodePorts[1]' 30001",
                ],
            ],
        );
    });

    it("names a changed kind config that no setting explains (a vault-ha release building it differently), without a revert", () => {
        const changes = shapeChanges({ ...DEFAULT, configDigest: "0000000000000000" }, DEFAULT, "dev");
        assert.deepEqual(changes, [{ setting: "kind config", from: "sha256 0000000000000000", to: `sha256 ${DEFAULT.configDigest}` }]);
        assert.match(shapeChangeMessage("vault", changes, "dev", "record"), /the kind config vault-ha builds \(a vault-ha upgrade\)/);
        assert.doesNotMatch(shapeChangeMessage("vault", changes, "dev", "record"), /put the setting/);
    });

    it("reads a record: none when empty (being created), an error when damaged", () => {
        assert.equal(parseShapeRecord(""), undefined);
        assert.equal(parseShapeRecord(undefined), undefined);
        assert.deepEqual(parseShapeRecord(`${JSON.stringify(DEFAULT)}\n`), DEFAULT);
        assert.throws(() => parseShapeRecord("{"), /not JSON/);
        assert.throws(() => parseShapeRecord('{"clusterName":"vault"}'), /lacks a field/);
    });
});

describe("kind shape: settings against the running cluster", () => {
    const live = (shape: KindShape) => {
        const report = parseNodesReport(nodesStdout(nodesOf(shape)));
        assert.equal(report.docker, "ok");
        return report.docker === "ok" ? report.containers : [];
    };

    it("reads docker inspect's answer and finds no change for the cluster the settings describe (the API server's port aside)", () => {
        const containers = live(DEFAULT);
        assert.deepEqual(
            containers.map((c) => c.name),
            ["vault-control-plane", "vault-worker", "vault-worker2", "vault-worker3"],
        );
        assert.ok("6443/tcp" in containers[0].ports);
        assert.deepEqual(liveShapeChanges(containers, DEFAULT, "dev"), []);
        assert.deepEqual(liveShapeChanges([], shapeOf({ workers: "9", vaultReplicas: "3" }), "dev"), [], "no cluster: nothing to keep");
    });

    it("names workers, host ports, node ports and image, with the running values as reverts", () => {
        const image = "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a";
        const desired = shapeOf({ workers: "4", ingressHttpPort: "8080", nodePorts: "[30000,30001,30002]", kindNodeImage: image });
        assert.deepEqual(
            liveShapeChanges(live(DEFAULT), desired, "dev").map((c) => [c.setting, c.from, c.to, c.revert]),
            [
                ["workers", "3", "4", "npm run config -- set vault-ha:workers 3"],
                ["ingressHttpPort", "80", "8080", "npm run config -- set vault-ha:ingressHttpPort 80"],
                [
                    "nodePorts",
                    "[30000, 30001]",
                    "[30000, 30001, 30002]",
                    "npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts[0]' 30000 && npm run config -- set --path 'vault-ha:nodePorts[1]' 30001",
                ],
                ["kindNodeImage", IMAGE, image, `npm run config -- set vault-ha:kindNodeImage ${IMAGE}`],
            ],
        );
    });

    it("compares images only where certain: digest with digest, else tag with tag; Docker Hub's implicit prefixes are the same image", () => {
        const digest = "sha256:07b2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa23c0";
        assert.equal(imagesDiffer(`kindest/node:v1.35.8@${digest}`, `docker.io/kindest/node:v1.35.8@${digest}`), false);
        assert.equal(imagesDiffer(`kindest/node:v1.35.8@${digest}`, `kindest/node@${digest}`), false);
        assert.equal(imagesDiffer(`kindest/node:v1.35.8@${digest}`, "kindest/node@sha256:1111"), true);
        assert.equal(imagesDiffer("kindest/node:v1.35.8", "docker.io/kindest/node:v1.35.8"), false);
        assert.equal(imagesDiffer("kindest/node:v1.35.8", "kindest/node:v1.34.0"), true);
        assert.equal(imagesDiffer("kindest/node:v1.35.8", "sha256:abcd"), false, "an image id says nothing certain");
        assert.equal(imagesDiffer(`kindest/node:v1.35.8@${digest}`, "sha256:abcd"), false, "an image id is no manifest digest");
        assert.equal(imagesDiffer("localhost:5000/node:v1", "localhost:5000/node:v1"), false, "a registry port is not a tag");
    });

    it("tells Docker not answering from a cluster without containers", () => {
        assert.deepEqual(parseNodesReport(""), { docker: "ok", containers: [] });
        assert.deepEqual(parseNodesReport(nodesStdout("docker-unavailable")), {
            docker: "unavailable",
            detail: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
        });
    });
});

describe("kind shape: messages", () => {
    it("a shape change names the change, says nothing was changed, and gives the rebuild sequence and the revert", () => {
        const text = shapeChangeMessage("vault", shapeChanges(DEFAULT, shapeOf({ workers: "5", vaultReplicas: "3" }), "prod"), "prod", "record");
        assert.equal(
            text,
            [
                "vault-ha: these settings change the shape of the kind cluster vault this stack created:",
                "  - workers: 3 → 5",
                "kind cannot change a running cluster: applying this would delete cluster vault and everything in it (Vault's data included) before building a new one. Nothing was changed.",
                "To apply the change, rebuild the cluster:",
                "  1. take a snapshot (npm run snapshot)",
                "  2. pulumi destroy --stack prod",
                "  3. pulumi up --stack prod",
                "  4. restore the snapshot (npm run restore -- FILE)",
                "To keep the running cluster instead, put the setting back:",
                "    PULUMI_STACK=prod npm run config -- set vault-ha:workers 3",
            ].join("\n"),
        );
    });

    it("a vanished cluster: destroy (which works with the cluster gone), then up", () => {
        const text = vanishedMessage("vault", "dev");
        assert.match(text, /^vault-ha: the kind cluster vault is gone/);
        assert.match(text, /Nothing was changed\./);
        assert.match(text, /1\. pulumi destroy {4}\(it works with the cluster gone/);
        assert.match(text, /2\. pulumi up\n/);
    });
});
