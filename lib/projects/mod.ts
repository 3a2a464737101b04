/**
 * Lesson 05's projects: each project's schema, data helpers and metrics that are specific to it (the
 * general metrics live in `lib/eval`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OrderSchema } from "./mod.ts";
 * assert.ok(OrderSchema.safeParse({ name: "Ada", item: "cake", qty: 2, day: "monday" }).success);
 * ```
 *
 * @module
 */
export * from "./structured_output.ts";
export * from "./code_tasks.ts";
export * from "./glossary.ts";
