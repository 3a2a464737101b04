/**
 * The grading sandbox against a student who cheats: one notebook, one honest exercise and one exercise
 * per attack, each attack a wrong (or, for a forbidden side effect, a right) answer that the attack
 * would otherwise turn into full marks. Each attack scores 0 with a message that says what was not
 * allowed, the honest exercise still scores, and the lesson's own solutions score everywhere (so the
 * tests the attacks aim at are sound). Two grading calls, exercises graded in parallel.
 */
import assert from "node:assert/strict";
import { codeCell, newNotebook } from "../lib/notebook/build_notebook.ts";
import { writeNotebook } from "../lib/notebook/write_notebook.ts";
import { gradeNotebook, type GradeReport } from "../lib/grade/grade_notebook.ts";
import { formatGradeTable } from "../lib/grade/report.ts";
import { projectRoot } from "../lib/env/paths.ts";

const ROOT = projectRoot();
Deno.mkdirSync(`${ROOT}/out`, { recursive: true });
const DIR = Deno.makeTempDirSync({ prefix: "test-grade-escape-", dir: `${ROOT}/out` });
globalThis.addEventListener("unload", () => Deno.removeSync(DIR, { recursive: true }));

/** The lesson's solution of every attacked exercise: double each number. */
const SOLUTION = `function answer(xs: number[]): number[] {\n  return xs.map((x) => 2 * x);\n}`;
const WRONG = `function answer(xs: number[]): number[] {\n  return xs;\n}`;

/** One attack: the student's cell, the tests it aims at, and what the grader must say. */
interface Attack {
  id: string;
  cell: string;
  tests?: string;
  message: RegExp;
}

const DOUBLES = `assert.deepEqual(answer([1, 2, 3]), [2, 4, 6]);`;
const BUILTIN =
  /^Changed something read-only \(built-ins, node:assert and the library are frozen while grading\): TypeError: /;

