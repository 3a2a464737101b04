/**
 * llama.cpp's C API (`include/llama.h` at {@linkcode LLAMA_CPP_TAG}) bound through `Deno.dlopen` on the
 * prebuilt `libllama` of npm's `@node-llama-cpp/linux-x64` (the same llama.cpp the converter comes from):
 * no C++ build, no Node add-on, only `--allow-read --allow-ffi`.
 *
 * How structs cross the boundary: `llama_model_params` (80 B), `llama_context_params` (160 B),
 * `llama_model_quantize_params` (64 B) and `llama_batch` (56 B) are all larger than 16 bytes, so the x86-64
 * System V ABI passes and returns them in memory; declaring each as a struct of u64 words of the same size
 * is therefore exact. We never build one from scratch: we take llama.cpp's `*_default_params()`, patch the
 * few fields we set at their byte offsets ({@linkcode LLAMA_STRUCT_LAYOUT}, measured with `offsetof` on
 * v0.4.0's llama.h), and pass the bytes back. {@linkcode openLlamaCpp} first reads the defaults back and
 * refuses a library whose fields are not where v0.4.0 has them.
 *
 * Every call here is synchronous, on the calling thread, and llama.cpp runs with the thread count the
 * caller asks for (1 on a shared CPU: ggml's spinning worker threads starve each other when oversubscribed).
 *
 * @module
 */
import { LLAMA_CPP_TAG, llamaCppBinsDir } from "./deploy_tools.ts";

/** A struct of `bytes` bytes, passed in memory (every llama.cpp struct used here is > 16 bytes). */
function _struct(bytes: number) {
  return { struct: Array(bytes / 8).fill("u64") } as const;
}

/** Sizes and the byte offsets of the fields we read or set, from `offsetof` on llama.cpp v0.4.0's llama.h. */
export const LLAMA_STRUCT_LAYOUT = {
  modelParams: { bytes: 80, nGpuLayers: 16, vocabOnly: 72, useExtraBufts: 74 },
  contextParams: {
    bytes: 160,
    nCtx: 0,
    nBatch: 4,
    nUbatch: 8,
    nSeqMax: 12,
    nThreads: 28,
    nThreadsBatch: 32,
    flashAttnType: 52,
    typeK: 104,
    typeV: 108,
    offloadKqv: 129,
    ctxOther: 152,
  },
  quantizeParams: {
    bytes: 64,
    nthread: 0,
    ftype: 4,
    outputTensorType: 8,
    quantizeOutputTensor: 17,
    maxBufSize: 56,
  },
  batch: { bytes: 56, nTokens: 0, token: 8, embd: 16, pos: 24, nSeqId: 32, seqId: 40, logits: 48 },
} as const;

const L = LLAMA_STRUCT_LAYOUT;
const MODEL_PARAMS = _struct(L.modelParams.bytes);
const CONTEXT_PARAMS = _struct(L.contextParams.bytes);
const QUANTIZE_PARAMS = _struct(L.quantizeParams.bytes);
const BATCH = _struct(L.batch.bytes);

