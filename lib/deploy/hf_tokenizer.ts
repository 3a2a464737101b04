/**
 * A model's own tokenizer in TypeScript, without Python: `tokenizer.json` (+ `tokenizer_config.json`) read by
 * Hugging Face's `@huggingface/tokenizers` (the tokenizer of transformers.js), with the defaults of
 * transformers' tokenizer so both give the same ids and the same text.
 *
 * @module
 */
import { Tokenizer } from "@huggingface/tokenizers";

/** Options of {@linkcode HfTokenizer.encode}. */
export interface EncodeOptions {
  /**
   * Apply `tokenizer.json`'s post-processor (e.g. a BOS token in front), as transformers' `tok(text)` does.
   * Default false, as transformers tokenizes a rendered chat template (`apply_chat_template`): a template
   * that wants a BOS token writes it itself.
   */
  addSpecialTokens?: boolean;
}

/** Options of {@linkcode HfTokenizer.decode}. */
export interface DecodeOptions {
  /** Drop special tokens (`<|im_end|>`, …) from the text (default false). */
  skipSpecialTokens?: boolean;
}

/** A model folder's tokenizer. */
export interface HfTokenizer {
  /** The folder it was read from. */
  readonly modelDir: string;
  /** Tokens in the vocabulary, added tokens included (ids are below this). */
  readonly vocabSize: number;
  /**
   * The token ids that end an answer: `eos_token_id` of `generation_config.json`, else of `config.json`, else
   * the id of `tokenizer_config.json`'s `eos_token` (a number or a list; empty when none is given).
   */
  readonly eosTokenIds: readonly number[];
  /** Text → token ids; special tokens written in the text (`<|im_start|>`) become their single ids. */
  encode(text: string, options?: EncodeOptions): number[];
  /** Token ids → text, as transformers' `decode` (no clean-up of spaces unless the config asks for it). */
  decode(ids: readonly number[], options?: DecodeOptions): string;
}

function _readJson(path: string, required: boolean, what: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    if (!required) return undefined;
    throw new Error(`${path}: missing; ${what}`);
  }
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
    throw new Error("not an object");
  } catch (e) {
    throw new Error(
      `${path}: not valid JSON (${(e as Error).message}); restore the file from the base model.`,
    );
  }
}

function _ids(value: unknown): number[] | undefined {
  if (typeof value === "number") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) return value;
  return undefined;
}

function _tokenText(token: unknown): string | undefined {
  if (typeof token === "string") return token;
  if (token && typeof token === "object" && "content" in token) return String(token.content);
  return undefined;
}

/**
 * Loads the tokenizer of a model folder.
 *
 * @param modelDir A model folder with `tokenizer.json` (and usually `tokenizer_config.json`).
 * @returns The tokenizer, with the model's end-of-sequence ids.
 * @throws {Error} One line naming the file when `tokenizer.json` is missing or a JSON file is unreadable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadTokenizer } from "./hf_tokenizer.ts";
 * const tok = loadTokenizer("data/models/ince-tiny");
 * const ids = tok.encode("<|im_start|>user\nHi<|im_end|>\n");
 * assert.equal(ids[0], 1); // <|im_start|> is one special token
 * assert.deepEqual(tok.eosTokenIds, [2]);
 * assert.equal(tok.decode(ids, { skipSpecialTokens: true }), "user\nHi\n");
 * ```
 */
export function loadTokenizer(modelDir: string): HfTokenizer {
  const tokenizerJson = _readJson(
    `${modelDir}/tokenizer.json`,
    true,
    "copy the base model's tokenizer files (tokenizer.json, tokenizer_config.json) into this folder.",
  )!;
  const tokenizerConfig = _readJson(`${modelDir}/tokenizer_config.json`, false, "") ?? {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  } catch (e) {
    const reason = (e as Error).message.split("\n")[0];
    throw new Error(
      `${modelDir}/tokenizer.json: not a tokenizer @huggingface/tokenizers can read (${reason}).`,
    );
  }
  const generation = _readJson(`${modelDir}/generation_config.json`, false, "");
  const config = _readJson(`${modelDir}/config.json`, false, "");
  const eosText = _tokenText(tokenizerConfig.eos_token);
  const eosFromTokenizer = eosText === undefined ? undefined : tokenizer.token_to_id(eosText);
  const eosTokenIds = _ids(generation?.eos_token_id) ?? _ids(config?.eos_token_id) ??
    (eosFromTokenizer === undefined ? [] : [eosFromTokenizer]);
  // transformers ≥ 5 leaves spaces alone unless the config says otherwise; tokenizers.js defaults to cleaning.
  const cleanUp = tokenizerConfig.clean_up_tokenization_spaces === true;
  return {
    modelDir,
    vocabSize: tokenizer.get_vocab(true).size,
    eosTokenIds,
    encode: (text, options = {}) =>
      tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids,
    decode: (ids, options = {}) =>
      tokenizer.decode([...ids], {
        skip_special_tokens: options.skipSpecialTokens ?? false,
        clean_up_tokenization_spaces: cleanUp,
      }),
  };
}
