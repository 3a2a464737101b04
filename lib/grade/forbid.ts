/**
 * Forbidden library functions. An exercise's `metadata.ince.forbid` names exports of `lib/mod.ts` — the
 * oracle its hidden tests compare with, say `routeTopK` — that the student's exercise code may not use,
 * however it would reach them. {@linkcode checkForbidden} is the grader's first two walls:
 *
 * 1. The exercise cell, with comments and strings blanked, may not name a forbidden export (as a name or
 *    a property, `L.routeTopK`) nor a local name that any of the student's imports binds to one.
 * 2. Imports from `lib/` are judged by the *value* they bind, loaded from the module they name: an alias
 *    (`routeTopK as r`), the defining module (`lib/adapters/moe.ts`), a re-export under any name are the
 *    same function. The exercise cell may not import one, nor import as a namespace (`import * as L`)
 *    a `lib/` module that holds one. The imports of the notebook's other cells, which the student's
 *    module also gets, are rewritten without those bindings, so the names are absent from its scope.
 *
 * The third wall is in the grader: Deno lists the student module's imports, and any that does not come
 * from the imports read here is refused (an import written in a way this module did not parse).
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { projectRoot } from "../env/paths.ts";
import {
  absoluteImport,
  type ImportBindings,
  importBindings,
  type ImportDecl,
  maskCode,
  splitImports,
} from "../notebook/extract_code.ts";

/**
 * The library's exports: the module `lib/mod.ts`, loaded.
 *
 * @param root The project root (default: this checkout).
 * @returns The module namespace, name → value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { libExports } from "./forbid.ts";
 * assert.equal(typeof (await libExports()).routeTopK, "function");
 * ```
 */
export async function libExports(root: string = projectRoot()): Promise<Record<string, unknown>> {
  return await _import(pathToFileURL(`${root}/lib/mod.ts`).href, "libExports");
}

/**
 * A dynamic import for the grader only. In a graded process a module already loaded (the library the
 * tests import) imports without any permission, so graded code could reach a forbidden export by a
 * computed name through this function; it may not: it needs read access to the module.
 */
async function _import(specifier: string, caller: string): Promise<Record<string, unknown>> {
  if (specifier.startsWith("file:")) {
    const state = Deno.permissions.querySync({ name: "read", path: new URL(specifier) }).state;
    if (state !== "granted") {
      throw new Deno.errors.NotCapable(`${caller}: graded code may not load the library by name`);
    }
  }
  return await import(specifier);
}

/** Options for {@linkcode checkForbidden}. */
export interface ForbidOptions {
  /** The exercise id, for the message. */
  id: string;
  /** The forbidden names: exports of `lib/mod.ts`. */
  forbid: string[];
  /** Every import the student's module gets (the notebook's and the cell's own), specifiers absolute. */
  imports: ImportDecl[];
  /** The notebook's folder, from which the cell's relative imports resolve. */
  fromDir: string;
  /** The project root (default: this checkout). */
  root?: string;
}

/** What {@linkcode checkForbidden} decided. */
export interface ForbidVerdict {
  /** Why the cell scores 0 (one line), or null. */
  refusal: string | null;
  /** The imports the student's module may have: `options.imports` without the forbidden bindings. */
  imports: ImportDecl[];
}