const _SYMBOLS = {
  llama_backend_init: { parameters: [], result: "void" },
  llama_log_set: { parameters: ["function", "pointer"], result: "void" },
  llama_model_default_params: { parameters: [], result: MODEL_PARAMS },
  llama_context_default_params: { parameters: [], result: CONTEXT_PARAMS },
  llama_model_quantize_default_params: { parameters: [], result: QUANTIZE_PARAMS },
  llama_model_quantize: { parameters: ["buffer", "buffer", "buffer"], result: "u32" },
  llama_model_load_from_file: { parameters: ["buffer", MODEL_PARAMS], result: "pointer" },
  llama_model_free: { parameters: ["pointer"], result: "void" },
  llama_model_n_ctx_train: { parameters: ["pointer"], result: "i32" },
  llama_init_from_model: { parameters: ["pointer", CONTEXT_PARAMS], result: "pointer" },
  llama_free: { parameters: ["pointer"], result: "void" },
  llama_n_ctx: { parameters: ["pointer"], result: "u32" },
  llama_model_get_vocab: { parameters: ["pointer"], result: "pointer" },
  llama_vocab_n_tokens: { parameters: ["pointer"], result: "i32" },
  llama_vocab_bos: { parameters: ["pointer"], result: "i32" },
  llama_vocab_eos: { parameters: ["pointer"], result: "i32" },
  llama_vocab_get_add_bos: { parameters: ["pointer"], result: "bool" },
  llama_tokenize: {
    parameters: ["pointer", "buffer", "i32", "buffer", "i32", "bool", "bool"],
    result: "i32",
  },
  llama_token_to_piece: { parameters: ["pointer", "i32", "buffer", "i32", "i32", "bool"], result: "i32" },
  llama_batch_init: { parameters: ["i32", "i32", "i32"], result: BATCH },
  llama_batch_free: { parameters: [BATCH], result: "void" },
  llama_decode: { parameters: ["pointer", BATCH], result: "i32" },
  llama_get_logits_ith: { parameters: ["pointer", "i32"], result: "pointer" },
  llama_get_memory: { parameters: ["pointer"], result: "pointer" },
  llama_memory_clear: { parameters: ["pointer", "bool"], result: "void" },
} as const;

/** The bound functions of libllama (names and C signatures as in llama.h). */
export type LlamaSymbols = Deno.DynamicLibrary<typeof _SYMBOLS>["symbols"];

/** libllama, loaded and checked. */
export interface LlamaCpp {
  /** The C functions. */
  readonly symbols: LlamaSymbols;
  /** The folder the libraries were loaded from. */
  readonly binsDir: string;
  /**
   * llama.cpp's warnings and errors logged since the last call, the last 500 at most (llama.cpp's own log
   * is kept off the console; it explains failures, so error messages quote it).
   */
  takeLog(): string[];
}

