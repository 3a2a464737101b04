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
 * import assert from "node:assert/strict";
 * import { splitImports } from "./extract_code.ts";
 * const { imports, body } = splitImports('import { a } from "./a.ts";\nconsole.log(a);');
 * assert.deepEqual(imports, [{ text: 'import { a } from "./a.ts";', specifier: "./a.ts" }]);
 * assert.equal(body, "\nconsole.log(a);");
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
 * import assert from "node:assert/strict";
 * import { declaredNames } from "./extract_code.ts";
 * assert.deepEqual(declaredNames('const MODEL = "x";\nlet STEPS = 3;\nasync function f() {}'), ["MODEL", "STEPS", "f"]);
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
 * import assert from "node:assert/strict";
 * import { absoluteSpecifier } from "./extract_code.ts";
 * assert.equal(absoluteSpecifier("../../lib/mod.ts", "/p/notebooks/00"), "file:///p/lib/mod.ts");
 * assert.equal(absoluteSpecifier("zod", "/p"), "zod");
 * ```
 */
export function absoluteSpecifier(specifier: string, fromDir: string): string {
  return specifier.startsWith("./") || specifier.startsWith("../")
    ? pathToFileURL(resolve(fromDir, specifier)).href
    : specifier;
}

/** What an import declaration binds: its default and namespace names, and each named import. */
export interface ImportBindings {
  /** `import X from …`. */
  default?: string;
  /** `import * as NS from …`. */
  namespace?: string;
  /** `import { imported as local }`; `type` when the name alone is type-only. */
  named: { imported: string; local: string; type: boolean }[];
  /** `import type …`: the whole declaration is type-only. */
  type: boolean;
}

/**
 * The names an import declaration (as {@linkcode splitImports} finds them) binds.
 *
 * @param decl The declaration.
 * @returns Its default, namespace and named bindings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importBindings } from "./extract_code.ts";
 * const b = importBindings({ text: 'import { a, b as c } from "./m.ts";', specifier: "./m.ts" });
 * assert.deepEqual(b.named.map((n) => `${n.imported}→${n.local}`), ["a→a", "b→c"]);
 * assert.equal(b.type, false);
 * ```
 */
export function importBindings(decl: ImportDecl): ImportBindings {
  const head = /^import\s+(type\s+)?([\s\S]*?)\s*from\s*["']/.exec(decl.text);
  const out: ImportBindings = { named: [], type: Boolean(head?.[1]) };
  const clause = head?.[2] ?? "";
  const ns = /\*\s*as\s+([\w$]+)/.exec(clause);
  if (ns) out.namespace = ns[1];
  const def = /^([\w$]+)\s*(?:,|$)/.exec(clause);
  if (def) out.default = def[1];
  for (const part of /\{([^}]*)\}/.exec(clause)?.[1].split(",") ?? []) {
    const m = /^\s*(type\s+)?([\w$]+)(?:\s+as\s+([\w$]+))?\s*$/.exec(part);
    if (m) out.named.push({ imported: m[2], local: m[3] ?? m[2], type: Boolean(m[1]) });
  }
  return out;
}

/**
 * Blanks what is not code: comments, the text of strings, template literals (their `${…}` stay) and
 * regular expressions become spaces, newlines stay. What is left can be searched for names.
 *
 * @param source TypeScript code.
 * @returns The same code, as long, with only code left.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskCode } from "./extract_code.ts";
 * assert.equal(maskCode('f("g") // h'), 'f(" ")     ');
 * ```
 */
export function maskCode(source: string): string {
  const out = source.split("");
  const blank = (from: number, to: number) => {
    for (let k = from; k < to && k < out.length; k++) if (out[k] !== "\n") out[k] = " ";
  };
  const open: number[] = []; // brace depth at each open `${` of a template literal
  let depth = 0, regexOk = true, i = 0;
  // Text of a template literal from `start` to its end or its next `${`.
  const template = (start: number): number => {
    let j = start;
    while (j < source.length && source[j] !== "`" && !(source[j] === "$" && source[j + 1] === "{")) {
      j += source[j] === "\\" ? 2 : 1;
    }
    blank(start, j);
    if (source[j] !== "$") return j + 1;
    open.push(depth++);
    return j + 2;
  };
  while (i < source.length) {
    const c = source[i], next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      blank(i, end < 0 ? source.length : end);
      i = end < 0 ? source.length : end;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      blank(i, end < 0 ? source.length : end + 2);
      i = end < 0 ? source.length : end + 2;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
      blank(i + 1, j);
      i = j + 1;
      regexOk = false;
    } else if (c === "`") {
      i = template(i + 1);
      regexOk = false;
    } else if (c === "/" && regexOk) {
      let j = i + 1, inClass = false;
      for (; j < source.length && source[j] !== "\n"; j++) {
        if (source[j] === "\\") j++;
        else if (source[j] === "[") inClass = true;
        else if (source[j] === "]") inClass = false;
        else if (source[j] === "/" && !inClass) break;
      }
      blank(i + 1, j);
      i = j + 1;
      regexOk = false;
    } else if (/[\p{ID_Continue}$]/u.test(c)) {
      let j = i;
      while (j < source.length && /[\p{ID_Continue}$\u200c\u200d]/u.test(source[j])) j++;
      regexOk = /^(?:return|typeof|instanceof|in|of|new|delete|void|throw|case|do|else|yield|await)$/
        .test(source.slice(i, j));
      i = j;
    } else if (c === "}" && open.length && open.at(-1) === depth - 1) {
      open.pop();
      depth--;
      i = template(i + 1);
      regexOk = false;
    } else {
      if (c === "{") depth++;
      else if (c === "}") depth--;
      if (!/\s/.test(c)) regexOk = c !== ")" && c !== "]";
      i++;
    }
  }
  return out.join("");
}

/**
 * An import declaration with a relative specifier made absolute (see {@linkcode absoluteSpecifier}).
 *
 * @param decl The declaration, as found in a cell.
 * @param fromDir The notebook's folder.
 * @returns The declaration with an absolute specifier, in its text too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { absoluteImport } from "./extract_code.ts";
 * assert.deepEqual(absoluteImport({ text: 'import { a } from "./a.ts";', specifier: "./a.ts" }, "/nb"), {
 *   text: 'import { a } from "file:///nb/a.ts";',
 *   specifier: "file:///nb/a.ts",
 * });
 * ```
 */
export function absoluteImport(decl: ImportDecl, fromDir: string): ImportDecl {
  const specifier = absoluteSpecifier(decl.specifier, fromDir);
  return { text: decl.text.replace(decl.specifier, specifier), specifier };
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
 * import assert from "node:assert/strict";
 * import { cellModule } from "./extract_code.ts";
 * const m = cellModule([[0, 'import { a } from "./a.ts";'], [2, "a();"]], { fromDir: "/nb" });
 * assert.equal(m.code, 'import { a } from "file:///nb/a.ts";\n\na();');
 * assert.deepEqual(m.lines.at(-1), { cell: 2, line: 0 }); // `a();` is line 0 of cell 2
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
      const abs = absoluteImport(imp, options.fromDir);
      if (seen.has(abs.text)) continue;
      seen.add(abs.text);
      imports.push(abs);
      out.push(abs.text);
      for (const _ of abs.text.split("\n")) lines.push(null); // one entry per line of a multi-line import
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
