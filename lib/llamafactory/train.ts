/**
 * Training with LLaMA-Factory as a subprocess, recorded like one of ince's own runs: the run folder holds
 * `config.json` (an ince run config), `events.jsonl` (ince's events, protocol 2), `stderr.log`, and beside them
 * `llamafactory/train.yaml`, `llamafactory/metrics.jsonl` and LLaMA-Factory's `output/`. So `loadRun`/`listRuns`,
 * `liveCurves`, `summarizeRun` and `compareRuns` tables read it unchanged.
 *
 * The events come from LLaMA-Factory's own `output/trainer_log.jsonl`, tailed while it runs, completed by
 * `llamafactory/metrics.jsonl` (written by python/run.py's callback: the full-precision log dicts with
 * `grad_norm` and DPO's `rewards/margins`, which trainer_log.jsonl leaves out, and the model's sizes).
 *
 * @module
 */
import { projectRoot } from "../env/paths.ts";
import type { EventOf, TrainEvent } from "../train/events.ts";
import { newRunId } from "../train/run_folder.ts";
import { parseRunConfig, type RunConfig, type RunConfigInput } from "../train/run_config.ts";
import type { RunResult } from "../train/train_run.ts";
import { absPath, exists } from "../util/fs.ts";
import { spawnJsonLines } from "../util/json_lines_process.ts";
import { modelArg } from "../util/model_source.ts";
import { z } from "zod";
import {
  type LlamaFactoryConfig,
  type LlamaFactoryConfigInput,
  llamaFactoryToRunConfig,
  parseLlamaFactoryConfig,
  toLlamaFactoryYaml,
} from "./config.ts";
import { llamaFactoryPython } from "./environment.ts";

/** Options for {@linkcode llamaFactoryEvents}. */
export interface LlamaFactoryEventsOptions {
  /** python/run.py's `metrics.jsonl` (without it: no `start` event, no grad norms or DPO rewards). */
  metricsFile?: string;
  /** For the `start` event: the method's label (default `lora`) and stage (default `sft`). */
  method?: string;
  stage?: string;
  /** For the `start` event (default: the output folder's parent). */
  runDir?: string;
  /** Only the events that are final as soon as their line is written (start, step, eval): for tailing a live run. */
  live?: boolean;
}

/** One line of `trainer_log.jsonl` (LLaMA-Factory's LogCallback; `None` fields are left out). */
interface _LogRow {
  current_steps: number;
  loss?: number;
  eval_loss?: number;
  lr?: number;
  epoch?: number;
  accuracy?: number;
  elapsed_time?: string;
  total_tokens?: number;
}

/** One line of run.py's `metrics.jsonl`. */
interface _MetricsRow {
  kind: "start" | "log" | "end";
  time: number;
  step?: number;
  logs?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Trainer log keys that have their own field in a step event, or are running totals (the rest go to `metrics`). */
const _STEP_KEYS = new Set([
  "loss",
  "learning_rate",
  "grad_norm",
  "epoch",
  "num_input_tokens_seen",
  "num_tokens",
  "total_flos",
]);
const _isMetric = (k: string) => !_STEP_KEYS.has(k) && !k.startsWith("train_");

/** The complete lines of a JSON-lines file (a last line still being written is left for the next read). */
function _rows<T>(file: string | undefined): T[] {
  if (!file || !exists(file)) return [];
  const text = Deno.readTextFileSync(file);
  const end = text.lastIndexOf("\n");
  if (end < 0) return [];
  return text.slice(0, end).split("\n").filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l) as T;
    } catch {
      throw new Error(
        `${file}:${i + 1}: not JSON: ${l.slice(0, 120)}. Was the file edited? Remove the line.`,
      );
    }
  });
}

/** "1:02:03" → 3723 seconds. */
function _seconds(hms: string | undefined): number {
  if (!hms) return 0;
  return hms.split(":").map(Number).reduce((s, x) => s * 60 + x, 0);
}

