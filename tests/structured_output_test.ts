/**
 * Lesson 05a's project: the structured-output data is honestly held out, a malformed output is scored as a
 * parse failure, the schema rejects what it should, and constrained decoding always gives parsable JSON.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { jsonMetrics } from "../lib/eval/mod.ts";
import {
  constrainedJson,
  fieldSpecs,
  heldoutLeaks,
  loadStructuredExamples,
  OrderSchema,
  perFieldAccuracy,
} from "../lib/projects/mod.ts";

const train = loadStructuredExamples("data/datasets/structured-train.jsonl");
const heldout = loadStructuredExamples("data/datasets/structured-heldout.jsonl");

Deno.test("structured data: held-out sentences, templates, names and quantities never appear in training", () => {
  assert.equal(train.length, 480);
  assert.equal(heldout.length, 80);
  assert.deepEqual(heldoutLeaks(train, heldout), { sentences: [], templates: [], names: [], quantities: [] });
  // Independently of heldoutLeaks: no held-out sentence is a training sentence, and no held-out name or
  // quantity occurs in any training row's text (sentence or JSON) as a whole word / number.
  const trainSentences = new Set(train.map((e) => e.sentence));
  const trainRows = Deno.readTextFileSync("data/datasets/structured-train.jsonl").split("\n").filter(Boolean);
  for (const e of heldout) {
    assert.ok(!trainSentences.has(e.sentence), e.sentence);
    const name = new RegExp(`(^|[^\\p{L}])${e.expected.name}($|[^\\p{L}])`, "u");
    const qty = new RegExp(`(^|[^0-9])${e.expected.qty}($|[^0-9])`);
    for (const row of trainRows) {
      assert.ok(!name.test(row), `held-out name ${e.expected.name} occurs in training row ${row}`);
      assert.ok(!qty.test(JSON.parse(row).output), `held-out quantity ${e.expected.qty} in ${row}`);
      assert.ok(!qty.test(JSON.parse(row).input), `held-out quantity ${e.expected.qty} in ${row}`);
    }
  }
  assert.ok(heldout.every((e) => e.template.startsWith("heldout-")));
  assert.ok(train.every((e) => e.template.startsWith("train-")));
});

Deno.test("structured data: both languages in both splits, every output valid and compact", () => {
  for (const split of [train, heldout]) {
    const en = split.filter((e) => e.lang === "en").length;
    assert.equal(en, split.length / 2);
    for (const e of split) {
      assert.ok(OrderSchema.safeParse(e.expected).success);
      assert.equal(JSON.stringify(e.expected), e.output);
    }
  }
});

Deno.test("heldoutLeaks() finds a leaked sentence, name and quantity", () => {
  const leaky = [...train, { ...heldout[0], template: "train-en-0" }];
  const leaks = heldoutLeaks(leaky, heldout);
  assert.deepEqual(leaks.sentences, [heldout[0].sentence]);
  assert.deepEqual(leaks.names, [heldout[0].expected.name]);
  assert.deepEqual(leaks.quantities, [heldout[0].expected.qty]);
});

Deno.test("a malformed generated JSON counts as a parse failure and never throws", () => {
  const want = heldout[0].expected;
  const bad = [
    "",
    "{",
    '{"name":"Ozan","item":"book"',
    '{"name":"Ozan",}',
    "{name: Ozan}",
    '{"name":"Oz\\an"}',
    "}}}{{{",
    "\u0000{\u0000}",
    '{"name":"' + "x".repeat(10_000),
  ];
  const m = jsonMetrics(bad, bad.map(() => want), OrderSchema);
  assert.equal(m.parseRate, 0);
  assert.equal(m.schemaValidRate, 0);
  assert.equal(m.fieldAccuracy, 0);
  assert.deepEqual(Object.values(perFieldAccuracy(bad, bad.map(() => want))), [0, 0, 0, 0]);
  const good = jsonMetrics([`text before ${heldout[0].output} and after`], [want], OrderSchema);
  assert.deepEqual([good.parseRate, good.schemaValidRate, good.fieldAccuracy], [1, 1, 1]);
});

Deno.test("OrderSchema rejects wrong types, out-of-range numbers, unknown enum values and extra or missing keys", () => {
  const ok = { name: "Ali", item: "tea", qty: 3, day: "friday" };
  assert.ok(OrderSchema.safeParse(ok).success);
  const { qty: _qty, ...noQty } = ok;
  for (
    const v of [
      { ...ok, name: "" },
      { ...ok, name: 7 },
      { ...ok, item: "pizza" },
      { ...ok, item: "Tea" },
      { ...ok, qty: "3" },
      { ...ok, qty: 0 },
      { ...ok, qty: 41 },
      { ...ok, qty: 2.5 },
      { ...ok, day: "cuma" },
      { ...ok, day: "Friday" },
      { ...ok, note: "extra" },
      noQty,
      null,
      [ok],
    ]
  ) {
    assert.ok(!OrderSchema.safeParse(v).success, `should reject ${JSON.stringify(v)}`);
  }
});

Deno.test("fieldSpecs() reads strings, integers and enums, and names a field it cannot constrain", () => {
  assert.deepEqual(fieldSpecs(OrderSchema), [
    { key: "name", type: "string" },
    { key: "item", type: "enum", values: ["tea", "coffee", "bread", "cake", "water", "book"] },
    { key: "qty", type: "integer" },
    {
      key: "day",
      type: "enum",
      values: ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    },
  ]);
  assert.throws(() => fieldSpecs(z.object({ when: z.date() })), /field "when"/);
  assert.throws(() => fieldSpecs(z.object({ price: z.number() })), /field "price"/);
  assert.throws(() => fieldSpecs(z.string()), /z\.object/);
});

Deno.test("constrainedJson() always gives JSON that parses, even from the untuned model", async () => {
  const prompts = heldout.slice(0, 3).map((e) => e.prompt);
  const outputs = await constrainedJson("data/models/ince-tiny", prompts, OrderSchema, { maxFieldTokens: 4 });
  assert.equal(outputs.length, 3);
  for (const out of outputs) {
    const value = JSON.parse(out);
    assert.deepEqual(Object.keys(value), ["name", "item", "qty", "day"]);
    assert.ok(["tea", "coffee", "bread", "cake", "water", "book"].includes(value.item));
    assert.ok(Number.isInteger(value.qty) && value.qty > 0);
    assert.ok(typeof value.name === "string" && value.name.length > 0);
  }
});
