/**
 * Every fix line the configuration readers print is run (tests/unit/config/fixLines.ts) on the config it was printed
 * for, and the config read again: the problem it fixes is gone, and a warning's fix silences the warning. Each
 * alternative of a fix ("..., or ...") is run on its own.
 */
import { strict as assert } from "assert";
import { checkConfig, Problem } from "../../../components/config/settings";
import { CONFIG_CASES, SETTINGS_CASES } from "./configCases";
import { applyCommands, assertFixRemoves, commandsOf, ConfigMap, toMap } from "./fixLines";

function read(config: ConfigMap, stack?: string): { problems: string[]; warnings: string[] } {
    const { issues, warnings } = checkConfig(config, { stack });
    return { problems: issues.map((issue: Problem) => issue.what), warnings };
}

const cases: Array<{ what: string; config: ConfigMap; stack?: string }> = [
    ...Object.entries(SETTINGS_CASES).map(([what, c]) => ({ what, config: toMap(c.raw), stack: c.stack })),
    ...Object.entries(CONFIG_CASES).map(([what, c]) => ({ what, config: c.entries, stack: c.stack })),
];

describe("fix lines, applied: the mistake is gone when the printed fix is run", () => {
    for (const c of cases) {
        const { issues, warnings } = checkConfig(c.config, { stack: c.stack });
        if (issues.length === 0 && warnings.length === 0) continue;
        it(c.what, () => {
            for (const issue of issues) assertFixRemoves(issue.what, issue.fix, c.config, c.stack);
            if (issues.length > 0) return;
            for (const warning of warnings) {
                for (const commands of commandsOf(warning).filter((found) => found.length > 0)) {
                    const after = read(applyCommands(commands, c.config, c.stack), c.stack);
                    assert.deepEqual(after.problems, [], `"${commands.join(" && ")}" makes the config invalid`);
                    assert.ok(!after.warnings.includes(warning), `"${commands.join(" && ")}" leaves the warning "${warning}"`);
                }
            }
        });
    }
});
