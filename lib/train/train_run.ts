/**
 * Running a fine-tune: spawn the trainer process from the project's Python environment, stream its
 * events (typed), keep everything in the run folder, stop cleanly on abort. This runner is the one writer
 * of `events.jsonl` (each validated event, and the error when the process dies) and of `stderr.log`.
 *
 * @module
 */
import { projectRoot, pythonPath } from "../env/paths.ts";
import { type TrainEvent, TrainEventLineSchema } from "./events.ts";
import { absPath } from "../util/fs.ts";
import { spawnJsonLines } from "../util/json_lines_process.ts";
import { unslothEnvironment } from "./unsloth.ts";
import type { RunConfig, RunConfigInput } from "./run_config.ts";
import { type PreparedRun, prepareRun } from "./run_folder.ts";
export { newRunId } from "./run_folder.ts";

/** Options for {@linkcode trainRun} and {@linkcode trainEvents}. */
export interface TrainRunOptions {
  /** Folder of run folders (default `<project>/runs`). */
  runsDir?: string;
  /** The run's id (default: time + method). Give an existing id with `resume: true`. */
  runId?: string;
  /** Aborting stops the run at the end of the current step, with a checkpoint. */
  signal?: AbortSignal;
  /** Called with every event as it arrives. */
  onEvent?: (event: TrainEvent) => void | Promise<void>;
  /** Extra environment for the trainer. */
  env?: Record<string, string>;
}

/** A finished (or failed, or interrupted) run. */
export interface RunResult {
  id: string;
  dir: string;
  config: RunConfig;
  events: TrainEvent[];
  /** True when the run reached its `end` event. */
  ok: boolean;
  /** The `error` event, if any (`kind: "interrupted"` after an abort). */
  error?: Extract<TrainEvent, { event: "error" }>;
  end?: Extract<TrainEvent, { event: "end" }>;
}

/** An event of one run in a batch. */
export interface BatchEvent {
  /** The run's position in the batch. */
  index: number;
  id: string;
  dir: string;
  /** The run's config as written to its `config.json`. */
  config: RunConfig;
  event: TrainEvent;
}

/** Options for {@linkcode trainBatch} and {@linkcode trainRuns}. */
export interface TrainBatchOptions extends Omit<TrainRunOptions, "runId" | "onEvent"> {
  /** One id per config (default: fresh ids). */
  runIds?: string[];
  /** Called with every event as it arrives, with the run's position in the batch. */
  onEvent?: (event: TrainEvent, index: number) => void | Promise<void>;
}

/** Appends one event to the run's `events.jsonl`: this runner is the file's one writer (one whole line per write). */
function _record(dir: string, event: TrainEvent): void {
  Deno.writeTextFileSync(`${dir}/events.jsonl`, JSON.stringify(event) + "\n", { append: true });
}

function _errorEvent(kind: "runtime" | "interrupted", message: string, hint: string): TrainEvent {
  return { event: "error", protocol: 2, time: Date.now() / 1000, kind, message, hint };
}

/**
 * Runs several configs one after another in ONE trainer process (Python and PyTorch start once —
 * about 8 s saved per run on a CPU), streaming every event with the index of its run. Each run keeps
 * its own folder, seed and events, exactly as if it ran alone (tests/train_test.ts checks that the
 * loss curves are identical). Runs with different launchers go to separate processes.
 *
 * @param inputs The run configs.
 * @param options Run folder, ids, abort signal (stops the current run with a checkpoint and skips the rest).
 * @returns An async iterator of `{ index, id, dir, event }`; every run ends with `end` or `error`.
 * @throws {Error} On an invalid config (before anything starts) or a missing Python environment.
 *
 * @example Three seeds of one config
 * ```ts ignore
 * import { trainBatch } from "./train_run.ts";
 * const base = { model: "data/models/ince-tiny", dataset: { train: "data/datasets/numbers-train.jsonl" } };
 * for await (const { index, event } of trainBatch([0, 1, 2].map((seed) => ({ ...base, train: { seed } })))) {
 *   if (event.event === "end") console.log(index, event.finalLoss);
 * }
 * ```
 */
