/**
 * What an AI preference label costs, measured from the judge calls a run recorded (`judge_calls.jsonl`:
 * seconds, and tokens when the judge reports them), and how that compares with a human label at a stated,
 * sourced price. The RLAIF paper's own estimate is the reference: $0.67 per human label against $0.06 per
 * GPT-4 label, "over 10x" cheaper (Lee et al., 2023, Appendix L) — a ratio, not a slogan, and one that
 * depends on the judge, the hardware and the prices assumed, all of which the caller states.
 *
 * @module
 */
import type { JudgeCall } from "./types.ts";

/** A price per label with what it covers and where it comes from. */
export interface LabelPrice {
  /** US dollars per label. */
  usdPerLabel: number;
  /** What one label is. */
  what: string;
  /** The citation. */
  source: string;
}

const RLAIF_PAPER = 'Lee et al., 2023, "RLAIF vs. RLHF: Scaling Reinforcement Learning from Human Feedback ' +
  'with AI Feedback", arXiv:2309.00267v3, Appendix L "Cost of LLM vs. Human Labeling"';

/**
 * The human preference-label price the RLAIF paper uses: Google Cloud's human annotation service at
 * $90–$129 per 1,000 units of 50 words (averaged to ≈ $0.11 per 50 words) × 304 words (a TL;DR post
 * and two summaries) = $0.67 per example. The paper notes it leaves out training annotators, several
 * raters per item, and expert vs. crowd rates.
 */
export const RLAIF_PAPER_HUMAN_LABEL: LabelPrice = {
  usdPerLabel: 0.67,
  what: "one human preference label on a TL;DR summary pair (304 words read, ≈ $0.11 per 50 words)",
  source: `${RLAIF_PAPER}: Google Cloud's human annotation service, $90–$129 per 1,000 units of 50 words ` +
    "(2023), 304 words × $0.11 / 50 words = $0.67 per example",
};

/**
 * The AI label price the RLAIF paper estimates for the same task: GPT-4 (2023 prices, $0.03 per 1,000
 * input and $0.06 per 1,000 output tokens), two inferences (both orders, to debias position) of 830
 * prompt tokens and 61 rationale tokens: $0.057 ≈ $0.06 per example.
 */
export const RLAIF_PAPER_AI_LABEL: LabelPrice = {
  usdPerLabel: 0.06,
  what: "one GPT-4 preference label on a TL;DR summary pair (2 × (830 input + 61 output) tokens)",
  source: `${RLAIF_PAPER}: 2 inferences × (830 × $0.03 + 61 × $0.06) / 1,000 tokens = $0.057 ≈ $0.06`,
};

/** GPT-4's 2023 token prices the RLAIF paper used, in US dollars per million tokens. */
export const RLAIF_PAPER_GPT4_PRICE: { input: number; output: number } = { input: 30, output: 60 };

/** Which recorded calls make one label. */
export interface LabelCostOptions {
  /** The kind of call counted (default `"compare"`: preference labels). */
  kind?: JudgeCall["kind"];
  /**
   * How many such calls make one label (default 1). The pipeline's preference label for a pair is
   * `2 × principles` compare calls (every principle, both orders); the RLAIF paper's is 2 (both orders).
   */
  callsPerLabel?: number;
}

/** The measured cost of AI labels. */
export interface LabelCost {
  /** Calls of the kind counted. */
  calls: number;
  /** `calls / callsPerLabel`. */
  labels: number;
  /** Wall seconds of those calls, summed. */
  seconds: number;
  /** `seconds / labels`. */
  secondsPerLabel: number;
  /** Tokens of those calls, summed; null when any of them has no token count (a judge that does not report them). */
  tokens: number | null;
  /** `tokens / labels`, or null. */
  tokensPerLabel: number | null;
}

