/**
 * Merging adapters on the built-in model, on this CPU: one table of methods (tiny adapters trained
 * for a few steps, all in one trainer process) through the same checks against PEFT's unmerged model,
 * then bad input.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { projectRoot } from "../lib/env/paths.ts";
import { exists } from "../lib/util/fs.ts";
import {
  adapterFolder,
  compareMergedLogits,
  mergeAdapter,
  type MergedComparison,
  type MergedModel,
} from "../lib/infer/merge.ts";
import { trainRuns } from "../lib/train/train_run.ts";
import { numbersRecipe } from "../lib/train/recipes.ts";

const ROOT = projectRoot();
const RUNS = Deno.makeTempDirSync({ prefix: "ince-merge-" });
globalThis.addEventListener("unload", () => Deno.removeSync(RUNS, { recursive: true }));
// Relative to the cwd, as a lesson writes it: mergeAdapter resolves it like generate() does.
const MODEL = relative(Deno.cwd(), `${ROOT}/data/models/ince-tiny`);
const PROMPTS = Deno.readTextFileSync(`${ROOT}/data/datasets/numbers-heldout.jsonl`)
  .trim().split("\n").slice(0, 4).map((l) => JSON.parse(l).instruction as string);

const METHODS = [
  { method: "lora", r: 8, useDora: false },
  { method: "dora", r: 8, useDora: true },
  // PiSSA is saved converted to a plain LoRA adapter of twice the rank, and merges like one.
  { method: "pissa", r: 16, useDora: false },
] as const;

type Method = (typeof METHODS)[number]["method"];
let trained: Promise<Map<Method, string>> | undefined;

/** The three tiny adapters, trained in ONE trainer process (a batch), as their runs' adapter folders. */
function adapters(): Promise<Map<Method, string>> {
  trained ??= trainRuns(
    METHODS.map(({ method }) =>
      numbersRecipe({
        dataset: { eval: undefined },
        method,
        lora: { r: 8, alpha: 16 },
        train: { maxSteps: 8, batchSize: 8, lr: 3e-3, seed: 7, warmupSteps: 0, logEvery: 1, evalEvery: 0 },
      })
    ),
    { runsDir: RUNS, runIds: METHODS.map((m) => m.method) },
  ).then((runs) =>
    new Map(runs.map((run, i) => {
      assert.ok(run.ok, run.error?.message ?? `see ${run.dir}/stderr.log`);
      return [METHODS[i].method, `${run.dir}/adapter`];
    }))
  );
  return trained;
}

/** A tiny adapter trained with `method`, as its run's adapter folder. */
async function adapterFor(method: Method): Promise<string> {
  return (await adapters()).get(method)!;
}

interface Merged {
  adapter: string;
  merged: MergedModel;
  comparison: MergedComparison;
}
const mergedBy = new Map<Method, Promise<Merged>>();

/**
 * Every method's adapter merged into `${RUNS}/<method>/merged` and compared with base + adapter. The
 * methods' merges and comparisons (one Python process each) run side by side, not one after another.
 */
function mergeAll(): Map<Method, Promise<Merged>> {
  if (mergedBy.size === 0) {
    for (const { method } of METHODS) {
      const p = adapterFor(method).then(async (adapter) => {
        const out = `${RUNS}/${method}/merged`;
        const merged = await mergeAdapter({ model: MODEL, adapter, out });
        // The merged folder loads with plain transformers (no PEFT) in the comparison's process.
        const comparison = await compareMergedLogits({
          model: MODEL,
          adapter,
          merged: out,
          prompts: PROMPTS,
        });
        return { adapter, merged, comparison };
      });
      p.catch(() => {}); // reported by the method's own test
      mergedBy.set(method, p);
    }
  }
  return mergedBy;
}

