import { stringify as stringifyYaml } from "yaml";
import assert from "node:assert/strict";
import { loadDataset } from "../lib/data/load_dataset.ts";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";
import { normalizeAnswer } from "../lib/eval/match.ts";
import { assertDisjoint, loadAlignPrompts, parseAlignPrompts } from "../lib/align/align_prompts.ts";
import { loadConstitution, parseConstitution } from "../lib/align/constitution.ts";

const DATA = `${projectRoot()}/data`;
const SETS = {
  "align-train": { number: 60, unsafe: 40, unknown: 30 },
  "align-heldout": { number: 24, unsafe: 20, unknown: 18 },
  "align-redteam": { number: 0, unsafe: 40, unknown: 0 },
  "align-harmless": { number: 20, unsafe: 0, unknown: 16 },
  "align-system-train": { number: 40, unsafe: 0, unknown: 0 },
  "align-system-heldout": { number: 20, unsafe: 0, unknown: 0 },
} as const;
type SetName = keyof typeof SETS;
const sets = Object.fromEntries(
  Object.keys(SETS).map((name) => [name, loadAlignPrompts(`${DATA}/datasets/${name}.jsonl`)]),
) as Record<SetName, ReturnType<typeof loadAlignPrompts>>;
const TRAINING: SetName[] = ["align-train", "align-system-train"];
const HELD_OUT: SetName[] = ["align-heldout", "align-redteam", "align-harmless", "align-system-heldout"];

/** The number-word truth: numbers-train/-heldout ("Write 47 in English/Turkish words." → the words). */
function numberWords(file: string): Map<number, { en: string; tr: string }> {
  const ds = loadDataset(`${DATA}/datasets/${file}`);
  const words = new Map<number, { en: string; tr: string }>();
  if (ds.shape === "preference") throw new Error(`${file}: expected an SFT shape`);
  for (const e of ds.examples) {
    const m = e.messages[0].content.match(/^Write (\d+) in (English|Turkish) words\.$/);
    if (!m) continue;
    const entry = words.get(Number(m[1])) ?? { en: "", tr: "" };
    entry[m[2] === "English" ? "en" : "tr"] = e.messages[1].content;
    words.set(Number(m[1]), entry);
  }
  return words;
}
const trainWords = numberWords("numbers-train.jsonl");
const heldOutWords = numberWords("numbers-heldout.jsonl");

Deno.test("every alignment set loads, with the categories and sizes make_alignment.py documents", () => {
  for (const [name, counts] of Object.entries(SETS) as [SetName, (typeof SETS)[SetName]][]) {
    const rows = sets[name];
    for (const category of ["number", "unsafe", "unknown"] as const) {
      assert.equal(
        rows.filter((r) => r.category === category).length,
        counts[category],
        `${name} ${category}`,
      );
    }
    assert.equal(rows.length, counts.number + counts.unsafe + counts.unknown, name);
    for (const lang of ["en", "tr"]) assert.ok(rows.some((r) => r.lang === lang), `${name} has ${lang}`);
    for (const r of rows) {
      assert.ok(r.template, `${r.id} has a template`);
      assert.equal(
        r.expected !== undefined,
        r.category === "number",
        `${r.id}: expected only on number rows`,
      );
      assert.equal(
        r.system !== undefined,
        name.startsWith("align-system"),
        `${r.id}: system only in system sets`,
      );
    }
  }
  const ids = Object.values(sets).flat().map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, "ids are unique across all the sets");
});