const ATTACKS: Attack[] = [
  // Replacing or patching the built-ins and prototypes the tests use (a wrong answer each time).
  {
    id: "replace Math.abs",
    cell: `Math.abs = () => 0;\n${WRONG}`,
    tests: `assert.ok(Math.abs(answer([1, 2, 3])[2] - 6) < 1e-9);`,
    message: BUILTIN,
  },
  {
    id: "patch Array.prototype.every",
    cell: `Array.prototype.every = function () {\n  return true;\n};\n${WRONG}`,
    tests: `assert.ok(answer([1, 2, 3]).every((x, i) => x === [2, 4, 6][i]));`,
    message: BUILTIN,
  },
  {
    id: "redefine a prototype method",
    cell: `Object.defineProperty(Array.prototype, "every", { value: () => true });\n${WRONG}`,
    tests: `assert.ok(answer([1, 2, 3]).every((x, i) => x === [2, 4, 6][i]));`,
    message: BUILTIN,
  },
  {
    id: "replace a global",
    cell: `Object.defineProperty(globalThis, "JSON", { value: { stringify: () => "[2,4,6]" } });\n${WRONG}`,
    tests: `assert.equal(JSON.stringify(answer([1, 2, 3])), "[2,4,6]");`,
    message: BUILTIN,
  },
  {
    id: "patch a built-in lazily, inside the function",
    cell: `function answer(xs: number[]): number[] {\n  Math.abs = () => 0;\n  return xs;\n}`,
    tests: `assert.ok(Math.abs(answer([1, 2, 3])[2] - 6) < 1e-9);`,
    message: BUILTIN,
  },
  {
    id: "add toJSON to Object.prototype (rewrites the harness's report)",
    cell: `Object.prototype.toJSON = function () {\n` +
      `  return Object.fromEntries(Object.keys(this).map((k) => [k, "passed"]));\n};\n${WRONG}`,
    message: BUILTIN,
  },
  {
    id: "empty a library constant the tests loop over",
    cell: `(ORDER_DAYS as unknown as string[]).length = 0;\n${WRONG}`,
    tests: `for (const d of ORDER_DAYS) assert.deepEqual(answer([d.length]), [2 * d.length]);`,
    message: BUILTIN,
  },
  {
    id: "patch the assert module",
    cell: `import assert from "node:assert/strict";\nassert.deepEqual = () => {};\n${WRONG}`,
    message: BUILTIN,
  },
  // Forging the result.
  {
    id: "print a forged result line",
    cell: `console.log(JSON.stringify({ [crypto.randomUUID()]: "passed" }));\n` +
      `console.log(JSON.stringify({ passed: true, message: "passed" }));\n` +
      `Deno.stdout.writeSync(new TextEncoder().encode('{"result":"passed"}\\n'));\n${WRONG}`,
    message: /^AssertionError: /,
  },
  {
    id: "throw a value whose text is 'passed'",
    cell: `function answer(xs: number[]): number[] {\n  throw { toString: () => "passed" };\n}`,
    message: /^Threw a non-Error value/,
  },
  {
    id: "throw an error named 'passed'",
    cell: `function answer(xs: number[]): number[] {\n  const e = new Error("");\n` +
      `  Object.defineProperty(e, "name", { value: "passed" });\n  throw e;\n}`,
    message: /^passed:/,
  },
  {
    id: "exit before the tests",
    cell: `Deno.exit(0);\n${WRONG}`,
    message: /^The exercise did not finish/,
  },
  // Side effects graded code may not have (the answer is right; only the sandbox stops it).
  {
    id: "write a file",
    cell: `Deno.writeTextFileSync(new URL("./note.txt", import.meta.url), "hi");\n${SOLUTION}`,
    message: /^Not allowed while grading: .*write access/,
  },
  {
    id: "write a file next to the lesson",
    cell: `Deno.writeTextFileSync("note.txt", "hi");\n${SOLUTION}`,
    message: /^Not allowed while grading: .*write access/,
  },
  {
    id: "Deno.dlopen",
    cell: `Deno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } });\n${SOLUTION}`,
    message: /^Not allowed while grading: .*(ffi|native)/i,
  },
  {
    id: "new Worker under another name",
    cell: `const W = globalThis["Wor" + "ker"];\n` +
      `new W("data:text/javascript,postMessage(1)", { type: "module" });\n${SOLUTION}`,
    message: /^Not allowed while grading: .*Worker/,
  },
  {
    id: "new Worker",
    cell: `new Worker("data:text/javascript,postMessage(1)", { type: "module" });\n${SOLUTION}`,
    message: /starts a Worker, which graded code may not/,
  },
  {
    id: "new Function",
    cell: `const two = new Function("return 2")();\n${SOLUTION}`,
    message: /^Not allowed while grading: code from strings/,
  },
  {
    id: "indirect eval",
    cell: `const two = (0, eval)("2");\n${SOLUTION}`,
    message: /^Not allowed while grading: code from strings/,
  },
  {
    id: "the Function constructor of an async function",
    cell: `const AsyncFunction = (async () => {}).constructor as FunctionConstructor;\n` +
      `await new AsyncFunction("return 2")();\n${SOLUTION}`,
    message: /^Not allowed while grading: code from strings/,
  },
  {
    id: "the runtime's internal evaluator",
    cell:
      `const core = (Deno as any)[(Deno as any).internal].core;\nconst two = core.evalContext("2")[0];\n${SOLUTION}`,
    message: /^Not allowed while grading: .*runtime's internals/,
  },
  {
    id: "allocate until out of memory (JS heap)",
    cell: `const hog: number[][] = [];\nwhile (true) hog.push(new Array(1e6).fill(1.5));\n${SOLUTION}`,
    message: /^Ran out of memory/,
  },
  {
    id: "allocate until out of memory (array buffers)",
    cell:
      `const hog: Float64Array[] = [];\nwhile (true) hog.push(new Float64Array(1e7).fill(1));\n${SOLUTION}`,
    message: /^Ran out of memory/,
  },
  {
    id: "read the harness via import.meta.url",
    cell: `const leak = Deno.readTextFileSync(new URL("./harness.ts", import.meta.url));\n${SOLUTION}`,
    message: /^Not allowed while grading: .*read access/,
  },
  {
    id: "fetch the harness via import.meta.url",
    cell: `const leak = await (await fetch(new URL("./harness.ts", import.meta.url))).text();\n${SOLUTION}`,
    message: /^Not allowed while grading: .*read access/,
  },
  {
    id: "read the lesson by a relative path",
    cell: `const leak = Deno.readTextFileSync("./lesson.ipynb");\n${SOLUTION}`,
    message: /^Not allowed while grading: .*read access/,
  },
  {
    id: "import onnxruntime-node",
    cell: `import * as ort from "onnxruntime-node";\nconst leak = typeof ort;\n${SOLUTION}`,
    message: /imports "onnxruntime-node", which loads native code or starts programs; graded code may not/,
  },
  {
    id: "import playwright-core",
    cell: `import { chromium } from "playwright-core";\nconst leak = typeof chromium;\n${SOLUTION}`,
    message: /imports "playwright-core", which loads native code or starts programs; graded code may not/,
  },
];

