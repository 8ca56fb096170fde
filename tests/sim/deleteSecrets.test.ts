/**
 * delete-secrets (runner/handlers/deleteSecrets.ts) against the SIMULATOR: on `pulumi destroy` of a stack on a cluster
 * vault-ha does not own, the secrets cert-manager wrote for vault-ha's certificates go too; gone already is fine; a
 * refusal says what to delete by hand.
 */
import { strict as assert } from "assert";
import { stepEnvironment } from "../../components/stepCommand/contract";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";

describe("delete-secrets (the CA chain's secrets on destroy) against the simulator", function () {
    before(function () {
        requireRenderedPods(this);
    });
    this.timeout(60_000);
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    const run = (secretNames = "vault-ha-ca,vault-server-tls", namespace = "vault") =>
        sim.runStep("delete-secrets", { env: stepEnvironment("delete-secrets", { namespace, secretNames, timeoutSeconds: 5 }) });

    it("deletes the CA's and the server certificate's secrets, and nothing else", async () => {
        sim = await Simulation.create();
        sim.change((s) => {
            s.secrets["vault/vault-ha-ca"] = { "tls.key": "Q0EtS0VZ" };
            s.secrets["vault/vault-server-tls"] = { "tls.key": "U0VSVkVSLUtFWQ==" };
            s.secrets["vault/someone-elses"] = { token: "eA==" };
        });
        const result = await run();
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(JSON.parse(result.stdout), { deleted: ["vault-ha-ca", "vault-server-tls"] });
        assert.deepEqual(Object.keys(sim.state().secrets).sort(), ["vault/someone-elses"]);
        assert.ok(!result.stderr.includes("Q0EtS0VZ"), "no secret content in the log");
    });

    it("is content when they are gone already (a second destroy, or cert-manager never wrote them)", async () => {
        sim = await Simulation.create();
        const result = await run();
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(JSON.parse(result.stdout), { deleted: [] });
        assert.match(result.stderr, /no secret of vault-ha's left in namespace vault/);
    });

    it("a refusal names the secrets and the command to delete them by hand", async () => {
        sim = await Simulation.create();
        sim.change((s) => {
            s.secrets["vault/vault-ha-ca"] = { "tls.key": "Q0EtS0VZ" };
            s.kube.forbidden.push("delete secrets vault");
        });
        const result = await run();
        assert.equal(result.code, 1);
        assert.match(result.stderr, /could not delete secrets vault-ha-ca, vault-server-tls in namespace vault: .*forbidden/);
        assert.match(result.stderr, /Delete them by hand: kubectl -n vault delete secret vault-ha-ca vault-server-tls/);
        assert.ok(sim.state().secrets["vault/vault-ha-ca"], "nothing was deleted");
    });

    it("refuses a parameter that is not a list of Secret names", async () => {
        sim = await Simulation.create();
        const result = await run("vault-ha-ca,../etc");
        assert.equal(result.code, 1);
        assert.match(result.stderr, /"\.\.\/etc" is not a Secret name/);
    });
});
