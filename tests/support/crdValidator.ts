/**
 * Custom resources against the openAPIV3Schema of the CRDs a chart renders, validated by ajv.
 *
 * Validation is as strict as the API server with strict field validation (kubectl's default --validate=strict):
 * an unknown field is an error, not silently pruned. Kubernetes' schema extensions are taken as the API server
 * reads them: x-kubernetes-list-type set/map lists must not repeat items, x-kubernetes-preserve-unknown-fields
 * allows unknown fields. CEL rules (x-kubernetes-validations) cannot be evaluated here: a resource that reaches one
 * fails with a message saying so, unless the validator is given a table of those rules, each (by its exact text)
 * with a TypeScript predicate that says what the rule says; a reached rule the table does not hold still fails.
 * As the API server does, the schema's defaults are applied first (to a copy): the rules see them.
 */
import Ajv, { ErrorObject, ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { describeManifest, Manifest } from "./helm";

export interface CustomResource {
    /** What made it: the Pulumi resource, or the code that submits it. */
    origin: string;
    manifest: Manifest;
}

type Schema = Record<string, any>;

/** A CEL rule as a CRD states it (apiextensions.k8s.io/v1 ValidationRule). */
export interface CelRule {
    rule: string;
    message?: string;
    messageExpression?: string;
    fieldPath?: string;
    reason?: string;
    optionalOldSelf?: boolean;
}

/**
 * What a CEL rule says, in TypeScript: true when `self` (the value at the rule's node) satisfies it. Keyed by the
 * rule's exact text, so that a rule that changes upstream is no longer found and fails the validation.
 */
export type CelTable = ReadonlyMap<string, (self: any) => boolean>;

/** Every object with declared properties rejects others, unless Kubernetes is told to keep unknown fields there. */
function strict(schema: Schema): Schema {
    if (Array.isArray(schema)) return schema.map(strict) as unknown as Schema;
    if (schema === null || typeof schema !== "object") return schema;
    const out: Schema = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === "enum" || k === "default" || k === "example" ? v : strict(v)]));
    if (out.properties && out.additionalProperties === undefined && out["x-kubernetes-preserve-unknown-fields"] !== true) out.additionalProperties = false;
    return out;
}

function newAjv(celTable: CelTable | undefined, reached: Set<string>): Ajv {
    // The API server applies the schema's defaults before it validates (a backendRef's kind Service, a listener's TLS
    // mode): ajv does too, on the copy problems() validates.
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, useDefaults: true });
    addFormats(ajv);
    // Annotations that do not constrain a single object's value.
    for (const keyword of [
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
        "x-kubernetes-map-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-embedded-resource",
    ]) {
        ajv.addKeyword({ keyword });
    }
    ajv.addKeyword({
        keyword: "x-kubernetes-list-type",
        type: "array",
        schemaType: "string",
        // "set": items are unique scalars; "map": items are unique by their x-kubernetes-list-map-keys.
        validate: function unique(listType: string, data: unknown[], parentSchema?: Schema) {
            if (listType === "atomic") return true;
            const keys: string[] = parentSchema?.["x-kubernetes-list-map-keys"] ?? [];
            const identity = (item: any) => JSON.stringify(listType === "map" ? keys.map((k) => item?.[k]) : item);
            const seen = new Set(data.map(identity));
            if (seen.size === data.length) return true;
            (unique as any).errors = [
                {
                    keyword: "x-kubernetes-list-type",
                    message: `repeats an item of a list of type ${listType}${keys.length ? ` keyed by ${keys.join(", ")}` : ""}`,
                    params: {},
                },
            ];
            return false;
        },
        errors: true,
    });
    ajv.addKeyword({
        keyword: "x-kubernetes-validations",
        // After every other keyword at the node, so that `self` holds the defaults set below it.
        post: true,
        validate: function cel(rules: CelRule[], data: unknown) {
            const errors = celTable ? rules.flatMap((r) => celProblem(celTable, reached, r, data)) : rules.map(cannotEvaluate);
            (cel as any).errors = errors;
            return errors.length === 0;
        },
        errors: true,
    });
    return ajv;
}

