/**
 * Grading end to end on a small lesson built here: full marks for the solution, 0 for its student
 * version, exactly one exercise lost when one is broken, and the sandbox: reading the lesson (its
 * hidden tests), the network, the environment, endless loops, dynamic imports, missing/duplicated cells.
 * And forbidden library functions: an exercise solved by calling the oracle of its hidden tests scores
 * 0 by every route to it, here and in the real lessons 00 and 06.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { codeCell, markdownCell, newNotebook } from "../lib/notebook/build_notebook.ts";
import { writeNotebook } from "../lib/notebook/write_notebook.ts";
import { stripSolutions } from "../lib/notebook/student_notebook.ts";
import { checkNotebook } from "../lib/notebook/check_notebook.ts";
import { type Notebook, readNotebook } from "../lib/notebook/read_notebook.ts";
import { cellSource, cellTags, exerciseMeta } from "../lib/notebook/cells.ts";
import { cellModule } from "../lib/notebook/extract_code.ts";
import { gradeNotebook, type GradeReport } from "../lib/grade/grade_notebook.ts";
import { formatGradeTable, toJunit } from "../lib/grade/report.ts";
import { projectRoot } from "../lib/env/paths.ts";
import { checkForbidden } from "../lib/grade/forbid.ts";

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
  const r = await gradeVariant(
    "loop",
    lesson({ add: `function add(a: number, b: number): number {\n  while (true) {}\n}` }),
    3,
  );
  assert.equal(byId(r).add.points, 0);
  assert.match(byId(r).add.message, /Timed out after 3 s/);
  assert.equal(byId(r)["lora-params"].points, 3);
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

// A lesson whose hidden tests compare top1() with the library's routeTopK, which the exercise forbids.
const TOP1 =
  `function top1(logits: number[][]): number[] {\n  // BEGIN SOLUTION\n  return logits.map((row) => row.indexOf(Math.max(...row)));\n  // END SOLUTION\n}`;
const WITH_ORACLE =
  `import assert from "node:assert/strict";\nimport { fromRows, randn, routeTopK, toRows } from "../../lib/mod.ts";`;
const WITHOUT_ORACLE =
  `import assert from "node:assert/strict";\nimport { fromRows, randn, toRows } from "../../lib/mod.ts";`;

function routing(o: { imports?: string; top1?: string; forbid?: string[] } = {}): Notebook {
  return newNotebook([
    codeCell(o.imports ?? WITH_ORACLE),
    codeCell(o.top1 ?? TOP1, {
      tags: ["exercise"],
      metadata: {
        ince: { exercise: "top1", points: 2, forbid: o.forbid ?? ["routeTopK", "loadBalancingLoss"] },
      },
    }),
    codeCell(
      `assert.deepEqual(top1([[0, 2, 1]]), [1]);\n// BEGIN HIDDEN TESTS\nconst logits = randn(9, 5, 3);\n` +
        `assert.deepEqual(top1(toRows(logits)), routeTopK(logits, 1).indices.map((i) => i[0]));\n// END HIDDEN TESTS`,
      { tags: ["tests"], metadata: { ince: { exercise: "top1" } } },
    ),
    codeCell(ADD, { tags: ["exercise"], metadata: { ince: { exercise: "add", points: 1 } } }),
    codeCell(`assert.equal(add(1, 2), 3);`, { tags: ["tests"], metadata: { ince: { exercise: "add" } } }),
  ]);
}

/** A copy of a lesson without its forbidden names: what the grader did before `forbid`. */
function unguarded(nb: Notebook): Notebook {
  const copy = structuredClone(nb);
  for (const c of copy.cells) delete (c.metadata as { ince?: { forbid?: unknown } }).ince?.forbid;
  return copy;
}

const FORBIDDEN =
  /which this exercise asks you to write yourself \(forbidden: routeTopK, loadBalancingLoss\)/;

