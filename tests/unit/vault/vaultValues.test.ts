import { parse as parseHcl } from "@cdktf/hcl2json";
import { strict as assert } from "assert";
import { renderHcl } from "../../../components/vault/hcl";
import { ingressNginxValues } from "../../../components/ingress/ingressNginxValues";
import { parseSettings } from "../../../components/config/settings";
import { readFileSync } from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { VAULT_IMAGE } from "../../../components/config/versions";
import { podTemplateSummary } from "../../../components/vault/rollPlan";
import {
    ANTI_AFFINITIES,
    chartImage,
    PREFERRED_ANTI_AFFINITY,
    TLS_RELOAD_SCRIPT,
    VAULT_SERVICE_TYPES,
    vaultHelmValues,
    VaultServiceType,
    vaultServerHcl,
} from "../../../components/vault/vaultValues";

// The blog's plain-HTTP lab (tls: false) and the default, TLS.
const plain = parseSettings({ tls: "false" }).settings;
const tls = parseSettings({}).settings;

describe("Vault server HCL", () => {
    const common = { ui: true, disable_mlock: true, storage: { raft: [{ path: "/vault/data" }] }, service_registration: { kubernetes: [{}] } };

    it("parses with HashiCorp's HCL parser into the blog's raft configuration (tls: false)", async () => {
        assert.deepEqual(await parseHcl("vault.hcl", vaultServerHcl(false)), {
            ...common,
            listener: { tcp: [{ address: "[::]:8200", cluster_address: "[::]:8201", tls_disable: true }] },
        });
    });

    it("parses into a TLS listener with the mounted certificate, key and CA (tls: true)", async () => {
        assert.deepEqual(await parseHcl("vault.hcl", vaultServerHcl(true)), {
            ...common,
            listener: {
                tcp: [
                    {
                        address: "[::]:8200",
                        cluster_address: "[::]:8201",
                        tls_disable: false,
                        tls_cert_file: "/vault/userconfig/vault-tls/tls.crt",
                        tls_key_file: "/vault/userconfig/vault-tls/tls.key",
                        tls_client_ca_file: "/vault/userconfig/vault-tls/ca.crt",
                    },
                ],
            },
        });
    });

    for (const mode of [false, true]) {
        it(`states disable_mlock once, in the exact form the chart looks for (tls: ${mode})`, () => {
            // The chart's own test, from its _helpers.tpl: (?m)^\s*disable_mlock\s*=\s*(true|false)
            const matches = vaultServerHcl(mode).match(/^\s*disable_mlock\s*=\s*(true|false)/gm) ?? [];
            assert.equal(matches.length, 1);
        });

        it(`contains nothing Helm's tpl would evaluate, and no TLS bypass (tls: ${mode})`, () => {
            assert.ok(!vaultServerHcl(mode).includes("{{"));
            assert.ok(!/skip.?verify/i.test(vaultServerHcl(mode)));
        });
    }

    it("refuses strings with template markers", () => {
        assert.throws(() => renderHcl({ attributes: { path: "{{ .Release.Name }}" } }), /template marker/);
        assert.throws(() => renderHcl({ attributes: { path: "${HOME}" } }), /template marker/);
    });
});

