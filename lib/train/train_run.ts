/**
 * Running a fine-tune: spawn the trainer process from the project's Python environment, stream its
 * events (typed), keep everything in the run folder, stop cleanly on abort.
 *
 * @module
 */
import { projectRoot, pythonPath } from "../env/paths.ts";
import { parseEvent, type TrainEvent } from "./events.ts";
import { exists } from "../util/fs.ts";
import { readLines } from "../util/lines.ts";
import { parseRunConfig, type RunConfig, type RunConfigInput } from "./run_config.ts";

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

function _abs(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

/** Makes relative paths absolute (a notebook's cwd is its own folder; the trainer's is not). */
function _resolvePaths(config: RunConfig): RunConfig {
  const model = exists(config.model) ? _abs(config.model) : config.model;
  return {
    ...config,
    model,
    dataset: {
      train: _abs(config.dataset.train),
      ...(config.dataset.eval ? { eval: _abs(config.dataset.eval) } : {}),
    },
  };
}

/**
 * A fresh run id: UTC time, method and a short random suffix, e.g. `20261126T153000-dora-3f2a`.
 *
 * @param method The method, for readability.
 * @returns The id.
 *
 * @example
 * ```ts
 * import { newRunId } from "./train_run.ts";
 * console.log(newRunId("lora").includes("-lora-")); // true
 * ```
 */
export function newRunId(method: string): string {
  return `${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${method}-${
    crypto.randomUUID().slice(0, 4)
  }`;
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
  const config = _resolvePaths(parseRunConfig(input));
  const python = pythonPath();
  const runsDir = _abs(options.runsDir ?? `${projectRoot()}/runs`);
  const id = options.runId ?? newRunId(config.method);
  const dir = `${runsDir}/${id}`;
  if (config.resume && !exists(`${dir}/checkpoints`)) {
    throw new Error(
      `Cannot resume run ${id}: ${dir}/checkpoints does not exist. Pass the runId of an interrupted run.`,
    );
  }
  Deno.mkdirSync(dir, { recursive: true });
  const full = { ...config, runDir: dir };
  Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify(full, null, 2) + "\n");

  const trainer = `${projectRoot()}/lib/train/python/trainer.py`;
  const args = config.launcher.kind === "torchrun"
    ? [
      "-m",
      "torch.distributed.run",
      "--standalone",
      `--nproc_per_node=${config.launcher.nproc}`,
      trainer,
      `${dir}/config.json`,
    ]
    : [trainer, `${dir}/config.json`];
  const child = new Deno.Command(python, {
    args,
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: {
      PYTHONUNBUFFERED: "1",
      TOKENIZERS_PARALLELISM: "false",
      HF_HUB_DISABLE_PROGRESS_BARS: "1",
      ...options.env,
    },
  }).spawn();
  const onAbort = () => {
    try {
      child.kill("SIGINT");
    } catch {
      // already gone
    }
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  // stderr → stderr.log, keeping the tail for error messages.
  const log = await Deno.open(`${dir}/stderr.log`, { create: true, append: true });
  const tail: string[] = [];
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      await log.write(new TextEncoder().encode(chunk));
      tail.push(...chunk.split("\n").filter((l) => l.trim()));
      tail.splice(0, Math.max(0, tail.length - 20));
    }
  })();

  let finished = false, n = 0;
  for await (const line of readLines(child.stdout)) {
    const event = parseEvent(line, `${dir}: event ${++n}`);
    if (event.event === "end" || event.event === "error") finished = true;
    await options.onEvent?.(event);
    yield event;
  }
  const status = await child.status;
  await stderrDone;
  log.close();
  options.signal?.removeEventListener("abort", onAbort);
  if (!finished) {
    // Killed, crashed before reporting, or a broken environment: say so, and keep it in the run folder.
    const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
    const event: TrainEvent = {
      event: "error",
      protocol: 1,
      time: Date.now() / 1000,
      kind: "runtime",
      message: `The trainer ${how} before finishing. Last log lines: ${tail.slice(-5).join(" | ")}`,
      hint: `See ${dir}/stderr.log. Events so far are kept in ${dir}/events.jsonl.`,
    };
    Deno.writeTextFileSync(`${dir}/events.jsonl`, JSON.stringify(event) + "\n", { append: true });
    await options.onEvent?.(event);
    yield event;
  }
}

/**
 * Runs a fine-tune to the end and returns its events and outcome.
 *
 * @param input The run config.
 * @param options Run folder, abort signal, `onEvent` for live plots.
 * @returns The run: folder, events, `ok`, and the `end` or `error` event.
 * @throws {Error} On an invalid config or a missing Python environment.
 *
 * @example
 * ```ts ignore
 * import { trainRun } from "./train_run.ts";
 * const run = await trainRun({ model: "data/models/ince-tiny", dataset: { train: "data/datasets/numbers-train.jsonl" }, train: { maxSteps: 30 } });
 * console.log(run.ok, run.end?.final_loss);
 * ```
 */
export async function trainRun(input: RunConfigInput, options: TrainRunOptions = {}): Promise<RunResult> {
  const id = options.runId ?? newRunId(parseRunConfig(input).method);
  const events: TrainEvent[] = [];
  for await (const e of trainEvents(input, { ...options, runId: id })) events.push(e);
  const dir = `${_abs(options.runsDir ?? `${projectRoot()}/runs`)}/${id}`;
  const config = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`)) as RunConfig;
  const error = events.find((e) => e.event === "error") as RunResult["error"];
  const end = events.find((e) => e.event === "end") as RunResult["end"];
  return { id, dir, config, events, ok: !!end && !error, error, end };
}
