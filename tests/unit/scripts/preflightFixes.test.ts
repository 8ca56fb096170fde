/**
 * The preflight's own fix lines and its configuration lines (scripts/preflight.ts): a busy NodePort is fixed by a
 * line that, applied to the stack's config the way `npm run config` would, gives settings the program accepts; and
 * the preflight says what the settings loader says, its warnings or that the configuration is fine.
 */
import { strict as assert } from "assert";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parseSettings } from "../../../components/config/settings";
import { checkPorts, checkStackSettings, Runner } from "../../../scripts/preflight";
import { applyCommands, commandsOf, toMap, toRaw } from "../config/fixLines";

const noCluster: Runner = () => ({ ok: true, stdout: "" });
const busy =
    (...ports: number[]) =>
    async (port: number) =>
        ports.includes(port);

/** Applies each command of the fix's first alternative to the raw settings, then loads them as the program does. */
function applied(raw: Record<string, string>, fix: string, stack = "dev") {
    const [commands] = commandsOf(fix);
    assert.ok(commands.length > 0, `no npm run config command in: ${fix}`);
    return parseSettings(toRaw(applyCommands(commands, toMap(raw), stack)), { stack }).settings;
}

describe("npm run preflight: the fix for a busy NodePort", () => {
    it("sets the whole list item by item with the busy port replaced, and the program accepts it", async () => {
        const raw = { nodePorts: "[30000,30001]" };
        const findings = await checkPorts(parseSettings(raw).settings, noCluster, busy(30001));
        const failed = findings.filter((f) => f.level === "problem");
        assert.equal(failed.length, 1);
        assert.equal(failed[0].what, "port 30001 on localhost is in use");
        assert.match(
            failed[0].fix!,
            /choose another port: npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts\[0\]' 30000 && npm run config -- set --path 'vault-ha:nodePorts\[1\]' 30002$/,
        );
        const fixed = applied(raw, failed[0].fix!);
        assert.deepEqual(fixed.nodePorts, [30000, 30002]);
        assert.equal(fixed.uiNodePort, 30000, "the UI's port was free: it stays");
    });

    it("moves uiNodePort with its port, skipping ports in use and those of other settings; PULUMI_STACK names the stack", async () => {
        const raw = { nodePorts: "[30000,30001,30003]", uiNodePort: "30000" };
        const findings = await checkPorts(parseSettings(raw).settings, noCluster, busy(30000, 30001, 30002), "prod");
        const failed = findings.filter((f) => f.level === "problem");
        assert.deepEqual(
            failed.map((f) => f.what),
            ["port 30000 on localhost is in use", "port 30001 on localhost is in use"],
        );
        // One fix for all busy NodePorts: applying the fix of one does not undo the other's.
        const choice = (fix: string) => fix.slice(fix.indexOf("choose another port: "));
        assert.equal(choice(failed[0].fix!), choice(failed[1].fix!));
        assert.match(
            failed[0].fix!,
            new RegExp(
                [
                    " PULUMI_STACK=prod npm run config -- rm vault-ha:nodePorts",
                    "PULUMI_STACK=prod npm run config -- set --path 'vault-ha:nodePorts\\[0\\]' 30004",
                    "PULUMI_STACK=prod npm run config -- set --path 'vault-ha:nodePorts\\[1\\]' 30005",
                    "PULUMI_STACK=prod npm run config -- set --path 'vault-ha:nodePorts\\[2\\]' 30003",
                    "PULUMI_STACK=prod npm run config -- set vault-ha:uiNodePort 30004$",
                ].join(" && "),
            ),
        );
        const fixed = applied(raw, failed[0].fix!, "prod");
        assert.deepEqual(fixed.nodePorts, [30004, 30005, 30003]);
        assert.equal(fixed.uiNodePort, 30004);
    });

    it("with no NodePort free, says what to choose instead of a value that would be refused", async () => {
        const findings = await checkPorts(parseSettings({}).settings, noCluster, async () => true);
        const nodePort = findings.find((f) => f.what === "port 30000 on localhost is in use")!;
        assert.match(
            nodePort.fix!,
            /npm run config -- rm vault-ha:nodePorts && npm run config -- set --path 'vault-ha:nodePorts\[0\]' <free port from 30000-32767> \(one set --path per port, uiNodePort one of them\)$/,
        );
    });
});

describe("npm run preflight: the configuration", () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "vault-ha-preflight-settings-"))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("prints the loader's warnings as warnings", () => {
        writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config:\n  vault-ha:vaultReplicas: 4\n  vault-ha:workers: 4\n");
        const { settings, findings } = checkStackSettings("dev", dir);
        assert.equal(settings.vaultReplicas, 4);
        assert.equal(findings.length, 1);
        assert.equal(findings[0].level, "warn");
        assert.match(findings[0].what, /^configuration: vault-ha:vaultReplicas = 4: an even raft cluster/);
    });

    it("says the configuration is fine when it is", () => {
        writeFileSync(path.join(dir, "Pulumi.prod.yaml"), "config:\n  vault-ha:workers: 3\n");
        assert.deepEqual(checkStackSettings("prod", dir).findings, [
            { level: "ok", what: "configuration: the settings of stack prod (Pulumi.prod.yaml) are valid, with no warning" },
        ]);
    });

    it("refuses settings the program would refuse, before any check runs", () => {
        writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config:\n  vault-ha:workers: many\n");
        assert.throws(() => checkStackSettings("dev", dir), /workers/);
    });
});
