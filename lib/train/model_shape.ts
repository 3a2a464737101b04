/**
 * A decoder model's shape, read from its `config.json` (no weights needed): what the memory
 * estimator and the parameter counts work from. Llama-family names (Llama, Qwen2, Mistral, …).
 *
 * @module
 */
import { z } from "zod";
import type { ModelShape } from "../adapters/lora.ts";

/** The module names `targetModules: "all-linear"` stands for in a Llama/Qwen-style decoder. */
export const ALL_LINEAR_MODULES: readonly string[] = [
  "q_proj",
  "k_proj",
  "v_proj",
  "o_proj",
  "gate_proj",
  "up_proj",
  "down_proj",
];

/** The fields of `config.json` that size a Llama-style decoder. */
export interface DecoderShape extends ModelShape {
  vocab_size: number;
  /** The output layer reuses the embedding matrix (default false, as transformers). */
  tie_word_embeddings?: boolean;
  /** Biases on q/k/v (Qwen2 always has them; Llama's `attention_bias`). */
  attention_bias?: boolean;
  model_type?: string;
}

const Positive = z.number().int().positive();
const DecoderShapeSchema = z.object({
  hidden_size: Positive,
  intermediate_size: Positive,
  num_hidden_layers: Positive,
  num_attention_heads: Positive,
  num_key_value_heads: Positive.optional(),
  head_dim: Positive.optional(),
  vocab_size: Positive,
  tie_word_embeddings: z.boolean().optional(),
  attention_bias: z.boolean().optional(),
  model_type: z.string().optional(),
});

/**
 * Checks a parsed `config.json` and keeps the sizing fields.
 *
 * @param config The parsed JSON.
 * @param where The file it came from, for the error.
 * @returns The shape.
 * @throws {Error} `<where>: field <name>: <problem>` when a field is missing or not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decoderShape } from "./model_shape.ts";
 * const s = decoderShape({ hidden_size: 8, intermediate_size: 16, num_hidden_layers: 2, num_attention_heads: 2, vocab_size: 32 });
 * assert.equal(s.hidden_size, 8);
 * assert.throws(() => decoderShape({ hidden_size: 8 }, "m/config.json"), /m\/config.json: field intermediate_size/);
 * ```
 */
export function decoderShape(config: unknown, where = "config.json"): DecoderShape {
  const r = DecoderShapeSchema.safeParse(config);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(
      `${where}: field ${issue.path.join(".") || "(root)"}: ${issue.message}. ` +
        "A Llama-style config.json needs hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, vocab_size.",
    );
  }
  return r.data;
}

/**
 * Reads `<folder>/config.json` (or a config.json path) as a {@linkcode DecoderShape}.
 *
 * @param path A model folder or its config.json.
 * @returns The shape.
 * @throws {Error} Naming the file when it is missing, not JSON, or lacks a field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readDecoderShape } from "./model_shape.ts";
 * assert.equal(readDecoderShape("data/models/ince-tiny").vocab_size, 1024);
 * ```
 */
export function readDecoderShape(path: string): DecoderShape {
  const file = path.endsWith(".json") ? path : `${path}/config.json`;
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    throw new Error(
      `${file}: not found; give a model folder with a config.json (or download the model first).`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${file}: not valid JSON (${(e as Error).message}); re-download the model's config.json.`,
    );
  }
  return decoderShape(json, file);
}

/**
 * Parameters of a Llama-style decoder from its shape: embeddings `V·h` (and an untied output layer
 * `V·h`), per layer the seven projections (with q/k/v biases where the model has them: Qwen2) plus two
 * RMSNorm weights `2h`, and the final norm `h`.
 *
 * @param shape The model's shape.
 * @returns `{ total, linear, other }`: `linear` are the projections inside the layers (what NF4 quantizes).
 *
 * @example The built-in model: 1,752,800 parameters (its safetensors file agrees)
 * ```ts
 * import assert from "node:assert/strict";
 * import { decoderParams, readDecoderShape } from "./model_shape.ts";
 * assert.equal(decoderParams(readDecoderShape("data/models/ince-tiny")).total, 1_752_800);
 * // Qwen2.5-7B's shape: 7.62B, as its model card says
 * assert.equal(decoderParams(readDecoderShape("data/models/shapes/qwen2.5-7b")).total, 7_615_616_512);
 * ```
 */
export function decoderParams(shape: DecoderShape): { total: number; linear: number; other: number } {
  const h = shape.hidden_size, i = shape.intermediate_size;
  const d = shape.head_dim ?? h / shape.num_attention_heads;
  const q = shape.num_attention_heads * d, kv = (shape.num_key_value_heads ?? shape.num_attention_heads) * d;
  const linear = shape.num_hidden_layers * (h * q + 2 * h * kv + q * h + 3 * h * i);
  const bias = (shape.attention_bias ?? shape.model_type === "qwen2") ? q + 2 * kv : 0;
  const other = shape.vocab_size * h * (shape.tie_word_embeddings ? 1 : 2) +
    shape.num_hidden_layers * (2 * h + bias) + h;
  return { total: linear + other, linear, other };
}
