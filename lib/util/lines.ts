/**
 * Lines: reading a child process's output line by line (JSON-lines protocols), and writing JSON-lines files.
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

/**
 * Writes rows as a JSON-lines file (one JSON object per line, ending with a newline).
 *
 * @param path The file.
 * @param rows The rows.
 * @returns How many rows were written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeJsonLines } from "./lines.ts";
 * const path = `${Deno.makeTempDirSync()}/rows.jsonl`;
 * assert.equal(writeJsonLines(path, [{ a: 1 }, { a: 2 }]), 2);
 * assert.equal(Deno.readTextFileSync(path), '{"a":1}\n{"a":2}\n');
 * ```
 */
export function writeJsonLines(path: string, rows: readonly unknown[]): number {
  Deno.writeTextFileSync(path, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return rows.length;
}