describe("Vault chart values (tls: false, the blog's plain-HTTP lab)", () => {
    const values = vaultHelmValues(plain) as any;

    it("runs HA with integrated storage: 3 replicas, raft, node id = pod name, config in ha.raft.config", () => {
        assert.equal(values.server.ha.enabled, true);
        assert.equal(values.server.ha.replicas, 3);
        assert.equal(values.server.ha.raft.enabled, true);
        assert.equal(values.server.ha.raft.setNodeId, true);
        assert.equal(values.server.ha.raft.config, vaultServerHcl(false));
        assert.equal(values.server.ha.config, undefined, "server.ha.config is ignored with raft; setting it would mislead");
    });

    it("keeps a 10Gi PVC per pod mounted where raft stores its data", () => {
        assert.deepEqual(values.server.dataStorage, { enabled: true, size: "10Gi", mountPath: "/vault/data" });
    });

    it("serves the UI on NodePort 30000, port 8200, only from unsealed pods", () => {
        assert.deepEqual(values.ui, {
            enabled: true,
            serviceType: "NodePort",
            serviceNodePort: 30000,
            externalPort: 8200,
            publishNotReadyAddresses: false,
            activeVaultPodOnly: true,
        });
    });

    it("turns the injector off and keeps a readiness probe that needs no TLS bypass", () => {
        assert.deepEqual(values.injector, { enabled: false });
        assert.deepEqual(values.server.readinessProbe, { enabled: true, path: "/v1/sys/health?standbyok=true", port: 8200 });
        assert.ok(!JSON.stringify(values).includes("skip-verify"));
        assert.ok(!JSON.stringify(values).includes("skip_verify"));
    });

    it("runs plain HTTP consistently in the chart and in the listener (TLS is its own switch)", () => {
        assert.equal(values.global.tlsDisable, true);
        assert.match(values.server.ha.raft.config, /tls_disable\s+= true/);
    });

    it("pins the Vault image", () => {
        assert.deepEqual(values.server.image, { repository: "hashicorp/vault", tag: "2.0.4" });
    });

    it("follows replicas, NodePort and storage size from the settings", () => {
        const { settings } = parseSettings({ workers: "5", vaultReplicas: "5", uiNodePort: "30001", raftStorageSize: "2Gi", tls: "false" });
        const custom = vaultHelmValues(settings) as any;
        assert.equal(custom.server.ha.replicas, 5);
        assert.equal(custom.ui.serviceNodePort, 30001);
        assert.equal(custom.server.dataStorage.size, "2Gi");
    });

    it("tls: false leaves out everything TLS", () => {
        for (const key of ["volumes", "volumeMounts", "extraEnvironmentVars", "extraContainers", "shareProcessNamespace"]) {
            assert.equal(values.server[key], undefined, key);
        }
        assert.equal(values.server.ha.apiAddr, undefined);
    });
});

describe("Vault chart values with TLS", () => {
    const values = vaultHelmValues(tls) as any;
    const mount = { name: "vault-tls", mountPath: "/vault/userconfig/vault-tls", readOnly: true };

    it("turns TLS on in the chart, consistently with the listener", () => {
        assert.equal(values.global.tlsDisable, false);
        assert.match(values.server.ha.raft.config, /tls_disable\s+= false/);
        assert.equal(values.server.ha.raft.config, vaultServerHcl(true));
    });

    it("mounts the cert-manager secret read-only and points the in-pod CLI at its CA", () => {
        assert.deepEqual(values.server.volumes, [{ name: "vault-tls", secret: { secretName: "vault-server-tls", defaultMode: 0o440 } }]);
        assert.deepEqual(values.server.volumeMounts, [mount]);
        assert.deepEqual(values.server.extraEnvironmentVars, { VAULT_CACERT: "/vault/userconfig/vault-tls/ca.crt" });
    });

    it("advertises each pod by a name in its certificate, through a variable defined before VAULT_API_ADDR", () => {
        assert.equal(values.server.ha.apiAddr, "https://$(VAULT_K8S_POD_NAME).vault-internal:8200");
    });

    it("runs a reloader that sends SIGHUP to Vault when the mounted certificate changes", () => {
        assert.equal(values.server.shareProcessNamespace, true);
        assert.deepEqual(values.server.extraContainers, [
            {
                name: "tls-reloader",
                image: "hashicorp/vault:2.0.4",
                command: ["/bin/sh", "-c", TLS_RELOAD_SCRIPT],
                volumeMounts: [mount],
                securityContext: { allowPrivilegeEscalation: false },
                resources: { requests: { cpu: "5m", memory: "8Mi" }, limits: { memory: "32Mi" } },
            },
        ]);
        assert.match(TLS_RELOAD_SCRIPT, /kill -HUP \$pid/);
        assert.match(TLS_RELOAD_SCRIPT, /\/vault\/userconfig\/vault-tls\/tls.crt/);
    });
});

