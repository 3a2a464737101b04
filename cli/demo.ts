/**
 * `deno task demo`: the main job. Runs lesson 06 (LoRA vs DoRA vs PiSSA vs a full fine-tune on the built-in
 * model, three seeds each, the runs recorded under runs/) headless into out/ with an HTML copy, then prints its
 * comparison table (mean ± sd over the seeds).
 *
 * @module
 */
import { describeFailure, runNotebooks } from "../lib/notebook/run_notebooks.ts";
import { projectRoot } from "../lib/env/paths.ts";
import { parseParams } from "../lib/notebook/inject_parameters.ts";

const LESSON = `${projectRoot()}/notebooks/06-advanced-techniques`;
const t0 = performance.now();
try {
  const [result] = await runNotebooks([LESSON], {
    out: "out",
    html: true,
    params: parseParams(Deno.args),
    onEvent: (e) => {
      if (e.event === "start") console.error(`▶ ${e.notebook} (${e.cells} cells)`);
      if (e.event === "cell") console.error(`  cell ${e.index + 1}: ${e.seconds.toFixed(1)} s`);
    },
  });
  if (!result.ok) {
    console.error(`✗ ${describeFailure(result)} → executed copy kept at ${result.out}`);
    Deno.exit(1);
  }
  const cells = JSON.parse(Deno.readTextFileSync(result.out)).cells as {
    outputs?: { data?: Record<string, string | string[]> }[];
  }[];
  const text = (v: string | string[] | undefined) => Array.isArray(v) ? v.join("") : v ?? "";
  const table = cells.flatMap((c) => c.outputs ?? []).map((o) => text(o.data?.["text/plain"]))
    .find((t) => t.startsWith("LoRA vs DoRA vs PiSSA"));
  console.log(`\n${table ?? "(no comparison table found)"}\n`);
  console.error(`✓ ${result.out} + ${result.html} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
} catch (e) {
  console.error(`demo: ${(e as Error).message}`);
  Deno.exit(1);
}
