/**
 * Whoami (components/ingress/whoami.ts): traefik/whoami behind an Ingress, and `whoami: false`.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { ProgramRun, RELEASE, runProgram, runProgramOnce } from "../support/program";

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
