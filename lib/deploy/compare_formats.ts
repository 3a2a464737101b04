/**
 * Lesson 03's table: the same model in several formats and runtimes (transformers as the reference; GGUF
 * files in llama.cpp; ONNX in onnxruntime), each answering the same held-out questions greedily — file size,
 * load time, tokens per second, exact match against the dataset, agreement with transformers' answers, and
 * perplexity of the reference answers.
 *
 * On a model this small, tokens per second measures each runtime's cost per token (Python's `generate()` loop,
 * the FFI call, the ONNX graph re-run without a KV cache), not arithmetic: read it as overhead, not as what a
 * 7B model would do.
 *
 * @module
 */
import { z } from "zod";
import type { ScoreExample } from "../infer/score.ts";
import { answerAgreement } from "../infer/score.ts";
import { modelArg, runPythonJob } from "../infer/_python_job.ts";
import type { Message } from "../data/load_dataset.ts";
import type { ChatTemplate } from "./chat_template.ts";
import { renderChat } from "./chat_template.ts";
import type { LocalModel } from "./generator.ts";

/** A chat question and its reference answer (what {@linkcode scoreExamples} gives for a chat dataset). */
export interface ChatQuestion {
  /** The conversation up to the answer. */
  prompt: Message[];
  /** The dataset's answer. */
  answer: string;
}

/** One row of the table. */
export interface FormatRow {
  /** E.g. `"transformers fp32"`, `"GGUF Q8_0"`. */
  format: string;
  /** The model file's size in bytes. */
  fileBytes: number;
  /** File → ready to answer, in seconds. */
  loadSeconds: number;
  /** New tokens per second of greedy generation over all questions. */
  tokensPerSecond: number;
  /** Share of answers equal to the dataset's (trimmed). */
  exactMatch: number;
  /** Share of answers equal to transformers' own (1 for the reference row). */
  agreement: number;
  /** exp(mean completion-token loss) of the dataset's answers. */
  perplexity: number;
  /** The answers, in order. */
  answers: string[];
}

/** Options of {@linkcode measureFormats}. */
export interface MeasureFormatsOptions {
  /** Longest answer in tokens (default 32). */
  maxNewTokens?: number;
  /** Threads for transformers (default 1: on a shared 2-core machine more threads are slower). */
  threads?: number;
}

/**
 * Only chat examples (a prompt given as messages); plain-text examples have no chat prompt to answer.
 *
 * @param examples From `scoreExamples`.
 * @returns The chat examples.
 * @throws {Error} When an example is plain text or its prompt is a bare string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatQuestions } from "./compare_formats.ts";
 * assert.equal(chatQuestions([{ prompt: [{ role: "user", content: "1+1?" }], answer: "2" }]).length, 1);
 * assert.throws(() => chatQuestions([{ text: "plain" }]), /chat examples/);
 * ```
 */
export function chatQuestions(examples: readonly ScoreExample[]): ChatQuestion[] {
  return examples.map((e, i) => {
    if (!("prompt" in e) || typeof e.prompt === "string") {
      throw new Error(`example ${i}: the format table needs chat examples ({ prompt: messages, answer }).`);
    }
    return { prompt: e.prompt, answer: e.answer };
  });
}

/**
 * The reference row: transformers in fp32 (`generate()`, greedy, `threads` threads), in a Python process.
 *
 * @param model The model folder (e.g. a merged model).
 * @param examples The questions and their answers.
 * @param options Answer length, threads.
 * @returns The row, format `"transformers fp32"`; `fileBytes` is the folder's `*.safetensors` total.
 *
 * @example
 * ```ts ignore
 * import { measureTransformers } from "./compare_formats.ts";
 * import { scoreExamples } from "../infer/score.ts";
 * import { chatQuestions } from "./compare_formats.ts";
 * const row = await measureTransformers("data/models/ince-tiny", chatQuestions(scoreExamples("data/datasets/numbers-heldout.jsonl")));
 * ```
 */
