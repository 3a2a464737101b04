/**
 * What the pipeline's stages (`cai.ts`, `rlaif.ts`, `context_distillation.ts`) share: checking their
 * inputs, the chat a prompt becomes, and calling a judge for many prompts at once with a bound on
 * concurrent calls. Private to lib/align.
 *
 * @module
 */
import type { Message } from "../data/load_dataset.ts";
import type { AlignPrompt, Constitution } from "./types.ts";

/**
 * How many judge calls a stage keeps in flight by default: all of a step's calls at once, so a batching
 * judge (`localJudge`) answers them in one generation job. Bound it for a rate-limited hosted API.
 */
export const DEFAULT_CONCURRENCY = Infinity;

/**
 * The chat a prompt is sent as.
 *
 * @param prompt The prompt.
 * @returns One user message.
 */
export function userChat(prompt: AlignPrompt): Message[] {
  return [{ role: "user", content: prompt.prompt }];
}

/**
 * Checks that a stage's prompts are usable and each list of answers has one string per prompt.
 *
 * @param fn The stage's name, for the message.
 * @param prompts The prompts.
 * @param lists The answer lists by option name.
 * @param nonBlank Whether every answer must have text (a training target or a DPO side cannot be empty).
 * @throws {Error} One line naming the stage, the option and the index.
 */
export function checkAnswers(
  fn: string,
  prompts: readonly AlignPrompt[],
  lists: Record<string, readonly unknown[]>,
  nonBlank = false,
): void {
  if (!Array.isArray(prompts) || prompts.length === 0) {
    throw new Error(`${fn}: options.prompts is empty; give at least one prompt ({id, prompt}).`);
  }
  prompts.forEach((p, i) => {
    if (typeof p?.prompt !== "string" || !p.prompt.trim()) {
      const id = JSON.stringify(p?.id);
      throw new Error(`${fn}: options.prompts[${i}].prompt must be a non-empty string (id ${id}).`);
    }
  });
  for (const [name, list] of Object.entries(lists)) {
    if (!Array.isArray(list) || list.length !== prompts.length) {
      const got = Array.isArray(list) ? `${list.length} entries` : typeof list;
      throw new Error(
        `${fn}: options.${name} has ${got} for ${prompts.length} prompts; give one answer per prompt, in the same order.`,
      );
    }
    const bad = list.findIndex((x) => typeof x !== "string");
    if (bad >= 0) {
      const id = JSON.stringify(prompts[bad].id);
      throw new Error(`${fn}: options.${name}[${bad}] is ${typeof list[bad]}, not a string (prompt ${id}).`);
    }
    const blank = nonBlank ? list.findIndex((x) => !(x as string).trim()) : -1;
    if (blank >= 0) {
      throw new Error(
        `${fn}: options.${name}[${blank}] is blank (prompt ${JSON.stringify(prompts[blank].id)}); ` +
          `a training row needs text — leave that prompt out or sample its answer again.`,
      );
    }
  }
}

/**
 * Checks that a constitution has principles with distinct ids.
 *
 * @param fn The stage's name, for the message.
 * @param constitution The constitution.
 * @throws {Error} One line naming the constitution and what is wrong.
 */
export function checkConstitution(fn: string, constitution: Constitution): void {
  if (!constitution?.principles?.length) {
    const name = JSON.stringify(constitution?.name);
    throw new Error(`${fn}: the constitution ${name} has no principles; load one with loadConstitution().`);
  }
  const seen = new Set<string>();
  for (const [i, p] of constitution.principles.entries()) {
    if (seen.has(p.id)) {
      const id = JSON.stringify(p.id);
      throw new Error(`${fn}: the constitution's principles[${i}] repeats the id ${id}; ids must differ.`);
    }
    seen.add(p.id);
  }
}

/**
 * Runs `fn` on every item with at most `limit` calls in flight; results keep the items' order.
 *
 * @param items The items.
 * @param limit Most calls at once (at least 1).
 * @param fn The call.
 * @returns The results, in order.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/**
 * Calls a judge, turning its failure into one line that says which stage, prompt and principle it was.
 *
 * @param what E.g. `caiRevisions: the judge "rules" failed to critique prompt "p1" under "harmless"`.
 * @param call The judge call.
 * @returns The judge's answer.
 * @throws {Error} `<what>: <the judge's first error line>`, with the original error as `cause`.
 */
export async function judgeCall<R>(what: string, call: () => Promise<R>): Promise<R> {
  try {
    return await call();
  } catch (e) {
    const first = String((e as Error)?.message ?? e).split("\n")[0];
    throw new Error(`${what}: ${first}`, { cause: e });
  }
}
