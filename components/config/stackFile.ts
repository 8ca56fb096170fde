/**
 * Reads a stack's settings straight from Pulumi.<stack>.yaml, for tools that run without the Pulumi CLI
 * (`npm run render`, `npm run preflight`). The program itself reads them through the Pulumi runtime instead.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseSettings, ParsedSettings, rawFromStackConfig } from "./settings";

export function stackName(argv: string[] = process.argv.slice(2)): string {
    const flag = argv.findIndex((a) => a === "--stack" || a === "-s");
    return (flag >= 0 ? argv[flag + 1] : undefined) ?? process.env.PULUMI_STACK ?? "dev";
}

export function readStackSettings(stack: string, projectDir = path.resolve(__dirname, "../..")): ParsedSettings {
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    const config = existsSync(file) ? (parse(readFileSync(file, "utf8"))?.config as Record<string, unknown>) : {};
    return parseSettings(rawFromStackConfig(config));
}
