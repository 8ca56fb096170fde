/**
 * npm run preflight's command line (scripts/preflight.ts), declared for the strict parser (scripts/args.ts): its own
 * file so that the usage can be tested without loading the preflight.
 */
import { CommandSpec } from "./args";

export const PREFLIGHT_ARGS: CommandSpec = {
    command: "npm run preflight",
    summary: "checks the machine (or, with cluster: existing, the cluster) and the stack's configuration before an up",
    flags: [
        { name: "stack", short: "s", value: "NAME", help: "the stack to check (default: $PULUMI_STACK, else dev)" },
        { name: "tools", value: "LIST", help: "only Node.js and these tools, comma-separated: docker,kind,kubectl,pulumi" },
        { name: "destroy", help: "only the tools a destroy of the stack runs, by its cluster mode" },
    ],
};
