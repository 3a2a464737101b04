/**
 * Lesson 05, project 1 — structured output: sentences (English and Turkish) describing an order, turned
 * into JSON that matches a zod schema. The schema, the dataset's rows, the check that held-out items never
 * appear in training, a per-field score, and schema-constrained decoding (the JSON skeleton fixed by the
 * schema, the model choosing only the values) for comparing fine-tuning with constraining.
 *
 * The general metrics (parse rate, schema-valid rate, field accuracy) are `jsonMetrics` in `lib/eval`.
 *
 * @module
 */
import { z } from "zod";
import { modelJob, runPythonJob } from "../infer/_python_job.ts";
import { parseJsonOutput } from "../eval/json_output.ts";

/** The days of the week, as the order's `day` field spells them. */
export const ORDER_DAYS = [
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
  "sunday",
] as const;
/** What can be ordered. */
export const ORDER_ITEMS = ["tea", "coffee", "bread", "cake", "water", "book"] as const;

/**
 * An order: who, what, how many, which day. Exactly these four keys (`strict`: an extra key is invalid).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OrderSchema } from "./structured_output.ts";
 * assert.ok(OrderSchema.safeParse({ name: "Ali", item: "tea", qty: 3, day: "friday" }).success);
 * assert.ok(!OrderSchema.safeParse({ name: "Ali", item: "tea", qty: "3", day: "friday" }).success);
 * ```
 */
export const OrderSchema = z.object({
  name: z.string().min(1, "name must not be empty"),
  item: z.enum(ORDER_ITEMS),
  qty: z.number().int("qty must be a whole number").min(1).max(40),
  day: z.enum(ORDER_DAYS),
}).strict();
/** An order. */
export type Order = z.infer<typeof OrderSchema>;

const Row = z.object({
  id: z.string(),
  instruction: z.string().min(1),
  input: z.string().min(1),
  output: z.string().min(1),
  lang: z.enum(["en", "tr"]),
  template: z.string(),
});

/** One example of the structured-output datasets. */
export interface StructuredExample {
  id: string;
  /** The user's message: instruction, a blank line, the sentence (as the trainer builds it). */
  prompt: string;
  sentence: string;
  /** The expected JSON text (compact, keys in schema order). */
  output: string;
  expected: Order;
  lang: "en" | "tr";
  /** Which sentence template made it, e.g. `heldout-tr-1`. */
  template: string;
}

/**
 * Reads `structured-train.jsonl` or `structured-heldout.jsonl` (alpaca rows with `lang` and `template`).
 *
 * @param path The JSONL file.
 * @returns The examples, each output parsed and checked against {@linkcode OrderSchema}.
 * @throws {Error} `path:line: …` when a row is malformed or its output does not match the schema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadStructuredExamples } from "./structured_output.ts";
 * const heldout = loadStructuredExamples("data/datasets/structured-heldout.jsonl");
 * assert.equal(heldout.length, 80);
 * ```
 */
