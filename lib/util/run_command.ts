/**
 * Running a helper program to completion (an installer, `npm pack`, `git archive`) and hashing text —
 * shared by set-up and lesson 03's tool installer.
 *
 * @module
 */

/**
 * Runs a command and returns its stdout; a failure says what was being done and shows stderr's tail.
 *
 * @param cmd The program.
 * @param args Its arguments.
 * @param what What is being done, for the error (e.g. `"Installing requirements/deploy.txt"`).
 * @param opts More `Deno.Command` options (cwd, env).
 * @returns The command's stdout.
 * @throws {Error} `<what> failed: cannot start …` when the program is missing, or `<what> failed (… exited N):`
 * with the last 15 lines of stderr.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCommand } from "./run_command.ts";
 * assert.equal(await runCommand("echo", ["hi"], "Saying hi"), "hi\n");
 * await assert.rejects(runCommand("no-such-program-ince", [], "Testing"), /Testing failed: cannot start .*on PATH/);
 * ```
 */
export async function runCommand(
  cmd: string,
  args: string[],
  what: string,
  opts: Deno.CommandOptions = {},
): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", ...opts }).output();
  } catch (e) {
    throw new Error(
      `${what} failed: cannot start \`${cmd}\` (${(e as Error).message}). Is it installed and on PATH?`,
    );
  }
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-15).join("\n");
    throw new Error(`${what} failed (\`${cmd} ${args.join(" ")}\` exited ${out.code}):\n${err}`);
  }
  return text;
}

/**
 * Installs a file of exact pins into a Python environment with pip and no resolver
 * (`pip install --no-deps -r <file>`): every lock of the project is complete, so nothing else is fetched or changed.
 *
 * @param python The environment's interpreter.
 * @param pinsFile The `name==version` file.
 * @param what What is installed, for the error (default `Installing <file>`).
 * @returns pip's output.
 * @throws {Error} `<what> failed (…)` with pip's last lines.
 *
 * @example
 * ```ts ignore
 * import { pipInstallPins } from "./run_command.ts";
 * await pipInstallPins(".tools/venv/bin/python", "requirements/gpu.lock");
 * ```
 */
export async function pipInstallPins(python: string, pinsFile: string, what?: string): Promise<string> {
  return await runCommand(
    python,
    ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--no-deps", "-r", pinsFile],
    what ?? `Installing ${pinsFile}`,
  );
}

/**
 * The SHA-256 of a text, as hex.
 *
 * @param text Any text.
 * @returns 64 hex digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Hex } from "./run_command.ts";
 * assert.equal((await sha256Hex("")).slice(0, 8), "e3b0c442");
 * ```
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
