/**
 * Display helpers that work inside the kernel and degrade to plain values elsewhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { display, displayTarget } from "./mod.ts";
 * // Outside the kernel the bundle comes back instead of being shown.
 * assert.notEqual(displayTarget(), "kernel");
 * assert.deepEqual(await display({ "text/plain": "hi" }), { "text/plain": "hi" });
 * ```
 *
 * @module
 */
export * from "./display.ts";
export * from "./progress.ts";
export * from "./live_text.ts";
