import { strict as assert } from "assert";
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ingressNginxValues } from "../../components/ingress/ingressNginxValues";
import { parseSettings } from "../../components/config/settings";
import { certManagerValues } from "../../components/tls/tlsConfig";
import { vaultHelmValues } from "../../components/vault/vaultValues";
import { CERT_MANAGER_CHART, INGRESS_NGINX_CHART, VAULT_CHART } from "../../components/config/versions";
import { ChartReference, unknownChartKeys } from "../support/chartKeys";

// The pinned charts' values.yaml and schemas sit beside the project on developer machines and in CI, not in a clone.
const REFERENCE = path.resolve(__dirname, "../../../shared/reference/charts");

function load(file: string): any {
    const full = path.join(REFERENCE, file);
    return file.endsWith(".json") ? JSON.parse(readFileSync(full, "utf8")) : parse(readFileSync(full, "utf8"));
}

describe("chart keys exist in the pinned charts", function () {
    let vault: ChartReference;
    let ingressNginx: ChartReference;
    let certManager: ChartReference;

    before(function () {
        if (!existsSync(REFERENCE)) {
            console.warn(`\n  !! SKIPPED: chart key check: ${REFERENCE} is absent (it is present for developers and CI).\n`);
            this.skip();
        }
        vault = {
            values: load(`vault-${VAULT_CHART.version}.values.yaml`),
            schema: load(`vault-${VAULT_CHART.version}.values.schema.json`),
            // Commented out in values.yaml ("# path: /v1/sys/health?standbyok=true") but read by the StatefulSet
            // template to switch the probe from exec to httpGet.
            // ui.loadBalancerSourceRanges too (commented out; read by "service.loadBalancer" in _helpers.tpl).
            readByTemplates: ["server.readinessProbe.path", "ui.loadBalancerSourceRanges"],
            // The API Service's annotations are the user's keys.
            freeForm: ["ui.annotations"],
        };
        certManager = {
            values: load(`cert-manager-${CERT_MANAGER_CHART.version}.values.yaml`),
            schema: load(`cert-manager-${CERT_MANAGER_CHART.version}.values.schema.json`),
        };
        ingressNginx = {
            values: load(`ingress-nginx-${INGRESS_NGINX_CHART.version}.values.yaml`),
            freeForm: ["controller.nodeSelector", "controller.extraArgs"],
        };
    });

    it("every key sent to the Vault chart exists there, with the schema's type", () => {
        for (const config of [{}, { tls: "false" }, { workers: "5", vaultReplicas: "5" }]) {
            assert.deepEqual(unknownChartKeys(vaultHelmValues(parseSettings(config).settings), vault), []);
        }
    });

    it("every key the options for any cluster send to the Vault chart exists there, with the schema's type", () => {
        const settings = parseSettings({}).settings;
        for (const serviceType of ["NodePort", "LoadBalancer", "ClusterIP"] as const) {
            for (const antiAffinity of ["required", "preferred"] as const) {
                const options = {
                    serviceType,
                    antiAffinity,
                    storageClass: "gp3",
                    resources: { cpu: "250m", memory: "256Mi" },
                    loadBalancerSourceRanges: ["10.0.0.0/8"],
                    serviceAnnotations: { "networking.gke.io/load-balancer-type": "Internal" },
                };
                const values = vaultHelmValues(settings, options) as any;
                assert.deepEqual(unknownChartKeys(values, vault), [], JSON.stringify(options));
                // The keys this check exists for are really there (server.resources is a free-form map in the chart).
                assert.equal(values.server.dataStorage.storageClass, "gp3");
                assert.equal(typeof values.server.resources, "object");
                assert.equal(values.ui.serviceType, serviceType);
                assert.equal(values.server.affinity === undefined, antiAffinity === "required");
            }
        }
    });

    it("every key sent to the cert-manager chart exists there, with the schema's type", () => {
        assert.deepEqual(unknownChartKeys(certManagerValues(), certManager), []);
    });

    it("every key sent to the ingress-nginx chart exists there", () => {
        assert.deepEqual(unknownChartKeys(ingressNginxValues(), ingressNginx), []);
    });

    it("the check itself catches a misspelled key, a key in the wrong place and a wrong type", () => {
        const values = vaultHelmValues(parseSettings({}).settings) as any;
        const broken = {
            ...values,
            server: { ...values.server, ha: { ...values.server.ha, raft: { ...values.server.ha.raft, setNodeID: true } }, uiEnabled: true },
            global: { ...values.global, tlsDisable: "false" },
        };
        assert.deepEqual(unknownChartKeys(broken, vault).sort(), [
            'global.tlsDisable: "false" is not of the chart\'s type "boolean"',
            "server.ha.raft.setNodeID: not a key of the chart",
            "server.uiEnabled: not a key of the chart",
        ]);
    });
});