const _IDENTIFIER = /[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*/gu;

async function _load(specifier: string): Promise<Record<string, unknown>> {
  try {
    return await _import(specifier, "checkForbidden");
  } catch {
    return {}; // not a module; the run will say why
  }
}

function _importText(b: ImportBindings, specifier: string): string | null {
  const named = b.named.map((n) =>
    `${n.type ? "type " : ""}${n.imported}${n.local === n.imported ? "" : ` as ${n.local}`}`
  );
  const parts = [
    b.default,
    b.namespace && `* as ${b.namespace}`,
    named.length ? `{ ${named.join(", ")} }` : undefined,
  ].filter(Boolean);
  return parts.length ? `import ${b.type ? "type " : ""}${parts.join(", ")} from "${specifier}";` : null;
}

/**
 * Checks an exercise cell against its forbidden names, and removes them from the student's imports.
 *
 * @param cell The exercise cell's source.
 * @param options The exercise, its forbidden names, and the imports of the student's module.
 * @returns A refusal — `exercise <id>: uses routeTopK, which this exercise asks you to write yourself
 *   (forbidden: routeTopK, loadBalancingLoss)` — or null, and the imports left to the module.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathToFileURL } from "node:url";
 * import { checkForbidden } from "./forbid.ts";
 * import { projectRoot } from "../env/paths.ts";
 * const lib = pathToFileURL(`${projectRoot()}/lib/mod.ts`).href;
 * const imports = [{ text: `import { routeTopK, toRows } from "${lib}";`, specifier: lib }];
 * const v = await checkForbidden("const r = routeTopK;", { id: "moe", forbid: ["routeTopK"], imports, fromDir: "." });
 * assert.equal(
 *   v.refusal,
 *   "exercise moe: uses routeTopK, which this exercise asks you to write yourself (forbidden: routeTopK)",
 * );
 * ```
 */
export async function checkForbidden(cell: string, options: ForbidOptions): Promise<ForbidVerdict> {
  const root = options.root ?? projectRoot();
  const lib = await libExports(root);
  const libUrl = pathToFileURL(`${root}/lib/`).href;
  const refuse = (what: string, then = ""): ForbidVerdict => ({
    refusal: `exercise ${options.id}: ${what}, which this exercise asks you to write yourself (forbidden: ${
      options.forbid.join(", ")
    })${then}`,
    imports: [],
  });
  // The forbidden values, so that any name bound to one is caught.
  const values = new Map<unknown, string>();
  for (const name of options.forbid) {
    const v = lib[name];
    if ((typeof v === "function" || typeof v === "object") && v !== null) values.set(v, name);
  }
  const { imports: own, body } = splitImports(cell);
  const ownTexts = new Set(own.map((i) => absoluteImport(i, options.fromDir).text));
  const tokens = new Set(maskCode(body).match(_IDENTIFIER) ?? []);
  const named = options.forbid.find((name) => tokens.has(name));
  if (named) return refuse(`uses ${named}`);
  const kept: ImportDecl[] = [];
  for (const imp of options.imports) {
    if (!imp.specifier.startsWith(libUrl)) {
      kept.push(imp);
      continue;
    }
    const mine = ownTexts.has(imp.text);
    const mod = await _load(imp.specifier);
    const b = importBindings(imp);
    const left: ImportBindings = { ...b, named: [] };
    for (const n of b.named) {
      const hit = values.get(mod[n.imported]) ?? options.forbid.find((f) => f === n.imported);
      if (!hit) left.named.push(n);
      else if (mine || tokens.has(n.local)) {
        return refuse(`uses ${n.imported === hit ? hit : `${n.imported} (that is ${hit})`}`);
      }
    }
    const fromDefault = b.default && values.get(mod.default);
    if (fromDefault) {
      if (mine || tokens.has(b.default!)) return refuse(`uses ${b.default} (that is ${fromDefault})`);
      delete left.default;
    }
    const inModule = new Set(Object.values(mod).map((v) => values.get(v)));
    const held = options.forbid.filter((name) => inModule.has(name));
    if (b.namespace && held.length) {
      if (mine || tokens.has(b.namespace)) {
        const where = imp.specifier.slice(libUrl.length - "lib/".length);
        return refuse(
          `imports ${where} as the namespace ${b.namespace}, which holds ${
            new Intl.ListFormat("en").format(held)
          }`,
          "; import the names you need instead",
        );
      }
      delete left.namespace;
    }
    const changed = left.named.length !== b.named.length || left.default !== b.default ||
      left.namespace !== b.namespace;
    const text = changed ? _importText(left, imp.specifier) : imp.text;
    if (text !== null) kept.push({ text, specifier: imp.specifier });
  }
  return { refusal: null, imports: kept };
}
