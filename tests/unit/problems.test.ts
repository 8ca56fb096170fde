/**
 * The one shape of what a check reports (components/problems.ts): its line "<what>. Fix: <fix>", and a problem of the
 * existing-cluster plan reaching both of its readers as it is: the up's ConfigError and the preflight's FAIL line.
 */
import { strict as assert } from "assert";
import { existingPlan } from "../../components/cluster/existingPlan";
import { ConfigError, parseSettings } from "../../components/config/settings";
import { findingLine, ok, problem, warning } from "../../components/problems";
import type { ClusterFacts } from "../../components/stepCommand/contract";
import { reportLine } from "../../scripts/preflight";
import { planFindings } from "../../scripts/preflightExisting";

const FACTS: ClusterFacts = {
    schedulableNodes: 3,
    nodeAddress: "198.51.100.7",
    storageClasses: [{ name: "gp3", isDefault: true }],
    certManager: { crds: false, webhookReady: false },
    unreadable: [],
};
const existing = (raw: Record<string, string>) => parseSettings({ cluster: "existing", kubeContext: "prod", ...raw }).settings;

describe("findings: one shape for the configuration, the plans and the preflight", () => {
    it("a problem is printed as <what>. Fix: <fix>, without a period after a question", () => {
        assert.equal(
            findingLine(problem("vault-ha:workers is wrong", "npm run config -- rm vault-ha:workers")),
            "vault-ha:workers is wrong. Fix: npm run config -- rm vault-ha:workers",
        );
        assert.equal(findingLine(problem("did you mean vault-ha:workers?", "rename it")), "did you mean vault-ha:workers? Fix: rename it");
    });

    it("a warning has a fix line only when it has a fix; an ok line is what it says", () => {
        assert.equal(findingLine(warning("prefer an odd number")), "prefer an odd number");
        assert.equal(findingLine(warning("not pinned by digest", "pin it")), "not pinned by digest. Fix: pin it");
        assert.deepEqual(warning("no fix"), { level: "warn", what: "no fix" });
        assert.equal(findingLine(ok("StorageClass gp3 exists")), "StorageClass gp3 exists");
    });

    it("a plan's problem is the same object for the up and the preflight, each printing its what and fix unchanged", () => {
        const plan = existingPlan(existing({ storageClass: "fast" }), FACTS, "vault-ha.dev");
        assert.equal(plan.problems.length, 1);
        const [found] = plan.problems;
        const what = "vault-ha:storageClass fast does not exist in the cluster (it has gp3)";
        const fix = "npm run config -- set vault-ha:storageClass gp3, or npm run config -- rm vault-ha:storageClass for the default";
        assert.deepEqual(found, { level: "problem", what, fix });

        // The up (components/cluster/target.ts) refuses with the plan's problems as they are.
        assert.equal(new ConfigError(plan.problems).message, `vault-ha: invalid configuration; nothing was created.\n  - ${what}. Fix: ${fix}`);
        // The preflight prints the very same finding as a FAIL.
        const findings = planFindings(plan);
        assert.ok(findings.includes(found));
        assert.equal(reportLine(found), `FAIL ${what}\n       fix: ${fix}`);
    });

    it("cert-manager's refusal is a problem like the others, with its fix after Fix:", () => {
        const foreign = { ...FACTS, certManager: { crds: true, webhookReady: true, namespace: "security" } };
        const plan = existingPlan(existing({ certManager: "install" }), foreign, "vault-ha.dev");
        assert.deepEqual(plan.problems.map(findingLine), [
            "certManager: install, but a cert-manager is already running in namespace security. A second cert-manager fights the first over its CRDs " +
                "and admission webhooks, so vault-ha will not install one. Fix: to use it: npm run config -- set vault-ha:certManager existing, or uninstall it first",
        ]);
    });

    it("the preflight marks each level as before: ok, warn, FAIL", () => {
        assert.equal(reportLine(ok("node 22.13.0")), "ok   node 22.13.0");
        assert.equal(reportLine(warning("configuration: prefer an odd number")), "warn configuration: prefer an odd number");
        assert.equal(reportLine(warning("not checked", "set the passphrase")), "warn not checked\n       fix: set the passphrase");
        assert.equal(
            reportLine(problem("docker: no running Docker engine answered", "start Docker")),
            "FAIL docker: no running Docker engine answered\n       fix: start Docker",
        );
    });
});
