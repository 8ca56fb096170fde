import { strict as assert } from "assert";
import { parse, parseAllDocuments } from "yaml";
import { caChainManifests, certManagerValues, vaultCertificateSans } from "../components/tlsConfig";
import { ingressNginxValues } from "../components/ingressNginxValues";
import { buildKindConfig } from "../components/kindConfig";
import { parseSettings } from "../components/settings";
import { vaultHelmValues, vaultServerHcl } from "../components/vaultValues";
import { atLeast, checkClusterNodes, checkPorts, checkTools, parseVersion, Runner } from "../scripts/preflight";
import { render } from "../scripts/render";

describe("npm run render", () => {
    const settings = parseSettings({}).settings;
    const sections = render("dev", settings).split(/^# ==== .*$/m).slice(1);

    it("prints the kind config, every chart's values, the HCL and the CA chain exactly as the program builds them", () => {
        assert.equal(sections.length, 6);
        assert.deepEqual(parse(sections[0]), buildKindConfig(settings));
        assert.deepEqual(parse(sections[1]), ingressNginxValues());
        assert.deepEqual(parse(sections[2]), vaultHelmValues(settings));
        assert.equal(sections[3].trim(), vaultServerHcl(settings.tls).trim());
        assert.deepEqual(parse(sections[4]), certManagerValues());
        const chain = caChainManifests({ certManagerNamespace: "cert-manager", vaultNamespace: "vault", sans: vaultCertificateSans({ release: "vault", namespace: "vault", replicas: 3, ingressHost: "vault.localhost" }) });
        assert.deepEqual(parseAllDocuments(sections[5]).map((d) => d.toJS()), [chain.selfSignedIssuer, chain.caCertificate, chain.caIssuer, chain.serverCertificate]);
    });

    it("leaves the TLS sections out with tls: false", () => {
        const plain = parseSettings({ tls: "false" }).settings;
        assert.equal(render("dev", plain).split(/^# ==== .*$/m).length - 1, 4);
    });
});

describe("npm run preflight", () => {
    const answers: Record<string, { ok: boolean; stdout: string }> = {
        docker: { ok: true, stdout: "28.2.2\n" },
        kind: { ok: true, stdout: "kind v0.33.0 go1.25.3 linux/amd64\n" },
        kubectl: { ok: true, stdout: "Client Version: v1.35.1\nKustomize Version: v5.7.1\n" },
        pulumi: { ok: true, stdout: "v3.250.0\n" },
    };
    const runner = (overrides: typeof answers = {}): Runner => (command) => ({ ...answers, ...overrides })[command] ?? { ok: false, stdout: "" };

    it("reads versions the way each tool prints them and compares them", () => {
        assert.deepEqual(parseVersion("kind v0.33.0 go1.25.3 linux/amd64"), [0, 33, 0]);
        assert.ok(atLeast([0, 33, 0], "0.33.0"));
        assert.ok(atLeast([1, 0, 0], "0.33.0"));
        assert.ok(!atLeast([0, 32, 9], "0.33.0"));
    });

    it("passes a machine with every tool at its minimum or newer", () => {
        const findings = checkTools(runner(), "v20.19.0");
        assert.deepEqual(findings.filter((f) => !f.ok), []);
    });

    it("names the missing Docker engine, an old kind and a missing Pulumi, each with a fix", () => {
        const findings = checkTools(
            runner({ docker: { ok: false, stdout: "" }, kind: { ok: true, stdout: "kind v0.29.0 go1.24 linux/amd64" }, pulumi: { ok: false, stdout: "" } }),
            "v22.11.0",
        );
        const failures = findings.filter((f) => !f.ok).map((f) => f.what);
        assert.deepEqual(failures, ["docker: no running Docker engine answered", "kind 0.29.0 is older than 0.33.0", "pulumi: not found"]);
        assert.ok(findings.filter((f) => !f.ok).every((f) => f.fix && f.fix.length > 10));
    });

    it("reports a host port that is taken, naming the setting to change", async () => {
        const settings = parseSettings({}).settings;
        const findings = await checkPorts(settings, runner({ kind: { ok: true, stdout: "" } }), async (port) => port === 443);
        const failures = findings.filter((f) => !f.ok);
        assert.equal(failures.length, 1);
        assert.equal(failures[0].what, "port 443 on localhost is in use");
        assert.match(failures[0].fix!, /vault-ha:ingressHttpsPort/);
    });

    it("skips the port check when the cluster already exists (its own ports are bound)", async () => {
        const settings = parseSettings({}).settings;
        const findings = await checkPorts(settings, runner({ kind: { ok: true, stdout: "vault\n" } }), async () => true);
        assert.deepEqual(findings.map((f) => f.ok), [true]);
    });

    describe("a kind cluster whose node containers are stopped", () => {
        const settings = parseSettings({}).settings;
        const calls: string[][] = [];
        const machine = (ps: string, clusters = "vault\n"): Runner => (command, args) => {
            calls.push([command, ...args]);
            if (command === "kind" && args.join(" ") === "get clusters") return { ok: true, stdout: clusters };
            if (command === "docker" && args[0] === "ps") return { ok: true, stdout: ps };
            return { ok: false, stdout: "" };
        };

        it("names the stopped containers and the docker start command that brings them back", () => {
            const findings = checkClusterNodes(settings, machine("vault-worker3 running\nvault-worker2 exited\nvault-worker running\nvault-control-plane exited\n"));
            assert.deepEqual(findings, [
                {
                    ok: false,
                    what: "kind cluster vault: node containers not running: vault-control-plane (exited), vault-worker2 (exited)",
                    fix: "start them (Docker must be running), then run again: docker start vault-control-plane vault-worker2",
                },
            ]);
            // The containers are found the way kind finds them: by its docker label, stopped ones included.
            assert.deepEqual(calls.at(-1), ["docker", "ps", "-a", "--filter", "label=io.x-k8s.kind.cluster=vault", "--format", "{{.Names}} {{.State}}"]);
        });

        it("passes a running cluster, and says nothing when there is no cluster of that name", () => {
            assert.deepEqual(checkClusterNodes(settings, machine("vault-control-plane running\nvault-worker running\n")).map((f) => f.ok), [true]);
            assert.deepEqual(checkClusterNodes(settings, machine("", "other\n")), []);
        });
    });
});
