import assert from "node:assert/strict";
import {
  barChart,
  figureBundle,
  heatmap,
  liveCurves,
  lossCurves,
  PLOTLY_MIME,
  renderSvg,
  scatter,
  smooth,
  spectrum,
  table,
} from "../lib/viz/mod.ts";
import { loadRun } from "../lib/train/run_store.ts";
import type { TrainEvent } from "../lib/train/events.ts";

const RUNS = ["lora", "dora", "pissa"].map((m) => [m, loadRun(`data/runs/numbers-${m}`)] as const);

/** The numbers of `<g class="trace" data-name=… data-points=…>` groups in an SVG. */
function svgTraces(svg: string): { name: string; points: number }[] {
  return [...svg.matchAll(/<g class="trace [a-z]+" data-name="([^"]*)" data-points="(\d+)"/g)].map((m) => ({
    name: m[1],
    points: Number(m[2]),
  }));
}

Deno.test("lossCurves() draws one train trace per run with every step event, and eval traces beside them", () => {
  const fig = lossCurves(Object.fromEntries(RUNS));
  const train = fig.data.filter((t) => t.meta?.kind === "train");
  assert.deepEqual(train.map((t) => t.name), ["lora", "dora", "pissa"]);
  for (const [name, run] of RUNS) {
    const steps = run.events.filter((e) => e.event === "step");
    const t = train.find((t) => t.name === name)!;
    assert.ok(t.type === "scatter");
    assert.equal(t.y.length, steps.length);
    assert.deepEqual(t.x, steps.map((s) => (s as { step: number }).step));
    const evals = fig.data.find((t) => t.name === `${name} · eval`);
    assert.ok(evals && evals.type === "scatter");
    assert.equal(evals.y.length, run.events.filter((e) => e.event === "eval").length);
  }
  // Different runs get different colours, the eval trace shares its run's colour.
  const colors = train.map((t) => t.type === "scatter" && t.line?.color);
  assert.equal(new Set(colors).size, 3);
});

Deno.test("lossCurves() puts tokens or seconds on the x axis, increasing", () => {
  for (const x of ["tokens", "seconds"] as const) {
    const fig = lossCurves({ lora: RUNS[0][1] }, { x });
    const t = fig.data[0];
    assert.ok(t.type === "scatter");
    const xs = t.x as number[];
    assert.ok(xs.every((v, i) => i === 0 || v >= xs[i - 1]), `${x} must not decrease`);
    assert.ok(xs.at(-1)! > xs[0], `${x} must grow`);
    assert.match(fig.layout.xaxis!.title!.text, x === "tokens" ? /tokens/ : /\(s\)/);
  }
});

Deno.test("smooth() is a debiased moving average: constant stays constant, a step is approached", () => {
  assert.deepEqual(smooth([2, 2, 2, 2], 0.9).map((v) => +v.toFixed(12)), [2, 2, 2, 2]);
  const s = smooth([0, 0, 10, 10, 10], 0.5);
  assert.ok(s[2] > 0 && s[2] < 10 && s[4] > s[3]);
  assert.deepEqual(smooth([1, 5], 0), [1, 5]);
});

Deno.test("figureBundle() holds the plotly JSON, a static SVG with the same traces, and a text line", () => {
  const fig = lossCurves(Object.fromEntries(RUNS), { eval: false });
  const bundle = figureBundle(fig);
  assert.deepEqual(bundle[PLOTLY_MIME], fig);
  const svg = bundle["image/svg+xml"] as string;
  assert.deepEqual(
    svgTraces(svg),
    fig.data.map((t) => ({ name: t.name, points: t.type === "heatmap" ? 0 : t.y.length })),
  );
  assert.equal(bundle["text/html"], `<div class="ince-figure-static">${svg}</div>`);
  assert.match(bundle["text/plain"] as string, /^Figure "Training loss": lora \(\d+ points\), dora/);
  // Small enough to keep in every saved notebook: no plotly bundle inlined.
  assert.ok(JSON.stringify(bundle).length < 40_000, `bundle is ${JSON.stringify(bundle).length} bytes`);
});

Deno.test("bar, heatmap, spectrum and scatter figures render with their titles and traces", () => {
  const cases = [
    { fig: barChart({ lora: 1, dora: 2 }, { title: "Params", yTitle: "parameters" }), traces: ["Params"] },
    { fig: barChart({ a: { x: 1, y: 2 }, b: { x: 3, y: 4 } }, { title: "Grouped" }), traces: ["a", "b"] },
    {
      fig: heatmap([[1, 2], [3, 4]], { x: ["e0", "e1"], y: ["t0", "t1"], title: "Routing" }),
      traces: ["value"],
    },
    { fig: spectrum({ q: [3, 2, 1] }, { rank: 2 }), traces: ["q", "q · top 2"] },
    { fig: scatter({ dora: { x: [1, 2], y: [3, 4] } }, { title: "ΔM vs ΔD" }), traces: ["dora"] },
  ];
  for (const { fig, traces } of cases) {
    assert.deepEqual(fig.data.map((t) => t.name), traces);
    const svg = renderSvg(fig);
    assert.deepEqual(svgTraces(svg).map((t) => t.name), traces);
    if (fig.layout.title?.text) assert.ok(svg.includes(fig.layout.title.text));
  }
  assert.throws(() => heatmap([[1, 2], [3]]), /row 1 has 1 values, row 0 has 2/);
  assert.throws(() => scatter({ a: { x: [1], y: [] } }), /"a" has 1 x values but 0 y values/);
});

Deno.test("liveCurves() draws few frames for many events, always the final one, and works outside the kernel", async () => {
  const live = liveCurves({ runs: ["lora", "dora"], intervalMs: 60_000 });
  for (const [name, run] of RUNS.slice(0, 2)) {
    for (const e of run.events) await live.push(name, e as TrainEvent);
  }
  // The first step shows the chart, each finished run ("end") redraws, nothing in between with a long interval.
  assert.equal(live.frames(), 3);
  await live.finish();
  assert.equal(live.frames(), 4);
  const fig = live.figure();
  assert.deepEqual(fig.data.filter((t) => t.meta?.kind === "train").map((t) => t.name), ["lora", "dora"]);
});

Deno.test("table() aligns numbers, formats them, and escapes HTML", () => {
  const b = table([{ method: "<lora>", params: 248320, loss: 2.123456, em: null }], { caption: "Runs" });
  assert.equal(
    b["text/plain"],
    "Runs\nmethod   params   loss  em\n------  -------  -----  --\n<lora>  248,320  2.123   —",
  );
  assert.match(b["text/html"] as string, /<td>&lt;lora&gt;<\/td><td style="text-align:right">248,320<\/td>/);
});

Deno.test("renderSvg() stacks the bars of a stacked bar chart: each term starts where the previous ended", () => {
  const svg = renderSvg(barChart({ a: { x: 1, y: 2 }, b: { x: 3, y: 1 } }, { stacked: true }));
  const rects = [
    ...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill="[^"]+"><title>/g),
  ]
    .map((m) => ({ x: +m[1], y: +m[2], h: +m[3] }));
  assert.equal(rects.length, 4);
  const [ax, , bx] = rects; // a at x, a at y, b at x, b at y
  assert.equal(ax.x, bx.x); // same column
  assert.ok(Math.abs(bx.y + bx.h - ax.y) < 0.2, "b's bar ends where a's begins"); // stacked on top
  assert.ok(Math.abs(bx.h / ax.h - 3) < 0.05); // heights keep the values' ratio 3:1
});
