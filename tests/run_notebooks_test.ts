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

/**
 * Runs `runs` copies of the display-heavy notebook (cell 0 prints 300 ms late), split over `runners`
 * runners working at once (each kernel start and late print is mostly waiting); counts bad cells.
 */
async function runDisplayHeavy(runs: number, settle: boolean, runners = 1) {
  const dir = Deno.makeTempDirSync({ prefix: "ince-heavy-" });
  const { notebook, expected } = displayHeavyNotebook(40, { latePrintMs: 300 });
  const groups: string[][] = Array.from({ length: runners }, () => []);
  for (let r = 0; r < runs; r++) {
    groups[r % runners].push(tempNotebook(dir, `heavy-${String(r).padStart(2, "0")}.ipynb`, notebook));
  }
  const results = (await Promise.all(
    groups.map((paths) => runNotebooks(paths, { out: `${dir}/out`, timeout: 60, settle })),
  )).flat();
  assert.equal(results.length, runs);
  for (const result of results) assert.ok(result.ok, describeFailure(result));
  const counted = countMisplaced(results.map((r) => r.out), expected);
  Deno.removeSync(dir, { recursive: true });
  console.log(
    `display-heavy, ${settle ? "routed" : "stock nbclient"}: ${runs} runs (${runners} at once) × ` +
      `${expected.length} cells, ` +
      `${counted.bad} cells with lost/misplaced outputs`,
  );
  return counted;
}

Deno.test("runNotebooks() loses or misplaces no output of a display-heavy notebook in 12 runs", async () => {
  // Three runners at once: the others' load only makes a late output likelier.
  const { bad, samples } = await runDisplayHeavy(12, true, 3);
  assert.equal(bad, 0, samples.join("\n"));
});

Deno.test("negative control: stock nbclient (settle: false) loses or misplaces outputs of the same notebook", async () => {
  // Cell 0's print comes 300 ms after the cell returned: stock nbclient has stopped reading that cell
  // by then, so the print is dropped or filed under a later cell in every run; the other cells add
  // random losses. So the zero-loss test above cannot pass because nothing was ever late.
  const { bad, badByCell } = await runDisplayHeavy(3, false);
  assert.ok(bad > 0, "stock nbclient lost nothing: the display-heavy notebook no longer exercises the race");
  assert.ok(badByCell[0] > 0, "stock nbclient kept the late print in cell 0: it no longer arrives late");
});

Deno.test("a print 300 ms after its cell returned lands in that cell; a display updated by a later cell keeps its place", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ince-late-" });
  const path = tempNotebook(
    dir,
    "late.ipynb",
    newNotebook([
      codeCell(
        `await Deno.jupyter.display({ "text/plain": "v1" }, { raw: true, display_id: "shared" });\n` +
          `void setTimeout(() => console.log("late"), 300);`,
      ),
      codeCell(
        `await Deno.jupyter.display({ "text/plain": "v2" }, { raw: true, display_id: "shared", update: true });\n` +
          `console.log("next");`,
      ),
    ]),
  );
  const [result] = await runNotebooks([path], { out: `${dir}/out` });
  assert.ok(result.ok, describeFailure(result));
  const cells = readCells(result.out);
  assert.deepEqual(outputKeys(cells[0]), [
    { type: "display_data", what: "text/plain", text: "v2" },
    { type: "stream", what: "stdout", text: "late\n" },
  ]);
  assert.deepEqual(outputKeys(cells[1]), [{ type: "stream", what: "stdout", text: "next\n" }]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("a cell calling Deno.exit(1) fails with 'kernel died in cell 2', and the next notebook still runs", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ince-exit-" });
  tempNotebook(
    dir,
    "a-exits.ipynb",
    newNotebook([
      codeCell('console.log("before")'),
      codeCell("Deno.exit(1);"),
      codeCell('console.log("never")'),
    ]),
  );
  tempNotebook(dir, "b-after.ipynb", newNotebook([codeCell('console.log("still running")')]));
  const [died, after] = await runNotebooks([dir], { out: `${dir}/out` });
  assert.equal(died.ok, false);
  assert.equal(died.error?.kind, "dead-kernel");
  assert.equal(died.error?.index, 1);
  assert.match(
    describeFailure(died),
    /a-exits\.ipynb: kernel died in cell 2 \(index 1\) \(exit code 1\) \(source: Deno\.exit\(1\);\)/,
  );
  const cells = readCells(died.out);
  assert.deepEqual(outputKeys(cells[0]), [{ type: "stream", what: "stdout", text: "before\n" }]);
  assert.deepEqual(outputKeys(cells[2]), []);
  assert.ok(after.ok, describeFailure(after));
  assert.deepEqual(outputKeys(readCells(after.out)[0]), [{
    type: "stream",
    what: "stdout",
    text: "still running\n",
  }]);
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
  const [result] = await runNotebooks([path], { out: `${dir}/out`, timeout: 3 });
  assert.equal(result.ok, false);
  assert.equal(result.error?.kind, "timeout");
  assert.equal(result.error?.index, 1);
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
  const em = Number(
    text.match(/held-out exact match after \d+ steps: (\d+)% \[\d+–\d+%\] — \d+ of \d+ held-out questions/)
      ?.[1],
  );
  assert.ok(em >= 30, `the lesson's fine-tune should teach the skill; exact match ${em}%`);
  // B = 0: the trainer's loss before and right after adding the adapter are the same number.
  const noop = text.match(/: (\S+) before the adapter, (\S+) right after it was added/);
  assert.ok(noop && Math.abs(Number(noop[1]) - Number(noop[2])) < 1e-6, `no-op at init: ${noop?.[0]}`);
  assert.match(text, /s = α\/r = 2; the same α at r = 64 would give s = 0\.5/);
  // The loss/accuracy puzzle, computed: the end tokens are first choices at a low probability.
  const end = text.match(/The end tokens are (\d+)% right as a first choice but get ([\d.]+)% probability/);
  assert.ok(end && Number(end[1]) >= 90 && Number(end[2]) < 20, `end tokens: ${end?.[0]}`);
  assert.match(text, /LoRA changed row lengths too: over 35 adapted matrices/);
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