Deno.test("an exercise solved by calling its forbidden oracle scores 0 by every route to it; the other exercise still scores", async () => {
  const ROUTING = `${DIR}/routing.ipynb`, UNGUARDED = `${DIR}/routing-unguarded.ipynb`;
  writeNotebook(ROUTING, routing());
  writeNotebook(UNGUARDED, unguarded(routing()));
  const honest = await gradeNotebook(ROUTING);
  assert.equal(honest.points, 3, formatGradeTable(honest));
  const call = (f: string, from = "") =>
    `function top1(logits: number[][]): number[] {\n  return ${f}(${from}fromRows(logits), 1).indices.map((i: Int32Array) => i[0]);\n}`;
  const moe = pathToFileURL(`${ROOT}/lib/adapters/moe.ts`).href;
  // `wall`: 1 the clear refusal (the cell names it, or imports it under any name or path); 2 the name is
  // absent from the student's module (an escaped name the check does not read); 3 Deno lists an import
  // the grader did not parse; 4 the library's loader (a dynamic import) refuses graded code.
  const cheats: { route: string; imports?: string; top1: string; message: RegExp; wall?: 2 | 3 | 4 }[] = [
    { route: "the notebook's import", top1: call("routeTopK"), message: /uses routeTopK, / },
    {
      route: "an import in the exercise cell",
      imports: WITHOUT_ORACLE,
      top1: `import { routeTopK } from "../../lib/mod.ts";\n${call("routeTopK")}`,
      message: /uses routeTopK, /,
    },
    {
      route: "an alias in the exercise cell",
      imports: WITHOUT_ORACLE,
      top1: `import { routeTopK as pick } from "../../lib/mod.ts";\n${call("pick")}`,
      message: /uses routeTopK, /,
    },
    {
      route: "an alias in the notebook's import",
      imports: WITH_ORACLE.replace("routeTopK", "routeTopK as pick"),
      top1: call("pick"),
      message: /uses routeTopK, /,
    },
    {
      route: "a namespace import of lib",
      imports: WITHOUT_ORACLE,
      top1: `import * as L from "../../lib/mod.ts";\n${call("L.routeTopK", "L.")}`,
      message: /uses routeTopK, /,
    },
    {
      route: "a namespace import of lib, the name spelt in pieces",
      imports: WITHOUT_ORACLE,
      top1: `import * as L from "../../lib/mod.ts";\n${call('L["route" + "TopK"]', "L.")}`,
      message:
        /imports lib\/mod\.ts as the namespace L, which holds routeTopK and loadBalancingLoss, which this exercise .*; import the names you need instead$/,
    },
    {
      route: "the defining module",
      imports: WITHOUT_ORACLE,
      top1: `import { routeTopK as pick } from "../../lib/adapters/moe.ts";\n${call("pick")}`,
      message: /uses routeTopK, /,
    },
    {
      route: "a module that re-exports it",
      imports: WITHOUT_ORACLE,
      top1: `import { routeTopK as pick } from "../../lib/adapters/mod.ts";\n${call("pick")}`,
      message: /uses routeTopK, /,
    },
    {
      route: "an import the grader's parser does not read",
      imports: WITHOUT_ORACLE,
      top1: `import{"routeTopK" as pick}from"${moe}";\n${call("pick")}`,
      message: /^Not run: the exercise cell imports "file:.*moe\.ts" in a way the grader cannot read/,
      wall: 3,
    },
    {
      route: "the grader's own loader of the library",
      imports: WITHOUT_ORACLE.replace("toRows }", "libExports, projectRoot, toRows }"),
      top1: `const L = await libExports(projectRoot());\n${call('L["route" + "TopK"]')}`,
      message: /^Not allowed while grading: .*libExports: graded code may not load the library by name/,
      wall: 4,
    },
    {
      route: "the notebook's import, the name written with an escape",
      top1: call("route\\u0054opK"),
      message: /ReferenceError: routeTopK is not defined/,
      wall: 2,
    },
  ];
  for (const c of cheats) {
    const nb = routing({ imports: c.imports, top1: c.top1 });
    const variant = `${DIR}/forbid-${c.route.replace(/\W+/g, "-")}.ipynb`;
    writeNotebook(variant, nb);
    const r = await gradeNotebook(variant, { source: ROUTING, timeoutSeconds: 20 });
    const top1 = byId(r).top1;
    assert.equal(top1.points, 0, `${c.route}: ${top1.message}`);
    assert.match(top1.message, c.message, `${c.route}: ${top1.message}`);
    if (!c.wall) {
      assert.match(top1.message, /^exercise top1: /, c.route);
      assert.match(top1.message, FORBIDDEN, c.route);
    }
    assert.doesNotMatch(top1.message, /\n/, `${c.route}: one line`);
    assert.equal(byId(r).add.points, 1, `${c.route}: the other exercise still scores`);
    // Without forbid the same cheat scored full marks: it is a real cheat, not a broken cell.
    if (c.wall !== 3 && c.wall !== 4) {
      const before = await gradeNotebook(variant, { source: UNGUARDED, timeoutSeconds: 20 });
      assert.equal(byId(before).top1.points, 2, `${c.route} without forbid: ${byId(before).top1.message}`);
    }
  }
});

