import { strict as assert } from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ConfigError, DEFAULTS, parseAdoption, parseSettings, rawFromStackConfig, SETTING_NAMES } from "../../../components/config/settings";

const root = path.resolve(__dirname, "../../..");

/** Parses raw config expecting a ConfigError; returns its message. */
function rejection(raw: Record<string, string>): string {
    try {
        parseSettings(raw);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
        return err.message;
    }
    assert.fail(`expected ${JSON.stringify(raw)} to be rejected`);
}

/** The blog's lab: cluster "vault", 3 workers and 3 raft peers, 5 key shares of which 3 unseal, UI on 30000. */
function assertBlogLab(settings: ReturnType<typeof parseSettings>["settings"]): void {
    assert.equal(settings.clusterName, "vault");
    assert.equal(settings.workers, 3);
    assert.equal(settings.vaultReplicas, 3);
    assert.equal(settings.keyShares, 5);
    assert.equal(settings.keyThreshold, 3);
    assert.equal(settings.uiNodePort, 30000);
}

describe("settings", () => {
    it("defaults reproduce the blog's lab when nothing is set", () => {
        const { settings, warnings } = parseSettings({});
        assert.deepEqual(settings, {
            ...DEFAULTS,
            nodePorts: [30000, 30001],
        });
        assertBlogLab(settings);
        assert.equal(settings.raftStorageSize, "10Gi");
        assert.match(settings.kindNodeImage, /^kindest\/node:v1\.35\.8@sha256:[0-9a-f]{64}$/);
        assert.deepEqual(warnings, []);
    });

    it("Pulumi.yaml declares every setting, with the code's default, a type and a description", () => {
        const project = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
        assert.equal(project.name, "vault-ha");
        assert.deepEqual(Object.keys(project.config).sort(), [...SETTING_NAMES].sort());
        for (const name of SETTING_NAMES) {
            const declared = project.config[name];
            assert.deepEqual(declared.default, DEFAULTS[name], `default of ${name}`);
            assert.ok(declared.description?.length > 10, `description of ${name}`);
            const expectedType = Array.isArray(DEFAULTS[name]) ? "array" : typeof DEFAULTS[name] === "number" ? "integer" : typeof DEFAULTS[name];
            assert.equal(declared.type, expectedType, `type of ${name}`);
        }
    });

    it("Pulumi.dev.yaml is valid and sets the blog's lab", () => {
        const stack = parse(readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8"));
        const { settings } = parseSettings(rawFromStackConfig(stack.config));
        assertBlogLab(settings);
        // The file sets each of these explicitly, so the lab does not silently follow a future default.
        for (const key of ["clusterName", "workers", "vaultReplicas", "keyShares", "keyThreshold", "uiNodePort"]) {
            assert.ok(`vault-ha:${key}` in stack.config, `Pulumi.dev.yaml sets ${key}`);
        }
    });

    it("reads values the way Pulumi hands them over: strings, lists as JSON", () => {
        const { settings } = parseSettings({
            workers: "5",
            vaultReplicas: "5",
            whoami: "false",
            nodePorts: "[30000,30001,30002]",
            uiNodePort: "30002",
        });
        assert.equal(settings.workers, 5);
        assert.equal(settings.whoami, false);
        assert.deepEqual(settings.nodePorts, [30000, 30001, 30002]);
        assert.equal(settings.uiNodePort, 30002);
    });

    it("rawFromStackConfig keeps only this project's keys and skips encrypted values", () => {
        assert.deepEqual(
            rawFromStackConfig({
                "vault-ha:workers": 5,
                "vault-ha:nodePorts": [30000, 30001],
                "vault-ha:rootToken": { secure: "AAABAJ..." },
                "kubernetes:context": "x",
            }),
            { workers: "5", nodePorts: "[30000,30001]" },
        );
    });

    it("warns, but accepts, an even number of raft peers", () => {
        const { warnings } = parseSettings({ vaultReplicas: "2" });
        assert.equal(warnings.length, 1);
        assert.match(warnings[0], /vault-ha:vaultReplicas = 2: .*tolerates no more failures than 1 nodes.*prefer an odd number/);
    });

    it("takes a Vault image by version, with or without a digest, and warns when a chosen one has no digest", () => {
        const digest = "@sha256:" + "d".repeat(64);
        const pinned = parseSettings({ vaultImage: `hashicorp/vault:2.0.5${digest}` });
        assert.equal(pinned.settings.vaultImage, `hashicorp/vault:2.0.5${digest}`);
        assert.deepEqual(pinned.warnings, []);
        assert.deepEqual(parseSettings({}).warnings, [], "the default is the chart's own image: no warning");
        const unpinned = parseSettings({ vaultImage: "hashicorp/vault:1.21.7-ent" });
        assert.equal(unpinned.settings.vaultImage, "hashicorp/vault:1.21.7-ent");
        assert.equal(unpinned.warnings.length, 1);
        assert.match(
            unpinned.warnings[0],
            /not pinned by digest.*docker buildx imagetools inspect hashicorp\/vault:1\.21\.7-ent.*npm run config -- set vault-ha:vaultImage/,
        );
    });

    describe("rejects bad input with the setting's name and a fix", () => {
        const cases: Array<[string, Record<string, string>, RegExp]> = [
            [
                "threshold above shares",
                { keyShares: "5", keyThreshold: "6" },
                /vault-ha:keyThreshold = "6": must not exceed keyShares \(5\).*Fix: npm run config -- set vault-ha:keyThreshold 3/,
            ],
            ["threshold below 1", { keyThreshold: "0" }, /vault-ha:keyThreshold = "0": must be at least 1/],
            [
                "threshold 1 with several shares",
                { keyShares: "5", keyThreshold: "1" },
                /vault-ha:keyThreshold = "1": must be at least 2 when keyShares is more than 1/,
            ],
            ["more than 255 shares", { keyShares: "256" }, /vault-ha:keyShares = "256": must be at most 255/],
            ["no replicas", { vaultReplicas: "0" }, /vault-ha:vaultReplicas = "0": must be at least 1/],
            ["more replicas than workers", { vaultReplicas: "5" }, /vault-ha:vaultReplicas = "5": must not exceed workers \(3\).*one Vault pod per node/],
            ["a NodePort below the range", { uiNodePort: "8200" }, /vault-ha:uiNodePort = "8200": must be at least 30000/],
            ["a NodePort above the range", { uiNodePort: "40000" }, /vault-ha:uiNodePort = "40000": must be at most 32767/],
            [
                "a NodePort that is not mapped",
                { uiNodePort: "30005" },
                /vault-ha:uiNodePort = "30005": must be one of nodePorts \[30000,30001\]: only those are mapped/,
            ],
            [
                "a mapped port outside the range",
                { nodePorts: "[8080]", uiNodePort: "8080" },
                /vault-ha:nodePorts = "\[8080\]": nodePorts\[0\] \(8080\) must be at least 30000/,
            ],
            ["a cluster name with capitals and underscores", { clusterName: "My_Vault" }, /vault-ha:clusterName = "My_Vault": must be a DNS-1123 label/],
            ["a cluster name too long for a host name", { clusterName: "a".repeat(50) }, /vault-ha:clusterName = "a{50}": must be at most 49 characters/],
            ["an empty chart version", { vaultChartVersion: "" }, /vault-ha:vaultChartVersion = "": must not be empty/],
            ["a blank ingress chart version", { ingressNginxChartVersion: "  " }, /vault-ha:ingressNginxChartVersion = " {2}": must not be empty/],
            ["a chart version range", { vaultChartVersion: "^0.34" }, /vault-ha:vaultChartVersion = "\^0.34": must be an exact chart version/],
            [
                "a node image without digest",
                { kindNodeImage: "kindest/node:v1.35.8" },
                /vault-ha:kindNodeImage = "kindest\/node:v1.35.8": must be pinned by digest/,
            ],
            ["a storage size that is not a quantity", { raftStorageSize: "10GB" }, /vault-ha:raftStorageSize = "10GB": must be a Kubernetes quantity/],
            ["a word where a number belongs", { workers: "three" }, /vault-ha:workers = "three": must be a whole number/],
            ["a fraction where a whole number belongs", { keyShares: "4.5" }, /vault-ha:keyShares = "4.5": must be a whole number/],
            ["a boolean spelled yes", { whoami: "yes" }, /vault-ha:whoami = "yes": must be true or false/],
            ["a namespace that is not a DNS label", { vaultNamespace: "Vault NS" }, /vault-ha:vaultNamespace = "Vault NS": must be a DNS-1123 label/],
            ["the same host port twice", { ingressHttpsPort: "80" }, /vault-ha:ingressHttpsPort = "80": must differ from ingressHttpPort \(80\)/],
            [
                "a NodePort listed twice",
                { nodePorts: "[30000,30000]" },
                /vault-ha:nodePorts = "\[30000,30000\]": nodePorts\[1\] repeats nodePorts\[0\] \(30000\)/,
            ],
            ["a misspelled key", { keyshares: "5" }, /vault-ha:keyshares is not a setting of vault-ha; did you mean keyShares\?/],
        ];
        for (const [what, raw, expected] of cases) {
            it(what, () => {
                const message = rejection(raw);
                assert.match(message, /^vault-ha: invalid configuration; nothing was created\./);
                assert.match(message, expected);
                assert.match(message, /Fix: npm run config -- (set|rm) vault-ha:/);
            });
        }

        it("reports every problem at once, not only the first", () => {
            const message = rejection({ keyThreshold: "9", clusterName: "UPPER", workers: "0" });
            assert.match(message, /vault-ha:keyThreshold/);
            assert.match(message, /vault-ha:clusterName/);
            assert.match(message, /vault-ha:workers = "0": must be at least 1/);
        });

        it("offers the default as a way out when a value was set", () => {
            assert.match(rejection({ keyThreshold: "0" }), /or npm run config -- rm vault-ha:keyThreshold for the default \(3\)/);
        });
    });
});

describe("adoption settings (vault-ha:unsealKeys, vault-ha:rootToken)", () => {
    const keys = ["a2V5LW9uZQ==", "a2V5LXR3bw==", "a2V5LXRocmVl"];

    it("are optional", () => {
        assert.equal(parseAdoption({}, 3), undefined);
    });

    it("are read together, trimmed", () => {
        assert.deepEqual(parseAdoption({ unsealKeys: JSON.stringify(keys.map((k) => ` ${k} `)), rootToken: " hvs.TOKEN " }, 3), {
            unsealKeys: keys,
            rootToken: "hvs.TOKEN",
        });
    });

    for (const [what, raw, expected] of [
        ["keys without a token", { unsealKeys: JSON.stringify(keys) }, /vault-ha:unsealKeys is set but vault-ha:rootToken is not/],
        ["a token without keys", { rootToken: "hvs.TOKEN" }, /vault-ha:rootToken is set but vault-ha:unsealKeys is not/],
        ["keys that are not a JSON list", { unsealKeys: "key1,key2,key3", rootToken: "hvs.TOKEN" }, /must be a JSON list of unseal keys/],
        [
            "an empty key in the list",
            { unsealKeys: JSON.stringify(["a2V5LW9uZQ==", " ", "a2V5LXRocmVl"]), rootToken: "hvs.TOKEN" },
            /must be a JSON list of unseal keys/,
        ],
        [
            "fewer keys than the threshold",
            { unsealKeys: JSON.stringify(keys.slice(0, 2)), rootToken: "hvs.TOKEN" },
            /holds 2 key\(s\); unsealing needs at least keyThreshold \(3\)/,
        ],
    ] as Array<[string, Record<string, string>, RegExp]>) {
        it(`refuses ${what}, without repeating the values`, () => {
            assert.throws(
                () => parseAdoption(raw, 3),
                (err: Error) => {
                    assert.ok(err instanceof ConfigError);
                    assert.match(err.message, expected);
                    for (const value of [...keys, "hvs.TOKEN", "key1,key2,key3"])
                        assert.ok(!err.message.includes(value), "a secret value is repeated in the error");
                    return true;
                },
            );
        });
    }
});