export async function measureTransformers(
  model: string,
  examples: readonly ChatQuestion[],
  options: MeasureFormatsOptions = {},
): Promise<FormatRow> {
  const r = await runPythonJob(
    "deploy/python/transformers_greedy.py",
    {
      model: modelArg(model),
      examples,
      maxNewTokens: options.maxNewTokens ?? 32,
      threads: options.threads ?? 1,
    },
    `Greedy answers with transformers from ${model}`,
    z.object({
      answers: z.array(z.string()),
      newTokens: z.number(),
      generateSeconds: z.number(),
      loadSeconds: z.number(),
      nll: z.number(),
      lossTokens: z.number(),
    }),
  );
  const fileBytes = [...Deno.readDirSync(model)].filter((e) => e.name.endsWith(".safetensors"))
    .reduce((sum, e) => sum + Deno.statSync(`${model}/${e.name}`).size, 0);
  return {
    format: "transformers fp32",
    fileBytes,
    loadSeconds: r.loadSeconds,
    tokensPerSecond: r.newTokens / r.generateSeconds,
    exactMatch: answerAgreement(r.answers, examples.map((e) => e.answer)),
    agreement: 1,
    perplexity: Math.exp(r.nll / Math.max(r.lossTokens, 1)),
    answers: r.answers,
  };
}

/**
 * The completion the chat template adds after the prompt for the answer (ince-tiny: `"dört<|im_end|>\n"`).
 *
 * @param template The model's chat template.
 * @param example A question and its answer.
 * @returns `{ prompt, completion }`, with `prompt + completion` the whole rendered chat.
 * @throws {Error} When the rendered chat does not start with the rendered prompt (a template that rewrites
 * earlier turns), since the answer's tokens could not then be told apart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readChatTemplate } from "./chat_template.ts";
 * import { promptAndCompletion } from "./compare_formats.ts";
 * const t = readChatTemplate("data/models/ince-tiny");
 * const { completion } = promptAndCompletion(t, { prompt: [{ role: "user", content: "4?" }], answer: "four" });
 * assert.equal(completion, "four<|im_end|>\n");
 * ```
 */
export function promptAndCompletion(
  template: ChatTemplate,
  example: ChatQuestion,
): { prompt: string; completion: string } {
  const prompt = renderChat(template, example.prompt);
  const full = renderChat(template, [...example.prompt, { role: "assistant", content: example.answer }], {
    addGenerationPrompt: false,
  });
  if (!full.startsWith(prompt)) {
    throw new Error(
      `${template.file}: the chat rendered with the answer does not start with the prompt rendered alone; ` +
        "the answer's tokens cannot be scored with this template.",
    );
  }
  return { prompt, completion: full.slice(prompt.length) };
}

/**
 * Measures a loaded model on the questions: greedy answers, speed, exact match, agreement with the
 * reference answers, and perplexity of the dataset's answers.
 *
 * @param model A GGUF or ONNX model from `loadGguf` / `loadOnnx`.
 * @param template The model's chat template (prompts are rendered in TypeScript).
 * @param examples The questions and their answers.
 * @param reference transformers' answers, in the same order (from {@linkcode measureTransformers}).
 * @param options Answer length.
 * @returns The row.
 *
 * @example
 * ```ts ignore
 * import { loadGguf } from "./gguf_model.ts";
 * import { readChatTemplate } from "./chat_template.ts";
 * import { chatQuestions, measureLocalModel, measureTransformers } from "./compare_formats.ts";
 * import { scoreExamples } from "../infer/score.ts";
 * const questions = chatQuestions(scoreExamples("data/datasets/numbers-heldout.jsonl"));
 * const reference = await measureTransformers("data/models/ince-tiny", questions);
 * const gguf = await loadGguf("out/ince-tiny-f16.gguf");
 * const row = await measureLocalModel(gguf, readChatTemplate("data/models/ince-tiny"), questions, reference.answers);
 * gguf.close();
 * ```
 */
export async function measureLocalModel(
  model: LocalModel,
  template: ChatTemplate,
  examples: readonly ChatQuestion[],
  reference: readonly string[],
  options: MeasureFormatsOptions = {},
): Promise<FormatRow> {
  const answers: string[] = [];
  let newTokens = 0, seconds = 0, nll = 0, lossTokens = 0;
  for (const example of examples) {
    const { prompt, completion } = promptAndCompletion(template, example);
    const a = await model.greedy(prompt, { maxNewTokens: options.maxNewTokens ?? 32 });
    answers.push(a.text);
    newTokens += a.tokenIds.length;
    seconds += a.seconds;
    const loss = await model.answerLoss(prompt, completion);
    nll += loss.nll;
    lossTokens += loss.tokens;
  }
  return {
    format: model.format,
    fileBytes: model.fileBytes,
    loadSeconds: model.loadSeconds,
    tokensPerSecond: newTokens / seconds,
    exactMatch: answerAgreement(answers, examples.map((e) => e.answer)),
    agreement: answerAgreement(answers, reference),
    perplexity: Math.exp(nll / Math.max(lossTokens, 1)),
    answers,
  };
}
