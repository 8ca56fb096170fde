/**
 * `npm run render` (scripts/render.ts) against what the program registers (index.ts under Pulumi mocks), for the same
 * stack config: the Helm releases and their values, the Vault server configuration, and cert-manager's CA chain
 * (kind, name, namespace, spec), on kind and on an existing cluster, with and without TLS. Render prints what `up`
 * applies only if both take the mode's choices from the same functions (components/config/clusterModes.ts).
 *
 * On an existing cluster the mocks' cluster-facts (tests/support/program.ts FAKE_FACTS: 3 schedulable nodes, no
 * cert-manager) make `up` decide what render assumes for the choices left to `up` (the chart's required anti-affinity,
 * cert-manager installed); with `ingress: gateway` they also report the user's Gateway, fit for Vault's route.
 *
 * The Gateway front door (issue 22): Envoy Gateway's release on kind, and the Gateway API objects vault-ha itself
 * creates (EnvoyProxy, GatewayClass and Gateway on kind; the routes on both cluster modes), by apiVersion, kind, name,
 * namespace and spec.
 */
import { strict as assert } from "assert";
import { parse, parseAllDocuments } from "yaml";
import { parseSettings } from "../../components/config/settings";
import { GATEWAY_SECTION, plannedReleases, render, renderPlan } from "../../scripts/render";
import { registeredReleases } from "../support/helm";
import { COMMAND, FAKE_FACTS, ProgramRun, runProgram, runProgramOnce } from "../support/program";
import { TRANSIT_CA_PEM } from "../unit/seal/sealFixtures";

/** The transit seal's token: a secret of the stack, which render must never print. */
const TRANSIT_TOKEN = "hvs.render-must-not-print-this";

const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";

/** The project's stack under mocks (tests/support/program.ts): the owner label render and the program compute. */
const STACK = "dev";

const STACKS: Record<string, Record<string, string>> = {
    "kind, tls": { tls: "true" },
    "kind, no tls": { tls: "false" },
    "existing, tls": { cluster: "existing", kubeContext: "prod-eu", tls: "true" },
    "existing, no tls": { cluster: "existing", kubeContext: "prod-eu", tls: "false" },
    "existing, tls, ingress-nginx installed": {
        cluster: "existing",
        kubeContext: "prod-eu",
        tls: "true",
        ingress: "install",
        ingressHost: "vault.example.com",
    },
    "kind, tls, in-cluster unsealer": { tls: "true", autoUnseal: "in-cluster" },
    "existing, no tls, in-cluster unsealer": { cluster: "existing", kubeContext: "prod-eu", tls: "false", autoUnseal: "in-cluster" },
    "existing, tls, awskms seal through IRSA": {
        cluster: "existing",
        kubeContext: "prod-eu",
        tls: "true",
        seal: "awskms",
        sealKey: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        sealIdentity: "arn:aws:iam::111122223333:role/vault",
    },
    "kind, tls, transit seal with its CA": {
        tls: "true",
        seal: "transit",
        sealKey: "vault-ha",
        sealTransitAddress: "https://transit.example.com:8200",
        sealTransitCaCert: TRANSIT_CA_PEM,
        sealTransitToken: TRANSIT_TOKEN,
    },
    "kind, tls, own host ports, no whoami": { tls: "true", ingressHttpPort: "8080", ingressHttpsPort: "8443", whoami: "false" },
    "existing, no tls, an ingress class it has, NodePort, volumes kept": {
        cluster: "existing",
        kubeContext: "prod-eu",
        tls: "false",
        ingress: "existing",
        ingressClassName: "public",
        ingressHost: "vault.example.com",
        vaultServiceType: "NodePort",
        raftVolumesOnDestroy: "keep",
    },
    "kind, tls, gateway": { tls: "true", ingress: "gateway" },
    "kind, no tls, gateway": { tls: "false", ingress: "gateway" },
    "existing, tls, gateway": {
        cluster: "existing",
        kubeContext: "prod-eu",
        tls: "true",
        ingress: "gateway",
        gatewayName: "public",
        gatewayNamespace: "gateways",
    },
    "existing, no tls, gateway, own host": {
        cluster: "existing",
        kubeContext: "prod-eu",
        tls: "false",
        ingress: "gateway",
        ingressHost: "vault.example.com",
        gatewayName: "public",
        gatewayNamespace: "gateways",
    },
    "existing, tls, ClusterIP, preferred anti-affinity, no resources": {
        cluster: "existing",
        kubeContext: "prod-eu",
        tls: "true",
        vaultServiceType: "ClusterIP",
        antiAffinity: "preferred",
        vaultCpu: "none",
        vaultMemory: "none",
    },
};

