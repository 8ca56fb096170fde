/**
 * The preflight of a stack with cluster: existing (scripts/preflightExisting.ts, scripts/preflight.ts): the context,
 * the API server, `kubectl auth can-i`, the storage class, the nodes, cert-manager and the ingress class, each failure
 * with what failed and its fix; never docker or kind; the stack's own kubeconfig only as a private file. The kubectl
 * here is a model of one cluster answering the way kubectl does (scripts.test.ts and tests/process/commands.test.ts run the same
 * code through a fake kubectl on PATH).
 */
import { strict as assert } from "assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parseSettings } from "../../../components/config/settings";
import { Runner, RunResult } from "../../../scripts/preflight";
import { rawClusterMode, stackHasKubeconfig, withStackKubeconfig } from "../../../components/cluster/stackKubeconfig";
import { vaultChartOptions } from "../../../components/config/clusterModes";
import { ingressNginxValues } from "../../../components/ingress/ingressNginxValues";
import { certManagerChartValues } from "../../../components/tls/certManagerMode";
import { vaultHelmValues } from "../../../components/vault/vaultValues";
import { checkExistingCluster, KubeTarget } from "../../../scripts/preflightExisting";
import { CONTROLLER_SELECTOR } from "../../../components/runner/handlers/clusterFacts";
import { INGRESS_NGINX_CLUSTER_OBJECTS, INGRESS_NGINX_RELEASE } from "../../../components/cluster/helmOwnership";
import {
    canIArgs,
    CERT_MANAGER_CHART_KINDS,
    CERT_MANAGER_LEADER_ELECTION_KINDS,
    CERT_MANAGER_LEADER_ELECTION_NAMESPACE,
    ClusterView,
    INGRESS_NGINX_CHART_KINDS,
    requiredPermissions,
    VAULT_CHART_KINDS,
} from "../../../components/cluster/permissions";
import { Manifest, renderChart, requireHelm } from "../../support/helm";
import { applyCommands, commandsOf, toMap, toRaw } from "../config/fixLines";

const existing = (raw: Record<string, string> = {}) => parseSettings({ cluster: "existing", kubeContext: "prod", ...raw }).settings;

interface Model {
    contexts: string[];
    current?: string;
    /** stderr of a server that does not answer; undefined: it answers. */
    down?: string;
    readyz?: string;
    /** `verb resource[/sub] [ns]` that are denied, with the authorizer's reason. */
    denied?: Record<string, string>;
    /** can-i that fails (an error, not an answer). */
    broken?: string[];
    storageClasses?: { name: string; isDefault?: boolean; beta?: boolean }[];
    nodes?: { name: string; ready?: boolean; unschedulable?: boolean; taint?: string }[];
    /** cert-manager: its CRD, and its webhook Deployment (absent: none runs). */
    certManager?: { crds: boolean; webhook?: { namespace: string; ready: boolean; owner?: string } };
    /** Listing Deployments across namespaces is forbidden. */
    noClusterWideDeployments?: boolean;
    ingressClasses?: string[];
    /** Cluster-scoped objects by `resource name`, with their labels and annotations (Helm's ownership metadata). */
    objects?: Record<string, { labels?: Record<string, string>; annotations?: Record<string, string> }>;
    /** `resource name` whose get is forbidden. */
    forbiddenObjects?: string[];
    /** The anti-affinity of the Vault StatefulSet a previous up made; absent: none yet. */
    running?: "required" | "preferred";
}

const NODES: NonNullable<Model["nodes"]> = ["control-plane", "w1", "w2", "w3"].map((name) => ({
    name,
    taint: name === "control-plane" ? "NoSchedule" : undefined,
}));

