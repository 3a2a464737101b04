/**
 * ggml's tensor types (how a GGUF file stores each tensor's numbers) and llama.cpp's file types (the
 * `--type` a quantizer is asked for), as llama.cpp v0.4.0 defines them: the ids of `enum ggml_type` and the
 * block sizes of gguf-py's `GGML_QUANT_SIZES`, the ids of `enum llama_ftype` in `include/llama.h`.
 *
 * A quantized type stores a row in *blocks*: `blockSize` numbers packed into `typeSize` bytes (e.g. Q8_0:
 * 32 int8 values + one f16 scale = 34 bytes). So a tensor whose rows hold `ne0` numbers needs `ne0` to be a
 * multiple of the block size, and takes `elements / blockSize × typeSize` bytes. The k-quants (Q2_K…Q6_K)
 * use super-blocks of 256: a model whose rows are 160 or 448 wide cannot use them, and llama.cpp's quantizer
 * falls back to another type for those tensors (see {@linkcode quantizeGguf}).
 *
 * @module
 */

/** One ggml tensor type. */
export interface GgmlType {
  /** Its id in `enum ggml_type` (what a GGUF tensor info stores). */
  readonly id: number;
  /** Its name, as gguf-py spells it (`"F32"`, `"Q8_0"`, `"Q4_K"`). */
  readonly name: string;
  /** Numbers per block. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
}

const QK_K = 256; // the k-quants' super-block

/** Every ggml tensor type llama.cpp v0.4.0 writes, with its block layout (gguf-py `GGML_QUANT_SIZES`). */
export const GGML_TYPES: readonly GgmlType[] = [
  { id: 0, name: "F32", blockSize: 1, typeSize: 4 },
  { id: 1, name: "F16", blockSize: 1, typeSize: 2 },
  { id: 2, name: "Q4_0", blockSize: 32, typeSize: 2 + 16 },
  { id: 3, name: "Q4_1", blockSize: 32, typeSize: 2 + 2 + 16 },
  { id: 6, name: "Q5_0", blockSize: 32, typeSize: 2 + 4 + 16 },
  { id: 7, name: "Q5_1", blockSize: 32, typeSize: 2 + 2 + 4 + 16 },
  { id: 8, name: "Q8_0", blockSize: 32, typeSize: 2 + 32 },
  { id: 9, name: "Q8_1", blockSize: 32, typeSize: 4 + 4 + 32 },
  { id: 10, name: "Q2_K", blockSize: QK_K, typeSize: 2 + 2 + QK_K / 16 + QK_K / 4 },
  { id: 11, name: "Q3_K", blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 8 + 12 },
  { id: 12, name: "Q4_K", blockSize: QK_K, typeSize: 2 + 2 + QK_K / 2 + 12 },
  { id: 13, name: "Q5_K", blockSize: QK_K, typeSize: 2 + 2 + QK_K / 2 + QK_K / 8 + 12 },
  { id: 14, name: "Q6_K", blockSize: QK_K, typeSize: 2 + QK_K / 2 + QK_K / 4 + QK_K / 16 },
  { id: 15, name: "Q8_K", blockSize: QK_K, typeSize: 4 + QK_K + QK_K / 8 },
  { id: 16, name: "IQ2_XXS", blockSize: QK_K, typeSize: 2 + QK_K / 4 },
  { id: 17, name: "IQ2_XS", blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 32 },
  { id: 18, name: "IQ3_XXS", blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 8 },
  { id: 19, name: "IQ1_S", blockSize: QK_K, typeSize: 2 + QK_K / 8 + QK_K / 16 },
  { id: 20, name: "IQ4_NL", blockSize: 32, typeSize: 2 + 16 },
  { id: 21, name: "IQ3_S", blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4 },
  { id: 22, name: "IQ2_S", blockSize: QK_K, typeSize: 2 + QK_K / 4 + QK_K / 16 },
  { id: 23, name: "IQ4_XS", blockSize: QK_K, typeSize: 2 + 2 + QK_K / 2 + QK_K / 64 },
  { id: 24, name: "I8", blockSize: 1, typeSize: 1 },
  { id: 25, name: "I16", blockSize: 1, typeSize: 2 },
  { id: 26, name: "I32", blockSize: 1, typeSize: 4 },
  { id: 27, name: "I64", blockSize: 1, typeSize: 8 },
  { id: 28, name: "F64", blockSize: 1, typeSize: 8 },
  { id: 29, name: "IQ1_M", blockSize: QK_K, typeSize: QK_K / 8 + QK_K / 16 + QK_K / 32 },
  { id: 30, name: "BF16", blockSize: 1, typeSize: 2 },
  { id: 34, name: "TQ1_0", blockSize: QK_K, typeSize: 2 + 4 * 13 },
  { id: 35, name: "TQ2_0", blockSize: QK_K, typeSize: 2 + 64 },
  { id: 39, name: "MXFP4", blockSize: 32, typeSize: 1 + 16 },
  { id: 40, name: "NVFP4", blockSize: 64, typeSize: 4 + 32 },
  { id: 41, name: "Q1_0", blockSize: 128, typeSize: 2 + 16 },
  { id: 42, name: "Q2_0", blockSize: 64, typeSize: 2 + 16 },
];

const _byId = new Map(GGML_TYPES.map((t) => [t.id, t]));
const _byName = new Map(GGML_TYPES.map((t) => [t.name, t]));

/**
 * Looks a ggml tensor type up by id (as a GGUF file stores it) or by name (any case).
 *
 * @param type An id (`8`) or a name (`"Q8_0"`, `"q8_0"`).
 * @returns The type.
 * @throws {Error} For an id or name llama.cpp v0.4.0 does not define.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ggmlType } from "./ggml_types.ts";
 * assert.deepEqual(ggmlType("q8_0"), { id: 8, name: "Q8_0", blockSize: 32, typeSize: 34 });
 * assert.equal(ggmlType(12).name, "Q4_K");
 * ```
 */
export function ggmlType(type: number | string): GgmlType {
  const found = typeof type === "number" ? _byId.get(type) : _byName.get(type.toUpperCase());
  if (!found) {
    throw new Error(
      `Unknown ggml tensor type ${JSON.stringify(type)}: llama.cpp v0.4.0 knows ` +
        `${GGML_TYPES.map((t) => `${t.name}=${t.id}`).join(", ")}.`,
    );
  }
  return found;
}

/**
 * Bytes a tensor takes in a GGUF file (its data, before the file's alignment padding): ggml stores each
 * row of `shape[0]` numbers as `shape[0] / blockSize` blocks of `typeSize` bytes.
 *
 * @param shape The tensor's dimensions in GGUF (ggml) order: `shape[0]` is the row length, the
 * contiguous one (a PyTorch `[out, in]` weight is `[in, out]` here).
 * @param type The tensor type (object, id or name).
 * @returns The byte count.
 * @throws {Error} When the row length is not a multiple of the type's block size (the tensor cannot be
 * stored in that type), or a dimension is not a non-negative integer.
 *
 * @example A 160 × 448 weight in three types
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensorBytes } from "./ggml_types.ts";
 * assert.equal(tensorBytes([160, 448], "F32"), 160 * 448 * 4);
 * assert.equal(tensorBytes([160, 448], "Q8_0"), (160 / 32) * 448 * 34);
 * assert.throws(() => tensorBytes([160, 448], "Q4_K"), /not a multiple of 256/);
 * ```
 */
export function tensorBytes(shape: readonly number[], type: GgmlType | number | string): number {
  const t = typeof type === "object" ? type : ggmlType(type);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new Error(`tensorBytes: shape [${shape.join(", ")}] must be non-negative integers.`);
  }
  const rowLength = shape[0] ?? 1;
  if (rowLength % t.blockSize !== 0) {
    throw new Error(
      `tensorBytes: a row of ${rowLength} numbers is not a multiple of ${t.blockSize}, the block size of ` +
        `${t.name}; this tensor cannot be stored as ${t.name}.`,
    );
  }
  const elements = shape.reduce((a, b) => a * b, 1);
  return (elements / t.blockSize) * t.typeSize;
}