/**
 * The user's Gateway as the facts step reports it (components/cluster/gatewayFacts.ts): Gateway API v1 with TLSRoute,
 * a Passthrough TLS listener and an HTTP listener, both admitting routes from every namespace.
 */
function factsFor(config: Record<string, string>): Record<string, unknown> {
    if (config.cluster !== "existing" || config.ingress !== "gateway") return {};
    const tls = { name: "tls", protocol: "TLS", port: 443, tlsMode: "Passthrough", allowedRoutes: { from: "All" } };
    const http = { name: "http", protocol: "HTTP", port: 80, allowedRoutes: { from: "All" } };
    const gateway = {
        name: config.gatewayName,
        namespace: config.gatewayNamespace,
        served: { gateways: "v1", tlsroutes: "v1", httproutes: "v1" },
        exists: true,
        listeners: [tls, http],
    };
    return { "cluster-facts": { ...FAKE_FACTS, gateway } };
}

/** The Gateway API objects the program registers (Pulumi CustomResources of the two API groups), as render prints them. */
function registeredGatewayObjects(run: ProgramRun): unknown[] {
    return run.registrations
        .filter((r) => /^kubernetes:gateway\.(networking\.k8s|envoyproxy)\.io\//.test(r.type))
        .map((r) => plain({ apiVersion: r.inputs.apiVersion, kind: r.inputs.kind, metadata: r.inputs.metadata, spec: r.inputs.spec }))
        .sort(byKindAndName);
}

const byKindAndName = (a: any, b: any) =>
    `${a.kind}/${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.namespace}/${b.metadata.name}`);

/** A value as the engine receives it: what JSON keeps (no undefined members). */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v ?? null));

