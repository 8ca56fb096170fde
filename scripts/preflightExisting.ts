/**
 * The preflight of a stack with `cluster: existing` (scripts/preflight.ts runs it instead of the kind checks): the
 * kubeconfig context exists and its API server answers, the user may do there what `pulumi up`, later `up`s and
 * `pulumi destroy` do (`kubectl auth can-i`: components/cluster/permissions.ts), the ingress class is where the
 * settings say, and no other ingress-nginx holds the objects `ingress: install` would install (Helm's ownership rule:
 * components/cluster/helmOwnership.ts). No docker and no kind: the cluster is not ours to create.
 *
 * What the up decides from the cluster (the anti-affinity, the storage class, cert-manager, a NodePort's address) is
 * not decided again here: the cluster is read by the up's own reader (readClusterFacts) and judged by its own plan
 * (existingPlan), whose problems are this preflight's FAILs and whose warnings are its warnings.
 *
 * Every check is a kubectl call through the Runner, with the context (and, when the stack holds its own kubeconfig as
 * the secret vault-ha:kubeconfig, `--kubeconfig <a private temporary file>`) as flags: the kubeconfig's contents
 * never reach an argv, a log line or a message.
 */
import { ExistingPlan, existingPlan, PlanFixes } from "../components/cluster/existingPlan";
import { helmOwnershipConflict, INGRESS_NGINX_CLUSTER_OBJECTS, INGRESS_NGINX_RELEASE, ObjectMeta } from "../components/cluster/helmOwnership";
import { canIArgs, describePermission, Permission, requiredPermissions } from "../components/cluster/permissions";
import { ingressMode } from "../components/config/clusterModes";
import { AntiAffinity, PROJECT, Settings, shellFixes } from "../components/config/settings";
import { INGRESS_CLASS } from "../components/ingress/ingressNginxValues";
import { ownerLabelValue } from "../components/kind/kindConfig";
import { KubectlReads, readClusterFacts } from "../components/runner/handlers/clusterFacts";
import type { Runner, RunResult } from "../components/cluster/checks";
import { parseStatefulSet } from "../components/runner/kubectl";
import type { ClusterFacts } from "../components/stepCommand/contract";
import { VAULT_RELEASE_NAME } from "../components/vault/names";
import { Finding, ok, problem } from "../components/problems";

/** Where kubectl finds the cluster: the context, and the stack's own kubeconfig file when it has one. */
export interface KubeTarget {
    /** The setting kubeContext: "" means the current context of `kubeconfigFile`. */
    context: string;
    /** A private temporary copy of the secret vault-ha:kubeconfig; absent: the user's kubeconfig (KUBECONFIG or ~/.kube/config). */
    kubeconfigFile?: string;
}

/** kubectl's global flags for the target: --kubeconfig (a path) and --context. Never the kubeconfig's contents. */
export function targetFlags(target: KubeTarget): string[] {
    return [...(target.kubeconfigFile ? ["--kubeconfig", target.kubeconfigFile] : []), ...(target.context ? ["--context", target.context] : [])];
}

/** The flags of a command the user can run later: the context only (the temporary kubeconfig file is gone by then). */
function hintFlags(target: KubeTarget): string {
    return target.context ? `--context ${target.context} ` : "";
}

/** How the target is named in messages. */
function describeTarget(target: KubeTarget): string {
    const where = target.kubeconfigFile ? "the kubeconfig in vault-ha:kubeconfig" : "your kubeconfig";
    return target.context ? `context ${target.context} (${where})` : `the current context of ${where}`;
}

/** The first line kubectl printed on stderr, for a message (kubectl's errors name the server, never credentials). */
function reason(result: RunResult): string {
    const line = (result.stderr ?? "")
        .split("\n")
        .map((l) => l.trim())
        .find(Boolean);
    return line ? `: ${line.replace(/^error:\s*/i, "")}` : "";
}

