/**
 * The README's configuration table, rendered from the setting declarations: one row per declaration that starts a row,
 * in declaration order, each default as the code applies it. A test keeps the README's table equal to this.
 */
import { DECLARATIONS, DEFAULTS, SETTING_NAMES, SettingName } from "./settingDeclarations";

/** A default as the table writes it: a list as `[a, b]`, empty text as `""`, a digest by its first and last 4 digits. */
export function defaultCell(value: unknown): string {
    const text = Array.isArray(value) ? `[${value.join(", ")}]` : value === "" ? '""' : String(value);
    return "`" + text.replace(/@sha256:([0-9a-f]{4})[0-9a-f]{56}([0-9a-f]{4})/, "@sha256:$1…$2") + "`";
}

/** The table's rows: each row's settings, in declaration order. */
export function tableRows(): Array<{ names: SettingName[]; meaning: string }> {
    return SETTING_NAMES.flatMap((name) => {
        const row = DECLARATIONS[name].row;
        return row ? [{ names: [name, ...((row.with ?? []) as SettingName[])], meaning: row.meaning }] : [];
    });
}

/** The whole table, in Markdown, header included. */
export function configurationTable(): string {
    const rows = tableRows().map(
        ({ names, meaning }) => `| ${names.map((n) => "`" + n + "`").join(" / ")} | ${names.map((n) => defaultCell(DEFAULTS[n])).join(" / ")} | ${meaning} |`,
    );
    return ["| key | default | meaning |", "| --- | --- | --- |", ...rows].join("\n");
}