/** The import declarations of a lesson's code cells, absolute (what a student's module gets). */
function lessonImports(path: string) {
  const nb = readNotebook(path, { kernel: null });
  const code = nb.cells.filter((c) => c.cell_type === "code").map((c) => cellSource(c));
  return cellModule([], { fromDir: dirname(path), importSources: code }).imports;
}

// Realistic cheats: the exercise's signature, adapted onto the forbidden library function.
const LESSON_CHEATS: Record<string, string> = {
  "moe-routing": `import { fromRows } from "../../lib/mod.ts";

function route(
  logits: number[][],
  k: number,
): { probs: number[][]; chosen: number[][]; weights: number[][] } {
  const r = routeTopK(fromRows(logits), k);
  const probs = toRows(r.probs), chosen = r.indices.map((i) => Array.from(i));
  // The library's weights are float32; renormalised in float64 they sum to 1 as the tests ask.
  const weights = chosen.map((c, t) => c.map((e) => probs[t][e] / c.reduce((s, x) => s + probs[t][x], 0)));
  return { probs, chosen, weights };
}

function auxLoss(probs: number[][], chosen: number[][]): number {
  return loadBalancingLoss({ probs: fromRows(probs), indices: chosen.map((c) => Int32Array.from(c)), weights: [] });
}`,
  "lora-params": `function loraParamCount(
  shapes: Record<string, [number, number]>,
  targets: string[],
  r: number,
  layers: number,
): number {
  // A config whose linearShapes() are these shapes: one key/value head, as wide as k_proj.
  const [hidden, q] = shapes.q_proj, kv = shapes.k_proj?.[1] ?? q;
  return loraTrainableParams({
    hidden_size: hidden,
    intermediate_size: shapes.up_proj?.[1] ?? 1,
    num_hidden_layers: layers,
    num_attention_heads: q / kv,
    num_key_value_heads: 1,
    head_dim: kv,
  }, { r, targetModules: targets });
}`,
};

for (
  const lesson of [
    "notebooks/00-first-time-beginner/00-first-fine-tune.ipynb",
    "notebooks/06-advanced-techniques/06-advanced-techniques.ipynb",
  ]
) {
  Deno.test(`${lesson.split("/").pop()}: each exercise solved with its forbidden library function scores 0`, async () => {
    const path = `${ROOT}/${lesson}`;
    const nb = readNotebook(path, { kernel: null });
    const imports = lessonImports(path);
    const cheat = structuredClone(nb);
    const realistic: string[] = [];
    for (const [i, cell] of nb.cells.entries()) {
      if (!cellTags(cell).includes("exercise")) continue;
      const { exercise: id, forbid } = exerciseMeta(cell);
      assert.ok(forbid?.length, `${id} forbids the library function that does its job`);
      // Every forbidden name, named anywhere in the (otherwise correct) cell, is refused.
      for (const name of forbid) {
        const v = await checkForbidden(`${cellSource(cell)}\nconst oracle = ${name};`, {
          id: id!,
          forbid,
          imports,
          fromDir: dirname(path),
        });
        assert.equal(
          v.refusal,
          `exercise ${id}: uses ${name}, which this exercise asks you to write yourself (forbidden: ${
            forbid.join(", ")
          })`,
        );
      }
      // The lesson's own solution uses none of them.
      assert.equal(
        (await checkForbidden(cellSource(cell), { id: id!, forbid, imports, fromDir: dirname(path) }))
          .refusal,
        null,
      );
      cheat.cells[i] = {
        ...cell,
        source: LESSON_CHEATS[id!] ?? `${cellSource(cell)}\nconst oracle = ${forbid[0]};`,
      };
      if (LESSON_CHEATS[id!]) realistic.push(id!);
    }
    const cheatPath = `${DIR}/cheat-${lesson.split("/").pop()}`;
    writeNotebook(cheatPath, cheat);
    const r = await gradeNotebook(cheatPath, { source: path });
    assert.equal(r.points, 0, formatGradeTable(r));
    for (const e of r.exercises) {
      assert.match(
        e.message,
        new RegExp(`^exercise ${e.id}: uses \\w+, which this exercise asks you to write yourself`),
      );
    }
    // The realistic cheats are real: without forbid they score full marks.
    const open = `${DIR}/unguarded-${lesson.split("/").pop()}`;
    writeNotebook(open, unguarded(nb));
    const before = await gradeNotebook(cheatPath, { source: open });
    assert.ok(realistic.length > 0);
    for (const id of realistic) {
      const e = byId(before)[id];
      assert.equal(e.points, e.max, `${id} without forbid: ${e.message}`);
    }
  });
}
