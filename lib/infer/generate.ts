/**
 * Asking a model questions (before and after a fine-tune): greedy answers with the model's chat
 * template, by transformers (+ PEFT for an adapter) in a separate Python process.
 *
 * @module
 */
import { projectRoot, pythonPath } from "../env/paths.ts";
import type { Message } from "../data/load_dataset.ts";

/** Options for {@linkcode generate}. */
export interface GenerateOptions {
  /** A LoRA/DoRA adapter folder (e.g. a run's `adapter/`). */
  adapter?: string;
  /** Longest answer in tokens (default 32). */
  maxNewTokens?: number;
}

/**
 * Answers each prompt (greedy decoding, so the same model gives the same answer).
 *
 * @param model The model folder (or a Hub id in the cache).
 * @param prompts Questions, or whole chats.
 * @param options An adapter to apply; answer length.
 * @returns One answer per prompt.
 * @throws {Error} With the Python error's last line when loading or generating fails.
 *
 * @example Before and after
 * ```ts ignore
 * import { generate } from "./generate.ts";
 * const before = await generate("data/models/ince-tiny", ["Write 47 in Turkish words."]);
 * const after = await generate("data/models/ince-tiny", ["Write 47 in Turkish words."], { adapter: `${run.dir}/adapter` });
 * ```
 */
export async function generate(
  model: string,
  prompts: (string | Message[])[],
  options: GenerateOptions = {},
): Promise<string[]> {
  const abs = (p: string) => (p.startsWith("/") ? p : `${Deno.cwd()}/${p}`);
  let modelPath = model;
  try {
    Deno.statSync(model);
    modelPath = abs(model);
  } catch {
    // a Hub id: transformers finds it in the shared cache
  }
  const child = new Deno.Command(pythonPath(), {
    args: [`${projectRoot()}/lib/infer/python/generate.py`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify({
    model: modelPath,
    adapter: options.adapter ? abs(options.adapter) : null,
    prompts,
    maxNewTokens: options.maxNewTokens ?? 32,
  })));
  await w.close();
  const out = await child.output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
    throw new Error(
      `Generation with ${model}${options.adapter ? ` + ${options.adapter}` : ""} failed: ${err}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!).answers;
}
