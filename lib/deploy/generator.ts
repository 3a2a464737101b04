/**
 * One shape for every runtime a deployed model runs in (transformers is the reference; llama.cpp on a GGUF
 * file and onnxruntime on an ONNX file are the deployed ones), so the lesson's comparison table and the tests
 * treat them alike.
 *
 * The answer rule, the same as {@linkcode generate} in lib/infer (transformers' `generate`): greedy decoding
 * of the chat-formatted prompt, stop at the model's end-of-sequence token (ince-tiny: `<|im_end|>`, id 2) or
 * after `maxNewTokens`, decode without special tokens, trim white space.
 *
 * @module
 */

/** Options of {@linkcode LocalModel.greedy}. */
export interface GreedyOptions {
  /** Longest answer in tokens (default 32). */
  maxNewTokens?: number;
  /** Called with each new piece of text as it is generated (for streaming into a notebook). */
  onText?: (piece: string) => void;
}

/** One greedy answer. */
export interface GreedyAnswer {
  /** The answer text (special tokens dropped, trimmed). */
  text: string;
  /** The generated token ids, the end-of-sequence token included when it was reached. */
  tokenIds: number[];
  /** Tokens in the prompt. */
  promptTokens: number;
  /** Wall time of the generation (prompt + new tokens). */
  seconds: number;
}

/**
 * A reference completion scored by the model's probability of its tokens, as transformers' completion-only
 * loss (lib/infer `scoreModels`): the tokens of `prompt + completion` after the prompt's own tokens.
 */
export interface AnswerLoss {
  /** Sum over the answer's tokens of −log p(token | everything before it), in nats. */
  nll: number;
  /** How many answer tokens were scored. */
  tokens: number;
}

/** A model file loaded in a runtime, ready to answer. */
export interface LocalModel {
  /** What it is, for tables: e.g. `"GGUF Q8_0"`, `"ONNX fp32"`. */
  readonly format: string;
  /** The file it was loaded from. */
  readonly path: string;
  /** The file's size in bytes. */
  readonly fileBytes: number;
  /** Seconds to load it (file → ready to generate). */
  readonly loadSeconds: number;
  /** Greedy answer to a prompt that is already chat-formatted (see {@linkcode renderChat}). */
  greedy(prompt: string, options?: GreedyOptions): Promise<GreedyAnswer>;
  /**
   * The loss of `completion` after the chat-formatted `prompt`; `completion` is the rest of the chat as the
   * template renders the assistant's turn (ince-tiny: `"dört<|im_end|>\n"`). Perplexity = exp(Σnll / Σtokens).
   */
  answerLoss(prompt: string, completion: string): Promise<AnswerLoss>;
  /** Frees the native memory; the model cannot be used afterwards. */
  close(): void;
}
