/**
 * What graded code may import: the library (`lib/`), `node:assert` and the project's packages, except
 * those that load native code or start programs ({@linkcode NATIVE_PACKAGES}). No dynamic `import()`,
 * no `Worker`. Two checks: {@linkcode importRefusal} reads the cell and the imports the grader parsed;
 * {@linkcode strayImport} asks Deno (`deno info`) for the imports of the module as written, so an
 * import the grader did not parse is refused too. (A package imported by the library itself is the
 * library's business: without `--allow-ffi` and `--allow-run` its native part cannot load anyway.)
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { maskCode } from "../notebook/extract_code.ts";

/** Packages of deno.json that graded code may not import: native addons, browsers, subprocesses. */
export const NATIVE_PACKAGES: ReadonlySet<string> = new Set(["onnxruntime-node", "playwright-core", "@node-llama-cpp/linux-x64", "node-llama-cpp"]);

/**
 * Whether an import specifier names a package of {@linkcode NATIVE_PACKAGES} (bare or `npm:`).
 *
 * @param specifier An import specifier, e.g. `onnxruntime-node` or `npm:onnxruntime-node@1.30.0/x`.
 * @returns True for a native package.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isNativePackage } from "./import_rules.ts";
 * assert.equal(isNativePackage("npm:onnxruntime-node@1.30.0"), true);
 * assert.equal(isNativePackage("playwright-core/lib/x"), true);
 * assert.equal(isNativePackage("zod"), false);
 * ```
 */
export function isNativePackage(specifier: string): boolean {
  const name = specifier.replace(/^npm:\/?/, "").match(/^(@[^/]+\/)?[^/@]+/)?.[0] ?? "";
  return NATIVE_PACKAGES.has(name);
}

/**
 * Why a student's cell may not be run, or null: dynamic `import()`, `new Worker`, an import other
 * than `lib/`, `node:assert` and the packages of deno.json, or a native package.
 *
 * @param cell The exercise cell's source.
 * @param imports The specifiers the student's module imports (absolute, as the grader wrote them).
 * @param root The project root.
 * @returns A refusal (`imports "node:fs": graded code may import only …`), or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importRefusal } from "./import_rules.ts";
 * import { projectRoot } from "../env/paths.ts";
 * assert.equal(importRefusal("const x = 1;", ["node:assert/strict", "zod"], projectRoot()), null);
 * assert.match(importRefusal("", ["onnxruntime-node"], projectRoot())!, /loads native code/);
 * assert.match(importRefusal("await import('x')", [], projectRoot())!, /dynamic import/);
 * ```
 */
export function importRefusal(cell: string, imports: string[], root: string): string | null {
  if (/\bimport\s*\(/.test(cell) || /\bimport\s*\(/.test(maskCode(cell))) {
    return "uses dynamic import(), which graded code may not";
  }
  if (/\bnew\s+Worker\b/.test(cell)) return "starts a Worker, which graded code may not";
  const map = Object.keys(JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)).imports ?? {});
  const lib = pathToFileURL(`${root}/lib/`).href;
  for (const s of imports) {
    if (isNativePackage(s)) {
      return `imports "${s}", which loads native code or starts programs; graded code may not`;
    }
    const ok = s.startsWith(lib) || s === "node:assert" || s === "node:assert/strict" || map.includes(s);
    if (!ok) {
      return `imports "${s}": graded code may import only ../../lib/…, node:assert and the project's packages`;
    }
  }
  return null;
}

/**
 * The environment of a grading child process: only what Deno itself needs to find its cache (graded
 * code cannot read the environment anyway, and nothing secret reaches it by accident).
 *
 * @returns Variables for `Deno.Command`'s `env` (with `clearEnv: true`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { childEnv } from "./import_rules.ts";
 * assert.equal(childEnv().NO_COLOR, "1");
 * assert.ok(Object.keys(childEnv()).every((k) => ["NO_COLOR", "PATH", "HOME", "DENO_DIR"].includes(k)));
 * ```
 */
export function childEnv(): Record<string, string> {
  return Object.fromEntries(
    [["NO_COLOR", "1"], ...["PATH", "HOME", "DENO_DIR"].map((k) => [k, Deno.env.get(k)])]
      .filter((e): e is [string, string] => Boolean(e[1])),
  );
}

type _Span = { span: { start: { line: number } } };
type _Info = {
  modules: {
    specifier: string;
    dependencies?: { specifier: string; code?: _Span; type?: _Span }[];
  }[];
};

/**
 * Why the module may not run because of an import Deno finds after its first `headerLines` lines (the
 * imports the grader wrote and checked), or null.
 * Deno's own parser sees every form the grader's does not read: `import{a}from"…"`, `export … from`, a
 * `data:` URL, an import in the middle of a line.
 *
 * @param file The student's module.
 * @param headerLines How many of its first lines the grader wrote (checked imports).
 * @param root The project root (its deno.json maps the packages).
 * @returns A refusal, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { strayImport } from "./import_rules.ts";
 * import { projectRoot } from "../env/paths.ts";
 * const file = Deno.makeTempFileSync({ suffix: ".ts" });
 * Deno.writeTextFileSync(file, 'import assert from "node:assert";\nexport{}from"node:fs";\n');
 * assert.match((await strayImport(file, 1, projectRoot()))!, /imports "node:fs" in a way the grader cannot read/);
 * Deno.removeSync(file);
 * ```
 */
export async function strayImport(file: string, headerLines: number, root: string): Promise<string | null> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", `${root}/deno.json`, file],
    clearEnv: true,
    env: childEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  let info: _Info;
  try {
    info = JSON.parse(new TextDecoder().decode(out.stdout));
  } catch {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    return `could not be read by deno info (${why.slice(0, 200)})`;
  }
  const url = pathToFileURL(file).href;
  const deps = info.modules.find((m) => m.specifier === url)?.dependencies ?? [];
  const stray = deps.find((d) => ((d.code ?? d.type)?.span.start.line ?? Infinity) >= headerLines);
  if (stray) {
    return `imports "${
      stray.specifier.slice(0, 80)
    }" in a way the grader cannot read; write each import on a line of its own: import { a } from "…";`;
  }
  return null;
}