/** The cluster as the up's cluster-facts step reads it: the same reader, through this preflight's kubectl. */
export async function readFacts(settings: Settings, run: Runner, target: KubeTarget): Promise<{ facts: ClusterFacts } | { failed: Finding }> {
    const kubectl: KubectlReads = {
        run: (args) => {
            const r = run("kubectl", [...targetFlags(target), ...args]);
            return Promise.resolve({ code: r.ok ? 0 : 1, stdout: r.stdout, stderr: r.stderr ?? "" });
        },
    };
    try {
        // With a Gateway front door, the same Gateway check as the up's facts step.
        const gateway =
            ingressMode(settings) === "gateway"
                ? { name: settings.gatewayName, namespace: settings.gatewayNamespace, vaultNamespace: settings.vaultNamespace }
                : undefined;
        return { facts: await readClusterFacts(kubectl, settings.certManagerNamespace, gateway) };
    } catch (err) {
        return {
            failed: problem(
                `could not read the nodes, StorageClasses and cert-manager of ${describeTarget(target)}: ${(err as Error).message}`,
                `run kubectl ${hintFlags(target)}get nodes and fix what it reports, then run again`,
            ),
        };
    }
}

/**
 * What the running Vault StatefulSet has, read as the up's pod-templates step reads it: an auto anti-affinity is
 * decided at the first install and kept (existingPlan). Nothing when there is none yet or it cannot be read.
 */
export function runningChoices(settings: Settings, run: Runner, target: KubeTarget): { antiAffinity?: AntiAffinity } {
    const got = run("kubectl", [
        ...targetFlags(target),
        "get",
        "statefulset",
        VAULT_RELEASE_NAME,
        "-n",
        settings.vaultNamespace,
        "-o",
        "json",
        "--ignore-not-found",
    ]);
    if (!got.ok || !got.stdout.trim()) return {};
    try {
        const { antiAffinity } = parseStatefulSet(got.stdout);
        return antiAffinity ? { antiAffinity } : {};
    } catch {
        return {};
    }
}

/** What the up's plan says of this cluster: what it settled ("ok"), its warnings, and the problems that stop it. */
export function planFindings(plan: ExistingPlan): Finding[] {
    return [...plan.decided, ...plan.warnings, ...plan.problems];
}

/**
 * Asks `kubectl auth can-i` for each permission. Exit 0 with "yes" is allowed; a denial exits 1 and prints "no" (and
 * the authorizer's reason) on stdout; an error (the server, the kubeconfig) also exits 1, through cmdutil.CheckErr,
 * but prints nothing on stdout (kubernetes/kubectl pkg/cmd/auth/cani.go NewCmdCanI and RunAccessCheck;
 * pkg/cmd/util/helpers.go DefaultErrorExitCode = 1). So the answer is read from stdout, not from the exit code alone,
 * and without --quiet, which would discard it. A subresource goes in --subresource: `pods/exec` would be the pod
 * named "exec" (cani.go Complete splits TYPE/NAME).
 */
export function checkPermissions(permissions: Permission[], run: Runner, target: KubeTarget, fixContext: string): Finding[] {
    const denied: Finding[] = [];
    const allowed: string[] = [];
    for (const p of permissions) {
        const answer = run("kubectl", [...targetFlags(target), ...canIArgs(p)]);
        const said = answer.stdout.trim();
        if (answer.ok && /^yes\b/.test(said)) {
            allowed.push(describePermission(p));
            continue;
        }
        if (/^no\b/.test(said)) {
            denied.push(
                problem(
                    `${describeTarget(target)} may not ${describePermission(p)} (kubectl auth can-i: ${said.split("\n")[0]}); needed because ${p.why}`,
                    `ask the cluster's admin for it (check with: kubectl ${hintFlags(target)}${canIArgs(p).join(" ")}), or use a context that has it: ${fixContext}`,
                ),
            );
        } else {
            denied.push(
                problem(
                    `could not ask whether ${describeTarget(target)} may ${describePermission(p)}${reason(answer)}`,
                    `run kubectl ${hintFlags(target)}${canIArgs(p).join(" ")} and fix what it reports`,
                ),
            );
        }
    }
    return denied.length ? denied : [ok(`${describeTarget(target)} may create what the up needs (${allowed.length} kubectl auth can-i checks)`)];
}

