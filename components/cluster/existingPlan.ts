/**
 * What the program decides from the live cluster before it registers anything on an existing cluster: one Vault pod
 * per node or not, which cert-manager, whether the raft volumes can be provisioned, where a NodePort is reached. Pure:
 * the facts come from the cluster-facts reader (components/runner/handlers/clusterFacts.ts). A refusal here stops the
 * `up` with nothing created; `npm run preflight` runs the same plan on the same facts and prints its verdicts.
 */
import type { ClusterFacts } from "../stepCommand/contract";
import { AntiAffinity, FixCommands, Settings } from "../config/settings";
import { vaultServiceType } from "../config/clusterModes";
import { ok, Ok, problem, Problem, warning, Warning } from "../problems";
import { CertManagerPlan, certManagerPlan } from "../tls/certManagerMode";
import { gatewayPlan } from "./gatewayFacts";

export interface ExistingPlan {
    antiAffinity: AntiAffinity;
    /** Undefined without TLS (no cert-manager at all). */
    certManager?: Exclude<CertManagerPlan, { action: "error" }>;
    /** Where a NodePort is reached from outside, with vaultServiceType NodePort. */
    nodeAddress?: string;
    /** With ingress gateway: the port of the user's Gateway listener that takes Vault's route. */
    gatewayPort?: number;
    /** The cluster serves the Prometheus Operator's ServiceMonitor and PrometheusRule: vault-ha adds its own. */
    prometheusOperator?: boolean;
    /** What was settled without a warning or a problem (the preflight prints them as "ok"). */
    decided: Ok[];
    /** The up logs them; the preflight prints them as "warn". */
    warnings: Warning[];
    /** Any of them stops the up, as a configuration problem does (nothing is created); the preflight's FAILs. */
    problems: Problem[];
}

/** The fix commands a plan names, for the stack at hand (components/config/configProblems.ts FixCommands). */
export type PlanFixes = Pick<FixCommands, "set" | "rm">;

