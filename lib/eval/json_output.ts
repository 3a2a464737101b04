/**
 * Scoring structured (JSON) output: does it parse, does it match the schema, and how many fields are
 * right. A malformed output is a parse failure, never an exception.
 *
 * @module
 */
import type { z } from "zod";

/** The outcome of {@linkcode parseJsonOutput}. */
export type ParsedJson = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Parses the first balanced `{…}` block of a model's output (models often add text around it).
 *
 * @param text The output.
 * @returns The value, or why it did not parse. Never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonOutput } from "./json_output.ts";
 * assert.deepEqual(parseJsonOutput('Sure: {"a": {"b": 1}} done'), { ok: true, value: { a: { b: 1 } } });
 * assert.equal(parseJsonOutput('{"a": 1').ok, false);
 * ```
 */
export function parseJsonOutput(text: string): ParsedJson {
  const start = text.indexOf("{");
  if (start < 0) return { ok: false, error: "no `{` in the output" };
  let depth = 0, inString = false, escaped = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) {
      try {
        return { ok: true, value: JSON.parse(text.slice(start, i + 1)) };
      } catch (e) {
        return { ok: false, error: (e as Error).message };
      }
    }
  }
  return { ok: false, error: "the `{` is never closed" };
}

/**
 * Nested objects as dotted keys (arrays stay values), so two objects can be compared field by field.
 *
 * @param value Any JSON value.
 * @param prefix The key prefix (used in the recursion).
 * @returns The flat fields (none for a non-object).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flattenFields } from "./json_output.ts";
 * assert.deepEqual(flattenFields({ a: { b: 1 }, c: [2] }), { "a.b": 1, c: [2] });
 * ```
 */
export function flattenFields(value: unknown, prefix = ""): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return prefix ? { [prefix]: value } : {};
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    Object.assign(out, flattenFields(v, prefix ? `${prefix}.${k}` : k));
  }
  return out;
}

/** One output's score. */
export interface JsonItemScore {
  parsed: boolean;
  valid: boolean;
  /** Fields of the expected object whose value the output has exactly (after flattening). */
  fieldsRight: number;
  fieldsTotal: number;
  error?: string;
}

/** What {@linkcode jsonMetrics} returns. */
export interface JsonMetrics {
  n: number;
  parseRate: number;
  schemaValidRate: number;
  /** Right fields ÷ expected fields, over all outputs (an unparsable output gets none right). */
  fieldAccuracy: number;
  items: JsonItemScore[];
}

/**
 * Parse rate, schema-valid rate and field-level accuracy of model outputs against expected objects.
 *
 * @param outputs The model's outputs (text).
 * @param expected The expected objects, in the same order.
 * @param schema The zod schema a valid output satisfies.
 * @returns The rates and a score per output.
 * @throws {Error} When the lists differ in length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { jsonMetrics } from "./json_output.ts";
 * const schema = z.object({ name: z.string(), qty: z.number() });
 * const m = jsonMetrics(['{"name": "Ada", "qty": 2}', '{"name": "Ada", "qty": "2"}', "nope"],
 *   [{ name: "Ada", qty: 2 }, { name: "Ada", qty: 2 }, { name: "Ali", qty: 1 }], schema);
 * assert.deepEqual([m.parseRate, m.schemaValidRate, m.fieldAccuracy], [2 / 3, 1 / 3, 3 / 6]);
 * ```
 */
export function jsonMetrics(
  outputs: readonly string[],
  expected: readonly unknown[],
  schema: z.ZodType,
): JsonMetrics {
  if (outputs.length !== expected.length) {
    throw new Error(
      `jsonMetrics: ${outputs.length} outputs vs ${expected.length} expected objects; score the same examples.`,
    );
  }
  const items = outputs.map((text, i): JsonItemScore => {
    const want = flattenFields(expected[i]);
    const fieldsTotal = Object.keys(want).length;
    const parsed = parseJsonOutput(text);
    if (!parsed.ok) return { parsed: false, valid: false, fieldsRight: 0, fieldsTotal, error: parsed.error };
    const check = schema.safeParse(parsed.value);
    const got = flattenFields(parsed.value);
    const fieldsRight = Object.entries(want).filter(([k, v]) =>
      JSON.stringify(got[k]) === JSON.stringify(v)
    ).length;
    return {
      parsed: true,
      valid: check.success,
      fieldsRight,
      fieldsTotal,
      ...(check.success ? {} : { error: check.error.issues[0]?.message }),
    };
  });
  const n = items.length, total = items.reduce((s, x) => s + x.fieldsTotal, 0);
  return {
    n,
    parseRate: n ? items.filter((x) => x.parsed).length / n : 0,
    schemaValidRate: n ? items.filter((x) => x.valid).length / n : 0,
    fieldAccuracy: total ? items.reduce((s, x) => s + x.fieldsRight, 0) / total : 0,
    items,
  };
}
