/**
 * Running a GGUF file from TypeScript with llama.cpp (through {@linkcode openLlamaCpp}): greedy answers with
 * streaming, and the loss of a reference answer — the {@linkcode LocalModel} shape, so a GGUF compares
 * directly with transformers and ONNX.
 *
 * The prompt is tokenized by llama.cpp's own tokenizer from the file (`parse_special`: `<|im_start|>` in the
 * text is the special token, as transformers does), adding a BOS token only when the file says so
 * (`tokenizer.ggml.add_bos_token`) and the text does not already start with it. Generation stops at the
 * model's end-of-sequence token only — llama.cpp's wider "end of generation" set (ince-tiny's
 * `<|endoftext|>` too) would cut answers transformers continues.
 *
 * @module
 */
import type { AnswerLoss, GreedyAnswer, GreedyOptions, LocalModel } from "./generator.ts";
import { type GgufInfo, readGgufInfo } from "./gguf_file.ts";
import { ggmlType, llamaFtypeName } from "./ggml_types.ts";
import {
  createBatch,
  cString,
  LLAMA_STRUCT_LAYOUT,
  type LlamaSymbols,
  openLlamaCpp,
} from "./llama_cpp_ffi.ts";

/** Options of {@linkcode loadGguf}. */
export interface GgufLoadOptions {
  /** CPU threads llama.cpp uses (default 1: right for a shared or small CPU; more only on idle cores). */
  threads?: number;
  /** Tokens of context: prompt + answer (default: the model's training context, at most 4096). */
  contextSize?: number;
  /** Token ids that end an answer (default: the file's `tokenizer.ggml.eos_token_id`). */
  eosTokenIds?: number[];
  /**
   * Attention in float32 (default false). llama.cpp's defaults — what llama-server and Ollama run — keep the
   * attention's key/value cache in F16 and use flash attention, whose CPU kernel computes in F16 whatever the
   * cache type: logits then differ from PyTorch's float32 by ~1e-3. `true` keeps the cache in F32 and turns
   * flash attention off, so an F32 GGUF computes in float32 throughout (logits within ~1e-5 of PyTorch's).
   */
  f32Attention?: boolean;
}

/** A GGUF model loaded in llama.cpp: a {@linkcode LocalModel} plus its header and tokenizer. */
export interface GgufModel extends LocalModel {
  /** The file's header (metadata, tensor table). */
  readonly info: GgufInfo;
  /** Tokens of context available to prompt + answer. */
  readonly contextSize: number;
  /** llama.cpp's tokenization of a text (special tokens parsed; BOS added only if the file asks for it). */
  tokenize(text: string): number[];
}

/**
 * Loads a GGUF file into llama.cpp, ready to answer.
 *
 * @param path A `.gguf` file (from {@linkcode convertToGguf} or {@linkcode quantizeGguf}).
 * @param options Threads, context size, end tokens.
 * @returns The model; call `close()` when done.
 * @throws {Error} One line naming the file when it is missing or corrupt ({@linkcode readGgufInfo}'s
 * checks), or when llama.cpp refuses it (with llama.cpp's own reason).
 *
 * @example Ask the built-in model, streaming the answer
 * ```ts ignore
 * import { loadGguf } from "./gguf_model.ts";
 * import { readChatTemplate, renderChat } from "./chat_template.ts";
 * const model = await loadGguf("out/ince-tiny-f16.gguf", { threads: 1 });
 * const prompt = renderChat(readChatTemplate("data/models/ince-tiny"), [{ role: "user", content: "Write 4 in Turkish words." }]);
 * const { text } = await model.greedy(prompt, { onText: (piece) => Deno.stdout.writeSync(new TextEncoder().encode(piece)) });
 * model.close();
 * ```
 */
