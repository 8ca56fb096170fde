/**
 * The scripts' command lines (scripts/args.ts and each script's spec): --help answers with the usage and exit 0, a
 * flag the script does not know is refused with exit 2, naming it, before the script does anything.
 */
import { strict as assert } from "assert";
import { CommandSpec, parseArgs, ParsedArgs, runWithArgs, usage, UsageError } from "../../../scripts/args";
import { main as backupMain, RESTORE_ARGS, SNAPSHOT_ARGS } from "../../../scripts/backup";
import { CHARTS_ARGS } from "../../../scripts/charts";
import { main as renderMain, RENDER_ARGS } from "../../../scripts/render";
import { PREFLIGHT_ARGS } from "../../../scripts/preflightArgs";

const SPEC: CommandSpec = {
    command: "npm run thing",
    summary: "Does a thing.",
    flags: [
        { name: "stack", short: "s", value: "NAME", help: "the stack" },
        { name: "manifests", help: "manifests instead" },
    ],
    operands: [{ name: "FILE", help: "the file" }],
};

const parsed = (argv: string[]) => parseArgs(argv, SPEC) as ParsedArgs;
const refusal = (argv: string[], spec = SPEC): string => {
    try {
        parseArgs(argv, spec);
    } catch (err) {
        assert.ok(err instanceof UsageError, String(err));
        return err.message;
    }
    assert.fail(`${argv.join(" ")} was accepted`);
};

/** Runs a main with its output and messages captured. */
async function capture(run: (io: { out: (t: string) => void; error: (t: string) => void }) => Promise<number>) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run({ out: (t) => void out.push(t), error: (t) => void err.push(t) });
    return { code, out: out.join(""), err: err.join("\n") };
}

describe("the scripts' arguments (scripts/args.ts)", () => {
    it("reads flags before, between and after operands, --flag=value, -s value, and the last of a repeated flag", () => {
        assert.deepEqual(parsed(["--stack", "prod", "a.snap"]), { flags: { stack: "prod" }, operands: ["a.snap"] });
        assert.deepEqual(parsed(["a.snap", "--stack=prod", "--manifests"]), { flags: { stack: "prod", manifests: true }, operands: ["a.snap"] });
        assert.deepEqual(parsed(["-s", "dev", "--stack", "prod"]), { flags: { stack: "prod" }, operands: [] });
        assert.deepEqual(parsed(["--", "--manifests"]), { flags: {}, operands: ["--manifests"] }, "after --, an operand");
        assert.deepEqual(parsed(["-"]), { flags: {}, operands: ["-"] });
    });

    it("refuses what it does not know, naming it, with the nearest flag when one is close", () => {
        assert.equal(refusal(["--manifest"]), "unknown flag --manifest (did you mean --manifests?)");
        assert.equal(refusal(["--bogus=1"]), "unknown flag --bogus");
        assert.equal(refusal(["-x"]), "unknown flag -x");
        assert.equal(refusal(["--manifests=yes"]), "--manifests takes no value (got --manifests=yes)");
        assert.equal(refusal(["--stack"]), "--stack needs a value: --stack NAME");
        assert.equal(refusal(["--stack", "--manifests"]), "--stack needs a value: --stack NAME", "a forgotten value, not a stack named --manifests");
        assert.equal(refusal(["--stack="]), "--stack needs a value: --stack NAME");
        assert.equal(refusal(["a", "b", "c"]), "unexpected arguments b c");
        assert.equal(refusal([], RESTORE_ARGS), "FILE is missing: the snapshot: backups/<project>.<stack>/<time>.snap");
    });

    it("answers -h and --help whatever else is there, but not after --", () => {
        assert.deepEqual(parseArgs(["--help"], SPEC), { help: true });
        assert.deepEqual(parseArgs(["--bogus", "-h"], SPEC), { help: true });
        assert.deepEqual(parseArgs(["--", "--help"], SPEC), { flags: {}, operands: ["--help"] });
    });

    it("prints a usage that names every flag, its value and the operands", () => {
        const text = usage(SPEC);
        assert.match(text, /^usage: npm run thing -- \[flags\] \[FILE\]\n\nDoes a thing\.\n/);
        for (const label of ["-s, --stack NAME", "--manifests", "-h, --help", "FILE"]) assert.ok(text.includes(label), label);
        assert.equal(usage(CHARTS_ARGS).split("\n")[0], "usage: npm run charts");
        const summary = usage(RENDER_ARGS).split("\n\n")[1].split("\n");
        assert.ok(summary.length > 1 && summary.every((line) => line.length <= 100), "the summary is wrapped at 100 columns");
    });

    it("runs main only with good arguments: --help is exit 0 on stdout, a mistake exit 2 on stderr with the usage", async () => {
        let ran = 0;
        const main = async () => (ran++, 0);
        const help = await capture((io) => runWithArgs(["--help"], CHARTS_ARGS, main, io));
        assert.deepEqual([help.code, help.err, ran], [0, "", 0]);
        assert.equal(help.out, usage(CHARTS_ARGS));
        const wrong = await capture((io) => runWithArgs(["--force"], CHARTS_ARGS, main, io));
        assert.deepEqual([wrong.code, wrong.out, ran], [2, "", 0]);
        assert.equal(wrong.err, `npm run charts: unknown flag --force\n\n${usage(CHARTS_ARGS).trimEnd()}`);
        assert.equal(await runWithArgs([], CHARTS_ARGS, main), 0);
        assert.equal(ran, 1);
    });
});

