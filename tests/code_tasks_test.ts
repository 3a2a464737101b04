import assert from "node:assert/strict";
import { projectRoot } from "../lib/env/paths.ts";
import { loadDataset } from "../lib/data/load_dataset.ts";
import {
  classifyOutcome,
  type CodeOutcome,
  extractCode,
  loadCodePrompts,
  loadCodeTasks,
  runCompletions,
} from "../lib/projects/code_tasks.ts";

const DATA = `${projectRoot()}/data/datasets`;
const tasks = loadCodeTasks(`${DATA}/code-tasks.json`);
const train = loadCodePrompts(`${DATA}/code-train.jsonl`);
const heldout = loadCodePrompts(`${DATA}/code-heldout.jsonl`);

Deno.test("the code datasets load as alpaca rows, and every row names a task of the table", () => {
  assert.equal(loadDataset(`${DATA}/code-train.jsonl`).shape, "alpaca");
  assert.equal(loadDataset(`${DATA}/code-heldout.jsonl`).shape, "alpaca");
  for (const p of [...train, ...heldout]) {
    const task = tasks.get(p.task);
    assert.ok(task, `${p.id}: unknown task ${p.task}`);
    assert.equal(p.output, task.solution, `${p.id}: the answer is the task's reference solution`);
    assert.ok(p.instruction.includes(task.signature), `${p.id}: the prompt states the signature`);
    assert.ok(p.tokens <= 200, `${p.id}: ${p.tokens} tokens leave too little of the 256-token context`);
  }
  assert.ok(train.every((p) => p.kind === "train"));
});

Deno.test("held-out tasks never appear in training: not their name, solution, tests or prompts", () => {
  const trainText = Deno.readTextFileSync(`${DATA}/code-train.jsonl`);
  const held = [...tasks.values()].filter((t) => t.split === "heldout");
  assert.ok(held.length >= 10, `${held.length} held-out tasks`);
  for (const t of held) {
    assert.ok(!new RegExp(`\\b${t.task}\\b`).test(trainText), `${t.task} is named in code-train.jsonl`);
    assert.ok(
      !trainText.includes(JSON.stringify(t.solution).slice(1, -1)),
      `${t.task}'s solution is in training`,
    );
    assert.ok(!train.some((p) => p.task === t.task), `${t.task} has training rows`);
  }
  // every "unseen" prompt is a held-out task, every other evaluation prompt a training task
  for (const p of heldout) {
    assert.equal(tasks.get(p.task)!.split === "heldout", p.kind === "unseen", p.id);
  }
  // paraphrases are phrasings never trained on; "seen" rows are training rows, on purpose
  const trainPrompts = new Set(train.map((p) => p.instruction));
  for (const p of heldout) {
    assert.equal(trainPrompts.has(p.instruction), p.kind === "seen", `${p.id} (${p.kind})`);
  }
  // no training task is missing its evaluation rows
  for (const t of tasks.values()) {
    if (t.split !== "train") continue;
    for (const kind of ["seen", "paraphrase"]) {
      assert.ok(heldout.some((p) => p.task === t.task && p.kind === kind), `${t.task}: no ${kind} row`);
    }
  }
});

Deno.test("every reference solution passes its own tests in the sandbox, and every wrong solution fails them", async () => {
  const all = [...tasks.values()];
  const results = await runCompletions(
    all.map((t) => ({ task: t.task, kind: t.split === "train" ? "seen" : "unseen" })),
    all.map((t) => [t.solution, t.wrong, `function ${t.task}() { return 0 }`]),
    tasks,
    { concurrency: 4, timeoutMs: 5000 },
  );
  results.forEach((r, i) => {
    assert.equal(r.outcomes[0], "passed", `${all[i].task}: the reference fails its tests`);
    assert.equal(
      r.outcomes[1],
      "wrong answer",
      `${all[i].task}: the wrong solution ${all[i].wrong} is not rejected`,
    );
    assert.equal(r.outcomes[2], "wrong answer", `${all[i].task}: a function returning 0 is not rejected`);
  });
});

Deno.test("runCompletions() sorts failures: syntax, missing function, crash, endless loop — each program run once", async () => {
  const cache = new Map<string, CodeOutcome>();
  const programs = [
    "function double(n: number): number { return n * ; }",
    "function twice(n: number): number { return n * 2; }",
    "function double(n: number): number { return (n as any).foo(); }",
    "function double(n: number): number { while (true) {} }",
    "```ts\nfunction double(n: number): number { return n * 2; }\n```",
    "function double(n: number): number { return n * 2; }",
  ];
  const [r] = await runCompletions([{ task: "double", kind: "train" }], [programs], tasks, {
    cache,
    timeoutMs: 1500,
  });
  assert.deepEqual(r.outcomes, [
    "syntax error",
    "no such function",
    "runtime error",
    "timeout",
    "passed",
    "passed",
  ]);
  assert.equal(r.c, 2);
  assert.equal(cache.size, 5, "the fenced and the bare program are the same code: run once");
  assert.equal(extractCode("```typescript\nx\n```"), "x");
  assert.equal(
    classifyOutcome({ passed: false, timedOut: false, ms: 1, error: "error: Uncaught Error: boom" }, "f"),
    "runtime error",
  );
});

Deno.test("runCompletions() refuses mismatched lengths and unknown tasks", async () => {
  await assert.rejects(
    () => runCompletions([{ task: "double", kind: "train" }], [], tasks),
    /1 prompts but 0/,
  );
  await assert.rejects(
    () => runCompletions([{ task: "nope", kind: "train" }], [["x"]], tasks),
    /unknown task "nope"/,
  );
});
