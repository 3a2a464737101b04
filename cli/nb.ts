/**
 * `deno task nb <command>`: notebook tools.
 *   nb run <notebook|dir>... [--out DIR] [--timeout S] [--html] [--param name=value]...
 *   nb student <notebook|dir>... [--out DIR]
 *   nb check <notebook|dir>... [--no-typecheck] [--allow-outputs]
 *   nb new <module> "<title>"
 *
 * @module
 */
import { parseArgs } from "node:util";
import { describeFailure, runNotebooks } from "../lib/notebook/run_notebooks.ts";
import { readNotebook } from "../lib/notebook/read_notebook.ts";
import { writeNotebook } from "../lib/notebook/write_notebook.ts";
import { stripSolutions } from "../lib/notebook/student_notebook.ts";
import { checkNotebook, formatProblem } from "../lib/notebook/check_notebook.ts";
import { newLesson } from "../lib/notebook/new_lesson.ts";
import { findNotebooks } from "../lib/notebook/find_notebooks.ts";
import { parseParams } from "../lib/notebook/inject_parameters.ts";

const USAGE = [
  "usage: deno task nb run <notebook|dir>... [--out DIR] [--timeout S] [--html] [--param name=value]...",
  "       deno task nb student <notebook|dir>... [--out DIR]",
  "       deno task nb check <notebook|dir>... [--no-typecheck] [--allow-outputs]",
  '       deno task nb new <module> "<title>"',
].join("\n");

function student(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: "string", default: "out/student" } },
  });
  Deno.mkdirSync(values.out, { recursive: true });
  for (const path of findNotebooks(positionals)) {
    const dest = `${values.out}/${path.split("/").pop()}`;
    writeNotebook(dest, stripSolutions(readNotebook(path), { where: path }));
    console.error(`✓ ${path} → ${dest}`);
  }
  return 0;
}

async function check(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "no-typecheck": { type: "boolean", default: false },
      "allow-outputs": { type: "boolean", default: false },
    },
  });
  let bad = 0;
  for (const path of findNotebooks(positionals)) {
    const problems = await checkNotebook(path, {
      typecheck: !values["no-typecheck"],
      noOutputs: !values["allow-outputs"],
    });
    for (const p of problems) console.error(`✗ ${formatProblem(path, p)}`);
    if (!problems.length) console.error(`✓ ${path}`);
    bad += problems.length ? 1 : 0;
  }
  return bad ? 1 : 0;
}

function scaffold(args: string[]): number {
  if (args.length !== 2) throw new Error(`expects a module and a title.\n${USAGE}`);
  const { notebook, gradeTest } = newLesson(args[0], args[1]);
  console.error(`✓ created ${notebook}\n✓ grading test ${gradeTest}`);
  return 0;
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string", default: "out" },
      timeout: { type: "string", default: "600" },
      html: { type: "boolean", default: false },
      param: { type: "string", multiple: true, default: [] },
    },
  });
  const params = parseParams(values.param);
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout < 0) {
    throw new Error(`--timeout ${values.timeout} is not a number of seconds.`);
  }
  const t0 = performance.now();
  const results = await runNotebooks(positionals, {
    out: values.out,
    timeout,
    html: values.html,
    params,
    onEvent: (e) => {
      if (e.event === "start") console.error(`▶ ${e.notebook} (${e.cells} cells)`);
      if (e.event === "done" && e.ok) {
        console.error(`✓ ${e.notebook} → ${e.out}${e.html ? ` + ${e.html}` : ""}`);
      }
    },
  });
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) console.error(`✗ ${describeFailure(r)} → executed copy kept at ${r.out}`);
  console.error(
    `${results.length - failed.length} of ${results.length} notebooks ran in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s`,
  );
  return failed.length ? 1 : 0;
}

const [command, ...rest] = Deno.args;
try {
  if (command === "run") Deno.exit(await run(rest));
  if (command === "student") Deno.exit(student(rest));
  if (command === "check") Deno.exit(await check(rest));
  if (command === "new") Deno.exit(scaffold(rest));
  console.error(command ? `nb: unknown command "${command}". ${USAGE}` : USAGE);
  Deno.exit(2);
} catch (e) {
  console.error(`nb ${command}: ${(e as Error).message}`);
  Deno.exit(1);
}
