/**
 * Every judge call on the record: {@linkcode recordJudge} appends one {@linkcode JudgeCall} per call to the run
 * folder's `judge_calls.jsonl` (the text sent, the raw answer, wall time, tokens), and {@linkcode replayJudge}
 * answers from such a file offline, so a pipeline that used a slow or paid judge runs again without it.
 *
 * A judge call is an *exchange*: a request (the messages of {@linkcode judgeMessages}, as JSON) and a text
 * answer. The judges of `lib/align` are {@linkcode ExchangeJudge}s built with {@linkcode exchangeJudge}, so
 * what is recorded is exactly what the model was sent and said; any other {@linkcode Judge} is recorded with
 * the request a model judge would have been sent and the answer its method returned.
 *
 * @module
 */
import { z } from "zod";
import type { Judge, JudgeCall, Verdict } from "./types.ts";
import { judgeMessages, type JudgeRequest, parseVerdict, requestText } from "./judge_prompts.ts";
import { parseJsonLine } from "../util/json_lines_process.ts";

/** One call's texts: what was sent, what came back, and its cost when the judge measures it. */
export interface JudgeExchange {
  /** The text sent (for a chat judge: its messages as JSON, {@linkcode requestText}). */
  request: string;
  /** The raw answer. */
  answer: string;
  /** Wall time of this call, when the judge knows it better than the caller (a batch's share). */
  seconds?: number;
  /** Tokens in + out, when the judge counts them. */
  tokens?: number;
}

/** A judge whose calls are exchanges of text, so they can be recorded and replayed exactly. */
export interface ExchangeJudge extends Judge {
  /** Asks one request and returns what was sent and answered. */
  exchange(request: JudgeRequest): Promise<JudgeExchange>;
}

/**
 * A judge from its exchange function: a critique or revision is the answer (trimmed), a comparison the
 * answer read by {@linkcode parseVerdict}.
 *
 * @param name The judge's name.
 * @param exchange Asks one request.
 * @returns The judge.
 *
 * @example A judge that always says "(A)"
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchangeJudge } from "./recorded_judge.ts";
 * import { requestText } from "./judge_prompts.ts";
 * const judge = exchangeJudge("always-a", async (request) => ({ request: requestText(request), answer: "(A)" }));
 * const principle = { id: "p", description: "d", critiqueRequest: "c", revisionRequest: "r", comparisonQuestion: "q" };
 * const prompt = [{ role: "user" as const, content: "Hi" }];
 * assert.equal(await judge.compare({ prompt, a: "x", b: "y", principle }), "A");
 * assert.equal(await judge.critique({ prompt, response: "x", principle }), "(A)");
 * ```
 */
export function exchangeJudge(
  name: string,
  exchange: (request: JudgeRequest) => Promise<JudgeExchange>,
): ExchangeJudge {
  return {
    name,
    exchange,
    critique: async (input) => (await exchange({ kind: "critique", ...input })).answer.trim(),
    revise: async (input) => (await exchange({ kind: "revise", ...input })).answer.trim(),
    compare: async (input): Promise<Verdict> =>
      parseVerdict((await exchange({ kind: "compare", ...input })).answer),
  };
}

function _isExchangeJudge(judge: Judge): judge is ExchangeJudge {
  return typeof (judge as Partial<ExchangeJudge>).exchange === "function";
}

/** Asks a plain judge through its methods; the request recorded is the one a model judge would be sent. */
async function _plainExchange(judge: Judge, request: JudgeRequest): Promise<JudgeExchange> {
  const { prompt, principle } = request;
  const answer = request.kind === "critique"
    ? await judge.critique({ prompt, response: request.response, principle })
    : request.kind === "revise"
    ? await judge.revise({ prompt, response: request.response, critique: request.critique, principle })
    : await judge.compare({ prompt, a: request.a, b: request.b, principle });
  return { request: requestText(request), answer };
}

/**
 * Wraps a judge so that each call is appended to a JSON-lines file as a {@linkcode JudgeCall} (the run
 * folder's `judge_calls.jsonl`). The file is created (empty) at once if missing; calls append.
 *
 * @param judge Any judge.
 * @param file The JSON-lines file (its folder must exist).
 * @returns A judge with the same name and answers.
 * @throws {Error} One line when the file cannot be created (e.g. its folder is missing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchangeJudge, readJudgeCalls, recordJudge } from "./recorded_judge.ts";
 * import { requestText } from "./judge_prompts.ts";
 * const file = `${Deno.makeTempDirSync()}/judge_calls.jsonl`;
 * const judge = recordJudge(exchangeJudge("b", async (r) => ({ request: requestText(r), answer: "B", tokens: 9 })), file);
 * const principle = { id: "honest", description: "d", critiqueRequest: "c", revisionRequest: "r", comparisonQuestion: "q" };
 * assert.equal(await judge.compare({ prompt: [{ role: "user", content: "Hi" }], a: "x", b: "y", principle }), "B");
 * const [call] = readJudgeCalls(file);
 * assert.equal(call.judge, "b");
 * assert.equal(call.kind, "compare");
 * assert.equal(call.principle, "honest");
 * assert.equal(call.answer, "B");
 * assert.equal(call.tokens, 9);
 * ```
 */
