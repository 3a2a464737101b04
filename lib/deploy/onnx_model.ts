/**
 * Running an ONNX export (from {@linkcode exportOnnx}) in TypeScript with onnxruntime-node, with no Python:
 * the model's tokenizer from its folder ({@linkcode loadTokenizer}), a greedy loop, and the answer loss from
 * the logits — a {@linkcode LocalModel} like the GGUF runtime.
 *
 * There is no KV cache: the exported graph maps `input_ids` [1, seq] to `logits` [1, seq, vocab], so each new
 * token re-runs the whole sequence (cost grows with the square of the length; fine for short answers of a
 * small model, and the logits are exactly the model's). Why onnxruntime-node rather than transformers.js:
 * see {@linkcode exportOnnx}.
 *
 * onnxruntime runs with `threads` intra-op threads (default 1), one inter-op thread and no spinning: idle
 * worker threads that spin steal the CPU from everything else on a small shared machine.
 *
 * @module
 */
import type * as Ort from "onnxruntime-node";
import { exists } from "../util/fs.ts";
import type { AnswerLoss, GreedyAnswer, GreedyOptions, LocalModel } from "./generator.ts";
import { type HfTokenizer, loadTokenizer } from "./hf_tokenizer.ts";

/** Options of {@linkcode loadOnnx}. */
export interface LoadOnnxOptions {
  /** The model folder the file was exported from: its tokenizer and end-of-sequence ids are used. */
  modelDir: string;
  /** onnxruntime's intra-op threads (default 1). */
  threads?: number;
}

/** An ONNX causal language model loaded in onnxruntime. */
export interface OnnxModel extends LocalModel {
  /** The model folder's tokenizer. */
  readonly tokenizer: HfTokenizer;
  /** Width of a logits row (the model's vocabulary). */
  readonly vocabSize: number;
  /** The logits of every position of `ids`, row after row: `seq × vocabSize` numbers. */
  logits(ids: readonly number[]): Promise<Float32Array>;
}

const _dtypeNames: Record<string, string> = { float32: "fp32", float16: "fp16", bfloat16: "bf16" };

/** Index of the largest value in `row[start, start + n)`, the first one on ties (as torch's argmax). */
function _argmax(row: Float32Array, start: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (row[start + i] > row[start + best]) best = i;
  return best;
}

/** log softmax(row[start, start + n))[index], in float64. */
function _logProb(row: Float32Array, start: number, n: number, index: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, row[start + i]);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(row[start + i] - max);
  return row[start + index] - max - Math.log(sum);
}

function _oneLine(e: unknown): string {
  return String((e as Error)?.message ?? e).trim().split("\n")[0].slice(0, 300);
}

/**
 * Loads an ONNX file exported by {@linkcode exportOnnx} (one input `input_ids`, one output `logits`) into
 * onnxruntime, with the tokenizer of the model folder it came from, and checks both with one 1-token run.
 *
 * @param path The `.onnx` file.
 * @param options The model folder (tokenizer, end-of-sequence ids) and the thread count.
 * @returns The model: greedy answers (streaming with `onText`), answer losses, raw logits.
 * @throws {Error} One line naming the file when it is missing, not a readable ONNX model, not an
 * `input_ids → logits` graph, or its logits do not fit the folder's tokenizer.
 *
 * @example Answer a question (needs an export, see exportOnnx)
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { loadOnnx } from "./onnx_model.ts";
 * import { readChatTemplate, renderChat } from "./chat_template.ts";
 * const dir = "data/models/ince-tiny";
 * const model = await loadOnnx("out/ince-tiny.onnx", { modelDir: dir });
 * const prompt = renderChat(readChatTemplate(dir), [{ role: "user", content: "Write 4 in English words." }]);
 * const pieces: string[] = [];
 * const answer = await model.greedy(prompt, { onText: (p) => pieces.push(p) });
 * assert.equal(pieces.join("").trim(), answer.text);
 * model.close();
 * ```
 */