function _numbers(
  logs: Record<string, unknown>,
  keep: (k: string) => boolean,
): Record<string, number | null> {
  return Object.fromEntries(
    Object.entries(logs).filter(([k, v]) => keep(k) && (typeof v === "number" || v === null)),
  ) as Record<string, number | null>;
}

/**
 * Turns a LLaMA-Factory output folder — finished, interrupted or still being written — into ince's events:
 * `start` (from metrics.jsonl), a `step` per logged training step and an `eval` per evaluation (from
 * trainer_log.jsonl, with grad norm and the other metrics from metrics.jsonl when given), then `end` from
 * `all_results.json` (or `error{kind: "interrupted"}` when run.py reports a stop on request).
 *
 * @param outputDir LLaMA-Factory's `output_dir`.
 * @param options metrics.jsonl, labels for `start`, and `live` (leave out what is not final yet).
 * @returns The events, in order (protocol 2).
 * @throws {Error} When a line of either file is not JSON (file:line).
 *
 * @example A CLI run's output folder (trainer_log.jsonl and all_results.json only)
 * ```ts
 * import assert from "node:assert/strict";
 * import { llamaFactoryEvents } from "./train.ts";
 * const out = Deno.makeTempDirSync();
 * const row = (step: number, loss: number) => JSON.stringify({ current_steps: step, total_steps: 2, loss, lr: 1e-3 / step, epoch: step / 10, elapsed_time: "0:00:01" });
 * Deno.writeTextFileSync(`${out}/trainer_log.jsonl`, [row(1, 2.5), row(2, 1.5), JSON.stringify({ current_steps: 2, total_steps: 2 })].join("\n") + "\n");
 * Deno.writeTextFileSync(`${out}/all_results.json`, JSON.stringify({ train_loss: 2, train_runtime: 0.5, epoch: 0.2 }));
 * const events = llamaFactoryEvents(out);
 * assert.deepEqual(events.map((e) => e.event), ["step", "step", "end"]);
 * const end = events[2];
 * assert.ok(end.event === "end" && end.finalLoss === 1.5 && end.steps === 2 && end.trainSeconds === 0.5);
 * assert.deepEqual(llamaFactoryEvents(out, { live: true }).map((e) => e.event), ["step", "step"]);
 * ```
 */
