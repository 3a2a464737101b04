/**
 * Rendering a model's own chat template (the Jinja text in its `chat_template.jinja`, or the
 * `chat_template` field of `tokenizer_config.json`) in TypeScript, with Hugging Face's Jinja engine
 * (`@huggingface/jinja`, the one transformers.js uses), so a runtime without Python formats prompts exactly
 * as transformers' `apply_chat_template` does.
 *
 * @module
 */
import { Template } from "@huggingface/jinja";
import type { Message } from "../data/load_dataset.ts";

/** A model's chat template and the special tokens it may refer to. */
export interface ChatTemplate {
  /** The Jinja source. */
  source: string;
  /** Where it was read from. */
  file: string;
  /** `bos_token` / `eos_token` of tokenizer_config.json (strings; "" when absent). */
  bosToken: string;
  eosToken: string;
}

/**
 * Reads a model folder's chat template: `chat_template.jinja`, else `tokenizer_config.json`'s `chat_template`.
 *
 * @param modelDir A model folder (e.g. `data/models/ince-tiny` or a merged model).
 * @returns The template.
 * @throws {Error} Naming the folder when it has no chat template.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readChatTemplate } from "./chat_template.ts";
 * assert.match(readChatTemplate("data/models/ince-tiny").source, /im_start/);
 * ```
 */
export function readChatTemplate(modelDir: string): ChatTemplate {
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(Deno.readTextFileSync(`${modelDir}/tokenizer_config.json`));
  } catch { /* a model without tokenizer_config.json may still have chat_template.jinja */ }
  const tokenText = (t: unknown) =>
    typeof t === "string" ? t : (t && typeof t === "object" && "content" in t ? String(t.content) : "");
  const special = { bosToken: tokenText(config.bos_token), eosToken: tokenText(config.eos_token) };
  const jinja = `${modelDir}/chat_template.jinja`;
  try {
    return { source: Deno.readTextFileSync(jinja), file: jinja, ...special };
  } catch { /* fall back to tokenizer_config.json */ }
  if (typeof config.chat_template === "string") {
    return { source: config.chat_template, file: `${modelDir}/tokenizer_config.json`, ...special };
  }
  throw new Error(
    `${modelDir}: no chat template (neither chat_template.jinja nor tokenizer_config.json's chat_template); ` +
      "copy the base model's tokenizer files into this folder.",
  );
}

/**
 * Renders messages through a chat template, as `apply_chat_template(messages, tokenize=False,
 * add_generation_prompt=…)`.
 *
 * @param template From {@linkcode readChatTemplate}.
 * @param messages The chat so far.
 * @param options `addGenerationPrompt` (default true): end with the assistant's opening, ready to answer.
 * @returns The prompt text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readChatTemplate, renderChat } from "./chat_template.ts";
 * const t = readChatTemplate("data/models/ince-tiny");
 * assert.equal(
 *   renderChat(t, [{ role: "user", content: "Hi" }]),
 *   "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
 * );
 * ```
 */
export function renderChat(
  template: ChatTemplate,
  messages: Message[],
  options: { addGenerationPrompt?: boolean } = {},
): string {
  return new Template(template.source).render({
    messages,
    add_generation_prompt: options.addGenerationPrompt ?? true,
    bos_token: template.bosToken,
    eos_token: template.eosToken,
  });
}
