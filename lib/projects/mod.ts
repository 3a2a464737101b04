/**
 * Lesson 05's projects: each project's schema, data helpers and metrics that are specific to it (the
 * general metrics live in `lib/eval`).
 *
 * @module
 */
export {};