export async function loadGguf(path: string, options: GgufLoadOptions = {}): Promise<GgufModel> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`loadGguf: threads must be a positive integer, not ${threads}.`);
  }
  if (
    options.contextSize !== undefined && (!Number.isInteger(options.contextSize) || options.contextSize < 2)
  ) {
    throw new Error(`loadGguf: contextSize must be an integer ≥ 2, not ${options.contextSize}.`);
  }
  const t0 = performance.now();
  const info = readGgufInfo(path);
  const llama = await openLlamaCpp();
  const s = llama.symbols;
  llama.takeLog();
  const model = s.llama_model_load_from_file(cString(path), s.llama_model_default_params());
  if (!model) {
    throw new Error(
      `${path}: llama.cpp could not load this GGUF (${_reason(llama.takeLog())}); convert it again with a ` +
        "converter of the same llama.cpp version (convertToGguf).",
    );
  }
  const trained = s.llama_model_n_ctx_train(model);
  const contextSize = options.contextSize ?? Math.min(trained > 0 ? trained : 4096, 4096);
  const C = LLAMA_STRUCT_LAYOUT.contextParams;
  const params = s.llama_context_default_params();
  const pv = new DataView(params.buffer, params.byteOffset, params.byteLength);
  pv.setUint32(C.nCtx, contextSize, true);
  pv.setUint32(C.nBatch, contextSize, true); // one decode takes a whole prompt
  pv.setUint32(C.nUbatch, Math.min(contextSize, 512), true);
  pv.setInt32(C.nThreads, threads, true);
  pv.setInt32(C.nThreadsBatch, threads, true);
  if (options.f32Attention) {
    pv.setInt32(C.typeK, ggmlType("F32").id, true);
    pv.setInt32(C.typeV, ggmlType("F32").id, true);
    pv.setInt32(C.flashAttnType, 0, true); // LLAMA_FLASH_ATTN_TYPE_DISABLED
  }
  const ctx = s.llama_init_from_model(model, params);
  if (!ctx) {
    s.llama_model_free(model);
    throw new Error(
      `${path}: llama.cpp could not make a context of ${contextSize} tokens (${_reason(llama.takeLog())}).`,
    );
  }
  const nCtx = s.llama_n_ctx(ctx);
  const batch = createBatch(llama, nCtx);
  const vocab = s.llama_model_get_vocab(model);
  const nVocab = s.llama_vocab_n_tokens(vocab);
  const bosBytes = s.llama_vocab_get_add_bos(vocab)
    ? _pieceBytes(s, vocab, s.llama_vocab_bos(vocab), true)
    : null;
  const eos = new Set(options.eosTokenIds ?? [s.llama_vocab_eos(vocab)]);
  let closed = false;

  const alive = (what: string) => {
    if (closed) throw new Error(`${path}: ${what} after close(); load the model again.`);
  };

  const tokenize = (text: string): number[] => {
    alive("tokenize()");
    const bytes = new TextEncoder().encode(text);
    const withBos = bosBytes !== null && !_startsWith(bytes, bosBytes); // the template may have put it there
    let out = new Int32Array(bytes.length + 8);
    let n = s.llama_tokenize(vocab, bytes, bytes.length, out, out.length, withBos, true);
    if (n < 0) {
      out = new Int32Array(-n);
      n = s.llama_tokenize(vocab, bytes, bytes.length, out, out.length, withBos, true);
    }
    if (n < 0) throw new Error(`${path}: llama.cpp could not tokenize a text of ${bytes.length} bytes.`);
    return [...out.subarray(0, n)];
  };

  /** Decodes `tokens` at positions firstPos…; returns nothing (logits are read with logitsAt). */
  const decode = (tokens: readonly number[], firstPos: number, wantLogits: (i: number) => boolean) => {
    batch.fill(tokens, firstPos, wantLogits);
    const rc = s.llama_decode(ctx, batch.struct);
    if (rc !== 0) {
      throw new Error(`${path}: llama_decode failed (code ${rc}; ${_reason(llama.takeLog())}).`);
    }
  };

  /** The logits row of batch position i (-1: the last one requested), a view valid until the next decode. */
  const logitsAt = (i: number): Float32Array => {
    const p = s.llama_get_logits_ith(ctx, i);
    if (!p) throw new Error(`${path}: llama.cpp has no logits for batch position ${i}.`);
    return new Float32Array(Deno.UnsafePointerView.getArrayBuffer(p, nVocab * 4));
  };

  const fits = (n: number, what: string) => {
    if (n > nCtx) {
      throw new Error(
        `${path}: ${what} needs ${n} tokens of context, more than contextSize ${nCtx}; load with a larger contextSize.`,
      );
    }
  };

  const answerLossNow = (prompt: string, completion: string): AnswerLoss => {
    alive("answerLoss()");
    const promptIds = tokenize(prompt);
    const ids = tokenize(prompt + completion);
    const first = promptIds.length; // scored: ids[first…], as transformers' completion-only loss
    if (first < 1 || ids.length <= first) {
      throw new Error(`${path}: answerLoss() needs a non-empty prompt and completion.`);
    }
    fits(ids.length, `a prompt + completion of ${ids.length} tokens`);
    s.llama_memory_clear(s.llama_get_memory(ctx), true);
    decode(ids, 0, (i) => i >= first - 1 && i < ids.length - 1);
    let nll = 0;
    for (let i = first - 1; i < ids.length - 1; i++) nll += _negLogSoftmax(logitsAt(i), ids[i + 1]);
    return { nll, tokens: ids.length - first };
  };

  const loadSeconds = (performance.now() - t0) / 1000;

  return {
    format: `GGUF ${llamaFtypeName(Number(info.metadata["general.file_type"] ?? -1))}`,
    path,
    fileBytes: info.fileBytes,
    loadSeconds,
    info,
    contextSize: nCtx,
    tokenize,

    async greedy(prompt: string, opts: GreedyOptions = {}): Promise<GreedyAnswer> {
      alive("greedy()");
      const maxNewTokens = opts.maxNewTokens ?? 32;
      const start = performance.now();
      const ids = tokenize(prompt);
      if (ids.length === 0) throw new Error(`${path}: greedy() got an empty prompt.`);
      fits(ids.length + maxNewTokens, `a prompt of ${ids.length} tokens + ${maxNewTokens} new tokens`);
      s.llama_memory_clear(s.llama_get_memory(ctx), true);
      decode(ids, 0, (i) => i === ids.length - 1);
      const out: number[] = [];
      const bytes: number[] = [];
      const stream = new TextDecoder();
      while (out.length < maxNewTokens) {
        const next = _argmax(logitsAt(-1));
        out.push(next);
        if (eos.has(next)) break;
        const piece = _pieceBytes(s, vocab, next, false); // special tokens render as nothing
        bytes.push(...piece);
        if (opts.onText) {
          const text = stream.decode(piece, { stream: true });
          if (text) {
            opts.onText(text);
            await new Promise((resolve) => setTimeout(resolve, 0)); // let the notebook show it
          }
        }
        if (out.length === maxNewTokens) break;
        decode([next], ids.length + out.length - 1, () => true);
      }
      return {
        text: new TextDecoder().decode(new Uint8Array(bytes)).trim(),
        tokenIds: out,
        promptTokens: ids.length,
        seconds: (performance.now() - start) / 1000,
      };
    },

    answerLoss(prompt: string, completion: string): Promise<AnswerLoss> {
      return Promise.resolve().then(() => answerLossNow(prompt, completion));
    },

    close() {
      if (closed) return;
      closed = true;
      batch.free();
      s.llama_free(ctx);
      s.llama_model_free(model);
    },
  };
}

/** A token's text as bytes (a byte-level token may hold part of a UTF-8 character); `special`: render
 * special tokens (`<|im_end|>`) rather than nothing. */
function _pieceBytes(s: LlamaSymbols, vocab: Deno.PointerValue, token: number, special: boolean): Uint8Array {
  let buf = new Uint8Array(64);
  let n = s.llama_token_to_piece(vocab, token, buf, buf.length, 0, special);
  if (n < 0) {
    buf = new Uint8Array(-n);
    n = s.llama_token_to_piece(vocab, token, buf, buf.length, 0, special);
  }
  return buf.subarray(0, Math.max(n, 0));
}

function _argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** −log softmax(row)[target], in float64 (log-sum-exp shifted by the max). */
function _negLogSoftmax(row: Float32Array, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return Math.log(sum) + max - row[target];
}

function _startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length === 0 || prefix.length > bytes.length) return false;
  return prefix.every((b, i) => bytes[i] === b);
}

function _reason(log: string[]): string {
  const last = log.filter((l) => l.length > 0).at(-1);
  return last ? `llama.cpp said: ${last.replace(/\s+/g, " ")}` : "llama.cpp gave no reason";
}