for (const { method, r, useDora } of METHODS) {
  Deno.test(`mergeAdapter() merges a ${method} adapter into a plain model that matches base + adapter`, async () => {
    // Wait for every method's chain, so none of their processes outlives this test (the op sanitizer).
    await Promise.allSettled(mergeAll().values());
    const { adapter, merged, comparison: c } = await mergeAll().get(method)!;
    const info = adapterFolder(adapter);
    assert.equal(info.config.r, r);
    assert.equal(info.config.use_dora, useDora);
    assert.equal(info.config.peft_type, "LORA");
    assert.ok(info.files.some((f) => f.name === "adapter_model.safetensors" && f.bytes > 0));

    const out = `${RUNS}/${method}/merged`;
    assert.equal(merged.dir, out);
    assert.equal(merged.dtype, "float32");
    const names = merged.files.map((f) => f.name);
    for (const f of ["model.safetensors", "config.json", "tokenizer.json", "chat_template.jinja"]) {
      assert.ok(names.includes(f), `${f} missing from ${names.join(", ")}`);
    }
    assert.ok(!names.some((n) => n.startsWith("adapter_")), `adapter files in the merged folder: ${names}`);
    assert.equal(
      merged.files.find((f) => f.name === "model.safetensors")!.bytes,
      Deno.statSync(`${ROOT}/data/models/ince-tiny/model.safetensors`).size,
    );

    console.log(
      `${method}: max |Δlogit| ${c.maxAbsDiff.toExponential(2)}, base vs merged ${
        c.baseMaxAbsDiff.toFixed(3)
      }, ` +
        `merge ${merged.mergeSeconds.toFixed(3)} s (call ${merged.seconds.toFixed(1)} s)`,
    );
    assert.equal(c.perPrompt.length, PROMPTS.length);
    assert.ok(c.maxAbsDiff < 1e-4, `max |Δlogit| ${c.maxAbsDiff}`);
    assert.deepEqual(c.answersMerged, c.answersUnmerged);
    // The adapter changed something, so a no-op merge could not pass.
    assert.ok(c.baseMaxAbsDiff > 1e-3, `base vs merged ${c.baseMaxAbsDiff}`);
  });
}

Deno.test("mergeAdapter() and compareMergedLogits() name a missing adapter folder and what to pass", async () => {
  const missing = `${RUNS}/no-such-run/adapter`;
  for (
    const call of [
      () => mergeAdapter({ model: MODEL, adapter: missing, out: `${RUNS}/x` }),
      () => compareMergedLogits({ model: MODEL, adapter: missing, merged: `${RUNS}/x`, prompts: ["hi"] }),
    ]
  ) {
    await assert.rejects(call, (e: Error) => {
      assert.match(
        e.message,
        /^Adapter folder .*no-such-run\/adapter does not exist .*Pass the adapter\/ folder/,
      );
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  }
  assert.throws(() => adapterFolder(RUNS), /has no adapter_config\.json/);
});

Deno.test("mergeAdapter() leaves a folder that is not a model alone", async () => {
  const adapter = Deno.makeTempDirSync({ dir: RUNS });
  Deno.writeTextFileSync(`${adapter}/adapter_config.json`, JSON.stringify({ peft_type: "LORA", r: 8 }));
  const notes = Deno.makeTempDirSync({ dir: RUNS });
  Deno.writeTextFileSync(`${notes}/notes.txt`, "mine");
  await assert.rejects(
    () => mergeAdapter({ model: MODEL, adapter, out: notes }),
    /Cannot merge into .*: it exists and is not a model folder.*Choose a new or empty folder/,
  );
  await assert.rejects(
    () => mergeAdapter({ model: MODEL, adapter, out: MODEL }),
    /Cannot merge into .*: it is the base model folder/,
  );
  assert.equal(Deno.readTextFileSync(`${notes}/notes.txt`), "mine");
});

Deno.test("mergeAdapter() says when an adapter does not fit the model, and keeps the earlier merge", async () => {
  const adapter = await adapterFor("lora");
  // A copy whose config says rank 4 while its weights have rank 8: the model PEFT builds has the wrong shape.
  const bad = `${RUNS}/bad-adapter`;
  Deno.mkdirSync(bad);
  for (const f of adapterFolder(adapter).files) Deno.copyFileSync(`${adapter}/${f.name}`, `${bad}/${f.name}`);
  const config = JSON.parse(Deno.readTextFileSync(`${bad}/adapter_config.json`));
  Deno.writeTextFileSync(`${bad}/adapter_config.json`, JSON.stringify({ ...config, r: 4 }));

  const out = `${RUNS}/lora/merged`;
  // The table's lora test merged here already, unless it was filtered out.
  if (!exists(`${out}/config.json`)) await mergeAdapter({ model: MODEL, adapter, out });
  const before = [...Deno.readDirSync(out)].map((e) => e.name).sort();
  await assert.rejects(() => mergeAdapter({ model: MODEL, adapter: bad, out }), (e: Error) => {
    assert.doesNotMatch(e.message, /\n/);
    assert.match(
      e.message,
      /^Merging .*bad-adapter into .*ince-tiny failed: the adapter in .*bad-adapter does not fit/,
    );
    assert.match(
      e.message,
      /lora_A\.default\.weight is \[8, 160\] in the adapter but \[4, 160\] in the model/,
    );
    assert.match(e.message, /Use the base model the adapter was trained on/);
    return true;
  });
  assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name).sort(), before);
  assert.ok(![...Deno.readDirSync(`${RUNS}/lora`)].some((e) => e.name.includes(".merging-")));
});
