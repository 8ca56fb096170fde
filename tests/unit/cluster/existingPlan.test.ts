/**
 * What the program decides from the live cluster before it registers anything (components/cluster/existingPlan.ts),
 * and how it reads the one-context kubeconfig (components/cluster/kubeconfig.ts): pure functions, every branch.
 */
import { strict as assert } from "assert";
import { existingPlan } from "../../../components/cluster/existingPlan";
import { kubeconfigTarget } from "../../../components/cluster/kubeconfig";
import { parseSettings } from "../../../components/config/settings";
import { Finding, findingLine } from "../../../components/problems";
import type { ClusterFacts } from "../../../components/stepCommand/contract";

const settings = (raw: Record<string, string> = {}) => parseSettings({ cluster: "existing", kubeContext: "prod", ...raw }).settings;
const FACTS: ClusterFacts = {
    schedulableNodes: 3,
    nodeAddress: "198.51.100.7",
    storageClasses: [
        { name: "gp3", isDefault: true },
        { name: "io2", isDefault: false },
    ],
    certManager: { crds: false, webhookReady: false },
    unreadable: [],
};
const facts = (change: Partial<ClusterFacts>): ClusterFacts => ({ ...FACTS, ...change });
/** Each finding as the up prints it: "<what>. Fix: <fix>". */
const lines = (findings: Finding[]): string[] => findings.map(findingLine);
const DEPLOYMENTS_HIDDEN = {
    verb: "list",
    resource: "deployments.apps",
    scope: "all namespaces",
    message: "cannot list deployments.apps in all namespaces (`kubectl auth can-i list deployments.apps -A` shows it)",
};