/**
 * llama.cpp's file types (`enum llama_ftype` in `include/llama.h` v0.4.0): what a whole GGUF is "mostly"
 * quantized to, stored in its `general.file_type`. Names as `llama-quantize` spells them (`MOSTLY_` dropped).
 */
export const LLAMA_FTYPE = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 7,
  Q5_0: 8,
  Q5_1: 9,
  Q2_K: 10,
  Q3_K_S: 11,
  Q3_K_M: 12,
  Q3_K_L: 13,
  Q4_K_S: 14,
  Q4_K_M: 15,
  Q5_K_S: 16,
  Q5_K_M: 17,
  Q6_K: 18,
  IQ2_XXS: 19,
  IQ2_XS: 20,
  Q2_K_S: 21,
  IQ3_XS: 22,
  IQ3_XXS: 23,
  IQ1_S: 24,
  IQ4_NL: 25,
  IQ3_S: 26,
  IQ3_M: 27,
  IQ2_S: 28,
  IQ2_M: 29,
  IQ4_XS: 30,
  IQ1_M: 31,
  BF16: 32,
  TQ1_0: 36,
  TQ2_0: 37,
  MXFP4_MOE: 38,
  NVFP4: 39,
  Q1_0: 40,
  Q2_0: 41,
} as const;

/** A llama.cpp file type's name (a key of {@linkcode LLAMA_FTYPE}). */
export type LlamaFtypeName = keyof typeof LLAMA_FTYPE;

/**
 * The name of a llama.cpp file type id (a GGUF's `general.file_type`).
 *
 * @param id The id.
 * @returns Its name, e.g. `"Q4_K_M"`, or `"ftype <id>"` for an id v0.4.0 does not define.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { llamaFtypeName } from "./ggml_types.ts";
 * assert.equal(llamaFtypeName(15), "Q4_K_M");
 * assert.equal(llamaFtypeName(1), "F16");
 * ```
 */
export function llamaFtypeName(id: number): string {
  const hit = Object.entries(LLAMA_FTYPE).find(([, v]) => v === id);
  return hit ? hit[0] : `ftype ${id}`;
}
