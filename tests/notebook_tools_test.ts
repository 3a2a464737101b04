/**
 * The notebook tools: writing in Jupyter's layout (checked against nbformat itself), `nb check`'s
 * rejections, parameter injection through a real run, and scaffolding a lesson.
 */
import assert from "node:assert/strict";
import { codeCell, markdownCell, newNotebook } from "../lib/notebook/build_notebook.ts";
import { formatNotebook, writeNotebook } from "../lib/notebook/write_notebook.ts";
import { readNotebook } from "../lib/notebook/read_notebook.ts";
import { checkNotebook, formatProblem } from "../lib/notebook/check_notebook.ts";
import { injectParameters } from "../lib/notebook/inject_parameters.ts";
import { stripSolutions } from "../lib/notebook/student_notebook.ts";
import { newLesson } from "../lib/notebook/new_lesson.ts";
import { describeFailure, runNotebooks } from "../lib/notebook/run_notebooks.ts";
import { gradeNotebook } from "../lib/grade/grade_notebook.ts";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";

const ROOT = projectRoot();
Deno.mkdirSync(`${ROOT}/out`, { recursive: true });

function sample() {
  const nb = newNotebook([
    markdownCell("# Ünïcode: İnce ayar — “quotes” ✓"),
    codeCell("const a = 1;\nconsole.log(a);\n", { tags: ["parameters"] }),
    codeCell("const b = 2;"),
  ]);
  // Unknown fields at every level survive.
  (nb.metadata as Record<string, unknown>).custom = { z: 1, a: [1, 2] };
  (nb.cells[1] as Record<string, unknown>).outputs = [
    { output_type: "stream", name: "stdout", text: "1\n2\n" },
    {
      output_type: "display_data",
      metadata: {},
      data: { "text/plain": "x\ny", "application/vnd.plotly.v1+json": { data: [], layout: {} } },
    },
  ];
  (nb.cells[2] as Record<string, unknown>).future_field = "kept";
  return nb;
}

Deno.test("formatNotebook() writes byte for byte what nbformat writes, keeping unknown fields", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ince-fmt-" });
  const ours = formatNotebook(sample());
  Deno.writeTextFileSync(`${dir}/ours.ipynb`, ours);
  // nbformat's own writer on the same content (read without validation so unknown fields stay).
  const py = await new Deno.Command(pythonPath(), {
    args: [
      "-c",
      "import nbformat,sys; nb=nbformat.read(sys.argv[1], as_version=nbformat.NO_CONVERT); " +
      "open(sys.argv[2],'w',encoding='utf-8').write(nbformat.writes(nb, version=nbformat.NO_CONVERT))",
      `${dir}/ours.ipynb`,
      `${dir}/theirs.ipynb`,
    ],
    stderr: "piped",
  }).output();
  assert.ok(py.success, new TextDecoder().decode(py.stderr));
  const theirs = Deno.readTextFileSync(`${dir}/theirs.ipynb`);
  assert.equal(ours.trimEnd(), theirs.trimEnd());
  const back = readNotebook(`${dir}/ours.ipynb`);
  assert.deepEqual((back.metadata as Record<string, unknown>).custom, { z: 1, a: [1, 2] });
  assert.equal((back.cells[2] as Record<string, unknown>).future_field, "kept");
  // Reading and writing again changes nothing.
  assert.equal(formatNotebook(back), ours);
  // deno fmt agrees with the layout: formatting our file leaves it byte for byte unchanged. (Deno
  // 2.9.6's `fmt --check` flags single-line cells even though `fmt` writes them back unchanged.)
  const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", `${dir}/ours.ipynb`], stderr: "piped" })
    .output();
  assert.ok(fmt.success, new TextDecoder().decode(fmt.stderr));
  assert.equal(Deno.readTextFileSync(`${dir}/ours.ipynb`), ours);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("nb check rejects, with cell index and reason, each broken convention", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "test-check-", dir: `${ROOT}/out` });
  const SRC = "function f(): number {\n  // BEGIN SOLUTION\n  return 1;\n  // END SOLUTION\n}";
  const ex = (id: string, src = SRC, forbid?: unknown) =>
    codeCell(src, {
      tags: ["exercise"],
      metadata: { ince: { exercise: id, points: 1, ...(forbid === undefined ? {} : { forbid }) } },
    });
  const tests = (id: string) => codeCell("f();", { tags: ["tests"], metadata: { ince: { exercise: id } } });
  const cases: { name: string; nb: ReturnType<typeof newNotebook>; expect: RegExp }[] = [
    {
      name: "unbalanced",
      nb: newNotebook([ex("a", "function f(): number {\n  // BEGIN SOLUTION\n  return 1;\n}"), tests("a")]),
      expect: /cell 1 \(index 0\): unbalanced markers: line 2: BEGIN SOLUTION is never closed/,
    },
    {
      name: "duplicate",
      nb: newNotebook([
        ex("a"),
        tests("a"),
        ex("a", "function g(): number {\n  // BEGIN SOLUTION\n  return 2;\n  // END SOLUTION\n}"),
      ]),
      expect: /cell 3 \(index 2\): duplicate exercise id "a" \(first in cell 1\)/,
    },
    {
      name: "kernel",
      nb: {
        ...newNotebook([codeCell("1;")]),
        metadata: { kernelspec: { name: "python3", display_name: "Python 3" } },
      },
      expect: /kernelspec is "python3", not "ince"/,
    },
    {
      name: "types",
      nb: newNotebook([codeCell("const n = 1;"), codeCell("const s: string = n;\nconsole.log(s);")]),
      expect:
        /cell 2 \(index 1\): type error at line 1: TS2322: Type 'number' is not assignable to type 'string'/,
    },
    {
      name: "forbid-unknown",
      nb: newNotebook([ex("a", SRC, ["routeTopK", "routeTopk"]), tests("a")]),
      expect:
        /^[^\n]*: cell 1 \(index 0\): exercise "a": metadata\.ince\.forbid names "routeTopk", which lib\/mod\.ts does not export \(check the spelling\)$/,
    },
    {
      name: "forbid-not-a-list",
      nb: newNotebook([ex("a", SRC, "routeTopK"), tests("a")]),
      expect: /cell 1 \(index 0\): exercise "a": metadata\.ince\.forbid must be an array of names/,
    },
    {
      name: "token",
      nb: newNotebook([codeCell(`const token = "hf_${"a1B2c3D4".repeat(5)}";`)]),
      expect: /cell 1 \(index 0\): contains a Hugging Face token/,
    },
    {
      name: "outputs",
      nb: newNotebook([{
        ...codeCell("1;"),
        outputs: [{ output_type: "stream", name: "stdout", text: "1" }],
      }]),
      expect: /cell 1 \(index 0\): 1 committed output\(s\)/,
    },
  ];
  for (const c of cases) {
    const path = `${dir}/${c.name}.ipynb`;
    writeNotebook(path, c.nb);
    const problems = (await checkNotebook(path)).map((p) => formatProblem(path, p));
    assert.ok(problems.some((p) => c.expect.test(p)), `${c.name}: ${JSON.stringify(problems)}`);
  }
  const good = `${dir}/good.ipynb`;
  writeNotebook(
    good,
    newNotebook([
      codeCell("const n: number = 1;"),
      ex("a", SRC, ["routeTopK", "loadBalancingLoss"]),
      tests("a"),
    ]),
  );
  assert.deepEqual(await checkNotebook(good), []);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("stripSolutions() replaces each solution region with a TODO stub and drops hidden tests and outputs", () => {
  const nb = newNotebook([
    codeCell(
      "function f(x: number): number {\n    // BEGIN SOLUTION\n    const y = x * 2;\n    return y;\n    // END SOLUTION\n}",
      {
        tags: ["exercise"],
        metadata: { ince: { exercise: "double", points: 1 } },
      },
    ),
    {
      ...codeCell("f(1);\n// BEGIN HIDDEN TESTS\nf(2);\n// END HIDDEN TESTS\nf(3);"),
      outputs: [{ output_type: "stream", name: "stdout", text: "x" }],
      execution_count: 3,
    },
  ]);
  const s = stripSolutions(nb);
  assert.equal(
    s.cells[0].source,
    'function f(x: number): number {\n    throw new Error("TODO: exercise double: write your solution here");\n}',
  );
  assert.equal(s.cells[1].source, "f(1);\nf(3);");
  assert.deepEqual((s.cells[1] as Record<string, unknown>).outputs, []);
  assert.equal((s.cells[1] as Record<string, unknown>).execution_count, null);
  assert.equal(nb.cells[0].source.includes("x * 2"), true, "the input is not modified");
});

