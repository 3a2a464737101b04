/**
 * The Hugging Face Hub: downloads into the cache Python shares, and model facts without downloading.
 *
 * @example
 * ```ts ignore
 * import { downloadModel } from "./mod.ts";
 * const dir = await downloadModel("Qwen/Qwen2.5-0.5B-Instruct");
 * ```
 *
 * @module
 */
export * from "./hub_env.ts";
export * from "./repo_id.ts";
export * from "./download.ts";
export * from "./model_info.ts";