describe("ingress-nginx chart values", () => {
    const controller = (ingressNginxValues() as any).controller;

    it("binds host ports 80/443 on the ingress-ready control-plane node", () => {
        assert.deepEqual(controller.hostPort, { enabled: true, ports: { http: 80, https: 443 } });
        assert.equal(controller.nodeSelector["ingress-ready"], "true");
        assert.deepEqual(controller.tolerations, [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }]);
    });

    it("enables SSL passthrough and publishes localhost as the ingress address", () => {
        assert.equal(controller.extraArgs["enable-ssl-passthrough"], "true");
        assert.equal(controller.extraArgs["publish-status-address"], "localhost");
        assert.deepEqual(controller.publishService, { enabled: false });
    });

    it("uses a NodePort service (kind never assigns LoadBalancer addresses) and the default class nginx", () => {
        assert.deepEqual(controller.service, { type: "NodePort" });
        assert.equal(controller.ingressClass, "nginx");
        assert.deepEqual(controller.ingressClassResource, { name: "nginx", enabled: true, default: true });
    });
});

describe("the Vault image setting in the chart's values", () => {
    it("splits <repository>:<version>@sha256:<digest> so the chart renders the same reference (tag carries the digest)", () => {
        const digest = "@sha256:" + "b".repeat(64);
        assert.deepEqual(chartImage(`hashicorp/vault:2.0.5${digest}`), { repository: "hashicorp/vault", tag: `2.0.5${digest}` });
        assert.deepEqual(chartImage("registry.example:5000/team/vault:2.0.5"), { repository: "registry.example:5000/team/vault", tag: "2.0.5" });
    });

    it("the default values keep the chart's image, so existing stacks roll nothing; the reloader runs the same image", () => {
        const values = vaultHelmValues(tls) as any;
        assert.deepEqual(values.server.image, { repository: "hashicorp/vault", tag: "2.0.4" });
        const upgraded = vaultHelmValues({ ...tls, vaultImage: "hashicorp/vault:2.0.5" }) as any;
        assert.deepEqual(upgraded.server.image, { repository: "hashicorp/vault", tag: "2.0.5" });
        assert.equal(upgraded.server.extraContainers[0].image, "hashicorp/vault:2.0.5");
    });
});

