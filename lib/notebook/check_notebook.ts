/**
 * `nb check`: what must hold for a lesson before it is committed — nbformat, our kernel, balanced
 * markers, exercise ids, forbidden names that the library exports, no outputs, no secrets, and code
 * cells that type-check as one module.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { projectRoot } from "../env/paths.ts";
import { INCE_KERNEL, readNotebook } from "./read_notebook.ts";
import { cellSource, cellTags, exerciseMeta } from "./cells.ts";
import { findRegions } from "./markers.ts";
import { cellModule } from "./extract_code.ts";
import { libExports } from "../grade/forbid.ts";

/** One problem: the 0-based cell index (null for the whole file) and what is wrong. */
export interface NotebookProblem {
  cell: number | null;
  message: string;
}

/** Options for {@linkcode checkNotebook}. */
export interface CheckNotebookOptions {
  /** Type-check the code cells with `deno check` (default true). */
  typecheck?: boolean;
  /** Reject committed outputs (default true: source lessons carry none). */
  noOutputs?: boolean;
}

/** Tokens that must never be committed: Hugging Face (`hf_…`), and `HF_TOKEN = "…"` assignments. */
const SECRETS: [RegExp, string][] = [
  [/\bhf_[A-Za-z0-9]{30,}\b/, "a Hugging Face token (hf_…)"],
  [/HF_TOKEN\s*[=:]\s*["'][^"'\s]{8,}["']/, "an HF_TOKEN value"],
];

/**
 * Describes a problem with its 1-based cell number, as people count cells.
 *
 * @param path The notebook.
 * @param p The problem.
 * @returns e.g. `lesson.ipynb: cell 4 (index 3): duplicate exercise id "a"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatProblem } from "./check_notebook.ts";
 * assert.equal(formatProblem("a.ipynb", { cell: 3, message: "x" }), "a.ipynb: cell 4 (index 3): x");
 * assert.equal(formatProblem("a.ipynb", { cell: null, message: "x" }), "a.ipynb: x");
 * ```
 */
export function formatProblem(path: string, p: NotebookProblem): string {
  return p.cell === null
    ? `${path}: ${p.message}`
    : `${path}: cell ${p.cell + 1} (index ${p.cell}): ${p.message}`;
}

/**
 * Checks a notebook and lists every problem found (an empty list means it passes).
 *
 * @param path The notebook file.
 * @param options Which checks.
 * @returns The problems, in cell order.
 *
 * @example An exercise whose solution region is never closed, and that nothing tests
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkNotebook } from "./check_notebook.ts";
 * import { codeCell, newNotebook } from "./build_notebook.ts";
 * import { writeNotebook } from "./write_notebook.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".ipynb" });
 * writeNotebook(path, newNotebook([codeCell("function f() {\n  // BEGIN SOLUTION\n  return 1;\n}", {
 *   tags: ["exercise"], metadata: { ince: { exercise: "f", points: 1 } },
 * })]));
 * assert.deepEqual(await checkNotebook(path), [
 *   { cell: 0, message: "unbalanced markers: line 2: BEGIN SOLUTION is never closed (add // END SOLUTION)" },
 *   { cell: 0, message: 'exercise "f" has no tests cell' },
 * ]);
 * Deno.removeSync(path);
 * ```
 */
