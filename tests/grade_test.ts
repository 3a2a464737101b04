/**
 * Grading end to end on a small lesson built here: full marks for the solution, 0 for its student
 * version, exactly one exercise lost when one is broken, and the sandbox: reading the lesson (its
 * hidden tests), the network, the environment, endless loops, dynamic imports, missing/duplicated cells.
 */
import assert from "node:assert/strict";
import { codeCell, markdownCell, newNotebook } from "../lib/notebook/build_notebook.ts";
import { writeNotebook } from "../lib/notebook/write_notebook.ts";
import { stripSolutions } from "../lib/notebook/student_notebook.ts";
import { checkNotebook } from "../lib/notebook/check_notebook.ts";
import type { Notebook } from "../lib/notebook/read_notebook.ts";
import { gradeNotebook, type GradeReport } from "../lib/grade/grade_notebook.ts";
import { formatGradeTable, toJunit } from "../lib/grade/report.ts";
import { projectRoot } from "../lib/env/paths.ts";

const ROOT = projectRoot();
Deno.mkdirSync(`${ROOT}/out`, { recursive: true });
const DIR = Deno.makeTempDirSync({ prefix: "test-grade-", dir: `${ROOT}/out` });
const LESSON = `${DIR}/lesson.ipynb`;
globalThis.addEventListener("unload", () => Deno.removeSync(DIR, { recursive: true }));

const ADD =
  `function add(a: number, b: number): number {\n  // BEGIN SOLUTION\n  return a + b;\n  // END SOLUTION\n}`;
const PARAMS =
  `function loraParams(d: number, k: number, r: number): number {\n  // BEGIN SOLUTION\n  return r * (d + k);\n  // END SOLUTION\n}`;

function lesson(exerciseSources: { add?: string; params?: string } = {}): Notebook {
  return newNotebook([
    markdownCell("# Grading fixture"),
    codeCell(
      `import assert from "node:assert/strict";\nimport { loraTrainableParams } from "../../lib/adapters/lora.ts";`,
    ),
    codeCell(exerciseSources.add ?? ADD, {
      tags: ["exercise"],
      metadata: { ince: { exercise: "add", points: 2 } },
    }),
    codeCell(
      `assert.equal(add(1, 2), 3);\n// BEGIN HIDDEN TESTS\nassert.equal(add(-5, 5), 0);\nassert.equal(add(0.5, 0.25), 0.75);\n// END HIDDEN TESTS`,
      { tags: ["tests"], metadata: { ince: { exercise: "add" } } },
    ),
    codeCell(exerciseSources.params ?? PARAMS, {
      tags: ["exercise"],
      metadata: { ince: { exercise: "lora-params", points: 3 } },
    }),
    codeCell(
      `assert.equal(loraParams(64, 64, 8), 1024);\n// BEGIN HIDDEN TESTS\n` +
        `assert.equal(loraParams(4096, 1024, 16), 16 * (4096 + 1024));\n` +
        `assert.equal(typeof loraTrainableParams, "function");\n// END HIDDEN TESTS`,
      { tags: ["tests"], metadata: { ince: { exercise: "lora-params" } } },
    ),
  ]);
}
writeNotebook(LESSON, lesson());

async function gradeVariant(name: string, nb: Notebook, timeoutSeconds = 20): Promise<GradeReport> {
  const path = `${DIR}/${name}.ipynb`;
  writeNotebook(path, nb);
  return await gradeNotebook(path, { source: LESSON, timeoutSeconds });
}

const byId = (r: GradeReport) => Object.fromEntries(r.exercises.map((e) => [e.id, e]));

Deno.test("gradeNotebook() gives the solution full marks and its student version 0, which still passes nb check", async () => {
  const full = await gradeNotebook(LESSON);
  assert.equal(full.points, 5, formatGradeTable(full));
  assert.equal(full.max, 5);
  const student = stripSolutions(lesson());
  const zero = await gradeVariant("student", student);
  assert.equal(zero.points, 0, formatGradeTable(zero));
  assert.match(byId(zero).add.message, /TODO: exercise add/);
  // The student version keeps visible tests, loses hidden ones, and passes the checks.
  const text = JSON.stringify(student);
  assert.ok(text.includes("add(1, 2)") && !text.includes("add(-5, 5)") && !text.includes("return a + b"));
  writeNotebook(`${DIR}/student-check.ipynb`, student);
  assert.deepEqual(await checkNotebook(`${DIR}/student-check.ipynb`), []);
});

Deno.test("a notebook with one exercise wrong loses exactly that exercise's points (hidden tests count)", async () => {
  // Passes the visible test (1 + 2 = 3) but not the hidden ones.
  const r = await gradeVariant(
    "broken",
    lesson({ add: `function add(a: number, b: number): number {\n  return a === 1 ? 3 : a * b;\n}` }),
  );
  assert.equal(r.points, 3, formatGradeTable(r));
  assert.equal(byId(r).add.points, 0);
  assert.match(byId(r).add.message, /AssertionError/);
  assert.equal(byId(r)["lora-params"].points, 3);
});

