/**
 * Progress bars: in the notebook one output updated in place (a few times a second, the last frame
 * always shown); in a terminal one line rewritten with `\r`; otherwise silent until done.
 *
 * @module
 */
import { display, displayTarget } from "./display.ts";

/** Options for {@linkcode progressBar}. */
export interface ProgressOptions {
  /** What is progressing, e.g. a file name. */
  label: string;
  /** The total (bytes, steps …); unknown when absent. */
  total?: number;
  /** `bytes` formats sizes and rates as KB/MB/GB. */
  unit?: "bytes" | "items";
  /** Minimum time between redraws (default 250 ms). */
  intervalMs?: number;
}

/** A running progress bar. */
export interface ProgressBar {
  /** Report the amount done so far; `detail` adds lines under the bar (e.g. one per file). */
  update(done: number, detail?: string): Promise<void>;
  /** Draw the final frame. */
  finish(message?: string): Promise<void>;
}

/**
 * A size in human units.
 *
 * @param bytes A number of bytes.
 * @returns e.g. "1.5 MB".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./progress.ts";
 * assert.equal(formatBytes(1_500_000), "1.5 MB");
 * assert.equal(formatBytes(999), "999 B");
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = bytes, u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/**
 * The text of one frame: bar, amount, rate and time left.
 *
 * @param label What is progressing.
 * @param done Amount done.
 * @param total Total, if known.
 * @param seconds Time since the start.
 * @param unit Formatting of amounts.
 * @returns One line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressLine } from "./progress.ts";
 * assert.equal(
 *   progressLine("model.safetensors", 50, 100, 1, "items"),
 *   "model.safetensors ██████████░░░░░░░░░░  50% 50/100 · 50/s · 1s left",
 * );
 * ```
 */
export function progressLine(
  label: string,
  done: number,
  total: number | undefined,
  seconds: number,
  unit: "bytes" | "items",
): string {
  const fmt = (n: number) => (unit === "bytes" ? formatBytes(n) : String(Math.round(n)));
  const rate = seconds > 0 ? done / seconds : 0;
  if (!total) return `${label} ${fmt(done)} · ${fmt(rate)}/s`;
  const frac = Math.min(1, done / total);
  const bar = "█".repeat(Math.round(frac * 20)).padEnd(20, "░");
  const left = rate > 0 ? Math.ceil((total - done) / rate) : NaN;
  const eta = Number.isFinite(left) ? ` · ${left}s left` : "";
  return `${label} ${bar} ${String(Math.round(frac * 100)).padStart(3)}% ${fmt(done)}/${fmt(total)} · ${
    fmt(rate)
  }/s${eta}`;
}

let _ids = 0;

/**
 * Starts a progress bar.
 *
 * @param options Label, total, unit.
 * @returns The bar; call `update` as work proceeds and `finish` at the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressBar } from "./progress.ts";
 * const bar = progressBar({ label: "steps", total: 3, unit: "items" });
 * for (let i = 1; i <= 3; i++) await bar.update(i);
 * // Outside the kernel and a terminal nothing is drawn, and nothing throws.
 * await assert.doesNotReject(bar.finish("done"));
 * ```
 */
export function progressBar(options: ProgressOptions): ProgressBar {
  const unit = options.unit ?? "bytes", interval = options.intervalMs ?? 250;
  const t0 = performance.now();
  const target = displayTarget("stderr");
  const kernel = target === "kernel", tty = target === "terminal";
  const id = `ince-progress-${Deno.pid}-${++_ids}`;
  let last = -Infinity, shown = false, done = 0, extra = "";
  const frame = () => progressLine(options.label, done, options.total, (performance.now() - t0) / 1000, unit);
  const draw = async (text: string) => {
    if (kernel) {
      await display({ "text/plain": text }, { displayId: id, update: shown });
      shown = true;
    } else if (tty) {
      await Deno.stderr.write(new TextEncoder().encode(`\r${text}\x1b[K`));
    }
  };
  return {
    async update(value: number, detail?: string): Promise<void> {
      done = value;
      extra = detail ?? "";
      const now = performance.now();
      if (now - last < interval) return;
      last = now;
      // A terminal line is rewritten in place, so it shows the bar only.
      await draw(extra && kernel ? `${frame()}\n${extra}` : frame());
    },
    async finish(message?: string): Promise<void> {
      const text = message ? `${frame()} · ${message}` : frame();
      await draw(text);
      if (tty) await Deno.stderr.write(new TextEncoder().encode("\n"));
    },
  };
}
