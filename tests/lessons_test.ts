/**
 * The lessons as a grader and an instructor see them: every lesson passes `nb check`, its solution
 * scores full marks, its student version scores 0 and still passes the checks. And lesson 06, executed
 * headless: one chart with exactly the lora, dora, pissa and full training traces, a seed table equal to the
 * run store's events, and each section's reading.
 */
import assert from "node:assert/strict";
import { projectRoot } from "../lib/env/paths.ts";
import { checkNotebook, formatProblem } from "../lib/notebook/check_notebook.ts";
import { readNotebook } from "../lib/notebook/read_notebook.ts";
import { writeNotebook } from "../lib/notebook/write_notebook.ts";
import { stripSolutions } from "../lib/notebook/student_notebook.ts";
import { cellTags, exerciseMeta } from "../lib/notebook/cells.ts";
import { assertEveryShowingCellHasOutput, executedNotebook } from "./_notebook_asserts.ts";
import { gradeNotebook } from "../lib/grade/grade_notebook.ts";
import { formatGradeTable } from "../lib/grade/report.ts";
import { describeFailure, type NotebookResult, runNotebooks } from "../lib/notebook/run_notebooks.ts";
import { listRuns } from "../lib/train/run_store.ts";
import { summarizeRun } from "../lib/train/compare_runs.ts";
import { seedTableRows, summarizeSeeds } from "../lib/train/seed_summary.ts";
import { PLOTLY_MIME } from "../lib/viz/figure.ts";
import { detectProfile } from "../lib/env/profile.ts";
import { eventsOf } from "../lib/train/events.ts";
import { compareEngines } from "../lib/llamafactory/compare_engines.ts";
import { llamaFactoryEvents } from "../lib/llamafactory/train.ts";
import { parse as parseYaml } from "yaml";

const ROOT = projectRoot();

// notebooks/NN-topic/*.ipynb, and one level deeper for modules with several projects (05-examples/<project>/).
const notebooksIn = (dir: string, depth: number): string[] =>
  [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isFile && e.name.endsWith(".ipynb")
      ? [`${dir}/${e.name}`]
      : e.isDirectory && depth > 0
      ? notebooksIn(`${dir}/${e.name}`, depth - 1)
      : []
  );
const LESSONS = notebooksIn(`${ROOT}/notebooks`, 2).sort();