export async function* trainBatch(
  inputs: RunConfigInput[],
  options: TrainBatchOptions = {},
): AsyncGenerator<BatchEvent> {
  const python = pythonPath();
  const runsDir = absPath(options.runsDir ?? `${projectRoot()}/runs`);
  const runs = inputs.map((input, i) => prepareRun(input, runsDir, options.runIds?.[i]));
  // Consecutive runs with the same launcher share a process.
  const groups: number[][] = [];
  runs.forEach((r, i) => {
    const last = groups.at(-1);
    // Unsloth patches transformers/TRL/PEFT on import and has its own environment: never with peft runs.
    const same = last &&
      JSON.stringify(runs[last[0]].config.launcher) === JSON.stringify(r.config.launcher) &&
      runs[last[0]].config.backend === r.config.backend;
    if (same) last.push(i);
    else groups.push([i]);
  });
  for (const group of groups) {
    if (options.signal?.aborted) {
      for (const i of group) {
        yield* _notStarted(runs, i, "interrupted", "the batch was stopped before it", options);
      }
      continue;
    }
    // Unsloth's runs use its environment's Python when it is installed; without it the trainer (main Python)
    // ends the run with the one-line refusal.
    const own = runs[group[0]].config.backend === "unsloth" ? await unslothEnvironment() : null;
    yield* _runGroup(own?.installed ? own.python : python, runs, group, options);
  }
}

async function* _notStarted(
  runs: PreparedRun[],
  index: number,
  kind: "runtime" | "interrupted",
  why: string,
  options: TrainBatchOptions,
): AsyncGenerator<BatchEvent> {
  const { id, dir, config } = runs[index];
  const event = _errorEvent(
    kind,
    `Run ${id} never started: ${why}.`,
    "Start it again (its config.json is kept).",
  );
  _record(dir, event);
  await options.onEvent?.(event, index);
  yield { index, id, dir, config, event };
}

async function* _runGroup(
  python: string,
  runs: PreparedRun[],
  group: number[],
  options: TrainBatchOptions,
): AsyncGenerator<BatchEvent> {
  const script = `${projectRoot()}/lib/train/python/trainer.py`;
  const first = runs[group[0]].config;
  const configs = group.map((i) => `${runs[i].dir}/config.json`);
  const args = first.launcher.kind === "torchrun"
    ? [
      "-m",
      "torch.distributed.run",
      "--standalone",
      `--nproc_per_node=${first.launcher.nproc}`,
      script,
      ...configs,
    ]
    : [script, ...configs];
  // stderr → the current run's stderr.log (lines near a boundary may land in the neighbour's log).
  let at = 0;
  const logs = new Map<number, Deno.FsFile>();
  const logOf = async (k: number) => {
    if (!logs.has(k)) {
      logs.set(k, await Deno.open(`${runs[group[k]].dir}/stderr.log`, { create: true, append: true }));
    }
    return logs.get(k)!;
  };
  const trainer = spawnJsonLines({
    command: python,
    args,
    cwd: runs[group[0]].dir,
    schema: TrainEventLineSchema,
    where: `the trainer (${runs[group[0]].dir})`,
    env: { TOKENIZERS_PARALLELISM: "false", HF_HUB_DISABLE_PROGRESS_BARS: "1", ...options.env },
    onStderr: async (chunk) => {
      await (await logOf(Math.min(at, group.length - 1))).write(new TextEncoder().encode(chunk));
    },
    signal: options.signal,
  });
  for await (const event of trainer.lines) {
    if (at >= group.length) break;
    const index = group[at], { id, dir, config } = runs[index];
    _record(dir, event);
    if (event.event === "end" || event.event === "error") at++;
    await options.onEvent?.(event, index);
    yield { index, id, dir, config, event };
  }
  const { status, stderrTail: tail } = await trainer.finished;
  for (const f of logs.values()) f.close();
  if (at < group.length) {
    // Killed, crashed before reporting, or a broken environment: say so, and keep it in the run folder.
    const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
    const index = group[at], { id, dir, config } = runs[index];
    const interrupted = options.signal?.aborted && status.success;
    if (!interrupted) {
      const event = _errorEvent(
        "runtime",
        `The trainer ${how} before finishing. Last log lines: ${tail.slice(-5).join(" | ")}`,
        `See ${dir}/stderr.log. Events so far are kept in ${dir}/events.jsonl.`,
      );
      _record(dir, event);
      await options.onEvent?.(event, index);
      yield { index, id, dir, config, event };
      at++;
    }
    const why = interrupted
      ? "the batch was stopped before it"
      : `the trainer process ${how} during run ${id}`;
    for (const k of group.slice(at)) {
      yield* _notStarted(runs, k, interrupted ? "interrupted" : "runtime", why, options);
    }
  }
}

