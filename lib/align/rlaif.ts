/**
 * RLAIF's labelling step (Bai et al., 2022, §4; Lee et al., 2023): two answers per prompt, a judge picks
 * the better one under each principle, and the pairs it prefers become DPO training rows.
 *
 * Judges favour a position (Lee et al. report it even for large models; Zheng et al., 2023 measure it),
 * so every comparison is asked twice, the answers swapped. Only when both orders agree does a principle
 * count as a win; when they disagree it is a *split* (position bias showed), never a win. A response is
 * chosen when it wins more principles than the other; equal counts give no pair.
 *
 * @module
 */
import type { AlignPrompt, Constitution, Judge, Verdict } from "./types.ts";
import { ALIGN_RUN_FILES, type AlignRun, writeRunFile } from "./align_run.ts";
import {
  checkAnswers,
  checkConstitution,
  DEFAULT_CONCURRENCY,
  judgeCall,
  mapLimit,
  userChat,
} from "./_pipeline.ts";

/** What a principle decided between answers `a` and `b`, from both orders. */
export type PrincipleOutcome = "a" | "b" | "tie" | "split";

const VERDICTS: readonly Verdict[] = ["A", "B", "tie"];

/**
 * The outcome of one principle from the two orders it was asked in. `first` is the verdict on
 * (A = a, B = b), `second` on the swapped pair (A = b, B = a):
 *
 * | first \ second | A (b better) | B (a better) | tie   |
 * |----------------|--------------|--------------|-------|
 * | A (a better)   | split        | **a**        | split |
 * | B (b better)   | **b**        | split        | split |
 * | tie            | split        | split        | tie   |
 *
 * A judge that always answers "A" (pure position bias) gets "split" every time and can never make a win.
 *
 * @param first The verdict with `a` shown first.
 * @param second The verdict with `b` shown first.
 * @returns `"a"` or `"b"` when both orders agree on it, `"tie"` when both say tie, else `"split"`.
 * @throws {Error} When a verdict is not "A", "B" or "tie".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aggregateVerdicts } from "./rlaif.ts";
 * assert.equal(aggregateVerdicts("A", "B"), "a"); // a first: A; b first: B (= a) — both orders prefer a
 * assert.equal(aggregateVerdicts("B", "A"), "b");
 * assert.equal(aggregateVerdicts("A", "A"), "split"); // whatever comes first wins: position bias
 * assert.equal(aggregateVerdicts("tie", "tie"), "tie");
 * assert.equal(aggregateVerdicts("tie", "B"), "split");
 * ```
 */
export function aggregateVerdicts(first: Verdict, second: Verdict): PrincipleOutcome {
  for (const [name, v] of [["first", first], ["second", second]] as const) {
    if (!VERDICTS.includes(v)) {
      throw new Error(`aggregateVerdicts: ${name} is ${JSON.stringify(v)}; a verdict is "A", "B" or "tie".`);
    }
  }
  if (first === "A" && second === "B") return "a";
  if (first === "B" && second === "A") return "b";
  if (first === "tie" && second === "tie") return "tie";
  return "split";
}

/** A DPO training row, as the trainer reads it (`stage: "dpo"`). */
export interface PreferencePair {
  /** The prompt's id. */
  id: string;
  /** The user's message. */
  prompt: string;
  /** The answer the judge preferred. */
  chosen: string;
  /** The other one. */
  rejected: string;
}

/** One prompt's comparison (a row of `rlaif_comparisons.jsonl`). */
export interface PreferenceDecision {
  /** The prompt's id. */
  id: string;
  /** The user's message. */
  prompt: string;
  /** The first sample. */
  a: string;
  /** The second sample. */
  b: string;
  /** Per principle: the verdict with `a` first, with `b` first, and the outcome. Empty when `a` equals `b`. */
  principles: { principle: string; first: Verdict; second: Verdict; outcome: PrincipleOutcome }[];
  /** How many principles each answer won. */
  wins: { a: number; b: number };
  /** The chosen answer, or null (equal wins, or identical samples). */
  winner: "a" | "b" | null;
}

/** Counts of one principle's outcomes over all prompts. */
export interface OutcomeCounts {
  a: number;
  b: number;
  tie: number;
  split: number;
}

/** What {@linkcode preferencePairs} returns. */
export interface PreferenceResult {
  /** The DPO rows (chosen/rejected by the judge), in prompt order. */
  pairs: PreferencePair[];
  /** Every prompt's comparison, in order. */
  decisions: PreferenceDecision[];
  /** Totals. */
  counts: {
    /** Prompts compared. */
    prompts: number;
    /** Pairs made. */
    pairs: number;
    /** Prompts whose answers won equally many principles (no pair). */
    noPreference: number;
    /** Prompts whose two samples were the same text (not sent to the judge; no pair). */
    identical: number;
    /** Outcomes per principle id (identical samples left out). */
    perPrinciple: Record<string, OutcomeCounts>;
  };
}

