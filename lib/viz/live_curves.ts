/**
 * A live training chart: one notebook output updated in place as events arrive (a few frames a
 * second, the last frame always drawn), so the saved notebook keeps exactly one final figure.
 *
 * @module
 */
import type { TrainEvent } from "../train/events.ts";
import { showFigure } from "./figure.ts";
import type { Figure } from "./figure_types.ts";
import { lossCurves, type LossCurvesOptions } from "./loss_curves.ts";

/** Options for {@linkcode liveCurves}. */
export interface LiveCurvesOptions extends LossCurvesOptions {
  /** Minimum time between frames (default 300 ms). */
  intervalMs?: number;
  /** Run names in legend order, known before their first event (so colours stay put). */
  runs?: string[];
}

/** A live chart. Pass `push` to `compareRuns`'s `onEvent`, or `for(name)` to `trainRun`'s. */
export interface LiveCurves {
  /** Adds an event of run `name`; redraws if the last frame is old enough, or the run ended. */
  push(name: string, event: TrainEvent): Promise<void>;
  /** An `onEvent` callback for one run. */
  for(name: string): (event: TrainEvent) => Promise<void>;
  /** Draws the final frame (always). Await it before the cell ends. */
  finish(): Promise<void>;
  /** The figure as it stands. */
  figure(): Figure;
  /** How many frames were drawn so far. */
  frames(): number;
}

/**
 * Starts a live loss chart. Its output appears with the first event; call `finish()` before the cell ends.
 *
 * @param options Loss-curve options, frame interval, run order.
 * @returns The live chart.
 *
 * @example Replaying a recorded run
 * ```ts
 * import assert from "node:assert/strict";
 * import { liveCurves } from "./live_curves.ts";
 * import { loadRun, replayRun } from "../train/run_store.ts";
 * const live = liveCurves({ runs: ["lora"] });
 * await replayRun(loadRun("data/runs/numbers-lora"), { onEvent: live.for("lora") });
 * await live.finish();
 * assert.deepEqual(live.figure().data.map((t) => t.name), ["lora", "lora · eval"]);
 * ```
 */
export function liveCurves(options: LiveCurvesOptions = {}): LiveCurves {
  const events = new Map<string, TrainEvent[]>((options.runs ?? []).map((n) => [n, []]));
  const interval = options.intervalMs ?? 300;
  const displayId = `ince-live-${crypto.randomUUID()}`;
  let shown = 0, lastDraw = -Infinity, chain: Promise<unknown> = Promise.resolve();

  const figure = (): Figure => lossCurves(Object.fromEntries(events), options);
  const draw = (): Promise<void> => {
    // Frames go out one at a time, in order, even if callers do not await push().
    const next = chain.then(async () => {
      lastDraw = performance.now();
      await showFigure(figure(), { displayId, update: shown > 0 });
      shown++;
    });
    chain = next;
    return next;
  };
  const push = async (name: string, event: TrainEvent): Promise<void> => {
    if (!events.has(name)) events.set(name, []);
    events.get(name)!.push(event);
    const final = event.event === "end" || event.event === "error";
    if (final || (event.event !== "start" && performance.now() - lastDraw >= interval)) await draw();
  };
  return {
    push,
    for: (name) => (event) => push(name, event),
    finish: () => draw(),
    figure,
    frames: () => shown,
  };
}
