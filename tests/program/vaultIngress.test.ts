/**
 * VaultIngress (components/vault/vaultIngress.ts): https://vault.localhost through ingress-nginx with SSL passthrough.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { VaultIngress, VaultIngressArgs } from "../../components/vault/vaultIngress";
import { dependsOn, ProgramRun, RELEASE, runComponents, runProgramOnce } from "../support/program";

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

describe("VaultIngress in each mode (the component under Pulumi mocks, with the program's arguments for that mode)", () => {
    const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
    /** The arguments of an existing cluster (standard ports) unless `args` says otherwise. */
    const build = (args: Partial<VaultIngressArgs>) => () => {
        const ingress = new VaultIngress("vault-ingress", {
            namespace: "vault",
            host: "vault.example.com",
            ingressClassName: "nginx",
            tls: true,
            skipAwait: false,
            ...args,
            hostHttpPort: args.hostHttpPort ?? 80,
            hostHttpsPort: args.hostHttpsPort ?? 443,
        });
        return { url: ingress.url };
    };

    it("on kind: the URL carries kind's host ports", async () => {
        const run = await runComponents(build({ host: "vault.localhost", hostHttpPort: 8080, hostHttpsPort: 8443 }));
        assert.equal(run.outputs.url.value, "https://vault.localhost:8443");
    });

    it("ingress-nginx installed on an existing cluster: SSL passthrough, https://<host> without a port", async () => {
        const run = await runComponents(build({}));
        const ingress = run.one(INGRESS, "vault-ingress-ingress");
        assert.deepEqual(ingress.inputs.metadata.annotations, { "nginx.ingress.kubernetes.io/ssl-passthrough": "true" });
        assert.equal(ingress.inputs.spec.rules[0].host, "vault.example.com");
        assert.equal(run.outputs.url.value, "https://vault.example.com");
    });

    it("an existing ingress class: that class, still with the passthrough annotation (its controller must honour it)", async () => {
        const run = await runComponents(build({ ingressClassName: "public" }));
        const ingress = run.one(INGRESS, "vault-ingress-ingress");
        assert.equal(ingress.inputs.spec.ingressClassName, "public");
        assert.deepEqual(ingress.inputs.metadata.annotations, { "nginx.ingress.kubernetes.io/ssl-passthrough": "true" });
    });

    it("without TLS on an existing cluster: a plain HTTP route at http://<host>", async () => {
        const run = await runComponents(build({ tls: false }));
        assert.deepEqual(run.one(INGRESS, "vault-ingress-ingress").inputs.metadata.annotations, {});
        assert.equal(run.outputs.url.value, "http://vault.example.com");
    });
});
