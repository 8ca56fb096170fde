/**
 * The in-cluster unsealer's objects (components/unsealer/unsealerManifests.ts): what the script is given, what the pod
 * may do, and that every address it dials is one the pinned chart publishes and the certificate covers.
 */
import { strict as assert } from "assert";
import { parseSettings } from "../../../components/config/settings";
import { certificateCovers, SERVER_TLS_SECRET, vaultCertificateSans } from "../../../components/tls/tlsConfig";
import {
    UNSEALER_NAMES,
    UNSEALER_PATHS,
    UnsealerPlan,
    unsealerCostNotice,
    unsealerDeployment,
    unsealerEnvironment,
    unsealerServiceAccount,
    unsealKeysSecretData,
} from "../../../components/unsealer/unsealerManifests";
import { UNSEALER_ENV, unsealerScript } from "../../../components/unsealer/unsealerScript";
import { vaultHelmValues } from "../../../components/vault/vaultValues";
import { oneManifest, renderChart, requireHelm } from "../../support/helm";

const plan = (over: Partial<UnsealerPlan> = {}): UnsealerPlan => ({
    release: "vault",
    replicas: 3,
    tls: true,
    keyShares: 5,
    keyThreshold: 3,
    image: "hashicorp/vault:2.0.4",
    ...over,
});
const KEYS = ["a2V5LW9uZQ==", "a2V5LXR3bw==", "a2V5LXRocmVl", "a2V5LWZvdXI=", "a2V5LWZpdmU="];

const deployment = (p = plan()) => unsealerDeployment(p, "vault") as any;
const podSpec = (p = plan()) => deployment(p).spec.template.spec;

describe("in-cluster unsealer manifests", () => {
    it("the script reads exactly the variables the container sets (one list, UNSEALER_ENV)", () => {
        const used = new Set([...unsealerScript().matchAll(/\$\{?(UNSEALER_[A-Z_]+)/g)].map((m) => m[1]));
        const set = Object.keys(unsealerEnvironment(plan())).filter((name) => name.startsWith("UNSEALER_"));
        assert.deepEqual([...used].sort(), [...set].sort());
        assert.deepEqual([...set].sort(), Object.values(UNSEALER_ENV).sort());
    });

    it("addresses every pod of the release by its headless name, over https with the CA when TLS is on", () => {
        const env = unsealerEnvironment(plan({ replicas: 5 }));
        assert.equal(env.UNSEALER_PODS, "vault-0.vault-internal vault-1.vault-internal vault-2.vault-internal vault-3.vault-internal vault-4.vault-internal");
        assert.equal(env.UNSEALER_SCHEME, "https");
        assert.equal(env.VAULT_CACERT, UNSEALER_PATHS.ca);
        const plain = unsealerEnvironment(plan({ tls: false }));
        assert.equal(plain.UNSEALER_SCHEME, "http");
        assert.equal(plain.VAULT_CACERT, undefined);
        assert.ok(!podSpec(plan({ tls: false })).volumes.some((v: any) => v.secret?.secretName === SERVER_TLS_SECRET), "no CA mounted without TLS");
    });

    it("each address it dials is a name Vault's certificate holds (the CLI verifies it)", () => {
        for (const replicas of [1, 3, 5]) {
            const sans = vaultCertificateSans({ release: "vault", namespace: "vault", replicas, ingressHost: "vault.localhost" });
            for (const host of unsealerEnvironment(plan({ replicas })).UNSEALER_PODS.split(" ")) {
                assert.ok(certificateCovers(sans, host), `${host} is not in the certificate`);
            }
        }
    });

    it("the keys Secret holds the threshold of shares, not more, each exactly as init gave it", () => {
        assert.deepEqual(unsealKeysSecretData(KEYS, 3), { "key-1": KEYS[0], "key-2": KEYS[1], "key-3": KEYS[2] });
        assert.deepEqual(Object.keys(unsealKeysSecretData(KEYS, 2)), ["key-1", "key-2"]);
        assert.throws(() => unsealKeysSecretData(KEYS.slice(0, 2), 3), /needs 3 unseal keys \(the threshold\), but vault-ha holds 2/);
    });

    it("one pod at a time, no Kubernetes token, no root, nothing writable but its state", () => {
        const d = deployment();
        assert.equal(d.spec.replicas, 1);
        assert.equal(d.spec.strategy.type, "Recreate");
        const spec = podSpec();
        assert.equal(spec.automountServiceAccountToken, false);
        assert.equal(spec.serviceAccountName, UNSEALER_NAMES.serviceAccount);
        assert.equal((unsealerServiceAccount("vault") as any).automountServiceAccountToken, false);
        assert.equal(spec.securityContext.runAsNonRoot, true);
        const container = spec.containers[0];
        assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        assert.equal(container.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
        assert.deepEqual(container.command.slice(0, 2), ["/bin/sh", "-c"]);
        assert.equal(container.command[2], unsealerScript());
        const writable = container.volumeMounts.filter((m: any) => !m.readOnly).map((m: any) => m.mountPath);
        assert.deepEqual(writable, [UNSEALER_PATHS.state]);
        assert.equal(container.image, "hashicorp/vault:2.0.4", "the Vault image: nothing new to trust");
    });

    it("mounts only the CA of the server certificate's Secret, never its private key", () => {
        const ca = podSpec().volumes.find((v: any) => v.secret?.secretName === SERVER_TLS_SECRET);
        assert.deepEqual(ca.secret.items, [{ key: "ca.crt", path: "ca.crt" }]);
        const mount = podSpec().containers[0].volumeMounts.find((m: any) => m.name === ca.name);
        assert.equal(`${mount.mountPath}/ca.crt`, UNSEALER_PATHS.ca);
    });

    it("the notice names the Secret, the count of keys, and who can unseal", () => {
        assert.match(
            unsealerCostNotice("vault", { keyThreshold: 3, keyShares: 5 }),
            /Secret vault\/vault-ha-unseal-keys holds 3 of the 5 unseal keys, enough to unseal Vault\. Anyone who can read Secrets in namespace vault/,
        );
    });

    describe("what the pinned vault chart renders (real Helm)", function () {
        this.timeout(60_000);
        before(function () {
            requireHelm(this, "the unsealer's addresses against the chart's headless Service");
        });

        it("the headless Service publishes every pod, ready or not (a sealed pod is not ready), on the API port", async () => {
            const manifests = await renderChart({ chart: "vault", release: "vault", namespace: "vault", values: vaultHelmValues(parseSettings({}).settings) });
            const headless = oneManifest(manifests, "Service", "vault-internal");
            assert.equal(headless.spec.clusterIP, "None");
            assert.equal(headless.spec.publishNotReadyAddresses, true);
            assert.ok(headless.spec.ports.some((p: any) => p.port === Number(unsealerEnvironment(plan()).UNSEALER_PORT)));
            const sts = oneManifest(manifests, "StatefulSet", "vault");
            assert.equal(sts.spec.serviceName, "vault-internal", "pods get <pod>.vault-internal names from it");
            const server = sts.spec.template.spec;
            assert.equal(server.securityContext.runAsUser, 100, "the unsealer runs as the image's vault user, like the chart");
            assert.equal(server.securityContext.fsGroup, podSpec().securityContext.fsGroup);
        });
    });
});
