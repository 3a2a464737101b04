/**
 * Reading a child process's output line by line (JSON-lines protocols).
 *
 * @module
 */

/**
 * The non-empty lines of a byte stream, as they arrive.
 *
 * @param stream e.g. a child's `stdout`.
 * @returns An async iterator of lines (without the newline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLines } from "./lines.ts";
 * const stream = ReadableStream.from([new TextEncoder().encode("a\nb\n\nc")]);
 * const got: string[] = [];
 * for await (const line of readLines(stream)) got.push(line);
 * assert.deepEqual(got, ["a", "b", "c"]);
 * ```
 */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) yield line;
    }
  }
  if (buffer.trim()) yield buffer;
}