/**
 * Streams a run's events as they happen; the run folder keeps config, events, logs and adapter.
 *
 * @param input The run config (defaults filled from `RunConfigSchema`).
 * @param options Run folder, abort signal.
 * @returns An async iterator of typed events; it ends after `end` or `error`.
 * @throws {Error} On an invalid config or a missing Python environment (with the set-up command).
 *
 * @example Print the loss as it goes
 * ```ts ignore
 * import { trainEvents } from "./train_run.ts";
 * for await (const e of trainEvents({ model: "data/models/ince-tiny", dataset: { train: "data/datasets/numbers-train.jsonl" } })) {
 *   if (e.event === "step") console.log(e.step, e.loss);
 * }
 * ```
 */
export async function* trainEvents(
  input: RunConfigInput,
  options: TrainRunOptions = {},
): AsyncGenerator<TrainEvent> {
  const { runId, onEvent, ...rest } = options;
  for await (
    const { event } of trainBatch([input], {
      ...rest,
      ...(runId ? { runIds: [runId] } : {}),
      ...(onEvent ? { onEvent: (e) => onEvent(e) } : {}),
    })
  ) yield event;
}

function _result(run: PreparedRun, events: TrainEvent[]): RunResult {
  const error = events.find((e) => e.event === "error") as RunResult["error"];
  const end = events.find((e) => e.event === "end") as RunResult["end"];
  return { ...run, events, ok: !!end && !error, error, end };
}

/**
 * Runs several configs to the end in one trainer process (see {@linkcode trainBatch}).
 *
 * @param inputs The run configs.
 * @param options Run folder, ids, abort signal, `onEvent(event, index)` for live plots.
 * @returns One result per config, in order.
 * @throws {Error} On an invalid config or a missing Python environment.
 *
 * @example
 * ```ts ignore
 * import { trainRuns } from "./train_run.ts";
 * import { numbersRecipe } from "./recipes.ts";
 * const [lora, dora] = await trainRuns([numbersRecipe(), numbersRecipe({ method: "dora" })]);
 * console.log(lora.end?.finalLoss, dora.end?.finalLoss);
 * ```
 */
export async function trainRuns(
  inputs: RunConfigInput[],
  options: TrainBatchOptions = {},
): Promise<RunResult[]> {
  const runsDir = absPath(options.runsDir ?? `${projectRoot()}/runs`);
  const events: TrainEvent[][] = inputs.map(() => []);
  const runs: PreparedRun[] = [];
  for await (const { index, id, dir, config, event } of trainBatch(inputs, { ...options, runsDir })) {
    events[index].push(event);
    runs[index] = { id, dir, config };
  }
  return runs.map((run, i) => _result(run, events[i]));
}

/**
 * Runs a fine-tune to the end and returns its events and outcome.
 *
 * @param input The run config.
 * @param options Run folder, abort signal, `onEvent` for live plots.
 * @returns The run: folder, the config as written, events, `ok`, and the `end` or `error` event.
 * @throws {Error} On an invalid config or a missing Python environment.
 *
 * @example
 * ```ts ignore
 * import { trainRun } from "./train_run.ts";
 * const run = await trainRun({ model: "data/models/ince-tiny", dataset: { train: "data/datasets/numbers-train.jsonl" }, train: { maxSteps: 30 } });
 * console.log(run.ok, run.end?.finalLoss);
 * ```
 */
export async function trainRun(input: RunConfigInput, options: TrainRunOptions = {}): Promise<RunResult> {
  const { runId, onEvent, ...rest } = options;
  const [run] = await trainRuns([input], {
    ...rest,
    ...(runId ? { runIds: [runId] } : {}),
    ...(onEvent ? { onEvent: (e) => onEvent(e) } : {}),
  });
  return run;
}