export function recordJudge(judge: Judge, file: string): ExchangeJudge {
  try {
    Deno.writeTextFileSync(file, "", { append: true });
  } catch (e) {
    throw new Error(
      `recordJudge: cannot write ${file} (${(e as Error).message.split("\n")[0]}); create its folder first.`,
    );
  }
  return exchangeJudge(judge.name, async (request) => {
    const started = performance.now();
    const exchange = _isExchangeJudge(judge)
      ? await judge.exchange(request)
      : await _plainExchange(judge, request);
    const call: JudgeCall = {
      judge: judge.name,
      kind: request.kind,
      principle: request.principle.id,
      request: exchange.request,
      answer: exchange.answer,
      seconds: exchange.seconds ?? (performance.now() - started) / 1000,
      ...(exchange.tokens === undefined ? {} : { tokens: exchange.tokens }),
    };
    Deno.writeTextFileSync(file, JSON.stringify(call) + "\n", { append: true });
    return exchange;
  });
}

const JudgeCallSchema = z.object({
  judge: z.string(),
  kind: z.enum(["critique", "revise", "compare"]),
  principle: z.string(),
  request: z.string(),
  answer: z.string(),
  seconds: z.number().nonnegative(),
  tokens: z.number().int().nonnegative().optional(),
});

/**
 * Reads a `judge_calls.jsonl` file.
 *
 * @param file The file written by {@linkcode recordJudge}.
 * @returns Its calls, in order.
 * @throws {Error} One line: the file is missing, or `<file>:<line>: field <name>: …` for a malformed row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readJudgeCalls } from "./recorded_judge.ts";
 * const file = `${Deno.makeTempDirSync()}/judge_calls.jsonl`;
 * Deno.writeTextFileSync(file, '{"judge":"rules","kind":"compare","principle":"p","request":"[]","answer":"A"}\n');
 * assert.throws(() => readJudgeCalls(file), /judge_calls\.jsonl:1: field seconds:/);
 * ```
 */
export function readJudgeCalls(file: string): JudgeCall[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    throw new Error(`${file}: no such file; record the judge's calls first (recordJudge(judge, file)).`);
  }
  const calls: JudgeCall[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim()) calls.push(parseJsonLine(line, JudgeCallSchema, `${file}:${i + 1}`));
  });
  return calls;
}

/** Options of {@linkcode replayJudge}. */
export interface ReplayOptions {
  /** Replay this judge's calls (needed when the file holds several judges'). */
  judge?: string;
}

/**
 * A judge that answers from a recorded file, offline: the same request (kind, principle, text) gets the
 * answer recorded for it — the first time the first answer, then the next ones in the recorded order (a
 * sampling judge asked twice is replayed as it answered), the last one after that. It keeps the recorded
 * judge's name, since its answers are that judge's.
 *
 * @param file A file written by {@linkcode recordJudge}.
 * @param options Which judge's calls, when there are several.
 * @returns The judge.
 * @throws {Error} One line: the file is missing, malformed or empty, or holds several judges and none is
 * chosen; and, when asked, a request that is not in the file (run with a live judge to record it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchangeJudge, recordJudge, replayJudge } from "./recorded_judge.ts";
 * import { requestText } from "./judge_prompts.ts";
 * const file = `${Deno.makeTempDirSync()}/judge_calls.jsonl`;
 * const live = recordJudge(exchangeJudge("live", async (r) => ({ request: requestText(r), answer: "A" })), file);
 * const principle = { id: "p", description: "d", critiqueRequest: "c", revisionRequest: "r", comparisonQuestion: "q" };
 * const prompt = [{ role: "user" as const, content: "Hi" }];
 * await live.compare({ prompt, a: "x", b: "y", principle });
 * const replay = replayJudge(file);
 * assert.equal(await replay.compare({ prompt, a: "x", b: "y", principle }), "A");
 * await assert.rejects(replay.compare({ prompt, a: "y", b: "x", principle }), /run with a live judge/);
 * ```
 */
export function replayJudge(file: string, options: ReplayOptions = {}): ExchangeJudge {
  const all = readJudgeCalls(file);
  const names = [...new Set(all.map((c) => c.judge))];
  if (names.length === 0) {
    throw new Error(
      `${file}: no judge calls recorded; run with a live judge first (recordJudge(judge, file)).`,
    );
  }
  if (options.judge !== undefined && !names.includes(options.judge)) {
    throw new Error(`${file}: no calls of judge "${options.judge}"; it records ${names.join(", ")}.`);
  }
  if (options.judge === undefined && names.length > 1) {
    throw new Error(
      `${file}: records calls of ${names.length} judges (${names.join(", ")}); pass { judge } to pick one.`,
    );
  }
  const name = options.judge ?? names[0];
  const key = (kind: string, principle: string, request: string) =>
    `${kind}\u0000${principle}\u0000${request}`;
  const recorded = new Map<string, JudgeCall[]>();
  for (const call of all) {
    if (call.judge !== name) continue;
    const k = key(call.kind, call.principle, call.request);
    recorded.set(k, [...recorded.get(k) ?? [], call]);
  }
  const asked = new Map<string, number>();
  return exchangeJudge(name, (request) => {
    const text = requestText(request);
    const k = key(request.kind, request.principle.id, text);
    const calls = recorded.get(k);
    if (!calls) {
      const last = judgeMessages(request).at(-1)?.content ?? "";
      return Promise.reject(
        new Error(
          `replayJudge: ${file} has no ${request.kind} call of ${name} for principle "${request.principle.id}" ` +
            `with this request (${
              JSON.stringify(last.slice(0, 80))
            }…); run with a live judge (recordJudge) ` +
            "to record it.",
        ),
      );
    }
    const n = asked.get(k) ?? 0;
    asked.set(k, n + 1);
    const call = calls[Math.min(n, calls.length - 1)];
    return Promise.resolve({
      request: text,
      answer: call.answer,
      seconds: call.seconds,
      tokens: call.tokens,
    });
  });
}
