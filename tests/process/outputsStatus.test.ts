/**
 * npm run outputs and npm run status as processes (scripts/outputs.sh, status.sh) in a copy of the project with fake
 * tools: the stack and backend of npm run up from a plain shell, `eval "$(npm run --silent outputs)"` working, no
 * secret asked for or printed, and the arguments answered before anything runs.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { vaultEnv } from "../../components/vault/exposure";
import { FAKES, ROOT, sandbox, Sandbox } from "../unit/scripts/sandbox";

const CA = "-----BEGIN CERTIFICATE-----\nTUlJQ2Zha2VDQQ==\n-----END CERTIFICATE-----\n";
const SCRIPTS = ["outputs.sh", "outputs.ts", "status.sh", "status.ts", "statusReport.ts", "backup.ts"];

describe("npm run outputs / status (scripts/*.sh with fake tools)", function () {
    this.timeout(60_000);
    let box: Sandbox;
    let outputsFile: string;
    beforeEach(() => {
        box = sandbox();
        for (const f of SCRIPTS) copyFileSync(path.join(ROOT, "scripts", f), path.join(box.project, "scripts", f));
        outputsFile = path.join(box.dir, "outputs.json");
        // `pulumi stack output --json` as Pulumi prints it without --show-secrets: every secret blinded.
        box.fake(
            "pulumi",
            `${FAKES.pulumi}
case "$1 $2" in "stack output") [ -f "${outputsFile}" ] || { echo "error: no stack named 'dev' found" >&2; exit 255; }; cat "${outputsFile}" ;; esac`,
        );
    });
    afterEach(() => box.remove());

    const deployed = (tls: boolean, extra: object = {}) =>
        writeFileSync(
            outputsFile,
            JSON.stringify({
                vaultAddr: "https://localhost:30000",
                vaultEnv: vaultEnv("https://localhost:30000", tls, tls ? "vault.vault.svc" : undefined),
                ...(tls ? { caCert: CA } : {}),
                rootToken: "[secret]",
                kubeconfig: "[secret]",
                ...extra,
            }),
        );

    /** `eval "$(npm run --silent outputs ARGS)"` in a new bash, started in box.dir (npm's INIT_CWD), then prints the variables. */
    const evalOutputs = (args: string[] = [], env: Record<string, string> = {}) =>
        spawnSync(
            "bash",
            [
                "-c",
                `set -e; eval "$("$0" "$@")"; printf '%s|%s|%s\\n' "\${VAULT_ADDR-unset}" "\${VAULT_CACERT-unset}" "\${VAULT_TLS_SERVER_NAME-unset}"`,
                path.join(box.project, "scripts", "outputs.sh"),
                ...args,
            ],
            { cwd: box.dir, encoding: "utf8", env: { PATH: box.bin, HOME: path.join(box.dir, "home"), INIT_CWD: box.dir, ...env } },
        );

    it("eval sets VAULT_ADDR, VAULT_CACERT (the CA file it wrote, by absolute path) and VAULT_TLS_SERVER_NAME; no secret asked for", () => {
        deployed(true);
        const r = evalOutputs();
        assert.equal(r.status, 0, r.stderr);
        const ca = path.join(box.dir, "vault-ca.pem");
        assert.equal(r.stdout, `https://localhost:30000|${ca}|vault.vault.svc\n`);
        assert.equal(readFileSync(ca, "utf8"), CA);
        assert.match(r.stderr, /wrote the CA that signed Vault's certificate to /);
        // How to get the root token, with the backend and from the project folder, but not the token.
        assert.ok(
            r.stderr.includes(
                `the root token is not printed; to log in with it: (cd '${box.project}' && PULUMI_BACKEND_URL='file://${box.project}/.pulumi-state' pulumi stack output rootToken --show-secrets --stack dev) | vault login -no-print -`,
            ),
            r.stderr,
        );
        const calls = box.calls().filter((c) => c.tool === "pulumi");
        assert.deepEqual(
            calls.map((c) => [c.args, c.cwd, c.backend]),
            [["stack output --json --stack dev --non-interactive", box.project, `file://${box.project}/.pulumi-state`]],
            "the outputs without --show-secrets: nothing decrypted",
        );
    });

    it("--ca-file (relative to where npm was started, any characters), PULUMI_STACK, and the port-forward a ClusterIP Vault needs", () => {
        deployed(true, { portForwardCommand: "kubectl --context kind-vault -n vault port-forward service/vault-active 8200:8200" });
        const r = evalOutputs(["--ca-file", "my ca's.pem"], { PULUMI_STACK: "other" });
        assert.equal(r.status, 0, r.stderr);
        const ca = path.join(box.dir, "my ca's.pem");
        assert.equal(r.stdout, `https://localhost:30000|${ca}|vault.vault.svc\n`);
        assert.equal(readFileSync(ca, "utf8"), CA);
        assert.match(r.stderr, /VAULT_ADDR answers only while the port-forward runs: kubectl --context kind-vault -n vault port-forward/);
        assert.deepEqual(
            box
                .calls()
                .filter((c) => c.tool === "pulumi")
                .map((c) => c.args),
            ["stack output --json --stack other --non-interactive"],
        );
    });

    it("tls: false: only VAULT_ADDR, no CA file", () => {
        deployed(false);
        const r = evalOutputs();
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, "https://localhost:30000|unset|unset\n");
        assert.ok(!existsSync(path.join(box.dir, "vault-ca.pem")));
        assert.match(r.stderr, /tls: false: no CA to write/);
    });

    it("a stack not deployed, or no Pulumi CLI: exit 1 and nothing on stdout for eval to run", () => {
        const notDeployed = box.run("outputs.sh");
        assert.equal(notDeployed.status, 1);
        assert.equal(notDeployed.stdout, "");
        assert.match(
            notDeployed.stderr,
            /ERROR: could not read the outputs of stack dev \(pulumi stack output failed: error: no stack named 'dev' found\); has it been deployed \(npm run up\)\?/,
        );
        spawnSync("rm", [path.join(box.bin, "pulumi")]);
        const noPulumi = box.run("outputs.sh");
        assert.notEqual(noPulumi.status, 0);
        assert.equal(noPulumi.stdout, "", "the preflight's findings go to stderr");
        assert.match(noPulumi.stderr, /FAIL pulumi: not found/);
    });

    it("status: a stack not deployed is exit 1 with the reason; --json says so as JSON", () => {
        box.fake("kubectl", FAKES.kubectl);
        const r = box.run("status.sh");
        assert.equal(r.status, 1);
        assert.match(r.stderr, /vault-ha status: ERROR: could not read the outputs of stack dev/);
        const json = box.run("status.sh", ["--json"]);
        assert.equal(json.status, 1);
        assert.deepEqual(Object.keys(JSON.parse(json.stdout)), ["stack", "healthy", "error"]);
        assert.deepEqual(
            box
                .calls()
                .filter((c) => c.tool === "pulumi")
                .map((c) => c.args),
            ["stack output --json --show-secrets --stack dev --non-interactive", "stack output --json --show-secrets --stack dev --non-interactive"],
        );
    });

    it("--help and a mistyped flag are answered before the tools are looked for", () => {
        for (const [script, title] of [
            ["outputs.sh", "npm run outputs"],
            ["status.sh", "npm run status"],
        ]) {
            const help = box.run(script, ["--help"]);
            assert.equal(help.status, 0, help.stderr);
            assert.ok(help.stdout.startsWith(`usage: ${title} -- [flags]\n`), help.stdout);
            const wrong = box.run(script, ["--jsno"]);
            assert.equal(wrong.status, 2, wrong.stdout + wrong.stderr);
            assert.ok(wrong.stderr.startsWith(`${title}: unknown flag --jsno`), wrong.stderr);
        }
        assert.deepEqual(box.calls(), [], "neither pulumi nor kubectl, nor the preflight");
    });
});