/**
 * A NUL-terminated UTF-8 C string, for a `const char *` parameter.
 *
 * @param text The text.
 * @returns Its UTF-8 bytes followed by a 0 byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cString } from "./llama_cpp_ffi.ts";
 * assert.deepEqual([...cString("hı")], [0x68, 0xc4, 0xb1, 0]);
 * ```
 */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${text}\0`);
}

let _opened: Promise<LlamaCpp> | undefined;

/**
 * Loads libllama (once per process): the ggml CPU backends (dlopen'ed plugins: the best variant for this
 * CPU is picked), llama.cpp's log routed into {@linkcode LlamaCpp.takeLog}, and the struct layout checked.
 *
 * @returns The library.
 * @throws {Error} One line when the prebuilt libraries are missing or not for this platform, or when the
 * library's struct defaults do not read back as v0.4.0's (a different llama.cpp behind the same name).
 *
 * @example
 * ```ts ignore
 * import { openLlamaCpp } from "./llama_cpp_ffi.ts";
 * const llama = await openLlamaCpp();
 * const p = llama.symbols.llama_context_default_params();
 * ```
 */
export function openLlamaCpp(): Promise<LlamaCpp> {
  _opened ??= _open().catch((e) => {
    _opened = undefined;
    throw e;
  });
  return _opened;
}

async function _open(): Promise<LlamaCpp> {
  const binsDir = await llamaCppBinsDir();
  const file = `${binsDir}/libllama.${LLAMA_CPP_TAG}.so`;
  let lib: Deno.DynamicLibrary<typeof _SYMBOLS>;
  let ggml: Deno.DynamicLibrary<
    { ggml_backend_load_all_from_path: { parameters: ["buffer"]; result: "void" } }
  >;
  try {
    ggml = Deno.dlopen(`${binsDir}/libggml.${LLAMA_CPP_TAG}.so`, {
      ggml_backend_load_all_from_path: { parameters: ["buffer"], result: "void" },
    });
    lib = Deno.dlopen(file, _SYMBOLS);
  } catch (e) {
    throw new Error(
      `${file}: cannot load llama.cpp (${(e as Error).message.split("\n")[0]}); ` +
        "run `deno task setup` (it caches npm:@node-llama-cpp/linux-x64) and give the process --allow-ffi.",
    );
  }
  const log: string[] = [];
  let pending = "";
  const callback = new Deno.UnsafeCallback(
    { parameters: ["i32", "pointer", "pointer"], result: "void" } as const,
    (level, text) => {
      const line = text ? Deno.UnsafePointerView.getCString(text) : "";
      // WARN (3) and ERROR (4) messages, with their CONT (5) pieces, joined until a newline ends them
      if (level === 3 || level === 4 || (level === 5 && pending)) pending += line;
      else return;
      if (pending.endsWith("\n")) {
        log.push(pending.trim());
        if (log.length > 500) log.shift();
        pending = "";
      }
    },
  );
  _keepAlive.push(callback, ggml);
  lib.symbols.llama_log_set(callback.pointer, null);
  ggml.symbols.ggml_backend_load_all_from_path(cString(binsDir));
  lib.symbols.llama_backend_init();
  _checkLayout(lib.symbols, file);
  return {
    symbols: lib.symbols,
    binsDir,
    takeLog: () => log.splice(0, log.length),
  };
}

const _keepAlive: unknown[] = []; // the log callback and libggml must outlive every llama.cpp call

/** Reads the defaults back at the offsets of LLAMA_STRUCT_LAYOUT; they are llama.cpp v0.4.0's values. */
function _checkLayout(s: LlamaSymbols, file: string): void {
  const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = view(s.llama_model_default_params());
  const c = view(s.llama_context_default_params());
  const q = view(s.llama_model_quantize_default_params());
  const checks: [string, number | bigint, number | bigint][] = [
    ["llama_model_params.n_gpu_layers", m.getInt32(L.modelParams.nGpuLayers, true), -1],
    ["llama_model_params.vocab_only", m.getUint8(L.modelParams.vocabOnly), 0],
    ["llama_model_params.use_extra_bufts", m.getUint8(L.modelParams.useExtraBufts), 1],
    ["llama_context_params.n_ctx", c.getUint32(L.contextParams.nCtx, true), 512],
    ["llama_context_params.n_batch", c.getUint32(L.contextParams.nBatch, true), 2048],
    ["llama_context_params.n_ubatch", c.getUint32(L.contextParams.nUbatch, true), 512],
    ["llama_context_params.n_seq_max", c.getUint32(L.contextParams.nSeqMax, true), 1],
    ["llama_context_params.n_threads", c.getInt32(L.contextParams.nThreads, true), 4],
    ["llama_context_params.n_threads_batch", c.getInt32(L.contextParams.nThreadsBatch, true), 4],
    ["llama_context_params.flash_attn_type", c.getInt32(L.contextParams.flashAttnType, true), -1],
    ["llama_context_params.type_k", c.getInt32(L.contextParams.typeK, true), 1],
    ["llama_context_params.type_v", c.getInt32(L.contextParams.typeV, true), 1],
    ["llama_context_params.offload_kqv", c.getUint8(L.contextParams.offloadKqv), 1],
    ["llama_context_params.ctx_other", c.getBigUint64(L.contextParams.ctxOther, true), 0n],
    ["llama_model_quantize_params.nthread", q.getInt32(L.quantizeParams.nthread, true), 0],
    ["llama_model_quantize_params.ftype", q.getInt32(L.quantizeParams.ftype, true), 7],
    [
      "llama_model_quantize_params.output_tensor_type",
      q.getInt32(L.quantizeParams.outputTensorType, true),
      43,
    ],
    [
      "llama_model_quantize_params.quantize_output_tensor",
      q.getUint8(L.quantizeParams.quantizeOutputTensor),
      1,
    ],
    [
      "llama_model_quantize_params.max_buf_size",
      q.getBigUint64(L.quantizeParams.maxBufSize, true),
      8n << 30n,
    ],
  ];
  const bad = checks.find(([, got, want]) => got !== want);
  if (bad) {
    throw new Error(
      `${file}: its ${bad[0]} default reads ${bad[1]}, not llama.cpp ${LLAMA_CPP_TAG}'s ${
        bad[2]
      }: this library is ` +
        `not the llama.h ${LLAMA_CPP_TAG} that lib/deploy/llama_cpp_ffi.ts is written for; pin ` +
        "npm:@node-llama-cpp/linux-x64@3.21.1 (deno.json).",
    );
  }
}

/**
 * A `llama_batch` in llama.cpp's memory (`llama_batch_init`) with writable views on its arrays, for
 * decoding a run of tokens of sequence 0 and asking for logits at chosen positions.
 */
export interface LlamaBatch {
  /** The struct, passed by value to `llama_decode` (its `n_tokens` set by {@linkcode LlamaBatch.fill}). */
  readonly struct: Uint8Array<ArrayBuffer>;
  /** How many tokens it holds at most. */
  readonly capacity: number;
  /**
   * Puts `tokens` at positions `firstPos…` of sequence 0, asking for logits where `wantLogits(i)` is true
   * (i counts from 0 in `tokens`).
   */
  fill(tokens: readonly number[], firstPos: number, wantLogits: (i: number) => boolean): void;
  /** Frees the native arrays. */
  free(): void;
}

/**
 * Allocates a {@linkcode LlamaBatch} of `capacity` tokens (one sequence, token ids, no embeddings).
 *
 * @param llama The library.
 * @param capacity Most tokens one decode will carry (the context's `n_batch`).
 * @returns The batch; free it with {@linkcode LlamaBatch.free}.
 *
 * @example
 * ```ts ignore
 * import { createBatch, openLlamaCpp } from "./llama_cpp_ffi.ts";
 * const batch = createBatch(await openLlamaCpp(), 256);
 * batch.fill([5, 6, 7], 0, (i) => i === 2); // logits only for the last token
 * ```
 */
export function createBatch(llama: LlamaCpp, capacity: number): LlamaBatch {
  const s = llama.symbols;
  const struct = s.llama_batch_init(capacity, 0, 1) as Uint8Array<ArrayBuffer>;
  const v = new DataView(struct.buffer, struct.byteOffset, struct.byteLength);
  const field = (offset: number, bytes: number) => {
    const ptr = Deno.UnsafePointer.create(v.getBigUint64(offset, true));
    if (!ptr) throw new Error(`llama_batch_init(${capacity}) returned no memory for a batch.`);
    return Deno.UnsafePointerView.getArrayBuffer(ptr, bytes);
  };
  const token = new Int32Array(field(L.batch.token, capacity * 4));
  const pos = new Int32Array(field(L.batch.pos, capacity * 4));
  const nSeqId = new Int32Array(field(L.batch.nSeqId, capacity * 4));
  const logits = new Int8Array(field(L.batch.logits, capacity));
  const seqIds = new BigUint64Array(field(L.batch.seqId, capacity * 8));
  for (let i = 0; i < capacity; i++) { // every token belongs to sequence 0
    new Int32Array(Deno.UnsafePointerView.getArrayBuffer(Deno.UnsafePointer.create(seqIds[i])!, 4))[0] = 0;
    nSeqId[i] = 1;
  }
  let freed = false;
  return {
    struct,
    capacity,
    fill(tokens, firstPos, wantLogits) {
      if (tokens.length > capacity) {
        throw new Error(`A llama.cpp batch holds ${capacity} tokens; ${tokens.length} given.`);
      }
      for (let i = 0; i < tokens.length; i++) {
        token[i] = tokens[i];
        pos[i] = firstPos + i;
        logits[i] = wantLogits(i) ? 1 : 0;
      }
      v.setInt32(L.batch.nTokens, tokens.length, true);
    },
    free() {
      if (freed) return;
      freed = true;
      s.llama_batch_free(struct);
    },
  };
}
