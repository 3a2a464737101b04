/**
 * The runner's settling fix against stock nbclient, in the same process and on the same notebook:
 * lost/misplaced cells and wall time for each, and the time ratio.
 *
 *   deno run -A bench/notebook_runner_bench.ts [runs=5] [cells=40] [settle ms list=100]
 */
import { runNotebooks } from "../lib/notebook/run_notebooks.ts";
import { countMisplaced, displayHeavyNotebook } from "../tests/notebooks/display_heavy.ts";

const runs = Number(Deno.args[0] ?? 5);
const cells = Number(Deno.args[1] ?? 40);
const { notebook, expected } = displayHeavyNotebook(cells);
const dir = Deno.makeTempDirSync({ prefix: "ince-bench-" });
for (let r = 0; r < runs; r++) Deno.writeTextFileSync(`${dir}/heavy-${r}.ipynb`, JSON.stringify(notebook));

const rows: { runner: string; settleMs: number; seconds: number; failedRuns: number; badCells: number }[] =
  [];
const settles = (Deno.args[2] ?? "100").split(",").map(Number);
for (
  const [runner, settleMs] of [
    ["stock nbclient", 0] as const,
    ...settles.map((s) => [`ince (settled ${s} ms)`, s] as const),
  ]
) {
  const t0 = performance.now();
  const results = await runNotebooks([dir], { out: `${dir}/out-${settleMs}`, settleMs, timeout: 60 });
  const seconds = (performance.now() - t0) / 1000;
  const { bad } = countMisplaced(results.map((r) => r.out), expected);
  rows.push({
    runner,
    settleMs,
    seconds: Math.round(seconds * 10) / 10,
    failedRuns: results.filter((r) => !r.ok).length,
    badCells: bad,
  });
}
console.table(rows);
const stock = rows[0];
for (const row of rows.slice(1)) {
  console.log(
    `${runs} runs × ${cells} cells: stock nbclient lost/misplaced ${stock.badCells} cells, ${row.runner} ${row.badCells}; ` +
      `time ratio ${(row.seconds / stock.seconds).toFixed(2)}× stock`,
  );
}
Deno.removeSync(dir, { recursive: true });