export function existingPlan(
    s: Pick<
        Settings,
        | "cluster"
        | "vaultReplicas"
        | "antiAffinity"
        | "storageClass"
        | "tls"
        | "certManager"
        | "certManagerNamespace"
        | "vaultServiceType"
        | "ingress"
        | "ingressHost"
        | "whoami"
        | "whoamiNamespace"
        | "telemetry"
        | "vaultNamespace"
        | "gatewayName"
        | "gatewayNamespace"
    >,
    facts: ClusterFacts,
    owner: string,
    fixes: PlanFixes = new FixCommands(),
    /** What the running StatefulSet has (the pod-templates step); absent before the first install. */
    running: { antiAffinity?: AntiAffinity } = {},
): ExistingPlan {
    const decided: Ok[] = [];
    const warnings: Warning[] = [];
    const problems: Problem[] = [];
    // How many warnings and problems so far: a choice that added none is reported as "decided".
    const remarks = () => warnings.length + problems.length;
    const cannotRead = facts.unreadable.map((u) => u.message);

    // One pod per node keeps a node's loss from taking two raft voters; with fewer nodes than replicas, required
    // anti-affinity leaves pods Pending forever, so auto settles for preferred and says so.
    const nodes = facts.schedulableNodes;
    const beforeNodes = remarks();
    let antiAffinity: AntiAffinity;
    if (s.antiAffinity !== "auto") {
        antiAffinity = s.antiAffinity;
        if (antiAffinity === "required" && nodes !== undefined && nodes < s.vaultReplicas) {
            problems.push(
                problem(
                    `vault-ha:antiAffinity is required, but the cluster has ${nodes} schedulable node(s) for ${s.vaultReplicas} Vault pods: ` +
                        `${s.vaultReplicas - nodes} would stay Pending`,
                    `add nodes, or ${fixes.set("vaultReplicas", Math.max(1, nodes))}, or ${fixes.set("antiAffinity", "preferred")}`,
                ),
            );
        }
    } else if (running.antiAffinity !== undefined) {
        // auto decides once, at the first install: a later up keeps what the pods run, so a node cordoned for an
        // upgrade (or one an autoscaler took) does not flip the pod template and roll every pod, twice.
        antiAffinity = running.antiAffinity;
        if (antiAffinity === "preferred" && nodes !== undefined && nodes >= s.vaultReplicas) {
            warnings.push(
                warning(
                    `the cluster now has ${nodes} schedulable node(s) for ${s.vaultReplicas} Vault pods, but they keep the preferred anti-affinity they were made with. ` +
                        `To make one pod per node required (the up rolls the pods): ${fixes.set("antiAffinity", "required")}`,
                ),
            );
        } else if (antiAffinity === "required" && nodes !== undefined && nodes < s.vaultReplicas) {
            warnings.push(
                warning(
                    `the cluster has ${nodes} schedulable node(s) for ${s.vaultReplicas} Vault pods that require one node each: a pod that is replaced now stays Pending until a node is free. ` +
                        `Add nodes, or ${fixes.set("antiAffinity", "preferred")} (the up rolls the pods)`,
                ),
            );
        }
    } else if (nodes === undefined) {
        antiAffinity = "preferred";
        warnings.push(
            warning(`vault-ha:antiAffinity is auto, but the nodes could not be read, so it is preferred (pods may share a node). ${cannotRead.join(" ")}`),
        );
    } else if (nodes >= s.vaultReplicas) {
        antiAffinity = "required";
    } else {
        antiAffinity = "preferred";
        warnings.push(
            warning(
                `the cluster has ${nodes} schedulable node(s) for ${s.vaultReplicas} Vault pods, so one pod per node is preferred, not required: ` +
                    `losing a node that holds two raft voters can lose quorum. Add nodes (the next up makes it required, which rolls the pods), or ${fixes.set("antiAffinity", "preferred")} to keep it so`,
            ),
        );
    }

    if (remarks() === beforeNodes && nodes !== undefined) {
        decided.push(
            ok(
                `${nodes} schedulable node${nodes === 1 ? "" : "s"} for ${s.vaultReplicas} Vault pods: ` +
                    (antiAffinity === "required" ? "one pod per node (anti-affinity required)" : "pods may share a node (anti-affinity preferred)"),
            ),
        );
    }

    // The raft volumes: a claim without a class that exists stays Pending, and so does every Vault pod.
    const classes = facts.storageClasses;
    const beforeClasses = remarks();
    if (classes === undefined) {
        warnings.push(
            warning(
                `the StorageClasses could not be read, so ${s.storageClass ? `storageClass ${s.storageClass}` : "a default StorageClass"} is not checked. ${cannotRead.join(" ")}`,
            ),
        );
    } else if (s.storageClass !== "" && !classes.some((c) => c.name === s.storageClass)) {
        problems.push(
            problem(
                `vault-ha:storageClass ${s.storageClass} does not exist in the cluster (it has ${classes.map((c) => c.name).join(", ") || "none"})`,
                `${classes.length > 0 ? fixes.set("storageClass", classes[0].name) : "create a StorageClass"}${classes.some((c) => c.isDefault) ? `, or ${fixes.rm("storageClass")} for the default` : ""}`,
            ),
        );
    } else if (s.storageClass === "" && !classes.some((c) => c.isDefault)) {
        problems.push(
            problem(
                "the cluster has no default StorageClass, so the raft volumes would stay Pending",
                classes.length > 0 ? fixes.set("storageClass", classes[0].name) : "create a StorageClass (and mark it default)",
            ),
        );
    }

    if (classes !== undefined && remarks() === beforeClasses) {
        const defaults = classes.filter((c) => c.isDefault).map((c) => c.name);
        // Several defaults: Kubernetes uses the newest (since 1.26); all are named.
        decided.push(
            ok(
                s.storageClass !== ""
                    ? `StorageClass ${s.storageClass} exists`
                    : `storageClass not set: the raft volumes use the default StorageClass ${defaults.join(", ")}`,
            ),
        );
    }

    let nodeAddress: string | undefined;
    if (vaultServiceType(s) === "NodePort") {
        nodeAddress = facts.nodeAddress;
        if (nodeAddress === undefined) {
            problems.push(
                problem(
                    "vault-ha:vaultServiceType is NodePort, but no schedulable node's address could be read to reach it at",
                    `${fixes.set("vaultServiceType", "LoadBalancer")}, or ${fixes.set("vaultServiceType", "ClusterIP")} (a port-forward)`,
                ),
            );
        } else decided.push(ok(`vaultServiceType NodePort: Vault is reached at node address ${nodeAddress}`));
    }

    let certManager: ExistingPlan["certManager"];
    // cert-manager's API is there but its webhook could not be looked for everywhere: one may run where this user
    // cannot see it, and installing a second one next to it is what certManagerPlan exists to prevent.
    const unseen =
        s.tls &&
        s.certManager !== "existing" &&
        facts.certManager.crds &&
        facts.certManager.namespace === undefined &&
        facts.unreadable.some((u) => u.resource === "deployments.apps");
    if (s.tls && s.certManager === "existing" && facts.certManager.namespace === undefined && facts.unreadable.some((u) => u.resource === "deployments.apps")) {
        // Told it runs, and not allowed to look: the webhook gate (a dry-run Issuer) is the proof that it serves.
        certManager = { action: "use-existing", namespace: s.certManagerNamespace };
        warnings.push(
            warning("certManager is existing and its webhook could not be looked for; the up waits until cert-manager admits a dry-run Issuer instead"),
        );
    } else if (unseen) {
        const hidden = facts.unreadable.filter((u) => u.resource === "deployments.apps").map((u) => u.message);
        problems.push(
            problem(
                `cert-manager's CRDs are in the cluster, but whether its webhook runs could not be seen (${hidden.join(" ")}), so vault-ha will not install a second one`,
                `${fixes.set("certManager", "existing")} if cert-manager runs, ` +
                    `or ${fixes.set("certManagerNamespace", "<its namespace>")} so it is looked for there, or use a context that may list deployments`,
            ),
        );
    } else if (s.tls) {
        const plan = certManagerPlan(s.certManager, facts.certManager, owner, s.cluster, fixes);
        if (plan.action === "error") problems.push(plan.problem);
        else {
            certManager = plan;
            decided.push(ok(describeCertManager(plan, facts.certManager)));
        }
    }

    // The Gateway the routes attach to (ingress: gateway): checked before anything is created.
    const gateway = gatewayPlan(s, facts, fixes);
    decided.push(...gateway.decided);
    warnings.push(...gateway.warnings);
    problems.push(...gateway.problems);

    if (s.telemetry && facts.prometheusOperator)
        decided.push(ok("metrics: the cluster runs the Prometheus Operator; Vault gets a ServiceMonitor and alert rules"));
    return {
        antiAffinity,
        certManager,
        nodeAddress,
        ...(gateway.vaultPort !== undefined ? { gatewayPort: gateway.vaultPort } : {}),
        ...(facts.prometheusOperator ? { prometheusOperator: true } : {}),
        decided,
        warnings,
        problems,
    };
}

function describeCertManager(plan: Exclude<CertManagerPlan, { action: "error" }>, found: ClusterFacts["certManager"]): string {
    if (plan.action === "use-existing") {
        return `cert-manager: the one running in namespace ${found.namespace ?? plan.namespace} is used${found.owner ? ` (installed by vault-ha stack ${found.owner})` : ""}`;
    }
    return found.namespace
        ? `cert-manager: this stack's own, in namespace ${found.namespace}, kept up to date`
        : "cert-manager: none runs there; the up installs it";
}
