/**
 * `nb new <module> "<title>"`: scaffolds a lesson that already follows the conventions (our kernel,
 * a parameters cell, one exercise with visible and hidden tests) and its grading test file.
 *
 * @module
 */
import { projectRoot } from "../env/paths.ts";
import { codeCell, markdownCell, newNotebook } from "./build_notebook.ts";
import { writeNotebook } from "./write_notebook.ts";
import { exists } from "../util/fs.ts";

/** What {@linkcode newLesson} wrote. */
export interface NewLesson {
  notebook: string;
  gradeTest: string;
}

/**
 * A file-name slug: lower case ASCII words joined by dashes (Turkish letters folded).
 *
 * @param title A title.
 * @returns e.g. "quantization-basics".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { slugify } from "./new_lesson.ts";
 * assert.equal(slugify("İnce ayar: QLoRA & Şimdi"), "ince-ayar-qlora-simdi");
 * ```
 */
export function slugify(title: string): string {
  const fold: Record<string, string> = {
    ı: "i",
    İ: "i",
    ş: "s",
    Ş: "s",
    ğ: "g",
    Ğ: "g",
    ç: "c",
    Ç: "c",
    ö: "o",
    Ö: "o",
    ü: "u",
    Ü: "u",
  };
  return title.replace(/[ıİşŞğĞçÇöÖüÜ]/g, (c) => fold[c]).normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/**
 * Creates `notebooks/<module>/<NN>-<slug>.ipynb` and `notebooks/<module>/grade_test.ts`.
 *
 * @param module The module folder, e.g. `03-ollama` (must start with two digits).
 * @param title The lesson's title.
 * @param options `root`: the project (default: this checkout).
 * @returns The paths written.
 * @throws {Error} When the module name is malformed or the lesson exists (nothing is overwritten).
 *
 * @example In a scratch project (without `root` it writes into this checkout's notebooks/)
 * ```ts
 * import assert from "node:assert/strict";
 * import { newLesson } from "./new_lesson.ts";
 * const root = Deno.makeTempDirSync();
 * const { notebook, gradeTest } = newLesson("03-ollama", "Export to Ollama", { root });
 * assert.equal(notebook, `${root}/notebooks/03-ollama/03-export-to-ollama.ipynb`);
 * assert.match(Deno.readTextFileSync(gradeTest), /gradeTests\(new URL\("\.\/03-export-to-ollama\.ipynb"/);
 * assert.throws(() => newLesson("03-ollama", "Export to Ollama", { root }), /already exists/);
 * Deno.removeSync(root, { recursive: true });
 * ```
 */
export function newLesson(module: string, title: string, options: { root?: string } = {}): NewLesson {
  const m = module.match(/^(\d\d)-[a-z0-9-]+$/);
  if (!m) {
    throw new Error(`Module "${module}" must look like "03-ollama": two digits, a dash, lower-case words.`);
  }
  if (!title.trim()) throw new Error('Give the lesson a title, e.g. nb new 03-ollama "Export to Ollama".');
  const dir = `${options.root ?? projectRoot()}/notebooks/${module}`;
  const notebook = `${dir}/${m[1]}-${slugify(title)}.ipynb`;
  const gradeTest = `${dir}/grade_test.ts`;
  if (exists(notebook)) throw new Error(`${notebook} already exists; pick another title or edit it.`);
  Deno.mkdirSync(dir, { recursive: true });
  const id = `${m[1]}-first`;
  writeNotebook(
    notebook,
    newNotebook([
      markdownCell(
        `# ${
          m[1]
        } · ${title}\n\nWhat this lesson shows, and why it matters (two or three sentences).\n\n_Türkçe özet: …_`,
      ),
      codeCell(
        `import assert from "node:assert/strict";\nimport { checkEnvironment } from "../../lib/mod.ts";`,
      ),
      markdownCell("## Parameters\n\nThe defaults run offline on a CPU with the built-in model."),
      codeCell(`const MODEL = "../../data/models/ince-tiny";`, { tags: ["parameters"] }),
      markdownCell("## 1. …\n\nProse before code: what the next cell shows."),
      codeCell(`const rows = await checkEnvironment();\nconsole.log(rows.length, "checks");`),
      markdownCell("## Exercise\n\nWrite `double(x)`, which returns twice `x`."),
      codeCell(
        `function double(x: number): number {\n  // BEGIN SOLUTION\n  return 2 * x;\n  // END SOLUTION\n}`,
        { tags: ["exercise"], metadata: { ince: { exercise: id, points: 1 } } },
      ),
      codeCell(
        `assert.equal(double(2), 4);\n// BEGIN HIDDEN TESTS\nassert.equal(double(-3), -6);\n// END HIDDEN TESTS`,
        { tags: ["tests"], metadata: { ince: { exercise: id } } },
      ),
    ]),
  );
  if (!exists(gradeTest)) {
    Deno.writeTextFileSync(
      gradeTest,
      `/**\n * Grades this module: \`deno test -P notebooks/${module}/\` (the lesson itself), or a student's copy with\n` +
        ` * \`INCE_GRADE_NOTEBOOK=path/to/copy.ipynb deno test -P notebooks/${module}/\`.\n */\n` +
        `import { gradeTests } from "../../lib/grade/mod.ts";\n\n` +
        `gradeTests(new URL("./${notebook.split("/").pop()}", import.meta.url));\n`,
    );
  }
  return { notebook, gradeTest };
}