export async function loadOnnx(path: string, options: LoadOnnxOptions): Promise<OnnxModel> {
  const started = performance.now();
  if (!exists(path)) {
    throw new Error(`${path}: no such ONNX file; export one with exportOnnx({ model, out: "${path}" }).`);
  }
  const tokenizer = loadTokenizer(options.modelDir);
  const ort = await import("onnxruntime-node");
  const threads = options.threads ?? 1;
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
    });
  } catch (e) {
    throw new Error(
      `${path}: not a readable ONNX model (onnxruntime: ${_oneLine(e)}); export it again with exportOnnx.`,
    );
  }
  const names = `inputs [${session.inputNames.join(", ")}], outputs [${session.outputNames.join(", ")}]`;
  if (
    session.inputNames.length !== 1 || session.inputNames[0] !== "input_ids" ||
    !session.outputNames.includes("logits")
  ) {
    await session.release();
    throw new Error(
      `${path}: has ${names}; loadOnnx runs a logits-only graph (input_ids → logits) as exportOnnx writes it.`,
    );
  }
  const meta = session.outputMetadata.find((m) => m.name === "logits");
  const dtype = meta?.isTensor ? meta.type : "float32";

  let closed = false;
  const run = async (ids: readonly number[]): Promise<{ data: Float32Array; vocab: number }> => {
    if (closed) throw new Error(`${path}: this ONNX model was closed; load it again with loadOnnx.`);
    if (ids.length === 0) throw new Error(`${path}: nothing to run (0 tokens); give a non-empty prompt.`);
    const input = new ort.Tensor("int64", BigInt64Array.from(ids, (id) => BigInt(id)), [1, ids.length]);
    const out = (await session.run({ input_ids: input })).logits as Ort.Tensor;
    if (!(out.data instanceof Float32Array)) {
      throw new Error(
        `${path}: its logits are ${out.type}; loadOnnx reads float32 logits (export in float32).`,
      );
    }
    return { data: out.data, vocab: out.dims[out.dims.length - 1] };
  };

  let vocabSize: number;
  try {
    vocabSize = (await run([tokenizer.eosTokenIds[0] ?? 0])).vocab;
  } catch (e) {
    await session.release();
    throw new Error(`${path}: a 1-token test run failed (${_oneLine(e)}); export it again with exportOnnx.`);
  }
  if (vocabSize < tokenizer.vocabSize) {
    await session.release();
    throw new Error(
      `${path}: its logits have ${vocabSize} columns but ${options.modelDir}'s tokenizer has ${tokenizer.vocabSize} ` +
        "tokens; pass the modelDir the file was exported from.",
    );
  }
  const fileBytes = Deno.statSync(path).size;
  const loadSeconds = (performance.now() - started) / 1000;

  async function greedy(prompt: string, greedyOptions: GreedyOptions = {}): Promise<GreedyAnswer> {
    const t0 = performance.now();
    const maxNewTokens = greedyOptions.maxNewTokens ?? 32;
    const ids = tokenizer.encode(prompt);
    const promptTokens = ids.length;
    const generated: number[] = [];
    let streamed = "";
    const stream = (final: boolean) => {
      if (!greedyOptions.onText) return;
      const answerIds = generated.filter((id) => !tokenizer.eosTokenIds.includes(id));
      const text = tokenizer.decode(answerIds, { skipSpecialTokens: true }).trimStart();
      // A token may end inside a UTF-8 character (byte-level BPE): wait for the rest before showing it.
      if ((!final && text.endsWith("\uFFFD")) || !text.startsWith(streamed) || text === streamed) return;
      greedyOptions.onText(text.slice(streamed.length));
      streamed = text;
    };
    while (generated.length < maxNewTokens) {
      const { data, vocab } = await run(ids);
      const next = _argmax(data, data.length - vocab, vocab);
      generated.push(next);
      if (tokenizer.eosTokenIds.includes(next)) break;
      ids.push(next);
      stream(false);
    }
    stream(true);
    return {
      text: tokenizer.decode(generated, { skipSpecialTokens: true }).trim(),
      tokenIds: generated,
      promptTokens,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  async function answerLoss(prompt: string, completion: string): Promise<AnswerLoss> {
    // As transformers' completion-only loss: tokenize the whole text, score the tokens after the prompt's own.
    const ids = tokenizer.encode(prompt + completion);
    const first = Math.max(tokenizer.encode(prompt).length, 1);
    if (first >= ids.length) return { nll: 0, tokens: 0 };
    const { data, vocab } = await run(ids);
    let nll = 0;
    for (let t = first; t < ids.length; t++) nll -= _logProb(data, (t - 1) * vocab, vocab, ids[t]);
    return { nll, tokens: ids.length - first };
  }

  return {
    format: `ONNX ${_dtypeNames[dtype] ?? dtype}`,
    path,
    fileBytes,
    loadSeconds,
    tokenizer,
    vocabSize,
    greedy,
    answerLoss,
    logits: async (ids) => (await run(ids)).data,
    close: () => {
      if (closed) return;
      closed = true;
      void session.release();
    },
  };
}
