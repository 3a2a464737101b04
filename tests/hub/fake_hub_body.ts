/**
 * How the fake Hub sends a file's bytes: range requests as the Hub and its CDN answer them (206 with
 * `Content-Range`, 416 past the end), and the transfer faults the tests switch on.
 */

/** Transfer faults of the fake Hub; each applies to file bodies (resolve and CDN). */
export interface BodyFaults {
  /** End each body at this byte of the file, short of its `Content-Length` (a broken transfer). */
  truncateAfter?: number;
  /** How many bodies `truncateAfter` cuts before it stops (default: all). */
  truncateTimes?: number;
  /** Flip every byte of the bodies whose request path matches (`true`: all). LFS bodies come from `/cdn/<sha256>`. */
  corrupt?: boolean | RegExp;
  /** Answer range requests with 200 and the whole file, as a server that ignores `Range` does. */
  ignoreRange?: boolean;
  /** Send the first 1 KiB of each body, then wait for this promise before the rest. */
  holdBodies?: Promise<unknown>;
}

/**
 * The response for a file's bytes, honouring `Range` and applying the faults.
 *
 * @param data The whole file.
 * @param req The request (method, `Range`).
 * @param path The request path (for `corrupt`).
 * @param headers Headers to send (etag …); completed here.
 * @param faults The fault switches (`truncateTimes` is counted down).
 * @returns The response.
 */
export function fileBody(
  data: Uint8Array,
  req: Request,
  path: string,
  headers: Headers,
  faults: BodyFaults,
): Response {
  headers.set("accept-ranges", "bytes");
  const range = faults.ignoreRange ? null : req.headers.get("range")?.match(/^bytes=(\d+)-(\d*)$/);
  let start = 0, end = data.length - 1;
  if (range) {
    start = Number(range[1]);
    if (range[2]) end = Math.min(end, Number(range[2]));
    if (start >= data.length) {
      headers.set("content-range", `bytes */${data.length}`);
      return new Response(null, { status: 416, headers });
    }
    headers.set("content-range", `bytes ${start}-${end}/${data.length}`);
  }
  let slice = data.subarray(start, end + 1);
  const corrupt = faults.corrupt === true || (faults.corrupt instanceof RegExp && faults.corrupt.test(path));
  if (corrupt) slice = slice.map((b) => b ^ 0xff);
  headers.set("content-length", String(slice.length));
  const status = range ? 206 : 200;
  if (req.method === "HEAD") return new Response(null, { status, headers });
  let cut = slice.length;
  if (faults.truncateAfter !== undefined && (faults.truncateTimes ?? Infinity) > 0) {
    cut = Math.min(cut, Math.max(0, faults.truncateAfter - start));
    if (cut < slice.length && faults.truncateTimes !== undefined) faults.truncateTimes--;
  }
  const hold = faults.holdBodies;
  if (cut === slice.length && !hold) {
    return new Response(slice as Uint8Array<ArrayBuffer>, { status, headers });
  }
  // Send part of the body, then (after the hold) the rest or nothing: a cut body ends short of
  // Content-Length, and the client sees a broken transfer.
  const stream = new ReadableStream<Uint8Array>({
    async start(c) {
      const first = hold ? Math.min(cut, 1024) : cut;
      c.enqueue(slice.slice(0, first));
      if (hold) await hold;
      if (first < cut) c.enqueue(slice.slice(first, cut));
      if (cut < slice.length) await new Promise((r) => setTimeout(r, 50));
      c.close();
    },
  });
  return new Response(stream, { status, headers });
}