function cannotEvaluate(r: CelRule): Partial<ErrorObject> {
    return {
        keyword: "x-kubernetes-validations",
        message: `has a CEL rule this test cannot evaluate: check it by hand, then teach the test (${r.rule})`,
        params: {},
    };
}

function celProblem(table: CelTable, reached: Set<string>, r: CelRule, self: unknown): Partial<ErrorObject>[] {
    reached.add(r.rule);
    const holds = table.get(r.rule);
    if (!holds) {
        return [
            { keyword: "x-kubernetes-validations", message: `has a CEL rule the table does not hold: check it by hand, then add it (${r.rule})`, params: {} },
        ];
    }
    let failure: string;
    try {
        if (holds(self)) return [];
        failure = "";
    } catch (e) {
        // CEL fails a rule whose evaluation errs (an absent field read, for one).
        failure = ` (evaluation error: ${(e as Error).message})`;
    }
    const at = r.fieldPath ? ` at ${r.fieldPath}` : "";
    return [{ keyword: "x-kubernetes-validations", message: `fails the CEL rule${at}: ${r.message ?? r.messageExpression ?? r.rule}${failure}`, params: {} }];
}

function fieldOf(e: ErrorObject): string {
    const at = e.instancePath
        .split("/")
        .slice(1)
        .map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
    const field = at.reduce((s, k) => (/^\d+$/.test(k) ? `${s}[${k}]` : s ? `${s}.${k}` : k), "");
    if (e.keyword === "additionalProperties") return `${field ? `${field}.` : ""}${e.params.additionalProperty}: unknown field`;
    if (e.keyword === "required") return `${field ? `${field}.` : ""}${e.params.missingProperty}: required`;
    if (e.keyword === "enum") return `${field}: ${e.message} (${(e.params.allowedValues as unknown[]).join(", ")})`;
    return `${field || "(the object)"}: ${e.message}`;
}

/** Validates custom resources against the CRDs a release renders; problems name the release, CRD, resource and field. */
export class CrdValidator {
    private readonly reachedRules = new Set<string>();
    private readonly ajv: Ajv;
    private readonly compiled = new Map<string, ValidateFunction>();

    /** With `celTable`, the CEL rules it holds are checked by its predicates; without, any reached rule fails. */
    constructor(
        private readonly release: string,
        private readonly crds: Manifest[],
        celTable?: CelTable,
    ) {
        this.ajv = newAjv(celTable, this.reachedRules);
    }

    /** The CEL rules (by text) that the resources validated so far have reached, when there is a table. */
    get reached(): ReadonlySet<string> {
        return this.reachedRules;
    }

    problems(cr: CustomResource): string[] {
        const m = cr.manifest;
        const [group, version] = m.apiVersion.includes("/") ? m.apiVersion.split("/") : ["", m.apiVersion];
        const name = `${m.kind} ${m.metadata.namespace ? `${m.metadata.namespace}/` : ""}${m.metadata.name} (${cr.origin})`;
        const crd = this.crds.find((c) => c.spec.group === group && c.spec.names.kind === m.kind);
        if (!crd) return [`release ${this.release}: no CRD for ${m.kind} in group ${group}: ${name}`];
        const where = `release ${this.release}: ${describeManifest(crd)} ${version}`;
        const served = crd.spec.versions.find((v: any) => v.name === version && v.served);
        if (!served) return [`${where}: version ${version} is not served, so it refuses ${name}`];
        const problems: string[] = [];
        if (crd.spec.scope === "Namespaced" && !m.metadata.namespace)
            problems.push(`${where} rejects ${name}: metadata.namespace: required, ${m.kind} is namespaced`);
        if (crd.spec.scope === "Cluster" && m.metadata.namespace) problems.push(`${where} rejects ${name}: metadata.namespace: ${m.kind} is cluster-scoped`);
        const key = `${crd.metadata.name}/${version}`;
        let validate = this.compiled.get(key);
        if (!validate) {
            validate = this.ajv.compile(strict(served.schema.openAPIV3Schema));
            this.compiled.set(key, validate);
        }
        if (!validate(structuredClone(m))) problems.push(...(validate.errors ?? []).map((e) => `${where} rejects ${name}: ${fieldOf(e)}`));
        return problems;
    }
}
