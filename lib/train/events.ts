/**
 * The trainer's events, one JSON object per line, as zod schemas. Protocol 2 (today's) names fields in
 * camelCase like the run config and the comparison rows; protocol 1 (recorded runs from before) used
 * snake_case and is read by renaming its fields ({@linkcode parseEvent}).
 *
 * @module
 */
import { z } from "zod";
import { parseJsonLine } from "../util/json_lines_process.ts";

const base = { protocol: z.union([z.literal(1), z.literal(2)]), time: z.number() };
const num = z.number().nullable().optional();

/** Every event the trainer emits. */
export const TrainEventSchema = z.discriminatedUnion("event", [
  z.object({
    event: z.literal("start"),
    ...base,
    versions: z.record(z.string(), z.string()),
    device: z.string(),
    dtype: z.string(),
    method: z.string(),
    stage: z.string(),
    totalParams: z.number(),
    trainableParams: z.number(),
    trainExamples: z.number(),
    evalExamples: z.number(),
    /** Loss of a few training examples before the adapter was added … */
    baseLoss: z.number().nullable(),
    /** … and right after (equal: the adapter starts as a no-op). */
    initLoss: z.number().nullable(),
    worldSize: z.number(),
    runDir: z.string(),
    /** The PEFT config actually used (`LoraConfig.to_dict()`, …); null for a full fine-tune. */
    peftConfig: z.record(z.string(), z.unknown()).nullable().optional(),
    /** The module names the adapter wraps, resolved by PEFT (e.g. "all-linear" → the list). */
    targetModules: z.array(z.string()).optional(),
    /** Trainable and total parameters per module type (q_proj, embed_tokens, prompt_encoder, …). */
    paramsByModule: z.record(z.string(), z.object({ trainable: z.number(), total: z.number() })).optional(),
    /** How long the adapter's initialisation took (PiSSA's SVDs, OLoRA's QRs), in seconds. */
    initSeconds: num,
    /** The engine that loaded the model and added the adapter: `peft` or `unsloth` (absent in older runs: peft). */
    backend: z.string().optional(),
  }),
  z.object({
    event: z.literal("step"),
    ...base,
    step: z.number(),
    loss: z.number(),
    /** Tokens seen so far (the trainer's cumulative count; absent in older recorded runs). */
    tokens: num,
    /** Positions fed to the model so far, padding included (`1 − tokens/paddedTokens` is the padding fraction). */
    paddedTokens: num,
    learningRate: num,
    gradNorm: num,
    tokensPerSecond: num,
    samplesPerSecond: num,
    /** Compatibility: the GPU allocator's peak on a GPU, the process's peak RSS on a CPU (see below). */
    peakMemoryBytes: z.number(),
    /** The torch allocator's peak of live tensor bytes (GPU: max_memory_allocated; CPU: measured once, see `end`). */
    peakAllocatedBytes: num,
    /** The trainer process's resident memory (RSS), the highest sample of this run so far. */
    peakRssBytes: num,
    elapsed: z.number(),
    epoch: num,
    metrics: z.record(z.string(), z.number().nullable()).default({}),
  }),
  z.object({
    event: z.literal("eval"),
    ...base,
    step: z.number(),
    evalLoss: num,
    exactMatch: num,
    metrics: z.record(z.string(), z.number().nullable()).default({}),
  }),
  z.object({ event: z.literal("checkpoint"), ...base, step: z.number(), path: z.string() }),
  z.object({
    event: z.literal("end"),
    ...base,
    steps: z.number(),
    finalLoss: num,
    evalLoss: num,
    trainSeconds: z.number(),
    trainRuntime: num,
    adapter: z.string(),
    convertedToLora: z.boolean(),
    /** Compatibility: as in `step`. */
    peakMemoryBytes: z.number(),
    /** What was saved in `adapter`: an adapter, or the whole model (full fine-tune). */
    saved: z.enum(["adapter", "model"]).optional(),
    /** Mean seconds of one optimizer step (forward, backward, update), without evaluation or saving. */
    secondsPerStep: num,
    /** Seconds spent evaluating (held-out loss and exact-match generation). */
    evalSeconds: num,
    /**
     * Allocator peak of live tensor bytes: on a GPU torch.cuda.max_memory_allocated over the run; on a
     * CPU the peak during one steady-state step measured by PyTorch's MemTracker (which also fills
     * `memory_breakdown`).
     */
    peakAllocatedBytes: num,
    /** Where `peak_allocated_bytes` comes from: "cuda", "cpu-memtracker", or null. */
    memorySource: z.string().nullable().optional(),
    /** At the allocator peak: bytes of parameters, buffers, gradients, activations, temporaries, optimizer state. */
    memoryBreakdown: z.record(z.string(), z.number()).nullable().optional(),
    peakRssBytes: num,
    /** The optimizer's parameter groups: initial learning rate, parameters, and how many are LoRA A / B. */
    optimizerGroups: z.array(
      z.object({ lr: z.number(), params: z.number(), loraA: z.number(), loraB: z.number() }),
    )
      .optional(),
    /** `peft` or `unsloth`. */
    backend: z.string().optional(),
    /** The per-device batch size training used (after `train.autoBatchSize`'s search, when on). */
    batchSize: num,
    /**
     * The throughput settings as the engine holds them, read back from TRL's args object (TRL's names, e.g.
     * `use_liger_kernel`, `padding_free`, `packing`, `torch_compile`; `padding_free_effective`: packing implies it).
     */
    engineArgs: z.record(z.string(), z.unknown()).optional(),
    /** Real (non-padding) tokens / seconds over the measured steps (step 1 and the memory-probed step left out). */
    tokensPerSecond: num,
    /** The measured steps' real tokens, positions (padding included) and seconds. */
    measuredTokens: num,
    measuredPositions: num,
    measuredSeconds: num,
    /** The token-weighted mean sequence length S (Σ length² / Σ length) of the attention term. */
    attentionSeqLength: num,
    /** Model training FLOPs per token, 6·N + 12·L·heads·head_dim·S (lib/train/mfu.ts). */
    flopsPerToken: num,
    /** Model FLOPs utilisation, tokensPerSecond × flopsPerToken / peakFlops (null without a known peak). */
    mfu: num,
    /** The accelerator's peak FLOP/s for the run's dtype (data/gpu_peak_flops.json, or INCE_PEAK_FLOPS). */
    peakFlops: num,
    peakFlopsSource: z.string().nullable().optional(),
    /** `torch.cuda.get_device_name()`, null on a CPU. */
    gpuName: z.string().nullable().optional(),
  }),
  z.object({
    event: z.literal("error"),
    ...base,
    kind: z.enum(["config", "data", "oom", "interrupted", "runtime"]),
    message: z.string(),
    hint: z.string(),
    step: z.number().optional(),
  }),
]);

