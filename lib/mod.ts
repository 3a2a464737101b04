/**
 * ince: the library the lessons import.
 *
 * @example
 * A lesson in `notebooks/NN-topic/` imports it as `../../lib/mod.ts`:
 * ```ts
 * import assert from "node:assert/strict";
 * import { numbersRecipe, parseRunConfig } from "./mod.ts";
 * assert.equal(parseRunConfig(numbersRecipe()).lora.r, 16);
 * ```
 *
 * @module
 */
import { keepKernelOnInterrupt } from "./env/kernel_interrupt.ts";

// In the kernel, an interrupt stops the Python process a cell awaits and keeps the kernel (see the file).
keepKernelOnInterrupt();

export * from "./env/mod.ts";
export * from "./notebook/mod.ts";
export * from "./math/mod.ts";
export * from "./adapters/mod.ts";
export * from "./quant/mod.ts";
export * from "./display/mod.ts";
export * from "./hub/mod.ts";
export * from "./data/mod.ts";
export * from "./train/mod.ts";
export * from "./infer/mod.ts";
export * from "./deploy/mod.ts";
export * from "./align/mod.ts";
export * from "./viz/mod.ts";
export * from "./grade/mod.ts";
export * from "./eval/mod.ts";
export * from "./retrieval/mod.ts";
export * from "./projects/mod.ts";
export * from "./llamafactory/mod.ts";