function checkIngressClass(settings: Settings, run: Runner, target: KubeTarget, fixes: PlanFixes): Finding[] {
    if (ingressMode(settings) !== "existing") return [];
    const name = settings.ingressClassName;
    const found = run("kubectl", [...targetFlags(target), "get", "ingressclasses", name, "--ignore-not-found", "-o", "name"]);
    if (found.ok && found.stdout.trim()) return [ok(`IngressClass ${name} exists`)];
    return [
        problem(
            `ingress is existing, but ${describeTarget(target)} has no IngressClass ${name}`,
            `${fixes.set("ingressClassName", "<a class from kubectl get ingressclasses>")}, or ${fixes.set("ingress", "install")}, or ${fixes.set("ingress", "none")}`,
        ),
    ];
}

/**
 * With `ingress: install`, the up installs ingress-nginx with IngressClass nginx and cluster-wide objects named after
 * the release: if another installation has them, Helm stops the up half-way (after Vault's namespace, cert-manager and
 * the certificates were made). Here it is a FAIL before the up, naming each object and its owner.
 */
export function checkIngressNginxCollision(settings: Settings, run: Runner, target: KubeTarget, fixes: PlanFixes): Finding[] {
    if (ingressMode(settings) !== "install") return [];
    const ns = settings.ingressNginxNamespace;
    const taken: string[] = [];
    const unreadable: string[] = [];
    const owners = new Set<string>();
    for (const o of INGRESS_NGINX_CLUSTER_OBJECTS) {
        const got = run("kubectl", [...targetFlags(target), "get", o.resource, o.name, "-o", "json", "--ignore-not-found"]);
        if (!got.ok) {
            unreadable.push(`${o.kind} ${o.name}${reason(got)}`);
            continue;
        }
        if (!got.stdout.trim()) continue;
        let obj: ObjectMeta;
        try {
            obj = JSON.parse(got.stdout) as ObjectMeta;
        } catch {
            unreadable.push(`${o.kind} ${o.name}: kubectl printed no JSON`);
            continue;
        }
        const conflict = helmOwnershipConflict(obj, INGRESS_NGINX_RELEASE, ns);
        if (!conflict) continue;
        taken.push(`${o.kind} ${o.name} (${conflict})`);
        const a = obj.metadata?.annotations ?? {};
        if (a["meta.helm.sh/release-name"] && a["meta.helm.sh/release-namespace"])
            owners.add(`helm -n ${a["meta.helm.sh/release-namespace"]} uninstall ${a["meta.helm.sh/release-name"]}`);
    }
    const findings: Finding[] = [];
    if (taken.length) {
        findings.push(
            problem(
                `ingress is install, but ${describeTarget(target)} already has ${taken.join(", ")}: Helm would stop the up half-way, ` +
                    `"exists and cannot be imported into the current release" (vault-ha installs ingress-nginx as release ${INGRESS_NGINX_RELEASE} in namespace ${ns})`,
                `use the ingress controller that is there: ${fixes.set("ingress", "existing")} and ${fixes.set("ingressClassName", "<its class, from kubectl get ingressclasses>")}` +
                    ` (with TLS its controller must run with --enable-ssl-passthrough), or remove the other installation${owners.size ? ` (${[...owners].join("; ")})` : ""}`,
            ),
        );
    }
    if (unreadable.length) {
        findings.push(
            problem(
                `could not read whether ${describeTarget(target)} already has ingress-nginx's cluster-wide objects (Helm reads them before it installs): ${unreadable.join("; ")}`,
                `run kubectl ${hintFlags(target)}get ingressclasses ${INGRESS_CLASS} and fix what it reports, or ${fixes.set("ingress", "existing")}`,
            ),
        );
    }
    if (!findings.length) {
        findings.push(
            ok(
                `ingress-nginx: no other installation has IngressClass ${INGRESS_CLASS} or its cluster-wide objects (${INGRESS_NGINX_CLUSTER_OBJECTS.slice(1)
                    .map((o) => `${o.kind} ${o.name}`)
                    .join(", ")})`,
            ),
        );
    }
    return findings;
}

/** The kubeconfig context names, or undefined when kubectl cannot read the kubeconfig. */