export function llamaFactoryEvents(outputDir: string, options: LlamaFactoryEventsOptions = {}): TrainEvent[] {
  // Read trainer_log.jsonl BEFORE metrics.jsonl: run.py writes a step's metrics line before LLaMA-Factory
  // writes its trainer_log line, so every trainer_log line read here has its metrics line already.
  const log = _rows<_LogRow>(`${outputDir}/trainer_log.jsonl`);
  const metrics = _rows<_MetricsRow>(options.metricsFile);
  const start = metrics.find((m) => m.kind === "start");
  const endRow = metrics.find((m) => m.kind === "end");
  const logOf = (step: number, key: string) =>
    metrics.find((m) => m.kind === "log" && m.step === step && m.logs && key in m.logs);
  const t0 = start?.time ?? 0;
  const events: TrainEvent[] = [];
  if (start) {
    events.push({
      event: "start",
      protocol: 2,
      time: start.time,
      versions: start.versions as Record<string, string>,
      device: String(start.device),
      dtype: String(start.dtype),
      method: options.method ?? "lora",
      stage: options.stage ?? "sft",
      totalParams: Number(start.totalParams),
      trainableParams: Number(start.trainableParams),
      trainExamples: Number(start.trainExamples),
      evalExamples: Number(start.evalExamples ?? 0),
      baseLoss: null,
      initLoss: null,
      worldSize: 1,
      runDir: options.runDir ?? absPath(`${outputDir}/..`),
      peftConfig: (start.peftConfig ?? null) as Record<string, unknown> | null,
      targetModules: (start.targetModules ?? []) as string[],
    });
  }
  let last: EventOf<"step"> | undefined;
  for (const row of log) {
    if (row.loss !== undefined) {
      const m = logOf(row.current_steps, "loss");
      const logs = m?.logs ?? {};
      const time = m?.time ?? t0 + _seconds(row.elapsed_time);
      const tokens = row.total_tokens ?? (logs.num_input_tokens_seen as number | undefined) ?? null;
      const extra = m
        ? _numbers(logs, _isMetric)
        : row.accuracy !== undefined
        ? { "rewards/accuracies": row.accuracy }
        : {};
      const step: EventOf<"step"> = {
        event: "step",
        protocol: 2,
        time,
        step: row.current_steps,
        loss: row.loss,
        tokens,
        learningRate: row.lr ?? null,
        gradNorm: (logs.grad_norm as number | undefined) ?? null,
        tokensPerSecond: last && tokens !== null && last.tokens != null && time > last.time
          ? (tokens - last.tokens) / (time - last.time)
          : null,
        peakMemoryBytes: (m?.peakMemoryBytes as number | undefined) ?? 0,
        peakRssBytes: (m?.peakRssBytes as number | undefined) ?? null,
        elapsed: m ? Math.round((time - t0) * 1000) / 1000 : _seconds(row.elapsed_time),
        epoch: row.epoch ?? null,
        metrics: extra,
      };
      events.push(step);
      last = step;
    } else if (row.eval_loss !== undefined) {
      const m = logOf(row.current_steps, "eval_loss");
      events.push({
        event: "eval",
        protocol: 2,
        time: m?.time ?? t0 + _seconds(row.elapsed_time),
        step: row.current_steps,
        evalLoss: row.eval_loss,
        metrics: m?.logs ? _numbers(m.logs, (k) => k.startsWith("eval_") && k !== "eval_loss") : {},
      });
    }
  }
  if (options.live) return events;
  const resultsFile = `${outputDir}/all_results.json`;
  if (!exists(resultsFile)) return events;
  const results = JSON.parse(Deno.readTextFileSync(resultsFile)) as Record<string, number | undefined>;
  const steps = endRow?.step as number | undefined ?? log.at(-1)?.current_steps ?? 0;
  // LLaMA-Factory evaluates after training without writing trainer_log.jsonl (its writer is closed by then).
  const evals = events.filter((e) => e.event === "eval");
  if (results.eval_loss !== undefined && !evals.some((e) => e.step === steps)) {
    const m = metrics.findLast((r) => r.kind === "log" && r.logs && "eval_loss" in r.logs);
    events.push({
      event: "eval",
      protocol: 2,
      time: m?.time ?? last?.time ?? t0,
      step: steps,
      evalLoss: results.eval_loss,
      metrics: _numbers(results, (k) => k.startsWith("eval_") && k !== "eval_loss"),
    });
  }
  const time = endRow?.time ?? last?.time ?? t0;
  if (endRow?.interrupted) {
    events.push({
      event: "error",
      protocol: 2,
      time,
      kind: "interrupted",
      message:
        `Stopped at step ${steps} on request; LLaMA-Factory saved the adapter and a checkpoint in ${outputDir}`,
      hint:
        `The adapter in ${outputDir} is usable as it is; to train on from it, start a new run with adapter_name_or_path: ${outputDir}.`,
      step: steps,
    });
    return events;
  }
  const finalEval = events.findLast((e) => e.event === "eval") as EventOf<"eval"> | undefined;
  const peak = (endRow?.peakMemoryBytes as number | undefined) ?? last?.peakMemoryBytes ?? 0;
  events.push({
    event: "end",
    protocol: 2,
    time,
    steps,
    finalLoss: last?.loss ?? null,
    evalLoss: results.eval_loss ?? finalEval?.evalLoss ?? null,
    trainSeconds: results.train_runtime ?? 0,
    trainRuntime: results.train_runtime ?? null,
    adapter: outputDir,
    // LLaMA-Factory saves a PiSSA adapter as trained (pissa_convert, which would convert it, is off by default).
    convertedToLora: false,
    peakMemoryBytes: peak,
    saved: exists(`${outputDir}/adapter_config.json`) ? "adapter" : "model",
    secondsPerStep: (endRow?.secondsPerStep as number | null | undefined) ?? null,
    evalSeconds: results.eval_runtime ?? null,
    peakRssBytes: (endRow?.peakRssBytes as number | undefined) ?? last?.peakRssBytes ?? null,
  });
  return events;
}

