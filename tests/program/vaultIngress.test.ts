/**
 * VaultIngress (components/vault/vaultIngress.ts): https://vault.localhost through ingress-nginx with SSL passthrough.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { dependsOn, ProgramRun, RELEASE, runProgramOnce } from "../support/program";

describe("VaultIngress (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramOnce();
    });

    it("routes https://vault.localhost to the active Vault pod with SSL passthrough", () => {
        const ingress = run.one("kubernetes:networking.k8s.io/v1:Ingress", "vault-ingress-ingress");
        assert.deepEqual(ingress.inputs.metadata.annotations, { "nginx.ingress.kubernetes.io/ssl-passthrough": "true" });
        assert.equal(ingress.inputs.metadata.namespace, "vault");
        assert.equal(ingress.inputs.spec.ingressClassName, "nginx");
        const rule = ingress.inputs.spec.rules[0];
        assert.equal(rule.host, "vault.localhost");
        assert.deepEqual(rule.http.paths, [{ path: "/", pathType: "Prefix", backend: { service: { name: "vault-active", port: { number: 8200 } } } }]);
        dependsOn(ingress, run.one(RELEASE, "ingress-nginx-release"));
    });
});
