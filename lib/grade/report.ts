/**
 * Grade reports for people (a points table) and for CI (JSON, JUnit XML).
 *
 * @module
 */
import { escapeXml } from "../util/escape.ts";
import type { GradeReport } from "./grade_notebook.ts";

/**
 * A points table, one row per exercise, then the total.
 *
 * @param report A grade report.
 * @returns Text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatGradeTable } from "./report.ts";
 * const table = formatGradeTable({ notebook: "a.ipynb", points: 1, max: 2, exercises: [
 *   { id: "x", points: 1, max: 1, message: "passed" }, { id: "y", points: 0, max: 1, message: "AssertionError: 3 !== 4" },
 * ] });
 * assert.deepEqual(table.split("\n"), [
 *   "a.ipynb",
 *   "  exercise  points  message",
 *   "✓ x            1/1  passed",
 *   "✗ y            0/1  AssertionError: 3 !== 4",
 *   "  total        1/2",
 * ]);
 * ```
 */
export function formatGradeTable(report: GradeReport): string {
  const w = Math.max(8, ...report.exercises.map((e) => e.id.length));
  const rows = report.exercises.map((e) =>
    `${e.points === e.max ? "✓" : "✗"} ${e.id.padEnd(w)} ${`${e.points}/${e.max}`.padStart(7)}  ${e.message}`
  );
  return [
    report.notebook,
    `  ${"exercise".padEnd(w)}  points  message`,
    ...rows,
    `  ${"total".padEnd(w)} ${`${report.points}/${report.max}`.padStart(7)}`,
  ].join("\n");
}

/**
 * JUnit XML: one test suite per notebook, one test case per exercise (failed when not full marks).
 *
 * @param reports Grade reports.
 * @returns The XML document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toJunit } from "./report.ts";
 * const xml = toJunit([{ notebook: "a.ipynb", points: 0, max: 1, exercises: [{ id: "x", points: 0, max: 1, message: "no" }] }]);
 * assert.ok(xml.includes('<testsuite name="a.ipynb" tests="1" failures="1">'));
 * assert.ok(xml.includes('<testcase classname="a.ipynb" name="x (0/1 points)"><failure message="no"/></testcase>'));
 * ```
 */
export function toJunit(reports: GradeReport[]): string {
  const suites = reports.map((r) => {
    const failures = r.exercises.filter((e) => e.points < e.max).length;
    const cases = r.exercises.map((e) =>
      `    <testcase classname="${escapeXml(r.notebook)}" name="${
        escapeXml(e.id)
      } (${e.points}/${e.max} points)">` +
      (e.points < e.max ? `<failure message="${escapeXml(e.message)}"/>` : "") + `</testcase>`
    );
    return `  <testsuite name="${
      escapeXml(r.notebook)
    }" tests="${r.exercises.length}" failures="${failures}">\n` +
      `${cases.join("\n")}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n${suites.join("\n")}\n</testsuites>\n`;
}
