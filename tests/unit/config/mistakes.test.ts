/**
 * Issue 10, the configuration part: every mistake a user can make in a setting's value gets one clear answer, before
 * anything is created: the setting's name, what is wrong, and a fix that changes something and, run, removes the mistake.
 */
import { strict as assert } from "assert";
import { parseAdoption, parseSettings } from "../../../components/config/settings";
import { assertFixRemoves, toMap } from "./fixLines";
import { assertFixChangesSomething, rejectionOf } from "./problems";

interface Case {
    what: string;
    raw: Record<string, string>;
    stack?: string;
    /** The one problem reported, matched from its start. */
    problem: RegExp;
    /** The whole fix, exactly. */
    fix: string;
}

const ALL_BAD: Case[] = [
    // Sizes: Kubernetes quantities, between 1Gi and 1Ti.
    {
        what: "a raft volume of zero bytes",
        raw: { raftStorageSize: "0" },
        problem: /^vault-ha:raftStorageSize = "0": must be at least 1Gi: /,
        fix: `npm run config -- set vault-ha:raftStorageSize 10Gi, or npm run config -- rm vault-ha:raftStorageSize for the default ("10Gi")`,
    },
    {
        what: "a raft volume of 99999999999 exbibytes",
        raw: { raftStorageSize: "99999999999Ei" },
        problem: /^vault-ha:raftStorageSize = "99999999999Ei": must be at most 1Ti: /,
        fix: `npm run config -- set vault-ha:raftStorageSize 10Gi, or npm run config -- rm vault-ha:raftStorageSize for the default ("10Gi")`,
    },
    {
        what: "a raft volume of 1e9 bytes (decimal: less than 1Gi)",
        raw: { raftStorageSize: "1e9" },
        problem: /^vault-ha:raftStorageSize = "1e9": must be at least 1Gi: /,
        fix: `npm run config -- set vault-ha:raftStorageSize 10Gi, or npm run config -- rm vault-ha:raftStorageSize for the default ("10Gi")`,
    },
    {
        what: "a raft volume of 1.5Ti",
        raw: { raftStorageSize: "1.5Ti" },
        problem: /^vault-ha:raftStorageSize = "1.5Ti": must be at most 1Ti: /,
        fix: `npm run config -- set vault-ha:raftStorageSize 10Gi, or npm run config -- rm vault-ha:raftStorageSize for the default ("10Gi")`,
    },
    {
        what: "a raft volume in a unit Kubernetes does not know",
        raw: { raftStorageSize: "10GB" },
        problem: /^vault-ha:raftStorageSize = "10GB": must be a Kubernetes quantity such as 10Gi/,
        fix: `npm run config -- set vault-ha:raftStorageSize 10Gi, or npm run config -- rm vault-ha:raftStorageSize for the default ("10Gi")`,
    },
    // The Vault image: a version tag (the roll compares versions), never one that cannot start under the chart.
    ...["hashicorp/vault:latest", "hashicorp/vault", "hashicorp/vault@sha256:" + "c".repeat(64), "hashicorp/vault:2.0.4@sha256:short"].map((image): Case => ({
        what: `vaultImage ${image}`,
        raw: { vaultImage: image },
        problem: /^vault-ha:vaultImage = ".*": must be <repository>:<version>, optionally @sha256:<digest>, such as hashicorp\/vault:2\.0\.4 \(not latest\)$/,
        fix: `npm run config -- set vault-ha:vaultImage hashicorp/vault:<version>@sha256:<digest>, or npm run config -- rm vault-ha:vaultImage for the default ("hashicorp/vault:2.0.4")`,
    })),
    {
        what: "a Vault release that needs IPC_LOCK, which the chart does not grant",
        raw: { vaultImage: "hashicorp/vault:2.0.1" },
        problem: /^vault-ha:vaultImage = "hashicorp\/vault:2.0.1": this Vault release needs the IPC_LOCK capability/,
        fix: `npm run config -- set vault-ha:vaultImage hashicorp/vault:<version>@sha256:<digest>, or npm run config -- rm vault-ha:vaultImage for the default ("hashicorp/vault:2.0.4")`,
    },
    // Vault's own mounts.
    ...["sys", "auth", "audit", "cubbyhole", "identity"].map((mount): Case => ({
        what: `kvMount ${mount}, a path Vault reserves`,
        raw: { kvMount: mount },
        problem: new RegExp(`^vault-ha:kvMount = "${mount}": is reserved by Vault`),
        fix: `npm run config -- set vault-ha:kvMount mysecret, or npm run config -- rm vault-ha:kvMount for the default ("mysecret")`,
    })),
    // Whole numbers: plain decimal digits only.
    ...["0x3", "3e0", "3.0", "", " 3", "Infinity"].map((text): Case => ({
        what: `workers ${JSON.stringify(text)}`,
        raw: { workers: text },
        problem: new RegExp(`^vault-ha:workers = "${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}": must be a whole number written in decimal digits`),
        fix: "npm run config -- set vault-ha:workers 3, or npm run config -- rm vault-ha:workers for the default (3)",
    })),
    {
        what: "more key shares than a number can hold: one problem, the bound",
        raw: { keyShares: "99999999999999999999" },
        problem: /^vault-ha:keyShares = "99999999999999999999": must be at most 255/,
        fix: "npm run config -- set vault-ha:keyShares 5, or npm run config -- rm vault-ha:keyShares for the default (5)",
    },
    {
        what: "an empty cluster name: one problem, the emptiness",
        raw: { clusterName: "" },
        problem: /^vault-ha:clusterName = "": must not be empty$/,
        fix: `npm run config -- set vault-ha:clusterName vault, or npm run config -- rm vault-ha:clusterName for the default ("vault")`,
    },
    // Namespaces: one per component, none of the cluster's own.
    ...(
        [
            ["vaultNamespace", "ingress-nginx", "ingressNginxNamespace", "vault"],
            ["vaultNamespace", "whoami", "whoamiNamespace", "vault"],
            ["vaultNamespace", "cert-manager", "certManagerNamespace", "vault"],
            ["whoamiNamespace", "vault", "vaultNamespace", "whoami"],
            ["ingressNginxNamespace", "cert-manager", "certManagerNamespace", "ingress-nginx"],
        ] as const
    ).map(([name, value, other, fixed]): Case => ({
        what: `${name} ${value}, which ${other} already is`,
        raw: { [name]: value },
        problem: new RegExp(`^vault-ha:${name} = "${value}": is also ${other}: `),
        fix: `npm run config -- set vault-ha:${name} ${fixed}`,
    })),
    ...(
        [
            ["vaultNamespace", "kube-system", "vault"],
            ["vaultNamespace", "kube-public", "vault"],
            ["vaultNamespace", "kube-node-lease", "vault"],
            ["vaultNamespace", "kube-vault", "vault"],
            ["vaultNamespace", "default", "vault"],
            ["vaultNamespace", "local-path-storage", "vault"],
            ["ingressNginxNamespace", "kube-system", "ingress-nginx"],
            ["certManagerNamespace", "kube-system", "cert-manager"],
        ] as const
    ).map(([name, value, fixed]): Case => ({
        what: `${name} ${value}, a namespace the cluster owns`,
        raw: { [name]: value },
        problem: new RegExp(`^vault-ha:${name} = "${value}": is reserved: `),
        fix: `npm run config -- set vault-ha:${name} ${fixed}, or npm run config -- rm vault-ha:${name} for the default ("${fixed}")`,
    })),
    // Settings that must agree: the fix changes one of them to a value that works.
    {
        what: "fewer workers than Vault pods, workers set",
        raw: { workers: "2" },
        problem: /^vault-ha:workers = "2": must be at least vaultReplicas \(3\): the Vault chart allows one Vault pod per node/,
        fix: "npm run config -- set vault-ha:workers 3, or npm run config -- set vault-ha:vaultReplicas 2",
    },
    {
        what: "fewer workers than Vault pods, both set",
        raw: { workers: "2", vaultReplicas: "3" },
        problem: /^vault-ha:vaultReplicas = "3": must not exceed workers \(2\): the Vault chart allows one Vault pod per node/,
        fix: "npm run config -- set vault-ha:workers 3, or npm run config -- set vault-ha:vaultReplicas 2",
    },
    {
        what: "more Vault pods than workers, replicas set",
        raw: { vaultReplicas: "5" },
        problem: /^vault-ha:vaultReplicas = "5": must not exceed workers \(3\)/,
        fix: "npm run config -- set vault-ha:workers 5, or npm run config -- set vault-ha:vaultReplicas 3",
    },
    {
        what: "fewer key shares than the threshold, shares set",
        raw: { keyShares: "2" },
        problem: /^vault-ha:keyShares = "2": must be at least keyThreshold \(3\)/,
        fix: "npm run config -- set vault-ha:keyShares 3, or npm run config -- set vault-ha:keyThreshold 2",
    },
    {
        what: "a threshold above the shares, both set",
        raw: { keyShares: "5", keyThreshold: "6" },
        problem: /^vault-ha:keyThreshold = "6": must not exceed keyShares \(5\)/,
        fix: "npm run config -- set vault-ha:keyThreshold 3, or npm run config -- set vault-ha:keyShares 6",
    },
    {
        what: "a threshold of 1 for several shares",
        raw: { keyShares: "5", keyThreshold: "1" },
        problem: /^vault-ha:keyThreshold = "1": must be at least 2 when keyShares is more than 1/,
        fix: "npm run config -- set vault-ha:keyThreshold 3, or npm run config -- set vault-ha:keyShares 1",
    },
    {
        what: "no NodePorts at all: nodePorts is to blame, not uiNodePort",
        raw: { nodePorts: "[]" },
        problem: /^vault-ha:nodePorts = "\[\]": must list at least one port/,
        fix: "npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts[0]' 30000, or npm run config -- rm vault-ha:nodePorts for the default ([30000,30001])",
    },
    {
        what: "a NodePort out of range, at index 1",
        raw: { nodePorts: "[30000,8080]" },
        problem: /^vault-ha:nodePorts = "\[30000,8080\]": nodePorts\[1\] \(8080\) must be at least 30000/,
        fix: "npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts[0]' 30000 && npm run config -- set --path 'vault-ha:nodePorts[1]' 30001, or npm run config -- rm vault-ha:nodePorts for the default ([30000,30001])",
    },
    {
        what: "a NodePort listed twice: the second one is named",
        raw: { nodePorts: "[30000,30000]" },
        problem: /^vault-ha:nodePorts = "\[30000,30000\]": nodePorts\[1\] repeats nodePorts\[0\] \(30000\)/,
        fix: "npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts[0]' 30000 && npm run config -- set --path 'vault-ha:nodePorts[1]' 30001, or npm run config -- rm vault-ha:nodePorts for the default ([30000,30001])",
    },
    {
        what: "an ingress port that is also nodePorts[1]: index 1 is named",
        raw: { ingressHttpPort: "30001" },
        problem: /^vault-ha:nodePorts = \[30000,30001\] \(default\): nodePorts\[1\] \(30001\) is also ingressHttpPort/,
        fix: "npm run config -- set vault-ha:ingressHttpPort 8080, or npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts[0]' 30000 && npm run config -- set --path 'vault-ha:nodePorts[1]' 30002",
    },
    {
        what: "an ingress port that is also the UI's NodePort: only the ingress port can move",
        raw: { ingressHttpsPort: "30000" },
        problem: /^vault-ha:nodePorts = \[30000,30001\] \(default\): nodePorts\[0\] \(30000\) is also ingressHttpsPort/,
        fix: "npm run config -- set vault-ha:ingressHttpsPort 8443",
    },
    {
        what: "a UI NodePort that is not mapped",
        raw: { uiNodePort: "30005" },
        problem: /^vault-ha:uiNodePort = "30005": must be one of nodePorts \[30000,30001\]: only those are mapped/,
        fix: "npm run config -- set vault-ha:uiNodePort 30000, or npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts[0]' 30000 && npm run config -- set --path 'vault-ha:nodePorts[1]' 30001 && npm run config -- set --path 'vault-ha:nodePorts[2]' 30005",
    },
    {
        what: "NodePorts without the UI's",
        raw: { nodePorts: "[30005]" },
        problem: /^vault-ha:nodePorts = "\[30005\]": must include uiNodePort \(30000\)/,
        fix: "npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts[0]' 30005 && npm run config -- set --path 'vault-ha:nodePorts[1]' 30000, or npm run config -- set vault-ha:uiNodePort 30005",
    },
    {
        what: "the HTTPS port equal to the HTTP port, HTTPS set",
        raw: { ingressHttpsPort: "80" },
        problem: /^vault-ha:ingressHttpsPort = "80": must differ from ingressHttpPort \(80\)/,
        fix: "npm run config -- set vault-ha:ingressHttpsPort 8443",
    },
    {
        what: "the HTTP port equal to the HTTPS port, HTTP set",
        raw: { ingressHttpPort: "443" },
        problem: /^vault-ha:ingressHttpPort = "443": must differ from ingressHttpsPort \(443\)/,
        fix: "npm run config -- set vault-ha:ingressHttpPort 8080",
    },
    // Keys that are not settings.
    {
        what: "a key in the wrong case",
        raw: { keyshares: "7" },
        problem: /^vault-ha:keyshares is not a setting of vault-ha; did you mean keyShares\?$/,
        fix: "npm run config -- rm vault-ha:keyshares && npm run config -- set vault-ha:keyShares 7",
    },
    {
        what: "a misspelled key",
        raw: { wrokers: "5" },
        problem: /^vault-ha:wrokers is not a setting of vault-ha; did you mean workers\?$/,
        fix: "npm run config -- rm vault-ha:wrokers && npm run config -- set vault-ha:workers 5",
    },
    {
        what: "a key that is nothing like a setting",
        raw: { colour: "blue" },
        problem: /^vault-ha:colour is not a setting of vault-ha$/,
        fix: "npm run config -- rm vault-ha:colour",
    },
    // Another stack than dev: every command names it.
    {
        what: "a bad value in stack prod",
        raw: { workers: "0x3" },
        stack: "prod",
        problem: /^vault-ha:workers = "0x3": must be a whole number/,
        fix: "PULUMI_STACK=prod npm run config -- set vault-ha:workers 3, or PULUMI_STACK=prod npm run config -- rm vault-ha:workers for the default (3)",
    },
    {
        what: "a bad NodePort in stack prod",
        raw: { nodePorts: "[]" },
        stack: "prod",
        problem: /^vault-ha:nodePorts = "\[\]": must list at least one port/,
        fix: "PULUMI_STACK=prod npm run config -- rm vault-ha:nodePorts && PULUMI_STACK=prod npm run config -- set --path 'vault-ha:nodePorts[0]' 30000, or PULUMI_STACK=prod npm run config -- rm vault-ha:nodePorts for the default ([30000,30001])",
    },
    {
        what: "settings that disagree in stack prod",
        raw: { workers: "2" },
        stack: "prod",
        problem: /^vault-ha:workers = "2": must be at least vaultReplicas \(3\)/,
        fix: "PULUMI_STACK=prod npm run config -- set vault-ha:workers 3, or PULUMI_STACK=prod npm run config -- set vault-ha:vaultReplicas 2",
    },
    {
        what: "a misspelled key in stack prod",
        raw: { wrokers: "5" },
        stack: "prod",
        problem: /^vault-ha:wrokers is not a setting of vault-ha; did you mean workers\?$/,
        fix: "PULUMI_STACK=prod npm run config -- rm vault-ha:wrokers && PULUMI_STACK=prod npm run config -- set vault-ha:workers 5",
    },
];

