import assert from "node:assert/strict";
import { codeCell, newNotebook } from "../lib/notebook/build_notebook.ts";
import { describeFailure, runNotebooks } from "../lib/notebook/run_notebooks.ts";
import { projectRoot } from "../lib/env/paths.ts";
import { countMisplaced, displayHeavyNotebook, outputKeys } from "./notebooks/display_heavy.ts";
import { assertEveryShowingCellHasOutput } from "./_notebook_asserts.ts";

const ROOT = projectRoot();

function tempNotebook(dir: string, name: string, nb: unknown): string {
  const path = `${dir}/${name}`;
  Deno.writeTextFileSync(path, JSON.stringify(nb));
  return path;
}

function readCells(path: string): Parameters<typeof outputKeys>[0][] {
  return JSON.parse(Deno.readTextFileSync(path)).cells;
}

/** PIDs of Deno kernel processes now running. */
function kernelPids(): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      if (cmd.includes("jupyter") && cmd.includes("--kernel")) pids.push(Number(entry.name));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

Deno.test("runNotebooks() loses or misplaces no output of a display-heavy notebook in 20 runs", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ince-heavy-" });
  const { notebook, expected } = displayHeavyNotebook(40);
  const RUNS = 20;
  for (let r = 0; r < RUNS; r++) tempNotebook(dir, `heavy-${String(r).padStart(2, "0")}.ipynb`, notebook);
  const results = await runNotebooks([dir], { out: `${dir}/out`, timeout: 60 });
  assert.equal(results.length, RUNS);
  for (const result of results) assert.ok(result.ok, describeFailure(result));
  const { bad: lost, samples: problems } = countMisplaced(results.map((r) => r.out), expected);
  console.log(
    `display-heavy: ${RUNS} runs × ${expected.length} cells, ${lost} cells with lost/misplaced outputs`,
  );
  assert.equal(lost, 0, problems.slice(0, 5).join("\n"));
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("runNotebooks() fails a notebook at the throwing cell and keeps the outputs before it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ince-err-" });
  const path = tempNotebook(
    dir,
    "throws.ipynb",
    newNotebook([
      codeCell('console.log("before")'),
      codeCell("const x = 1;"),
      codeCell('throw new Error("boom in the third cell");'),
      codeCell('console.log("never")'),
    ]),
  );
  const [result] = await runNotebooks([path], { out: `${dir}/out` });
  assert.equal(result.ok, false);
  assert.equal(result.error?.index, 2);
  assert.equal(result.error?.kind, "error");
  assert.match(result.error?.message ?? "", /boom in the third cell/);
  assert.match(describeFailure(result), /throws\.ipynb: cell 3 \(index 2\) failed: .*boom in the third cell/);
  const cells = readCells(result.out);
  assert.deepEqual(outputKeys(cells[0]), [{ type: "stream", what: "stdout", text: "before\n" }]);
  assert.equal(outputKeys(cells[2])[0].type, "error");
  assert.deepEqual(outputKeys(cells[3]), []);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("runNotebooks() stops an infinite loop at the timeout and leaves no kernel behind", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ince-loop-" });
  const path = tempNotebook(
    dir,
    "loop.ipynb",
    newNotebook([codeCell('console.log("start")'), codeCell("while (true) {}")]),
  );
  const before = new Set(kernelPids());
  const t0 = performance.now();
  const [result] = await runNotebooks([path], { out: `${dir}/out`, timeout: 3 });
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(result.ok, false);
  assert.equal(result.error?.kind, "timeout");
  assert.equal(result.error?.index, 1);
  assert.ok(seconds < 30, `took ${seconds} s`);
  const left = kernelPids().filter((p) => !before.has(p));
  assert.deepEqual(left, [], `kernel processes left running: ${left.join(", ")}`);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("the beginner lesson runs from its own folder and imports ../../lib/mod.ts", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ince-lesson-" });
  const [result] = await runNotebooks([`${ROOT}/notebooks/00-first-time-beginner`], { out: dir, html: true });
  assert.ok(result.ok, describeFailure(result));
  const cells = readCells(result.out);
  const text = cells.flatMap(outputKeys).map((o) => o.text).join("\n");
  assert.match(text, /PyTorch/);
  const em = Number(text.match(/held-out exact match after \d+ steps: (\d+)%/)?.[1]);
  assert.ok(em >= 30, `the lesson's fine-tune should teach the skill; exact match ${em}%`);
  assert.ok(result.html && Deno.readTextFileSync(result.html).includes("first fine-tune"));
  assertEveryShowingCellHasOutput(result.out);
  assert.match(text, /Overfitting: held-out loss was lowest at step \d+/, "the identity run memorises");
  assert.match(text, /LoRA trained [\d,]+ of [\d,]+ parameters \(\d+\.\d%\)/);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("a progress bar in the notebook is one output updated in place, ending on its final frame", async () => {
  // Inside the project, so the kernel finds deno.json (and its import map) walking up from the cwd.
  Deno.mkdirSync(`${ROOT}/out`, { recursive: true });
  const dir = Deno.makeTempDirSync({ prefix: "test-progress-", dir: `${ROOT}/out` });
  const path = tempNotebook(
    dir,
    "progress.ipynb",
    newNotebook([
      codeCell(
        `import { progressBar } from "../../lib/mod.ts";\n` +
          `const bar = progressBar({ label: "weights", total: 5_000_000, unit: "bytes", intervalMs: 0 });\n` +
          `for (let i = 1; i <= 50; i++) await bar.update(i * 100_000);\n` +
          `await bar.finish("done");`,
      ),
    ]),
  );
  const [result] = await runNotebooks([path], { out: `${dir}/out` });
  assert.ok(result.ok, describeFailure(result));
  const outputs = outputKeys(readCells(result.out)[0]);
  assert.equal(outputs.length, 1, JSON.stringify(outputs));
  assert.match(outputs[0].text, /^weights █{20} 100% 5\.0 MB\/5\.0 MB · .* · done$/);
  Deno.removeSync(dir, { recursive: true });
});