/** A kubectl for one cluster; records every call. */
function cluster(model: Model, calls: string[][] = []): Runner {
    return (command, args): RunResult => {
        calls.push([command, ...args]);
        if (command !== "kubectl") return { ok: false, stdout: "", stderr: `${command}: not found` };
        const a = [...args];
        // Global flags first, as the preflight passes them.
        while (a[0] === "--kubeconfig" || a[0] === "--context" || a[0].startsWith("--request-timeout"))
            a.splice(0, a[0].startsWith("--request-timeout") ? 1 : 2);
        const line = a.join(" ");
        if (line === "config get-contexts -o name") return { ok: true, stdout: model.contexts.map((c) => `${c}\n`).join("") };
        if (line === "config current-context")
            return model.current ? { ok: true, stdout: `${model.current}\n` } : { ok: false, stdout: "", stderr: "error: current-context is not set" };
        if (model.down) return { ok: false, stdout: line.startsWith("version") ? '{"clientVersion":{}}' : "", stderr: model.down };
        if (line === "version -o json")
            return { ok: true, stdout: JSON.stringify({ clientVersion: { gitVersion: "v1.35.1" }, serverVersion: { gitVersion: "v1.34.2" } }) };
        if (line === "get --raw /readyz") return { ok: (model.readyz ?? "ok") === "ok", stdout: model.readyz ?? "ok" };
        if (a[0] === "auth" && a[1] === "can-i") {
            const sub = a.find((x) => x.startsWith("--subresource="))?.split("=")[1];
            const ns = a.includes("-n") ? a[a.indexOf("-n") + 1] : undefined;
            const key = `${a[2]} ${a[3]}${sub ? `/${sub}` : ""}${ns ? ` ${ns}` : ""}`;
            if (model.broken?.includes(key)) return { ok: false, stdout: "", stderr: "error: You must be logged in to the server (Unauthorized)" };
            const no = model.denied?.[key];
            return no === undefined ? { ok: true, stdout: "yes\n" } : { ok: false, stdout: `no${no ? ` - ${no}` : ""}\n` };
        }
        if (line === "get storageclasses.storage.k8s.io -o json") {
            const items = (model.storageClasses ?? [{ name: "standard", isDefault: true }]).map((c) => ({
                metadata: {
                    name: c.name,
                    annotations: c.isDefault ? { [`storageclass.${c.beta ? "beta." : ""}kubernetes.io/is-default-class`]: "true" } : {},
                },
            }));
            return { ok: true, stdout: JSON.stringify({ items }) };
        }
        if (line === "get nodes -o json") {
            const items = (model.nodes ?? NODES).map((n) => ({
                metadata: { name: n.name },
                spec: { unschedulable: n.unschedulable, taints: n.taint ? [{ key: "k", effect: n.taint }] : undefined },
                status: { conditions: [{ type: "Ready", status: n.ready === false ? "False" : "True" }] },
            }));
            return { ok: true, stdout: JSON.stringify({ items }) };
        }
        if (line === "get customresourcedefinitions.apiextensions.k8s.io certificates.cert-manager.io -o name --ignore-not-found") {
            return { ok: true, stdout: model.certManager?.crds ? "customresourcedefinition.apiextensions.k8s.io/certificates.cert-manager.io\n" : "" };
        }
        if (line === "get statefulset vault -n vault -o json --ignore-not-found") {
            const term = { topologyKey: "kubernetes.io/hostname" };
            const affinity =
                model.running === "required"
                    ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
                    : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] };
            return { ok: true, stdout: model.running ? JSON.stringify({ spec: { template: { spec: { affinity: { podAntiAffinity: affinity } } } } }) : "" };
        }
        if (a[0] === "get" && a[1] === "deployments.apps" && a.includes(CONTROLLER_SELECTOR)) return { ok: true, stdout: JSON.stringify({ items: [] }) };
        if (a[0] === "get" && a[1] === "deployments.apps") {
            if (a[2] === "--all-namespaces" && model.noClusterWideDeployments) return { ok: false, stdout: "", stderr: "Error from server (Forbidden)" };
            const w = model.certManager?.webhook;
            const ns = a[2] === "-n" ? a[3] : undefined;
            const items =
                w && (!ns || ns === w.namespace)
                    ? [
                          {
                              metadata: { name: "cert-manager-webhook", namespace: w.namespace, labels: w.owner ? { "vault-ha.dev/owner": w.owner } : {} },
                              spec: { template: { spec: { containers: [{ image: "quay.io/jetstack/cert-manager-webhook:v1.21.1" }] } } },
                              status: { availableReplicas: w.ready ? 1 : 0 },
                          },
                      ]
                    : [];
            return { ok: true, stdout: JSON.stringify({ items }) };
        }
        if (a[0] === "get" && a[2] && a.slice(3).join(" ") === "-o json --ignore-not-found") {
            const key = `${a[1]} ${a[2]}`;
            if (model.forbiddenObjects?.includes(key))
                return { ok: false, stdout: "", stderr: `Error from server (Forbidden): ${a[1]} "${a[2]}" is forbidden: User "u" cannot get resource` };
            const o = model.objects?.[key];
            return { ok: true, stdout: o ? JSON.stringify({ metadata: { name: a[2], labels: o.labels, annotations: o.annotations } }) : "" };
        }
        if (a[0] === "get" && a[1] === "ingressclasses") {
            return { ok: true, stdout: (model.ingressClasses ?? []).includes(a[2]) ? `ingressclass.networking.k8s.io/${a[2]}\n` : "" };
        }
        return { ok: false, stdout: "", stderr: `fake kubectl: unexpected ${line}` };
    };
}

const target: KubeTarget = { context: "prod" };
const base: Model = { contexts: ["kind-vault", "prod"], current: "kind-vault" };