/** A LLaMA-Factory training config as {@linkcode trainLlamaFactory} takes it: `output_dir` is the run's own. */
export type LlamaFactoryTrainInput = Omit<LlamaFactoryConfigInput, "output_dir"> & { output_dir?: string };

/** Options for {@linkcode trainLlamaFactory} and {@linkcode trainLlamaFactoryRun}. */
export interface TrainLlamaFactoryOptions {
  /** Folder of run folders (default `<project>/runs`). */
  runsDir?: string;
  /** The run's id (default: time + `lf-` + stage + a random suffix). */
  runId?: string;
  /** Aborting stops the run at the end of the current step; LLaMA-Factory saves the adapter and a checkpoint. */
  signal?: AbortSignal;
  /** Called with every event as it arrives. */
  onEvent?: (event: TrainEvent) => void | Promise<void>;
  /** The ince run config this run reproduces, for `config.json` (default: mapped back from the LLaMA-Factory keys). */
  runConfig?: RunConfigInput;
  /** Extra environment for LLaMA-Factory (e.g. `OMP_NUM_THREADS`). */
  env?: Record<string, string>;
  /** How often the logs are read while it runs (default 200 ms). */
  pollMs?: number;
}

/** `{ name: file }` of the datasets registered in `dataset_dir/dataset_info.json`. */
function _registered(datasetDir: string): Record<string, string> {
  const file = `${datasetDir}/dataset_info.json`;
  if (!exists(file)) {
    throw new Error(
      `${file} does not exist: register the datasets first (writeDatasetInfo) and set dataset_dir to its folder.`,
    );
  }
  const info = JSON.parse(Deno.readTextFileSync(file)) as Record<string, { file_name?: string }>;
  return Object.fromEntries(
    Object.entries(info).map((
      [name, e],
    ) => [name, e.file_name?.startsWith("/") ? e.file_name : absPath(`${datasetDir}/${e.file_name ?? ""}`)]),
  );
}

/** Paths made absolute (LLaMA-Factory runs in the run folder), the output folder the run's own. */
function _resolve(input: LlamaFactoryTrainInput, dir: string): LlamaFactoryConfig {
  const local = (p: string | undefined) => p === undefined ? undefined : modelArg(p);
  return parseLlamaFactoryConfig({
    ...input,
    model_name_or_path: local(input.model_name_or_path),
    ...(input.adapter_name_or_path ? { adapter_name_or_path: local(input.adapter_name_or_path) } : {}),
    dataset_dir: absPath(input.dataset_dir ?? "data"),
    output_dir: `${dir}/output`,
  }, "trainLlamaFactory config");
}

function _method(c: LlamaFactoryConfig): string {
  if (c.finetuning_type === "full") return "full";
  return c.use_dora ? "dora" : c.pissa_init ? "pissa" : c.loraplus_lr_ratio ? "loraplus" : "lora";
}

function _record(dir: string, event: TrainEvent): void {
  Deno.writeTextFileSync(`${dir}/events.jsonl`, JSON.stringify(event) + "\n", { append: true });
}

/** A prepared LLaMA-Factory run: its folder, config.json and train.yaml written. */
interface _Prepared {
  id: string;
  dir: string;
  config: RunConfig;
  lf: LlamaFactoryConfig;
}