/** render's text as its sections: title -> body. */
function sections(text: string): Map<string, string> {
    const parts = text.split(/^# ==== (.*)$/m);
    const out = new Map<string, string>();
    for (let i = 1; i < parts.length; i += 2) out.set(parts[i], parts[i + 1]);
    return out;
}

/** The body of the one section whose title starts with `prefix`, or undefined. */
function section(all: Map<string, string>, prefix: string): string | undefined {
    const found = [...all.keys()].filter((t) => t.startsWith(prefix));
    assert.ok(found.length <= 1, `one section "${prefix}...", found ${found.join(", ")}`);
    return found.length === 1 ? all.get(found[0]) : undefined;
}

/** A cert-manager object reduced to what it is: kind, name, namespace and spec (the program adds a wait annotation). */
interface CertObject {
    kind: string;
    name: string;
    namespace?: string;
    spec: unknown;
}
const byName = (a: CertObject, b: CertObject) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`);

function registeredCertObjects(run: ProgramRun): CertObject[] {
    return run.registrations
        .filter((r) => r.type.startsWith("kubernetes:cert-manager.io/"))
        .map((r) => ({
            kind: r.inputs.kind,
            name: r.inputs.metadata.name,
            ...(r.inputs.metadata.namespace !== undefined ? { namespace: r.inputs.metadata.namespace } : {}),
            spec: plain(r.inputs.spec),
        }))
        .sort(byName);
}

function renderedCertObjects(body: string | undefined): CertObject[] {
    if (body === undefined) return [];
    return parseAllDocuments(body)
        .map((d) => d.toJS())
        .map((m: any) => ({
            kind: m.kind,
            name: m.metadata.name,
            ...(m.metadata.namespace !== undefined ? { namespace: m.metadata.namespace } : {}),
            spec: plain(m.spec),
        }))
        .sort(byName);
}

describe("npm run render shows what the program registers", function () {
    this.timeout(60_000);

    for (const [title, config] of Object.entries(STACKS)) {
        describe(title, () => {
            let run: ProgramRun;
            let printed: Map<string, string>;
            const settings = () => parseSettings(config).settings;
            before(async () => {
                // The transit token is a secret of the stack (config set --secret).
                const facts = factsFor(config);
                run =
                    config.sealTransitToken !== undefined
                        ? await runProgram(config, ["sealTransitToken"])
                        : Object.keys(facts).length > 0
                          ? await runProgram(config, [], facts)
                          : await runProgramOnce(config);
                printed = sections(render(STACK, settings()));
            });

            it("the same Helm releases, charts, versions, namespaces and values (render --manifests' plan)", () => {
                const registered = registeredReleases(run)
                    .map((r) => ({ chart: r.chart, release: r.release, namespace: r.namespace, version: r.version, values: plain(r.values) }))
                    .sort((a, b) => a.release.localeCompare(b.release));
                const planned = plannedReleases(settings(), STACK)
                    .map((r) => ({ ...r, values: plain(r.values) }))
                    .sort((a, b) => a.release.localeCompare(b.release));
                assert.deepEqual(planned, registered);
            });

            it("each release's printed values are the registered values, and no other chart's values are printed", () => {
                const registered = registeredReleases(run);
                for (const chart of ["ingress-nginx", "gateway-helm", "cert-manager", "vault"] as const) {
                    const body = section(printed, `${chart} chart `);
                    const release = registered.find((r) => r.chart === chart);
                    if (!release) {
                        assert.equal(body, undefined, `render prints ${chart} values, but the program installs no ${chart}`);
                        continue;
                    }
                    assert.ok(body !== undefined, `render prints no ${chart} values, but the program installs ${chart}`);
                    assert.deepEqual(plain(parse(body)), plain(release.values), `${chart} values`);
                }
            });

            it("the printed Vault server configuration is the one the registered release starts Vault with", () => {
                const vault = registeredReleases(run).find((r) => r.chart === "vault")!;
                const hcl = section(printed, "Vault server configuration");
                assert.equal(hcl?.trim(), String((vault.values as any).server.ha.raft.config).trim());
            });

            it("the rest of the plan render reads is what the program registers: Ingresses, whoami, the namespace's fate, the gate", () => {
                const plan = renderPlan(STACK, settings());
                // Behind a Gateway, Vault and whoami have routes (the next test) and no Ingress.
                const byIngress = plan.ingress !== undefined && plan.ingress.source !== "gateway";
                const ingresses = run.all(INGRESS);
                const vaultIngress = ingresses.find((r) => r.name === "vault-ingress-ingress");
                assert.equal(vaultIngress?.inputs.spec.rules[0].host, byIngress ? plan.vaultIngress?.host : undefined, "Vault's Ingress host");
                const className = plan.ingress?.source === "existing" ? plan.ingress.className : byIngress ? "nginx" : undefined;
                assert.equal(vaultIngress?.inputs.spec.ingressClassName, className, "Vault's Ingress class");
                const whoami = ingresses.find((r) => r.name === "whoami-ingress");
                assert.equal(whoami !== undefined, byIngress && plan.whoami !== undefined, "whoami's Ingress");
                if (byIngress && plan.whoami)
                    assert.equal(whoami!.inputs.spec.rules[0].host, "host" in plan.whoami ? plan.whoami.host : undefined, "whoami's host");
                if (plan.vaultIngress) {
                    const port = plan.vaultIngress.tls ? plan.vaultIngress.hostHttpsPort : plan.vaultIngress.hostHttpPort;
                    const url = String(run.outputs.ingressUrl.value);
                    assert.equal(url, `${plan.vaultIngress.tls ? "https" : "http"}://${plan.vaultIngress.host}${[80, 443].includes(port) ? "" : `:${port}`}`);
                }
                const namespace = run.one("kubernetes:core/v1:Namespace", "vault-namespace-ns");
                assert.equal(namespace.retainOnDelete, plan.vaultNamespace.retainOnDelete, "the Vault namespace outlives a destroy");
                const gate = run.all(COMMAND).find((r) => r.name === "cert-manager-webhook-ready");
                assert.equal(gate !== undefined, plan.certManager !== undefined, "cert-manager's gate");
                if (plan.certManager) {
                    const probe = gate!.inputs.environment?.VAULT_HA_PROBE_NAMESPACE === plan.vaultNamespace.name;
                    assert.equal(probe, plan.certManager.probeInVaultNamespace, "the gate probes in Vault's namespace");
                }
                assert.equal(run.outputs.portForwardCommand !== undefined, plan.outputPortForwardCommand, "the port-forward command output");
            });

            it("the same Gateway API objects: apiVersion, kind, name, namespace and spec (none without ingress: gateway)", () => {
                const registered = registeredGatewayObjects(run);
                const body = section(printed, GATEWAY_SECTION);
                const rendered = body === undefined ? [] : parseAllDocuments(body).map((d) => plain(d.toJS()));
                assert.deepEqual(rendered.sort(byKindAndName), registered);
                const kinds = registered.map((o: any) => o.kind).sort();
                const tls = config.tls === "true";
                const expected =
                    config.ingress !== "gateway"
                        ? []
                        : [
                              ...(config.cluster === "existing" ? [] : ["EnvoyProxy", "Gateway", "GatewayClass"]),
                              "HTTPRoute",
                              ...(tls ? ["TLSRoute"] : ["HTTPRoute"]),
                          ].sort();
                assert.deepEqual(kinds, expected, "the objects of the mode");
            });

            it("the same in-cluster unsealer objects (ServiceAccount, Deployment), or none", () => {
                const registered = run.registrations
                    .filter((r) => r.type === "kubernetes:core/v1:ServiceAccount" || r.type === "kubernetes:apps/v1:Deployment")
                    .filter((r) => r.parent?.endsWith("vault-ha:unsealer:InClusterUnsealer::unsealer"))
                    .map((r) => plain({ kind: r.type.split(":").pop(), ...r.inputs }));
                const body = section(printed, "in-cluster unsealer");
                assert.equal(body !== undefined, config.autoUnseal === "in-cluster", "render shows the unsealer exactly when the program makes one");
                const rendered = body === undefined ? [] : parseAllDocuments(body).map((d) => plain(d.toJS()));
                // The program's inputs carry no apiVersion (the resource type says it).
                assert.deepEqual(
                    rendered.map((m: any) => ({ kind: m.kind, ...m, apiVersion: undefined })).map(plain),
                    registered.map((m: any) => ({ ...m, apiVersion: undefined })).map(plain),
                );
                const keys = run.registrations.find((r) => r.type === "kubernetes:core/v1:Secret" && r.name === "unsealer-keys");
                assert.equal(keys !== undefined, config.autoUnseal === "in-cluster", "the keys Secret");
            });

            it("the same seal: render names it (and its Secret) exactly when the program seals with it, and never prints the token", () => {
                const plan = renderPlan(STACK, settings());
                const body = section(printed, "seal ");
                assert.equal(body !== undefined, plan.seal.type !== "shamir", "render shows an auto seal, and only one");
                const vault = registeredReleases(run).find((r) => r.chart === "vault")!;
                const hcl = String((vault.values as any).server.ha.raft.config);
                assert.equal(hcl.includes(`seal "${plan.seal.type}"`), plan.seal.type !== "shamir", "the registered HCL's seal stanza");
                const secret = run.registrations.find((r) => r.type === "kubernetes:core/v1:Secret" && r.name === "vault-seal");
                assert.equal(secret !== undefined, body?.includes("Secret ") === true, "the seal's Secret, shown and made alike");
                assert.ok(![...printed.values()].some((text) => text.includes(TRANSIT_TOKEN)), "the token is never rendered");
            });

            it("the same cert-manager objects: kinds, names, namespaces and specs", () => {
                const registered = registeredCertObjects(run);
                assert.equal(registered.length, config.tls === "true" ? 4 : 0, "the program's CA chain");
                assert.deepEqual(renderedCertObjects(section(printed, "cert-manager CA chain")), registered);
            });
        });
    }
});