describe("npm run preflight with cluster: existing", () => {
    it("passes a reachable cluster that allows everything, asking kubectl only (never docker or kind)", async () => {
        const calls: string[][] = [];
        const findings = await checkExistingCluster(existing(), cluster(base, calls), target, "dev");
        assert.deepEqual(
            findings.filter((f) => f.level !== "ok"),
            [],
        );
        assert.deepEqual(
            findings.map((f) => f.what),
            [
                "context prod (your kubeconfig) answers: Kubernetes v1.34.2",
                `context prod (your kubeconfig) may create what the up needs (${requiredPermissions(existing(), { certManager: { crds: false, webhookReady: false } }, "vault-ha.dev").length} kubectl auth can-i checks)`,
                "3 schedulable nodes for 3 Vault pods: one pod per node (anti-affinity required)",
                "storageClass not set: the raft volumes use the default StorageClass standard",
                "cert-manager: none runs there; the up installs it",
            ],
        );
        assert.deepEqual([...new Set(calls.map((c) => c[0]))], ["kubectl"]);
        // Every call that reaches the cluster names the context; the kubeconfig itself is only read.
        for (const c of calls.filter((c) => c[1] !== "config")) assert.deepEqual(c.slice(1, 3), ["--context", "prod"], c.join(" "));
        assert.ok(calls.some((c) => c.join(" ") === "kubectl --context prod --request-timeout=10s get --raw /readyz"));
    });

    it("asks for pods/exec as a subresource (pods/exec would be the pod named exec) and reads can-i's answer from stdout", async () => {
        const perms = requiredPermissions(existing(), { certManager: { crds: false, webhookReady: false } }, "o");
        const exec = perms.find((p) => p.subresource === "exec")!;
        assert.deepEqual(canIArgs(exec), ["auth", "can-i", "create", "pods", "--subresource=exec", "-n", "vault"]);
        // WebSockets (kubectl's default) are a GET: get as well as create (create alone is what SPDY needed).
        assert.deepEqual(
            perms.filter((p) => p.subresource === "exec").map((p) => p.verb),
            ["create", "get"],
        );
        assert.ok(!perms.some((p) => p.resource.includes("/")));
        assert.deepEqual(canIArgs(perms[0]), ["auth", "can-i", "create", "namespaces"], "cluster-scoped: no -n");
    });

    it("FAIL on a context that is not in the kubeconfig, naming the contexts there, before asking the server anything", async () => {
        const calls: string[][] = [];
        const findings = await checkExistingCluster(existing({ kubeContext: "prd" }), cluster(base, calls), { context: "prd" }, "dev");
        assert.deepEqual(findings, [
            {
                level: "problem",
                what: "kubeContext prd is not a context of your kubeconfig (the contexts there: kind-vault, prod)",
                fix: "npm run config -- set vault-ha:kubeContext <one of them>",
            },
        ]);
        assert.ok(calls.every((c) => c[1] === "config"));
    });

    it("FAIL when the API server does not answer, with kubectl's reason and nothing else asked; other stacks get PULUMI_STACK in the fix", async () => {
        const calls: string[][] = [];
        const findings = await checkExistingCluster(
            existing(),
            cluster({ ...base, down: "Unable to connect to the server: dial tcp 10.0.0.1:6443: i/o timeout" }, calls),
            target,
            "prod",
        );
        assert.equal(findings.length, 1);
        assert.equal(findings[0].level, "problem");
        assert.equal(
            findings[0].what,
            "the API server of context prod (your kubeconfig) does not answer: Unable to connect to the server: dial tcp 10.0.0.1:6443: i/o timeout",
        );
        assert.match(
            findings[0].fix!,
            /kubectl --context prod get --raw \/readyz\), or use another context: PULUMI_STACK=prod npm run config -- set vault-ha:kubeContext <context>$/,
        );
        assert.ok(!calls.some((c) => c.includes("can-i")));
    });

    it("FAIL when the server answers but is not ready", async () => {
        const findings = await checkExistingCluster(existing(), cluster({ ...base, readyz: "[-]etcd failed" }), target, "dev");
        assert.equal(findings.length, 1);
        assert.match(findings[0].what, /^the API server of context prod \(your kubeconfig\) \(Kubernetes v1\.34\.2\) is not ready$/);
        assert.match(findings[0].fix!, /readyz\?verbose/);
    });

    it("FAIL for each permission denied, with the authorizer's reason, why vault-ha needs it and the can-i command; an error is not a no", async () => {
        const findings = await checkExistingCluster(
            existing(),
            cluster({
                ...base,
                denied: { "create namespaces": "", "create pods/exec vault": 'RBAC: role "view" does not allow it' },
                broken: ["create secrets vault"],
            }),
            target,
            "dev",
        );
        const failures = findings.filter((f) => f.level === "problem");
        assert.deepEqual(
            failures.map((f) => f.what),
            [
                "context prod (your kubeconfig) may not create namespaces (cluster-wide) (kubectl auth can-i: no); needed because the up creates the Namespaces vault, cert-manager (server-side apply, which creates with a patch)",
                "could not ask whether context prod (your kubeconfig) may create secrets in namespace vault: You must be logged in to the server (Unauthorized)",
                `context prod (your kubeconfig) may not create pods/exec in namespace vault (kubectl auth can-i: no - RBAC: role "view" does not allow it); needed because the bootstrap and the roll run kubectl exec in the Vault pods (init, unseal, join, raft)`,
            ],
        );
        assert.equal(
            failures[2].fix,
            "ask the cluster's admin for it (check with: kubectl --context prod auth can-i create pods --subresource=exec -n vault), or use a context that has it: npm run config -- set vault-ha:kubeContext <context>",
        );
        // The other checks still run: one pass lists everything to fix.
        assert.ok(findings.some((f) => f.level === "ok" && f.what.startsWith("storageClass not set")));
    });

    /** can-i's questions (without "auth can-i"), and the reason of each, for these settings and cert-manager's CRDs. */
    const questions = (raw: Record<string, string>, crds = false) =>
        new Map(
            requiredPermissions(existing(raw), { certManager: { crds, webhookReady: crds } }, "o").map((p) => [canIArgs(p).slice(2).join(" "), p.why] as const),
        );

    it("with ingress: gateway, the routes instead of Ingresses, and get on the user's Gateway", async () => {
        const q = questions({ ingress: "gateway", gatewayName: "public", gatewayNamespace: "gateways" });
        for (const verb of ["create", "patch", "delete"]) {
            assert.ok(q.has(`${verb} tlsroutes.gateway.networking.k8s.io -n vault`), `${verb} Vault's TLSRoute`);
            assert.ok(q.has(`${verb} httproutes.gateway.networking.k8s.io -n whoami`), `${verb} whoami's HTTPRoute`);
        }
        assert.ok(q.has("get gateways.gateway.networking.k8s.io -n gateways"));
        assert.ok(![...q.keys()].some((k) => k.includes("ingresses")), "no Ingress behind a Gateway");
        const plain = questions({ ingress: "gateway", tls: "false" });
        assert.ok(plain.has("create httproutes.gateway.networking.k8s.io -n vault"), "without TLS Vault's route is an HTTPRoute");
    });

    it("Helm's install, upgrade and uninstall of the Vault chart: create, patch and delete on every kind it renders, and its release records", async () => {
        const q = questions({ tls: "false" });
        for (const resource of [
            "statefulsets.apps",
            "services",
            "serviceaccounts",
            "configmaps",
            "roles.rbac.authorization.k8s.io",
            "rolebindings.rbac.authorization.k8s.io",
            "poddisruptionbudgets.policy",
        ]) {
            for (const verb of ["create", "patch", "delete"]) assert.ok(q.has(`${verb} ${resource} -n vault`), `${verb} ${resource}`);
        }
        // The ClusterRoleBinding to system:auth-delegator is cluster-scoped: asked without -n.
        for (const verb of ["create", "patch", "delete"]) assert.ok(q.has(`${verb} clusterrolebindings.rbac.authorization.k8s.io`), verb);
        assert.equal(q.get("patch statefulsets.apps -n vault"), "Helm upgrades the Vault chart's StatefulSet (a later up)");
        assert.equal(q.get("delete poddisruptionbudgets.policy -n vault"), "Helm uninstalls the Vault chart's PodDisruptionBudget (pulumi destroy)");
        // Helm's release records: one Secret per revision, updated (superseded) at an upgrade, deleted at the uninstall.
        for (const verb of ["create", "get", "list", "update", "delete"]) assert.ok(q.has(`${verb} secrets -n vault`), `${verb} secrets`);
        // The namespace: created by server-side apply (a patch that creates: both verbs), kept at destroy by default.
        assert.ok(q.has("create namespaces") && q.has("patch namespaces"));
        assert.ok(!q.has("delete namespaces"), "raftVolumesOnDestroy keep, no other namespace: nothing deleted");
        // The claims are the StatefulSet controller's: vault-ha only lists them and deletes departed pods' (verify).
        assert.deepEqual(
            [...q.keys()].filter((k) => k.includes("persistentvolumeclaims")),
            ["list persistentvolumeclaims -n vault", "delete persistentvolumeclaims -n vault"],
        );
    });

    it("the steps: exec, the roll's pod deletion, the StatefulSet, the secrets read-ca reads and delete-secrets deletes, the load balancer's Service", async () => {
        const q = questions({});
        for (const k of [
            "get pods -n vault",
            "list pods -n vault",
            "create pods --subresource=exec -n vault",
            "get pods --subresource=exec -n vault",
            "delete pods -n vault",
            "get statefulsets.apps -n vault",
            "get pods --subresource=log -n vault",
            "list persistentvolumeclaims -n vault",
            "delete persistentvolumeclaims -n vault",
            "get secrets -n vault",
            "delete secrets -n vault",
            "get services -n vault",
            "list nodes",
            "list storageclasses.storage.k8s.io",
        ])
            assert.ok(q.has(k), k);
        assert.match(q.get("delete pods -n vault")!, /the roll replaces the Vault pods/);
        assert.match(q.get("delete persistentvolumeclaims -n vault")!, /verify deletes the departed pods' raft volumes once their peers are removed/);
        assert.match(q.get("get secrets -n vault")!, /Helm keeps the Vault release in Secrets and reads the release; read-ca reads the CA certificate/);
        assert.match(q.get("delete secrets -n vault")!, /; delete-secrets removes the secrets cert-manager wrote/);
        assert.match(q.get("get services -n vault")!, /load balancer's address/);
        // Port-forward only with ClusterIP (and its Service read); the load balancer wait only with LoadBalancer.
        assert.ok(![...q.keys()].some((k) => k.includes("portforward")));
        const clusterIp = questions({ vaultServiceType: "ClusterIP" });
        assert.ok(clusterIp.has("create pods --subresource=portforward -n vault"));
        assert.ok(clusterIp.has("get pods --subresource=portforward -n vault"));
        assert.match(clusterIp.get("get services -n vault")!, /kubectl port-forward reads the Service/);
        assert.ok(!questions({ vaultServiceType: "NodePort" }).has("get services -n vault"));
    });

    it("raftVolumesOnDestroy delete: the claims go with the namespace, so delete namespaces (cluster-wide), not delete persistentvolumeclaims", async () => {
        const q = questions({ raftVolumesOnDestroy: "delete", tls: "false" });
        assert.equal(
            q.get("delete namespaces"),
            "pulumi destroy deletes the Namespace vault (raftVolumesOnDestroy: delete; the raft volume claims go with it)",
        );
        // Destroy deletes no claim itself (verify's scale-down clean-up asks for its own two).
        assert.match(q.get("delete persistentvolumeclaims -n vault")!, /^after a scale-down, verify deletes/);
        // The other namespaces the up creates go at destroy too, whatever raftVolumesOnDestroy says.
        const all = questions({ ingress: "install" });
        assert.match(all.get("create namespaces")!, /the Namespaces vault, cert-manager, ingress-nginx, whoami /);
        assert.equal(all.get("delete namespaces"), "pulumi destroy deletes the Namespaces cert-manager, ingress-nginx, whoami");
    });

    it("Ingresses with an ingress, whoami's objects with whoami, ingress-nginx's chart with install; each question once", async () => {
        const lb = questions({});
        assert.ok(![...lb.keys()].some((k) => k.includes("ingress") || k.includes("whoami")));
        const existingClass = questions({ ingress: "existing" });
        for (const verb of ["create", "patch", "delete"]) {
            assert.ok(existingClass.has(`${verb} ingresses.networking.k8s.io -n vault`));
            for (const r of ["deployments.apps", "services", "ingresses.networking.k8s.io"])
                assert.ok(existingClass.has(`${verb} ${r} -n whoami`), `${verb} ${r}`);
        }
        assert.ok(!existingClass.has("create ingressclasses.networking.k8s.io"));
        assert.ok(!questions({ ingress: "existing", whoami: "false" }).has("create deployments.apps -n whoami"));
        const install = questions({ ingress: "install" });
        for (const verb of ["create", "patch", "delete"]) {
            for (const k of [
                "ingressclasses.networking.k8s.io",
                "clusterroles.rbac.authorization.k8s.io",
                "validatingwebhookconfigurations.admissionregistration.k8s.io",
                "deployments.apps -n ingress-nginx",
                "jobs.batch -n ingress-nginx",
            ])
                assert.ok(install.has(`${verb} ${k}`), `${verb} ${k}`);
        }
        for (const verb of ["create", "get", "list", "update", "delete"]) assert.ok(install.has(`${verb} secrets -n ingress-nginx`));
        // A question several parts need is asked once, with every reason.
        assert.match(
            install.get("create clusterrolebindings.rbac.authorization.k8s.io")!,
            /^Helm installs the Vault chart's ClusterRoleBinding to system:auth-delegator \(the first up\); .*cert-manager.*; .*ingress-nginx/,
        );
        for (const raw of [{}, { ingress: "install", raftVolumesOnDestroy: "delete", vaultServiceType: "ClusterIP" }, { tls: "false" }] as Record<
            string,
            string
        >[]) {
            for (const crds of [false, true]) {
                const keys = requiredPermissions(existing(raw), { certManager: { crds, webhookReady: crds } }, "o").map((p) => canIArgs(p).join(" "));
                assert.equal(new Set(keys).size, keys.length, `each question once: ${JSON.stringify(raw)}`);
            }
        }
    });

    it("cert-manager: its cluster-wide objects only when the up installs it; issuers only once its CRDs exist; none without TLS", async () => {
        const owner = "vault-ha.dev";
        const running = (crdOwner?: string) => ({ crds: true, webhookReady: true, namespace: "cert-manager", owner: crdOwner });
        const ask = (raw: Record<string, string>, certManager: ClusterView["certManager"]) =>
            requiredPermissions(existing(raw), { certManager }, owner).map((p) => p.resource);
        const none = { crds: false, webhookReady: false };
        assert.ok(ask({}, none).includes("customresourcedefinitions.apiextensions.k8s.io"), "auto, none there: installs");
        assert.ok(!ask({}, none).includes("issuers.cert-manager.io"), "can-i cannot ask about a type the server does not know");
        assert.ok(!ask({}, running()).includes("customresourcedefinitions.apiextensions.k8s.io"), "auto, a foreign one there: uses it");
        assert.ok(ask({}, running()).includes("issuers.cert-manager.io"));
        assert.ok(!ask({}, running()).includes("clusterissuers.cert-manager.io"), "nothing cluster-wide: the CA chain lives in Vault's namespace");
        assert.ok(ask({}, running(owner)).includes("customresourcedefinitions.apiextensions.k8s.io"), "auto, our own there: keeps installing it");
        assert.ok(!ask({ tls: "false" }, running()).some((r) => r.includes("cert-manager") || r.includes("customresourcedefinitions")));
    });

    it("cert-manager: the up's own decision, from the same facts; its refusals are FAILs before the up", async () => {
        const pick = async (raw: Record<string, string>, model: Partial<Model>) =>
            (await checkExistingCluster(existing(raw), cluster({ ...base, ...model }), target, "prod")).filter((f) => f.what.includes("cert-manager"));
        const none = await pick({ certManager: "existing" }, {});
        assert.equal(none.length, 1);
        assert.equal(none[0].level, "problem");
        assert.match(none[0].what, /^certManager: existing, but no cert-manager was found in the cluster/);
        // The fix is for the stack at hand: another stack than dev is named.
        assert.equal(none[0].fix, "install cert-manager first, or let vault-ha install it: PULUMI_STACK=prod npm run config -- set vault-ha:certManager auto");
        const foreign = { certManager: { crds: true, webhook: { namespace: "security", ready: true } } };
        assert.deepEqual(await pick({}, foreign), [{ level: "ok", what: "cert-manager: the one running in namespace security is used" }]);
        const second = await pick({ certManager: "install" }, foreign);
        assert.equal(second[0].level, "problem");
        assert.match(second[0].what, /^certManager: install, but a cert-manager is already running in namespace security\. A second cert-manager fights/);
        assert.equal(second[0].fix, "to use it: PULUMI_STACK=prod npm run config -- set vault-ha:certManager existing, or uninstall it first");
        assert.equal(
            (await pick({}, { certManager: { crds: true, webhook: { namespace: "security", ready: false } } }))[0].level,
            "problem",
            "a foreign one not ready",
        );
        // This stack's own (the owner label of the stack's own name, also for org/project/stack): kept.
        const ours = { certManager: { crds: true, webhook: { namespace: "cert-manager", ready: true, owner: "vault-ha.prod" } } };
        assert.deepEqual(await pick({}, ours), [{ level: "ok", what: "cert-manager: this stack's own, in namespace cert-manager, kept up to date" }]);
        const qualified = await checkExistingCluster(existing(), cluster({ ...base, ...ours }), target, "acme/vault-ha/prod");
        assert.ok(qualified.some((f) => f.what.startsWith("cert-manager: this stack's own")));
        // A list across namespaces that is forbidden falls back to certManagerNamespace, as the step does.
        assert.deepEqual(await pick({}, { ...ours, noClusterWideDeployments: true }), await pick({}, ours));
    });

    it("storage class: a named one must exist, else a default one must (the beta annotation counts)", async () => {
        const run = async (raw: Record<string, string>, classes: Model["storageClasses"]) =>
            (await checkExistingCluster(existing(raw), cluster({ ...base, storageClasses: classes }), target, "dev")).filter((f) =>
                f.what.toLowerCase().includes("storage"),
            );
        // The up's own plan decides (existingPlan): the preflight prints its verdicts, with this preflight's fix lines.
        assert.deepEqual(await run({ storageClass: "fast" }, [{ name: "gp3", isDefault: true }, { name: "fast" }]), [
            { level: "ok", what: "StorageClass fast exists" },
        ]);
        assert.deepEqual(await run({ storageClass: "fast" }, [{ name: "gp3", isDefault: true }]), [
            {
                level: "problem",
                what: "vault-ha:storageClass fast does not exist in the cluster (it has gp3)",
                fix: "npm run config -- set vault-ha:storageClass gp3, or npm run config -- rm vault-ha:storageClass for the default",
            },
        ]);
        const noDefault = await run({}, [{ name: "gp3" }]);
        assert.equal(noDefault[0].level, "problem");
        assert.match(noDefault[0].what, /no default StorageClass, so the raft volumes would stay Pending$/);
        assert.equal(noDefault[0].fix, "npm run config -- set vault-ha:storageClass gp3");
        assert.equal((await run({}, [{ name: "old", isDefault: true, beta: true }]))[0].level, "ok");
        assert.equal((await run({}, []))[0].level, "problem");
    });

    it("too few schedulable nodes: a warning with auto anti-affinity, a FAIL with required; tainted, cordoned and NotReady nodes do not count", async () => {
        const nodes: Model["nodes"] = [
            { name: "cp", taint: "NoSchedule" },
            { name: "w1" },
            { name: "w2", unschedulable: true },
            { name: "w3", ready: false },
            { name: "w4", taint: "PreferNoSchedule" },
        ];
        const pick = async (raw: Record<string, string>) =>
            (await checkExistingCluster(existing(raw), cluster({ ...base, nodes }), target, "dev")).find((f) => f.what.includes("schedulable node"))!;
        const auto = await pick({});
        assert.equal(auto.level, "warn");
        assert.match(auto.what, /has 2 schedulable node\(s\) for 3 Vault pods, so one pod per node is preferred, not required/);
        const required = await pick({ antiAffinity: "required" });
        assert.equal(required.level, "problem");
        assert.match(required.what, /antiAffinity is required, .* 2 schedulable node\(s\) for 3 Vault pods: 1 would stay Pending$/);
        assert.equal(required.fix, "add nodes, or npm run config -- set vault-ha:vaultReplicas 2, or npm run config -- set vault-ha:antiAffinity preferred");
    });

    it("anti-affinity auto: what the running StatefulSet has is kept, as the up keeps it", async () => {
        const nodes = (raw: Record<string, string>, model: Partial<Model>) =>
            checkExistingCluster(existing(raw), cluster({ ...base, ...model }), target, "dev").then((f) =>
                f.filter((x) => x.what.includes("schedulable node")),
            );
        // Enough nodes now, but the pods were made preferred: kept, with the way to make it required.
        const kept = await nodes({}, { running: "preferred" });
        assert.equal(kept.length, 1);
        assert.equal(kept[0].level, "warn");
        assert.match(kept[0].what, /keep the preferred anti-affinity they were made with/);
        assert.deepEqual(await nodes({}, { running: "required" }), [
            { level: "ok", what: "3 schedulable nodes for 3 Vault pods: one pod per node (anti-affinity required)" },
        ]);
    });

    it("the plan's fix lines, applied as the user would, give settings the program accepts", async () => {
        const raw = { cluster: "existing", kubeContext: "prod", antiAffinity: "required" };
        const nodes: Model["nodes"] = [{ name: "w1" }, { name: "w2" }];
        const failed = (await checkExistingCluster(parseSettings(raw).settings, cluster({ ...base, nodes }), target, "prod")).filter(
            (f) => f.level === "problem",
        );
        assert.equal(failed.length, 1);
        const alternatives = commandsOf(failed[0].fix!).filter((c) => c.length > 0);
        assert.equal(alternatives.length, 2, failed[0].fix);
        for (const commands of alternatives) {
            const fixed = parseSettings(toRaw(applyCommands(commands, toMap(raw), "prod")), { stack: "prod" }).settings;
            assert.ok(fixed.vaultReplicas <= 2 || fixed.antiAffinity === "preferred", commands.join(" && "));
        }
    });

    it("ingress existing needs its IngressClass", async () => {
        const missing = (await checkExistingCluster(existing({ ingress: "existing" }), cluster(base), target, "dev")).filter((f) => f.level === "problem");
        assert.equal(missing.length, 1);
        assert.equal(missing[0].what, "ingress is existing, but context prod (your kubeconfig) has no IngressClass nginx");
        const there = await checkExistingCluster(existing({ ingress: "existing" }), cluster({ ...base, ingressClasses: ["nginx"] }), target, "dev");
        assert.ok(there.some((f) => f.level === "ok" && f.what === "IngressClass nginx exists"));
    });

    it("cert-manager installed by the up: its leader-election Roles in kube-system; Issuers and Certificates created, patched and deleted", async () => {
        const q = questions({});
        for (const verb of ["create", "patch", "delete"]) {
            assert.ok(q.has(`${verb} roles.rbac.authorization.k8s.io -n kube-system`), verb);
            assert.ok(q.has(`${verb} rolebindings.rbac.authorization.k8s.io -n kube-system`), verb);
            assert.ok(q.has(`${verb} customresourcedefinitions.apiextensions.k8s.io`), verb);
            assert.ok(q.has(`${verb} mutatingwebhookconfigurations.admissionregistration.k8s.io`), verb);
        }
        for (const verb of ["create", "get", "list", "update", "delete"]) assert.ok(q.has(`${verb} secrets -n cert-manager`), verb);
        const crds = questions({}, true);
        for (const verb of ["create", "patch", "delete"]) {
            assert.ok(crds.has(`${verb} issuers.cert-manager.io -n vault`), verb);
            assert.ok(crds.has(`${verb} certificates.cert-manager.io -n vault`), verb);
        }
        assert.match(crds.get("create issuers.cert-manager.io -n vault")!, /; cert-manager-ready probes the webhook with a dry-run Issuer there$/);
    });

    describe("ingress: install next to another ingress-nginx", () => {
        const helm = (release: string, namespace: string) => ({
            labels: { "app.kubernetes.io/managed-by": "Helm" },
            annotations: { "meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace },
        });
        const run = async (model: Partial<Model>, raw: Record<string, string> = {}, calls: string[][] = []) =>
            (await checkExistingCluster(existing({ ingress: "install", ...raw }), cluster({ ...base, ...model }, calls), target, "prod")).filter((f) =>
                f.what.includes("ingress-nginx"),
            );

        it("FAIL when IngressClass nginx or ingress-nginx's cluster-wide objects belong to another release, with both ways out", async () => {
            const other = helm("nginx", "kube-ingress");
            const found = await run({
                objects: {
                    "ingressclasses.networking.k8s.io nginx": other,
                    "clusterroles.rbac.authorization.k8s.io ingress-nginx": other,
                    "validatingwebhookconfigurations.admissionregistration.k8s.io ingress-nginx-admission": other,
                },
            });
            assert.equal(found.length, 1);
            assert.equal(found[0].level, "problem");
            assert.equal(
                found[0].what,
                "ingress is install, but context prod (your kubeconfig) already has IngressClass nginx (it belongs to Helm release nginx in namespace kube-ingress), " +
                    "ClusterRole ingress-nginx (it belongs to Helm release nginx in namespace kube-ingress), " +
                    "ValidatingWebhookConfiguration ingress-nginx-admission (it belongs to Helm release nginx in namespace kube-ingress): " +
                    'Helm would stop the up half-way, "exists and cannot be imported into the current release" (vault-ha installs ingress-nginx as release ingress-nginx in namespace ingress-nginx)',
            );
            assert.equal(
                found[0].fix,
                "use the ingress controller that is there: PULUMI_STACK=prod npm run config -- set vault-ha:ingress existing and " +
                    "PULUMI_STACK=prod npm run config -- set vault-ha:ingressClassName <its class, from kubectl get ingressclasses> " +
                    "(with TLS its controller must run with --enable-ssl-passthrough), or remove the other installation (helm -n kube-ingress uninstall nginx)",
            );
        });

        it("Helm's own rule: the managed-by label and both annotations must name this release; an object made without Helm collides too", async () => {
            const ours = helm("ingress-nginx", "ingress-nginx");
            // The same release name in another namespace is another release.
            const elsewhere = await run({ objects: { "clusterrolebindings.rbac.authorization.k8s.io ingress-nginx": helm("ingress-nginx", "ingress") } });
            assert.match(elsewhere[0].what, /ClusterRoleBinding ingress-nginx \(it belongs to Helm release ingress-nginx in namespace ingress\)/);
            const manifests = await run({ objects: { "ingressclasses.networking.k8s.io nginx": {} } });
            assert.match(manifests[0].what, /already has IngressClass nginx \(it was not installed by Helm\)/);
            assert.match(manifests[0].fix!, /or remove the other installation$/);
            const noLabel = await run({ objects: { "ingressclasses.networking.k8s.io nginx": { annotations: ours.annotations } } });
            assert.equal(noLabel[0].level, "problem", "Helm requires app.kubernetes.io/managed-by=Helm as well");
            // This stack's own release (a later up), also with another ingressNginxNamespace.
            const all = Object.fromEntries(
                [
                    "ingressclasses.networking.k8s.io nginx",
                    "clusterroles.rbac.authorization.k8s.io ingress-nginx",
                    "clusterrolebindings.rbac.authorization.k8s.io ingress-nginx",
                    "validatingwebhookconfigurations.admissionregistration.k8s.io ingress-nginx-admission",
                ].map((k) => [k, ours]),
            );
            assert.deepEqual(await (await run({ objects: all })).map((f) => f.level !== "problem"), [true]);
            const moved = Object.fromEntries(Object.keys(all).map((k) => [k, helm("ingress-nginx", "edge")]));
            assert.deepEqual(await (await run({ objects: moved }, { ingressNginxNamespace: "edge" })).map((f) => f.level !== "problem"), [true]);
        });

        it("nothing there: one ok line; an object it may not read is a FAIL (Helm reads it before installing); no check without install", async () => {
            const calls: string[][] = [];
            assert.deepEqual(await run({}, {}, calls), [
                {
                    level: "ok",
                    what: "ingress-nginx: no other installation has IngressClass nginx or its cluster-wide objects (ClusterRole ingress-nginx, ClusterRoleBinding ingress-nginx, ValidatingWebhookConfiguration ingress-nginx-admission)",
                },
            ]);
            assert.ok(calls.some((c) => c.join(" ") === "kubectl --context prod get ingressclasses.networking.k8s.io nginx -o json --ignore-not-found"));
            const forbidden = await run({ forbiddenObjects: ["clusterroles.rbac.authorization.k8s.io ingress-nginx"] });
            assert.equal(forbidden.length, 1);
            assert.equal(forbidden[0].level, "problem");
            assert.match(forbidden[0].what, /^could not read whether .* ClusterRole ingress-nginx: Error from server \(Forbidden\)/);
            for (const ingress of ["none", "existing"]) {
                const none: string[][] = [];
                await checkExistingCluster(existing({ ingress }), cluster({ ...base, ingressClasses: ["nginx"] }, none), target, "dev");
                const asked = (c: string[]) => INGRESS_NGINX_CLUSTER_OBJECTS.some((o) => c.includes(o.resource) && c.includes(o.name));
                assert.ok(!none.some((c) => asked(c) && c.includes("json")), ingress);
            }
        });
    });

    describe("the kinds and names asked about are what the pinned charts render (a real Helm; skipped loudly without it)", function () {
        this.timeout(60_000);
        /** The resource kubectl auth can-i takes for each kind these charts render. */
        const RESOURCE: Record<string, string> = {
            StatefulSet: "statefulsets.apps",
            Deployment: "deployments.apps",
            Service: "services",
            ServiceAccount: "serviceaccounts",
            ConfigMap: "configmaps",
            Role: "roles.rbac.authorization.k8s.io",
            RoleBinding: "rolebindings.rbac.authorization.k8s.io",
            ClusterRole: "clusterroles.rbac.authorization.k8s.io",
            ClusterRoleBinding: "clusterrolebindings.rbac.authorization.k8s.io",
            PodDisruptionBudget: "poddisruptionbudgets.policy",
            Job: "jobs.batch",
            IngressClass: "ingressclasses.networking.k8s.io",
            ValidatingWebhookConfiguration: "validatingwebhookconfigurations.admissionregistration.k8s.io",
            MutatingWebhookConfiguration: "mutatingwebhookconfigurations.admissionregistration.k8s.io",
            CustomResourceDefinition: "customresourcedefinitions.apiextensions.k8s.io",
        };
        /** `resource@namespace` (or `resource` when cluster-scoped) of each object, once. */
        const kindsOf = (manifests: Manifest[]) =>
            [
                ...new Set(
                    manifests.map((m) => {
                        assert.ok(RESOURCE[m.kind], `a kind the preflight does not know: ${m.kind}`);
                        return `${RESOURCE[m.kind]}${m.metadata.namespace ? `@${m.metadata.namespace}` : ""}`;
                    }),
                ),
            ].sort();
        const asked = (kinds: readonly { resource: string; cluster?: boolean }[], namespace: string) =>
            kinds.map((k) => `${k.resource}${k.cluster ? "" : `@${namespace}`}`);

        before(function () {
            requireHelm(this, "the preflight's chart kinds");
        });

        it("the Vault chart, with every vaultServiceType and with TLS off", async () => {
            for (const raw of [{}, { vaultServiceType: "ClusterIP" }, { vaultServiceType: "NodePort" }, { tls: "false" }] as Record<string, string>[]) {
                const s = existing(raw);
                const manifests = await renderChart({ chart: "vault", release: "vault", namespace: "vault", values: vaultHelmValues(s, vaultChartOptions(s)) });
                assert.deepEqual(kindsOf(manifests), asked(VAULT_CHART_KINDS, "vault").sort(), JSON.stringify(raw));
            }
        });

        it("ingress-nginx with the existing-cluster values: its kinds, and its cluster-scoped objects that are not hooks", async () => {
            const manifests = await renderChart({
                chart: "ingress-nginx",
                release: INGRESS_NGINX_RELEASE,
                namespace: "ingress-nginx",
                values: ingressNginxValues("existing"),
            });
            assert.deepEqual(kindsOf(manifests), asked(INGRESS_NGINX_CHART_KINDS, "ingress-nginx").sort());
            assert.deepEqual(
                manifests
                    .filter((m) => !m.metadata.namespace && !m.metadata.annotations?.["helm.sh/hook"])
                    .map((m) => `${m.kind} ${m.metadata.name}`)
                    .sort(),
                INGRESS_NGINX_CLUSTER_OBJECTS.map((o) => `${o.kind} ${o.name}`).sort(),
            );
            for (const o of INGRESS_NGINX_CLUSTER_OBJECTS) assert.equal(RESOURCE[o.kind], o.resource);
        });

        it("cert-manager with the owner label: its kinds, its leader-election Roles in kube-system", async () => {
            const manifests = await renderChart({
                chart: "cert-manager",
                release: "cert-manager",
                namespace: "cert-manager",
                values: certManagerChartValues("o"),
            });
            assert.deepEqual(
                kindsOf(manifests),
                [
                    ...asked(CERT_MANAGER_CHART_KINDS, "cert-manager"),
                    ...asked(CERT_MANAGER_LEADER_ELECTION_KINDS, CERT_MANAGER_LEADER_ELECTION_NAMESPACE),
                ].sort(),
            );
        });
    });

    describe("the stack's own kubeconfig (the secret vault-ha:kubeconfig)", () => {
        const SECRET = "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    client-key-data: S3CRET-KEY-DATA\n";

        it("is decrypted by pulumi config get into a private file that kubectl gets by path, and removed afterwards", async () => {
            const calls: string[][] = [];
            const kube = cluster({ contexts: ["eks"], current: "eks" }, calls);
            let seen: { file: string; mode: number; dirMode: number; text: string } | undefined;
            const run: Runner = (command, args) => {
                if (command === "pulumi") {
                    calls.push([command, ...args]);
                    return { ok: true, stdout: JSON.stringify({ value: SECRET, secret: true }) };
                }
                if (command === "kubectl" && args[0] === "--kubeconfig" && !seen) {
                    const file = args[1];
                    seen = { file, mode: statSync(file).mode & 0o777, dirMode: statSync(path.dirname(file)).mode & 0o777, text: readFileSync(file, "utf8") };
                }
                return kube(command, args);
            };
            const findings = await withStackKubeconfig(run, "prod", true, (kubeconfigFile) =>
                checkExistingCluster(existing({ kubeContext: "", kubeconfig: "apiVersion: v1" }), run, { context: "", kubeconfigFile }, "prod"),
            );
            assert.deepEqual(
                findings.filter((f) => f.level === "problem"),
                [],
            );
            assert.equal(findings[0].what, "the current context of the kubeconfig in vault-ha:kubeconfig answers: Kubernetes v1.34.2");
            assert.deepEqual(calls[0], ["pulumi", "config", "get", "vault-ha:kubeconfig", "--json", "--stack", "prod", "--non-interactive"]);
            assert.ok(seen);
            assert.equal(seen.text, SECRET);
            assert.equal(seen.mode, 0o600);
            assert.equal(seen.dirMode, 0o700);
            assert.ok(!existsSync(seen.file), "removed");
            for (const c of calls) assert.ok(!c.join(" ").includes("S3CRET"), `the kubeconfig in an argv: ${c[0]}`);
            for (const f of findings) assert.ok(!`${f.what} ${f.fix ?? ""}`.includes("S3CRET"));
            // Hints name the context only: the temporary file is gone when the user reads them.
            assert.ok(!findings.some((f) => `${f.what} ${f.fix ?? ""}`.includes(seen!.file)));
        });

        it("without the passphrase the cluster is not checked: a warning that says how, and kubectl is not run", async () => {
            let ran = false;
            const findings = await withStackKubeconfig(
                () => ({ ok: false, stdout: "", stderr: "error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE" }),
                "dev",
                true,
                () => {
                    ran = true;
                    return Promise.resolve([]);
                },
            );
            assert.equal(ran, false);
            assert.deepEqual(
                findings.map((f) => f.level),
                ["warn"],
            );
            assert.match(findings[0].fix!, /PULUMI_CONFIG_PASSPHRASE/);
        });

        it("the stack file says whether it is set and which mode the stack is in, even when its other settings are broken", async () => {
            const dir = mkdtempSync(path.join(tmpdir(), "preflight-existing-"));
            try {
                writeFileSync(
                    path.join(dir, "Pulumi.prod.yaml"),
                    "config:\n  vault-ha:cluster: existing\n  vault-ha:workers: lots\n  vault-ha:kubeconfig:\n    secure: v1:abc\n",
                );
                writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config:\n  cluster: kind\n");
                writeFileSync(path.join(dir, "Pulumi.bad.yaml"), "config: [\n");
                assert.equal(rawClusterMode("prod", dir), "existing");
                assert.equal(stackHasKubeconfig("prod", dir), true);
                assert.equal(rawClusterMode("dev", dir), "kind");
                assert.equal(stackHasKubeconfig("dev", dir), false);
                assert.equal(rawClusterMode("bad", dir), "kind");
                assert.equal(rawClusterMode("missing", dir), "kind");
                assert.equal(rawClusterMode("org/project/prod", dir), "existing");
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        });
    });
});
