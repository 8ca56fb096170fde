/**
 * A small writer for the subset of HCL that Vault's server configuration uses: attributes and labelled blocks.
 * Config is built as data, so that callers (the TLS switch, tests) add or read attributes instead of editing text.
 */
export type HclValue = string | number | boolean;

export interface HclBody {
    attributes?: Record<string, HclValue>;
    blocks?: HclBlock[];
}

export interface HclBlock extends HclBody {
    type: string;
    labels?: string[];
}

function literal(value: HclValue): string {
    if (typeof value !== "string") return String(value);
    // The Vault chart passes its config through Helm's `tpl`, and HCL interpolates `${`: neither may reach the output.
    if (value.includes("{{") || value.includes("${")) {
        throw new Error(`HCL string ${JSON.stringify(value)} contains a template marker ("{{" or "\${")`);
    }
    return JSON.stringify(value);
}

function renderBody(body: HclBody, indent: string): string[] {
    const lines: string[] = [];
    const attributes = Object.entries(body.attributes ?? {});
    const width = Math.max(0, ...attributes.map(([name]) => name.length));
    for (const [name, value] of attributes) {
        lines.push(`${indent}${name.padEnd(width)} = ${literal(value)}`);
    }
    for (const block of body.blocks ?? []) {
        if (lines.length > 0) lines.push("");
        const head = [block.type, ...(block.labels ?? []).map(literal)].join(" ");
        const inner = renderBody(block, indent + "  ");
        if (inner.length === 0) {
            lines.push(`${indent}${head} {}`);
        } else {
            lines.push(`${indent}${head} {`, ...inner, `${indent}}`);
        }
    }
    return lines;
}

export function renderHcl(body: HclBody): string {
    return renderBody(body, "").join("\n") + "\n";
}
