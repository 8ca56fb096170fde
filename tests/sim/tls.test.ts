/**
 * TLS against the SIMULATOR: raft joins over https verified with the cluster CA, cert-manager's webhook gate, reading
 * the CA, and the kv-v2 proof through a fake VAULT_ADDR over real TLS (tests/doubles/vault/frontDoor.ts).
 */
import { strict as assert } from "assert";
import { stepEnvironment } from "../../components/stepCommand/contract";
import { requireRenderedPods, Simulation } from "../doubles/vault/harness";
import { FakeVaultFrontDoor, makePki, TestPki } from "../doubles/vault/frontDoor";

describe("TLS against the simulator", () => {
    before(function () {
        requireRenderedPods(this);
    });
    let sim: Simulation;
    afterEach(() => sim?.dispose());

    it("joins over https, verifying the leader with the CA mounted in the pods; nothing skips verification", async () => {
        sim = await Simulation.create({ tls: true });
        const out = await sim.bootstrap();
        assert.equal(out.peers.length, 3);
        assert.ok(out.peers.every((p) => p.voter));
        const joins = sim.calls().filter((c) => c.tool === "vault" && c.argv.includes("join"));
        assert.deepEqual(
            joins.map((c) => c.argv.join(" ")),
            [1, 2].map(() => "operator raft join -leader-ca-cert=@/vault/userconfig/vault-tls/ca.crt https://vault-0.vault-internal:8200"),
        );
        const everything = JSON.stringify(sim.calls().map((c) => c.argv));
        assert.ok(!/skip.?verify/i.test(everything));
    });

    it("a join with a CA file that did not sign the leader's certificate fails at once and says why", async () => {
        sim = await Simulation.create({ tls: true });
        const { keys } = await sim.bootstrap();
        sim.recreate("vault-2");
        sim.change((s) => Object.assign(s.pods["vault-2"].vault, { initialized: false, member: false, voter: false }));
        (sim.params as { leaderCaCertFile?: string }).leaderCaCertFile = "/vault/userconfig/vault-tls/tls.crt";
        const run = await sim.runStep("join", { pod: "vault-2", secrets: { unsealKeys: keys.unsealKeys, rootToken: keys.rootToken } });
        assert.equal(run.code, 1);
        assert.match(
            run.stderr,
            /vault-2 could not join the raft cluster at https:\/\/vault-0.vault-internal:8200: .*x509: certificate signed by unknown authority/,
        );
        assert.match(run.stderr, /must be signed by the CA in \/vault\/userconfig\/vault-tls\/tls.crt/);
    });

    it("a join to a name the certificate does not hold fails and names both", async () => {
        sim = await Simulation.create({ tls: true });
        sim.change((s) => (s.tls.serverNames = s.tls.serverNames.filter((n: string) => !n.startsWith("vault-0.vault-internal"))));
        await sim.runStep("wait-pods");
        const init = await sim.runStep("init");
        const { unsealKeys: keys, rootToken } = JSON.parse(init.stdout);
        assert.equal((await sim.runStep("unseal", { pod: "vault-0", secrets: { unsealKeys: keys } })).code, 0);
        const run = await sim.runStep("join", { pod: "vault-1", secrets: { unsealKeys: keys, rootToken } });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /x509: certificate is valid for vault, .*not vault-0.vault-internal/);
    });

    it("plain http joins are refused by a TLS listener (the switch must be consistent)", async () => {
        sim = await Simulation.create({ tls: true });
        (sim.params as { leaderApiAddr: string }).leaderApiAddr = "http://vault-0.vault-internal:8200";
        await assert.rejects(sim.bootstrap(), /Client sent an HTTP request to an HTTPS server/);
    });

    it("holds back issuers until cert-manager's webhook admits a dry-run ClusterIssuer", async () => {
        sim = await Simulation.create();
        sim.change((s) => (s.certManager.admitAfterProbes = 2));
        const run = await sim.runStep("cert-manager-ready", { env: stepEnvironment("cert-manager-ready", { timeoutSeconds: 5 }) });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(sim.state().certManager.probes, 3);
        assert.deepEqual(sim.state().certManager.lastProbe, { kind: "ClusterIssuer", namespace: null });
        const probes = sim.calls().filter((c) => c.tool === "kubectl" && c.argv[0] === "create");
        assert.ok(
            probes.every((c) => c.argv.includes("--dry-run=server")),
            "the probe never creates anything",
        );
    });

    it("on a cluster vault-ha does not own, probes with an Issuer in Vault's namespace (no cluster-wide right needed)", async () => {
        sim = await Simulation.create();
        sim.change((s) => (s.certManager.admitAfterProbes = 1));
        const run = await sim.runStep("cert-manager-ready", { env: stepEnvironment("cert-manager-ready", { timeoutSeconds: 5, probeNamespace: "vault" }) });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(sim.state().certManager.probes, 2);
        assert.deepEqual(sim.state().certManager.lastProbe, { kind: "Issuer", namespace: "vault" });
        // A namespace that does not exist is refused by the API server, dry run or not: the gate times out saying so.
        const missing = await sim.runStep("cert-manager-ready", {
            env: stepEnvironment("cert-manager-ready", { timeoutSeconds: 1, probeNamespace: "nowhere" }),
        });
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /an Issuer in nowhere .*namespaces "nowhere" not found/);
    });

    it("without a probe namespace, the gate's environment is the one existing states hold", () => {
        assert.deepEqual(Object.keys(stepEnvironment("cert-manager-ready", { timeoutSeconds: 600 })), ["VAULT_HA_TIMEOUT_SECONDS"]);
    });

    it("times out on a webhook that never serves, quoting the last refusal", async () => {
        sim = await Simulation.create();
        sim.change((s) => (s.certManager.admitAfterProbes = 1_000));
        const run = await sim.runStep("cert-manager-ready", { env: stepEnvironment("cert-manager-ready", { timeoutSeconds: 1 }) });
        assert.equal(run.code, 1);
        assert.match(
            run.stderr,
            /timed out after \d+s waiting for cert-manager's webhook to admit a ClusterIssuer .*failed calling webhook "webhook.cert-manager.io"/,
        );
    });

    it("reads the CA certificate from the server certificate's secret", async () => {
        sim = await Simulation.create();
        const pem = "-----BEGIN CERTIFICATE-----\nTUlJQmZha2U=\n-----END CERTIFICATE-----\n";
        sim.change((s) => (s.secrets["vault/vault-server-tls"] = { "ca.crt": Buffer.from(pem).toString("base64"), "tls.key": "c2VjcmV0LWtleQ==" }));
        const run = await sim.runStep("read-ca", { env: stepEnvironment("read-ca", { namespace: "vault", tlsSecret: "vault-server-tls", timeoutSeconds: 2 }) });
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(JSON.parse(run.stdout), { caCert: pem });
        assert.ok(!run.stdout.includes("c2VjcmV0LWtleQ=="), "only the CA certificate, never the key");
    });
});

