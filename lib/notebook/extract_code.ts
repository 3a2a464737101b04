/**
 * Turning notebook cells into a TypeScript module: imports hoisted and made absolute (so the module
 * can live anywhere), and a map from module lines back to cells for error messages.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

/** An import declaration found in a cell. */
export interface ImportDecl {
  /** The whole statement, as written. */
  text: string;
  /** The module specifier, as written. */
  specifier: string;
}

const IMPORT =
  /^import\s+(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s+)?(["'])([^"']+)\1\s*(?:with\s*\{[^}]*\}\s*)?;?[ \t]*$/gm;

/**
 * Splits a cell's source into its top-level import declarations and the rest.
 *
 * @param source A code cell's source.
 * @returns The imports and the remaining code (import lines blanked, so line numbers stay).
 *
 * @example
 * ```ts
 * import { splitImports } from "./extract_code.ts";
 * const { imports, body } = splitImports('import { a } from "./a.ts";\nconsole.log(a);');
 * console.log(imports[0].specifier, JSON.stringify(body)); // ./a.ts "\nconsole.log(a);"
 * ```
 */
export function splitImports(source: string): { imports: ImportDecl[]; body: string } {
  const imports: ImportDecl[] = [];
  const body = source.replace(IMPORT, (text, _q, specifier) => {
    imports.push({ text, specifier });
    return text.replace(/[^\n]/g, "");
  });
  return { imports, body };
}

/**
 * The top-level names a cell declares (`function`, `class`, `const`, `let`, `var` at the start of a line).
 *
 * @param source A code cell's source.
 * @returns The names, in order, without repeats.
 *
 * @example
 * ```ts
 * import { declaredNames } from "./extract_code.ts";
 * console.log(declaredNames('const MODEL = "x";\nlet STEPS = 3;\nasync function f() {}')); // ["MODEL", "STEPS", "f"]
 * ```
 */
export function declaredNames(source: string): string[] {
  const names = [
    ...source.matchAll(
      /^(?:export\s+)?(?:async\s+)?(?:function\*?|class|const|let|var)\s+([A-Za-z_$][\w$]*)/gm,
    ),
  ].map((m) => m[1]);
  return [...new Set(names)];
}

/**
 * Rewrites a relative specifier to an absolute `file:` URL, resolved from `fromDir`.
 *
 * @param specifier As written in the cell.
 * @param fromDir The notebook's folder (the kernel's cwd).
 * @returns The specifier to use from anywhere.
 *
 * @example
 * ```ts
 * import { absoluteSpecifier } from "./extract_code.ts";
 * console.log(absoluteSpecifier("../../lib/mod.ts", "/p/notebooks/00")); // file:///p/lib/mod.ts
 * console.log(absoluteSpecifier("zod", "/p")); // zod
 * ```
 */
export function absoluteSpecifier(specifier: string, fromDir: string): string {
  return specifier.startsWith("./") || specifier.startsWith("../")
    ? pathToFileURL(resolve(fromDir, specifier)).href
    : specifier;
}

/** A module made of cells. */
export interface CellModule {
  /** The TypeScript text. */
  code: string;
  /** For each 0-based line of `code`: the cell index and 0-based line in that cell, or null (generated). */
  lines: ({ cell: number; line: number } | null)[];
  /** Every import found, absolute. */
  imports: ImportDecl[];
}

/**
 * Builds one module from code cells: the imports of all `importFrom` cells first (deduplicated, made
 * absolute), then the bodies of `cells` in order.
 *
 * @param sources Cell index → source, for the cells whose code goes in.
 * @param options `fromDir` for relative imports; `importSources` adds imports of other cells.
 * @returns The module and its line map.
 *
 * @example
 * ```ts
 * import { cellModule } from "./extract_code.ts";
 * const m = cellModule([[0, 'import { a } from "./a.ts";'], [2, "a();"]], { fromDir: "/nb" });
 * console.log(m.code); // 'import { a } from "file:///nb/a.ts";\n\na();'
 * ```
 */
export function cellModule(
  sources: [number, string][],
  options: { fromDir: string; importSources?: string[]; header?: string[] },
): CellModule {
  const seen = new Set<string>();
  const imports: ImportDecl[] = [];
  const lines: CellModule["lines"] = [];
  const out: string[] = [];
  const addImports = (found: ImportDecl[]) => {
    for (const imp of found) {
      const abs = absoluteSpecifier(imp.specifier, options.fromDir);
      const text = imp.text.replace(imp.specifier, abs);
      if (seen.has(text)) continue;
      seen.add(text);
      imports.push({ text, specifier: abs });
      out.push(text);
      for (const _ of text.split("\n")) lines.push(null); // one entry per line of a multi-line import
    }
  };
  for (const h of options.header ?? []) (out.push(h), lines.push(null));
  for (const src of options.importSources ?? []) addImports(splitImports(src).imports);
  const bodies = sources.map(([cell, src]) => {
    const { imports, body } = splitImports(src);
    addImports(imports);
    return [cell, body] as const;
  });
  for (const [cell, body] of bodies) {
    body.split("\n").forEach((l, line) => {
      out.push(l);
      lines.push({ cell, line });
    });
  }
  return { code: out.join("\n"), lines, imports };
}
