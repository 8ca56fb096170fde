/**
 * Envoy Gateway's pinned chart (gateway-helm, components/config/versions.ts) rendered by a real Helm with the values
 * vault-ha sends, and every Gateway API and EnvoyProxy object vault-ha creates (components/gateway/gatewayManifests.ts)
 * validated against the CRDs that chart bundles: their schemas by ajv (tests/support/crdValidator.ts), and the CEL
 * rules each object reaches by the hand-written table in tests/support/gatewayCel.ts. Any reached rule missing from
 * the table fails, and every rule in the table must be reached: the table is exactly what these objects meet.
 */
import { strict as assert } from "assert";
import { existsSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ENVOY_GATEWAY_RELEASE, envoyGatewayValues } from "../../components/gateway/envoyGatewayValues";
import {
    envoyProxyManifest,
    GATEWAY_CONTROLLER_NAME,
    GATEWAY_NAMESPACE,
    gatewayClassManifest,
    gatewayManifest,
    GatewayTarget,
    KubernetesObject,
    vaultRouteManifest,
    whoamiRouteManifest,
} from "../../components/gateway/gatewayManifests";
import { GATEWAY_CHART } from "../../components/config/versions";
import { CHARTS_CACHE_DIR, helmTemplate, kubeVersionOfNodeImage, parseManifests, REFERENCE_CHARTS_DIR, runHelm } from "../../scripts/charts";
import { CrdValidator, CustomResource } from "../support/crdValidator";
import { GATEWAY_CEL_RULES } from "../support/gatewayCel";
import { helmAvailable, Manifest, skipLoudly } from "../support/helm";

const ARCHIVE = `${GATEWAY_CHART.chart}-${GATEWAY_CHART.version}.tgz`;

/** The pinned archive beside the project (developers, CI), else in the cache; or why there is none. */
function gatewayArchive(): { archive: string } | { skip: string } {
    for (const dir of [REFERENCE_CHARTS_DIR, CHARTS_CACHE_DIR]) if (existsSync(path.join(dir, ARCHIVE))) return { archive: path.join(dir, ARCHIVE) };
    return { skip: `no chart archive ${ARCHIVE} in ${REFERENCE_CHARTS_DIR} or ${CHARTS_CACHE_DIR}` };
}

const VAULT_NS = "vault";
const WHOAMI_NS = "whoami";
const KIND: GatewayTarget = { cluster: "kind" };
const EXISTING: GatewayTarget = { cluster: "existing", gatewayName: "shared", gatewayNamespace: "gateways" };

/** Every object vault-ha creates, in both TLS modes, on kind and on an existing cluster's Gateway. */
function everyObject(): CustomResource[] {
    const objects: CustomResource[] = [
        { origin: "envoyProxyManifest", manifest: envoyProxyManifest() },
        { origin: "gatewayClassManifest", manifest: gatewayClassManifest() },
    ];
    for (const tls of [true, false]) {
        objects.push({
            origin: `gatewayManifest tls=${tls}`,
            manifest: gatewayManifest({ tls, ingressHost: "vault.localhost", vaultNamespace: VAULT_NS, whoamiNamespace: WHOAMI_NS }),
        });
        for (const [where, gateway, host] of [
            ["kind", KIND, "vault.localhost"],
            ["existing", EXISTING, "vault.example.com"],
        ] as const) {
            objects.push({
                origin: `vaultRouteManifest tls=${tls} ${where}`,
                manifest: vaultRouteManifest({ tls, ingressHost: host, vaultNamespace: VAULT_NS, gateway }),
            });
        }
    }
    objects.push(
        { origin: "whoamiRouteManifest kind", manifest: whoamiRouteManifest({ whoamiNamespace: WHOAMI_NS, gateway: KIND }) },
        { origin: "whoamiRouteManifest existing", manifest: whoamiRouteManifest({ whoamiNamespace: WHOAMI_NS, gateway: EXISTING, host: "vault.example.com" }) },
    );
    return objects;
}

const kindsOf = (crs: CustomResource[]) => crs.map((cr) => `${cr.manifest.apiVersion} ${cr.manifest.kind}`);

/** Every leaf key path of a values object ("topologyInjector.enabled"). */
function leafPaths(v: unknown, prefix = ""): string[] {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return [prefix];
    return Object.entries(v).flatMap(([k, child]) => leafPaths(child, prefix ? `${prefix}.${k}` : k));
}

