import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { Call, FAKES, ROOT, sandbox, Sandbox } from "../unit/scripts/sandbox";

/** The pulumi calls that act on a stack: all but the preflight's `pulumi version`. */
const work = (calls: Call[]) => calls.filter((c) => c.tool === "pulumi" && c.args !== "version");

describe("npm run up / down / config / e2e (scripts/*.sh with fake tools)", function () {
    this.timeout(60_000);
    let box: Sandbox;
    beforeEach(() => (box = sandbox()));
    afterEach(() => box.remove());

    it("lib.sh only defines: sourcing it runs nothing", () => {
        const sourced = spawnSync("bash", ["-c", `set -euo pipefail; source "${path.join(ROOT, "scripts", "lib.sh")}"; echo "$VAULT_HA_ROOT"`], {
            cwd: box.dir,
            encoding: "utf8",
            env: { PATH: box.bin },
        });
        assert.equal(sourced.status, 0, sourced.stderr);
        assert.equal(sourced.stdout, `${ROOT}\n`);
        assert.deepEqual(box.calls(), []);
    });

    it("config, up and down use one stack and one backend from any shell, also before the first up", () => {
        for (const tool of ["docker", "kind", "kubectl", "pulumi"] as const) box.fake(tool, FAKES[tool]);
        const backend = `file://${box.project}/.pulumi-state`;

        // A new shell, another folder, no PULUMI_* variables, and no stack yet: config creates it as up would.
        const config = box.run("config.sh", ["set", "vault-ha:workers", "5"]);
        assert.equal(config.status, 0, config.stderr);
        assert.match(config.stdout, /Creating the stack dev/);
        assert.match(config.stdout, /Pulumi will ask for a passphrase/);
        const up = box.run("up.sh", ["--yes"]);
        assert.equal(up.status, 0, up.stdout + up.stderr);
        const again = box.run("config.sh", ["get", "vault-ha:workers"], { PULUMI_CONFIG_PASSPHRASE: "x" });
        assert.equal(again.status, 0, again.stderr);
        assert.equal(again.stdout, "", "an existing stack: no creation, no passphrase notice");
        const down = box.run("down.sh", ["--yes"]);
        assert.equal(down.status, 0, down.stdout + down.stderr);

        assert.deepEqual(
            work(box.calls()).map((c) => [c.tool, c.args]),
            [
                ["pulumi", "stack select dev"],
                ["pulumi", "stack select dev --create --secrets-provider passphrase"],
                ["pulumi", "config --stack dev set vault-ha:workers 5"],
                // The preflight asks which cluster the stack deployed (checkDeployedCluster): outputs only, no secrets.
                ["pulumi", "stack output --json --stack dev --non-interactive"],
                ["pulumi", "stack select dev --create --secrets-provider passphrase"],
                ["pulumi", "up --stack dev --yes"],
                ["pulumi", "stack select dev"],
                ["pulumi", "config --stack dev get vault-ha:workers"],
                ["pulumi", "destroy --stack dev --yes"],
            ],
        );
        for (const c of work(box.calls())) {
            assert.equal(c.backend, backend, `${c.args}: the project's own backend`);
            assert.equal(c.cwd, box.project, `${c.args}: run in the project folder`);
        }
        assert.ok(existsSync(path.join(box.project, ".pulumi-state")), "the file backend's folder is created");
        // up's preflight asks every tool, the engine and the cluster; down's only what a destroy runs (no Docker engine,
        // no cluster, no ports).
        assert.deepEqual(
            box
                .calls()
                .filter((c) => c.args.startsWith("version") || c.args.startsWith("get") || c.args.startsWith("ps"))
                .map((c) => `${c.tool} ${c.args.split(" ")[0]}`),
            ["docker version", "kind version", "kubectl version", "pulumi version", "kind get", "docker ps", "kind get", "kind version", "pulumi version"],
        );
        assert.deepEqual(
            box.calls().filter((c) => c.tool === "npm"),
            [],
            "node_modules is up to date: nothing installed",
        );
    });

    it("honours PULUMI_STACK and PULUMI_BACKEND_URL", () => {
        box.fake("pulumi", FAKES.pulumi);
        const other = path.join(box.dir, "state");
        const env = { PULUMI_STACK: "other", PULUMI_BACKEND_URL: `file://${other}` };
        spawnSync("mkdir", [other]);
        const config = box.run("config.sh", ["set", "vault-ha:tls", "false"], env);
        assert.equal(config.status, 0, config.stderr);
        assert.deepEqual(
            work(box.calls()).map((c) => [c.backend, c.args]),
            [
                [`file://${other}`, "stack select other"],
                [`file://${other}`, "stack select other --create --secrets-provider passphrase"],
                [`file://${other}`, "config --stack other set vault-ha:tls false"],
            ],
        );
        assert.ok(!existsSync(path.join(box.project, ".pulumi-state")), "no local backend folder when another backend is set");
    });

    it("without the Pulumi CLI, config and down say what is missing and how to install it (down without Docker too)", () => {
        const config = box.run("config.sh", ["set", "vault-ha:workers", "5"]);
        assert.equal(config.status, 1);
        assert.match(config.stdout, /^FAIL pulumi: not found\n {7}fix: install or update the Pulumi CLI: https:\/\/www\.pulumi\.com\/docs\/install\//m);
        assert.doesNotMatch(config.stdout, /kind|kubectl|docker/, "config needs only pulumi");

        const down = box.run("down.sh");
        assert.equal(down.status, 1);
        assert.match(down.stdout, /^FAIL kind: not found\n {7}fix: install kind/m);
        assert.match(down.stdout, /^FAIL pulumi: not found\n {7}fix: /m);
        assert.doesNotMatch(down.stdout, /docker|kubectl|port/, "down must work with Docker and the cluster gone");
        for (const r of [config, down]) {
            assert.match(r.stderr, /preflight: fix the items marked FAIL/);
            assert.doesNotMatch(r.stdout + r.stderr, /command not found|not found: pulumi/);
        }
    });

    it("e2e without the Pulumi CLI stops at the preflight, before any pulumi command, and its cleanup destroys nothing", () => {
        for (const tool of ["docker", "kind", "kubectl"] as const) box.fake(tool, FAKES[tool]);
        const timings = path.join(box.dir, "timings.json");
        const e2e = box.run("e2e.sh", [], { E2E_TIMINGS: timings });
        assert.equal(e2e.status, 1);
        const output = e2e.stdout + e2e.stderr;
        assert.match(e2e.stdout, /^FAIL pulumi: not found\n {7}fix: install or update the Pulumi CLI/m);
        assert.doesNotMatch(output, /command not found/, output);
        assert.match(e2e.stdout, /e2e: stopped before the deploy started: nothing to destroy/);
        assert.doesNotMatch(e2e.stdout, /=== destroy/);
        assert.deepEqual(
            box.calls().filter((c) => c.tool === "kind" && c.args.startsWith("delete")),
            [],
        );
        const report = JSON.parse(readFileSync(timings, "utf8"));
        assert.equal(report.passed, false);
        assert.deepEqual(
            report.phases.map((p: any) => [p.name, p.result]),
            [["prepare", "failed"]],
        );
        assert.ok(!existsSync(path.join(box.project, "Pulumi.e2e.yaml")));
    });
    it("cluster: existing: up checks the context with kubectl and never runs docker or kind; down needs kubectl, not kind", () => {
        box.fake("kubectl", FAKES.kubectlCluster);
        box.fake("pulumi", FAKES.pulumi);
        writeFileSync(path.join(box.project, "Pulumi.dev.yaml"), "config:\n  vault-ha:cluster: existing\n  vault-ha:kubeContext: prod\n");
        const up = box.run("up.sh", ["--yes"]);
        assert.equal(up.status, 0, up.stdout + up.stderr);
        assert.match(up.stdout, /^ok {3}context prod \(your kubeconfig\) answers: Kubernetes v1\.34\.2$/m);
        assert.match(up.stdout, /^ok {3}context prod \(your kubeconfig\) may create what the up needs \(\d+ kubectl auth can-i checks\)$/m);
        assert.match(up.stdout, /^ok {3}3 schedulable nodes for 3 Vault pods/m);
        assert.doesNotMatch(up.stdout, /docker|kind |port \d+/);
        const down = box.run("down.sh", ["--yes"]);
        assert.equal(down.status, 0, down.stdout + down.stderr);
        assert.deepEqual(
            box.calls().filter((c) => c.tool === "docker" || c.tool === "kind"),
            [],
            "no docker or kind in existing mode (neither is installed here)",
        );
        assert.deepEqual(
            work(box.calls()).map((c) => c.args),
            ["stack select dev --create --secrets-provider passphrase", "up --stack dev --yes", "destroy --stack dev --yes"],
        );
        // No kubectl on PATH: down names it (and only it, with pulumi present).
        spawnSync("rm", [path.join(box.bin, "kubectl")]);
        const without = box.run("down.sh", ["--yes"]);
        assert.equal(without.status, 1);
        assert.match(without.stdout, /^FAIL kubectl: not found\n {7}fix: install kubectl/m);
        assert.doesNotMatch(without.stdout, /kind/);
    });

    it("cluster: existing: a context that is not in the kubeconfig stops up before pulumi, with the fix", () => {
        box.fake("kubectl", FAKES.kubectlCluster);
        box.fake("pulumi", FAKES.pulumi);
        writeFileSync(path.join(box.project, "Pulumi.dev.yaml"), "config:\n  vault-ha:cluster: existing\n  vault-ha:kubeContext: prd\n");
        const up = box.run("up.sh", ["--yes"]);
        assert.equal(up.status, 1);
        assert.match(
            up.stdout,
            /^FAIL kubeContext prd is not a context of your kubeconfig \(the contexts there: kind-vault, prod\)\n {7}fix: npm run config -- set vault-ha:kubeContext <one of them>$/m,
        );
        assert.deepEqual(work(box.calls()), []);
    });

    describe("arguments: --help answers, a mistake is refused with exit 2 before anything runs", () => {
        /**
         * pulumi as cobra and pflag parse flags (spf13/cobra command.go execute, spf13/pflag flag.go): every flag is
         * parsed before --help is looked at, so an unknown one is an error and a value-taking flag given last without
         * its value (-m) takes what follows as its value; errors as Pulumi prints them ("error: ...", exit 255).
         */
        const cobraPulumi = `help=""; prev=""
for a in "$@"; do
  if [ "$prev" = -m ]; then prev=""; continue; fi
  case $a in
    --yse|--secrte) echo "error: unknown flag: $a" >&2; exit 255 ;;
    -m) prev=-m ;;
    --help) help=1 ;;
  esac
done
if [ "$prev" = -m ]; then echo "error: flag needs an argument: 'm' in -m" >&2; exit 255; fi
if [ -n "$help" ]; then echo "Usage: pulumi ..."; exit 0; fi
${FAKES.pulumi}`;

        it("up, down, config and e2e print their usage on --help (exit 0) without installing, checking or running anything", () => {
            for (const [script, args, title] of [
                ["up.sh", ["--help"], "npm run up"],
                ["down.sh", ["--yes", "-h"], "npm run down"],
                ["config.sh", ["set", "--help"], "npm run config"],
                ["e2e.sh", ["--help"], "npm run e2e"],
            ] as const) {
                const r = box.run(script, [...args]);
                assert.equal(r.status, 0, `${script}: ${r.stderr}`);
                assert.ok(r.stdout.startsWith(`usage: ${title}`), `${script}: ${r.stdout}`);
                assert.match(r.stdout, /-h, --help/);
                if (script !== "e2e.sh") {
                    // The pass-through commands share one tail (lib.sh passthrough_usage): the pulumi command and the environment.
                    const pulumiCommand = { "up.sh": "up", "down.sh": "destroy", "config.sh": "config" }[script];
                    assert.match(r.stdout, new RegExp(`goes to \`pulumi ${pulumiCommand}\``));
                    assert.match(r.stdout, /\n {2}PULUMI_BACKEND_URL {4}the state backend/);
                    assert.doesNotMatch(r.stdout, /\n\n\n/, "one blank line between the parts");
                }
                assert.equal(r.stderr, "");
            }
            assert.deepEqual(box.calls(), [], "no tool ran: no preflight, no pulumi");
            assert.ok(!existsSync(path.join(box.project, ".pulumi-state")), "no backend folder");
        });

        it("a flag pulumi does not know stops up, down and config before the preflight and the stack; e2e takes no argument", () => {
            box.fake("pulumi", cobraPulumi);
            for (const [script, args, refusal] of [
                ["up.sh", ["--yse"], "npm run up: pulumi up refuses the arguments: unknown flag: --yse"],
                ["down.sh", ["--skip-preview", "--yse"], "npm run down: pulumi destroy refuses the arguments: unknown flag: --yse"],
                ["config.sh", ["set", "--secrte", "vault-ha:rootToken"], "npm run config: pulumi config refuses the arguments: unknown flag: --secrte"],
                ["e2e.sh", ["--keep"], "npm run e2e: unknown flag --keep"],
            ] as const) {
                const r = box.run(script, [...args]);
                assert.equal(r.status, 2, `${script}: ${r.stdout}${r.stderr}`);
                assert.equal(r.stdout, "");
                assert.ok(r.stderr.startsWith(`${refusal}\n\nusage: npm run `), `${script}: ${r.stderr}`);
            }
            const calls = box.calls();
            assert.deepEqual(
                calls.map((c) => c.args),
                ["up --help --yse", "destroy --help --skip-preview --yse", "config set --secrte vault-ha:rootToken --help"],
                "only pulumi's own parse of the flags: no preflight, no stack",
            );
            for (const c of calls) {
                assert.notEqual(c.cwd, box.project, "asked outside the project: no Pulumi.yaml there");
                assert.equal(c.backend, `file://${c.cwd}`, "against an empty backend of its own: no stack there");
            }
        });

        it("a value-taking flag given last without its value cannot turn the check into a real destroy", () => {
            box.fake("pulumi", cobraPulumi);
            const r = box.run("down.sh", ["--yes", "-m"]);
            assert.equal(r.status, 2, r.stdout + r.stderr);
            assert.ok(r.stderr.startsWith("npm run down: pulumi destroy refuses the arguments: flag needs an argument: 'm' in -m\n"), r.stderr);
            assert.deepEqual(
                box.calls().map((c) => c.args),
                ["destroy --help --yes -m"],
            );
        });

        it("npm run snapshot / restore: --help and a mistyped flag are answered before the tools are looked for", () => {
            for (const f of ["backup.sh", "backup.ts", "args.ts"]) copyFileSync(path.join(ROOT, "scripts", f), path.join(box.project, "scripts", f));
            const help = box.run("backup.sh", ["restore", "--help"]);
            assert.equal(help.status, 0, help.stderr);
            assert.match(help.stdout, /^usage: npm run restore -- \[flags\] FILE\n/);
            const wrong = box.run("backup.sh", ["snapshot", "--all"]);
            assert.equal(wrong.status, 2, wrong.stdout + wrong.stderr);
            assert.match(wrong.stderr, /^npm run snapshot: unknown flag --all\n\nusage: npm run snapshot/);
            assert.deepEqual(box.calls(), [], "neither pulumi nor kubectl, nor the preflight's fix for their absence");
        });
    });
});

describe("npm run render / charts as processes: the arguments", function () {
    this.timeout(60_000);
    const script = (name: string, ...args: string[]) =>
        spawnSync("node", ["--require", "ts-node/register/transpile-only", path.join(ROOT, "scripts", name), ...args], { cwd: ROOT, encoding: "utf8" });

    it("render refuses --manifest (exit 2, naming --manifests) instead of printing the values; charts answers --help", () => {
        const render = script("render.ts", "--manifest");
        assert.equal(render.status, 2, render.stderr);
        assert.equal(render.stdout, "");
        assert.match(render.stderr, /^npm run render: unknown flag --manifest \(did you mean --manifests\?\)\n\nusage: npm run render -- \[flags\]/);
        const charts = script("charts.ts", "--help");
        assert.equal(charts.status, 0, charts.stderr);
        assert.match(charts.stdout, /^usage: npm run charts\n/);
    });
});
