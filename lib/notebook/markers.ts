/**
 * nbgrader's markers inside TypeScript comments: `// BEGIN SOLUTION` … `// END SOLUTION` and
 * `// BEGIN HIDDEN TESTS` … `// END HIDDEN TESTS`.
 *
 * @module
 */

/** The two kinds of marked regions. */
export type RegionKind = "SOLUTION" | "HIDDEN TESTS";

/** A marked region: 0-based line numbers of its BEGIN and END lines, and the BEGIN line's indent. */
export interface Region {
  kind: RegionKind;
  begin: number;
  end: number;
  indent: string;
}

const MARKER = /^(\s*)\/\/\s*(BEGIN|END)\s+(SOLUTION|HIDDEN TESTS)\s*$/;

/**
 * Finds the marked regions of a source, or says what is unbalanced.
 *
 * @param source A cell's source.
 * @returns The regions in order, and problems (1-based line numbers in the messages).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findRegions } from "./markers.ts";
 * const { regions, problems } = findRegions("f();\n  // BEGIN SOLUTION\n  x = 1;\n  // END SOLUTION");
 * assert.deepEqual(regions, [{ kind: "SOLUTION", begin: 1, end: 3, indent: "  " }]);
 * assert.deepEqual(problems, []);
 * ```
 */
export function findRegions(source: string): { regions: Region[]; problems: string[] } {
  const regions: Region[] = [], problems: string[] = [];
  let open: Region | undefined;
  source.split("\n").forEach((line, i) => {
    const m = line.match(MARKER);
    if (!m) return;
    const [, indent, which, kind] = m as unknown as [string, string, "BEGIN" | "END", RegionKind];
    if (which === "BEGIN") {
      if (open) {
        problems.push(
          `line ${i + 1}: BEGIN ${kind} inside the ${open.kind} region opened at line ${open.begin + 1}`,
        );
      } else open = { kind, begin: i, end: -1, indent };
    } else if (!open) {
      problems.push(`line ${i + 1}: END ${kind} without a BEGIN ${kind}`);
    } else if (open.kind !== kind) {
      problems.push(
        `line ${i + 1}: END ${kind} closes the ${open.kind} region opened at line ${open.begin + 1}`,
      );
      open = undefined;
    } else {
      regions.push({ ...open, end: i });
      open = undefined;
    }
  });
  if (open) {
    problems.push(`line ${open.begin + 1}: BEGIN ${open.kind} is never closed (add // END ${open.kind})`);
  }
  return { regions, problems };
}

/**
 * Replaces each region of `kind` (markers included) with `replace(region)` lines.
 *
 * @param source A cell's source (its regions must be balanced).
 * @param kind Which regions.
 * @param replace The lines to put instead (none removes the region).
 * @returns The new source.
 * @throws {Error} When the markers are unbalanced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaceRegions } from "./markers.ts";
 * const src = "a\n// BEGIN HIDDEN TESTS\nsecret\n// END HIDDEN TESTS\nb";
 * assert.equal(replaceRegions(src, "HIDDEN TESTS", () => []), "a\nb");
 * ```
 */
export function replaceRegions(source: string, kind: RegionKind, replace: (r: Region) => string[]): string {
  const { regions, problems } = findRegions(source);
  if (problems.length) throw new Error(`Unbalanced markers: ${problems.join("; ")}`);
  const lines = source.split("\n");
  for (const r of regions.filter((r) => r.kind === kind).reverse()) {
    lines.splice(r.begin, r.end - r.begin + 1, ...replace(r));
  }
  return lines.join("\n");
}