export async function checkNotebook(
  path: string,
  options: CheckNotebookOptions = {},
): Promise<NotebookProblem[]> {
  let nb;
  try {
    nb = readNotebook(path, { kernel: null });
  } catch (e) {
    return [{ cell: null, message: (e as Error).message.replace(`${path}: `, "") }];
  }
  const problems: NotebookProblem[] = [];
  const kernel = nb.metadata.kernelspec?.name;
  if (kernel !== INCE_KERNEL) {
    problems.push({
      cell: null,
      message: `kernelspec is ${
        kernel ? `"${kernel}"` : "missing"
      }, not "${INCE_KERNEL}" (pick "Deno · ince (TypeScript)")`,
    });
  }
  const exercises = new Map<string, number>();
  const tests: [number, string | undefined][] = [];
  const forbids: [number, string | undefined, string[]][] = [];
  nb.cells.forEach((cell, i) => {
    const source = cellSource(cell);
    for (const msg of findRegions(source).problems) {
      problems.push({ cell: i, message: `unbalanced markers: ${msg}` });
    }
    const tags = cellTags(cell), meta = exerciseMeta(cell);
    if (tags.includes("exercise")) {
      if (!meta.exercise) {
        problems.push({ cell: i, message: "exercise cell without metadata.ince.exercise (its id)" });
      } else if (exercises.has(meta.exercise)) {
        problems.push({
          cell: i,
          message: `duplicate exercise id "${meta.exercise}" (first in cell ${
            exercises.get(meta.exercise)! + 1
          })`,
        });
      } else {
        exercises.set(meta.exercise, i);
      }
      if (!(typeof meta.points === "number" && meta.points > 0)) {
        problems.push({ cell: i, message: `exercise "${meta.exercise}" needs metadata.ince.points > 0` });
      }
      // A lesson has the solution; its student version the stub that replaced it.
      if (!/\/\/\s*BEGIN SOLUTION/.test(source) && !source.includes(`TODO: exercise ${meta.exercise}:`)) {
        problems.push({ cell: i, message: `exercise "${meta.exercise}" has no // BEGIN SOLUTION region` });
      }
    }
    const forbid = (cell.metadata as { ince?: { forbid?: unknown } } | undefined)?.ince?.forbid;
    if (forbid !== undefined) {
      if (!tags.includes("exercise")) {
        problems.push({
          cell: i,
          message: "metadata.ince.forbid belongs on the exercise cell, not this one",
        });
      } else if (!Array.isArray(forbid) || !forbid.every((n) => typeof n === "string")) {
        problems.push({
          cell: i,
          message:
            `exercise "${meta.exercise}": metadata.ince.forbid must be an array of names that lib/mod.ts exports, e.g. ["routeTopK"]`,
        });
      } else forbids.push([i, meta.exercise, forbid]);
    }
    if (tags.includes("tests")) tests.push([i, meta.exercise]);
    if (options.noOutputs ?? true) {
      const outputs = (cell as { outputs?: unknown[] }).outputs ?? [];
      if (outputs.length) {
        problems.push({
          cell: i,
          message: `${outputs.length} committed output(s): clear outputs before committing`,
        });
      }
    }
    const everything = source + JSON.stringify((cell as { outputs?: unknown }).outputs ?? []);
    for (const [re, what] of SECRETS) {
      if (re.test(everything)) {
        problems.push({ cell: i, message: `contains ${what}: remove it and revoke the token` });
      }
    }
  });
  for (const [i, id] of tests) {
    if (!id) {
      problems.push({
        cell: i,
        message: "tests cell without metadata.ince.exercise (which exercise it tests)",
      });
    } else if (!exercises.has(id)) {
      problems.push({ cell: i, message: `tests cell for unknown exercise "${id}"` });
    } else if (exercises.get(id)! > i) {
      problems.push({ cell: i, message: `tests cell comes before exercise "${id}"` });
    }
  }
  for (const [id, i] of exercises) {
    if (!tests.some(([, t]) => t === id)) {
      problems.push({ cell: i, message: `exercise "${id}" has no tests cell` });
    }
  }
  if (forbids.length) {
    const lib = await libExports();
    for (const [i, id, names] of forbids) {
      for (const name of names.filter((n) => !(n in lib))) {
        problems.push({
          cell: i,
          message:
            `exercise "${id}": metadata.ince.forbid names "${name}", which lib/mod.ts does not export (check the spelling)`,
        });
      }
    }
  }
  if ((options.typecheck ?? true) && !problems.some((p) => p.message.startsWith("unbalanced"))) {
    problems.push(
      ...await typecheckCells(path, nb.cells.map((c) => c.cell_type === "code" ? cellSource(c) : null)),
    );
  }
  return problems.sort((a, b) => (a.cell ?? -1) - (b.cell ?? -1));
}

/**
 * Type-checks code cells as one module (our convention: no name declared twice across cells), with
 * `deno check` and the project's config; errors come back per cell and line.
 *
 * @param path The notebook (relative imports resolve from its folder).
 * @param sources Each cell's code, or null for non-code cells.
 * @returns One problem per type error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { typecheckCells } from "./check_notebook.ts";
 * const problems = await typecheckCells("x.ipynb", [null, "const a: number = 'x';"]); // cell 0: markdown
 * assert.deepEqual(problems, [
 *   { cell: 1, message: "type error at line 1: TS2322: Type 'string' is not assignable to type 'number'." },
 * ]);
 * ```
 */
export async function typecheckCells(path: string, sources: (string | null)[]): Promise<NotebookProblem[]> {
  const root = projectRoot();
  const mod = cellModule(
    sources.flatMap((s, i) => s === null ? [] : [[i, s] as [number, string]]),
    { fromDir: dirname(resolve(path)), header: ["export {};"] },
  );
  // Outside the project: deno.json excludes out/, and excluded files are not checked.
  const file = Deno.makeTempFileSync({ prefix: "ince-cells-", suffix: ".ts" });
  Deno.writeTextFileSync(file, mod.code + "\n");
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", `${root}/deno.json`, file],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.success) return [];
    const text = new TextDecoder().decode(out.stderr);
    const problems: NotebookProblem[] = [];
    // "TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.\n    const a … \n    at file:///…/cells-x.ts:3:7"
    const re = /(TS\d+) \[ERROR\]: ([^\n]+)[\s\S]*?at file:\/\/([^\n]+?):(\d+):(\d+)/g;
    for (const m of text.matchAll(re)) {
      if (!m[3].endsWith(file)) continue;
      const where = mod.lines[Number(m[4]) - 1];
      problems.push({
        cell: where?.cell ?? null,
        message: `type error${where ? ` at line ${where.line + 1}` : ""}: ${m[1]}: ${m[2]}`,
      });
    }
    if (!problems.length) {
      problems.push({
        cell: null,
        message: `deno check failed: ${text.trim().split("\n").slice(0, 5).join(" ")}`,
      });
    }
    return problems;
  } finally {
    Deno.removeSync(file);
  }
}
