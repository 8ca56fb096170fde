import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse, parseAllDocuments } from "yaml";
import { caChainManifests, certManagerValues, vaultCertificateSans } from "../../../components/tls/tlsConfig";
import { ingressNginxValues } from "../../../components/ingress/ingressNginxValues";
import { buildKindConfig } from "../../../components/kind/kindConfig";
import { parseSettings } from "../../../components/config/settings";
import { vaultHelmValues, vaultServerHcl } from "../../../components/vault/vaultValues";
import { atLeast, checkClusterNodes, checkPorts, checkTools, nodeFinding, parseTools, parseVersion, Runner } from "../../../scripts/preflight";
import { render } from "../../../scripts/render";

describe("npm run render", () => {
    const settings = parseSettings({}).settings;
    const sections = render("dev", settings)
        .split(/^# ==== .*$/m)
        .slice(1);

    it("prints the kind config, every chart's values, the HCL and the CA chain exactly as the program builds them", () => {
        assert.equal(sections.length, 6);
        assert.deepEqual(parse(sections[0]), buildKindConfig(settings));
        assert.deepEqual(parse(sections[1]), ingressNginxValues());
        assert.deepEqual(parse(sections[2]), vaultHelmValues(settings, { telemetry: true }));
        assert.equal(sections[3].trim(), vaultServerHcl(settings.tls, undefined, { unauthenticated: false }).trim());
        assert.deepEqual(parse(sections[4]), certManagerValues());
        const chain = caChainManifests({
            certManagerNamespace: "cert-manager",
            vaultNamespace: "vault",
            sans: vaultCertificateSans({ release: "vault", namespace: "vault", replicas: 3, ingressHost: "vault.localhost" }),
        });
        assert.deepEqual(
            parseAllDocuments(sections[5]).map((d) => d.toJS()),
            [chain.selfSignedIssuer, chain.caCertificate, chain.caIssuer, chain.serverCertificate],
        );
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
    const runner =
        (overrides: typeof answers = {}): Runner =>
        (command) =>
            ({ ...answers, ...overrides })[command] ?? { ok: false, stdout: "" };

    it("reads versions the way each tool prints them and compares them", () => {
        assert.deepEqual(parseVersion("kind v0.33.0 go1.25.3 linux/amd64"), [0, 33, 0]);
        assert.ok(atLeast([0, 33, 0], "0.33.0"));
        assert.ok(atLeast([1, 0, 0], "0.33.0"));
        assert.ok(!atLeast([0, 32, 9], "0.33.0"));
    });

    it("passes a machine with every tool at its minimum or newer", () => {
        const findings = checkTools(runner(), "v20.19.0");
        assert.deepEqual(
            findings.filter((f) => f.level === "problem"),
            [],
        );
    });

    it("names the missing Docker engine, an old kind and a missing Pulumi, each with a fix", () => {
        const findings = checkTools(
            runner({ docker: { ok: false, stdout: "" }, kind: { ok: true, stdout: "kind v0.29.0 go1.24 linux/amd64" }, pulumi: { ok: false, stdout: "" } }),
            "v22.13.0",
        );
        const failures = findings.filter((f) => f.level === "problem").map((f) => f.what);
        assert.deepEqual(failures, ["docker: no running Docker engine answered", "kind 0.29.0 is older than 0.33.0", "pulumi: not found"]);
        assert.ok(findings.filter((f) => f.level === "problem").every((f) => f.fix && f.fix.length > 10));
    });

    it("accepts exactly the Node.js versions of package.json's engines (eslint and mocha refuse the others)", () => {
        const verdicts = ["v20.18.3", "v20.19.0", "v21.7.3", "v22.11.0", "v22.13.0", "v23.11.0", "v24.0.0", "v25.1.0"].map((v) => [
            v,
            nodeFinding(v).level === "ok",
        ]);
        assert.deepEqual(verdicts, [
            ["v20.18.3", false],
            ["v20.19.0", true],
            ["v21.7.3", false],
            ["v22.11.0", false],
            ["v22.13.0", true],
            ["v23.11.0", false],
            ["v24.0.0", true],
            ["v25.1.0", true],
        ]);
        assert.deepEqual(nodeFinding("v22.11.0"), {
            level: "problem",
            what: "node 22.11.0 is not a supported version (package.json engines: ^20.19.0 || ^22.13.0 || >=24)",
            fix: "install a Node.js release in that range, 22 LTS recommended: https://nodejs.org/en/download",
        });
    });

    it("--tools checks Node.js and only the tools named (down: pulumi and kind, without Docker)", () => {
        const asked: string[] = [];
        const findings = checkTools(
            (command, args) => {
                asked.push(command);
                return runner({ pulumi: { ok: false, stdout: "" } })(command, args);
            },
            "v22.13.0",
            parseTools("pulumi,kind"),
        );
        assert.deepEqual(asked, ["kind", "pulumi"]);
        assert.deepEqual(
            findings.map((f) => [f.level !== "problem", f.what]),
            [
                [true, "node 22.13.0"],
                [true, "kind 0.33.0"],
                [false, "pulumi: not found"],
            ],
        );
        assert.throws(() => parseTools("pulumi,helm"), /expected some of docker,kind,kubectl,pulumi, got "pulumi,helm"/);
        assert.throws(() => parseTools(""), /expected some of/);
    });

    it("reports a host port that is taken, naming the setting to change", async () => {
        const settings = parseSettings({}).settings;
        const findings = await checkPorts(settings, runner({ kind: { ok: true, stdout: "" } }), async (port) => port === 443);
        const failures = findings.filter((f) => f.level === "problem");
        assert.equal(failures.length, 1);
        assert.equal(failures[0].what, "port 443 on localhost is in use");
        // npm run config: it finds the stack and backend from any shell (plain pulumi config set needs them set up).
        assert.match(failures[0].fix!, /npm run config -- set vault-ha:ingressHttpsPort 8443$/);
        // The fix names a free port the settings accept: applied, the configuration loads without a problem.
        assert.doesNotThrow(() => parseSettings({ ingressHttpsPort: "8443" }));
        const both = await checkPorts(settings, runner({ kind: { ok: true, stdout: "" } }), async (port) => [80, 443, 8080, 8443].includes(port));
        assert.deepEqual(
            both.filter((f) => f.level === "problem").map((f) => /ingressHttp(s)?Port (\d+)$/.exec(f.fix!)?.[2]),
            ["8081", "8444"],
            "the next free port, never one already busy",
        );
    });

    it("skips the port check when the cluster already exists (its own ports are bound)", async () => {
        const settings = parseSettings({}).settings;
        const findings = await checkPorts(settings, runner({ kind: { ok: true, stdout: "vault\n" } }), async () => true);
        assert.deepEqual(
            findings.map((f) => f.level !== "problem"),
            [true],
        );
    });

    describe("a kind cluster whose node containers are stopped", () => {
        const settings = parseSettings({}).settings;
        const calls: string[][] = [];
        const machine =
            (ps: string, clusters = "vault\n"): Runner =>
            (command, args) => {
                calls.push([command, ...args]);
                if (command === "kind" && args.join(" ") === "get clusters") return { ok: true, stdout: clusters };
                if (command === "docker" && args[0] === "ps") return { ok: true, stdout: ps };
                return { ok: false, stdout: "" };
            };

        it("names the stopped containers and the docker start command that brings them back", () => {
            const findings = checkClusterNodes(
                settings,
                machine("vault-worker3 running\nvault-worker2 exited\nvault-worker running\nvault-control-plane exited\n"),
            );
            assert.deepEqual(findings, [
                {
                    level: "problem",
                    what: "kind cluster vault: node containers not running: vault-control-plane (exited), vault-worker2 (exited)",
                    fix: "start them (Docker must be running), then run again: docker start vault-control-plane vault-worker2",
                },
            ]);
            // The containers are found the way kind finds them: by its docker label, stopped ones included.
            assert.deepEqual(calls.at(-1), ["docker", "ps", "-a", "--filter", "label=io.x-k8s.kind.cluster=vault", "--format", "{{.Names}} {{.State}}"]);
        });

        it("passes a running cluster, and says nothing when there is no cluster of that name", () => {
            assert.deepEqual(
                checkClusterNodes(settings, machine("vault-control-plane running\nvault-worker running\n")).map((f) => f.level !== "problem"),
                [true],
            );
            assert.deepEqual(checkClusterNodes(settings, machine("", "other\n")), []);
        });
    });
});

describe("npm run e2e (scripts/e2e.sh, checked without Docker)", () => {
    const file = path.join(__dirname, "../../..", "scripts", "e2e.sh");
    // e2e.sh and the existing-cluster phases it sources, read as one script.
    const existingFile = path.join(__dirname, "../../..", "scripts", "e2e-existing.sh");
    const script = readFileSync(file, "utf8") + readFileSync(existingFile, "utf8");
    const code = script
        .split("\n")
        .filter((l) => !l.trimStart().startsWith("#"))
        .join("\n");
    let dir: string;
    let bin: string;

    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "e2e-sh-"));
        bin = path.join(dir, "bin");
        mkdirSync(bin);
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** A fake command in PATH: a shell script body. */
    const fakeCommand = (name: string, body: string) => {
        writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
        chmodSync(path.join(bin, name), 0o755);
    };
    /** Sources e2e.sh (which then only defines its functions) and runs a bash fragment with the fake commands first in PATH. */
    const run = (fragment: string, env: Record<string, string> = {}) => {
        // Without the guard, sourcing would run the whole end-to-end test: refuse before that can happen.
        assert.match(script, /^if \[ "\$\{BASH_SOURCE\[0\]\}" = "\$0" \]; then\n {2}main "\$@"\nfi\n?$/m, "e2e.sh runs main only when executed");
        return spawnSync("bash", ["-c", `set -euo pipefail; source "${file}"; ${fragment}`], {
            cwd: dir,
            encoding: "utf8",
            env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env },
        });
    };

    it("is valid bash without bash 4 features (macOS has bash 3.2), and sourcing it only defines its functions", () => {
        for (const f of [file, existingFile]) {
            const syntax = spawnSync("bash", ["-n", f], { encoding: "utf8" });
            assert.equal(syntax.status, 0, syntax.stderr);
        }
        assert.doesNotMatch(code, /declare -A|local -A|\$\{[A-Za-z_]+(,,|\^\^)\}|mapfile|readarray|\|&/);
        fakeCommand("pulumi", `echo "pulumi $*" >> "${dir}/calls"; exit 1`);
        const functions = [
            ...["main", "cleanup", "phase", "phase_end", "write_timings", "count_lines", "expect_lines", "vault_started", "wait_for"],
            ...["namespace_gone", "vault_ha_objects", "cluster_wide_leftovers", "no_lines", "create_existing_cluster", "existing_checks", "existing_leftovers"],
        ];
        const sourced = run(`for f in ${functions.join(" ")}; do type -t $f; done`);
        assert.equal(sourced.status, 0, sourced.stderr);
        assert.equal(sourced.stdout, "function\n".repeat(functions.length));
        assert.ok(!existsSync(path.join(dir, "calls")), "nothing ran");
    });

    it("counts lines as numbers, so BSD wc's padded count (macOS) passes", () => {
        // Every wc -l goes through count_lines; no count is compared as a string.
        assert.deepEqual(code.match(/wc -l/g), ["wc -l"]);
        assert.doesNotMatch(code, /wc -l\)"? *=/);
        fakeCommand("wc", "awk 'END { printf \"%8d\\n\", NR }'"); // BSD wc -l: the count right-aligned in 8 columns
        assert.equal(run("printf 'a\\nb\\nc\\nd\\n' | wc -l").stdout, "       4\n", "the fake pads like BSD wc");
        const ok = run("expect_lines nodes 4 printf 'n1\\nn2\\nn3\\nn4\\n'");
        assert.equal(ok.status, 0, ok.stderr);
        assert.equal(ok.stdout, "ok: 4 nodes\n");
        const wrong = run("expect_lines nodes 4 printf 'n1\\n'");
        assert.notEqual(wrong.status, 0);
        assert.match(wrong.stderr, /e2e: expected 4 nodes, found 1/);
        const failed = run("expect_lines nodes 0 false");
        assert.notEqual(failed.status, 0, "a failing command is not zero lines");
    });

    it("selects the vault container's status by name, never containerStatuses[0] (the kubelet sorts them by name)", () => {
        assert.doesNotMatch(script, /containerStatuses\[0\]/);
        assert.ok(code.includes(`jsonpath='{.status.containerStatuses[?(@.name=="vault")].state.running.startedAt}'`));
        assert.match(code, /wait_for "[^"]*vault-1[^"]*" 300 vault_started vault-1/);
        // The fragment passes exactly that filter to kubectl, with the pod and context.
        fakeCommand("kubectl", `printf '%s\\n' "$@" > "${dir}/argv"; echo 2026-11-28T10:00:00Z`);
        assert.equal(run("ctx=kind-vault-e2e; vault_started vault-1").status, 0);
        assert.deepEqual(readFileSync(path.join(dir, "argv"), "utf8").trim().split("\n"), [
            "--context",
            "kind-vault-e2e",
            "-n",
            "vault",
            "get",
            "pod",
            "vault-1",
            "-o",
            `jsonpath={.status.containerStatuses[?(@.name=="vault")].state.running.startedAt}`,
        ]);
        fakeCommand("kubectl", "echo");
        assert.notEqual(run("ctx=kind-vault-e2e; vault_started vault-1").status, 0, "not started: no startedAt");
    });

    it("asks both front doors for the plain sys/health: each reaches the active node only (200), never a standby (429)", () => {
        const healthChecks = code.split("\n").filter((l) => /curl .*health/.test(l) || /sys\/health/.test(l));
        assert.ok(code.includes(`nodeport_health="$vault_addr/v1/sys/health"`));
        assert.equal(healthChecks.filter((l) => l.includes(`"$nodeport_health"`)).length, 2, "the TLS and the plain-HTTP NodePort check");
        // Only the existing-cluster check through a port-forward (kubectl picks a pod once) accepts a standby.
        assert.deepEqual(
            healthChecks.filter((l) => l.includes("standbyok") && !/port-forward/.test(l)),
            [],
            "no front-door check accepts a standby's answer",
        );
    });

    it("scales 3 -> 2 -> 3 unless E2E_SCALE=false: the departed pod's claim goes, and it comes back a member, not removed", () => {
        const scale = code.slice(code.indexOf('if [ "${E2E_SCALE:-true}" = true ]'), code.indexOf('E2E_UPGRADE_FROM:-}" ]; then\n    phase upgrade'));
        assert.match(scale, /vault-ha:vaultReplicas 2\n[^]*expect_peers 2[^]*data-vault-2[^]*vault-ha:vaultReplicas\n[^]*expect_peers 3/);
        assert.match(scale, /"removed_from_cluster": false/);
        assert.equal((scale.match(/--expect-no-changes/g) ?? []).length, 2, "a quiet preview after each change");
    });

    it("writes the phase timings as JSON, splitting the up by component from Pulumi's event log", () => {
        const events = [
            { timestamp: 100, preludeEvent: { config: {} } },
            { timestamp: 101, resourcePreEvent: { metadata: { urn: "urn:pulumi:e2e::vault-ha::vault-ha:kind:KindCluster::kind" } } },
            {
                timestamp: 101,
                resourcePreEvent: { metadata: { urn: "urn:pulumi:e2e::vault-ha::vault-ha:kind:KindCluster$command:local:Command::kind-cluster" } },
            },
            {
                timestamp: 190,
                resOutputsEvent: { metadata: { urn: "urn:pulumi:e2e::vault-ha::vault-ha:kind:KindCluster$command:local:Command::kind-cluster" } },
            },
            {
                timestamp: 191,
                resourcePreEvent: { metadata: { urn: "urn:pulumi:e2e::vault-ha::vault-ha:vault:VaultCluster$kubernetes:helm.sh/v3:Release::vault-release" } },
            },
            {
                timestamp: 192,
                resourcePreEvent: {
                    metadata: { urn: "urn:pulumi:e2e::vault-ha::vault-ha:tls:VaultTls$kubernetes:cert-manager.io/v1:Certificate::vault-tls-ca" },
                },
            },
            {
                timestamp: 230,
                resOutputsEvent: {
                    metadata: { urn: "urn:pulumi:e2e::vault-ha::vault-ha:tls:VaultTls$kubernetes:cert-manager.io/v1:Certificate::vault-tls-ca" },
                },
            },
            {
                timestamp: 240,
                resOutputsEvent: { metadata: { urn: "urn:pulumi:e2e::vault-ha::vault-ha:vault:VaultCluster$kubernetes:helm.sh/v3:Release::vault-release" } },
            },
            {
                timestamp: 241,
                resourcePreEvent: { metadata: { urn: "urn:pulumi:e2e::vault-ha::vault-ha:vault:VaultBootstrap$command:local:Command::bootstrap-init" } },
            },
            {
                timestamp: 250,
                resOpFailedEvent: {
                    metadata: { urn: "urn:pulumi:e2e::vault-ha::vault-ha:vault:VaultBootstrap$command:local:Command::bootstrap-init" },
                    status: 1,
                    steps: 0,
                },
            },
        ];
        writeFileSync(path.join(dir, "events.jsonl"), events.map((e) => JSON.stringify(e)).join("\n") + '\n{"torn');
        // SECONDS is bash's clock; setting it makes the durations exact.
        const result = run(
            `stack=e2e; cluster=vault-e2e; tls=true; docker_version=28.2.2
             SECONDS=0; phase prepare; SECONDS=12; phase up; SECONDS=162; phase checks; SECONDS=200
             phase "second preview"; SECONDS=215; phase re-unseal; SECONDS=300; phase destroy; SECONDS=340; phase_end failed
             write_timings "${dir}/timings.json" false "${dir}/events.jsonl"`,
        );
        assert.equal(result.status, 0, result.stderr);
        const report = JSON.parse(readFileSync(path.join(dir, "timings.json"), "utf8"));
        assert.equal(report.schema, "vault-ha/e2e-timings/1");
        assert.equal(report.passed, false);
        assert.equal(report.tls, true);
        assert.equal(report.host.docker, "28.2.2");
        assert.equal(report.totalSeconds, 340);
        assert.deepEqual(
            report.phases.map((p: any) => [p.name, p.seconds, p.result]),
            [
                ["prepare", 12, "ok"],
                ["up", 150, "ok"],
                ["checks", 38, "ok"],
                ["second preview", 15, "ok"],
                ["re-unseal", 85, "ok"],
                ["destroy", 40, "failed"],
            ],
        );
        assert.deepEqual(report.phases[1].parts, [
            { name: "cluster", seconds: 89, from: 1, to: 90, resources: 1 },
            { name: "charts", seconds: 49, from: 91, to: 140, resources: 1 },
            { name: "tls", seconds: 38, from: 92, to: 130, resources: 1 },
            { name: "bootstrap", seconds: 9, from: 141, to: 150, resources: 1 },
        ]);
        assert.match(result.stdout, /timings: .*timings\.json/);
    });

    it("writes the timings also when it fails, marking the phase that failed, and without an event log times the up whole", () => {
        const out = path.join(dir, "t.json");
        fakeCommand("pulumi", `echo "pulumi $*" >> "${dir}/calls"`);
        fakeCommand("kind", `echo "kind $*" >> "${dir}/calls"`);
        const state = mkdtempSync(path.join(dir, "state-"));
        const result = run(`stack=e2e-test; cluster=vault-e2e-test; state="${state}"; events="${state}/none.jsonl"; timings="${out}"; tls=false
            trap cleanup EXIT; phase prepare; phase up; deploy_started=true; false`);
        assert.notEqual(result.status, 0);
        const report = JSON.parse(readFileSync(out, "utf8"));
        assert.equal(report.passed, false);
        assert.deepEqual(
            report.phases.map((p: any) => [p.name, p.result]),
            [
                ["prepare", "ok"],
                ["up", "failed"],
                ["destroy", "ok"],
            ],
        );
        assert.equal(report.phases[1].parts, undefined);
        assert.match(readFileSync(path.join(dir, "calls"), "utf8"), /^pulumi destroy --stack e2e-test --yes --skip-preview$/m);
        assert.ok(!existsSync(state), "the throwaway backend is removed");
    });

    it("destroys nothing when it stopped before the deploy started (a missing tool, a failed stack setup)", () => {
        const out = path.join(dir, "t.json");
        fakeCommand("pulumi", `echo "pulumi $*" >> "${dir}/calls"`);
        fakeCommand("kind", `echo "kind $*" >> "${dir}/calls"`);
        const state = mkdtempSync(path.join(dir, "state-"));
        const result = run(`stack=e2e-test; cluster=vault-e2e-test; state="${state}"; events="${state}/none.jsonl"; timings="${out}"; tls=false
            trap cleanup EXIT; phase prepare; false`);
        assert.equal(result.status, 1);
        assert.ok(!existsSync(path.join(dir, "calls")), "neither pulumi destroy nor kind delete ran");
        assert.match(result.stdout, /e2e: stopped before the deploy started: nothing to destroy/);
        assert.equal(result.stderr, "");
        const report = JSON.parse(readFileSync(out, "utf8"));
        assert.deepEqual(
            report.phases.map((p: any) => [p.name, p.result]),
            [["prepare", "failed"]],
        );
        assert.ok(!existsSync(state), "the throwaway backend is removed");
        // In main, the flag is set right where the up starts, and the tools are checked before the first pulumi command.
        assert.match(code, /phase up "deploy: pulumi up"\n {2}deploy_started=true\n/);
        assert.ok(code.indexOf("preflight --tools docker,kind,kubectl,pulumi") < code.indexOf("pulumi stack init"));
    });

    it("runs the up with Pulumi's event log only where the CLI offers it (PULUMI_DEBUG_COMMANDS)", () => {
        assert.ok(code.includes(`if PULUMI_DEBUG_COMMANDS=true pulumi up --help 2>/dev/null | grep -q -- '--event-log'; then`));
        assert.ok(code.includes(`PULUMI_DEBUG_COMMANDS=true pulumi up --stack $stack --yes --skip-preview --event-log "$events"`));
        assert.ok(code.includes(`timings=\${E2E_TIMINGS:-$PWD/e2e-timings.json}`));
    });
    describe("E2E_CLUSTER=existing", () => {
        /** wait_for without its clock: one try (the real one polls for minutes). */
        const once = `wait_for() { local what=$1; shift 2; if "$@" >/dev/null 2>&1; then echo "ok: $what"; else echo "e2e: timed out waiting for: $what" >&2; return 1; fi; }`;
        /** A kubectl that logs its argv and answers from files in dir/k8s: one per `get` kind list. */
        const kubectl = () =>
            fakeCommand(
                "kubectl",
                `echo "kubectl $*" >> "${dir}/calls"
while :; do case "$1" in --context) shift 2 ;; *) break ;; esac; done
case "$*" in
  "get namespace "*) [ -f "${dir}/ns-$3" ] && echo "namespace/$3" || { echo "Error from server (NotFound)" >&2; exit 1; } ;;
  "-n vault get statefulsets,"*) cat "${dir}/vault-objects" ;;
  "get customresourcedefinitions,"*) cat "${dir}/cluster-objects" ;;
  "-n vault get pvc -o name") cat "${dir}/pvcs" ;;
  "-n vault get pvc data-vault-"*) grep -x "persistentvolumeclaim/$5" "${dir}/pvcs" ;;
  "-n vault delete pvc "*) : > "${dir}/pvcs" ;;
  "delete namespace vault "*) rm -f "${dir}/ns-vault" ;;
  *) echo "fake kubectl: unexpected $*" >&2; exit 1 ;;
esac`,
            );
        const world = (files: Record<string, string>) => {
            for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
        };
        const clean = {
            "ns-vault": "",
            "vault-objects": "serviceaccount/default\nconfigmap/kube-root-ca.crt\n",
            "cluster-objects": "clusterrole/admin\nclusterrole/kindnet\ncustomresourcedefinition.apiextensions.k8s.io/x.example.com\n",
            pvcs: "persistentvolumeclaim/data-vault-0\npersistentvolumeclaim/data-vault-1\npersistentvolumeclaim/data-vault-2\n",
        };

        it("after the destroy: no namespace or object of vault-ha's but the kept raft volumes, which it then deletes with their namespace", () => {
            kubectl();
            world(clean);
            // Destroy moved the keys that open the kept volumes into the stack's backup folder.
            const keys = path.join(dir, "backups", "vault-ha.e2e-existing", "2026-11-28T16-00-00Z.kept-volumes.init.json");
            mkdirSync(path.dirname(keys), { recursive: true });
            writeFileSync(keys, "{}");
            const result = run(`ctx=kind-vault-ha-e2e-existing; stack=e2e-existing; ${once}; existing_leftovers`);
            assert.equal(result.status, 0, result.stderr);
            assert.match(result.stdout, /ok: 3 raft volumes kept \(raftVolumesOnDestroy: keep\)/);
            assert.match(result.stdout, /ok: the kept volumes' keys are in backups\/vault-ha\.e2e-existing\/.*\.kept-volumes\.init\.json/);
            assert.ok(!existsSync(keys), "removed with the volumes, as the README says");
            const calls = readFileSync(path.join(dir, "calls"), "utf8");
            assert.match(calls, /^kubectl --context kind-vault-ha-e2e-existing -n vault delete pvc data-vault-0 data-vault-1 data-vault-2 --wait=true$/m);
            assert.match(calls, /^kubectl --context kind-vault-ha-e2e-existing delete namespace vault --wait=true$/m);
            assert.ok(!existsSync(path.join(dir, "ns-vault")));
        });

        it("fails on anything left: an object in the Vault namespace, a cert-manager CRD, a namespace, volumes not kept", () => {
            kubectl();
            const cases: [Record<string, string>, RegExp][] = [
                [{ "vault-objects": `${clean["vault-objects"]}secret/vault-server-tls\n` }, /no object of vault-ha's left in namespace vault/],
                [{ "cluster-objects": "customresourcedefinition.apiextensions.k8s.io/certificates.cert-manager.io\n" }, /no cluster-wide object/],
                [{ "ns-cert-manager": "" }, /namespace cert-manager gone/],
                [{ pvcs: "" }, /expected 3 raft volumes kept \(raftVolumesOnDestroy: keep\), found 0/],
                [{}, /expected the kept volumes' key file in backups\/vault-ha\.x/],
            ];
            for (const [change, message] of cases) {
                for (const f of ["ns-cert-manager", "ns-vault"]) rmSync(path.join(dir, f), { force: true });
                world({ ...clean, ...change });
                const result = run(`ctx=kind-x; stack=x; ${once}; existing_leftovers`);
                assert.notEqual(result.status, 0, JSON.stringify(change));
                assert.match(result.stderr, message);
                assert.doesNotMatch(readFileSync(path.join(dir, "calls"), "utf8"), /delete/, "nothing deleted by hand before everything else is gone");
                rmSync(path.join(dir, "calls"));
            }
        });

        it("a kubectl that fails is not an empty namespace", () => {
            fakeCommand("kubectl", "exit 1");
            assert.notEqual(run("ctx=kind-x; no_lines vault_ha_objects").status, 0);
            assert.notEqual(run("ctx=kind-x; no_lines cluster_wide_leftovers").status, 0);
        });

        it("cleanup destroys what was deployed, then deletes its own kind cluster; also when it stopped before the up", () => {
            fakeCommand("pulumi", `echo "pulumi $*" >> "${dir}/calls"`);
            fakeCommand("kind", `echo "kind $*" >> "${dir}/calls"`);
            for (const [deployed, expected] of [
                [true, ["pulumi destroy --stack e2e --yes --skip-preview", "kind delete cluster --name vault-ha-e2e-existing"]],
                [false, ["kind delete cluster --name vault-ha-e2e-existing"]],
            ] as const) {
                const out = path.join(dir, "t.json");
                const state = mkdtempSync(path.join(dir, "state-"));
                const result = run(`stack=e2e; cluster=vault-ha-e2e-existing; state="${state}"; events="${state}/none.jsonl"; timings="${out}"; tls=true
                    trap cleanup EXIT; phase prepare; kind_created=true; phase up; deploy_started=${deployed}; false`);
                assert.equal(result.status, 1);
                assert.deepEqual(readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n"), expected);
                assert.doesNotMatch(result.stdout, /nothing to destroy/);
                const report = JSON.parse(readFileSync(out, "utf8"));
                assert.deepEqual(report.phases.at(-1), { name: "delete cluster", seconds: report.phases.at(-1).seconds, result: "ok" });
                rmSync(path.join(dir, "calls"));
            }
        });

        it("refuses an unknown E2E_CLUSTER before it runs anything", () => {
            fakeCommand("pulumi", `echo "pulumi $*" >> "${dir}/calls"`);
            const result = run("main", { E2E_CLUSTER: "eks" });
            assert.equal(result.status, 2);
            assert.match(result.stderr, /E2E_CLUSTER must be kind or existing, not eks/);
            assert.ok(!existsSync(path.join(dir, "calls")));
        });

        it("deploys in existing mode onto its own kind cluster through ClusterIP, the token never in an argv", () => {
            for (const line of [
                "pulumi config set --stack $stack vault-ha:cluster existing",
                `pulumi config set --stack $stack vault-ha:kubeContext "$ctx"`,
                "pulumi config set --stack $stack vault-ha:vaultServiceType ClusterIP",
                "pulumi config set --stack $stack vault-ha:raftVolumesOnDestroy keep",
                `kind create cluster --name "$cluster" --image "$image" --config - --wait 180s`,
                `curl -fsS $curl_tls -H @"$state/token.header" "$vault_addr/v1/mysecret/data/logins/study"`,
            ]) {
                assert.ok(code.includes(line), line);
            }
            // The cluster is created after the tools are checked, and before the preflight that reads it.
            const existingBlock = code.slice(code.indexOf('phase cluster "the existing cluster'));
            assert.ok(existingBlock.indexOf("create_existing_cluster") < existingBlock.indexOf("preflight --stack $stack"));
            // In existing mode the up is followed by its own phases, and main returns before the kind checks.
            assert.match(
                code,
                /phase destroy "destroy: vault-ha's objects one by one, not the cluster"\n {4}pulumi destroy --stack \$stack --yes --skip-preview\n {4}deploy_started=false\n/,
            );
        });
    });
});
