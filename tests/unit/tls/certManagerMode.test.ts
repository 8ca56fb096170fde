/**
 * certManagerPlan and certManagerChartValues (components/tls/certManagerMode.ts): install, use the running
 * cert-manager, or refuse before anything is created, for every setting and what the cluster reports.
 */
import { strict as assert } from "assert";
import { CertManagerFacts, certManagerChartValues, certManagerPlan, CertManagerSetting } from "../../../components/tls/certManagerMode";
import { certManagerValues } from "../../../components/tls/tlsConfig";
import { findingLine, Problem } from "../../../components/problems";
import { parseSettings } from "../../../components/config/settings";
import { applyCommands, commandsOf, toMap, toRaw } from "../config/fixLines";

const OURS = "vault-ha.dev";
const NONE: CertManagerFacts = { crds: false, webhookReady: false };
const FOREIGN: CertManagerFacts = { crds: true, webhookReady: true, namespace: "security" };
const OWN: CertManagerFacts = { crds: true, webhookReady: true, namespace: "cert-manager", owner: OURS };
const SETTINGS: CertManagerSetting[] = ["auto", "install", "existing"];

const refusal = (plan: ReturnType<typeof certManagerPlan>): Problem => {
    assert.equal(plan.action, "error", JSON.stringify(plan));
    return (plan as { problem: Problem }).problem;
};
/** The refusal as the up prints it: "<what>. Fix: <fix>". */
const message = (plan: ReturnType<typeof certManagerPlan>): string => findingLine(refusal(plan));

describe("certManagerPlan", () => {
    it("kind: installs whatever the cluster reports (its own unmarked cert-manager is never taken for a foreign one)", () => {
        for (const facts of [NONE, FOREIGN, OWN]) {
            assert.deepEqual(certManagerPlan("auto", facts, OURS, "kind"), { action: "install" });
            assert.deepEqual(certManagerPlan("install", facts, OURS, "kind"), { action: "install" });
        }
    });

    it("kind: certManager existing is refused, naming the setting and the fix", () => {
        const m = message(certManagerPlan("existing", NONE, OURS, "kind"));
        assert.match(m, /^certManager: existing needs cluster: existing/);
        assert.deepEqual(refusal(certManagerPlan("existing", NONE, OURS, "kind")), {
            level: "problem",
            what: "certManager: existing needs cluster: existing. The kind cluster vault-ha creates has no cert-manager but the one it installs",
            fix: "npm run config -- set vault-ha:certManager auto, or npm run config -- set vault-ha:certManager install",
        });
    });

    it("existing cluster, nothing running: auto and install install, existing says what is missing and how to fix it", () => {
        assert.deepEqual(certManagerPlan("auto", NONE, OURS, "existing"), { action: "install" });
        assert.deepEqual(certManagerPlan("install", NONE, OURS, "existing"), { action: "install" });
        const m = message(certManagerPlan("existing", NONE, OURS, "existing"));
        assert.match(m, /^certManager: existing, but no cert-manager was found in the cluster \(no webhook Deployment, no CRDs\)/);
        assert.match(m, /\. Fix: install cert-manager first, or let vault-ha install it: npm run config -- set vault-ha:certManager auto/);
    });

    it("existing cluster, only CRDs left behind: auto installs (Helm adopts or refuses them), existing names them", () => {
        const leftovers = { crds: true, webhookReady: false };
        assert.deepEqual(certManagerPlan("auto", leftovers, OURS, "existing"), { action: "install" });
        assert.match(message(certManagerPlan("existing", leftovers, OURS, "existing")), /its CRDs are there, perhaps left by an uninstall/);
    });

    it("existing cluster, a foreign cert-manager ready: auto and existing use it in its namespace", () => {
        for (const setting of ["auto", "existing"] as const) {
            assert.deepEqual(certManagerPlan(setting, FOREIGN, OURS, "existing"), { action: "use-existing", namespace: "security" });
        }
        // Its ClusterIssuers' secrets live in its cluster resource namespace, when the controller was given another.
        assert.deepEqual(certManagerPlan("auto", { ...FOREIGN, clusterResourceNamespace: "pki" }, OURS, "existing"), {
            action: "use-existing",
            namespace: "pki",
        });
        // Another stack's install is not ours either.
        const other = { ...FOREIGN, owner: "vault-ha.prod" };
        assert.deepEqual(certManagerPlan("auto", other, OURS, "existing"), { action: "use-existing", namespace: "security" });
    });

    it("existing cluster, a foreign cert-manager: install is refused before anything is created, saying why", () => {
        const m = message(certManagerPlan("install", FOREIGN, OURS, "existing"));
        assert.match(m, /^certManager: install, but a cert-manager is already running in namespace security\./);
        assert.match(m, /fights the first over its CRDs and admission webhooks/);
        assert.match(m, /will not install one\. Fix: to use it: npm run config -- set vault-ha:certManager existing, or uninstall it first$/);
        assert.match(
            message(certManagerPlan("install", { ...FOREIGN, owner: "vault-ha.prod" }, OURS, "existing")),
            /installed by vault-ha stack vault-ha\.prod/,
        );
    });

    it("existing cluster, a foreign cert-manager not ready: every setting refuses (neither use it nor install a second)", () => {
        const starting = { ...FOREIGN, webhookReady: false };
        for (const setting of SETTINGS) {
            const m = message(certManagerPlan(setting, starting, OURS, "existing"));
            assert.match(m, new RegExp(`^certManager: ${setting}`));
        }
        assert.match(
            message(certManagerPlan("auto", starting, OURS, "existing")),
            /not ready \(its webhook has no available replica\).*kubectl -n security get deployments/,
        );
        assert.match(message(certManagerPlan("auto", { ...FOREIGN, crds: false }, OURS, "existing")), /its CRDs are missing/);
    });

    it("existing cluster, ours (ready or still starting): auto and install keep managing it; existing would uninstall it, so it is refused", () => {
        for (const facts of [OWN, { ...OWN, webhookReady: false }, { ...OWN, crds: false, webhookReady: false }]) {
            assert.deepEqual(certManagerPlan("auto", facts, OURS, "existing"), { action: "install" });
            assert.deepEqual(certManagerPlan("install", facts, OURS, "existing"), { action: "install" });
        }
        assert.match(
            message(certManagerPlan("existing", OWN, OURS, "existing")),
            /was installed by this stack \(vault-ha\.dev\/owner=vault-ha\.dev\).*\. Fix: to keep managing it: npm run config -- set vault-ha:certManager auto$/,
        );
    });
});