function contexts(run: Runner, target: KubeTarget): { names?: string[]; current?: string; error: string } {
    const file = target.kubeconfigFile ? ["--kubeconfig", target.kubeconfigFile] : [];
    const list = run("kubectl", [...file, "config", "get-contexts", "-o", "name"]);
    if (!list.ok) return { error: reason(list) };
    const current = run("kubectl", [...file, "config", "current-context"]);
    return {
        names: list.stdout
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean),
        current: current.ok ? current.stdout.trim() : undefined,
        error: "",
    };
}

/**
 * Every check of an existing cluster, in order; the later ones only when the context answers. `stack` names the
 * stack in fixes (PULUMI_STACK for any but dev) and in the owner label.
 */
export async function checkExistingCluster(settings: Settings, run: Runner, target: KubeTarget, stack: string, project = PROJECT): Promise<Finding[]> {
    const fixes = shellFixes(stack);
    const setSecret = fixes.setSecretFromFile("kubeconfig", "path/to/kubeconfig");
    const fixContext = fixes.set("kubeContext", "<context>");

    const ctx = contexts(run, target);
    if (!ctx.names) {
        return [
            problem(
                `kubectl cannot read ${target.kubeconfigFile ? "the kubeconfig in vault-ha:kubeconfig" : "your kubeconfig (KUBECONFIG or ~/.kube/config)"}${ctx.error}`,
                target.kubeconfigFile
                    ? `set it again from a working file: ${setSecret}`
                    : `check it with kubectl config view, or give the stack a kubeconfig of its own: ${setSecret}`,
            ),
        ];
    }
    const context = target.context || ctx.current || "";
    if (!context || !ctx.names.includes(context)) {
        const known = ctx.names.length ? `the contexts there: ${ctx.names.join(", ")}` : "it has no context";
        return [
            problem(
                target.context
                    ? `kubeContext ${target.context} is not a context of ${target.kubeconfigFile ? "the kubeconfig in vault-ha:kubeconfig" : "your kubeconfig"} (${known})`
                    : `the kubeconfig in vault-ha:kubeconfig has no current context (${known})`,
                ctx.names.length
                    ? fixes.set("kubeContext", ctx.names.length === 1 ? ctx.names[0] : "<one of them>")
                    : "add the cluster to your kubeconfig (your provider's CLI does it, e.g. aws eks update-kubeconfig)",
            ),
        ];
    }

    const findings: Finding[] = [];
    // --request-timeout bounds each call to an unreachable server (a kubectl global flag).
    const version = run("kubectl", [...targetFlags(target), "--request-timeout=10s", "version", "-o", "json"]);
    let server: string | undefined;
    try {
        server = version.ok ? (JSON.parse(version.stdout) as { serverVersion?: { gitVersion?: string } }).serverVersion?.gitVersion : undefined;
    } catch {
        server = undefined;
    }
    if (!server) {
        return [
            problem(
                `the API server of ${describeTarget(target)} does not answer${reason(version)}`,
                `check the cluster, the network and your credentials (kubectl ${hintFlags(target)}get --raw /readyz), or use another context: ${fixContext}`,
            ),
        ];
    }
    const ready = run("kubectl", [...targetFlags(target), "--request-timeout=10s", "get", "--raw", "/readyz"]);
    if (!ready.ok || ready.stdout.trim() !== "ok") {
        return [
            problem(
                `the API server of ${describeTarget(target)} (Kubernetes ${server}) is not ready${reason(ready)}`,
                `wait for it, or read what is not ready: kubectl ${hintFlags(target)}get --raw '/readyz?verbose'`,
            ),
        ];
    }
    findings.push(ok(`${describeTarget(target)} answers: Kubernetes ${server}`));

    // The program's owner: the project and the stack's own name (pulumi.getStack() drops an org/project/ prefix).
    const owner = ownerLabelValue(project, stack.split("/").pop() ?? stack);
    const read = await readFacts(settings, run, target);
    if ("failed" in read) return [...findings, read.failed];
    findings.push(...checkPermissions(requiredPermissions(settings, read.facts, owner), run, target, fixContext));
    findings.push(...planFindings(existingPlan(settings, read.facts, owner, fixes, runningChoices(settings, run, target))));
    findings.push(...checkIngressClass(settings, run, target, fixes));
    findings.push(...checkIngressNginxCollision(settings, run, target, fixes));
    return findings;
}