describe("Vault chart values: the options for a cluster that is not kind (issue 13)", () => {
    // The values and the pods' template digest as they were before these options existed (kindValues.golden.json).
    const golden = JSON.parse(readFileSync(path.join(__dirname, "kindValues.golden.json"), "utf8")) as {
        values: Record<string, { input: Parameters<typeof vaultHelmValues>[0]; values: Record<string, unknown> }>;
        summaries: Record<string, string>;
    };
    const summary = (input: Parameters<typeof vaultHelmValues>[0], values: Record<string, unknown>) =>
        podTemplateSummary({ image: input.vaultImage ?? VAULT_IMAGE, tls: input.tls, chartVersion: "0.34.1", values });
    const base = { vaultReplicas: 3, uiNodePort: 30000, raftStorageSize: "10Gi", tls: true };

    it("without options, or with the options that mean today's kind lab, the values are byte for byte those of before", () => {
        assert.deepEqual(Object.keys(golden.values).length, 3);
        for (const [name, { input, values }] of Object.entries(golden.values)) {
            const kindOptions = [
                undefined,
                {},
                { serviceType: "NodePort", antiAffinity: "required", storageClass: "", resources: {} },
                { serviceType: "NodePort", antiAffinity: "required", storageClass: undefined, resources: { cpu: "", memory: undefined } },
            ] as const;
            for (const options of kindOptions) {
                const now = vaultHelmValues(input, options);
                assert.equal(JSON.stringify(now), JSON.stringify(values), `${name}, options ${JSON.stringify(options)}`);
                assert.equal(summary(input, now), golden.summaries[name], `${name}: the pods' template digest, which decides a roll`);
            }
        }
    });

    it("the default settings (a kind stack) still produce exactly the golden values", () => {
        assert.equal(JSON.stringify(vaultHelmValues(tls)), JSON.stringify(golden.values["tls, 3 replicas"].values));
        assert.equal(JSON.stringify(vaultHelmValues(plain)), JSON.stringify(golden.values["plain HTTP"].values));
    });

    it("serviceType: NodePort keeps the node port; LoadBalancer and ClusterIP send none (the chart would render it)", () => {
        const ui = (serviceType: VaultServiceType) => (vaultHelmValues(base, { serviceType }) as any).ui;
        assert.deepEqual(ui("NodePort"), {
            enabled: true,
            serviceType: "NodePort",
            serviceNodePort: 30000,
            externalPort: 8200,
            publishNotReadyAddresses: false,
            activeVaultPodOnly: true,
        });
        for (const serviceType of ["LoadBalancer", "ClusterIP"] as const) {
            assert.deepEqual(
                ui(serviceType),
                { enabled: true, serviceType, externalPort: 8200, publishNotReadyAddresses: false, activeVaultPodOnly: true },
                serviceType,
            );
        }
        assert.deepEqual([...VAULT_SERVICE_TYPES].sort(), ["ClusterIP", "LoadBalancer", "NodePort"]);
    });

    it("storageClass: on the raft volume's claim when set, absent (the cluster's default) when empty", () => {
        assert.deepEqual((vaultHelmValues(base, { storageClass: "gp3" }) as any).server.dataStorage, {
            enabled: true,
            size: "10Gi",
            mountPath: "/vault/data",
            storageClass: "gp3",
        });
        assert.equal("storageClass" in (vaultHelmValues(base, { storageClass: "" }) as any).server.dataStorage, false);
    });

    it("resources: a CPU request without a CPU limit; memory requested and limited alike; each on its own", () => {
        const resources = (r: { cpu?: string; memory?: string }) => (vaultHelmValues(base, { resources: r }) as any).server.resources;
        assert.deepEqual(resources({ cpu: "250m", memory: "256Mi" }), { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "256Mi" } });
        assert.deepEqual(resources({ cpu: "500m" }), { requests: { cpu: "500m" } });
        assert.deepEqual(resources({ memory: "1Gi" }), { requests: { memory: "1Gi" }, limits: { memory: "1Gi" } });
        assert.equal(resources({}), undefined);
        // The reloader keeps its own small resources.
        const values = vaultHelmValues(base, { resources: { cpu: "2", memory: "4Gi" } }) as any;
        assert.deepEqual(values.server.extraContainers[0].resources, { requests: { cpu: "5m", memory: "8Mi" }, limits: { memory: "32Mi" } });
    });

    it("antiAffinity: required sends nothing (the chart's default term); preferred sends that term as preferred, for tpl", () => {
        assert.equal((vaultHelmValues(base, { antiAffinity: "required" }) as any).server.affinity, undefined);
        const affinity = (vaultHelmValues(base, { antiAffinity: "preferred" }) as any).server.affinity;
        assert.equal(affinity, PREFERRED_ANTI_AFFINITY);
        // What the chart's tpl makes of it, for release "vault" of chart "vault", is this YAML.
        const rendered = affinity.replace('{{ include "vault.name" . }}', "vault").replace("{{ .Release.Name | quote }}", '"vault"');
        assert.ok(!rendered.includes("{{"));
        assert.deepEqual(parseYaml(rendered), {
            podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                        weight: 100,
                        podAffinityTerm: {
                            topologyKey: "kubernetes.io/hostname",
                            labelSelector: { matchLabels: { "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "vault", component: "server" } },
                        },
                    },
                ],
            },
        });
        assert.deepEqual([...ANTI_AFFINITIES].sort(), ["preferred", "required"]);
    });

    it("every option changes the pods' template digest, so the roll step runs: the Service type too, though it changes no pod", () => {
        const before = summary(base, vaultHelmValues(base));
        for (const options of [
            { storageClass: "gp3" },
            { resources: { cpu: "1" } },
            { antiAffinity: "preferred" as const },
            { serviceType: "LoadBalancer" as const },
        ]) {
            assert.notEqual(summary(base, vaultHelmValues(base, options)), before, JSON.stringify(options));
        }
    });
});