function _prepare(input: LlamaFactoryTrainInput, options: TrainLlamaFactoryOptions): _Prepared {
  const runsDir = absPath(options.runsDir ?? `${projectRoot()}/runs`);
  const id = options.runId ?? newRunId(`lf-${input.stage ?? "sft"}`);
  const dir = `${runsDir}/${id}`;
  if (exists(`${dir}/events.jsonl`)) {
    throw new Error(
      `Run folder ${dir} already holds a run: choose another runId (or leave it out for a fresh one).`,
    );
  }
  const lf = _resolve(input, dir);
  const config = options.runConfig
    ? parseRunConfig(options.runConfig)
    : llamaFactoryToRunConfig(lf, _registered(lf.dataset_dir!));
  Deno.mkdirSync(`${dir}/llamafactory`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify({ ...config, runDir: dir }, null, 2) + "\n");
  Deno.writeTextFileSync(
    `${dir}/llamafactory/train.yaml`,
    toLlamaFactoryYaml(
      lf,
      `LLaMA-Factory training config of ince run ${id} (written by lib/llamafactory/train.ts)`,
    ),
  );
  return { id, dir, config: { ...config, runDir: dir }, lf };
}

/**
 * Trains with LLaMA-Factory (its `run_exp`, what `llamafactory-cli train` runs, in its own Python environment)
 * and streams ince's events while it runs. The run folder `<runsDir>/<id>/` gets `config.json`,
 * `llamafactory/train.yaml`, `llamafactory/metrics.jsonl`, LLaMA-Factory's `output/` (adapter, checkpoints,
 * trainer_log.jsonl, all_results.json), `events.jsonl` (written here only) and `stderr.log` (its whole log).
 *
 * @param input LLaMA-Factory's keys (`output_dir` is replaced by the run's `output/`; relative paths are made absolute).
 * @param options Run folder and id, abort signal, `onEvent`, the ince run config for `config.json`, environment.
 * @returns An async iterator of events; it ends after `end` or `error` (`interrupted` after an abort).
 * @throws {Error} Before anything starts: a config the schema refuses, datasets not registered, a used run id.
 *
 * @example The lesson's SFT run, its loss printed as it goes
 * ```ts ignore
 * import { trainLlamaFactory } from "./train.ts";
 * const sft = { model_name_or_path: "data/models/ince-tiny", dataset: "numbers_train", dataset_dir: "runs/lf-data",
 *   template: "chatml", learning_rate: 1e-3, max_steps: 20, lora_rank: 8, use_cpu: true };
 * for await (const e of trainLlamaFactory(sft)) if (e.event === "step") console.log(e.step, e.loss);
 * ```
 */
export async function* trainLlamaFactory(
  input: LlamaFactoryTrainInput,
  options: TrainLlamaFactoryOptions = {},
): AsyncGenerator<TrainEvent> {
  const python = await llamaFactoryPython(); // first: a missing environment leaves no half-made run folder
  const { dir, lf } = _prepare(input, options);
  yield* _run(python, dir, lf, options);
}

