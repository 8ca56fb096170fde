/**
 * The preflight of a stack with cluster: existing (scripts/preflightExisting.ts, scripts/preflight.ts): the context,
 * the API server, `kubectl auth can-i`, the storage class, the nodes, cert-manager and the ingress class, each failure
 * with what failed and its fix; never docker or kind; the stack's own kubeconfig only as a private file. The kubectl
 * here is a model of one cluster answering the way kubectl does (scripts.test.ts and commands.test.ts run the same
 * code through a fake kubectl on PATH).
 */
import { strict as assert } from "assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parseSettings } from "../../../components/config/settings";
import { rawClusterMode, Runner, RunResult, stackHasKubeconfig, withStackKubeconfig } from "../../../scripts/preflight";
import { canIArgs, checkExistingCluster, ClusterView, KubeTarget, requiredPermissions } from "../../../scripts/preflightExisting";

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
        if (line === "get storageclasses -o json") {
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
        if (a[0] === "get" && a[1] === "ingressclasses") {
            return { ok: true, stdout: (model.ingressClasses ?? []).includes(a[2]) ? `ingressclass.networking.k8s.io/${a[2]}\n` : "" };
        }
        return { ok: false, stdout: "", stderr: `fake kubectl: unexpected ${line}` };
    };
}

const target: KubeTarget = { context: "prod" };
const base: Model = { contexts: ["kind-vault", "prod"], current: "kind-vault" };