Deno.test("number answers are the numbers datasets' words; held-out sets use only held-out numbers", () => {
  for (const [name, rows] of Object.entries(sets)) {
    const truth = TRAINING.includes(name as SetName) ? trainWords : heldOutWords;
    for (const r of rows.filter((r) => r.category === "number")) {
      const numbers = [...r.prompt.matchAll(/\d+/g)].map((m) => Number(m[0]));
      assert.ok(numbers.length > 0 && numbers.every((n) => n === numbers[0]), r.prompt);
      const words = truth.get(numbers[0]);
      assert.ok(
        words,
        `${name}: ${numbers[0]} is not a ${truth === trainWords ? "training" : "held-out"} number`,
      );
      // With "Always answer in Turkish." the answer is Turkish whatever the user's language.
      assert.equal(r.expected, words[r.system ? "tr" : r.lang!], `${r.id}: ${r.prompt}`);
    }
  }
  for (const r of sets["align-system-train"]) assert.equal(r.system, "Always answer in Turkish.");
});

Deno.test("held-out prompts and phrasings never appear in training (the leakage check passes on the shipped sets)", () => {
  const numbersTrain = loadDataset(`${DATA}/datasets/numbers-train.jsonl`);
  if (numbersTrain.shape === "preference") throw new Error("numbers-train: expected an SFT shape");
  const training = [...TRAINING.flatMap((n) => sets[n]), ...numbersTrain.examples];
  const trainTemplates = new Set(TRAINING.flatMap((n) => sets[n].map((r) => r.template)));
  for (const name of HELD_OUT) {
    assertDisjoint(training, sets[name], { trainName: "training", heldOutName: name });
    for (const r of sets[name]) assert.ok(!trainTemplates.has(r.template), `${r.id}: template ${r.template}`);
  }
  // A held-out phrasing is its prompt with the number or filler taken out: none is a training phrasing.
  const phrasing = (p: string) => normalizeAnswer(p.replace(/\d+/g, "N"));
  const trained = new Set(TRAINING.flatMap((n) => sets[n].map((r) => phrasing(r.prompt))));
  for (const r of sets["align-heldout"]) assert.ok(!trained.has(phrasing(r.prompt)), r.prompt);
});

Deno.test("assertDisjoint() names the first held-out prompt found in training, after normalising case and punctuation", () => {
  const heldOut = sets["align-heldout"];
  const leaked = heldOut[5];
  const train = [...sets["align-train"], { id: "planted", prompt: `  ${leaked.prompt.toUpperCase()}!! ` }];
  assert.throws(
    () => assertDisjoint(train, heldOut, { trainName: "align-train", heldOutName: "align-heldout" }),
    (e: Error) => {
      assert.equal(
        e.message,
        `Held-out prompt ${JSON.stringify(leaked.prompt)} (align-heldout[5], id "${leaked.id}") is also a ` +
          `training prompt (align-train[${
            train.length - 1
          }], id "planted"): remove it from one of the two sets, ` +
          "or the held-out score measures memory.",
      );
      return true;
    },
  );
  // An SFT file's chat rows: every user turn is a prompt, the assistant's answer is not.
  const chat = [{
    id: 3,
    messages: [
      { role: "user" as const, content: "Yarın hava nasıl olacak?" },
      { role: "assistant" as const, content: "Bilmiyorum." },
    ],
  }];
  assertDisjoint(chat, ["Bilmiyorum."]);
  assert.throws(
    () => assertDisjoint(chat, ["yarın hava nasıl olacak"]),
    /^Error: Held-out prompt "yarın hava nasıl olacak" \(held-out\[0\]\) is also a training prompt \(training\[0\], id 3\)/,
  );
  // Turkish case rules: "IŞIK" lower-cases to "ışık", not "isik".
  assert.throws(() => assertDisjoint(["Işık nedir?"], ["IŞIK NEDİR"]), /Held-out prompt "IŞIK NEDİR"/);
  assertDisjoint(["Isik nedir?"], ["IŞIK NEDİR"]);
  assert.throws(
    () => assertDisjoint([42 as unknown as string], ["x"]),
    /^Error: assertDisjoint: training\[0\] is neither a string, a \{prompt\} row nor a \{messages\} row/,
  );
});