/** One principle's two verdicts on a pair and what they add up to. */
export interface PrincipleJudgement {
  /** The principle's id. */
  principle: string;
  /** The verdict with the first answer shown as "A". */
  first: Verdict;
  /** The verdict with the second answer shown as "A". */
  second: Verdict;
  /** {@linkcode aggregateVerdicts}`(first, second)`: "a" is the first answer, "b" the second. */
  outcome: PrincipleOutcome;
}

/** What {@linkcode judgeBothOrders} compares. */
export interface JudgeBothOrdersOptions {
  /** The prompts. */
  prompts: readonly AlignPrompt[];
  /** The first answer per prompt. */
  first: readonly string[];
  /** The second answer per prompt. */
  second: readonly string[];
  /** The judge. */
  judge: Judge;
  /** The principles. */
  constitution: Constitution;
  /** Judge calls in flight at once (default: all). */
  concurrency?: number;
  /** The caller's name, for error messages (e.g. `"winRate"`). */
  caller: string;
}

/**
 * Every pair judged under every principle in both orders — `compare(first, second)` and
 * `compare(second, first)` — the core that RLAIF labelling ({@linkcode preferencePairs}) and the position-debiased
 * win rate (`winRate`) share. Identical answers are not sent to the judge.
 *
 * @param options Prompts, the two answer lists, judge, constitution, concurrency, the caller's name.
 * @returns Per prompt, its judgements in the constitution's order, or null when the two answers are identical.
 * @throws {Error} One line naming the caller, prompt and principle when the judge fails or answers something
 * other than "A", "B" or "tie".
 *
 * @example A judge that prefers the shorter answer
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeBothOrders } from "./rlaif.ts";
 * const principle = { id: "brief", description: "", critiqueRequest: "", revisionRequest: "", comparisonQuestion: "" };
 * const [j, same] = await judgeBothOrders({
 *   prompts: [{ id: "1", prompt: "7?" }, { id: "2", prompt: "8?" }],
 *   first: ["seven, or eight", "eight"],
 *   second: ["seven", "eight"],
 *   judge: {
 *     name: "shorter",
 *     critique: () => Promise.resolve(""),
 *     revise: ({ response }) => Promise.resolve(response),
 *     compare: ({ a, b }) => Promise.resolve(a.length < b.length ? "A" : "B"),
 *   },
 *   constitution: { name: "c", principles: [principle] },
 *   caller: "example",
 * });
 * assert.deepEqual(j, [{ principle: "brief", first: "B", second: "A", outcome: "b" }]);
 * assert.equal(same, null);
 * ```
 */
export async function judgeBothOrders(
  options: JudgeBothOrdersOptions,
): Promise<(PrincipleJudgement[] | null)[]> {
  const { prompts, first, second, judge, constitution, caller } = options;
  const principles = constitution.principles;
  const jobs = prompts.flatMap((_, i) =>
    first[i] === second[i]
      ? []
      : principles.flatMap((_, k) => [{ i, k, swapped: false }, { i, k, swapped: true }])
  );
  const verdicts = await mapLimit(
    jobs,
    options.concurrency ?? DEFAULT_CONCURRENCY,
    async ({ i, k, swapped }) => {
      const principle = principles[k];
      const [a, b] = swapped ? [second[i], first[i]] : [first[i], second[i]];
      const where = `prompt ${JSON.stringify(prompts[i].id)} under principle "${principle.id}"`;
      const v = await judgeCall(
        `${caller}: the judge "${judge.name}" failed to compare the answers to ${where}`,
        () => judge.compare({ prompt: userChat(prompts[i]), a, b, principle }),
      );
      if (!VERDICTS.includes(v)) {
        const got = JSON.stringify(v) ?? String(v);
        throw new Error(
          `${caller}: the judge "${judge.name}" answered ${got} for ${where}; a verdict is "A", "B" or "tie".`,
        );
      }
      return v;
    },
  );
  const byPrompt = new Map<number, Verdict[]>();
  jobs.forEach(({ i }, j) => byPrompt.set(i, [...(byPrompt.get(i) ?? []), verdicts[j]]));
  return prompts.map((_, i) => {
    const vs = byPrompt.get(i);
    return vs
      ? principles.map((p, k) => ({
        principle: p.id,
        first: vs[2 * k],
        second: vs[2 * k + 1],
        outcome: aggregateVerdicts(vs[2 * k], vs[2 * k + 1]),
      }))
      : null;
  });
}

