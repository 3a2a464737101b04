/**
 * The trainer's events (protocol 1), one JSON object per line, as zod schemas.
 *
 * @module
 */
import { z } from "zod";

const base = { protocol: z.literal(1), time: z.number() };
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
    total_params: z.number(),
    trainable_params: z.number(),
    train_examples: z.number(),
    eval_examples: z.number(),
    /** Loss of a few training examples before the adapter was added … */
    base_loss: z.number().nullable(),
    /** … and right after (equal: the adapter starts as a no-op). */
    init_loss: z.number().nullable(),
    world_size: z.number(),
    run_dir: z.string(),
    /** The PEFT config actually used (`LoraConfig.to_dict()`, …); null for a full fine-tune. */
    peft_config: z.record(z.string(), z.unknown()).nullable().optional(),
    /** The module names the adapter wraps, resolved by PEFT (e.g. "all-linear" → the list). */
    target_modules: z.array(z.string()).optional(),
    /** Trainable and total parameters per module type (q_proj, embed_tokens, prompt_encoder, …). */
    params_by_module: z.record(z.string(), z.object({ trainable: z.number(), total: z.number() })).optional(),
    /** How long the adapter's initialisation took (PiSSA's SVDs, OLoRA's QRs), in seconds. */
    init_seconds: num,
  }),
  z.object({
    event: z.literal("step"),
    ...base,
    step: z.number(),
    loss: z.number(),
    /** Tokens seen so far (the trainer's cumulative count; absent in older recorded runs). */
    tokens: num,
    learning_rate: num,
    grad_norm: num,
    tokens_per_second: num,
    samples_per_second: num,
    /** Compatibility: the GPU allocator's peak on a GPU, the process's peak RSS on a CPU (see below). */
    peak_memory_bytes: z.number(),
    /** The torch allocator's peak of live tensor bytes (GPU: max_memory_allocated; CPU: measured once, see `end`). */
    peak_allocated_bytes: num,
    /** The trainer process's resident memory (RSS), the highest sample of this run so far. */
    peak_rss_bytes: num,
    elapsed: z.number(),
    epoch: num,
    metrics: z.record(z.string(), z.number().nullable()).default({}),
  }),
  z.object({
    event: z.literal("eval"),
    ...base,
    step: z.number(),
    eval_loss: num,
    exact_match: num,
    metrics: z.record(z.string(), z.number().nullable()).default({}),
  }),
  z.object({ event: z.literal("checkpoint"), ...base, step: z.number(), path: z.string() }),
  z.object({
    event: z.literal("end"),
    ...base,
    steps: z.number(),
    final_loss: num,
    eval_loss: num,
    train_seconds: z.number(),
    train_runtime: num,
    adapter: z.string(),
    converted_to_lora: z.boolean(),
    /** Compatibility: as in `step`. */
    peak_memory_bytes: z.number(),
    /** What was saved in `adapter`: an adapter, or the whole model (full fine-tune). */
    saved: z.enum(["adapter", "model"]).optional(),
    /** Mean seconds of one optimizer step (forward, backward, update), without evaluation or saving. */
    seconds_per_step: num,
    /** Seconds spent evaluating (held-out loss and exact-match generation). */
    eval_seconds: num,
    /**
     * Allocator peak of live tensor bytes: on a GPU torch.cuda.max_memory_allocated over the run; on a
     * CPU the peak during one steady-state step measured by PyTorch's MemTracker (which also fills
     * `memory_breakdown`).
     */
    peak_allocated_bytes: num,
    /** Where `peak_allocated_bytes` comes from: "cuda", "cpu-memtracker", or null. */
    memory_source: z.string().nullable().optional(),
    /** At the allocator peak: bytes of parameters, buffers, gradients, activations, temporaries, optimizer state. */
    memory_breakdown: z.record(z.string(), z.number()).nullable().optional(),
    peak_rss_bytes: num,
    /** The optimizer's parameter groups: initial learning rate, parameters, and how many are LoRA A / B. */
    optimizer_groups: z.array(
      z.object({ lr: z.number(), params: z.number(), lora_A: z.number(), lora_B: z.number() }),
    )
      .optional(),
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
 * Parses one events line.
 *
 * @param line A JSON line from the trainer.
 * @param where Where it came from, for errors (e.g. `events.jsonl:3`).
 * @returns The typed event.
 * @throws {Error} When the line is not a known event, naming the field.
 *
 * @example
 * ```ts
 * import { parseEvent } from "./events.ts";
 * const e = parseEvent('{"event":"checkpoint","protocol":1,"time":0,"step":3,"path":"c/checkpoint-3"}', "test");
 * console.log(e.event); // "checkpoint"
 * ```
 */
export function parseEvent(line: string, where: string): TrainEvent {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new Error(`${where}: not a JSON event: ${line.slice(0, 120)}`);
  }
  const parsed = TrainEventSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`${where}: bad event, field ${i.path.join(".")}: ${i.message}`);
  }
  return parsed.data;
}
