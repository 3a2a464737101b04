/**
 * A dry run of a LLaMA-Factory training config through LLaMA-Factory's own YAML reader and argument parser
 * (`python/validate.py`, in its environment): every problem at once, each naming its key (and YAML line),
 * before a run is started. No model is loaded and the config's `output_dir` is not touched.
 *
 * @module
 */
import { z } from "zod";
import { runPythonJob } from "../infer/_python_job.ts";
import { absPath } from "../util/fs.ts";
import { type LlamaFactoryEnvironmentOptions, llamaFactoryPython } from "./environment.ts";

/** One thing LLaMA-Factory would refuse (or fail on at load time) in a config. */
export interface LlamaFactoryProblem {
  /** The config key at fault, or null when the problem is the file itself. */
  key: string | null;
  /** What is wrong and what to do, e.g. `unknown key — did you mean lora_rank?`. */
  message: string;
  /** The 1-based line in the YAML file, when the config came from one. */
  line?: number;
}

/** What to validate: a config object (LLaMA-Factory's key names), or a YAML file as `llamafactory-cli` reads it. */
export type LlamaFactoryConfigSource = Record<string, unknown> | { yamlFile: string };

/** Options for {@linkcode validateLlamaFactoryConfig}. */
export interface ValidateLlamaFactoryOptions extends LlamaFactoryEnvironmentOptions {
  /** LLaMA-Factory's interpreter (default: {@linkcode llamaFactoryPython}). */
  python?: string;
  /** The folder relative paths in the config (`dataset_dir`, …) resolve from, as for the run (default: cwd). */
  cwd?: string;
}

const _Answer = z.object({
  results: z.array(z.object({
    ok: z.boolean(),
    problems: z.array(
      z.object({ key: z.string().nullable(), message: z.string(), line: z.number().int().optional() }),
    ),
  })),
});

function _isYamlSource(source: LlamaFactoryConfigSource): source is { yamlFile: string } {
  return typeof source.yamlFile === "string" && Object.keys(source).length === 1;
}

/**
 * Validates a LLaMA-Factory training config the way `llamafactory-cli train` would read it, and also what
 * LLaMA-Factory only finds out at load time: duplicate YAML keys, unknown keys (with the key meant), value
 * types, LLaMA-Factory's own cross-field rules (`get_train_args`, first failure), the model folder, the
 * datasets' registration in `dataset_info.json`, the template, and a non-empty `output_dir`. Takes ≈ 10 s
 * (LLaMA-Factory's imports). Hub ids resolve offline (`HF_HUB_OFFLINE=1`): a model must be local or cached.
 *
 * @param source A config object, or `{ yamlFile }`.
 * @param options Interpreter, working folder, environment.
 * @returns Every problem found; empty when LLaMA-Factory would accept the config.
 * @throws {Error} When LLaMA-Factory's environment cannot be made or the validator itself fails.
 *
 * @example An unknown key is named, with the key meant
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { validateLlamaFactoryConfig } from "./validate.ts";
 * const problems = await validateLlamaFactoryConfig({
 *   model_name_or_path: "/abs/data/models/ince-tiny", stage: "sft", do_train: true, finetuning_type: "lora",
 *   lora_r: 8, output_dir: "/tmp/out",
 * });
 * assert.deepEqual(problems[0], { key: "lora_r", message: "unknown key — did you mean lora_rank?" });
 * ```
 */
export async function validateLlamaFactoryConfig(
  source: LlamaFactoryConfigSource,
  options: ValidateLlamaFactoryOptions = {},
): Promise<LlamaFactoryProblem[]> {
  return (await validateLlamaFactoryConfigs([source], options))[0];
}

/**
 * {@linkcode validateLlamaFactoryConfig} for several configs in one LLaMA-Factory process (its imports are
 * most of the ≈ 10 s, so a table of configs costs little more than one).
 *
 * @param sources Config objects and/or `{ yamlFile }`s.
 * @param options Interpreter, working folder, environment.
 * @returns The problems of each source, in order.
 * @throws {Error} When LLaMA-Factory's environment cannot be made or the validator itself fails.
 *
 * @example Check a table of configs at once
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { validateLlamaFactoryConfigs } from "./validate.ts";
 * const results = await validateLlamaFactoryConfigs([{ yamlFile: "sft.yaml" }, { yamlFile: "dpo.yaml" }]);
 * assert.deepEqual(results, [[], []]);
 * ```
 */
export async function validateLlamaFactoryConfigs(
  sources: LlamaFactoryConfigSource[],
  options: ValidateLlamaFactoryOptions = {},
): Promise<LlamaFactoryProblem[][]> {
  const python = options.python ?? await llamaFactoryPython(options);
  const jobs = sources.map((s) => _isYamlSource(s) ? { yamlFile: absPath(s.yamlFile) } : { config: s });
  const files = sources.filter(_isYamlSource).map((s) => s.yamlFile);
  const what = files.length === sources.length && files.length <= 3
    ? `Validating ${files.join(", ")} with LLaMA-Factory`
    : `Validating ${sources.length} LLaMA-Factory config(s)`;
  const answer = await runPythonJob("llamafactory/python/validate.py", { sources: jobs }, what, _Answer, {
    python,
    cwd: options.cwd,
    env: { HF_HUB_OFFLINE: "1" },
  });
  return answer.results.map((r) =>
    r.problems.map(({ key, message, line }) => line === undefined ? { key, message } : { key, message, line })
  );
}

/**
 * The problems as lines, one per problem: `<key> (line N): <message>`.
 *
 * @param problems What {@linkcode validateLlamaFactoryConfig} found.
 * @returns The lines, joined with newlines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatLlamaFactoryProblems } from "./validate.ts";
 * assert.equal(
 *   formatLlamaFactoryProblems([
 *     { key: "lora_r", message: "unknown key — did you mean lora_rank?", line: 5 },
 *     { key: null, message: "not valid YAML" },
 *   ]),
 *   "lora_r (line 5): unknown key — did you mean lora_rank?\n(file): not valid YAML",
 * );
 * ```
 */
export function formatLlamaFactoryProblems(problems: LlamaFactoryProblem[]): string {
  return problems
    .map((p) => `${p.key ?? "(file)"}${p.line === undefined ? "" : ` (line ${p.line})`}: ${p.message}`)
    .join("\n");
}

/**
 * Like {@linkcode validateLlamaFactoryConfig}, but throws when there is any problem.
 *
 * @param source A config object, or `{ yamlFile }`.
 * @param options Interpreter, working folder, environment.
 * @throws {Error} `LLaMA-Factory would refuse <the file | this config> (N problems):` then one problem per line.
 *
 * @example Refuse a config before starting a run
 * ```ts ignore
 * import { assertValidLlamaFactoryConfig } from "./validate.ts";
 * await assertValidLlamaFactoryConfig({ yamlFile: "notebooks/08-llamafactory/sft.yaml" });
 * ```
 */
export async function assertValidLlamaFactoryConfig(
  source: LlamaFactoryConfigSource,
  options: ValidateLlamaFactoryOptions = {},
): Promise<void> {
  const problems = await validateLlamaFactoryConfig(source, options);
  if (problems.length === 0) return;
  const what = _isYamlSource(source) ? source.yamlFile : "this config";
  const n = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  throw new Error(`LLaMA-Factory would refuse ${what} (${n}):\n${formatLlamaFactoryProblems(problems)}`);
}
