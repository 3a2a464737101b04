/** What the Hub tests share: file contents, download options with fast retries, and Python's client. */
import { createHash } from "node:crypto";
import { pythonPath } from "../../lib/env/paths.ts";
import type { DownloadOptions } from "../../lib/hub/download.ts";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** `n` bytes that differ with `seed`. */
export function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export const TOKEN = "hf_testtoken_do_not_print_123";

/**
 * Options for a download from the fake Hub into `cacheDir`: no progress bar, no environment, and
 * huggingface_hub's retries with 1 ms instead of 1 s as the first wait (so faults cost milliseconds).
 * The retry and wait notices go to `notices` when given.
 */
export function opts(cacheDir: string, hubUrl: string, notices?: string[]): DownloadOptions {
  const onNotice = (line: string) => notices?.push(line);
  return { cacheDir, hubUrl, progress: false, env: {}, retry: { baseDelayMs: 1, maxDelayMs: 8, onNotice } };
}

/** Runs Python code with huggingface_hub (no telemetry, no Xet) and returns its trimmed stdout. */
export async function python(code: string, env: Record<string, string>): Promise<string> {
  const out = await pythonProcess(code, env, "null").output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

/** The same, started and left running (stdout and stderr piped). */
export function pythonProcess(code: string, env: Record<string, string>, stdin: "null" | "piped" = "null") {
  return new Deno.Command(pythonPath(), {
    args: ["-c", code],
    env: {
      HF_HUB_DISABLE_TELEMETRY: "1",
      HF_HUB_DISABLE_XET: "1",
      HF_HUB_DISABLE_PROGRESS_BARS: "1",
      ...env,
    },
    stdin,
    stdout: "piped",
    stderr: "piped",
  });
}
