/**
 * Whoami (components/ingress/whoami.ts): traefik/whoami behind an Ingress, and `whoami: false`.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { Whoami, WhoamiArgs } from "../../components/ingress/whoami";
import { ProgramRun, RELEASE, runComponents, runProgram, runProgramOnce } from "../support/program";

describe("Whoami (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramOnce();
    });

    it("creates the whoami Ingress only after the ingress controller (whose webhook admits it) is installed", () => {
        const ingress = run.one("kubernetes:networking.k8s.io/v1:Ingress", "whoami-ingress");
        assert.ok(ingress.dependencies.includes(run.one(RELEASE, "ingress-nginx-release").urn));
    });

    it("runs traefik/whoami:v1.11.0 behind an nginx Ingress on /_whoami", () => {
        const deployment = run.one("kubernetes:apps/v1:Deployment", "whoami-deployment");
        assert.equal(deployment.inputs.metadata.namespace, "whoami");
        assert.equal(deployment.inputs.spec.template.spec.containers[0].image, "traefik/whoami:v1.11.0");
        const ingress = run.one("kubernetes:networking.k8s.io/v1:Ingress", "whoami-ingress");
        assert.equal(ingress.inputs.spec.ingressClassName, "nginx");
        const rule = ingress.inputs.spec.rules[0].http.paths[0];
        assert.equal(rule.path, "/_whoami");
        assert.equal(rule.pathType, "Prefix");
        assert.equal(rule.backend.service.name, "whoami");
        const service = run.one("kubernetes:core/v1:Service", "whoami-service");
        assert.deepEqual(service.inputs.spec.selector, deployment.inputs.spec.selector.matchLabels);
    });

    it("whoami: false leaves whoami out entirely", async () => {
        const without = await runProgram({ whoami: "false" });
        assert.equal(without.registrations.filter((r) => r.name.startsWith("whoami")).length, 0);
        assert.equal(without.outputs.whoamiUrl, undefined);
    });
});

describe("Whoami in each mode (the component under Pulumi mocks, with the program's arguments for that mode)", () => {
    const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
    const build = (args: Partial<WhoamiArgs>) => () => {
        const whoami = new Whoami("whoami", { namespace: "whoami", ingressClassName: "nginx", ...args });
        return { url: whoami.url };
    };

    it("on kind: any host, at http://localhost and kind's host port", async () => {
        const run = await runComponents(build({ hostHttpPort: 8080 }));
        assert.equal(run.one(INGRESS, "whoami-ingress").inputs.spec.rules[0].host, undefined);
        assert.equal(run.outputs.url.value, "http://localhost:8080/_whoami");
    });

    it("on an existing cluster (ingress-nginx installed or an existing class): on the ingress host, at http://<host>/_whoami", async () => {
        const run = await runComponents(build({ host: "vault.example.com", ingressClassName: "public" }));
        const ingress = run.one(INGRESS, "whoami-ingress");
        assert.equal(ingress.inputs.spec.rules[0].host, "vault.example.com");
        assert.equal(ingress.inputs.spec.ingressClassName, "public");
        assert.equal(ingress.inputs.spec.rules[0].http.paths[0].path, "/_whoami");
        assert.equal(run.outputs.url.value, "http://vault.example.com/_whoami");
    });

    it("refuses neither or both of hostHttpPort and host", async () => {
        await assert.rejects(runComponents(build({})), /give either hostHttpPort \(kind\) or host/);
        await assert.rejects(runComponents(build({ hostHttpPort: 80, host: "vault.example.com" })), /not both or neither/);
    });
});
