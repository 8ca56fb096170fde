/**
 * The simulator's own strictness (tests/doubles/vault): its CLIs accept and refuse what the real kubectl and Vault
 * CLI do, and its pods are what the chart renders.
 */
import { strict as assert } from "assert";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";

/* eslint-disable @typescript-eslint/no-require-imports */

describe("the simulator's CLIs are as strict as the real ones", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());
    const cli = require("../doubles/vault/cli.js");

    it("Go's flag parsing: a flag after the address is an argument, and join fails (exit 1)", async () => {
        sim = await Simulation.create({ tls: true });
        const s = sim.state();
        const r = cli.vault(
            s,
            "vault-1",
            ["operator", "raft", "join", "https://vault-0.vault-internal:8200", "-leader-ca-cert=@/vault/userconfig/vault-tls/ca.crt"],
            s.pods["vault-1"].containers[0].env,
            "",
            undefined,
        );
        assert.equal(r.code, 1);
        assert.match(r.stderr, /Too many arguments \(expected 0-1, got 2\)/);
        const unknown = cli.vault(s, "vault-1", ["status", "-formt=json"], {}, "", undefined);
        assert.deepEqual([unknown.code, unknown.stderr.trim()], [1, "flag provided but not defined: -formt"]);
    });

    it("kubectl: a container the pod does not have is refused; statuses come sorted by name, sidecar first", async () => {
        sim = await Simulation.create({ tls: true });
        const s = sim.state();
        const bad = cli.kubectl(s, ["exec", "-n", "vault", "vault-0", "-c", "vualt", "--", "vault", "status"], { kubeconfig: sim.kubeconfig, stdin: "" });
        assert.deepEqual([bad.code, bad.stderr.trim()], [1, "Error from server (BadRequest): container vualt is not valid for pod vault-0"]);
        const list = JSON.parse(
            cli.kubectl(s, ["get", "pods", "-n", "vault", "-l", "app.kubernetes.io/instance=vault,component=server", "-o", "json"], {
                kubeconfig: sim.kubeconfig,
                stdin: "",
            }).stdout,
        );
        assert.deepEqual(
            list.items[0].status.containerStatuses.map((c: any) => c.name),
            ["tls-reloader", "vault"],
        );
        const none = JSON.parse(
            cli.kubectl(s, ["get", "pods", "-n", "vault", "-l", "app.kubernetes.io/instance=other", "-o", "json"], { kubeconfig: sim.kubeconfig, stdin: "" })
                .stdout,
        );
        assert.equal(none.items.length, 0, "the selector is applied");
    });

    it("pods carry what the chart makes of the program's values: the CA env with TLS, and pods wait for the TLS secret", async () => {
        sim = await Simulation.create({ tls: true });
        const env = sim.state().pods["vault-0"].containers[0].env;
        assert.equal(env.VAULT_ADDR, "https://127.0.0.1:8200");
        assert.equal(env.VAULT_CACERT, "/vault/userconfig/vault-tls/ca.crt");
        assert.equal(env.VAULT_API_ADDR, "https://vault-0.vault-internal:8200");
        sim.change((s) => delete s.secrets["vault/vault-server-tls"]);
        const run = await sim.runStep("wait-pods", { env: { VAULT_HA_TIMEOUT_SECONDS: "10" } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /vault-0 Pending \(ContainerCreating\)/);
    });
});
