/**
 * Running code we did not write — a model's output — safely: a separate Deno process with no
 * permissions at all (no files, network, environment, subprocesses or native code), no remote or npm
 * imports, a memory limit (array buffers included, on Linux) and a time limit after which it is killed. Never run generated code any
 * other way.
 *
 * @module
 */
import { killAfter } from "../util/kill_after.ts";
import { memoryLimited } from "../grade/memory_limit.ts";

/** Options for {@linkcode runSandboxed}. */
export interface SandboxOptions {
  /** Killed after this many milliseconds (default 5000). */
  timeoutMs?: number;
  /** Memory for the code in MB (default 128): V8's heap limit, and on Linux the process's (see memoryLimited). */
  memoryMb?: number;
}

/** What a sandboxed run did. */
export interface SandboxResult {
  /** Exit code 0 and not killed. */
  ok: boolean;
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/**
 * Runs TypeScript source in a permission-less Deno subprocess.
 *
 * @param code The program (TypeScript).
 * @param options Time and memory limits.
 * @returns Its exit code, output and whether it was killed for time.
 *
 * @example Output, and a refused file read
 * ```ts
 * import assert from "node:assert/strict";
 * import { runSandboxed } from "./sandbox.ts";
 * assert.equal((await runSandboxed("console.log(6 * 7)")).stdout.trim(), "42");
 * const read = await runSandboxed('Deno.readTextFileSync("/etc/hostname")');
 * assert.equal(read.ok, false);
 * assert.match(read.stderr, /NotCapable|PermissionDenied|Requires read access/);
 * ```
 */
export async function runSandboxed(code: string, options: SandboxOptions = {}): Promise<SandboxResult> {
  const timeoutMs = options.timeoutMs ?? 5000, memoryMb = options.memoryMb ?? 128;
  const t0 = performance.now();
  const [cmd, ...args] = memoryLimited([
    Deno.execPath(),
    "run",
    "--no-prompt",
    "--no-remote",
    "--no-npm",
    "--no-config",
    "--no-lock",
    "--quiet",
    `--v8-flags=--max-old-space-size=${memoryMb}`,
    "--ext=ts",
    "-",
  ], memoryMb);
  const child = new Deno.Command(cmd, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true, // nothing from our environment (tokens, keys) reaches it, even by accident
    env: { NO_COLOR: "1", DENO_DIR: _sandboxCacheDir() },
  }).spawn();
  const timer = killAfter(child, timeoutMs);
  try {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(code));
    await w.close();
  } catch { /* the process died before reading: its exit code says why */ }
  const out = await child.output();
  timer.clear();
  const timedOut = timer.timedOut;
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    ok: out.success && !timedOut,
    exitCode: out.code,
    stdout: text(out.stdout),
    stderr: text(out.stderr),
    timedOut,
    ms: performance.now() - t0,
  };
}

let _cacheDir: string | undefined;
function _sandboxCacheDir(): string {
  return _cacheDir ??= Deno.makeTempDirSync({ prefix: "ince-sandbox-" });
}

/** What {@linkcode runCodeTests} found. */
export interface CodeTestResult {
  passed: boolean;
  timedOut: boolean;
  /** The first line of the error, when it failed. */
  error?: string;
  ms: number;
}

/**
 * Runs generated code followed by hidden tests (statements that throw on a failure) in one sandboxed
 * process. It passed when the process exits cleanly and prints a random marker that only the harness
 * knows, after the last test — so code that exits early or prints a fake success line does not pass.
 *
 * @param code The generated code (e.g. a function).
 * @param tests Test statements, e.g. `if (sumDigits(123) !== 6) throw new Error("123");`.
 * @param options Time and memory limits.
 * @returns Whether all tests passed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCodeTests } from "./sandbox.ts";
 * const tests = 'if (double(2) !== 4) throw new Error("double(2)");';
 * assert.equal((await runCodeTests("const double = (x: number) => 2 * x;", tests)).passed, true);
 * assert.equal((await runCodeTests("const double = (x: number) => x + 1;", tests)).passed, false);
 * ```
 */
export async function runCodeTests(
  code: string,
  tests: string,
  options: SandboxOptions = {},
): Promise<CodeTestResult> {
  const marker = `ince-tests-passed-${crypto.randomUUID()}`;
  const r = await runSandboxed(`${code}\n;\n${tests}\nconsole.log(${JSON.stringify(marker)});\n`, options);
  const passed = r.ok && r.stdout.trimEnd().split("\n").at(-1) === marker;
  const error = passed
    ? undefined
    : r.timedOut
    ? `killed after ${options.timeoutMs ?? 5000} ms`
    : (r.stderr.split("\n").find((l) => /error/i.test(l)) ?? r.stderr.split("\n")[0] ?? "no marker printed")
      .trim();
  return { passed, timedOut: r.timedOut, ms: r.ms, ...(passed ? {} : { error }) };
}