function lesson(cells: (a: Attack) => string, add: string): ReturnType<typeof newNotebook> {
  const ex = (id: string, points: number, source: string, tests: string) => [
    codeCell(source, { tags: ["exercise"], metadata: { ince: { exercise: id, points } } }),
    codeCell(tests, { tags: ["tests"], metadata: { ince: { exercise: id } } }),
  ];
  return newNotebook([
    codeCell(
      `import assert from "node:assert/strict";\nimport { ORDER_DAYS } from "../../lib/projects/structured_output.ts";`,
    ),
    ...ex(
      "honest",
      2,
      add,
      `assert.equal(add(1, 2), 3);\n// BEGIN HIDDEN TESTS\nassert.equal(add(-1, 1), 0);\n` +
        `assert.throws(() => add(Infinity, 1), { name: "AddError", message: "Infinity + 1 is not finite" });\n` +
        `// END HIDDEN TESTS`,
    ),
    ...ATTACKS.flatMap((a) => ex(a.id, 1, cells(a), a.tests ?? DOUBLES)),
  ]);
}

/** Honest code in patterns that frozen built-ins must not break: an error subclass naming itself, an own toString. */
const ADD = `class AddError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AddError";
  }
}
function add(a: number, b: number): number {
  const shown: { toString(): string } = {};
  shown.toString = () => \`\${a} + \${b}\`;
  if (!Number.isFinite(a + b)) throw new AddError(\`\${shown} is not finite\`);
  return [a, b].reduce((s, x) => s + x, 0);
}`;
const byId = (r: GradeReport) => Object.fromEntries(r.exercises.map((e) => [e.id, e]));

Deno.test("every sandbox escape scores 0 with a clear message; the honest exercise and the lesson's solutions still score", async () => {
  const LESSON = `${DIR}/lesson.ipynb`, STUDENT = `${DIR}/student.ipynb`;
  writeNotebook(LESSON, lesson(() => SOLUTION, ADD));
  writeNotebook(STUDENT, lesson((a) => a.cell, ADD));
  const [solutions, cheats] = await Promise.all([
    gradeNotebook(LESSON, { timeoutSeconds: 30, concurrency: 2 }),
    gradeNotebook(STUDENT, { source: LESSON, timeoutSeconds: 30, concurrency: 2 }),
  ]);
  assert.equal(solutions.points, solutions.max, formatGradeTable(solutions));
  const got = byId(cheats);
  assert.equal(got.honest.points, 2, formatGradeTable(cheats));
  for (const a of ATTACKS) {
    const e = got[a.id];
    assert.equal(e.points, 0, `${a.id}: ${e.message}`);
    assert.match(e.message, a.message, `${a.id}: ${e.message}`);
    assert.doesNotMatch(e.message, /\n/, `${a.id}: one line`);
  }
  assert.equal(cheats.points, 2);
  // A readable folder that holds the lesson (its hidden tests) is refused before anything runs.
  await assert.rejects(gradeNotebook(STUDENT, { source: LESSON, allowRead: [DIR] }), /holds .*lesson\.ipynb/);
  // Nothing was written next to the lesson.
  assert.throws(() => Deno.statSync(`${DIR}/note.txt`));
});
