/**
 * Graph order, over the whole resource graph and in both TLS modes: nothing is created before what it needs exists.
 *
 *  (a) every namespaced Kubernetes object waits for the Namespace it lives in;
 *  (b) every cert-manager custom resource waits for cert-manager's CRDs (the chart) and its webhook (the gate);
 *  (c) every Ingress waits for the ingress controller, whose admission webhook must admit it.
 *
 * A preview cannot catch a violation: the first `pulumi up` creates the two in parallel, and pulumi-kubernetes gives
 * up after ~31 s of NotFound (`namespaces "vault" not found`). So the order is checked here, on the registrations.
 *
 * What the engine waits for, which is what `waitsFor` computes:
 *  - A resource waits only for the URNs in its own `dependencies` list: its explicit `dependsOn` plus the resources
 *    behind the Outputs among its inputs. It does NOT inherit its parent component's dependencies: a component's
 *    `dependsOn` reaches a child only if it is passed through (inCluster does that), and then it is in the child's
 *    own list. So the ancestors' lists are deliberately not consulted.
 *  - A dependency on a (local) component means all of that component's descendants. The Node SDK already sends the
 *    descendants' URNs instead of the component's; the expansion here only keeps the model right if it ever did not.
 *  - A remote component (kubernetes-cert-manager's CertManager) is created by its provider's Construct, which returns
 *    only once all its children are done, so waiting for it is waiting for them; its own `dependencies` (and the
 *    Outputs among its inputs, which carry theirs into the provider) are what its children wait for.
 *  - Waiting is transitive: A waits for B and B for C, so A starts after C is done.
 */
import { strict as assert } from "assert";
import { INGRESS_NGINX_CHART } from "../../components/config/versions";
import { ProgramRun, Registration, runProgram } from "../support/program";
import { stepCommand } from "../../components/stepCommand/contract";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const CERT_MANAGER_CHART = "kubernetes-cert-manager:index:CertManager";
const CERT_MANAGER_RESOURCE = /^kubernetes:cert-manager\.io\//;

const isLocalComponent = (r: Registration) => !r.custom && !r.remote;

/** The namespace a Kubernetes object is created in, or undefined for cluster-scoped objects and everything else. */
function namespaceOf(r: Registration): string | undefined {
    if (!r.type.startsWith("kubernetes")) return undefined; // also leaves out pulumi:providers:kubernetes
    if (r.type === RELEASE) return r.inputs.namespace;
    if (r.type === CERT_MANAGER_CHART) return r.inputs.helmOptions?.namespace;
    return r.inputs.metadata?.namespace;
}

/** Everything `r` waits for before the engine creates it (URNs), following the rules in the header. */
function waitsFor(run: ProgramRun, r: Registration): Set<string> {
    const expand = (urn: string): string[] => {
        const dep = run.byUrn(urn);
        if (!isLocalComponent(dep)) return [urn];
        return run.registrations.filter((c) => c.parent === urn).flatMap((c) => expand(c.urn));
    };
    const seen = new Set<string>();
    const pending = r.dependencies.flatMap(expand);
    while (pending.length > 0) {
        const urn = pending.pop()!;
        if (seen.has(urn)) continue;
        seen.add(urn);
        pending.push(...run.byUrn(urn).dependencies.flatMap(expand));
    }
    return seen;
}

const describeResource = (r: Registration) => `${r.name} (${r.type}${namespaceOf(r) ? `, namespace "${namespaceOf(r)}"` : ""})`;

for (const tls of ["true", "false"]) {
    describe(`graph order (tls: ${tls}): namespaces, CRDs and the ingress controller come first`, () => {
        let run: ProgramRun;
        let creatable: Registration[];
        before(async () => {
            run = await runProgram({ tls });
            // Components register nothing in the cluster; a remote component does, so it stays in.
            creatable = run.registrations.filter((r) => !isLocalComponent(r));
        });

        it("(a) every namespaced object waits for the Namespace it lives in", () => {
            const namespaces = run.all(NAMESPACE);
            const problems: string[] = [];
            const hosted = new Map<string, string[]>();
            for (const r of creatable) {
                const ns = namespaceOf(r);
                if (ns === undefined) continue;
                const owner = namespaces.filter((n) => n.inputs.metadata?.name === ns);
                if (owner.length !== 1) {
                    problems.push(`${describeResource(r)} lives in namespace "${ns}", which the program creates ${owner.length} times (expected once)`);
                    continue;
                }
                hosted.set(ns, [...(hosted.get(ns) ?? []), r.name]);
                if (!waitsFor(run, r).has(owner[0].urn)) {
                    problems.push(
                        `${describeResource(r)} does not wait for Namespace "${ns}" (${owner[0].name}): on a first up it can be created before its namespace exists`,
                    );
                }
            }
            assert.deepEqual(problems, []);
            // Not vacuous: the objects that lived in the vault namespace when this test was written are checked.
            const expected = ["vault-release", "vault-ingress-ingress", ...(tls === "true" ? ["vault-tls-server-certificate"] : [])];
            for (const name of expected) assert.ok(hosted.get("vault")?.includes(name), `${name} is checked as living in namespace "vault"`);
            for (const n of namespaces) assert.ok(hosted.has(n.inputs.metadata.name), `something lives in Namespace ${n.inputs.metadata.name}`);
        });

        it("(b) every cert-manager resource waits for cert-manager's CRDs and its webhook", () => {
            const resources = creatable.filter((r) => CERT_MANAGER_RESOURCE.test(r.type));
            const charts = run.all(CERT_MANAGER_CHART);
            const gates = run.all("command:local:Command").filter((c) => c.inputs.create === stepCommand("cert-manager-ready"));
            if (tls === "false") {
                assert.deepEqual(
                    [resources.length, charts.length, gates.length],
                    [0, 0, 0],
                    "tls: false installs no cert-manager and creates none of its resources",
                );
                return;
            }
            assert.equal(resources.length, 4, "the CA chain (2 ClusterIssuers, the CA certificate) and the server certificate");
            assert.equal(charts.length, 1, "one cert-manager chart");
            assert.equal(gates.length, 1, "one webhook gate");
            const problems: string[] = [];
            for (const r of resources) {
                const waits = waitsFor(run, r);
                if (!waits.has(charts[0].urn))
                    problems.push(`${describeResource(r)} does not wait for ${charts[0].name}, which installs the cert-manager CRDs`);
                if (!waits.has(gates[0].urn))
                    problems.push(`${describeResource(r)} does not wait for ${gates[0].name}, the gate on cert-manager's admission webhook`);
            }
            assert.deepEqual(problems, []);
        });

        it("(c) every Ingress waits for the ingress controller's release", () => {
            const controller = run.all(RELEASE).filter((r) => r.inputs.chart === INGRESS_NGINX_CHART.chart);
            assert.equal(controller.length, 1, "one ingress controller release");
            const ingresses = creatable.filter((r) => r.type === INGRESS);
            assert.deepEqual(ingresses.map((i) => i.name).sort(), ["vault-ingress-ingress", "whoami-ingress"]);
            const problems = ingresses
                .filter((i) => !waitsFor(run, i).has(controller[0].urn))
                .map((i) => `${describeResource(i)} does not wait for ${controller[0].name}, whose admission webhook must admit it`);
            assert.deepEqual(problems, []);
        });
    });
}