describe("configuration mistakes (issue 10): one problem each, naming the setting, with a fix that changes something", () => {
    for (const c of ALL_BAD) {
        it(c.what, () => {
            const problems = rejectionOf(() => parseSettings(c.raw, { stack: c.stack }));
            assert.equal(problems.length, 1, `expected one problem, got:\n${problems.map((p) => `${p.what}. Fix: ${p.fix}`).join("\n")}`);
            assert.match(problems[0].what, c.problem);
            assert.equal(problems[0].fix, c.fix);
            assertFixChangesSomething(c.fix, c.raw, c.stack);
            assertFixRemoves(problems[0].what, problems[0].fix, toMap(c.raw), c.stack);
        });
    }

    it("accepts sizes written the ways Kubernetes reads them, from 1Gi to 1Ti", () => {
        for (const size of ["1Gi", "1Ti", "10Gi", "1.5Gi", ".5Ti", "512Gi", "2G", "2e9", "2E9", "1073741824", "1099511627776", "1024Mi"]) {
            assert.equal(parseSettings({ raftStorageSize: size }).settings.raftStorageSize, size, size);
        }
    });

    it("accepts whole numbers as decimal strings (the Pulumi CLI's form) and as numbers (YAML's)", () => {
        assert.equal(parseSettings({ workers: "4", vaultReplicas: "03" }).settings.vaultReplicas, 3);
        assert.equal(parseSettings({ workers: 4 as unknown as string }).settings.workers, 4);
    });

    it("accepts a namespace that only a disabled component would use", () => {
        assert.equal(parseSettings({ vaultNamespace: "whoami", whoami: "false" }).settings.vaultNamespace, "whoami");
        assert.equal(parseSettings({ vaultNamespace: "cert-manager", tls: "false" }).settings.vaultNamespace, "cert-manager");
    });

    it("reports two wrong settings as two problems, each with its own fix", () => {
        const problems = rejectionOf(() => parseSettings({ nodePorts: "[8080]", uiNodePort: "8080" }));
        assert.deepEqual(
            problems.map((p) => p.fix),
            [
                "npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts[0]' 30000, or npm run config -- rm vault-ha:nodePorts for the default ([30000,30001])",
                "npm run config -- set vault-ha:uiNodePort 30000, or npm run config -- rm vault-ha:uiNodePort for the default (30000)",
            ],
        );
    });

    it("names the stack in the adoption fixes too", () => {
        const problems = rejectionOf(() => parseAdoption({ rootToken: "hvs.TOKEN" }, 3, { stack: "prod" }));
        assert.equal(
            problems[0].fix,
            `type the keys as a JSON list, ["<key 1>","<key 2>","<key 3>"], when asked: PULUMI_STACK=prod npm run config -- set --secret vault-ha:unsealKeys`,
        );
    });
});
