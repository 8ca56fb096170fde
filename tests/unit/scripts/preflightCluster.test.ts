/**
 * The preflight's check of the cluster a stack deployed (scripts/preflight.ts checkDeployedCluster): a vanished
 * cluster and a renamed one are FAIL with what to do; a present one, a new stack or an unreadable state are quiet.
 */
import { strict as assert } from "assert";
import { parseSettings } from "../../../components/config/settings";
import { checkDeployedCluster, Runner } from "../../../scripts/preflight";
import { applyCommands, toMap, toRaw } from "../config/fixLines";

const settings = parseSettings({}).settings;

/** Answers `pulumi stack output` with these outputs (undefined: the stack does not exist) and docker ps with these names. */
function world(outputs: Record<string, unknown> | undefined, containers: Record<string, string[]>, calls: string[] = []): Runner {
    return (command, args) => {
        calls.push(`${command} ${args.join(" ")}`);
        if (command === "pulumi") return outputs ? { ok: true, stdout: JSON.stringify(outputs) } : { ok: false, stdout: "" };
        if (command === "docker") {
            const name = /^label=io\.x-k8s\.kind\.cluster=(.+)$/.exec(args[3])?.[1] ?? "";
            return { ok: true, stdout: (containers[name] ?? []).map((n) => `${n}\n`).join("") };
        }
        return { ok: false, stdout: "" };
    };
}

describe("npm run preflight: the cluster the stack deployed", () => {
    it("FAIL when the stack's cluster has no node container left, with destroy then up", () => {
        const calls: string[] = [];
        const findings = checkDeployedCluster(settings, world({ clusterName: "vault", kubeconfig: "[secret]" }, {}, calls), "dev");
        assert.deepEqual(
            findings.map((f) => f.level !== "problem"),
            [false],
        );
        assert.match(findings[0].what, /^kind cluster vault is gone: stack dev deployed it and its state still holds it/);
        assert.equal(
            findings[0].fix,
            "pulumi destroy (it works with the cluster gone), then npm run up; restore a snapshot afterwards if you took one (npm run restore -- FILE)",
        );
        // Outputs without --show-secrets: nothing decrypted, no passphrase needed, no prompt.
        assert.deepEqual(calls, [
            "pulumi stack output --json --stack dev --non-interactive",
            "docker ps -a --filter label=io.x-k8s.kind.cluster=vault --format {{.Names}}",
        ]);
    });

    it("stopped node containers are not gone (docker ps -a lists them)", () => {
        const findings = checkDeployedCluster(settings, world({ clusterName: "vault" }, { vault: ["vault-control-plane"] }), "dev");
        assert.deepEqual(findings, [{ level: "ok", what: "kind cluster vault of stack dev exists" }]);
    });

    it("FAIL on a renamed cluster whose old one runs, naming both, the rebuild and the revert; --stack for other stacks", () => {
        const renamed = parseSettings({ clusterName: "vault2" }).settings;
        const findings = checkDeployedCluster(renamed, world({ clusterName: "vault" }, { vault: ["vault-control-plane"] }), "prod");
        assert.equal(findings[0].level, "problem");
        assert.match(findings[0].what, /^clusterName changed: vault → vault2; .* would delete vault and everything in it first$/);
        assert.equal(
            findings[0].fix,
            "keep it: PULUMI_STACK=prod npm run config -- set vault-ha:clusterName vault; or rebuild: take a snapshot (npm run snapshot), pulumi destroy --stack prod, npm run up, restore it (npm run restore -- FILE)",
        );
        // Applied to the stack's config as the user would, it gives back the name the cluster has.
        const keep = findings[0].fix!.slice("keep it: ".length).split("; or rebuild")[0];
        const kept = parseSettings(toRaw(applyCommands([keep], toMap({ clusterName: "vault2" }), "prod")), { stack: "prod" }).settings;
        assert.equal(kept.clusterName, "vault");
    });

    it("nothing to say for a stack never deployed, or when the outputs or Docker cannot be read", () => {
        assert.deepEqual(checkDeployedCluster(settings, world(undefined, {}), "dev"), []);
        assert.deepEqual(checkDeployedCluster(settings, world({}, {}), "dev"), [], "a stack without outputs");
        assert.deepEqual(
            checkDeployedCluster(settings, (c) => (c === "pulumi" ? { ok: true, stdout: "" } : { ok: false, stdout: "" }), "dev"),
            [],
        );
        assert.deepEqual(
            checkDeployedCluster(settings, (c) => (c === "pulumi" ? { ok: true, stdout: '{"clusterName":"vault"}' } : { ok: false, stdout: "" }), "dev"),
            [],
        );
    });
});
