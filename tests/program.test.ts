import { strict as assert } from "assert";
import { parse } from "yaml";
import { FAKE_KUBECONFIG, ProgramRun, providerUrn, runProgram } from "./support/program";

describe("program (index.ts under Pulumi mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram();
    });

    it("registers", () => {
        for (const r of run.registrations) console.log(r.type, r.name, r.parent.split("::").pop(), r.deletedWith.split("::").pop(), providerUrn(r.provider).split("::").pop());
        console.log(run.outputs);
        assert.ok(parse);
        assert.ok(FAKE_KUBECONFIG);
    });
});