describe("kv-v2 proof through VAULT_ADDR (fake front door over real TLS)", function () {
    before(function () {
        requireRenderedPods(this);
    });
    this.timeout(60_000);
    const token = "hvs.front-door-test-token";
    const password = "generated-password-for-the-proof";
    let pki: TestPki;
    let door: FakeVaultFrontDoor;
    let sim: Simulation;

    before(() => {
        pki = makePki();
    });
    afterEach(async () => {
        await door?.stop();
        sim?.dispose();
    });

    async function proof(options: Partial<ConstructorParameters<typeof FakeVaultFrontDoor>[0]>, ca: string | undefined = pki.caPem, tls = true) {
        door = new FakeVaultFrontDoor({ token, pki: tls ? pki : undefined, ...options });
        const vaultAddr = await door.start();
        sim = await Simulation.create();
        // Real sockets: the step runs on the wall clock.
        return sim.runStep("kv-proof", {
            realTime: true,
            env: stepEnvironment("kv-proof", { vaultAddr, kvMount: "mysecret", kvPath: "logins/study", kvUsername: "demo", timeoutSeconds: 3 }),
            secrets: { rootToken: token, password, caCert: ca },
        });
    }

    it("enables kv-v2, writes mysecret/logins/study and reads it back, verifying Vault with the CA", async () => {
        const run = await proof({ unhealthyFor: 2, upgradingWrites: 2 });
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(JSON.parse(run.stdout), { path: "mysecret/logins/study", version: 1 });
        assert.deepEqual(door.stored("mysecret/logins/study")?.data, { username: "demo", password });
        const mount = door.requests.find((r) => r.method === "POST" && r.url === "/v1/sys/mounts/mysecret");
        assert.deepEqual(JSON.parse(mount!.body), { type: "kv", options: { version: "2" } });
        assert.match(run.stderr, /enabled kv-v2 at mysecret\//);
    });

    it("sends the token only in the X-Vault-Token header, and logs neither token nor password", async () => {
        const run = await proof({});
        assert.equal(run.code, 0, run.stderr);
        for (const r of door.requests.filter((r) => r.url !== "/v1/sys/health?standbyok=true")) {
            assert.equal(r.headers["x-vault-token"], token);
            assert.ok(!r.url.includes(token));
        }
        const logged = run.stdout + run.stderr;
        assert.ok(!logged.includes(token) && !logged.includes(password));
        const exposed = JSON.stringify(sim.calls());
        assert.ok(!exposed.includes(token) && !exposed.includes(password));
    });

    it("keeps an existing kv-v2 mount and refuses one of another kind", async () => {
        const kept = await proof({ mounts: { mysecret: { type: "kv", version: "2" } } });
        assert.equal(kept.code, 0, kept.stderr);
        assert.ok(!door.requests.some((r) => r.method === "POST" && r.url === "/v1/sys/mounts/mysecret"));
        await door.stop();
        sim.dispose();
        const refused = await proof({ mounts: { mysecret: { type: "kv", version: "1" } } });
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /mysecret\/ is already mounted as kv \(version 1\), not kv-v2: choose another vault-ha:kvMount/);
    });

    it("fails the update when the value does not round-trip", async () => {
        const run = await proof({ corruptReads: true });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /reading mysecret\/logins\/study back through https:\/\/localhost:\d+ did not return what was written/);
        assert.ok(!run.stderr.includes(password));
    });

    it("refuses a Vault whose certificate the CA did not sign", async () => {
        const run = await proof({}, makePki().caPem);
        assert.equal(run.code, 1);
        assert.match(run.stderr, /could not verify Vault's certificate at https:\/\/localhost:\d+ with the cluster CA/);
        assert.equal(door.requests.length, 0, "nothing was sent to an unverified server");
    });

    it("works over plain http when TLS is off", async () => {
        const run = await proof({}, undefined, false);
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(door.stored("mysecret/logins/study")?.data, { username: "demo", password });
    });
});