describe("certManagerChartValues", () => {
    it("without an owner (kind) is exactly the values existing stacks were installed with", () => {
        assert.deepEqual(certManagerChartValues(), certManagerValues());
        assert.deepEqual(certManagerChartValues(), { crds: { enabled: true } });
    });

    it("with an owner adds the owner label through global.commonLabels, and lets the CRDs go with the release", () => {
        assert.deepEqual(certManagerChartValues("vault-ha.dev"), {
            crds: { enabled: true, keep: false },
            global: { commonLabels: { "vault-ha.dev/owner": "vault-ha.dev" } },
        });
    });

    it("every command a refusal names, applied as Pulumi would, leads to a setting the same cluster accepts (or a valid one)", () => {
        let applied = 0;
        for (const cluster of ["kind", "existing"] as const) {
            for (const facts of [NONE, FOREIGN, OWN, { ...FOREIGN, webhookReady: false }]) {
                for (const setting of SETTINGS) {
                    const plan = certManagerPlan(setting, facts, OURS, cluster);
                    if (plan.action !== "error") continue;
                    const config = toMap({ cluster, ...(cluster === "existing" ? { kubeContext: "prod-eu" } : {}), certManager: setting });
                    for (const commands of commandsOf(plan.problem.fix).filter((c) => c.length > 0)) {
                        const settings = parseSettings(toRaw(applyCommands(commands, config))).settings;
                        assert.ok(settings, `${commands.join(" && ")} leaves a configuration that does not load`);
                        const again = certManagerPlan(settings.certManager, facts, OURS, cluster);
                        // A cert-manager that is not ready is refused whatever the setting: its fix is to wait.
                        if (facts.namespace && !facts.webhookReady) continue;
                        assert.notEqual(again.action, "error", `${commands.join(" && ")} is refused again: ${JSON.stringify(again)}`);
                        applied++;
                    }
                }
            }
        }
        assert.ok(applied >= 5, `applied ${applied} fixes`);
    });
});
