/**
 * Registering ince's JSONL datasets with LLaMA-Factory: the `dataset_info.json` entry of each file (its
 * format detected by lib/data's detector), written from TypeScript, and checked by LLaMA-Factory loading
 * them through its own pipeline.
 *
 * | ince shape (lib/data) | LLaMA-Factory entry |
 * | --- | --- |
 * | alpaca `{instruction, input?, output}` | `alpaca`, columns prompt/query/response |
 * | prompt-completion `{prompt, completion}` | `alpaca`, columns prompt/response |
 * | messages `{messages \| conversations}` | `sharegpt` with OpenAI-style tags (a leading system message is the system prompt) |
 * | preference `{prompt, chosen, rejected}` (strings) | `alpaca`, `ranking: true`, columns prompt/chosen/rejected |
 *
 * `file_name` is absolute, so `dataset_info.json` can live in a run folder and point at `data/datasets/`
 * without copies. One difference to know: LLaMA-Factory joins an alpaca `instruction` and a non-empty
 * `input` with `"\n"`, ince with `"\n\n"` — the prompts are the same only for rows with an empty input.
 *
 * @module
 */
import { z } from "zod";
import { loadDataset } from "../data/load_dataset.ts";
import { runPythonJob } from "../infer/_python_job.ts";
import { absPath } from "../util/fs.ts";
import { modelArg } from "../util/model_source.ts";
import { type LlamaFactoryEnvironmentOptions, llamaFactoryPython } from "./environment.ts";

/** One dataset in LLaMA-Factory's `dataset_info.json` (its key names). */
export interface DatasetInfoEntry {
  /** The JSONL file, absolute. */
  file_name: string;
  formatting: "alpaca" | "sharegpt";
  /** LLaMA-Factory's column → the file's column. */
  columns: Record<string, string>;
  /** sharegpt only: the message keys and role names. */
  tags?: Record<string, string>;
  /** Preference pairs (for `stage: dpo` / `rm`). */
  ranking?: boolean;
}

const _SHAREGPT_TAGS = {
  role_tag: "role",
  content_tag: "content",
  user_tag: "user",
  assistant_tag: "assistant",
  system_tag: "system",
};

/**
 * The `dataset_info.json` entry for a JSONL file, from its shape. The file is read and validated by
 * lib/data's loader first, so a bad row is reported as `file:line: …` here rather than skipped by
 * LLaMA-Factory later.
 *
 * @param file The `.jsonl` file (made absolute in the entry).
 * @returns The entry.
 * @throws {Error} When the file is missing or a row is invalid (lib/data's message), or for a preference
 * file whose pairs are message lists (LLaMA-Factory needs single messages there: write strings).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { datasetInfoEntry } from "./dataset_info.ts";
 * const file = `${projectRoot()}/data/datasets/preferences.jsonl`;
 * assert.deepEqual(datasetInfoEntry(file), {
 *   file_name: file,
 *   formatting: "alpaca",
 *   ranking: true,
 *   columns: { prompt: "prompt", chosen: "chosen", rejected: "rejected" },
 * });
 * assert.equal(datasetInfoEntry(`${projectRoot()}/data/datasets/identity-train.jsonl`).formatting, "sharegpt");
 * ```
 */
export function datasetInfoEntry(file: string): DatasetInfoEntry {
  const path = absPath(file);
  const dataset = loadDataset(path);
  const rows = Deno.readTextFileSync(path).split("\n").filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const keys = new Set(rows.flatMap((r) => Object.keys(r)));
  switch (dataset.shape) {
    case "alpaca":
      return {
        file_name: path,
        formatting: "alpaca",
        columns: {
          prompt: "instruction",
          ...(keys.has("input") ? { query: "input" } : {}),
          response: "output",
        },
      };
    case "prompt-completion":
      return { file_name: path, formatting: "alpaca", columns: { prompt: "prompt", response: "completion" } };
    case "messages":
      return {
        file_name: path,
        formatting: "sharegpt",
        columns: { messages: keys.has("messages") ? "messages" : "conversations" },
        tags: { ..._SHAREGPT_TAGS },
      };
    case "preference": {
      const line = rows.findIndex((r) =>
        ["prompt", "chosen", "rejected"].some((k) => typeof r[k] !== "string")
      );
      if (line >= 0) {
        throw new Error(
          `${path}:${
            line + 1
          }: a preference pair given as message lists; LLaMA-Factory's preference datasets ` +
            "take strings (alpaca) or single messages — write prompt, chosen and rejected as strings.",
        );
      }
      return {
        file_name: path,
        formatting: "alpaca",
        ranking: true,
        columns: { prompt: "prompt", chosen: "chosen", rejected: "rejected" },
      };
    }
  }
}