Deno.test("every lesson passes nb check, grades 100% as written and 0% as its student version", async () => {
  assert.ok(LESSONS.length >= 2, LESSONS.join(", "));
  Deno.mkdirSync(`${ROOT}/out`, { recursive: true });
  const dir = Deno.makeTempDirSync({ prefix: "test-lessons-", dir: `${ROOT}/out` });
  try {
    for (const lesson of LESSONS) {
      const problems = await checkNotebook(lesson);
      assert.deepEqual(problems.map((p) => formatProblem(lesson, p)), []);
      const full = await gradeNotebook(lesson);
      assert.ok(full.max > 0, `${lesson} has graded exercises`);
      assert.equal(full.points, full.max, formatGradeTable(full));
      // Copies sit as deep below the root as the lesson, so its relative paths (../../lib/mod.ts) still resolve.
      const sub = lesson.slice(`${ROOT}/notebooks/`.length).split("/").slice(1, -1).join("/");
      const here = sub ? `${dir}/${sub}` : dir;
      Deno.mkdirSync(here, { recursive: true });
      const student = `${here}/${lesson.split("/").pop()}`;
      writeNotebook(student, stripSolutions(readNotebook(lesson)));
      const zero = await gradeNotebook(student, { source: lesson });
      assert.equal(zero.points, 0, formatGradeTable(zero));
      assert.ok(zero.exercises.every((e) => /TODO: exercise/.test(e.message)), formatGradeTable(zero));
      assert.deepEqual((await checkNotebook(student)).map((p) => formatProblem(student, p)), []);
      // Each exercise broken on purpose (its solution replaced by the stub) loses exactly its own points.
      const nb = readNotebook(lesson);
      for (const [i, cell] of nb.cells.entries()) {
        if (!cellTags(cell).includes("exercise")) continue;
        const id = exerciseMeta(cell).exercise!;
        const broken = structuredClone(nb);
        broken.cells[i] = stripSolutions({ ...nb, cells: [cell] }).cells[0];
        const path = `${here}/broken-${id}.ipynb`;
        writeNotebook(path, broken);
        const r = await gradeNotebook(path, { source: lesson });
        const lost = r.exercises.find((e) => e.id === id)!;
        assert.equal(lost.points, 0, formatGradeTable(r));
        assert.equal(r.points, full.max - lost.max, formatGradeTable(r));
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("lesson 06 runs headless: one live chart (lora, dora, pissa, full), a seed table equal to the run store, and each section's measured reading", async () => {
  const out = Deno.makeTempDirSync({ prefix: "ince-lesson06-" });
  try {
    const t0 = performance.now(), startedAt = Date.now();
    const [result] = await runNotebooks([`${ROOT}/notebooks/06-advanced-techniques`], { out, html: true });
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(result.ok, describeFailure(result));
    console.log(`lesson 06 ran in ${seconds.toFixed(0)} s`);
    type Output = { output_type: string; data?: Record<string, unknown>; text?: string[] };
    const cells = readNotebook(result.out).cells as unknown as { outputs?: Output[] }[];
    const outputs = cells.flatMap((c) => c.outputs ?? []);
    const figures = outputs.filter((o) => o.data?.[PLOTLY_MIME]).map((o) =>
      o.data![PLOTLY_MIME] as { data: { name: string; y: number[]; meta?: { kind: string } }[] }
    );
    const curves = figures.filter((f) => f.data.some((t) => t.meta?.kind === "train"));
    assert.equal(curves.length, 1, "exactly one training chart");
    const train = curves[0].data.filter((t) => t.meta?.kind === "train");
    assert.deepEqual(train.map((t) => t.name), ["lora", "dora", "pissa", "full"]);
    // The seed table equals the run store: the lesson's runs, summarised again from their folders.
    const tables = outputs.map((o) => o.data?.["text/html"]).map((v) =>
      Array.isArray(v) ? v.join("") : String(v ?? "")
    );
    const cellsOf = (caption: string) => {
      const html = tables.find((h) => h.includes(caption));
      assert.ok(html, `table "${caption}" is in the executed notebook`);
      return [...html.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) =>
        [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1])
      )
        .filter((c) => c.length);
    };
    const mine = listRuns().filter((r) => Deno.statSync(r.dir).mtime!.getTime() >= startedAt - 1000);
    assert.equal(mine.length, 12, `4 variants × 3 seeds: ${mine.map((r) => r.id).join(", ")}`);
    const expected = seedTableRows(
      summarizeSeeds(
        mine.sort((a, b) => a.config.train.seed - b.config.train.seed).map((r) =>
          summarizeRun(r.config.method, { ...r, ok: r.status === "done" })
        ),
      ),
      { costs: true },
    );
    const seedRows = cellsOf("mean ± sd over 3 seeds");
    assert.deepEqual(seedRows.map((r) => r[0]).sort(), ["dora", "full", "lora", "pissa"]);
    for (const row of seedRows) {
      const want = expected.find((e) => e.variant === row[0])!;
      const cols = [
        "train ms/step",
        "held-out loss",
        "exact match %",
        "exact match, pooled [95% CI]",
        "init s",
      ];
      for (const [k, col] of cols.entries()) {
        assert.equal(row[2 + k].replace(/&lt;/g, "<"), String(want[col]), `${row[0]}: ${col}`);
      }
    }
    assertEveryShowingCellHasOutput(result.out);
    const text = outputs.filter((o) => o.output_type === "stream").map((o) => o.text!.join("")).join("");
    assert.match(text, /^Rule: a difference in held-out loss counts only when/m);
    assert.match(text, /^pissa vs lora: held-out loss \d\.\d{3} ± \d\.\d{3} vs/m);
    assert.match(text, /^pissa reached loss ≤ \d\.\d\d in /m);
    assert.match(text, /So here, on this model and data, PiSSA did (not )?converge/);
    assert.equal(cellsOf("DoRA Fig. 2, measured on this run").length, 3);
    // Every adapter started as a no-op: the trainer's base and init losses agree.
    for (const [method, , , , diff] of cellsOf("Each adapter starts as a no-op")) {
      assert.ok(Number(diff) < 1e-3, `${method}: |base − init loss| = ${diff}`);
    }
    assert.match(text, /its saved adapter has rank 32/);
    assert.match(
      text,
      /Without the balancing loss the routing collapsed on every seed; with it, it stayed spread on every seed/,
    );
    assert.match(text, /Parameters per token: [\d,]+ active of [\d,]+/);
    assert.ok(result.html && Deno.readTextFileSync(result.html).includes("ince-figure"));
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});

Deno.test("lesson 02 runs headless: LoRA from scratch, PEFT's own config and counts, sweeps over seeds, merge == unmerged", async () => {
  const out = Deno.makeTempDirSync({ prefix: "ince-lesson02-" });
  try {
    const t0 = performance.now();
    const [result] = await runNotebooks([`${ROOT}/notebooks/02-huggingface-peft`], { out });
    assert.ok(result.ok, describeFailure(result));
    console.log(`lesson 02 ran in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    assertEveryShowingCellHasOutput(result.out);
    type Output = { output_type: string; data?: Record<string, unknown>; text?: string[] };
    const outputs = (readNotebook(result.out).cells as unknown as { outputs?: Output[] }[]).flatMap((c) =>
      c.outputs ?? []
    );
    const text = outputs.filter((o) => o.output_type === "stream").map((o) => o.text!.join("")).join("");
    assert.match(text, /at step 0, max \|h − Wx\| = 0\n/);
    assert.match(text, /predicted in TypeScript: [\d,]+ — the same\./);
    const merged = text.match(/max \|Δlogit\| merged vs base \+ adapter: (\S+);/);
    assert.ok(merged && Number(merged[1]) < 1e-4, `merged vs unmerged: ${merged?.[1]}`);
    assert.equal([...text.matchAll(/optimizer state = 8\.00 bytes per trained parameter/g)].length, 2);
    const traces = outputs.filter((o) => o.data?.[PLOTLY_MIME]).map((o) =>
      (o.data![PLOTLY_MIME] as { data: { name: string; meta?: { kind: string } }[] }).data
        .filter((t) => t.meta?.kind === "train").map((t) => t.name)
    ).filter((names) => names.length);
    assert.deepEqual(traces, [
      ["lora"],
      ["r=1", "r=4", "r=16", "r=64"],
      ["lora", "dora", "adalora", "ia3", "prompt_tuning", "prefix_tuning"],
    ]);
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});

/** An executed lesson, its run time, and the folder of its executed copy (the consuming test removes it). */
interface Executed {
  result: NotebookResult;
  seconds: number;
  out: string;
}
/** Lessons executed beside another lesson's test, by module folder, for their own test to check. */
const executedBeside = new Map<string, Executed>();

/**
 * Executes lesson `main` and lesson `beside` at the same time, one thread each: on 2 cores the pair takes about as
 * long as the longer one alone (measured: 03 + 01 in 110 s, 04 + 07 in 214 s, against 160 s and 380 s one after
 * the other). Returns `main`'s execution; `beside`'s waits in {@linkcode executedBeside} for its own test.
 */
async function executeBeside(main: string, beside: string, out: string): Promise<Executed> {
  const t0 = performance.now();
  const oneThread = { OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const run = (lesson: string, dir: string) =>
    runNotebooks([`${ROOT}/notebooks/${lesson}`], { out: dir, env: oneThread })
      .then(([result]) => ({ result, seconds: (performance.now() - t0) / 1000, out: dir }));
  const [mine, other] = await Promise.all([
    run(main, out),
    run(beside, Deno.makeTempDirSync({ prefix: `ince-lesson${beside.slice(0, 2)}-` })),
  ]);
  executedBeside.set(beside, other);
  console.log(
    `lesson ${main.slice(0, 2)} ran in ${mine.seconds.toFixed(0)} s (lesson ${
      beside.slice(0, 2)
    } beside it, ${other.seconds.toFixed(0)} s)`,
  );
  return mine;
}

/** The execution {@linkcode executeBeside} made for lesson `lesson`, from the test named `by`. */
function takeExecuted(lesson: string, by: string): Executed {
  const e = executedBeside.get(lesson);
  assert.ok(e, `lesson ${lesson} runs beside lesson ${by}: run that test too (e.g. --filter "lesson 0")`);
  return e;
}

Deno.test("lesson 03 runs headless: merge, GGUF f32/f16/Q8_0/Q4_K_M and ONNX measured, Modelfile checked, streamed chats", async () => {
  const out = Deno.makeTempDirSync({ prefix: "ince-lesson03-" });
  try {
    const { result } = await executeBeside("03-ollama", "01-unsloth", out);
    assert.ok(result.ok, describeFailure(result));
    assertEveryShowingCellHasOutput(result.out);
    type Output = { output_type: string; data?: Record<string, unknown>; text?: string[] };
    const outputs = (readNotebook(result.out).cells as unknown as { outputs?: Output[] }[]).flatMap((c) =>
      c.outputs ?? []
    );
    const text = outputs.map((o) =>
      o.output_type === "stream" ? o.text!.join("") : [o.data?.["text/plain"] ?? ""].flat().join("")
    ).join("\n");
    const merged = text.match(/max \|Δlogit\| merged vs base \+ adapter: (\S+) /);
    assert.ok(merged && Number(merged[1]) < 1e-4, `merged vs unmerged: ${merged?.[1]}`);
    assert.match(text, /tensor data [\d,]+ bytes \(= 4 × parameters: true\)/);
    assert.match(text, /Q4_K tensors in the "Q4_K_M" file: 0/);
    const onnx = text.match(/max \|logit_ONNX − logit_PyTorch\| = (\S+) over/);
    assert.ok(onnx && Number(onnx[1]) <= 1e-4, `ONNX vs PyTorch: ${onnx?.[1]}`);
    // The table: the unquantized GGUF and ONNX give transformers' answers (≥ 95 %).
    const html = outputs.map((o) => [o.data?.["text/html"] ?? ""].flat().join("")).find((h) =>
      h.includes("held-out questions, greedy, 1 thread")
    );
    assert.ok(html, "the format table is in the executed notebook");
    const rows = [...html.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) =>
      [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1])
    ).filter((cells) => cells.length);
    assert.deepEqual(rows.map((r) => r[0]), [
      "transformers fp32",
      "GGUF F32",
      "GGUF F16",
      "GGUF Q8_0",
      "GGUF Q4_K_M",
      "ONNX fp32",
    ]);
    for (const row of rows.filter((r) => ["GGUF F32", "GGUF F16", "ONNX fp32"].includes(r[0]))) {
      assert.ok(Number(row[5]) >= 95, `${row[0]}: ${row[5]} % of transformers' answers`);
    }
    assert.match(text, /The Modelfile parses back to the same content/);
    assert.match(
      text,
      /Write 47 in Turkish words\. → .+\n\((llama\.cpp's server at|Ollama:) .*(\d+) pieces streamed/,
    );
    assert.match(text, /Write 58 in Turkish words\. → \S.*\(\d+ tokens in \d+ ms\)/);
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});

Deno.test("lesson 01 runs headless: FLOPs formula = FlopCounterMode, padding estimated then measured, rows kept apart, knobs read back, Unsloth refused in one line", () => {
  const { result, out } = takeExecuted("01-unsloth", "03");
  try {
    assert.ok(result.ok, describeFailure(result));
    assertEveryShowingCellHasOutput(result.out);
    const { outputs, text, table } = executedNotebook(result.out);
    const num = (s: string) => Number(s.replace(/,/g, ""));
    const onGpu = /^GPU: /m.test(text);
    if (!onGpu) {
      assert.match(
        text,
        /^No GPU visible to PyTorch: the live GPU runs \(section 6\) are skipped; recorded GPU runs are shown instead\.$/m,
      );
    }
    // FLOPs: the formula equals PyTorch's count for a full fine-tune; LoRA counts less.
    const [formula, full, lora] = table("The built-in model (N = ");
    assert.equal(num(formula[1]), num(full[1]));
    assert.equal(num(formula[2]), num(full[2]));
    assert.ok(num(lora[1]) < num(full[1]));
    // Padding: estimated from the data, then measured by the trainer.
    const layouts = table("The built-in model, batches of");
    assert.deepEqual(layouts.map((r) => r[0].split(",")[0]), ["padded", "padding-free", "padding-free"]);
    assert.ok(Number(layouts[1][2]) > 1 && Number(layouts[2][2]) < 1, JSON.stringify(layouts));
    // Two rows: every layout's step-1 loss equals the rows' losses alone; mixed rows would not.
    const two = table("Two rows, losses computed alone");
    assert.deepEqual(two.map((r) => r[0]), [
      "padded",
      "padding-free",
      "packed",
      "rows mixed (counter-example)",
    ]);
    for (const r of two.slice(0, 3)) assert.ok(Number(r[5]) < 1e-4, r.join(" | "));
    assert.ok(Number(two[3][5]) > 0.05, two[3].join(" | "));
    assert.match(two[1][1], /padding_free=true packing=false/);
    assert.match(two[2][1], /padding_free=true packing=true/);
    // The live runs: one chart with the three layouts; padding measured; padding-free keeps the loss curve.
    const charts = outputs.filter((o) => o.data?.[PLOTLY_MIME]).map((o) =>
      (o.data![PLOTLY_MIME] as { data: { name: string; meta?: { kind: string } }[] }).data
        .filter((t) => t.meta?.kind === "train").map((t) => t.name)
    );
    assert.ok(
      charts.some((n) => JSON.stringify(n) === JSON.stringify(["padded", "padding-free", "packed"])),
      JSON.stringify(charts),
    );
    const speed = table("LoRA r8, batch");
    assert.deepEqual(speed.map((r) => r[0]), ["padded", "padding-free", "packed"]);
    assert.ok(parseFloat(speed[0][2]) > 5, `padded run's padding share ${speed[0][2]}`);
    assert.equal(speed[1][2], "0.0 %");
    assert.equal(speed[2][2], "0.0 %");
    assert.equal(speed[0][6], speed[1][6], "padding-free ends at the padded run's loss");
    assert.match(text, /loss curve identical \(\|Δ\| < 1e-4 at every step\)/);
    // DoRA's extra matmul: with dropout 0 PEFT reuses the base output (measured 1.6× here; 1.15× is the floor).
    const dora = table("DoRA vs LoRA, r8");
    assert.deepEqual(dora.map((r) => `${r[0]} ${r[1]}`), ["lora 0.05", "dora 0.05", "lora 0", "dora 0"]);
    assert.ok(Number(dora[3][4]) > 1.15, `DoRA with dropout 0 vs 0.05: ${dora[3][4]}× the speed`);
    // Unsloth: one line on a CPU; the recorded GPU runs (or the line saying there are none).
    if (!onGpu) {
      assert.match(
        text,
        /^Unsloth: Unsloth needs an NVIDIA \(CUDA\) or AMD \(ROCm\) GPU and PyTorch sees none here; use backend "peft"/m,
      );
    }
    assert.match(text, /No recorded GPU runs ship in data\/runs\/ yet|Recorded on a GPU/);
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});

Deno.test("lesson 07 runs headless: CAI, RLAIF + DPO and context distillation measured on held-out prompts", async () => {
  const out = Deno.makeTempDirSync({ prefix: "ince-lesson07-" });
  try {
    const { result } = await executeBeside("07-system-prompt-modification", "04-quantization", out);
    assert.ok(result.ok, describeFailure(result));
    assertEveryShowingCellHasOutput(result.out);
    const { text, html, table } = executedNotebook(result.out);
    assert.deepEqual(table("Per model, on prompts never trained on").map((r) => r[0]), ["sft", "cai", "dpo"]);
    assert.deepEqual(table("Judge win rates").map((r) => r[0]), ["cai vs sft", "dpo vs sft", "dpo vs cai"]);
    assert.equal(table("on 20 held-out questions").length, 3);
    // The helpful-only model never refuses; CAI's revisions teach refusing, which the interval rule calls real.
    assert.match(text, /harmful on red-team: SFT 100% → CAI \d+% — a real change/);
    assert.match(html, /130 prompts → \d+ preference pairs/);
    assert.match(text, /→ 11\.7× cheaper, not 1000×\./);
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});

Deno.test("lesson 04 runs headless: NF4 levels rebuilt, estimate within 5 % of PyTorch's peak, QLoRA's arithmetic on a CPU", () => {
  const { result, out } = takeExecuted("04-quantization", "07");
  try {
    assert.ok(result.ok, describeFailure(result));
    assertEveryShowingCellHasOutput(result.out);
    type Output = { output_type: string; data?: Record<string, unknown>; text?: string[] };
    const outputs = (readNotebook(result.out).cells as unknown as { outputs?: Output[] }[]).flatMap((c) =>
      c.outputs ?? []
    );
    const text = outputs.filter((o) => o.output_type === "stream").map((o) => o.text!.join("")).join("");
    const gap = text.match(/largest \|rebuilt − published\| = (\S+)\n/);
    assert.ok(gap && Number(gap[1]) < 1e-6, `NF4 levels: ${gap?.[1]}`);
    const estimate = text.match(/largest gap between estimate and measurement: ([\d.]+)%/);
    assert.ok(estimate && Number(estimate[1]) < 5, `estimate vs measured: ${estimate?.[1]}%`);
    assert.match(text, /"4× less" holds for the linear weights alone \(3\.88×\)/);
    if (detectProfile() === "cpu") assert.match(text, /No CUDA or ROCm GPU here: .* skipped\./);
    const traces = outputs.filter((o) => o.data?.[PLOTLY_MIME]).map((o) =>
      (o.data![PLOTLY_MIME] as { data: { name: string; meta?: { kind: string } }[] }).data
        .filter((t) => t.meta?.kind === "train").map((t) => t.name)
    ).filter((names) => names.length);
    assert.deepEqual(traces, [["lora (fp32 base)", "qlora (nf4 base)", "qdora (nf4 base)"]]);
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});

Deno.test("lesson 05 runs headless: three projects, each with held-out metrics and Wilson intervals", async () => {
  const out = Deno.makeTempDirSync({ prefix: "ince-lesson05-" });
  try {
    const t0 = performance.now();
    // The three projects run side by side, their Python processes one thread each (a 2-core CPU: ≈ 187 s instead
    // of ≈ 296 s one after the other); each has its own output folder.
    const projects = [...Deno.readDirSync(`${ROOT}/notebooks/05-examples`)].filter((e) => e.isDirectory)
      .map((e) => e.name).sort();
    const oneThread = { OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
    const results = (await Promise.all(
      projects.map((p) =>
        runNotebooks([`${ROOT}/notebooks/05-examples/${p}`], { out: `${out}/${p}`, env: oneThread })
      ),
    )).flat();
    console.log(
      `lesson 05 (${results.length} notebooks) ran in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    assert.equal(results.length, 3);
    for (const result of results) {
      assert.ok(result.ok, describeFailure(result));
      assertEveryShowingCellHasOutput(result.out);
      type Output = { output_type: string; data?: Record<string, unknown>; text?: string[] };
      const outputs = (readNotebook(result.out).cells as unknown as { outputs?: Output[] }[]).flatMap((c) =>
        c.outputs ?? []
      );
      const shown = outputs.map((o) =>
        [o.text?.join("") ?? "", String(o.data?.["text/plain"] ?? "")].join("")
      ).join("\n");
      assert.match(shown, /\d+% \[\d+–\d+%\]/, `${result.out}: no rate with its interval`);
      const traces = outputs.filter((o) => o.data?.[PLOTLY_MIME]).flatMap((o) =>
        (o.data![PLOTLY_MIME] as { data: { meta?: { kind: string } }[] }).data.filter((t) =>
          t.meta?.kind === "train"
        )
      );
      assert.ok(traces.length > 0, `${result.out}: no live training curve`);
    }
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});

Deno.test("lesson 08 runs headless: LLaMA-Factory's parser on the course YAML, datasets loaded, ince = LLaMA-Factory on one recipe, SFT → DPO from ln 2, export checked", async () => {
  const out = Deno.makeTempDirSync({ prefix: "ince-lesson08-" });
  try {
    const t0 = performance.now(), startedAt = Date.now();
    const [result] = await runNotebooks([`${ROOT}/notebooks/08-llamafactory`], { out });
    assert.ok(result.ok, describeFailure(result));
    console.log(`lesson 08 ran in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    assertEveryShowingCellHasOutput(result.out);
    const { outputs, text, table } = executedNotebook(result.out);
    // The course's YAML: LLaMA-Factory's own parser names every problem.
    assert.deepEqual(
      table("The course's YAML").map((r) => r[0]).sort(),
      ["batch_size", "dataset", "learning_rate", "lora_r", "model_name_or_path", "num_epochs", "template"],
    );
    // Every registered dataset loads in LLaMA-Factory with ince's row count.
    const datasets = table("Each registered dataset, loaded by LLaMA-Factory and by ince");
    assert.deepEqual(datasets.map((r) => r[0]), ["numbers_train", "identity", "preferences"]);
    for (const [name, , lf, ince] of datasets) assert.equal(lf, ince, name);
    // One live chart with both engines.
    const charts = outputs.filter((o) => o.data?.[PLOTLY_MIME]).map((o) =>
      (o.data![PLOTLY_MIME] as { data: { name: string; meta?: { kind: string } }[] }).data
        .filter((t) => t.meta?.kind === "train").map((t) => t.name)
    );
    assert.deepEqual(charts.find((names) => names.includes("ince")), ["ince", "LLaMA-Factory"]);
    assert.match(text, /^ince and LLaMA-Factory agree within 0\.0001 at all 30 steps/m);
    assert.match(text, /^ince and LLaMA-Factory \(template qwen\) differ already at step 1 /m);
    // The same comparison again, from the run store (what the lesson's runs left on disk).
    const runsDir = `${ROOT}/out/08-llamafactory/runs`;
    const mine = listRuns(runsDir).filter((r) => Deno.statSync(r.dir).mtime!.getTime() >= startedAt - 1000);
    const lfRuns = mine.filter((r) => {
      try {
        return Deno.statSync(`${r.dir}/llamafactory/train.yaml`).isFile;
      } catch {
        return false;
      }
    });
    const yamlOf = (r: { dir: string }) =>
      parseYaml(Deno.readTextFileSync(`${r.dir}/llamafactory/train.yaml`)) as Record<string, unknown>;
    const lfSft = lfRuns.find((r) => {
      const y = yamlOf(r);
      return y.stage === "sft" && y.template === "chatml" && !y.use_dora && !y.pissa_init &&
        !y.loraplus_lr_ratio;
    })!;
    const inceSft = mine.find((r) => !lfRuns.includes(r) && r.config.method === "lora")!;
    assert.ok(lfSft && inceSft, mine.map((r) => r.id).join(", "));
    const again = compareEngines(inceSft.events, lfSft.events);
    assert.equal(again.rows.length, 30);
    assert.ok(again.maxDiff <= 1e-4, `|Δ loss| ${again.maxDiff}`);
    // Events made from LLaMA-Factory's own trainer_log.jsonl match its final metrics and the recorded events.
    const results = JSON.parse(Deno.readTextFileSync(`${lfSft.dir}/output/all_results.json`));
    const losses = eventsOf(lfSft.events, "step").map((e) => e.loss);
    assert.ok(Math.abs(losses.reduce((a, b) => a + b, 0) / losses.length - results.train_loss) < 1e-6);
    assert.deepEqual(
      eventsOf(llamaFactoryEvents(`${lfSft.dir}/output`), "step").map((e) => e.loss),
      losses,
    );
    // DPO from the merged SFT model: the policy is the reference at step 1, so the loss is ln 2.
    const dpo = lfRuns.find((r) => yamlOf(r).stage === "dpo")!;
    const [first] = eventsOf(dpo.events, "step");
    assert.ok(Math.abs(first.loss - Math.LN2) < 1e-4, `DPO step 1 loss ${first.loss}`);
    assert.ok(eventsOf(dpo.events, "step").every((e) => typeof e.metrics["rewards/margins"] === "number"));
    // DoRA, PiSSA, LoRA+: PEFT saved what the keys asked for, and both engines agree.
    const methods = table("Each method in both engines");
    assert.deepEqual(methods.map((r) => r[0]), ["dora", "pissa", "lora+"]);
    assert.match(methods[0][2], /use_dora true/);
    assert.match(methods[1][2], /pissa_niter_4/);
    for (const row of methods) assert.match(row.at(-1)!, /agree within 0\.0001 at all 30 steps/, row[0]);
    // Export: the merged model equals base + adapter in ince's environment; the Modelfile renders like ince-tiny's.
    const logits = text.match(/largest logit difference (\S+); greedy answers equal: true/);
    assert.ok(logits && Number(logits[1]) < 1e-4, text);
    assert.match(text, /its TEMPLATE renders the conversation exactly like ince-tiny's own template/);
    assert.match(text, /^GGUF \(f16\): [\d.]+ MB/m);
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});
