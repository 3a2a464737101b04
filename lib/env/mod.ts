/**
 * Machine set-up and paths: the cache, the Python environment, hardware profiles.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cacheDir, detectProfile } from "./mod.ts";
 * assert.equal(cacheDir({ env: { HOME: "/home/ada" } }), "/home/ada/.cache/ince");
 * assert.equal(detectProfile({ env: { INCE_PROFILE: "cpu" } }), "cpu");
 * ```
 *
 * @module
 */
export * from "./paths.ts";
export * from "./profile.ts";
export * from "./setup.ts";
export * from "./check_environment.ts";
export * from "./kernel_interrupt.ts";
