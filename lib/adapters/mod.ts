/**
 * The techniques' math, reading like the papers, checked against PEFT: LoRA, DoRA, PiSSA, MoE (NF4 is in `lib/quant`).
 *
 * @example
 * ```ts
 * import { loraScaling } from "./mod.ts";
 * console.log(loraScaling(16, 8)); // 2
 * ```
 *
 * @module
 */
export * from "./lora.ts";
export * from "./dora.ts";
export * from "./pissa.ts";
export * from "./moe.ts";
export * from "./weight_changes.ts";
export * from "./linear_modules.ts";
