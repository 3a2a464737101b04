/**
 * Recorded GPU runs: measurements made on a GPU and shipped in `data/runs/gpu-*` (the trainer's `config.json`
 * and `events.jsonl`, plus `recorded.json` naming the GPU, driver, package versions and date), so that a lesson
 * can show them on a CPU, labelled as recorded. Two benches write them: `bench/gpu_memory_bench.py`
 * (training memory, `gpu-<gpu>-<shape>-<method>/`) and `bench/gpu_train_bench.py` (throughput per backend,
 * `gpu-<gpu>-<shape>-<method>-<backend>/`, with tokens/s, MFU and plain TRL + PEFT's tokens/s in the same run).
 *
 * @module
 */
import { z } from "zod";
import { projectRoot } from "../env/paths.ts";
import { loadRun, type StoredRun } from "./run_store.ts";
import { eventsOf } from "./events.ts";

/** The `schema` value of the recorded.json files this module reads. */
export const RECORDED_GPU_RUN_SCHEMA = "ince.recorded-gpu-run/1";

/** `recorded.json`: where and how a run was recorded (the bench writes more fields; these are checked). */
export const RecordedGpuRunInfoSchema = z.looseObject({
  schema: z.literal(RECORDED_GPU_RUN_SCHEMA),
  gpu: z.looseObject({
    /** `torch.cuda.get_device_name()`, e.g. "NVIDIA H100 80GB HBM3"; "cpu (smoke test, not a GPU)" in a smoke run. */
    name: z.string().min(1),
    totalMemoryBytes: z.number().positive().nullable(),
    driver: z.string().nullable(),
    /** The CUDA version torch was built with (`torch.version.cuda`). */
    cuda: z.string().nullable(),
  }),
  /** True for the bench's CPU smoke run (never shipped in data/runs). */
  smoke: z.boolean(),
  /** The model shape, e.g. "qwen2.5-0.5b" (a random-initialised model of `data/models/shapes/<shape>`). */
  shape: z.string().min(1),
  method: z.string().min(1),
  batchSize: z.number().int().positive(),
  seqLength: z.number().int().positive(),
  versions: z.record(z.string(), z.string().nullable()),
  /** ISO 8601, UTC. */
  date: z.string().min(1),
  /** The bench's command line. */
  command: z.string(),
  /**
   * gpu_train_bench: the bench's backend label — `peft`, `peft-dropout0`, `peft+liger`, `peft+liger+compile`, `unsloth` (absent in
   * gpu_memory_bench's records: `peft` with no throughput setting).
   */
  backend: z.string().min(1).optional(),
  /** gpu_train_bench: the run config's throughput settings that were on (`train.liger`, …), e.g. `{ liger: true }`. */
  knobs: z.record(z.string(), z.boolean()).optional(),
  /** gpu_train_bench: the first steps left out of `throughput.tokensPerSecond`. */
  warmupSteps: z.number().int().min(0).optional(),
  /** gpu_train_bench: what it measured from the events (see bench/gpu_train_bench.py). */
  throughput: z.looseObject({
    /** Real tokens / wall-clock seconds between the end of the warm-up and the last step event. */
    tokensPerSecond: z.number().positive().nullable(),
    /** tokensPerSecond × flopsPerToken / peakFlops (null without a known peak, e.g. on a CPU). */
    mfu: z.number().min(0).nullable(),
  }).optional(),
  /** gpu_train_bench: plain TRL + PEFT with the same rows and settings, measured the same way in the same run. */
  baseline: z.looseObject({ tokensPerSecond: z.number().positive().nullable() }).nullable().optional(),
  /** gpu_train_bench: throughput.tokensPerSecond / baseline.tokensPerSecond. */
  ratioVsBaseline: z.number().positive().nullable().optional(),
});

/** A parsed `recorded.json`. */
export type RecordedGpuRunInfo = z.infer<typeof RecordedGpuRunInfoSchema>;

/** One recorded run, as a row of a table. */
export interface RecordedGpuRun {
  /** The run folder. */
  runDir: string;
  /** The GPU's name, as torch reports it. */
  gpu: string;
  shape: string;
  /** The trainer's method label: lora, qlora, dora, qdora, pissa, full. */
  method: string;
  /** The bench's backend label: `peft` (also every gpu_memory_bench run), `peft+liger`, `unsloth`, … */
  backend: string;
  /** The throughput settings that were on (`{}` for none). */
  knobs: Record<string, boolean>;
  batchSize: number;
  seqLength: number;
  /** `done`, or `failed` (e.g. out of memory: see `error`). */
  status: StoredRun["status"];
  /** `torch.cuda.max_memory_allocated()` over the run (the trainer's `end.peakAllocatedBytes`). */
  peakAllocatedBytes: number | null;
  /** The trainer's mean step time (`end.secondsPerStep`; on a GPU not synchronised, so a lower bound). */
  secondsPerStep: number | null;
  /** Median wall-clock seconds between consecutive `step` events from step 2 on (each waits for the GPU). */
  wallSecondsPerStep: number | null;
  /**
   * gpu_train_bench: its measured tokens/s (warm-up left out). Older records: tokens of one step (from the events'
   * token count, else batch × seq) / `wallSecondsPerStep` (else `secondsPerStep`).
   */
  tokensPerSecond: number | null;
  /** Model FLOPs utilisation, 0…1 (recorded.json's, else the trainer's `end.mfu`; null without a known peak). */
  mfu: number | null;
  /** Plain TRL + PEFT's tokens/s for the same method, measured in the same bench run (null: none recorded). */
  baselineTokensPerSecond: number | null;
  /** `tokensPerSecond / baselineTokensPerSecond` as the bench computed it (null: no baseline). */
  ratioVsBaseline: number | null;
  trainableParams: number | null;
  versions: Record<string, string | null>;
  /** When it was recorded (ISO 8601). */
  date: string;
  /** The error message of a failed run. */
  error?: string;
  /** All of `recorded.json`. */
  recorded: RecordedGpuRunInfo;
}