/**
 * Seconds and tokens per AI label, from the judge calls a run recorded.
 *
 * @param calls The recorded calls (the rows of `judge_calls.jsonl`).
 * @param options Which calls count, and how many make one label.
 * @returns Calls, labels, total and per-label seconds and tokens.
 * @throws {Error} When no call is of the kind counted, `callsPerLabel` is not a whole number ≥ 1, the
 * calls are not a whole number of labels, or a call's `seconds` is not a finite number ≥ 0 (naming its index).
 *
 * @example Four compare calls (one principle, both orders, two pairs) are two labels
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelCost } from "./label_cost.ts";
 * const call = (seconds: number, tokens?: number) =>
 *   ({ judge: "rules", kind: "compare" as const, principle: "honest", request: "…", answer: "A", seconds, tokens });
 * const c = labelCost([call(0.5, 40), call(0.3, 40), call(0.2, 30), call(1.0, 50)], { callsPerLabel: 2 });
 * assert.deepEqual([c.labels, c.seconds, c.secondsPerLabel, c.tokensPerLabel], [2, 2, 1, 80]);
 * assert.equal(labelCost([call(1)]).tokens, null);
 * ```
 */
export function labelCost(calls: readonly JudgeCall[], options: LabelCostOptions = {}): LabelCost {
  const kind = options.kind ?? "compare";
  const callsPerLabel = options.callsPerLabel ?? 1;
  if (!Number.isInteger(callsPerLabel) || callsPerLabel < 1) {
    throw new Error(`labelCost: callsPerLabel is ${callsPerLabel}; pass a whole number ≥ 1.`);
  }
  const counted = calls.filter((c) => c.kind === kind);
  if (counted.length === 0) {
    throw new Error(
      `labelCost: none of the ${calls.length} recorded calls is a "${kind}" call; pass a run's judge_calls.jsonl rows.`,
    );
  }
  if (counted.length % callsPerLabel !== 0) {
    throw new Error(
      `labelCost: ${counted.length} "${kind}" calls is not a whole number of labels of ${callsPerLabel} calls; ` +
        "check callsPerLabel (2 × principles for the pipeline's pair labels).",
    );
  }
  let seconds = 0, tokens: number | null = 0;
  for (const c of counted) {
    if (typeof c.seconds !== "number" || !Number.isFinite(c.seconds) || c.seconds < 0) {
      throw new Error(
        `labelCost: call ${calls.indexOf(c)} has seconds ${c.seconds}; a recorded call has seconds ≥ 0.`,
      );
    }
    seconds += c.seconds;
    tokens = tokens === null || c.tokens === undefined ? null : tokens + c.tokens;
  }
  const labels = counted.length / callsPerLabel;
  return {
    calls: counted.length,
    labels,
    seconds,
    secondsPerLabel: seconds / labels,
    tokens,
    tokensPerLabel: tokens === null ? null : tokens / labels,
  };
}

/** Token counts or prices, in total or split into input (prompt) and output (completion). */
export type TokenSplit = number | { input: number; output: number };

/** What {@linkcode humanVsAiCost} compares: a sourced human price and one basis for the AI price. */
export interface HumanVsAiCostOptions {
  /** US dollars per human label (e.g. {@linkcode RLAIF_PAPER_HUMAN_LABEL}`.usdPerLabel`). */
  humanPricePerLabel: number;
  /** Where the human price comes from (required: an unsourced price proves nothing). */
  source: string;
  /** Machine-time basis: wall seconds per AI label (from {@linkcode labelCost}). */
  aiSecondsPerLabel?: number;
  /** Machine-time basis: US dollars per hour of the machine running the judge (state its source too). */
  machinePricePerHour?: number;
  /** Token basis: tokens per AI label, in total or split into input and output. */
  aiTokensPerLabel?: TokenSplit;
  /** Token basis: US dollars per million tokens, one price or split into input and output. */
  pricePerMillionTokens?: TokenSplit;
}

/** A human label's price against an AI label's. */
export interface HumanVsAiCost {
  /** US dollars per AI label. */
  aiPricePerLabel: number;
  /** US dollars per human label. */
  humanPricePerLabel: number;
  /** `humanPricePerLabel / aiPricePerLabel`: how many times cheaper the AI label is. */
  ratio: number;
  /** How the AI price was computed. */
  basis: "machine time" | "tokens";
  /** The human price's source. */
  source: string;
}

function _positive(field: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new Error(`humanVsAiCost: ${field} is ${v}; pass a number > 0.`);
  }
  return v;
}

