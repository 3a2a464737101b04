/**
 * Display helpers that work inside the kernel and degrade to plain values elsewhere.
 *
 * @example
 * ```ts
 * import { display } from "./mod.ts";
 * await display({ "text/plain": "hi" });
 * ```
 *
 * @module
 */
export * from "./display.ts";
export * from "./progress.ts";
