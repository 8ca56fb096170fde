/**
 * Checks that every key path in a values object exists in a chart's reference values.yaml, and that its type is one
 * the chart's JSON schema allows. Helm accepts unknown keys silently, so a typo would otherwise be a silent no-op.
 */
type Json = unknown;

export interface ChartReference {
    values: Record<string, Json>;
    schema?: Record<string, Json>;
    /** Paths the chart's templates read although values.yaml leaves them out (commented out or undocumented). */
    readByTemplates?: string[];
    /** Paths whose value is a free-form map (labels, selectors): their keys are the user's, not the chart's. */
    freeForm?: string[];
}

const isMap = (v: Json): v is Record<string, Json> => v !== null && typeof v === "object" && !Array.isArray(v);

function jsonType(v: Json): string[] {
    if (v === null) return ["null"];
    if (Array.isArray(v)) return ["array"];
    if (typeof v === "number") return Number.isInteger(v) ? ["integer", "number"] : ["number"];
    return [typeof v];
}

function schemaAt(schema: Record<string, Json> | undefined, path: string[]): Record<string, Json> | undefined {
    let node: Json = schema;
    for (const key of path) {
        if (!isMap(node) || !isMap(node.properties)) return undefined;
        node = node.properties[key];
    }
    return isMap(node) ? node : undefined;
}

export function unknownChartKeys(sent: Record<string, Json>, ref: ChartReference): string[] {
    const problems: string[] = [];
    const walk = (ours: Record<string, Json>, theirs: Json, path: string[]) => {
        for (const [key, value] of Object.entries(ours)) {
            const here = [...path, key];
            const dotted = here.join(".");
            if (ref.readByTemplates?.includes(dotted)) continue;
            if (!isMap(theirs) || !(key in theirs)) {
                problems.push(`${dotted}: not a key of the chart`);
                continue;
            }
            const allowed = schemaAt(ref.schema, here)?.type;
            if (allowed !== undefined) {
                const types = Array.isArray(allowed) ? allowed : [allowed];
                if (!jsonType(value).some((t) => types.includes(t))) {
                    problems.push(`${dotted}: ${JSON.stringify(value)} is not of the chart's type ${JSON.stringify(allowed)}`);
                }
            }
            const reference = theirs[key];
            if (isMap(value) && isMap(reference) && Object.keys(reference).length > 0 && !ref.freeForm?.includes(dotted)) {
                walk(value, reference, here);
            }
        }
    };
    walk(sent, ref.values, []);
    return problems;
}