function _tokenPrice(tokens: TokenSplit, price: TokenSplit): number {
  if (typeof tokens === "number") {
    if (typeof price !== "number") {
      throw new Error(
        "humanVsAiCost: pricePerMillionTokens is split into input and output but aiTokensPerLabel is one total; " +
          "split the tokens too, or give one price.",
      );
    }
    return (_positive("aiTokensPerLabel", tokens) * _positive("pricePerMillionTokens", price)) / 1e6;
  }
  const p = typeof price === "number" ? { input: price, output: price } : price;
  const input = tokens.input === 0 ? 0 : _positive("aiTokensPerLabel.input", tokens.input);
  const output = tokens.output === 0 ? 0 : _positive("aiTokensPerLabel.output", tokens.output);
  if (input + output === 0) {
    throw new Error("humanVsAiCost: aiTokensPerLabel is 0 input and 0 output tokens.");
  }
  return (input * _positive("pricePerMillionTokens.input", p.input) +
    output * _positive("pricePerMillionTokens.output", p.output)) / 1e6;
}

/**
 * How many times cheaper an AI label is than a human one: the human price (with its source) over the AI
 * price, computed either from machine time (`aiSecondsPerLabel × machinePricePerHour / 3600`, for a judge
 * you run) or from tokens (`aiTokensPerLabel × pricePerMillionTokens / 10⁶`, for a hosted API).
 *
 * @param options The human price and its source, and exactly one AI basis.
 * @returns Both prices, their ratio, the basis and the source.
 * @throws {Error} When the source is empty, a price or count is not a number > 0, both or neither basis is
 * given, or a basis is incomplete (the message names the missing field).
 *
 * @example The RLAIF paper's own numbers give ≈ 11.8×, "over 10x" — not 1000×
 * ```ts
 * import assert from "node:assert/strict";
 * import { humanVsAiCost, RLAIF_PAPER_GPT4_PRICE, RLAIF_PAPER_HUMAN_LABEL } from "./label_cost.ts";
 * const paper = humanVsAiCost({
 *   humanPricePerLabel: RLAIF_PAPER_HUMAN_LABEL.usdPerLabel,
 *   source: RLAIF_PAPER_HUMAN_LABEL.source,
 *   aiTokensPerLabel: { input: 2 * 830, output: 2 * 61 },
 *   pricePerMillionTokens: RLAIF_PAPER_GPT4_PRICE,
 * });
 * assert.ok(Math.abs(paper.aiPricePerLabel - 0.05712) < 1e-9);
 * assert.equal(Math.round(paper.ratio * 10) / 10, 11.7);
 * const local = humanVsAiCost({ humanPricePerLabel: 0.67, source: "RLAIF paper", aiSecondsPerLabel: 0.36, machinePricePerHour: 0.1 });
 * assert.ok(Math.abs(local.ratio - 67000) < 1e-6);
 * ```
 */
export function humanVsAiCost(options: HumanVsAiCostOptions): HumanVsAiCost {
  const human = _positive("humanPricePerLabel", options.humanPricePerLabel);
  if (typeof options.source !== "string" || options.source.trim() === "") {
    throw new Error("humanVsAiCost: source is empty; say where the human label price comes from.");
  }
  const time = options.aiSecondsPerLabel !== undefined || options.machinePricePerHour !== undefined;
  const tokens = options.aiTokensPerLabel !== undefined || options.pricePerMillionTokens !== undefined;
  if (time === tokens) {
    const given = time ? "both bases" : "neither basis";
    throw new Error(
      `humanVsAiCost: ${given} given; pass aiSecondsPerLabel + machinePricePerHour ` +
        "(a judge you run) or aiTokensPerLabel + pricePerMillionTokens (a hosted API), not both.",
    );
  }
  let ai: number;
  if (time) {
    const seconds = _positive("aiSecondsPerLabel", options.aiSecondsPerLabel);
    ai = (seconds * _positive("machinePricePerHour", options.machinePricePerHour)) / 3600;
  } else {
    if (options.aiTokensPerLabel === undefined) {
      throw new Error("humanVsAiCost: aiTokensPerLabel is missing; pass it with pricePerMillionTokens.");
    }
    if (options.pricePerMillionTokens === undefined) {
      throw new Error("humanVsAiCost: pricePerMillionTokens is missing; pass it with aiTokensPerLabel.");
    }
    ai = _tokenPrice(options.aiTokensPerLabel, options.pricePerMillionTokens);
  }
  return {
    aiPricePerLabel: ai,
    humanPricePerLabel: human,
    ratio: human / ai,
    basis: time ? "machine time" : "tokens",
    source: options.source,
  };
}
