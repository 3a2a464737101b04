/**
 * What a failed graded run means for the student when the sandbox stopped it: a frozen built-in, a
 * missing permission, code from strings, memory.
 *
 * @module
 */

/**
 * Says what a failure means when the sandbox stopped it: a frozen built-in, a missing permission,
 * code from strings, memory. Other messages are returned as they are.
 *
 * @param message The error, e.g. `NotCapable: Requires write access to "x"`.
 * @param memoryMb The memory limit, for the message.
 * @returns The message for the student.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { explainFailure } from "./explain_failure.ts";
 * assert.equal(
 *   explainFailure('Uncaught (in promise) NotCapable: Requires write access to "x"', 1024),
 *   'Not allowed while grading: NotCapable: Requires write access to "x"',
 * );
 * assert.match(explainFailure("TypeError: Cannot assign to read only property 'abs'", 1024), /^Changed something read-only/);
 * assert.equal(explainFailure("AssertionError: 1 == 2", 1024), "AssertionError: 1 == 2");
 * ```
 */
export function explainFailure(message: string, memoryMb: number): string {
  const m = message.replace(/^Uncaught (\(in promise\) )?/, "");
  if (
    /Cannot assign to read only property|object is not extensible|Cannot redefine property|Cannot delete property/
      .test(m)
  ) {
    return `Changed something read-only (built-ins, node:assert and the library are frozen while grading): ${m}`;
  }
  if (/^(NotCapable|PermissionDenied)\b|Requires \w+ access/.test(m)) {
    return `Not allowed while grading: ${m}`;
  }
  if (/Code generation from strings disallowed/.test(m)) {
    return `Not allowed while grading: code from strings (eval, new Function): ${m}`;
  }
  if (/out of memory|Array buffer allocation failed|memory allocation of \d+ bytes failed/i.test(m)) {
    return `Ran out of memory (graded code may use about ${memoryMb} MB): ${m}`;
  }
  return m;
}