async function* _run(
  python: string,
  dir: string,
  lf: LlamaFactoryConfig,
  options: TrainLlamaFactoryOptions,
): AsyncGenerator<TrainEvent> {
  const metricsFile = `${dir}/llamafactory/metrics.jsonl`;
  const outputDir = `${dir}/output`;
  const log = await Deno.open(`${dir}/stderr.log`, { create: true, append: true });
  const child = spawnJsonLines({
    command: python,
    args: [`${projectRoot()}/lib/llamafactory/python/run.py`, `${dir}/llamafactory/train.yaml`, metricsFile],
    cwd: dir,
    // run.py sends its stdout to stderr: no line is expected here.
    schema: z.never(),
    where: `LLaMA-Factory (${dir})`,
    env: {
      HF_HUB_OFFLINE: "1",
      HF_DATASETS_CACHE: `${dir}/llamafactory/datasets-cache`,
      TOKENIZERS_PARALLELISM: "false",
      HF_HUB_DISABLE_PROGRESS_BARS: "1",
      ...options.env,
    },
    onStderr: async (chunk) => void await log.write(new TextEncoder().encode(chunk)),
    signal: options.signal,
  });
  let exited = false;
  const finished = (async () => {
    for await (const _ of child.lines) { /* none */ }
    return await child.finished;
  })().finally(() => exited = true);
  const eventsOptions = { metricsFile, method: _method(lf), stage: lf.stage, runDir: dir };
  let sent = 0;
  const emit = async function* (events: TrainEvent[]) {
    for (const event of events.slice(sent)) {
      sent++;
      _record(dir, event);
      await options.onEvent?.(event);
      yield event;
    }
  };
  while (!exited) {
    await Promise.race([finished.catch(() => {}), new Promise((r) => setTimeout(r, options.pollMs ?? 200))]);
    yield* emit(llamaFactoryEvents(outputDir, { ...eventsOptions, live: true }));
  }
  const { status, stderrTail } = await finished.finally(() => log.close());
  const events = llamaFactoryEvents(outputDir, { ...eventsOptions, live: !status.success });
  const last = events.at(-1)?.event;
  if (last !== "end" && last !== "error") {
    const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
    const steps = events.filter((e) => e.event === "step").length;
    events.push(
      options.signal?.aborted
        ? {
          event: "error",
          protocol: 2,
          time: Date.now() / 1000,
          kind: "interrupted",
          message: `LLaMA-Factory was stopped on request ${
            steps ? `after ${steps} logged steps` : "before training began"
          } (it ${how}).`,
          hint:
            `What it wrote is kept in ${outputDir} (checkpoints, trainer_log.jsonl) and ${dir}/stderr.log.`,
        }
        : {
          event: "error",
          protocol: 2,
          time: Date.now() / 1000,
          kind: "runtime",
          message: `LLaMA-Factory ${how} before finishing. Last log lines: ${
            stderrTail.slice(-5).join(" | ")
          }`,
          hint: `See ${dir}/stderr.log. Events so far are kept in ${dir}/events.jsonl.`,
        },
    );
  }
  yield* emit(events);
}

/**
 * Trains with LLaMA-Factory to the end (see {@linkcode trainLlamaFactory}) and returns the run like ince's
 * `trainRun` does.
 *
 * @param input LLaMA-Factory's keys.
 * @param options As for {@linkcode trainLlamaFactory}.
 * @returns The run: folder, config.json's config, events, `ok`, and the `end` or `error` event.
 * @throws {Error} As {@linkcode trainLlamaFactory}.
 *
 * @example
 * ```ts ignore
 * import { trainLlamaFactoryRun } from "./train.ts";
 * const run = await trainLlamaFactoryRun({ model_name_or_path: "data/models/ince-tiny", dataset: "numbers_train",
 *   dataset_dir: "runs/lf-data", template: "chatml", learning_rate: 1e-3, max_steps: 20, use_cpu: true });
 * console.log(run.ok, run.end?.finalLoss);
 * ```
 */
export async function trainLlamaFactoryRun(
  input: LlamaFactoryTrainInput,
  options: TrainLlamaFactoryOptions = {},
): Promise<RunResult> {
  const python = await llamaFactoryPython();
  const prepared = _prepare(input, options);
  const events: TrainEvent[] = [];
  for await (const e of _run(python, prepared.dir, prepared.lf, options)) {
    events.push(e);
  }
  const error = events.find((e) => e.event === "error") as RunResult["error"];
  const end = events.find((e) => e.event === "end") as RunResult["end"];
  return {
    id: prepared.id,
    dir: prepared.dir,
    config: prepared.config,
    events,
    ok: !!end && !error,
    error,
    end,
  };
}