/** Options for {@linkcode preferencePairs}. */
export interface PreferencePairsOptions {
  /** The prompts. */
  prompts: readonly AlignPrompt[];
  /** A first sampled answer per prompt. */
  samplesA: readonly string[];
  /** A second sampled answer per prompt. */
  samplesB: readonly string[];
  /** The labeller (wrap it with `recordJudge` to keep its calls in the run folder). */
  judge: Judge;
  /** The principles each pair is compared under. */
  constitution: Constitution;
  /** When given, `rlaif_comparisons.jsonl` and `preferences.jsonl` are written in it. */
  run?: AlignRun;
  /**
   * Judge calls in flight at once (default: all of a step's calls, which a batching judge such as `localJudge`
   * answers in one generation job; give e.g. 4 for a rate-limited hosted API).
   */
  concurrency?: number;
}

/**
 * Labels pairs of answers with a judge: per principle, `compare(a, b)` and `compare(b, a)`, aggregated by
 * {@linkcode aggregateVerdicts}; the answer that wins more principles is chosen.
 *
 * @param options Prompts, two samples per prompt, judge, constitution, the run folder to write to.
 * @returns The DPO pairs, every decision, and counts of pairs, ties and splits per principle.
 * @throws {Error} One line, when the samples do not match the prompts or one is blank, the constitution is empty, or the
 * judge fails or answers something other than "A", "B" or "tie" (naming the prompt and principle).
 *
 * @example A judge that prefers the shorter answer, and one that always says "A"
 * ```ts
 * import assert from "node:assert/strict";
 * import { preferencePairs } from "./rlaif.ts";
 * import type { Judge, Verdict } from "./types.ts";
 * const judge = (name: string, pick: (a: string, b: string) => Verdict): Judge => ({
 *   name,
 *   critique: () => Promise.resolve(""),
 *   revise: ({ response }) => Promise.resolve(response),
 *   compare: ({ a, b }) => Promise.resolve(pick(a, b)),
 * });
 * const shorter = judge("shorter", (a, b) => a.length < b.length ? "A" : b.length < a.length ? "B" : "tie");
 * const principle = { id: "brief", description: "", critiqueRequest: "", revisionRequest: "", comparisonQuestion: "" };
 * const options = {
 *   prompts: [{ id: "n7", prompt: "Write 7 in words." }],
 *   samplesA: ["seven, I think, or maybe eight"],
 *   samplesB: ["seven"],
 *   constitution: { name: "mini", principles: [principle] },
 * };
 * const { pairs, counts } = await preferencePairs({ ...options, judge: shorter });
 * assert.deepEqual(pairs, [{ id: "n7", prompt: "Write 7 in words.", chosen: "seven", rejected: "seven, I think, or maybe eight" }]);
 * assert.deepEqual(counts.perPrinciple.brief, { a: 0, b: 1, tie: 0, split: 0 });
 * const biased = await preferencePairs({ ...options, judge: judge("always-A", () => "A") });
 * assert.equal(biased.pairs.length, 0);
 * assert.deepEqual(biased.counts.perPrinciple.brief, { a: 0, b: 0, tie: 0, split: 1 });
 * ```
 */
export async function preferencePairs(options: PreferencePairsOptions): Promise<PreferenceResult> {
  const { prompts, samplesA, samplesB, judge, constitution, run } = options;
  checkAnswers("preferencePairs", prompts, { samplesA, samplesB }, true);
  checkConstitution("preferencePairs", constitution);
  const principles = constitution.principles;
  const judged = await judgeBothOrders({
    prompts,
    first: samplesA,
    second: samplesB,
    judge,
    constitution,
    concurrency: options.concurrency,
    caller: "preferencePairs",
  });
  const perPrinciple: Record<string, OutcomeCounts> = Object.fromEntries(
    principles.map((p) => [p.id, { a: 0, b: 0, tie: 0, split: 0 }]),
  );
  const decisions: PreferenceDecision[] = prompts.map((p, i) => {
    const rows = judged[i] ?? [];
    for (const r of rows) perPrinciple[r.principle][r.outcome]++;
    const wins = {
      a: rows.filter((r) => r.outcome === "a").length,
      b: rows.filter((r) => r.outcome === "b").length,
    };
    const winner = wins.a > wins.b ? "a" : wins.b > wins.a ? "b" : null;
    return { id: p.id, prompt: p.prompt, a: samplesA[i], b: samplesB[i], principles: rows, wins, winner };
  });
  const pairs = decisions.filter((d) => d.winner).map((d) => ({
    id: d.id,
    prompt: d.prompt,
    chosen: d.winner === "a" ? d.a : d.b,
    rejected: d.winner === "a" ? d.b : d.a,
  }));
  const identical = prompts.filter((_, i) => samplesA[i] === samplesB[i]).length;
  if (run) {
    writeRunFile(run, ALIGN_RUN_FILES.rlaifComparisons, decisions);
    writeRunFile(run, ALIGN_RUN_FILES.preferences, pairs);
  }
  return {
    pairs,
    decisions,
    counts: {
      prompts: prompts.length,
      pairs: pairs.length,
      noPreference: prompts.length - identical - pairs.length,
      identical,
      perPrinciple,
    },
  };
}
