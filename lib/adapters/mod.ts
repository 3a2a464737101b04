/**
 * The techniques' math, reading like the papers, checked against PEFT: LoRA, DoRA, PiSSA, MoE (NF4 is in `lib/quant`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loraScaling } from "./mod.ts";
 * assert.equal(loraScaling(16, 8), 2);
 * ```
 *
 * @module
 */
export * from "./lora.ts";
export * from "./dora.ts";
export * from "./pissa.ts";
export * from "./moe.ts";
export * from "./moe_layer.ts";
export * from "./weight_changes.ts";
export * from "./weight_changes_over_training.ts";
export * from "./linear_modules.ts";
