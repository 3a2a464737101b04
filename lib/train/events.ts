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
    peak_memory_bytes: z.number(),
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
    peak_memory_bytes: z.number(),
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
