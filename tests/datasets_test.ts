import { trainRun } from "../lib/train/train_run.ts";
import { numbersRecipe } from "../lib/train/recipes.ts";
import assert from "node:assert/strict";
import { loadDataset, parseDataset } from "../lib/data/load_dataset.ts";
import { projectRoot } from "../lib/env/paths.ts";

const DATA = `${projectRoot()}/data/datasets`;

Deno.test("every shipped dataset validates, with the shape and size data/README.md documents", () => {
  const expected: Record<string, [string, number]> = {
    "numbers-train.jsonl": ["alpaca", 420],
    "numbers-heldout.jsonl": ["alpaca", 60],
    "identity-train.jsonl": ["messages", 16],
    "identity-heldout.jsonl": ["messages", 12],
    "preferences.jsonl": ["preference", 152],
    "counting.jsonl": ["alpaca", 128],
    "structured-train.jsonl": ["alpaca", 480],
    "structured-heldout.jsonl": ["alpaca", 80],
    "code-train.jsonl": ["alpaca", 125],
    "code-heldout.jsonl": ["alpaca", 99],
    "glossary-train.jsonl": ["messages", 160],
    "glossary-heldout.jsonl": ["messages", 120],
  };
  // Tables a lesson reads directly (not training data): checked by their project's tests.
  const tables = [
    "glossary.jsonl",
    // lesson 07's prompt sets ({id, prompt, category, lang, …}): tests/align_data_test.ts checks them.
    "align-train.jsonl",
    "align-heldout.jsonl",
    "align-redteam.jsonl",
    "align-harmless.jsonl",
    "align-system-train.jsonl",
    "align-system-heldout.jsonl",
  ];
  const files = [...Deno.readDirSync(DATA)].map((e) => e.name).filter((n) => n.endsWith(".jsonl")).sort();
  assert.deepEqual(files, [...Object.keys(expected), ...tables].sort());
  for (const [file, [shape, n]] of Object.entries(expected)) {
    const ds = loadDataset(`${DATA}/${file}`);
    assert.equal(ds.shape, shape, file);
    assert.equal(ds.examples.length, n, file);
  }
});

Deno.test("held-out numbers never appear in the train split, so exact match measures generalisation", () => {
  const num = (s: string) => Number(s.match(/\d+/)![0]);
  const train = loadDataset(`${DATA}/numbers-train.jsonl`);
  const held = loadDataset(`${DATA}/numbers-heldout.jsonl`);
  if (train.shape === "preference" || held.shape === "preference") throw new Error("unexpected shape");
  const trainNums = new Set(train.examples.map((e) => num(e.messages[0].content)));
  const heldNums = new Set(held.examples.map((e) => num(e.messages[0].content)));
  assert.equal(trainNums.size, 70);
  assert.equal(heldNums.size, 30);
  assert.deepEqual([...heldNums].filter((n) => trainNums.has(n)), []);
});

Deno.test("Hub shapes are normalised to chats: alpaca, messages/conversations, prompt-completion", () => {
  const cases: [string, string][] = [
    ['{"instruction": "Add.", "input": "2 3", "output": "5"}', "Add.\n\n2 3"],
    ['{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}', "hi"],
    [
      '{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}',
      "hi",
    ],
    ['{"prompt": "2+2=", "completion": "4"}', "2+2="],
  ];
  for (const [line, user] of cases) {
    const ds = parseDataset(line, "x.jsonl");
    if (ds.shape === "preference") throw new Error("unexpected shape");
    assert.equal(ds.examples[0].messages[0].content, user);
    assert.equal(ds.examples[0].messages.at(-1)!.role, "assistant");
  }
});

Deno.test("a corrupted copy is rejected naming file, line and field", async (t) => {
  const good = Deno.readTextFileSync(`${DATA}/numbers-train.jsonl`).split("\n");
  const pref = Deno.readTextFileSync(`${DATA}/preferences.jsonl`).split("\n");
  const cases: { name: string; lines: string[]; want: RegExp }[] = [
    {
      name: "bad JSON line",
      lines: [good[0], good[1].slice(0, 20), good[2]],
      want: /copy\.jsonl:2: not valid JSON/,
    },
    {
      name: "missing field",
      lines: [good[0], good[1], JSON.stringify({ instruction: "Write 3 in English words." })],
      want: /copy\.jsonl:3: field "output" is missing \(expected the alpaca shape\)/,
    },
    {
      name: "wrong type",
      lines: [good[0], JSON.stringify({ instruction: "Write 3.", output: 3 })],
      want: /copy\.jsonl:2: field "output": .*expected string/,
    },
    {
      name: "preference row without rejected",
      lines: [pref[0], JSON.stringify({ prompt: "p", chosen: "c", rejected: 7 })],
      want: /copy\.jsonl:2: field "rejected"/,
    },
    {
      name: "not an object",
      lines: ["[1, 2]"],
      want: /copy\.jsonl:1: each line must be a JSON object, got an array/,
    },
    {
      name: "unknown shape",
      lines: ['{"text": "hi"}'],
      want: /copy\.jsonl:1: unknown row shape \(keys: text\)/,
    },
  ];
  const dir = Deno.makeTempDirSync();
  for (const c of cases) {
    await t.step(c.name, async () => {
      Deno.writeTextFileSync(`${dir}/copy.jsonl`, c.lines.join("\n") + "\n");
      let message = "";
      assert.throws(
        () => loadDataset(`${dir}/copy.jsonl`),
        (e: Error) => (message = e.message, c.want.test(message)),
      );
      // One validator: trainRun (as train or eval set, SFT or DPO) refuses the same file with the same message,
      // before any process starts and before a run folder is made.
      const runsDir = Deno.makeTempDirSync();
      const same = (e: Error) => e.message === message;
      const stage = c.lines[0].includes('"chosen"') ? "dpo" : "sft";
      await assert.rejects(
        () => trainRun(numbersRecipe({ stage, dataset: { train: `${dir}/copy.jsonl` } }), { runsDir }),
        same,
      );
      await assert.rejects(
        () => trainRun(numbersRecipe({ stage, dataset: { eval: `${dir}/copy.jsonl` } }), { runsDir }),
        same,
      );
      assert.deepEqual([...Deno.readDirSync(runsDir)], []);
    });
  }
});
