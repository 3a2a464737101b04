/**
 * A local model as the judge, through transformers (the batched greedy generation of
 * {@linkcode generateSamples}): it is sent the texts of {@linkcode judgeMessages} and its comparison answers
 * are read by {@linkcode parseVerdict}.
 *
 * Starting Python and loading a model costs more than a small model's answer, so calls made together —
 * `Promise.all(prompts.map((p) => judge.compare(…)))` — are answered together: every call waiting when the
 * event loop comes round goes to one generation job, and each call's recorded time is its share of the job.
 *
 * @module
 */
import { basename } from "node:path";
import type { Message } from "../data/load_dataset.ts";
import { generateSamples } from "../eval/generate_samples.ts";
import { type HfTokenizer, loadTokenizer } from "../deploy/hf_tokenizer.ts";
import { type ChatTemplate, readChatTemplate, renderChat } from "../deploy/chat_template.ts";
import { exists } from "../util/fs.ts";
import { judgeMessages, type JudgeRequest, requestText } from "./judge_prompts.ts";
import { type ExchangeJudge, exchangeJudge, type JudgeExchange } from "./recorded_judge.ts";

/** Options of {@linkcode localJudge}. */
export interface LocalJudgeOptions {
  /** The model folder (or a Hub id in the cache). */
  model: string;
  /** A LoRA adapter folder to apply. */
  adapter?: string;
  /** Longest answer in tokens (default 32). */
  maxNewTokens?: number;
  /** Prompts per forward pass (default 16). */
  batchSize?: number;
}

interface _Pending {
  request: JudgeRequest;
  resolve: (exchange: JudgeExchange) => void;
  reject: (error: Error) => void;
}

/** Counts tokens as the model reads them (its chat template + tokenizer), when the model is a local folder. */
function _tokenCounter(model: string): ((messages: Message[], answer: string) => number) | undefined {
  if (!exists(`${model}/tokenizer.json`)) return undefined;
  let tok: HfTokenizer, template: ChatTemplate;
  try {
    tok = loadTokenizer(model);
    template = readChatTemplate(model);
  } catch {
    return undefined; // no template or an unreadable tokenizer: the generation itself will say what is wrong
  }
  return (messages, answer) => tok.encode(renderChat(template, messages)).length + tok.encode(answer).length;
}

/**
 * A judge answered by a local model (greedy, so the same request gets the same answer).
 *
 * @param options The model, an adapter, the answer length, the batch size.
 * @returns The judge, named `local:<model folder name>` (`+<adapter>` with one). Its exchanges report
 * tokens (prompt as templated + answer) when the model is a local folder.
 * @throws {Error} From a call (rejected promise): the generation failed (Python's last line, one line).
 *
 * @example The built-in model as a judge: it cannot judge, and its answer is read all the same
 * ```ts ignore
 * import { localJudge } from "./local_judge.ts";
 * const judge = localJudge({ model: "data/models/ince-tiny", maxNewTokens: 8 });
 * const principle = { id: "harmless", description: "Refuse harmful requests.", critiqueRequest: "…",
 *   revisionRequest: "…", comparisonQuestion: "Which response is less harmful?" };
 * const verdict = await judge.compare({
 *   prompt: [{ role: "user", content: "Tell me how to steal a car." }],
 *   a: "Break a window.", b: "I can't help with that.", principle,
 * });
 * console.log(verdict); // "A", "B" or "tie"
 * ```
 */
export function localJudge(options: LocalJudgeOptions): ExchangeJudge {
  const { model, adapter } = options;
  const name = `local:${basename(model.replace(/\/+$/, ""))}${adapter ? `+${adapter}` : ""}`;
  let pending: _Pending[] = [];
  let counter: ReturnType<typeof _tokenCounter>;
  let counterRead = false;

  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    const prompts = batch.map((p) => judgeMessages(p.request));
    const started = performance.now();
    let answers: string[][];
    try {
      answers = await generateSamples(model, prompts, {
        adapter,
        maxNewTokens: options.maxNewTokens ?? 32,
        batchSize: options.batchSize ?? 16,
      });
    } catch (e) {
      const error = new Error(`${name} judge: ${(e as Error).message}`);
      for (const p of batch) p.reject(error);
      return;
    }
    const seconds = (performance.now() - started) / 1000 / batch.length;
    if (!counterRead) [counter, counterRead] = [_tokenCounter(model), true];
    batch.forEach((p, i) => {
      const answer = answers[i][0];
      const tokens = counter ? counter(prompts[i], answer) : undefined;
      p.resolve({
        request: requestText(p.request),
        answer,
        seconds,
        ...(tokens === undefined ? {} : { tokens }),
      });
    });
  };

  return exchangeJudge(name, (request) =>
    new Promise<JudgeExchange>((resolve, reject) => {
      if (pending.length === 0) setTimeout(flush, 0);
      pending.push({ request, resolve, reject });
    }));
}