/** Options for {@linkcode listRecordedGpuRuns}. */
export interface ListRecordedGpuRunsOptions {
  /** The folder holding the `gpu-*` run folders (default `<project>/data/runs`). */
  dir?: string;
}

const METHOD_ORDER = ["lora", "qlora", "dora", "qdora", "pissa", "full"];
const BACKEND_ORDER = ["peft", "peft-dropout0", "peft+liger", "peft+liger+compile", "unsloth"];

/**
 * Reads every recorded GPU run (`<dir>/gpu-*`), sorted by GPU, shape, then lora, qlora, dora, qdora, pissa, full,
 * then backend (peft, peft-dropout0, peft+liger, peft+liger+compile, unsloth).
 *
 * @param options Where the run folders are.
 * @returns One row per run; `[]` when there are none (or the folder does not exist).
 * @throws {Error} One line naming the file and field when a `recorded.json` is missing or malformed, or
 *   when its method disagrees with the run's config (events and config errors come from `loadRun`).
 *
 * @example None in a folder without recorded runs
 * ```ts
 * import assert from "node:assert/strict";
 * import { listRecordedGpuRuns } from "./recorded_gpu_runs.ts";
 * assert.deepEqual(listRecordedGpuRuns({ dir: "no/such/folder" }), []);
 * for (const r of listRecordedGpuRuns()) assert.equal(r.status === "done", r.peakAllocatedBytes !== null);
 * ```
 */
export function listRecordedGpuRuns(options: ListRecordedGpuRunsOptions = {}): RecordedGpuRun[] {
  const dir = (options.dir ?? `${projectRoot()}/data/runs`).replace(/\/$/, "");
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].filter((e) => e.isDirectory && e.name.startsWith("gpu-"))
      .map((e) => e.name);
  } catch {
    return [];
  }
  const rows = names.map((name) => _row(`${dir}/${name}`));
  const rank = (order: string[], x: string) => (order.indexOf(x) + order.length + 1) % (order.length + 1);
  return rows.sort((a, b) =>
    a.gpu.localeCompare(b.gpu) || a.shape.localeCompare(b.shape) ||
    rank(METHOD_ORDER, a.method) - rank(METHOD_ORDER, b.method) || a.method.localeCompare(b.method) ||
    rank(BACKEND_ORDER, a.backend) - rank(BACKEND_ORDER, b.backend) || a.backend.localeCompare(b.backend)
  );
}

/** The bench that wrote a run folder: gpu_train_bench's names end with the backend (`…-lora-peft-liger`). */
function _bench(runDir: string): string {
  return /-(peft|unsloth)(-[a-z0-9]+)*$/.test(runDir) ? "gpu_train_bench" : "gpu_memory_bench";
}

function _recorded(runDir: string): RecordedGpuRunInfo {
  const file = `${runDir}/recorded.json`;
  let json: unknown;
  try {
    json = JSON.parse(Deno.readTextFileSync(file));
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "missing" : `not valid JSON (${(e as Error).message})`;
    throw new Error(
      `${file}: ${why}. Re-record the run with bench/${_bench(runDir)}.py or delete ${runDir}.`,
    );
  }
  const parsed = RecordedGpuRunInfoSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${file}: field ${issue.path.join(".") || "(root)"}: ${issue.message}. ` +
        `Re-record the run with bench/${_bench(runDir)}.py or delete ${runDir}.`,
    );
  }
  return parsed.data;
}

function _row(runDir: string): RecordedGpuRun {
  const recorded = _recorded(runDir);
  const run = loadRun(runDir);
  if (run.config.method !== recorded.method) {
    throw new Error(
      `${runDir}/recorded.json: field method: "${recorded.method}" but config.json ran "${run.config.method}". ` +
        `Re-record the run with bench/${_bench(runDir)}.py or delete ${runDir}.`,
    );
  }
  const [start] = eventsOf(run.events, "start");
  const [end] = eventsOf(run.events, "end");
  const [error] = eventsOf(run.events, "error");
  const steps = eventsOf(run.events, "step");
  const gaps = steps.slice(1).map((s, i) => s.time - steps[i].time);
  const wall = gaps.length ? _median(gaps) : null;
  const last = steps.at(-1);
  const tokensPerStep = last?.tokens ? last.tokens / last.step : recorded.batchSize * recorded.seqLength;
  const perStep = wall ?? end?.secondsPerStep ?? null;
  const measured = recorded.throughput?.tokensPerSecond;
  return {
    runDir,
    gpu: recorded.gpu.name,
    shape: recorded.shape,
    method: recorded.method,
    backend: recorded.backend ?? "peft",
    knobs: recorded.knobs ?? {},
    batchSize: recorded.batchSize,
    seqLength: recorded.seqLength,
    status: run.status,
    peakAllocatedBytes: end?.peakAllocatedBytes ?? null,
    secondsPerStep: end?.secondsPerStep ?? null,
    wallSecondsPerStep: wall,
    tokensPerSecond: measured !== undefined ? measured : perStep ? tokensPerStep / perStep : null,
    mfu: recorded.throughput?.mfu ?? end?.mfu ?? null,
    baselineTokensPerSecond: recorded.baseline?.tokensPerSecond ?? null,
    ratioVsBaseline: recorded.ratioVsBaseline ?? null,
    trainableParams: start?.trainableParams ?? null,
    versions: recorded.versions,
    date: recorded.date,
    ...(error?.event === "error" ? { error: error.message } : {}),
    recorded,
  };
}

function _median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
