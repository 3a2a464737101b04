/**
 * Tables: HTML for notebooks, aligned text for terminals and `text/plain` views.
 *
 * @module
 */
import { escapeXml } from "../util/escape.ts";
import { display, displayTarget, type MimeBundle } from "../display/display.ts";

/** A column: the row key, its heading, and how to format its values. */
export interface Column<T> {
  key: keyof T & string;
  label?: string;
  format?: (value: T[keyof T], row: T) => string;
}

/** Options for {@linkcode table}. */
export interface TableOptions<T> {
  /** Columns in order (default: the first row's keys). */
  columns?: (Column<T> | (keyof T & string))[];
  /** A caption above the table. */
  caption?: string;
}

/**
 * Formats a cell: `—` for missing, thousands separators for integers, 4 significant digits otherwise.
 *
 * @param v Any value.
 * @returns Its text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCell } from "./table.ts";
 * assert.deepEqual([248320, 0.123456, null].map(formatCell), ["248,320", "0.1235", "—"]);
 * ```
 */
export function formatCell(v: unknown): string {
  if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return "—";
  if (typeof v === "number") {
    return Number.isInteger(v) ? v.toLocaleString("en-US") : String(Number(v.toPrecision(4)));
  }
  return String(v);
}

/**
 * A table as a mime bundle (HTML + aligned text).
 *
 * @param rows Objects, one per row.
 * @param options Columns and caption.
 * @returns The bundle.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { table } from "./table.ts";
 * const b = table([{ method: "lora", params: 248320 }], { caption: "Runs" });
 * assert.equal(b["text/plain"], "Runs\nmethod   params\n------  -------\nlora    248,320");
 * ```
 */
export function table<T extends Record<string, unknown>>(
  rows: readonly T[],
  options: TableOptions<T> = {},
): MimeBundle {
  const cols: Column<T>[] = (options.columns ?? Object.keys(rows[0] ?? {}) as (keyof T & string)[]).map((c) =>
    typeof c === "string" ? { key: c } : c
  );
  const cells = rows.map((r) => cols.map((c) => c.format ? c.format(r[c.key], r) : formatCell(r[c.key])));
  const heads = cols.map((c) => c.label ?? c.key);
  const numeric = cols.map((c) => rows.every((r) => r[c.key] == null || typeof r[c.key] === "number"));
  const widths = heads.map((h, j) => Math.max(h.length, ...cells.map((r) => r[j].length)));
  const pad = (s: string, j: number) => numeric[j] ? s.padStart(widths[j]) : s.padEnd(widths[j]);
  const text = [
    ...(options.caption ? [options.caption] : []),
    heads.map(pad).join("  "),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map((r) => r.map(pad).join("  ")),
  ].join("\n");
  const align = (j: number) => numeric[j] ? ` style="text-align:right"` : "";
  const html = `<table class="ince-table">` +
    (options.caption ? `<caption>${escapeXml(options.caption)}</caption>` : "") +
    `<thead><tr>${heads.map((h, j) => `<th${align(j)}>${escapeXml(h)}</th>`).join("")}</tr></thead><tbody>` +
    cells.map((r) => `<tr>${r.map((c, j) => `<td${align(j)}>${escapeXml(c)}</td>`).join("")}</tr>`).join("") +
    `</tbody></table>`;
  return { "text/html": html, "text/plain": text };
}

/**
 * Shows a table in the notebook (HTML), prints it in a terminal.
 *
 * @param rows Objects, one per row.
 * @param options Columns and caption.
 * @returns Outside the kernel the bundle; inside it `undefined` (already shown, not printed twice).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { showTable } from "./table.ts";
 * const b = await showTable([{ a: 1 }]);
 * assert.equal(b?.["text/plain"], "a\n-\n1");
 * ```
 */
export async function showTable<T extends Record<string, unknown>>(
  rows: readonly T[],
  options: TableOptions<T> = {},
): Promise<MimeBundle | undefined> {
  const b = table(rows, options);
  if (displayTarget() === "terminal") console.log(b["text/plain"]);
  return await display(b);
}
