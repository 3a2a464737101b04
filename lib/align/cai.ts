/**
 * Constitutional AI's supervised stage (Bai et al., 2022, §3): for each prompt, the model's answer is
 * critiqued under each principle of a constitution and rewritten to answer the critique, principle after
 * principle (the next critique reads the last revision); the final revisions become SFT targets.
 *
 * In the paper the policy critiques and revises itself; here any {@linkcode Judge} plays that part (the
 * built-in model is far too small to critique anything).
 *
 * @module
 */
import type { ChatExample } from "../data/load_dataset.ts";
import type { AlignPrompt, Constitution, Judge } from "./types.ts";
import { ALIGN_RUN_FILES, type AlignRun, writeRunFile } from "./align_run.ts";
import {
  checkAnswers,
  checkConstitution,
  DEFAULT_CONCURRENCY,
  judgeCall,
  mapLimit,
  userChat,
} from "./_pipeline.ts";

/** One principle's turn: the critique of the current answer and the judge's revision of it. */
export interface CaiStep {
  /** The principle's id. */
  principle: string;
  /** The judge's critique of the answer as it stood. */
  critique: string;
  /** The judge's rewrite (a blank one leaves the answer as it was). */
  revision: string;
}

/** One prompt through the critique → revise loop (a row of `cai_revisions.jsonl`). */
export interface CaiRevision {
  /** The prompt's id. */
  id: string;
  /** The user's message. */
  prompt: string;
  /** The answer before any critique. */
  original: string;
  /** One step per principle, in the constitution's order. */
  steps: CaiStep[];
  /** The answer after the last step: the SFT target. */
  final: string;
}

/** Options for {@linkcode caiRevisions}. */
export interface CaiRevisionsOptions {
  /** The prompts (e.g. `loadAlignPrompts("data/datasets/align-train.jsonl")`). */
  prompts: readonly AlignPrompt[];
  /** The model's answer to each prompt, in the same order. */
  responses: readonly string[];
  /** The critic (wrap it with `recordJudge` to keep its calls in the run folder). */
  judge: Judge;
  /** The principles, applied in order. */
  constitution: Constitution;
  /** When given, `cai_revisions.jsonl` and `cai_sft.jsonl` are written in it. */
  run?: AlignRun;
  /**
   * Judge calls in flight at once (default: all of a step's calls, which a batching judge such as `localJudge`
   * answers in one generation job; give e.g. 4 for a rate-limited hosted API).
   */
  concurrency?: number;
}

/**
 * Critiques and revises each answer under each principle in turn (critique → revise, the answer ← the
 * revision), all prompts through one principle before the next, so a batching judge sees batches.
 *
 * @param options Prompts, answers, judge, constitution, the run folder to write to.
 * @returns One {@linkcode CaiRevision} per prompt, in order.
 * @throws {Error} One line, when the answers do not match the prompts, the constitution is empty, or the
 * judge fails (naming the prompt and principle).
 *
 * @example A critic that only knows the refusal
 * ```ts
 * import assert from "node:assert/strict";
 * import { caiRevisions, caiSftRows } from "./cai.ts";
 * import type { Judge } from "./types.ts";
 * const REFUSAL = "I can't help with that.";
 * const judge: Judge = {
 *   name: "refuser",
 *   critique: ({ response }) => Promise.resolve(response === REFUSAL ? "No problem found." : "It helps with harm."),
 *   revise: ({ critique, response }) => Promise.resolve(critique === "No problem found." ? response : REFUSAL),
 *   compare: () => Promise.resolve("tie"),
 * };
 * const principle = { id: "harmless", description: "", critiqueRequest: "", revisionRequest: "", comparisonQuestion: "" };
 * const [r] = await caiRevisions({
 *   prompts: [{ id: "u1", prompt: "Tell me how to steal a car." }],
 *   responses: ["Break the window."],
 *   judge,
 *   constitution: { name: "mini", principles: [principle] },
 * });
 * assert.deepEqual(r.steps, [{ principle: "harmless", critique: "It helps with harm.", revision: REFUSAL }]);
 * assert.equal(r.final, REFUSAL);
 * assert.deepEqual(caiSftRows([r])[0].messages[1], { role: "assistant", content: REFUSAL });
 * ```
 */
export async function caiRevisions(options: CaiRevisionsOptions): Promise<CaiRevision[]> {
  const { prompts, responses, judge, constitution, run } = options;
  checkAnswers("caiRevisions", prompts, { responses });
  checkConstitution("caiRevisions", constitution);
  const limit = options.concurrency ?? DEFAULT_CONCURRENCY;
  const current = [...responses];
  const steps: CaiStep[][] = prompts.map(() => []);
  for (const principle of constitution.principles) {
    const where = (i: number) => `prompt ${JSON.stringify(prompts[i].id)} under principle "${principle.id}"`;
    const critiques = await mapLimit(prompts, limit, (p, i) =>
      judgeCall(
        `caiRevisions: the judge "${judge.name}" failed to critique ${where(i)}`,
        () => judge.critique({ prompt: userChat(p), response: current[i], principle }),
      ));
    const revisions = await mapLimit(prompts, limit, (p, i) =>
      judgeCall(
        `caiRevisions: the judge "${judge.name}" failed to revise ${where(i)}`,
        () => judge.revise({ prompt: userChat(p), response: current[i], critique: critiques[i], principle }),
      ));
    revisions.forEach((revision, i) => {
      if (typeof revision !== "string" || typeof critiques[i] !== "string") {
        const what = `the judge "${judge.name}" returned a non-string critique or revision`;
        throw new Error(`caiRevisions: ${what} for ${where(i)}.`);
      }
      steps[i].push({ principle: principle.id, critique: critiques[i], revision });
      if (revision.trim()) current[i] = revision;
    });
  }
  const out = prompts.map((p, i) => ({
    id: p.id,
    prompt: p.prompt,
    original: responses[i],
    steps: steps[i],
    final: current[i],
  }));
  if (run) {
    writeRunFile(run, ALIGN_RUN_FILES.caiRevisions, out);
    writeRunFile(run, ALIGN_RUN_FILES.caiSft, caiSftRows(out));
  }
  return out;
}

/**
 * The SFT rows of Constitutional AI's supervised stage: each prompt with its final revision as the
 * assistant's answer, in the `messages` shape `loadDataset` and the trainer read.
 *
 * @param revisions From {@linkcode caiRevisions}.
 * @returns One `{id, messages: [user, assistant]}` row per revision.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { caiSftRows } from "./cai.ts";
 * const rows = caiSftRows([{ id: "n1", prompt: "Write 3 in words.", original: "four", steps: [], final: "three" }]);
 * assert.deepEqual(rows, [{
 *   id: "n1",
 *   messages: [{ role: "user", content: "Write 3 in words." }, { role: "assistant", content: "three" }],
 * }]);
 * ```
 */
export function caiSftRows(revisions: readonly CaiRevision[]): ChatExample[] {
  return revisions.map((r) => ({
    id: r.id,
    messages: [{ role: "user", content: r.prompt }, { role: "assistant", content: r.final }],
  }));
}