describe("existingPlan: decided from the live cluster", () => {
    describe("anti-affinity", () => {
        it("auto: required with a schedulable node per replica", () => {
            const plan = existingPlan(settings(), FACTS, "vault-ha.dev");
            assert.equal(plan.antiAffinity, "required");
            assert.deepEqual([plan.problems, plan.warnings], [[], []]);
        });

        it("auto: preferred with fewer nodes, with a warning that says what it risks and how to pin it", () => {
            const plan = existingPlan(settings(), facts({ schedulableNodes: 2 }), "vault-ha.dev");
            assert.equal(plan.antiAffinity, "preferred");
            assert.equal(plan.warnings.length, 1);
            assert.match(
                findingLine(plan.warnings[0]),
                /2 schedulable node\(s\) for 3 Vault pods.*can lose quorum.*npm run config -- set vault-ha:antiAffinity preferred/,
            );
        });

        it("auto: preferred when the nodes cannot be read, quoting why", () => {
            const hidden = { verb: "list", resource: "nodes", scope: "cluster", message: "cannot list nodes (kubectl auth can-i list nodes)" };
            const plan = existingPlan(settings(), facts({ schedulableNodes: undefined, unreadable: [hidden] }), "vault-ha.dev");
            assert.equal(plan.antiAffinity, "preferred");
            assert.match(findingLine(plan.warnings[0]), /could not be read.*cannot list nodes/);
        });

        it("required with too few nodes is a problem with three ways out; preferred is taken as given", () => {
            const required = existingPlan(settings({ antiAffinity: "required" }), facts({ schedulableNodes: 1 }), "vault-ha.dev");
            assert.match(
                findingLine(required.problems[0]),
                /required, but the cluster has 1 schedulable node\(s\) for 3 Vault pods: 2 would stay Pending\. Fix: add nodes, or npm run config -- set vault-ha:vaultReplicas 1, or npm run config -- set vault-ha:antiAffinity preferred/,
            );
            const preferred = existingPlan(settings({ antiAffinity: "preferred" }), facts({ schedulableNodes: 1 }), "vault-ha.dev");
            assert.deepEqual([preferred.antiAffinity, preferred.problems, preferred.warnings], ["preferred", [], []]);
        });
    });

    describe("anti-affinity once the pods run: auto keeps what they were made with", () => {
        it("preferred stays preferred when nodes come, with the way to make it required", () => {
            const plan = existingPlan(settings(), FACTS, "o", undefined, { antiAffinity: "preferred" });
            assert.equal(plan.antiAffinity, "preferred");
            assert.match(
                findingLine(plan.warnings[0]),
                /keep the preferred anti-affinity they were made with.*npm run config -- set vault-ha:antiAffinity required/,
            );
        });

        it("required stays required when a node goes (no roll of every pod), with what that means", () => {
            const plan = existingPlan(settings(), facts({ schedulableNodes: 2 }), "o", undefined, { antiAffinity: "required" });
            assert.equal(plan.antiAffinity, "required");
            assert.match(findingLine(plan.warnings[0]), /a pod that is replaced now stays Pending until a node is free/);
            assert.deepEqual(plan.problems, []);
        });

        it("nothing to say when the running choice still fits; an explicit setting wins over it", () => {
            assert.deepEqual(existingPlan(settings(), FACTS, "o", undefined, { antiAffinity: "required" }).warnings, []);
            assert.equal(existingPlan(settings({ antiAffinity: "required" }), FACTS, "o", undefined, { antiAffinity: "preferred" }).antiAffinity, "required");
        });
    });

    describe("storage", () => {
        it("a named class that exists, or the default one, passes", () => {
            assert.deepEqual(existingPlan(settings({ storageClass: "io2" }), FACTS, "o").problems, []);
            assert.deepEqual(existingPlan(settings(), FACTS, "o").problems, []);
        });

        it("a named class that does not exist names the ones there are", () => {
            const [problem] = existingPlan(settings({ storageClass: "fast" }), FACTS, "o").problems;
            assert.match(
                findingLine(problem),
                /storageClass fast does not exist in the cluster \(it has gp3, io2\)\. Fix: npm run config -- set vault-ha:storageClass gp3, or npm run config -- rm/,
            );
        });

        it("no default class and none named is a problem; unreadable classes only a warning", () => {
            const noDefault = existingPlan(settings(), facts({ storageClasses: [{ name: "io2", isDefault: false }] }), "o");
            assert.match(findingLine(noDefault.problems[0]), /no default StorageClass.*Fix: npm run config -- set vault-ha:storageClass io2/);
            const none = existingPlan(settings(), facts({ storageClasses: [] }), "o");
            assert.match(findingLine(none.problems[0]), /create a StorageClass/);
            const hidden = existingPlan(settings(), facts({ storageClasses: undefined }), "o");
            assert.deepEqual(hidden.problems, []);
            assert.match(findingLine(hidden.warnings[0]), /StorageClasses could not be read/);
        });
    });

    it("a NodePort needs a node address to be reached at", () => {
        assert.equal(existingPlan(settings({ vaultServiceType: "NodePort" }), FACTS, "o").nodeAddress, "198.51.100.7");
        const [problem] = existingPlan(settings({ vaultServiceType: "NodePort" }), facts({ nodeAddress: undefined }), "o").problems;
        assert.match(findingLine(problem), /NodePort, but no schedulable node's address.*Fix: npm run config -- set vault-ha:vaultServiceType LoadBalancer/);
        assert.equal(existingPlan(settings(), facts({ nodeAddress: undefined }), "o").problems.length, 0, "a load balancer needs none");
    });

    describe("cert-manager", () => {
        it("installs where none runs, uses a foreign one, and has nothing to decide without TLS", () => {
            assert.deepEqual(existingPlan(settings(), FACTS, "o").certManager, { action: "install" });
            const foreign = facts({ certManager: { crds: true, webhookReady: true, namespace: "security" } });
            assert.deepEqual(existingPlan(settings(), foreign, "o").certManager, { action: "use-existing", namespace: "security" });
            assert.equal(existingPlan(settings({ tls: "false" }), foreign, "o").certManager, undefined);
        });

        it("its CRDs there but its webhook out of sight: no second install, with the ways out", () => {
            const hidden = facts({ certManager: { crds: true, webhookReady: false }, unreadable: [DEPLOYMENTS_HIDDEN] });
            const plan = existingPlan(settings(), hidden, "o");
            assert.equal(plan.certManager, undefined);
            assert.match(
                findingLine(plan.problems[0]),
                /CRDs are in the cluster, but whether its webhook runs could not be seen .*cannot list deployments\.apps/,
            );
            assert.match(
                findingLine(plan.problems[0]),
                /Fix: npm run config -- set vault-ha:certManager existing if cert-manager runs, or npm run config -- set vault-ha:certManagerNamespace/,
            );
        });

        it("existing and out of sight: trusted, with the webhook gate as the proof", () => {
            const hidden = facts({ certManager: { crds: true, webhookReady: false }, unreadable: [DEPLOYMENTS_HIDDEN] });
            const plan = existingPlan(settings({ certManager: "existing" }), hidden, "o");
            assert.deepEqual(plan.certManager, { action: "use-existing", namespace: "cert-manager" });
            assert.deepEqual(plan.problems, []);
            assert.match(findingLine(plan.warnings[0]), /admits a dry-run Issuer/);
        });

        it("no CRDs and the webhook out of sight: nothing runs, so it installs", () => {
            const plan = existingPlan(settings(), facts({ unreadable: [DEPLOYMENTS_HIDDEN] }), "o");
            assert.deepEqual(plan.certManager, { action: "install" });
        });
    });

    describe("what it settled: one sentence per choice that drew no warning or problem (the preflight's ok lines)", () => {
        it("nodes, storage, the NodePort's address and cert-manager", () => {
            assert.deepEqual(lines(existingPlan(settings({ vaultServiceType: "NodePort" }), FACTS, "o").decided), [
                "3 schedulable nodes for 3 Vault pods: one pod per node (anti-affinity required)",
                "storageClass not set: the raft volumes use the default StorageClass gp3",
                "vaultServiceType NodePort: Vault is reached at node address 198.51.100.7",
                "cert-manager: none runs there; the up installs it",
            ]);
            const foreign = facts({ certManager: { crds: true, webhookReady: true, namespace: "security", owner: "vault-ha.other" } });
            assert.deepEqual(lines(existingPlan(settings({ storageClass: "io2", antiAffinity: "preferred" }), foreign, "o").decided), [
                "3 schedulable nodes for 3 Vault pods: pods may share a node (anti-affinity preferred)",
                "StorageClass io2 exists",
                "cert-manager: the one running in namespace security is used (installed by vault-ha stack vault-ha.other)",
            ]);
        });

        it("a choice with a warning or a problem is not also settled", () => {
            const few = existingPlan(settings(), facts({ schedulableNodes: 2, storageClasses: [{ name: "io2", isDefault: false }] }), "o");
            assert.equal(few.warnings.length, 1);
            assert.equal(few.problems.length, 1);
            assert.deepEqual(lines(few.decided), ["cert-manager: none runs there; the up installs it"]);
        });
    });
});

describe("kubeconfigTarget: the one context the program deploys to", () => {
    const config = (over: string) =>
        [
            "apiVersion: v1",
            "kind: Config",
            over,
            "contexts:",
            "- name: prod",
            "  context: {cluster: c1, user: u1}",
            "clusters:",
            "- name: c1",
            "  cluster: {server: 'https://10.0.0.1:6443'}",
            "users:",
            "- name: u1",
            "  user: {token: SECRET-TOKEN-VALUE}",
        ].join("\n");

    it("reads the context, its cluster and server", () => {
        assert.deepEqual(kubeconfigTarget(config("current-context: prod"), "x"), { context: "prod", cluster: "c1", server: "https://10.0.0.1:6443" });
    });

    it("says what is wrong, naming where it came from and never the credentials", () => {
        for (const [text, why] of [
            [config("current-context: ''"), /x selects no context/],
            [config("current-context: other"), /x: context other names no cluster/],
            ["{{{ not yaml", /x is not YAML/],
            [
                config("current-context: prod").replace("server: 'https://10.0.0.1:6443'", "insecure-skip-tls-verify: true"),
                /x: cluster c1 of context prod has no server/,
            ],
        ] as const) {
            assert.throws(
                () => kubeconfigTarget(text, "x"),
                (err: Error) => why.test(err.message) && !err.message.includes("SECRET-TOKEN-VALUE"),
            );
        }
    });
});