describe("Envoy Gateway: the pinned chart, and vault-ha's Gateway API objects against its CRDs", function () {
    this.timeout(60_000);
    let rendered: Manifest[];
    let chartValues: Record<string, any>;
    let shownChart: { name?: string; version?: string };
    let crds: Manifest[];

    before(async function () {
        const helm = helmAvailable();
        if ("skip" in helm) skipLoudly(this, "Envoy Gateway chart tests", helm.skip);
        const found = gatewayArchive();
        if ("skip" in found) skipLoudly(this, "Envoy Gateway chart tests", found.skip);
        const [text, values, chart] = await Promise.all([
            helmTemplate({
                helm: helm.helm,
                archive: found.archive,
                release: ENVOY_GATEWAY_RELEASE,
                namespace: GATEWAY_NAMESPACE,
                values: envoyGatewayValues(),
                kubeVersion: kubeVersionOfNodeImage(),
            }),
            runHelm(helm.helm, ["show", "values", found.archive]),
            runHelm(helm.helm, ["show", "chart", found.archive]),
        ]);
        rendered = parseManifests(text);
        chartValues = parse(values);
        shownChart = parse(chart);
        crds = rendered.filter((m) => m.kind === "CustomResourceDefinition");
    });

    describe("the chart as vault-ha installs it", () => {
        it("is the pinned chart, and every value vault-ha sends is a key of it", () => {
            assert.deepEqual({ name: shownChart.name, version: shownChart.version }, { name: GATEWAY_CHART.chart, version: GATEWAY_CHART.version });
            assert.ok(GATEWAY_CHART.oci.endsWith(`/${GATEWAY_CHART.chart}`));
            const missing = leafPaths(envoyGatewayValues()).filter(
                (p) => p.split(".").reduce((v: any, k) => (v && k in v ? v[k] : undefined), chartValues) === undefined,
            );
            assert.deepEqual(missing, []);
        });

        it("runs the controller v1.9.0, with the controller name vault-ha's GatewayClass names", () => {
            const deployment = rendered.find((m) => m.kind === "Deployment" && m.metadata.name === "envoy-gateway");
            assert.ok(deployment, "no Deployment envoy-gateway");
            assert.deepEqual(
                deployment.spec.template.spec.containers.map((c: any) => c.image),
                ["docker.io/envoyproxy/gateway:v1.9.0"],
            );
            const config = rendered.find((m) => m.kind === "ConfigMap" && m.metadata.name === "envoy-gateway-config");
            assert.equal(parse(config?.data["envoy-gateway.yaml"]).gateway.controllerName, GATEWAY_CONTROLLER_NAME);
        });

        it("has the certgen hook Job (the controller mounts the Secret it makes), told the topology injector is off", () => {
            const job = rendered.find((m) => m.kind === "Job");
            assert.ok(job, "no certgen Job: the controller would wait forever for Secret envoy-gateway");
            assert.equal(job.metadata.name, `${ENVOY_GATEWAY_RELEASE}-gateway-helm-certgen`);
            assert.equal(job.metadata.annotations?.["helm.sh/hook"], "pre-install, pre-upgrade");
            assert.deepEqual(job.spec.template.spec.containers[0].args, ["--disable-topology-injector"]);
            assert.equal(job.spec.template.spec.containers[0].image, "docker.io/envoyproxy/gateway:v1.9.0");
        });

        it("renders no topology-injector webhook and no certgen ClusterRole or ClusterRoleBinding (hooks Helm would leave behind)", () => {
            assert.deepEqual(
                rendered.filter((m) => m.kind === "MutatingWebhookConfiguration" || (m.kind.startsWith("Cluster") && m.metadata.name.includes("certgen"))),
                [],
            );
        });

        it("bundles TLSRoute v1, served and stored, and the Gateway API CRDs vault-ha's objects use", () => {
            const tlsRoutes = crds.find((c) => c.metadata.name === "tlsroutes.gateway.networking.k8s.io");
            assert.ok(tlsRoutes, "no TLSRoute CRD");
            const v1 = tlsRoutes.spec.versions.find((v: any) => v.name === "v1");
            assert.deepEqual({ served: v1?.served, storage: v1?.storage }, { served: true, storage: true });
            assert.equal(tlsRoutes.metadata.annotations?.["gateway.networking.k8s.io/bundle-version"], "v1.6.1");
            for (const name of ["gateways", "gatewayclasses", "httproutes"]) {
                const crd = crds.find((c) => c.metadata.name === `${name}.gateway.networking.k8s.io`);
                assert.ok(
                    crd?.spec.versions.some((v: any) => v.name === "v1" && v.served && v.storage),
                    `${name} v1 is not served and stored`,
                );
            }
            assert.ok(crds.some((c) => c.metadata.name === "envoyproxies.gateway.envoyproxy.io"));
        });
    });

    describe("vault-ha's objects against the bundled CRDs", () => {
        // One validator (compiling these schemas takes seconds); the first test reads which rules it has reached.
        let validator: CrdValidator;
        before(() => (validator = new CrdValidator(ENVOY_GATEWAY_RELEASE, crds, GATEWAY_CEL_RULES)));

        it("all validate, both TLS modes, kind and an existing cluster's Gateway; the CEL table is exactly the rules they reach", () => {
            assert.equal(validator.reached.size, 0);
            const objects = everyObject();
            assert.deepEqual([...new Set(kindsOf(objects))].sort(), [
                "gateway.envoyproxy.io/v1alpha1 EnvoyProxy",
                "gateway.networking.k8s.io/v1 Gateway",
                "gateway.networking.k8s.io/v1 GatewayClass",
                "gateway.networking.k8s.io/v1 HTTPRoute",
                "gateway.networking.k8s.io/v1 TLSRoute",
            ]);
            assert.deepEqual(
                objects.flatMap((cr) => validator.problems(cr)),
                [],
            );
            assert.deepEqual(
                [...GATEWAY_CEL_RULES.keys()].filter((rule) => !validator.reached.has(rule)),
                [],
                "rules in the table that no object reaches",
            );
        });

        describe("rejects what the API server rejects", () => {
            const check = (origin: string, manifest: KubernetesObject) => validator.problems({ origin, manifest }).join("\n");
            const tlsGateway = () => gatewayManifest({ tls: true, ingressHost: "vault.localhost", vaultNamespace: VAULT_NS, whoamiNamespace: WHOAMI_NS });
            const tlsRoute = () => vaultRouteManifest({ tls: true, ingressHost: "vault.localhost", vaultNamespace: VAULT_NS, gateway: KIND });
            const listeners = (g: KubernetesObject) => g.spec.listeners as any[];
            const rule = (r: KubernetesObject) => (r.spec.rules as any[])[0];

            it("a TLS listener without tls.mode, or without tls (and tls on an HTTP listener)", () => {
                const noMode = tlsGateway();
                listeners(noMode)[1].tls = {};
                // The API server defaults the mode to Terminate, which then wants a certificate.
                assert.match(
                    check("no mode", noMode),
                    /spec\.listeners\[1\]\.tls: fails the CEL rule: certificateRefs or options must be specified when mode is Terminate/,
                );
                const noTls = tlsGateway();
                delete listeners(noTls)[1].tls;
                assert.match(check("no tls", noTls), /spec\.listeners: fails the CEL rule: tls mode must be set for protocol TLS/);
                const httpTls = tlsGateway();
                listeners(httpTls)[0].tls = { mode: "Passthrough" };
                assert.match(
                    check("tls on http", httpTls),
                    /spec\.listeners: fails the CEL rule: tls must not be specified for protocols \['HTTP', 'TCP', 'UDP'\]/,
                );
            });

            it("two listeners with one name, or the same port, protocol and hostname", () => {
                const gateway = tlsGateway();
                listeners(gateway).push({ ...listeners(gateway)[0] });
                const problems = check("twice", gateway);
                assert.match(problems, /Listener name must be unique within the Gateway/);
                assert.match(problems, /Combination of port, protocol and hostname must be unique for each listener/);
            });

            it("a TLSRoute backendRef without its port (kind Service is the default), two rules, no or empty hostnames", () => {
                const noPort = tlsRoute();
                delete rule(noPort).backendRefs[0].port;
                assert.match(check("no port", noPort), /spec\.rules\[0\]\.backendRefs\[0\]: fails the CEL rule: Must have port for Service reference/);
                const twoRules = tlsRoute();
                (twoRules.spec.rules as any[]).push(rule(twoRules));
                assert.match(check("two rules", twoRules), /spec\.rules: must NOT have more than 1 items/);
                const empty = tlsRoute();
                empty.spec.hostnames = [];
                assert.match(check("empty hostnames", empty), /spec\.hostnames: must NOT have fewer than 1 items/);
                const none = tlsRoute();
                delete none.spec.hostnames;
                assert.match(check("no hostnames", none), /spec\.hostnames: required/);
            });

            it("a hostname that is an IP, has capitals or a wildcard not first", () => {
                const route = tlsRoute();
                route.spec.hostnames = ["203.0.113.10", "Vault.localhost", "vault.*.localhost"];
                const problems = check("hostnames", route);
                assert.match(problems, /Hostnames cannot contain an IP/);
                assert.match(problems, /Hostnames must be valid based on RFC-1123/);
                assert.match(problems, /Wildcards on hostnames must be the first label/);
            });

            it("two parentRefs to the same Gateway listener", () => {
                const route = tlsRoute();
                route.spec.parentRefs = [...(route.spec.parentRefs as any[]), ...(route.spec.parentRefs as any[])];
                assert.match(check("parents", route), /sectionName or port must be unique when parentRefs includes 2 or more references to the same parent/);
            });

            it("a whoami path that is not absolute, and an EnvoyProxy LoadBalancer field on a ClusterIP Service", () => {
                const whoami = whoamiRouteManifest({ whoamiNamespace: WHOAMI_NS, gateway: KIND });
                rule(whoami).matches[0].path.value = "_whoami";
                assert.match(check("path", whoami), /value must be an absolute path and start with '\/'/);
                const proxy = envoyProxyManifest();
                (proxy.spec as any).provider.kubernetes.envoyService.loadBalancerIP = "203.0.113.10";
                assert.match(check("lb ip", proxy), /loadBalancerIP can only be set for LoadBalancer type/);
            });

            it("a reached CEL rule the table does not hold fails, saying so", () => {
                const partial = new Map(GATEWAY_CEL_RULES);
                partial.delete("(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true");
                const strictValidator = new CrdValidator(ENVOY_GATEWAY_RELEASE, crds, partial);
                assert.match(
                    strictValidator.problems({ origin: "route", manifest: tlsRoute() }).join("\n"),
                    /backendRefs\[0\]: has a CEL rule the table does not hold: check it by hand, then add it \(\(size\(self\.group\)/,
                );
            });
        });
    });
});
