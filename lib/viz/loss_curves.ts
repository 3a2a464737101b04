/**
 * Training curves of one or more runs, overlaid: train loss (optionally smoothed) as lines, eval loss
 * as dotted markers, against step, tokens seen or seconds.
 *
 * @module
 */
import { type EventOf, eventsOf, type TrainEvent } from "../train/events.ts";
import { COLORWAY } from "./_colors.ts";
import { roundSig } from "./figure.ts";
import type { Figure, ScatterTrace } from "./figure_types.ts";

/** What the x axis counts. */
export type CurveX = "step" | "tokens" | "seconds";

/** Options for {@linkcode lossCurves}. */
export interface LossCurvesOptions {
  /** x axis: optimizer steps (default), tokens seen, or seconds of training. */
  x?: CurveX;
  /** Exponential moving average of the train loss, 0 (none, default) … 0.99, debiased like TensorBoard. */
  smoothing?: number;
  /** Add each run's eval loss as a dotted trace named `<run> · eval` (default true). */
  eval?: boolean;
  /** Chart title (default "Training loss"). */
  title?: string;
  /** Log-scale loss axis (default false). */
  logY?: boolean;
  /**
   * Plot one of the trainer's per-step metrics instead of the loss, e.g. `"rewards/margins"` (DPO: the chosen
   * answer's implicit reward minus the rejected one's); steps without it are skipped, eval points are not drawn.
   */
  metric?: string;
}

/** A run as events, or anything holding its events (a `RunResult`, a `StoredRun`). */
export type RunEvents = readonly TrainEvent[] | { events: readonly TrainEvent[] };

const X_TITLES: Record<CurveX, string> = {
  step: "optimizer step",
  tokens: "tokens seen",
  seconds: "training time (s)",
};

function _events(r: RunEvents): readonly TrainEvent[] {
  return Array.isArray(r) ? r as readonly TrainEvent[] : (r as { events: readonly TrainEvent[] }).events;
}

/**
 * x positions of a run's step events: the step, the trainer's cumulative token count (or, for runs
 * recorded without it, tokens/s × time), or seconds since the first step.
 */
function _xs(steps: EventOf<"step">[], x: CurveX): number[] {
  if (x === "step") return steps.map((s) => s.step);
  const t0 = steps[0] ? steps[0].elapsed : 0;
  if (x === "seconds") return steps.map((s) => roundSig(s.elapsed - t0, 4));
  let acc = 0, prev = t0;
  return steps.map((s) => {
    if (s.tokens != null) return s.tokens;
    acc += (s.tokensPerSecond ?? 0) * Math.max(0, s.elapsed - prev);
    prev = s.elapsed;
    return Math.round(acc);
  });
}

/**
 * The smoothed series: EMA with bias correction, so the first points are not pulled towards 0.
 *
 * @param ys Values.
 * @param weight 0 (none) … <1.
 * @returns The smoothed values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smooth } from "./loss_curves.ts";
 * assert.deepEqual(smooth([1, 1, 1], 0.9).map((v) => +v.toFixed(12)), [1, 1, 1]);
 * assert.deepEqual(smooth([0, 10], 0.5), [0, 20 / 3]);
 * ```
 */
export function smooth(ys: readonly number[], weight: number): number[] {
  if (!(weight > 0)) return [...ys];
  let m = 0;
  return ys.map((y, i) => {
    m = weight * m + (1 - weight) * y;
    return m / (1 - weight ** (i + 1));
  });
}

/**
 * Overlaid loss curves, one colour per run; train traces carry `meta.kind = "train"`, eval traces
 * `meta.kind = "eval"`.
 *
 * @param runs Name → events (or a run holding them), in legend order.
 * @param options x axis, smoothing, eval points, title.
 * @returns A plotly figure.
 *
 * @example Two recorded runs
 * ```ts
 * import assert from "node:assert/strict";
 * import { lossCurves } from "./loss_curves.ts";
 * import { loadRun } from "../train/run_store.ts";
 * const fig = lossCurves({ lora: loadRun("data/runs/numbers-lora"), dora: loadRun("data/runs/numbers-dora") });
 * assert.deepEqual(fig.data.filter((t) => t.meta?.kind === "train").map((t) => t.name), ["lora", "dora"]);
 * ```
 *
 * @example A DPO run's reward margin instead of its loss
 * ```ts
 * import assert from "node:assert/strict";
 * import { lossCurves } from "./loss_curves.ts";
 * import { parseEvent } from "../train/events.ts";
 * const step = (n: number, margin?: number) =>
 *   parseEvent(JSON.stringify({ event: "step", protocol: 2, time: n, step: n, loss: 0.7, elapsed: n, peakMemoryBytes: 0,
 *     metrics: margin === undefined ? {} : { "rewards/margins": margin } }), "example");
 * const fig = lossCurves({ dpo: [step(1, 0.1), step(2), step(3, 0.5)] }, { metric: "rewards/margins" });
 * assert.deepEqual([fig.data[0].x, fig.data[0].y], [[1, 3], [0.1, 0.5]]);
 * ```
 */
export function lossCurves(runs: Record<string, RunEvents>, options: LossCurvesOptions = {}): Figure {
  const x = options.x ?? "step";
  const data: ScatterTrace[] = [];
  Object.entries(runs).forEach(([name, run], i) => {
    const color = COLORWAY[i % COLORWAY.length];
    const events = _events(run);
    const metric = options.metric;
    const steps = eventsOf(events, "step").filter((s) => metric === undefined || s.metrics[metric] != null);
    data.push({
      type: "scatter",
      mode: steps.length === 1 ? "markers" : "lines",
      name,
      legendgroup: name,
      x: _xs(steps, x),
      y: smooth(steps.map((s) => metric === undefined ? s.loss : s.metrics[metric]!), options.smoothing ?? 0)
        .map((v) => roundSig(v)),
      line: { color, width: 2 },
      marker: { color },
      meta: { kind: "train", run: name },
    });
    const evals = eventsOf(events, "eval").filter((e) => e.evalLoss != null);
    if ((options.eval ?? true) && metric === undefined && evals.length) {
      // Eval events carry a step; map it onto the chosen x through the nearest step event.
      const xs = _xs(steps, x);
      const at = (step: number) => {
        if (x === "step") return step;
        const j = steps.findIndex((s) => s.step >= step);
        return xs[j === -1 ? xs.length - 1 : j] ?? 0;
      };
      data.push({
        type: "scatter",
        mode: "lines+markers",
        name: `${name} · eval`,
        legendgroup: name,
        x: evals.map((e) => at(e.step)),
        y: evals.map((e) => roundSig(e.evalLoss!)),
        line: { color, dash: "dot", width: 1.5 },
        marker: { color, size: 7 },
        meta: { kind: "eval", run: name },
      });
    }
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? (options.metric ? options.metric : "Training loss") },
      xaxis: { title: { text: X_TITLES[x] } },
      yaxis: {
        title: { text: options.metric ?? "loss (cross-entropy, nats/token)" },
        type: options.logY ? "log" : "linear",
      },
      template: "plotly_white",
    },
  };
}
