/**
 * The runner's output routing against stock nbclient, on the same display-heavy notebook: wall time
 * and lost/misplaced cells for each, and the time ratio. Each round runs `runs` copies through each
 * runner (one runner process each, as `nb run` does), the two in alternating order, so that a busy
 * machine slows both alike; the table sums the rounds and each round's ratio is printed too.
 *
 *   deno run -A bench/notebook_runner_bench.ts [runs=5] [cells=40] [rounds=1]
 */
import { runNotebooks } from "../lib/notebook/run_notebooks.ts";
import { countMisplaced, displayHeavyNotebook } from "../tests/notebooks/display_heavy.ts";

const runs = Number(Deno.args[0] ?? 5);
const cells = Number(Deno.args[1] ?? 40);
const rounds = Number(Deno.args[2] ?? 1);
const { notebook, expected } = displayHeavyNotebook(cells);
const dir = Deno.makeTempDirSync({ prefix: "ince-bench-" });
Deno.mkdirSync(`${dir}/in`);
for (let r = 0; r < runs; r++) Deno.writeTextFileSync(`${dir}/in/heavy-${r}.ipynb`, JSON.stringify(notebook));

const runners = [
  { runner: "stock nbclient", settle: false, seconds: 0, failedRuns: 0, badCells: 0 },
  { runner: "ince (routed by msg_id)", settle: true, seconds: 0, failedRuns: 0, badCells: 0 },
];
for (let round = 0; round < rounds; round++) {
  const took: number[] = [];
  for (const row of round % 2 ? [...runners].reverse() : runners) {
    const t0 = performance.now();
    const results = await runNotebooks([`${dir}/in`], {
      out: `${dir}/out-${row.settle}-${round}`,
      settle: row.settle,
      timeout: 60,
    });
    const seconds = (performance.now() - t0) / 1000;
    took[runners.indexOf(row)] = seconds;
    row.seconds += seconds;
    row.failedRuns += results.filter((r) => !r.ok).length;
    row.badCells += countMisplaced(results.map((r) => r.out), expected).bad;
  }
  console.log(
    `round ${round + 1}: stock ${took[0].toFixed(1)} s, routed ${took[1].toFixed(1)} s, ratio ${
      (took[1] / took[0]).toFixed(2)
    }×`,
  );
}
console.table(
  runners.map(({ settle: _, seconds, ...row }) => ({ ...row, seconds: Math.round(seconds * 10) / 10 })),
);
const [stock, routed] = runners;
console.log(
  `${rounds} × ${runs} runs × ${cells} cells: stock nbclient ${stock.seconds.toFixed(1)} s, lost/misplaced ` +
    `${stock.badCells} cells; routed ${routed.seconds.toFixed(1)} s, ${routed.badCells} cells; time ratio ${
      (routed.seconds / stock.seconds).toFixed(2)
    }× stock`,
);
Deno.removeSync(dir, { recursive: true });