Deno.test("a malformed prompt file gives one line naming file:line and the field", () => {
  const good = { id: "a", prompt: "Write 7 in words.", category: "number", lang: "en", expected: "seven" };
  const line = (row: unknown) => JSON.stringify(row);
  const cases: [string, RegExp][] = [
    [`${line(good)}\n${line({ id: "b", category: "unsafe" })}`, /^p\.jsonl:2: field "prompt" is missing/],
    [line({ ...good, prompt: "  " }), /^p\.jsonl:1: field "prompt": must not be empty/],
    [line({ ...good, category: "weather" }), /^p\.jsonl:1: field "category": .*"number"/],
    [line({ ...good, lang: "de" }), /^p\.jsonl:1: field "lang": /],
    [
      line({ ...good, expected: undefined }),
      /^p\.jsonl:1: field "expected" is missing: a "number" prompt needs/,
    ],
    [`${line(good)}\n\n${line(good)}`, /^p\.jsonl:3: field "id" "a" repeats line 1's/],
    [`${line(good)}\n{"id": "b", prompt}`, /^p\.jsonl:2: not valid JSON \(/],
    ["[1, 2]", /^p\.jsonl:1: each line must be a JSON object/],
    ["\n\n", /^p\.jsonl: no rows\./],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => parseAlignPrompts(text, "p.jsonl"), (e: Error) => {
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
      return true;
    });
  }
  assert.throws(
    () => loadAlignPrompts("nope/align.jsonl"),
    /^Error: nope\/align\.jsonl: no such prompt file/,
  );
  // A user's own prompts need only id and prompt; unknown fields are dropped.
  assert.deepEqual(parseAlignPrompts('{"id": "u1", "prompt": "Hi", "note": "x"}', "u.jsonl"), [{
    id: "u1",
    prompt: "Hi",
  }]);
});

const PRINCIPLE = {
  id: "kind",
  description: "Be kind.",
  critiqueRequest: "Identify ways the response is unkind.",
  revisionRequest: "Rewrite the response kindly.",
  comparisonQuestion: "Which response is kinder?",
};

Deno.test("the shipped constitution loads: four principles in order, each with its three requests", () => {
  const c = loadConstitution(`${DATA}/constitution.json`);
  assert.equal(c.name, "ince-tiny");
  assert.deepEqual(c.principles.map((p) => p.id), ["helpful", "harmless", "honest", "language"]);
  for (const p of c.principles) {
    assert.deepEqual(Object.keys(p), Object.keys(PRINCIPLE));
    assert.match(p.critiqueRequest, /^Identify /);
    assert.match(p.revisionRequest, /^Please rewrite the assistant response /);
    assert.match(p.comparisonQuestion, /^Which of these assistant responses /);
  }
});

Deno.test("a malformed constitution gives one line naming the principle (index and id) and the field", () => {
  const { revisionRequest: _, ...noRevision } = PRINCIPLE;
  const cases: [unknown, RegExp][] = [
    [
      { name: "c", principles: [PRINCIPLE, { ...noRevision, id: "fair" }] },
      /^c\.json: principles\[1\] \(id "fair"\): field "revisionRequest" is missing \(needed: id, description, /,
    ],
    [
      { name: "c", principles: [] },
      /^c\.json: "principles" is empty: a constitution needs at least one principle/,
    ],
    [
      { name: "c", principles: [PRINCIPLE, { ...PRINCIPLE }] },
      /^c\.json: principles\[1\] \(id "kind"\) repeats the id of principles\[0\]: give each principle its own id\./,
    ],
    [
      { name: "c", principles: [{ ...PRINCIPLE, critique_request: "typo" }] },
      /^c\.json: principles\[0\] \(id "kind"\): unknown field "critique_request": the allowed fields are id, /,
    ],
    [
      { name: "c", principles: [{ ...PRINCIPLE, description: 3 }] },
      /^c\.json: principles\[0\] \(id "kind"\): field "description" must be a string, got a number\./,
    ],
    [
      { name: "c", principles: [{ ...PRINCIPLE, comparisonQuestion: " " }] },
      /^c\.json: principles\[0\] \(id "kind"\): field "comparisonQuestion" must not be empty\./,
    ],
    [
      { name: "c", principles: [{ ...PRINCIPLE, id: "Be Kind" }] },
      /^c\.json: principles\[0\] \(id "Be Kind"\): field "id" must be a short lower-case id/,
    ],
    [
      { name: "c", principles: [PRINCIPLE, "kind"] },
      /^c\.json: principles\[1\] must be an object with id, .*, got a string\./,
    ],
    [{ name: "c" }, /^c\.json: field "principles" is missing/],
    [
      { name: "c", principles: { kind: PRINCIPLE } },
      /^c\.json: field "principles" must be a list of principles, got an object\./,
    ],
    [{ principles: [PRINCIPLE] }, /^c\.json: field "name" is missing \(needed: name and principles\)\./],
    [
      { name: "c", principles: [PRINCIPLE], version: 2 },
      /^c\.json: unknown field "version": the allowed fields are name and principles\./,
    ],
    [[PRINCIPLE], /^c\.json: a constitution must be an object \{name, principles\}, got an array\./],
  ];
  for (const [value, pattern] of cases) {
    assert.throws(() => parseConstitution(value, "c.json"), (e: Error) => {
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
      return true;
    });
  }
});

Deno.test("loadConstitution() names the file for a missing file, bad JSON or YAML, and a bad principle", () => {
  const dir = Deno.makeTempDirSync();
  const write = (name: string, text: string) => {
    Deno.writeTextFileSync(`${dir}/${name}`, text);
    return `${dir}/${name}`;
  };
  const cases: [string, RegExp][] = [
    [`${dir}/missing.json`, /missing\.json: no such constitution file\. .*data\/constitution\.json/],
    [
      write("bad.json", '{"name": "c",\n  "principles": [}'),
      /bad\.json: not valid JSON \(.*\)\. A constitution is one JSON/,
    ],
    [write("c.yaml", "name: c\n"), /c\.yaml: field "principles" is missing/],
    [write("bad.yaml", "name: c\nprinciples: [\n"), /bad\.yaml: not valid YAML \(.*\)\./],
    [
      write("dup.json", JSON.stringify({ name: "c", principles: [PRINCIPLE, PRINCIPLE] }, null, 2)),
      /dup\.json: principles\[1\] \(id "kind"\) repeats the id of principles\[0\]/,
    ],
  ];
  for (const [path, pattern] of cases) {
    assert.throws(() => loadConstitution(path), (e: Error) => {
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
      return true;
    });
  }
  const path = write("mine.json", JSON.stringify({ name: "mine", principles: [PRINCIPLE] }));
  assert.deepEqual(loadConstitution(path), { name: "mine", principles: [PRINCIPLE] });
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("make_alignment.py writes exactly the shipped files (same seed, same bytes)", async () => {
  const out = Deno.makeTempDirSync();
  const script = `${DATA}/scripts/make_alignment.py`;
  const run = await new Deno.Command(pythonPath(), {
    args: [script, "--out", out],
    stdout: "null",
    stderr: "piped",
  })
    .output();
  assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
  const written = [...Deno.readDirSync(out)].map((e) => e.name).sort();
  assert.deepEqual(written, ["constitution.json", ...Object.keys(SETS).map((n) => `${n}.jsonl`)].sort());
  for (const name of written) {
    const shipped = name === "constitution.json" ? `${DATA}/${name}` : `${DATA}/datasets/${name}`;
    assert.equal(Deno.readTextFileSync(`${out}/${name}`), Deno.readTextFileSync(shipped), name);
  }
  Deno.removeSync(out, { recursive: true });
});

Deno.test("a YAML constitution loads the same as its JSON", () => {
  const json = loadConstitution(`${Deno.cwd()}/data/constitution.json`);
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/c.yml`, stringifyYaml(json));
  assert.deepEqual(loadConstitution(`${dir}/c.yml`), json);
});
