/**
 * Checks this project's settings: each value against its grammar, then the rules between settings (key shares and
 * threshold, the lab's workers and ports, namespaces, then the mode rules of modeRules.ts), then the warnings about
 * choices that are allowed but unwise.
 */
import { ingressMode, vaultServiceType } from "./clusterModes";
import { nearestName, setMeant } from "./configNames";
import { problem, Problem } from "../problems";
import { FixCommands, PROJECT } from "./configProblems";
import { NODE_PORT_RANGE } from "./grammars";
import { checkModeRules } from "./modeRules";
import { checkSealRules, unusedBySeal } from "./sealRules";
import { IDENTITY_FORMS, isCloudSeal, SEAL_KEY_FORMS } from "../seal/sealForms";
import { isAutoSeal } from "../seal/sealTypes";
import { DECLARATIONS, DEFAULTS, FIELDS, HINTS, KNOWN_NAMES, NAMESPACE_SETTINGS, SETTING_NAMES, SettingName, Settings } from "./settingDeclarations";

export interface ParsedSettings {
    settings: Settings;
    /** Allowed but unwise choices; the program logs them as warnings. */
    warnings: string[];
}

/** Options of the readers: the stack the fixes name, and where the values came from (a file), for the messages. */
export interface ReadOptions {
    stack?: string;
    source?: string;
}

/** A copy of `list` with `value` at `index`. */
function withItem(list: readonly unknown[], index: number, value: number): unknown[] {
    const copy = [...list];
    copy[index] = value;
    return copy;
}

/**
 * Checks this project's settings (raw text, as Pulumi hands it over, absent keys undefined): each setting on its own,
 * then the rules between settings. Returns every issue, each with a fix for the stack; the settings when none.
 */