Deno.test("nb run --param injects values after the parameters cell; unknown names are refused", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "test-params-", dir: `${ROOT}/out` });
  const path = `${dir}/p.ipynb`;
  writeNotebook(
    path,
    newNotebook([
      codeCell('const STEPS = 300;\nconst MODEL = "tiny";', { tags: ["parameters"] }),
      codeCell("console.log(`${STEPS * 2} ${MODEL}`);"),
    ]),
  );
  const [r] = await runNotebooks([path], {
    out: `${dir}/out`,
    params: { STEPS: "20", MODEL: "Qwen/Qwen2.5-0.5B-Instruct" },
  });
  assert.ok(r.ok, describeFailure(r));
  const cells = readNotebook(r.out).cells;
  assert.deepEqual((cells[1].metadata as { tags: string[] }).tags, ["injected-parameters"]);
  const out = (cells[2] as unknown as { outputs: { text: string[] }[] }).outputs[0].text.join("");
  assert.equal(out, "40 Qwen/Qwen2.5-0.5B-Instruct\n");
  assert.throws(
    () => injectParameters(readNotebook(path), { STEPZ: "1" }, { where: path }),
    /--param STEPZ: the parameters cell \(cell 1\) has no parameter "STEPZ"; it has STEPS, MODEL/,
  );
  assert.throws(
    () => injectParameters(newNotebook([codeCell("1;")]), { A: "1" }),
    /no cell is tagged "parameters"/,
  );
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("nb new scaffolds a lesson that passes nb check, grades full marks, and refuses to overwrite", async () => {
  const module = `99-scaffold-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const { notebook, gradeTest } = newLesson(module, "Şimdi: Deneme");
    assert.match(notebook, /notebooks\/99-scaffold-[0-9a-f]{8}\/99-simdi-deneme\.ipynb$/);
    assert.deepEqual(await checkNotebook(notebook), []);
    const report = await gradeNotebook(notebook);
    assert.equal(report.points, report.max);
    assert.ok(report.max > 0);
    assert.match(
      Deno.readTextFileSync(gradeTest),
      /gradeTests\(new URL\("\.\/99-simdi-deneme\.ipynb", import\.meta\.url\)\)/,
    );
    assert.throws(() => newLesson(module, "Şimdi: Deneme"), /already exists/);
    assert.throws(() => newLesson("scaffold", "x"), /must look like "03-ollama"/);
  } finally {
    Deno.removeSync(`${ROOT}/notebooks/${module}`, { recursive: true });
  }
});