/**
 * Writes `<dir>/dataset_info.json` registering each file under its name (the name a config's `dataset:`
 * uses). The folder is created; an existing file is replaced.
 *
 * @param dir The folder (a config's `dataset_dir`).
 * @param datasets Name → JSONL file.
 * @returns The path of the written `dataset_info.json`.
 * @throws {Error} As {@linkcode datasetInfoEntry}, for the first file that cannot be registered.
 *
 * @example Register two course datasets in a run folder
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { writeDatasetInfo } from "./dataset_info.ts";
 * const dir = `${Deno.makeTempDirSync()}/lf`;
 * const path = writeDatasetInfo(dir, {
 *   numbers: `${projectRoot()}/data/datasets/numbers-train.jsonl`,
 *   identity: `${projectRoot()}/data/datasets/identity-train.jsonl`,
 * });
 * const info = JSON.parse(Deno.readTextFileSync(path));
 * assert.equal(path, `${dir}/dataset_info.json`);
 * assert.deepEqual(Object.keys(info), ["numbers", "identity"]);
 * assert.deepEqual(info.numbers.columns, { prompt: "instruction", query: "input", response: "output" });
 * ```
 */
export function writeDatasetInfo(dir: string, datasets: Record<string, string>): string {
  const info = Object.fromEntries(
    Object.entries(datasets).map(([name, file]) => [name, datasetInfoEntry(file)]),
  );
  Deno.mkdirSync(dir, { recursive: true });
  const path = `${absPath(dir)}/dataset_info.json`;
  Deno.writeTextFileSync(path, JSON.stringify(info, null, 2) + "\n");
  return path;
}

/** Options for {@linkcode checkDatasets}. */
export interface CheckDatasetsOptions extends LlamaFactoryEnvironmentOptions {
  /** The folder holding `dataset_info.json` (a config's `dataset_dir`). */
  datasetDir: string;
  /** The registered names to load. */
  datasets: string[];
  /** The training stage the data is for (`dpo` / `rm` load preference pairs). */
  stage: "pt" | "sft" | "rm" | "dpo" | "kto";
  /** The model whose tokenizer is used (a folder or a cached Hub id). */
  model: string;
  /** LLaMA-Factory's template name (`chatml` for ince-tiny). */
  template: string;
  /** Tokens per example (default 1024). */
  cutoffLen?: number;
  /** LLaMA-Factory's interpreter (default: {@linkcode llamaFactoryPython}). */
  python?: string;
}

/**
 * Loads registered datasets through LLaMA-Factory's own pipeline (its `get_dataset`: converter, template,
 * tokenization, masking), one at a time, and counts the rows each yields. LLaMA-Factory skips malformed
 * rows with a warning, so compare the counts with the files' (lib/data's loader). ≈ 10 s plus the data.
 *
 * @param options The datasets, stage, model, template.
 * @returns Rows per dataset name.
 * @throws {Error} `Loading datasets … failed: LLaMA-Factory cannot load dataset 'x' …: <its message>` (an
 * unregistered name, a missing file, a bad column mapping).
 *
 * @example Count the rows LLaMA-Factory sees
 * ```ts ignore
 * import { checkDatasets, writeDatasetInfo } from "./dataset_info.ts";
 * const dir = Deno.makeTempDirSync();
 * writeDatasetInfo(dir, { numbers: "data/datasets/numbers-train.jsonl" });
 * const rows = await checkDatasets({
 *   datasetDir: dir, datasets: ["numbers"], stage: "sft", model: "data/models/ince-tiny", template: "chatml",
 * });
 * console.log(rows); // { numbers: 420 }
 * ```
 */
export async function checkDatasets(options: CheckDatasetsOptions): Promise<Record<string, number>> {
  const python = options.python ?? await llamaFactoryPython(options);
  const job = {
    datasetDir: absPath(options.datasetDir),
    datasets: options.datasets,
    stage: options.stage,
    model: modelArg(options.model),
    template: options.template,
    cutoffLen: options.cutoffLen ?? 1024,
  };
  const answer = await runPythonJob(
    "llamafactory/python/check_datasets.py",
    job,
    `Loading datasets ${options.datasets.join(", ")} with LLaMA-Factory`,
    z.object({ rows: z.record(z.string(), z.number().int()) }),
    { python, env: { HF_HUB_OFFLINE: "1" } },
  );
  return answer.rows;
}
