/**
 * Text that grows while a model answers (streamed tokens): one notebook output updated in place, or the
 * pieces written to a terminal as they come. The Deno kernel turns `console.log` into outputs, but not
 * writes to `Deno.stdout`, so a cell that streams needs this.
 *
 * @module
 */
import { display, displayTarget } from "./display.ts";

/** A growing text, from {@linkcode liveText}. */
export interface LiveText {
  /** Appends a piece (synchronous, so it can be an `onText` callback); the output is redrawn at most every `intervalMs`. */
  write(piece: string): void;
  /** Draws the final text (plus `suffix`), waits until it is shown, and returns the text without the suffix. */
  finish(suffix?: string): Promise<string>;
}

let _ids = 0;

/**
 * Starts a growing text output.
 *
 * @param options `prefix` shown before the text (e.g. the question); `intervalMs` between redraws (default 80).
 * @returns The writer.
 *
 * @example Outside a notebook or terminal, the text is printed once, when finished
 * ```ts
 * import assert from "node:assert/strict";
 * import { liveText } from "./live_text.ts";
 * const out = liveText({ prefix: "Q → " });
 * for (const piece of ["kırk", " yedi"]) out.write(piece);
 * assert.equal(await out.finish(), "kırk yedi");
 * ```
 */
export function liveText(options: { prefix?: string; intervalMs?: number } = {}): LiveText {
  const prefix = options.prefix ?? "", interval = options.intervalMs ?? 80;
  const target = displayTarget();
  const id = `ince-live-text-${Deno.pid}-${++_ids}`;
  const encoder = new TextEncoder();
  let text = "", shown = false, last = -Infinity, drawing: Promise<unknown> = Promise.resolve();
  const draw = (frame: string) => {
    const update = shown;
    shown = true;
    drawing = drawing.catch(() => undefined).then(() =>
      display({ "text/plain": frame }, { displayId: id, update })
    );
    return drawing;
  };
  if (target === "terminal" && prefix) Deno.stdout.writeSync(encoder.encode(prefix));
  return {
    write(piece: string): void {
      text += piece;
      if (target === "terminal") {
        Deno.stdout.writeSync(encoder.encode(piece));
      } else if (target === "kernel" && performance.now() - last >= interval) {
        last = performance.now();
        void draw(prefix + text);
      }
    },
    async finish(suffix = ""): Promise<string> {
      if (target === "kernel") await draw(prefix + text + suffix);
      else if (target === "terminal") Deno.stdout.writeSync(encoder.encode(suffix + "\n"));
      else console.log(prefix + text + suffix);
      return text;
    },
  };
}