/** One trainer event. */
export type TrainEvent = z.infer<typeof TrainEventSchema>;

/**
 * Parses one events line (protocol 2, or a recorded protocol-1 line, whose snake_case fields are renamed).
 *
 * @param line A JSON line from the trainer.
 * @param where Where it came from, for errors (e.g. `events.jsonl:3`).
 * @returns The typed event.
 * @throws {Error} When the line is not a known event, naming the field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEvent } from "./events.ts";
 * const e = parseEvent('{"event":"eval","protocol":2,"time":0,"step":3,"evalLoss":1.5}', "test");
 * assert.equal(e.event === "eval" && e.evalLoss, 1.5);
 * const old = parseEvent('{"event":"eval","protocol":1,"time":0,"step":3,"eval_loss":1.5}', "recorded");
 * assert.equal(old.event === "eval" && old.evalLoss, 1.5);
 * assert.throws(() => parseEvent('{"event":"eval","protocol":2,"time":0}', "x:1"), /x:1: field step/);
 * ```
 */
export function parseEvent(line: string, where: string): TrainEvent {
  return parseJsonLine(line, TrainEventLineSchema, where);
}

/** `peak_memory_bytes` → `peakMemoryBytes` (the trainer's `camel()` does the same for protocol 2). */
function _camel(name: string): string {
  return name.replace(/_([A-Za-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A protocol-1 event with its field names renamed (records' keys are data and stay). */
function _fromProtocol1(json: unknown): unknown {
  if (typeof json !== "object" || json === null || (json as { protocol?: unknown }).protocol !== 1) {
    return json;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) out[_camel(k)] = v;
  if (Array.isArray(out.optimizerGroups)) {
    out.optimizerGroups = out.optimizerGroups.map((g: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(g).map(([k, v]) => [_camel(k), v]))
    );
  }
  return out;
}

/** The event of one kind, e.g. `EventOf<"step">`. */
export type EventOf<K extends TrainEvent["event"]> = Extract<TrainEvent, { event: K }>;

/**
 * The events of one kind, typed (the one place events are filtered by kind).
 *
 * @param events A run's events.
 * @param kind `"start"`, `"step"`, `"eval"`, `"checkpoint"`, `"end"` or `"error"`.
 * @returns Those events, in order, typed as that kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventsOf, parseEvent } from "./events.ts";
 * const events = [
 *   parseEvent('{"event":"checkpoint","protocol":1,"time":0,"step":3,"path":"c/checkpoint-3"}', "a"),
 *   parseEvent('{"event":"checkpoint","protocol":1,"time":1,"step":6,"path":"c/checkpoint-6"}', "b"),
 * ];
 * assert.deepEqual(eventsOf(events, "checkpoint").map((e) => e.step), [3, 6]);
 * assert.equal(eventsOf(events, "end").length, 0);
 * ```
 */
export function eventsOf<K extends TrainEvent["event"]>(
  events: readonly TrainEvent[],
  kind: K,
): EventOf<K>[] {
  return events.filter((e): e is EventOf<K> => e.event === kind);
}

/** One events line as JSON: protocol 2, or protocol 1 renamed ({@linkcode parseEvent} and the trainer stream use it). */
export const TrainEventLineSchema: z.ZodType<TrainEvent> = z.preprocess(_fromProtocol1, TrainEventSchema);
