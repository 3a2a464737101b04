/** The 72 held-out chat questions (numbers + identity) with their dataset answers, shared by the deploy tests. */
import { projectRoot } from "../lib/env/paths.ts";
import { scoreExamples } from "../lib/infer/score.ts";
import { chatQuestions } from "../lib/deploy/compare_formats.ts";

export const HELD_OUT_QUESTIONS = chatQuestions(
  ["numbers-heldout", "identity-heldout"].flatMap((name) =>
    scoreExamples(`${projectRoot()}/data/datasets/${name}.jsonl`)
  ),
);
