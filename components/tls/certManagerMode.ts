/**
 * Whether vault-ha installs cert-manager or uses the one already running, as pure data: the decision from the
 * `certManager` setting and what the cluster reports (the cluster-facts step), and the chart values that mark an
 * install as this stack's.
 *
 * Only one cert-manager may run in a cluster: a second one fights the first over the CRDs (each install's conversion
 * and CA injection rewrites them) and over the admission webhooks, so vault-ha never installs next to a foreign one.
 * Its own install carries the owner label that kind clusters carry (components/kind/kindConfig.ts), so that the next
 * `up` recognises it and keeps managing it instead of mistaking it for a foreign one (which would flip auto to
 * "use it" and uninstall it).
 */
import { OWNER_LABEL_KEY } from "../kind/kindConfig";
import { problem, Problem } from "../problems";
import { FixCommands } from "../config/configProblems";
import { certManagerValues } from "./tlsConfig";

export type CertManagerSetting = "auto" | "install" | "existing";

/** What cluster-facts reports about cert-manager (components/stepCommand/contract.ts, ClusterFacts.certManager). */
export interface CertManagerFacts {
    /** The certificates.cert-manager.io CRD exists. */
    crds: boolean;
    /** A cert-manager webhook Deployment has an available replica. */
    webhookReady: boolean;
    /** That webhook Deployment's vault-ha.dev/owner label. */
    owner?: string;
    /** The namespace of that webhook Deployment: set whenever one was found, ready or not. */
    namespace?: string;
    /**
     * Where its ClusterIssuers read their secrets: the controller's --cluster-resource-namespace. The chart passes
     * $(POD_NAMESPACE) unless its clusterResourceNamespace value is set (cert-manager/templates/deployment.yaml), and
     * the controller's own default, without the flag, is kube-system (cert-manager
     * internal/apis/config/controller/v1alpha1/defaults.go). Absent: the webhook's namespace, the chart's default.
     */
    clusterResourceNamespace?: string;
}

export type CertManagerPlan =
    | { action: "install" }
    /** namespace: where the running cert-manager's ClusterIssuers read their secrets (the CA chain's secret goes there). */
    | { action: "use-existing"; namespace: string }
    | { action: "error"; problem: Problem };

/**
 * kind: always install (the cluster is vault-ha's own and new; its cert-manager, unmarked on existing kind stacks,
 * must never be taken for a foreign one). existing: see the cases below; every refusal comes before anything is
 * created and names the setting and the fix.
 */
export function certManagerPlan(
    setting: CertManagerSetting,
    facts: CertManagerFacts,
    ourOwner: string,
    cluster: "kind" | "existing",
    fixes: Pick<FixCommands, "set"> = new FixCommands(),
): CertManagerPlan {
    if (cluster === "kind") {
        if (setting === "existing")
            return refuse(
                "certManager: existing needs cluster: existing. The kind cluster vault-ha creates has no cert-manager but the one it installs",
                `${fixes.set("certManager", "auto")}, or ${fixes.set("certManager", "install")}`,
            );
        return { action: "install" };
    }

    const found = facts.namespace !== undefined;
    const where = found ? ` in namespace ${facts.namespace}` : "";
    const ours = found && facts.owner === ourOwner;
    if (ours) {
        if (setting === "existing")
            return refuse(
                `certManager: existing, but the cert-manager${where} was installed by this stack (${OWNER_LABEL_KEY}=${ourOwner}): ` +
                    "using it as a foreign one would uninstall it",
                `to keep managing it: ${fixes.set("certManager", "auto")}`,
            );
        // Our own install, ready or still starting: keep managing it (the helm release and the webhook gate).
        return { action: "install" };
    }
    const whose = facts.owner ? ` (installed by vault-ha stack ${facts.owner})` : "";
    if (found && setting === "install")
        return refuse(
            `certManager: install, but a cert-manager is already running${where}${whose}. A second cert-manager fights the first over ` +
                "its CRDs and admission webhooks, so vault-ha will not install one",
            `to use it: ${fixes.set("certManager", "existing")}, or uninstall it first`,
        );
    if (found && !(facts.crds && facts.webhookReady))
        return refuse(
            `certManager: ${setting}, and a cert-manager${where}${whose} is not ready ` +
                `(${facts.crds ? "its webhook has no available replica" : "its CRDs are missing"}). vault-ha will neither use it nor install a ` +
                "second one",
            `wait until it is ready or repair it (kubectl -n ${facts.namespace} get deployments), then npm run up again`,
        );
    if (found) return { action: "use-existing", namespace: facts.clusterResourceNamespace ?? facts.namespace! };
    if (setting === "existing")
        return refuse(
            "certManager: existing, but no cert-manager was found in the cluster (no webhook Deployment" +
                `${facts.crds ? "; its CRDs are there, perhaps left by an uninstall" : ", no CRDs"})`,
            `install cert-manager first, or let vault-ha install it: ${fixes.set("certManager", "auto")}`,
        );
    // Nothing running (CRDs left behind by an uninstall are adopted by the install when they came from a release of
    // the same name and namespace, else Helm refuses with its own message).
    return { action: "install" };
}

function refuse(what: string, fix: string): CertManagerPlan {
    return { action: "error", problem: problem(what, fix) };
}

/**
 * The cert-manager chart's values for an install. With an owner, the pinned chart's `global.commonLabels` puts
 * the owner label on every object it renders: the webhook Deployment that cluster-facts reads (and every other
 * Deployment, their pod templates, the CRDs through cert-manager.crd-labels: cert-manager/templates/_helpers.tpl
 * "labels"), and the controller passes it to ACME HTTP-01 solver pods (--acme-http01-solver-extra-labels).
 * Without an owner (kind) the values stay exactly what existing kind stacks were installed with: adding a label would
 * change every rendered object and roll cert-manager's pods on their next `up`, and kind never needs the marker.
 */
export function certManagerChartValues(owner?: string): Record<string, unknown> {
    const values = certManagerValues();
    if (owner === undefined) return values;
    // An install of vault-ha's own on a cluster it does not own goes entirely with `pulumi destroy`, its CRDs too:
    // the chart keeps them by default (crds.keep adds helm.sh/resource-policy: keep), which would leave them behind.
    // vault-ha installs only where no cert-manager runs, so the only custom resources they take along are ones made
    // for this install; the README warns that others' would go with them.
    return { ...values, crds: { ...(values.crds as Record<string, unknown>), keep: false }, global: { commonLabels: { [OWNER_LABEL_KEY]: owner } } };
}
