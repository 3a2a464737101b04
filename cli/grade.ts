/**
 * `deno task grade <notebook|dir>... [--lesson FILE] [--json FILE] [--junit FILE] [--timeout S] [--memory MB]
 * [--jobs N]`:
 * points per exercise. A student's copy is graded with the tests of the lesson of the same file name
 * under notebooks/ (or `--lesson`). Exit code 0 only at full marks.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { basename } from "node:path";
import { formatGradeTable, gradeNotebook, type GradeReport, toJunit } from "../lib/grade/mod.ts";
import { projectRoot } from "../lib/env/paths.ts";
import { findNotebooks } from "../lib/notebook/find_notebooks.ts";

function _lessonFor(path: string): string | undefined {
  const name = basename(path);
  const root = `${projectRoot()}/notebooks`;
  for (const dir of Deno.readDirSync(root)) {
    const candidate = `${root}/${dir.name}/${name}`;
    try {
      Deno.statSync(candidate);
      return candidate;
    } catch { /* not this module */ }
  }
  return undefined;
}

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    lesson: { type: "string" },
    json: { type: "string" },
    junit: { type: "string" },
    timeout: { type: "string", default: "30" },
    memory: { type: "string", default: "1024" },
    jobs: { type: "string" },
  },
});
try {
  if (!positionals.length) {
    throw new Error(
      "usage: deno task grade <notebook|dir>... [--lesson FILE] [--json FILE] [--junit FILE] [--timeout S] [--memory MB] [--jobs N]",
    );
  }
  const paths = findNotebooks(positionals);
  const reports: GradeReport[] = [];
  for (const path of paths) {
    const lesson = values.lesson ?? _lessonFor(path);
    const report = await gradeNotebook(path, {
      ...(lesson && Deno.realPathSync(lesson) !== Deno.realPathSync(path) ? { source: lesson } : {}),
      timeoutSeconds: Number(values.timeout),
      memoryMb: Number(values.memory),
      ...(values.jobs ? { concurrency: Number(values.jobs) } : {}),
    });
    console.log(formatGradeTable(report));
    reports.push(report);
  }
  if (values.json) {
    const json = reports.length === 1 ? reports[0] : reports;
    Deno.writeTextFileSync(values.json, JSON.stringify(json, null, 2) + "\n");
  }
  if (values.junit) Deno.writeTextFileSync(values.junit, toJunit(reports));
  Deno.exit(reports.every((r) => r.points === r.max) ? 0 : 1);
} catch (e) {
  console.error(`grade: ${(e as Error).message}`);
  Deno.exit(2);
}