export function checkSettings(
    raw: Partial<Record<string, string>>,
    fixes: FixCommands,
    secretNames: ReadonlySet<string> = new Set(),
    options: { kubeconfigGiven?: boolean; sealTransitTokenGiven?: boolean } = {},
): { settings?: Settings; issues: Problem[]; warnings: string[] } {
    const issues: Problem[] = [];
    for (const key of Object.keys(raw).filter((k) => !KNOWN_NAMES.includes(k))) {
        const near = nearestName(key);
        issues.push(
            problem(
                `${PROJECT}:${key} is not a setting of ${PROJECT}` + (near ? `; did you mean ${near}?` : ""),
                fixes.rm(key) + (near ? ` && ${setMeant(fixes, near, raw[key], secretNames.has(key))}` : ""),
            ),
        );
    }

    const isSet = (name: SettingName) => raw[name] !== undefined;
    const given = (name: SettingName) => (isSet(name) ? JSON.stringify(raw[name]) : `${JSON.stringify(DEFAULTS[name])} (default)`);
    const label = (name: SettingName) => `${PROJECT}:${name} = ${given(name)}`;
    const orDefault = (name: SettingName) =>
        isSet(name) && defaultFits(name) ? `, or ${fixes.rm(name)} for the default (${JSON.stringify(DEFAULTS[name])})` : "";

    /** The settings whose values are valid on their own. */
    const v: Partial<Settings> = {};
    const failed: Array<{ name: SettingName; errors: Array<{ message: string; index?: number }> }> = [];
    for (const name of SETTING_NAMES) {
        const parsed = FIELDS[name](raw[name] === undefined ? DEFAULTS[name] : raw[name]);
        if (parsed.ok) (v as Record<string, unknown>)[name] = parsed.value;
        else failed.push({ name, errors: parsed.errors });
    }
    // A value wrong on its own: the hint, or a value that fits the settings it depends on.
    const hint = (name: SettingName): (typeof HINTS)[SettingName] => {
        switch (name) {
            case "keyThreshold":
                return v.keyShares === undefined ? HINTS.keyThreshold : v.keyShares === 1 ? 1 : Math.min(DEFAULTS.keyThreshold, v.keyShares);
            case "keyShares":
                return Math.max(DEFAULTS.keyShares, v.keyThreshold ?? 0);
            case "vaultReplicas":
                return Math.min(DEFAULTS.vaultReplicas, v.workers ?? DEFAULTS.vaultReplicas);
            case "workers":
                return Math.max(DEFAULTS.workers, v.vaultReplicas ?? 0);
            case "uiNodePort":
                return v.nodePorts?.[0] ?? DEFAULTS.uiNodePort;
            case "sealKey":
                return v.seal !== undefined && isAutoSeal(v.seal) ? SEAL_KEY_FORMS[v.seal].example : HINTS.sealKey;
            case "sealIdentity":
                return v.seal !== undefined && isCloudSeal(v.seal) ? IDENTITY_FORMS[v.seal].example : HINTS.sealIdentity;
            default:
                return HINTS[name];
        }
    };
    /** The first NodePort that neither `taken` nor the ingress host ports use. */
    const freeNodePort = (taken: number[]): number => {
        const used = new Set([...taken, v.ingressHttpPort, v.ingressHttpsPort]);
        let port: number = NODE_PORT_RANGE.min;
        while (used.has(port) && port < NODE_PORT_RANGE.max) port++;
        return port;
    };
    /** Whether the default of a setting agrees with the other settings given (the lab's ports, an auto seal's key and address). */
    const defaultFits = (name: SettingName): boolean =>
        (name === "sealKey" ? v.seal === undefined || !isAutoSeal(v.seal) : true) &&
        (name === "sealTransitAddress" ? v.seal !== "transit" : true) &&
        (name !== "nodePorts" ||
            (!DEFAULTS.nodePorts.some((port) => port === v.ingressHttpPort || port === v.ingressHttpsPort) &&
                (v.uiNodePort === undefined || DEFAULTS.nodePorts.includes(v.uiNodePort))));
    /** A setting this config does not use, which the mode rules would refuse once valid: its fix is to remove it. */
    const unusedHere = (name: SettingName): boolean => {
        const modes = DECLARATIONS[name].modes;
        if (v.cluster !== undefined && modes !== undefined && !modes.includes(v.cluster)) return true;
        if (name === "tlsExtraNames") return v.tls === false;
        if (v.seal !== undefined && unusedBySeal(name, v.seal)) return true;
        if (v.cluster === undefined) return false;
        if (name === "ingressClassName" && v.ingress !== undefined) return ingressMode({ cluster: v.cluster, ingress: v.ingress }) !== "existing";
        if (v.vaultServiceType === undefined) return false;
        const type = vaultServiceType({ cluster: v.cluster, vaultServiceType: v.vaultServiceType });
        if (name === "vaultLoadBalancerSourceRanges") return type !== "LoadBalancer";
        if (name === "uiNodePort") return type !== "NodePort";
        return false;
    };
    for (const { name, errors } of failed) {
        for (const { message, index } of errors) {
            if (unusedHere(name)) {
                issues.push(problem(`${label(name)}: ${message}`, fixes.rm(name)));
            } else if (name === "nodePorts") {
                const list = (() => {
                    try {
                        return JSON.parse(String(raw.nodePorts)) as unknown[];
                    } catch {
                        return undefined;
                    }
                })();
                const others = Array.isArray(list) ? list.filter((_, i) => i !== index).filter((p): p is number => typeof p === "number") : [];
                const fix = Array.isArray(list)
                    ? fixes.setList("nodePorts", withItem(list, index ?? 0, index === undefined ? (v.uiNodePort ?? DEFAULTS.uiNodePort) : freeNodePort(others)))
                    : fixes.setList("nodePorts", [v.uiNodePort ?? DEFAULTS.uiNodePort]);
                issues.push(problem(`${label(name)}: ${message}`, fix + orDefault(name)));
            } else {
                issues.push(problem(`${label(name)}: ${message}`, fixes.set(name, hint(name)) + orDefault(name)));
            }
        }
    }

    // Rules between settings, checked where both values are valid. The setting blamed is the one the user set (the
    // other keeping its default); the fix offers a value for each side that satisfies the rule.
    const blame = <A extends SettingName, B extends SettingName>(a: A, b: B): A | B => (isSet(a) && !isSet(b) ? a : b);
    const issue = (name: SettingName, message: string, fix: string) => issues.push(problem(`${label(name)}: ${message}`, fix));

    if (v.keyShares !== undefined && v.keyThreshold !== undefined) {
        const shares = v.keyShares;
        const threshold = v.keyThreshold;
        const fittingThreshold = shares === 1 ? 1 : Math.min(DEFAULTS.keyThreshold, shares);
        if (threshold > shares) {
            const why = "Vault cannot require more keys than it creates";
            if (blame("keyShares", "keyThreshold") === "keyShares") {
                issue(
                    "keyShares",
                    `must be at least keyThreshold (${threshold}): ${why}`,
                    `${fixes.set("keyShares", threshold)}, or ${fixes.set("keyThreshold", fittingThreshold)}`,
                );
            } else {
                issue(
                    "keyThreshold",
                    `must not exceed keyShares (${shares}): ${why}`,
                    `${fixes.set("keyThreshold", fittingThreshold)}, or ${fixes.set("keyShares", threshold)}`,
                );
            }
        } else if (shares > 1 && threshold < 2) {
            issue(
                "keyThreshold",
                "must be at least 2 when keyShares is more than 1: Vault refuses a threshold of 1 for several shares",
                `${fixes.set("keyThreshold", fittingThreshold)}, or ${fixes.set("keyShares", 1)}`,
            );
        }
    }

    // The lab's rules: a kind cluster's workers and the ports it maps to localhost. None of them applies to a cluster
    // that exists already (the mode rules below refuse these settings there).
    const onKind = v.cluster !== "existing";
    if (onKind) {
        if (v.workers !== undefined && v.vaultReplicas !== undefined && v.vaultReplicas > v.workers) {
            const why = "the Vault chart allows one Vault pod per node, so extra pods would stay Pending";
            const fix = `${fixes.set("workers", v.vaultReplicas)}, or ${fixes.set("vaultReplicas", v.workers)}`;
            if (blame("workers", "vaultReplicas") === "workers") issue("workers", `must be at least vaultReplicas (${v.vaultReplicas}): ${why}`, fix);
            else issue("vaultReplicas", `must not exceed workers (${v.workers}): ${why}`, fix);
        }

        if (v.nodePorts !== undefined && v.uiNodePort !== undefined && !v.nodePorts.includes(v.uiNodePort)) {
            const why = "only those are mapped from the control-plane node to localhost";
            const addUi = fixes.setList("nodePorts", [...v.nodePorts, v.uiNodePort]);
            const moveUi = fixes.set("uiNodePort", v.nodePorts[0]);
            if (blame("nodePorts", "uiNodePort") === "nodePorts")
                issue("nodePorts", `must include uiNodePort (${v.uiNodePort}): ${why}`, `${addUi}, or ${moveUi}`);
            else issue("uiNodePort", `must be one of nodePorts ${JSON.stringify(v.nodePorts)}: ${why}`, `${moveUi}, or ${addUi}`);
        }

        /** A host port for the ingress that clashes with nothing: the hint, the default, then others. */
        const freeHostPort = (name: "ingressHttpPort" | "ingressHttpsPort", taken: Array<number | undefined>): number =>
            [Number(HINTS[name]), DEFAULTS[name], name === "ingressHttpPort" ? 9080 : 9443].find((port) => !taken.includes(port)) ?? Number(HINTS[name]);

        if (v.ingressHttpPort !== undefined && v.ingressHttpsPort !== undefined && v.ingressHttpPort === v.ingressHttpsPort) {
            const name = blame("ingressHttpPort", "ingressHttpsPort");
            const other = name === "ingressHttpPort" ? "ingressHttpsPort" : "ingressHttpPort";
            issue(name, `must differ from ${other} (${v[other]})`, fixes.set(name, freeHostPort(name, [v[other], ...(v.nodePorts ?? [])])));
        }

        if (v.nodePorts !== undefined && v.ingressHttpPort !== undefined && v.ingressHttpsPort !== undefined) {
            const ports = v.nodePorts;
            for (const name of ["ingressHttpPort", "ingressHttpsPort"] as const) {
                const index = ports.indexOf(v[name]!);
                if (index < 0) continue;
                const other = name === "ingressHttpPort" ? v.ingressHttpsPort : v.ingressHttpPort;
                const alternatives = [fixes.set(name, freeHostPort(name, [other, ...ports]))];
                // The UI's NodePort cannot move without moving uiNodePort too: then only the ingress port moves.
                if (ports[index] !== v.uiNodePort) alternatives.push(fixes.setList("nodePorts", withItem(ports, index, freeNodePort(ports))));
                issue("nodePorts", `nodePorts[${index}] (${ports[index]}) is also ${name}: kind maps each host port once`, alternatives.join(", or "));
            }
        }
    }

    // Each enabled component creates its own Namespace: two with one name collide.
    const ingressInstalled = v.cluster === undefined || v.ingress === undefined || ingressMode({ cluster: v.cluster, ingress: v.ingress }) === "install";
    const ingressNone = v.cluster !== undefined && v.ingress !== undefined && ingressMode({ cluster: v.cluster, ingress: v.ingress }) === "none";
    // Only on kind does vault-ha create the Gateway's namespace (with Envoy Gateway); elsewhere it names the user's.
    const gatewayInstalled = v.cluster === "kind" && v.ingress !== undefined && ingressMode({ cluster: v.cluster, ingress: v.ingress }) === "gateway";
    const active = NAMESPACE_SETTINGS.filter(
        (name) =>
            v[name] !== undefined &&
            (name !== "certManagerNamespace" || (v.tls !== false && v.certManager !== "existing")) &&
            (name !== "whoamiNamespace" || (v.whoami !== false && !ingressNone)) &&
            (name !== "ingressNginxNamespace" || ingressInstalled) &&
            (name !== "gatewayNamespace" || gatewayInstalled),
    );
    const blamed = new Set<(typeof NAMESPACE_SETTINGS)[number]>();
    active.forEach((a, i) => {
        for (const b of active.slice(i + 1)) {
            if (v[a] !== v[b]) continue;
            const name = blame(a, b);
            if (blamed.has(name)) continue;
            blamed.add(name);
            const taken = active.filter((n) => n !== name).map((n) => v[n]);
            const fixed = taken.includes(DEFAULTS[name]) ? `${DEFAULTS[name]}-2` : DEFAULTS[name];
            issue(
                name,
                `is also ${name === a ? b : a}: each component creates its own Namespace, and two of one name collide (and deleting one deletes the other's objects)`,
                fixes.set(name, fixed),
            );
        }
    });

    checkModeRules(v, { isSet, issue, fixes, kubeconfigGiven: options.kubeconfigGiven === true });
    checkSealRules(v, { isSet, issue, report: (found) => issues.push(found), fixes, sealTransitTokenGiven: options.sealTransitTokenGiven === true });

    if (issues.length > 0) return { issues, warnings: [] };
    const settings = v as Settings;
    const warnings: string[] = [];
    if (settings.vaultReplicas % 2 === 0) {
        warnings.push(
            `${PROJECT}:vaultReplicas = ${settings.vaultReplicas}: an even raft cluster tolerates no more failures than ` +
                `${settings.vaultReplicas - 1} nodes do (quorum is ${settings.vaultReplicas / 2 + 1}); prefer an odd number`,
        );
    }
    if (vaultServiceType(settings) === "LoadBalancer" && settings.vaultLoadBalancerSourceRanges.length === 0 && settings.vaultServiceAnnotations.length === 0) {
        warnings.push(
            `Vault's API gets a load balancer that admits every client that can reach it (on most clouds, the internet). Limit it: ` +
                `${fixes.set("vaultLoadBalancerSourceRanges", ["<your network>/24"])}, or make it internal with the cloud's annotation ` +
                `(${fixes.set("vaultServiceAnnotations", ["service.beta.kubernetes.io/aws-load-balancer-scheme=internal"])} on EKS), or ` +
                `${fixes.set("vaultServiceType", "ClusterIP")} (a port-forward)`,
        );
    }
    if (settings.cluster === "existing" && ingressMode(settings) !== "none" && !isSet("ingressHost")) {
        warnings.push(
            `${PROJECT}:ingressHost is ${DEFAULTS.ingressHost} (the default), a name that resolves to your own machine: on your own cluster, ` +
                `point a DNS name at the ingress controller and ${fixes.set("ingressHost", "vault.example.com")}`,
        );
    }
    if (isSet("vaultImage") && !settings.vaultImage.includes("@sha256:")) {
        warnings.push(
            `${PROJECT}:vaultImage = ${settings.vaultImage} is not pinned by digest: the tag can be moved to another build. ` +
                `Pin it: docker buildx imagetools inspect ${settings.vaultImage} (the Digest line), then ` +
                fixes.set("vaultImage", `${settings.vaultImage}@sha256:<digest>`),
        );
    }
    return { settings, issues, warnings };
}