export function loadStructuredExamples(path: string): StructuredExample[] {
  const lines = Deno.readTextFileSync(path).split("\n");
  const out: StructuredExample[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${path}:${i + 1}`;
    const row = Row.safeParse(JSON.parse(line));
    if (!row.success) {
      throw new Error(`${where}: ${row.error.issues[0].path.join(".")}: ${row.error.issues[0].message}`);
    }
    const expected = OrderSchema.safeParse(JSON.parse(row.data.output));
    if (!expected.success) {
      throw new Error(`${where}: output does not match OrderSchema: ${expected.error.issues[0].message}`);
    }
    const r = row.data;
    out.push({
      id: r.id,
      prompt: `${r.instruction}\n\n${r.input}`,
      sentence: r.input,
      output: r.output,
      expected: expected.data,
      lang: r.lang,
      template: r.template,
    });
  });
  return out;
}

/** What {@linkcode heldoutLeaks} found. */
export interface HeldoutLeaks {
  /** Held-out sentences that are also training sentences. */
  sentences: string[];
  /** Held-out templates also used in training. */
  templates: string[];
  /** Held-out names that occur anywhere in a training row (sentence or JSON). */
  names: string[];
  /** Held-out quantities that are the quantity of a training row. */
  quantities: number[];
}

/**
 * Checks a held-out split against its training split: shared sentences, templates, names, quantities.
 *
 * @param train The training examples.
 * @param heldout The held-out examples.
 * @returns Every leak found (all lists empty for a clean split).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { heldoutLeaks, loadStructuredExamples } from "./structured_output.ts";
 * const leaks = heldoutLeaks(
 *   loadStructuredExamples("data/datasets/structured-train.jsonl"),
 *   loadStructuredExamples("data/datasets/structured-heldout.jsonl"),
 * );
 * assert.deepEqual(leaks, { sentences: [], templates: [], names: [], quantities: [] });
 * ```
 */
export function heldoutLeaks(train: StructuredExample[], heldout: StructuredExample[]): HeldoutLeaks {
  const trainSentences = new Set(train.map((e) => e.sentence));
  const trainTemplates = new Set(train.map((e) => e.template.replace(/^[a-z]+-/, "")));
  const trainText = train.map((e) => `${e.sentence}\n${e.output}`).join("\n");
  const trainQtys = new Set(train.map((e) => e.expected.qty));
  const names = [...new Set(heldout.map((e) => e.expected.name))];
  const qtys = [...new Set(heldout.map((e) => e.expected.qty))];
  return {
    sentences: heldout.map((e) => e.sentence).filter((s) => trainSentences.has(s)),
    templates: [...new Set(heldout.map((e) => e.template))].filter((t) =>
      trainTemplates.has(t.replace(/^[a-z]+-/, "")) && !t.startsWith("heldout-")
    ),
    names: names.filter((n) => new RegExp(`(^|[^\\p{L}])${n}($|[^\\p{L}])`, "u").test(trainText)),
    quantities: qtys.filter((q) => trainQtys.has(q)),
  };
}

/**
 * How often each field of the expected objects is right, over all outputs (an output that does not parse
 * gets every field wrong). The breakdown behind `jsonMetrics`' single field accuracy.
 *
 * @param outputs The model's outputs (text).
 * @param expected The expected objects.
 * @returns For each key of the first expected object, the share of outputs with exactly that value.
 * @throws {Error} When the lists differ in length or are empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perFieldAccuracy } from "./structured_output.ts";
 * const acc = perFieldAccuracy(['{"name":"Ali","qty":2}', "oops"], [{ name: "Ali", qty: 3 }, { name: "Ada", qty: 1 }]);
 * assert.deepEqual(acc, { name: 0.5, qty: 0 });
 * ```
 */
export function perFieldAccuracy(
  outputs: readonly string[],
  expected: readonly Record<string, unknown>[],
): Record<string, number> {
  if (outputs.length !== expected.length || outputs.length === 0) {
    throw new Error(`perFieldAccuracy: ${outputs.length} outputs vs ${expected.length} expected objects.`);
  }
  const right: Record<string, number> = Object.fromEntries(Object.keys(expected[0]).map((k) => [k, 0]));
  outputs.forEach((text, i) => {
    const parsed = parseJsonOutput(text);
    if (!parsed.ok || parsed.value === null || typeof parsed.value !== "object") return;
    const got = parsed.value as Record<string, unknown>;
    for (const key of Object.keys(right)) {
      if (JSON.stringify(got[key]) === JSON.stringify(expected[i][key])) right[key]++;
    }
  });
  return Object.fromEntries(Object.entries(right).map(([k, n]) => [k, n / outputs.length]));
}

/** One field as the constrained decoder sees it. */
export type FieldSpec =
  | { key: string; type: "string" }
  | { key: string; type: "integer" }
  | { key: string; type: "enum"; values: string[] };

/**
 * The fields of a flat zod object schema, in order, for {@linkcode constrainedJson}: strings, whole numbers
 * and enums (what a grammar for this schema can enforce token by token; bounds such as `max(40)` are not
 * enforced while decoding, as in most grammar-constrained decoders, so zod can still reject the result).
 *
 * @param schema A `z.object` of `z.string()`, `z.number().int()` and `z.enum([...])` fields.
 * @returns One spec per field.
 * @throws {Error} For another kind of schema or field, naming the field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fieldSpecs, OrderSchema } from "./structured_output.ts";
 * assert.deepEqual(fieldSpecs(OrderSchema).map((f) => f.type), ["string", "enum", "integer", "enum"]);
 * ```
 */
export function fieldSpecs(schema: z.ZodType): FieldSpec[] {
  if (!(schema instanceof z.ZodObject)) {
    throw new Error("fieldSpecs: the schema must be a z.object of string, integer and enum fields.");
  }
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, field]): FieldSpec => {
    if (field instanceof z.ZodString) return { key, type: "string" };
    if (field instanceof z.ZodNumber && field.isInt) return { key, type: "integer" };
    if (field instanceof z.ZodEnum) return { key, type: "enum", values: field.options.map(String) };
    throw new Error(
      `fieldSpecs: field "${key}" is a ${field.def.type}; the constrained decoder handles z.string(), ` +
        "z.number().int() and z.enum([...]) fields.",
    );
  });
}

/** Options for {@linkcode constrainedJson}. */
export interface ConstrainedJsonOptions {
  /** A LoRA adapter folder (e.g. a run's `adapter/`). */
  adapter?: string;
  /** Most tokens per string or integer value (default 8); a string still open then is closed. */
  maxFieldTokens?: number;
}

/**
 * Schema-constrained decoding: writes the JSON skeleton of `schema` (braces, keys, quotes, commas) itself and
 * lets the model choose only each field's value, greedily, among the tokens the field's type allows (any
 * text without `"` for a string, digits for an integer, a prefix of an allowed value for an enum). The output
 * always parses; whether the values are right is still the model's doing. The same idea as llama.cpp's GBNF
 * grammars or the `outlines` library, for flat objects (`lib/infer/python/constrained_json.py`).
 *
 * @param model The model folder.
 * @param prompts The user messages.
 * @param schema A flat `z.object` (see {@linkcode fieldSpecs}).
 * @param options An adapter; the longest value.
 * @returns One JSON text per prompt.
 * @throws {Error} When the schema has a field the decoder cannot constrain, or Python fails (its last line).
 *
 * @example
 * ```ts ignore
 * import { constrainedJson, OrderSchema } from "./structured_output.ts";
 * const [json] = await constrainedJson("data/models/ince-tiny", ["Extract the order as JSON.\n\nAli wants 3 cakes on Friday."], OrderSchema);
 * ```
 */
export async function constrainedJson(
  model: string,
  prompts: string[],
  schema: z.ZodType,
  options: ConstrainedJsonOptions = {},
): Promise<string[]> {
  const job = {
    ...modelJob(model, options.adapter),
    prompts,
    fields: fieldSpecs(schema),
    maxFieldTokens: options.maxFieldTokens ?? 8,
  };
  const what = `Constrained decoding with ${model}${options.adapter ? ` + ${options.adapter}` : ""}`;
  return (await runPythonJob("constrained_json.py", job, what, z.object({ outputs: z.array(z.string()) })))
    .outputs;
}
