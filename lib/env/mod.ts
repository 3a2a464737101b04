/**
 * Machine set-up and paths: the cache, the Python environment, hardware profiles.
 *
 * @example
 * ```ts ignore
 * import { pythonPath } from "./mod.ts";
 * ```
 *
 * @module
 */
export * from "./paths.ts";
export * from "./profile.ts";
export * from "./setup.ts";
export * from "./check_environment.ts";