describe("each script's arguments", () => {
    it("npm run render: --help names --stack and --manifests; --manifest is refused instead of rendering the values", async () => {
        const help = await capture((io) => renderMain(["--help"], io.out, { error: io.error }));
        assert.equal(help.code, 0);
        assert.match(help.out, /^usage: npm run render -- \[flags\]/);
        assert.match(help.out, /-s, --stack NAME/);
        assert.match(help.out, /--manifests/);
        for (const argv of [["--manifest"], ["--stack"], ["--stack", "prod", "extra"]]) {
            const wrong = await capture((io) => renderMain(argv, io.out, { error: io.error }));
            assert.equal(wrong.code, 2, argv.join(" "));
            assert.equal(wrong.out, "", "nothing rendered");
            assert.match(wrong.err, /^npm run render: .*\n\nusage: npm run render/);
        }
    });

    it("npm run snapshot / restore: each its own usage; a mistake is refused before the Pulumi CLI is asked anything", async () => {
        const snapshot = await capture((io) => backupMain(["snapshot", "--help"], io));
        assert.deepEqual([snapshot.code, snapshot.out], [0, usage(SNAPSHOT_ARGS)]);
        const restore = await capture((io) => backupMain(["restore", "-h", "--stack", "dev"], io));
        assert.deepEqual([restore.code, restore.out], [0, usage(RESTORE_ARGS)]);
        assert.match(restore.out, /^usage: npm run restore -- \[flags\] FILE$/m);
        // Exit 2 comes only from the arguments: reading the stack's outputs or anything later fails with 1.
        for (const argv of [["snapshot", "--force"], ["snapshot", "extra.snap"], ["restore"], ["restore", "a.snap", "--stack"], ["backup"]]) {
            const wrong = await capture((io) => backupMain(argv, io));
            assert.equal(wrong.code, 2, argv.join(" "));
            assert.equal(wrong.out, "");
            assert.match(wrong.err, /usage: npm run (snapshot|restore)/);
        }
    });

    it("npm run preflight: the forms scripts/lib.sh calls it with are accepted; a mistyped flag is refused", () => {
        for (const argv of [["--stack", "prod"], ["--destroy", "--stack", "prod"], ["--tools", "pulumi,kind"], []]) {
            assert.ok(!("help" in parseArgs(argv, PREFLIGHT_ARGS)), argv.join(" "));
        }
        assert.throws(
            () => parseArgs(["--tool", "kind"], PREFLIGHT_ARGS),
            (err: Error) => err instanceof UsageError && /unknown flag --tool.*--tools/.test(err.message),
        );
        assert.throws(() => parseArgs(["--stack"], PREFLIGHT_ARGS), UsageError);
        assert.match(usage(PREFLIGHT_ARGS), /--destroy/);
    });
});