Deno.test("student code gets a permission error and 0 when it reads the lesson, opens a socket or reads env", async () => {
  const attempts = {
    "read the lesson": `Deno.readTextFileSync(${JSON.stringify(LESSON)})`,
    "read a file by import()": `(await import("node:fs")).readFileSync(${JSON.stringify(LESSON)}, "utf8")`,
    "open a socket": `(await Deno.connect({ hostname: "127.0.0.1", port: 9 }), "")`,
    "fetch": `await (await fetch("http://127.0.0.1:4555/")).text()`,
    "read env": `Deno.env.get("HOME") ?? ""`,
    "run a process": `new Deno.Command("true").outputSync().success ? "" : ""`,
    "eval": `eval("1 + 1")`,
  };
  for (const [what, expr] of Object.entries(attempts)) {
    // A correct answer, plus the attempt at the cell's top level: only the sandbox stands between
    // this cell and full marks.
    const add =
      `const leak = ${expr};\nfunction add(a: number, b: number): number {\n  return a + b + (String(leak).length < 0 ? 1 : 0);\n}`;
    const r = await gradeVariant(`sandbox-${what.replace(/\W+/g, "-")}`, lesson({ add }));
    assert.equal(byId(r).add.points, 0, `${what}: ${byId(r).add.message}`);
    assert.equal(byId(r)["lora-params"].points, 3, `${what}: the other exercise still scores`);
    const msg = byId(r).add.message;
    assert.match(msg, /NotCapable|Requires|dynamic import|EvalError|Code generation/i, `${what}: ${msg}`);
  }
  // Importing anything but the library, node:assert and the project's packages is refused too.
  const fsImport = `import { readFileSync } from "node:fs";\nconst leak = readFileSync(${
    JSON.stringify(LESSON)
  }, "utf8");\n${ADD}`;
  const r = await gradeVariant("sandbox-node-fs", lesson({ add: fsImport }));
  assert.match(byId(r).add.message, /imports "node:fs": graded code may import only/);
  assert.equal(byId(r).add.points, 0);
});

Deno.test("student code cannot score by disabling asserts or faking the harness's report", async () => {
  const cheats = {
    "assert.equal made a no-op":
      `import assert from "node:assert/strict";\n(assert as unknown as Record<string, unknown>).equal = () => {};\n` +
      `function add(a: number, b: number): number {\n  return 0;\n}`,
    "console.log rewritten":
      `const log = console.log;\nconsole.log = (...xs: unknown[]) => log(...xs.map((x) => String(x).replace(/"[^"]*"}$/, '"passed"}')));\n` +
      `function add(a: number, b: number): number {\n  return 0;\n}`,
    "exit before the tests": `Deno.exit(0);\nfunction add(a: number, b: number): number {\n  return 0;\n}`,
  };
  for (const [what, add] of Object.entries(cheats)) {
    const r = await gradeVariant(`cheat-${what.replace(/\W+/g, "-")}`, lesson({ add }));
    assert.equal(byId(r).add.points, 0, `${what}: ${byId(r).add.message}`);
    assert.equal(byId(r)["lora-params"].points, 3, what);
  }
});

Deno.test("an endless loop scores 0 with 'timed out' and the other exercises are still graded", async () => {
  const t0 = performance.now();
  const r = await gradeVariant(
    "loop",
    lesson({ add: `function add(a: number, b: number): number {\n  while (true) {}\n}` }),
    3,
  );
  assert.equal(byId(r).add.points, 0);
  assert.match(byId(r).add.message, /Timed out after 3 s/);
  assert.equal(byId(r)["lora-params"].points, 3);
  assert.ok(performance.now() - t0 < 30_000);
});

Deno.test("a deleted or duplicated exercise cell gives a clear message and 0, not a crash", async () => {
  const deleted = lesson();
  deleted.cells.splice(2, 1);
  const r1 = await gradeVariant("deleted", deleted);
  assert.match(byId(r1).add.message, /Exercise "add" is missing from the notebook/);
  assert.equal(r1.points, 3);
  const duplicated = lesson();
  duplicated.cells.splice(3, 0, structuredClone(duplicated.cells[2]));
  const r2 = await gradeVariant("duplicated", duplicated);
  assert.match(byId(r2).add.message, /Exercise "add" appears 2 times \(cells 3, 4\)/);
  assert.equal(r2.points, 3);
});

Deno.test("formatGradeTable() and toJunit() report points per exercise", async () => {
  const r = await gradeVariant(
    "junit",
    lesson({ add: `function add(a: number, b: number): number {\n  return 0;\n}` }),
  );
  const table = formatGradeTable(r);
  assert.match(table, /✗ add\s+0\/2/);
  assert.match(table, /✓ lora-params\s+3\/3/);
  assert.match(table, /total\s+3\/5/);
  const xml = toJunit([r]);
  assert.match(xml, /<testsuite name="[^"]+junit.ipynb" tests="2" failures="1">/);
  assert.match(xml, /<testcase [^>]*name="add \(0\/2 points\)"><failure message="AssertionError/);
});

Deno.test("deno task grade writes the JSON report and exits 1 below full marks", async () => {
  writeNotebook(`${DIR}/cli.ipynb`, stripSolutions(lesson()));
  const json = `${DIR}/report.json`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/cli/grade.ts`, `${DIR}/cli.ipynb`, "--lesson", LESSON, "--json", json],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  const report = JSON.parse(Deno.readTextFileSync(json));
  assert.deepEqual(Object.keys(report).sort(), ["exercises", "max", "notebook", "points"]);
  assert.equal(report.points, 0);
  assert.equal(report.max, 5);
  assert.deepEqual(Object.keys(report.exercises[0]).sort(), ["id", "max", "message", "points"]);
});
