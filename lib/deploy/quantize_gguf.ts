/**
 * Quantizing a GGUF file with llama.cpp's own quantizer (`llama_model_quantize` of the prebuilt libllama, the
 * function the `llama-quantize` tool calls), then reading back which ggml type each tensor got.
 *
 * The file type asks for a *mix*: Q4_K_M keeps norms in F32, puts most weights in Q4_K and a few (the
 * output matrix; attention V and FFN down in some layers) in Q6_K. A type only fits a tensor whose rows are
 * a multiple of its block (256 for the k-quants); for other tensors llama.cpp falls back to a type that
 * fits — on ince-tiny (rows of 160 and 448) Q4_K_M becomes Q5_0 + Q8_0, which is what
 * {@linkcode QuantizeResult.tensorTypes} shows and {@linkcode QuantizeResult.warnings} explains.
 * The types that need an importance matrix (IQ1–IQ3, Q2_K_S) are not offered here.
 *
 * @module
 */
import { ggufTensorSummary, readGgufInfo } from "./gguf_file.ts";
import { LLAMA_FTYPE } from "./ggml_types.ts";
import { cString, LLAMA_STRUCT_LAYOUT, openLlamaCpp } from "./llama_cpp_ffi.ts";

/** The file types {@linkcode quantizeGguf} makes (no importance matrix needed). */
export const QUANTIZE_TYPES = [
  "Q4_0",
  "Q4_1",
  "Q5_0",
  "Q5_1",
  "Q8_0",
  "Q2_K",
  "Q3_K_S",
  "Q3_K_M",
  "Q3_K_L",
  "Q4_K_S",
  "Q4_K_M",
  "Q5_K_S",
  "Q5_K_M",
  "Q6_K",
  "F16",
  "BF16",
  "F32",
] as const;

/** One of {@linkcode QUANTIZE_TYPES}. */
export type QuantizeType = typeof QUANTIZE_TYPES[number];

/** Options of {@linkcode quantizeGguf}. */
export interface QuantizeOptions {
  /** An unquantized GGUF (F32, F16 or BF16), e.g. from {@linkcode convertToGguf}. */
  input: string;
  /** The GGUF to write. */
  out: string;
  /** The llama.cpp file type, e.g. `"Q8_0"`, `"Q4_K_M"`. */
  type: QuantizeType;
  /** Threads (default 1). */
  threads?: number;
}

/** What {@linkcode quantizeGguf} wrote. */
export interface QuantizeResult {
  /** The file written. */
  path: string;
  /** Its size. */
  bytes: number;
  /** Wall time of the quantization. */
  seconds: number;
  /** How many tensors got each ggml type, read back from the file, e.g. `{ F32: 11, Q5_0: 31, Q8_0: 5 }`. */
  tensorTypes: Record<string, number>;
  /** llama.cpp's warnings while quantizing, e.g. `"warning: blk.0.attn_k.weight - ncols 160 not divisible by
   * 256 (required for type q4_K) -> falling back to q5_0"` (white space squeezed). */
  warnings: string[];
}

/**
 * Quantizes a GGUF file with llama.cpp's quantizer.
 *
 * @param options Input, output, file type, threads.
 * @returns The file written and the tensor types in it.
 * @throws {Error} One line naming the file: an unknown type, a missing or corrupt input, an input that is
 * already quantized, or the quantizer's own failure (with llama.cpp's reason).
 *
 * @example Q4_K_M on the built-in model
 * ```ts ignore
 * import { quantizeGguf } from "./quantize_gguf.ts";
 * const q = await quantizeGguf({ input: "out/ince-tiny-f32.gguf", out: "out/ince-tiny-q4_k_m.gguf", type: "Q4_K_M" });
 * console.log(q.bytes, q.tensorTypes); // 1376448 { F32: 11, Q5_0: 31, Q8_0: 5 }
 * ```
 */
export async function quantizeGguf(options: QuantizeOptions): Promise<QuantizeResult> {
  const { input, out, type } = options;
  const threads = options.threads ?? 1;
  if (!(QUANTIZE_TYPES as readonly string[]).includes(type)) {
    throw new Error(`quantizeGguf: type ${JSON.stringify(type)} is not one of ${QUANTIZE_TYPES.join(", ")}.`);
  }
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`quantizeGguf: threads must be a positive integer, not ${threads}.`);
  }
  const source = readGgufInfo(input);
  const already = source.tensors.find((t) => !["F32", "F16", "BF16"].includes(t.type));
  if (already) {
    throw new Error(
      `${input}: tensor ${already.name} is already ${already.type}; quantize from the F32/F16 GGUF ` +
        "(convertToGguf), not from a quantized one.",
    );
  }
  const llama = await openLlamaCpp();
  const s = llama.symbols;
  const Q = LLAMA_STRUCT_LAYOUT.quantizeParams;
  const params = s.llama_model_quantize_default_params();
  const pv = new DataView(params.buffer, params.byteOffset, params.byteLength);
  pv.setInt32(Q.nthread, threads, true);
  pv.setInt32(Q.ftype, LLAMA_FTYPE[type], true);
  const partial = `${out}.partial`;
  llama.takeLog();
  const t0 = performance.now();
  const rc = s.llama_model_quantize(cString(input), cString(partial), params);
  const seconds = (performance.now() - t0) / 1000;
  if (rc !== 0) {
    try {
      Deno.removeSync(partial);
    } catch { /* nothing written */ }
    const said = llama.takeLog().at(-1);
    throw new Error(
      `${input}: llama.cpp's quantizer failed to make ${type} (code ${rc}${
        said ? `; llama.cpp said: ${said}` : ""
      }); ` +
        `check that ${out}'s folder is writable and the input is an F32/F16 GGUF.`,
    );
  }
  const warnings = llama.takeLog().map((line) => line.replace(/\s+/g, " "));
  Deno.renameSync(partial, out);
  const info = readGgufInfo(out);
  const { tensorTypes } = ggufTensorSummary(info);
  return { path: out, bytes: info.fileBytes, seconds, tensorTypes, warnings };
}
