/**
 * An alignment run's folder (`runs/<id>/`): what each stage of the pipeline wrote — the judge's calls, the
 * Constitutional AI revisions and the SFT rows made from them, the RLAIF comparisons and the DPO pairs, the
 * context-distillation rows — so a run can be read, replayed and checked for held-out leakage afterwards.
 * The trainer's own runs can live inside it too (`trainRun(config, { runsDir: run.dir })`).
 *
 * @module
 */
import { projectRoot } from "../env/paths.ts";
import { absPath } from "../util/fs.ts";
import { writeJsonLines } from "../util/lines.ts";
import { loadDataset } from "../data/load_dataset.ts";
import { newRunId } from "../train/run_folder.ts";

/** The files the pipeline's stages write in a run folder. */
export const ALIGN_RUN_FILES = {
  /** Every judge call (`JudgeCall` rows; written by a recording judge wrapped around the live one). */
  judgeCalls: "judge_calls.jsonl",
  /** Constitutional AI: per prompt, the original answer, each principle's critique and revision, the final one. */
  caiRevisions: "cai_revisions.jsonl",
  /** Constitutional AI: the SFT rows (`{id, messages}`) — the prompt and its final revision. */
  caiSft: "cai_sft.jsonl",
  /** RLAIF: per prompt, both samples, each principle's two verdicts and outcome, and the winner. */
  rlaifComparisons: "rlaif_comparisons.jsonl",
  /** RLAIF: the DPO rows (`{id, prompt, chosen, rejected}`) the trainer reads with `stage: "dpo"`. */
  preferences: "preferences.jsonl",
  /** Context distillation: the SFT rows (`{id, messages}`), answers made with a system prompt, kept without it. */
  distillSft: "distill_sft.jsonl",
} as const;

/** One of {@linkcode ALIGN_RUN_FILES}. */
export type AlignRunFile = (typeof ALIGN_RUN_FILES)[keyof typeof ALIGN_RUN_FILES];

/** The training files among {@linkcode ALIGN_RUN_FILES}: what a model is tuned on. */
export const ALIGN_TRAINING_FILES: readonly AlignRunFile[] = [
  ALIGN_RUN_FILES.caiSft,
  ALIGN_RUN_FILES.preferences,
  ALIGN_RUN_FILES.distillSft,
];

/** An alignment run's folder. */
export interface AlignRun {
  /** The run's id (the folder's name). */
  readonly id: string;
  /** The folder (absolute). */
  readonly dir: string;
  /** The path of a file in the folder, e.g. `run.file("preferences.jsonl")`. */
  file(name: AlignRunFile | string): string;
}

/** Options for {@linkcode newAlignRun}. */
export interface NewAlignRunOptions {
  /** Folder of run folders (default `<project>/runs`). */
  runsDir?: string;
  /** The run's id (default: time + `align` + a random suffix). An existing run's id opens that folder. */
  runId?: string;
}

/**
 * Creates (or opens) an alignment run folder.
 *
 * @param options Where, and the id.
 * @returns The run: id, folder, and `file(name)` for the paths of its files.
 * @throws {Error} When the id is not a plain folder name, or `file()` is given a path instead of a name.
 *
 * @example A folder with its files' paths
 * ```ts
 * import assert from "node:assert/strict";
 * import { newAlignRun } from "./align_run.ts";
 * const runsDir = Deno.makeTempDirSync();
 * const run = newAlignRun({ runsDir, runId: "first" });
 * assert.equal(run.dir, `${runsDir}/first`);
 * assert.equal(run.file("preferences.jsonl"), `${runsDir}/first/preferences.jsonl`);
 * assert.ok(Deno.statSync(run.dir).isDirectory);
 * assert.match(newAlignRun({ runsDir }).id, /^\d{8}T\d{6}-align-[0-9a-f]{4}$/);
 * assert.throws(() => run.file("../x.jsonl"), /plain file name/);
 * ```
 */
