/**
 * IngressNginx (components/ingress/ingressNginx.ts): the ingress-nginx release.
 * The graph test of one component: index.ts with the default stack config under Pulumi mocks, the run shared
 * (runProgramOnce) with the other test files that mocha runs in the same worker process.
 */
import { strict as assert } from "assert";
import { ingressNginxValues } from "../../components/ingress/ingressNginxValues";
import { IngressNginx } from "../../components/ingress/ingressNginx";
import { ProgramRun, RELEASE, runComponents, runProgramOnce } from "../support/program";

describe("IngressNginx (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgramOnce();
    });

    it("installs ingress-nginx pinned at 4.15.1 with the kind values, waiting for the controller", () => {
        const ingress = run.one(RELEASE, "ingress-nginx-release");
        assert.equal(ingress.inputs.name, "ingress-nginx");
        assert.equal(ingress.inputs.chart, "ingress-nginx");
        assert.equal(ingress.inputs.version, "4.15.1");
        assert.deepEqual(ingress.inputs.repositoryOpts, { repo: "https://kubernetes.github.io/ingress-nginx" });
        assert.equal(ingress.inputs.namespace, "ingress-nginx");
        assert.notEqual(ingress.inputs.skipAwait, true);
        assert.deepEqual(ingress.inputs.values, ingressNginxValues());
    });
});

describe("IngressNginx in each mode (the component under Pulumi mocks, with the program's arguments for that mode)", () => {
    it("install on kind (target kind, as the stack plan gives it): the kind values", async () => {
        const run = await runComponents(() => {
            new IngressNginx("ingress-nginx", { namespace: "ingress-nginx", chartVersion: "4.15.1", target: "kind" });
            return {};
        });
        assert.deepEqual(run.one(RELEASE, "ingress-nginx-release").inputs.values, ingressNginxValues("kind"));
    });

    it("install on an existing cluster: the LoadBalancer values, IngressClass nginx", async () => {
        const run = await runComponents(() => {
            const ingress = new IngressNginx("ingress-nginx", { namespace: "ingress-nginx", chartVersion: "4.15.1", target: "existing" });
            return { ingressClassName: ingress.ingressClassName };
        });
        const release = run.one(RELEASE, "ingress-nginx-release");
        assert.deepEqual(release.inputs.values, ingressNginxValues("existing"));
        assert.equal((release.inputs.values as any).controller.service.type, "LoadBalancer");
        assert.equal(release.inputs.namespace, "ingress-nginx");
        assert.equal(run.outputs.ingressClassName.value, "nginx");
    });
});
