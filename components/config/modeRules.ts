/**
 * The rules between `cluster` and the settings that mean something in one mode only (the declarations' `modes`), and
 * between the mode-dependent settings (vaultServiceType, ingress) and the settings that follow them.
 */
import { ingressMode, vaultServiceType } from "./clusterModes";
import { FixCommands } from "./configProblems";
import { KIND_ONLY_SETTINGS, SettingName, Settings } from "./settingDeclarations";

/** What the mode rules need from checkSettings: which settings the user set, how to report, the fixes. */
export interface RuleContext {
    isSet(name: SettingName): boolean;
    issue(name: SettingName, message: string, fix: string): void;
    fixes: FixCommands;
    /** vault-ha:kubeconfig (a secret) is set. */
    kubeconfigGiven: boolean;
}

/**
 * The rules between `cluster` and the settings that only make sense in one mode, checked where the values are valid.
 * A setting the mode cannot honour is refused rather than ignored: the user set it for a reason.
 */
export function checkModeRules(v: Partial<Settings>, { isSet, issue, fixes, kubeconfigGiven }: RuleContext): void {
    if (v.cluster === undefined) return;
    const toExisting = fixes.set("cluster", "existing");
    const toKind = fixes.set("cluster", "kind");
    if (v.cluster === "existing") {
        for (const name of KIND_ONLY_SETTINGS) {
            if (isSet(name))
                issue(name, "is only used with cluster: kind (on an existing cluster vault-ha creates no kind cluster)", `${fixes.rm(name)}, or ${toKind}`);
        }
        if (v.kubeContext === "" && !kubeconfigGiven) {
            issue(
                "kubeContext",
                "must name the kubeconfig context of the cluster to deploy to, with cluster: existing (vault-ha never guesses a cluster)",
                `${fixes.set("kubeContext", '"$(kubectl config current-context)"')}, or ${fixes.setSecretFromFile("kubeconfig", "path/to/kubeconfig.yaml")} (a kubeconfig of its own), or ${toKind}`,
            );
        }
        if (v.certManager === undefined || v.raftVolumesOnDestroy === undefined) return;
    } else {
        if (isSet("kubeContext") && v.kubeContext !== "") {
            issue(
                "kubeContext",
                "is only used with cluster: existing; the kind cluster's context is kind-<clusterName>",
                `${fixes.rm("kubeContext")}, or ${toExisting}`,
            );
        }
        if (kubeconfigGiven) {
            issue(
                "cluster",
                "is kind, but vault-ha:kubeconfig is set: a kind cluster's kubeconfig comes from kind",
                `${fixes.rm("kubeconfig")}, or ${toExisting}`,
            );
        }
        if (v.vaultServiceType === "LoadBalancer") {
            issue(
                "vaultServiceType",
                "cannot be LoadBalancer on kind, which has no load-balancer controller (the address would never come)",
                `${fixes.set("vaultServiceType", "NodePort")}, or ${fixes.set("vaultServiceType", "ClusterIP")} (a port-forward)`,
            );
        }
        if (v.ingress === "existing") {
            issue(
                "ingress",
                "cannot be existing on kind: the cluster vault-ha creates has no ingress controller but the one it installs",
                `${fixes.set("ingress", "install")}, or ${fixes.set("ingress", "none")}`,
            );
        }
        if (v.certManager === "existing") {
            issue(
                "certManager",
                "cannot be existing on kind: the cluster vault-ha creates has no cert-manager but the one it installs",
                fixes.rm("certManager"),
            );
        }
        if (isSet("raftVolumesOnDestroy")) {
            issue(
                "raftVolumesOnDestroy",
                "is only used with cluster: existing: on kind, pulumi destroy deletes the cluster and its volumes with it (take a snapshot first: npm run snapshot)",
                fixes.rm("raftVolumesOnDestroy"),
            );
        }
    }
    if (
        v.vaultServiceType !== undefined &&
        isSet("uiNodePort") &&
        vaultServiceType({ cluster: v.cluster, vaultServiceType: v.vaultServiceType }) !== "NodePort"
    ) {
        issue(
            "uiNodePort",
            `is only used when vaultServiceType is NodePort (it is ${vaultServiceType({ cluster: v.cluster, vaultServiceType: v.vaultServiceType })})`,
            `${fixes.rm("uiNodePort")}, or ${fixes.set("vaultServiceType", "NodePort")}`,
        );
    }
    if (v.ingress !== undefined) {
        const mode = ingressMode({ cluster: v.cluster, ingress: v.ingress });
        if (isSet("ingressClassName") && mode !== "existing") {
            issue(
                "ingressClassName",
                `is only used with ingress: existing (ingress is ${mode})`,
                `${fixes.rm("ingressClassName")}, or ${fixes.set("ingress", "existing")}`,
            );
        }
        for (const name of ["gatewayName", "gatewayNamespace"] as const) {
            if (isSet(name) && mode !== "gateway") {
                issue(name, `is only used with ingress: gateway (ingress is ${mode})`, `${fixes.rm(name)}, or ${fixes.set("ingress", "gateway")}`);
            }
        }
        for (const name of ["gatewayName", "gatewayNamespace"] as const) {
            // On kind the Gateway is vault-ha's own, at fixed names (components/gateway/gatewayManifests.ts).
            if (isSet(name) && mode === "gateway" && v.cluster === "kind") {
                issue(
                    name,
                    "is only used with cluster: existing (to name your Gateway): on kind vault-ha creates envoy-gateway-system/vault-ha",
                    fixes.rm(name),
                );
            }
        }
        if (isSet("whoami") && v.whoami === true && mode === "none") {
            issue(
                "whoami",
                "is true, but there is no ingress for it to prove (ingress is none)",
                `${fixes.set("whoami", false)}, or ${fixes.set("ingress", v.cluster === "kind" ? "install" : "existing")}`,
            );
        }
    }
    if (v.vaultServiceType !== undefined && (v.vaultLoadBalancerSourceRanges ?? []).length > 0) {
        const type = vaultServiceType({ cluster: v.cluster, vaultServiceType: v.vaultServiceType });
        if (type !== "LoadBalancer") {
            issue(
                "vaultLoadBalancerSourceRanges",
                `is only used with a LoadBalancer (vaultServiceType is ${type})`,
                `${fixes.rm("vaultLoadBalancerSourceRanges")}${v.cluster === "existing" ? `, or ${fixes.set("vaultServiceType", "LoadBalancer")}` : ""}`,
            );
        }
    }
    if (v.tls === false && v.tlsExtraNames !== undefined && v.tlsExtraNames.length > 0) {
        issue(
            "tlsExtraNames",
            "names the certificate's extra names, but tls is false: there is no certificate",
            `${fixes.rm("tlsExtraNames")}, or ${fixes.set("tls", true)}`,
        );
    }
}