export function newAlignRun(options: NewAlignRunOptions = {}): AlignRun {
  const runsDir = absPath(options.runsDir ?? `${projectRoot()}/runs`);
  const id = options.runId ?? newRunId("align");
  if (!_plainName(id)) {
    throw new Error(
      `newAlignRun: runId ${JSON.stringify(id)} must be a plain folder name (no "/", not "." or ".."); ` +
        `put the folder elsewhere with runsDir.`,
    );
  }
  const dir = `${runsDir}/${id}`;
  Deno.mkdirSync(dir, { recursive: true });
  return {
    id,
    dir,
    file(name: string): string {
      if (!_plainName(name)) {
        throw new Error(
          `AlignRun.file: ${JSON.stringify(name)} must be a plain file name in ${dir} ` +
            `(one of ${Object.values(ALIGN_RUN_FILES).join(", ")}, or another name without "/").`,
        );
      }
      return `${dir}/${name}`;
    },
  };
}

function _plainName(name: string): boolean {
  return name.length > 0 && !name.includes("/") && !name.includes("\\") && name !== "." && name !== "..";
}

/**
 * Writes rows to a file of a run, one JSON object per line (an empty list writes an empty file).
 *
 * @param run The run.
 * @param name The file's name (one of {@linkcode ALIGN_RUN_FILES}).
 * @param rows The rows.
 * @returns The file's path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newAlignRun, writeRunFile } from "./align_run.ts";
 * const run = newAlignRun({ runsDir: Deno.makeTempDirSync(), runId: "r" });
 * const path = writeRunFile(run, "preferences.jsonl", [{ prompt: "p", chosen: "c", rejected: "r" }]);
 * assert.equal(Deno.readTextFileSync(path), '{"prompt":"p","chosen":"c","rejected":"r"}\n');
 * assert.equal(Deno.readTextFileSync(writeRunFile(run, "cai_sft.jsonl", [])), "");
 * ```
 */
export function writeRunFile(run: AlignRun, name: AlignRunFile | string, rows: readonly unknown[]): string {
  const path = run.file(name);
  if (rows.length) writeJsonLines(path, rows);
  else Deno.writeTextFileSync(path, "");
  return path;
}

/**
 * The user prompts of every training file a run holds (`cai_sft.jsonl`, `preferences.jsonl`,
 * `distill_sft.jsonl`, those that exist and are not empty), each file validated by `loadDataset`: what to
 * check against a held-out set before training (`assertDisjoint`).
 *
 * @param run The run.
 * @returns The prompts, file by file, in row order (duplicates kept).
 * @throws {Error} `file:line: field …` when a training file is malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newAlignRun, trainingPrompts, writeRunFile } from "./align_run.ts";
 * const run = newAlignRun({ runsDir: Deno.makeTempDirSync(), runId: "r" });
 * writeRunFile(run, "cai_sft.jsonl", [{ messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }] }]);
 * writeRunFile(run, "preferences.jsonl", [{ prompt: "Write 2.", chosen: "two", rejected: "three" }]);
 * assert.deepEqual(trainingPrompts(run), ["Hi", "Write 2."]);
 * ```
 */
export function trainingPrompts(run: AlignRun): string[] {
  const prompts: string[] = [];
  for (const name of ALIGN_TRAINING_FILES) {
    const path = run.file(name);
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch {
      continue;
    }
    if (!text.trim()) continue;
    const dataset = loadDataset(path);
    if (dataset.shape === "preference") {
      for (const { prompt } of dataset.examples) {
        if (typeof prompt === "string") prompts.push(prompt);
        else prompts.push(...prompt.filter((m) => m.role === "user").map((m) => m.content));
      }
    } else {
      for (const { messages } of dataset.examples) {
        prompts.push(...messages.filter((m) => m.role === "user").map((m) => m.content));
      }
    }
  }
  return prompts;
}