describe("npm run preflight with cluster: existing", () => {
    it("passes a reachable cluster that allows everything, asking kubectl only (never docker or kind)", () => {
        const calls: string[][] = [];
        const findings = checkExistingCluster(existing(), cluster(base, calls), target, "dev");
        assert.deepEqual(
            findings.filter((f) => !f.ok || f.warn),
            [],
        );
        assert.deepEqual(
            findings.map((f) => f.what),
            [
                "context prod (your kubeconfig) answers: Kubernetes v1.34.2",
                `context prod (your kubeconfig) may create what the up needs (${requiredPermissions(existing(), { certManager: { crds: false, webhookReady: false } }, "vault-ha.dev").length} kubectl auth can-i checks)`,
                "storageClass not set: the raft volumes use the default StorageClass standard",
                "3 schedulable nodes for 3 Vault pods: one pod per node (anti-affinity required)",
                "cert-manager: none runs there; the up installs it",
            ],
        );
        assert.deepEqual([...new Set(calls.map((c) => c[0]))], ["kubectl"]);
        // Every call that reaches the cluster names the context; the kubeconfig itself is only read.
        for (const c of calls.filter((c) => c[1] !== "config")) assert.deepEqual(c.slice(1, 3), ["--context", "prod"], c.join(" "));
        assert.ok(calls.some((c) => c.join(" ") === "kubectl --context prod --request-timeout=10s get --raw /readyz"));
    });

    it("asks for pods/exec as a subresource (pods/exec would be the pod named exec) and reads can-i's answer from stdout", () => {
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

    it("FAIL on a context that is not in the kubeconfig, naming the contexts there, before asking the server anything", () => {
        const calls: string[][] = [];
        const findings = checkExistingCluster(existing({ kubeContext: "prd" }), cluster(base, calls), { context: "prd" }, "dev");
        assert.deepEqual(findings, [
            {
                ok: false,
                what: "kubeContext prd is not a context of your kubeconfig (the contexts there: kind-vault, prod)",
                fix: "npm run config -- set vault-ha:kubeContext <one of them>",
            },
        ]);
        assert.ok(calls.every((c) => c[1] === "config"));
    });

    it("FAIL when the API server does not answer, with kubectl's reason and nothing else asked; other stacks get PULUMI_STACK in the fix", () => {
        const calls: string[][] = [];
        const findings = checkExistingCluster(
            existing(),
            cluster({ ...base, down: "Unable to connect to the server: dial tcp 10.0.0.1:6443: i/o timeout" }, calls),
            target,
            "prod",
        );
        assert.equal(findings.length, 1);
        assert.equal(findings[0].ok, false);
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

    it("FAIL when the server answers but is not ready", () => {
        const findings = checkExistingCluster(existing(), cluster({ ...base, readyz: "[-]etcd failed" }), target, "dev");
        assert.equal(findings.length, 1);
        assert.match(findings[0].what, /^the API server of context prod \(your kubeconfig\) \(Kubernetes v1\.34\.2\) is not ready$/);
        assert.match(findings[0].fix!, /readyz\?verbose/);
    });

    it("FAIL for each permission denied, with the authorizer's reason, why vault-ha needs it and the can-i command; an error is not a no", () => {
        const findings = checkExistingCluster(
            existing(),
            cluster({
                ...base,
                denied: { "create namespaces": "", "create pods/exec vault": 'RBAC: role "view" does not allow it' },
                broken: ["create secrets vault"],
            }),
            target,
            "dev",
        );
        const failures = findings.filter((f) => !f.ok);
        assert.deepEqual(
            failures.map((f) => f.what),
            [
                "context prod (your kubeconfig) may not create namespaces (cluster-wide) (kubectl auth can-i: no); needed because each component creates its namespace",
                "could not ask whether context prod (your kubeconfig) may create secrets in namespace vault: You must be logged in to the server (Unauthorized)",
                `context prod (your kubeconfig) may not create pods/exec in namespace vault (kubectl auth can-i: no - RBAC: role "view" does not allow it); needed because the bootstrap runs kubectl exec in the Vault pods`,
            ],
        );
        assert.equal(
            failures[2].fix,
            "ask the cluster's admin for it (check with: kubectl --context prod auth can-i create pods --subresource=exec -n vault), or use a context that has it: npm run config -- set vault-ha:kubeContext <context>",
        );
        // The other checks still run: one pass lists everything to fix.
        assert.ok(findings.some((f) => f.ok && f.what.startsWith("storageClass not set")));
    });

    it("asks for port-forward only with ClusterIP, PVC deletion only with raftVolumesOnDestroy delete, Ingresses only with an ingress", () => {
        const keys = (raw: Record<string, string>, crds = false) =>
            requiredPermissions(existing(raw), { certManager: { crds, webhookReady: crds } }, "o").map((p) => canIArgs(p).slice(2).join(" "));
        const lb = keys({});
        assert.ok(!lb.some((k) => k.includes("portforward") || k.includes("persistentvolumeclaims") || k.includes("ingress")));
        assert.ok(keys({ vaultServiceType: "ClusterIP" }).includes("create pods --subresource=portforward -n vault"));
        assert.ok(keys({ vaultServiceType: "ClusterIP" }).includes("get pods --subresource=portforward -n vault"));
        assert.ok(keys({ raftVolumesOnDestroy: "delete" }).includes("delete persistentvolumeclaims -n vault"));
        assert.ok(keys({ ingress: "existing" }).includes("create ingresses.networking.k8s.io -n vault"));
        const install = keys({ ingress: "install" });
        assert.ok(install.includes("create ingressclasses.networking.k8s.io"));
        assert.ok(install.includes("create deployments.apps -n ingress-nginx"));
        // The Vault chart's ClusterRoleBinding to system:auth-delegator, whatever else is chosen.
        assert.ok(lb.includes("create clusterrolebindings.rbac.authorization.k8s.io"));
        assert.equal(new Set(install).size, install.length, "each question once");
    });

    it("cert-manager: its cluster-wide objects only when the up installs it; issuers only once its CRDs exist; none without TLS", () => {
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

    it("cert-manager: the up's own decision, from the same facts; its refusals are FAILs before the up", () => {
        const pick = (raw: Record<string, string>, model: Partial<Model>) =>
            checkExistingCluster(existing(raw), cluster({ ...base, ...model }), target, "prod").filter((f) => f.what.includes("cert-manager"));
        const none = pick({ certManager: "existing" }, {});
        assert.equal(none.length, 1);
        assert.equal(none[0].ok, false);
        assert.match(none[0].what, /^certManager: existing, but no cert-manager was found in the cluster/);
        assert.match(none[0].fix!, /certManager to auto or install/);
        const foreign = { certManager: { crds: true, webhook: { namespace: "security", ready: true } } };
        assert.deepEqual(pick({}, foreign), [{ ok: true, what: "cert-manager: the one running in namespace security is used" }]);
        const second = pick({ certManager: "install" }, foreign);
        assert.equal(second[0].ok, false);
        assert.match(second[0].what, /^certManager: install, but a cert-manager is already running in namespace security$/);
        assert.equal(pick({}, { certManager: { crds: true, webhook: { namespace: "security", ready: false } } })[0].ok, false, "a foreign one not ready");
        // This stack's own (the owner label of the stack's own name, also for org/project/stack): kept.
        const ours = { certManager: { crds: true, webhook: { namespace: "cert-manager", ready: true, owner: "vault-ha.prod" } } };
        assert.deepEqual(pick({}, ours), [{ ok: true, what: "cert-manager: this stack's own, in namespace cert-manager, kept up to date" }]);
        const qualified = checkExistingCluster(existing(), cluster({ ...base, ...ours }), target, "acme/vault-ha/prod");
        assert.ok(qualified.some((f) => f.what.startsWith("cert-manager: this stack's own")));
        // A list across namespaces that is forbidden falls back to certManagerNamespace, as the step does.
        assert.deepEqual(pick({}, { ...ours, noClusterWideDeployments: true }), pick({}, ours));
    });

    it("storage class: a named one must exist, else a default one must (the beta annotation counts)", () => {
        const run = (raw: Record<string, string>, classes: Model["storageClasses"]) =>
            checkExistingCluster(existing(raw), cluster({ ...base, storageClasses: classes }), target, "dev").filter((f) =>
                f.what.toLowerCase().includes("storage"),
            );
        assert.deepEqual(run({ storageClass: "fast" }, [{ name: "gp3", isDefault: true }, { name: "fast" }]), [{ ok: true, what: "StorageClass fast exists" }]);
        assert.deepEqual(run({ storageClass: "fast" }, [{ name: "gp3", isDefault: true }]), [
            {
                ok: false,
                what: "storageClass fast does not exist in context prod (your kubeconfig) (the StorageClasses there: gp3 (default))",
                fix: "npm run config -- set vault-ha:storageClass <one of them>, or create fast",
            },
        ]);
        const noDefault = run({}, [{ name: "gp3" }]);
        assert.equal(noDefault[0].ok, false);
        assert.match(
            noDefault[0].what,
            /^storageClass is not set and context prod \(your kubeconfig\) has no default StorageClass \(the StorageClasses there: gp3\)/,
        );
        assert.match(noDefault[0].fix!, /storageclass\.kubernetes\.io\/is-default-class=true/);
        assert.equal(run({}, [{ name: "old", isDefault: true, beta: true }])[0].ok, true);
        assert.equal(run({}, [])[0].ok, false);
    });

    it("too few schedulable nodes: a warning with auto anti-affinity, a FAIL with required; tainted, cordoned and NotReady nodes do not count", () => {
        const nodes: Model["nodes"] = [
            { name: "cp", taint: "NoSchedule" },
            { name: "w1" },
            { name: "w2", unschedulable: true },
            { name: "w3", ready: false },
            { name: "w4", taint: "PreferNoSchedule" },
        ];
        const pick = (raw: Record<string, string>) =>
            checkExistingCluster(existing(raw), cluster({ ...base, nodes }), target, "dev").find((f) => f.what.includes("schedulable node"))!;
        const auto = pick({});
        assert.equal(auto.ok, true);
        assert.equal(auto.warn, true);
        assert.match(auto.what, /has 2 schedulable nodes .* for 3 Vault pods: anti-affinity becomes preferred/);
        const required = pick({ antiAffinity: "required" });
        assert.equal(required.ok, false);
        assert.match(required.what, /antiAffinity is required: 1 pod would stay Pending$/);
        assert.equal(
            required.fix,
            "add nodes, or npm run config -- set vault-ha:antiAffinity preferred (pods may share a node), or npm run config -- set vault-ha:vaultReplicas 2",
        );
    });

    it("ingress existing needs its IngressClass", () => {
        const missing = checkExistingCluster(existing({ ingress: "existing" }), cluster(base), target, "dev").filter((f) => !f.ok);
        assert.equal(missing.length, 1);
        assert.equal(missing[0].what, "ingress is existing, but context prod (your kubeconfig) has no IngressClass nginx");
        const there = checkExistingCluster(existing({ ingress: "existing" }), cluster({ ...base, ingressClasses: ["nginx"] }), target, "dev");
        assert.ok(there.some((f) => f.ok && f.what === "IngressClass nginx exists"));
    });

    describe("the stack's own kubeconfig (the secret vault-ha:kubeconfig)", () => {
        const SECRET = "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    client-key-data: S3CRET-KEY-DATA\n";

        it("is decrypted by pulumi config get into a private file that kubectl gets by path, and removed afterwards", () => {
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
            const findings = withStackKubeconfig(run, "prod", true, (kubeconfigFile) =>
                checkExistingCluster(existing({ kubeContext: "", kubeconfig: "apiVersion: v1" }), run, { context: "", kubeconfigFile }, "prod"),
            );
            assert.deepEqual(
                findings.filter((f) => !f.ok),
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

        it("without the passphrase the cluster is not checked: a warning that says how, and kubectl is not run", () => {
            let ran = false;
            const findings = withStackKubeconfig(
                () => ({ ok: false, stdout: "", stderr: "error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE" }),
                "dev",
                true,
                () => {
                    ran = true;
                    return [];
                },
            );
            assert.equal(ran, false);
            assert.deepEqual(
                findings.map((f) => [f.ok, f.warn]),
                [[true, true]],
            );
            assert.match(findings[0].fix!, /PULUMI_CONFIG_PASSPHRASE/);
        });

        it("the stack file says whether it is set and which mode the stack is in, even when its other settings are broken", () => {
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
