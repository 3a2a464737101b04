/**
 * A constitution as data: a name and principles, each with a critique request, a revision request and a
 * comparison question (Bai et al., 2022, "Constitutional AI", arXiv 2212.08073). Validated with zod; an error
 * is one line naming the file, the principle (index and id) and the field.
 *
 * The course's constitution is `data/constitution.json` (written by `data/scripts/make_alignment.py`).
 *
 * @module
 */
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { Constitution, Principle } from "./types.ts";

const FIELD_LIST = "id, description, critiqueRequest, revisionRequest and comparisonQuestion";

const Text = z.string().refine((s) => s.trim().length > 0, "must not be empty");

/** One principle (zod, strict: an unknown field — a typo — is an error). */
export const PrincipleSchema: z.ZodType<Principle> = z.strictObject({
  id: z.string().regex(
    /^[a-z][a-z0-9_-]*$/,
    'must be a short lower-case id such as "harmless" (letters, digits, "-" or "_")',
  ),
  description: Text,
  critiqueRequest: Text,
  revisionRequest: Text,
  comparisonQuestion: Text,
});

/** A whole constitution (zod; {@linkcode parseConstitution} gives the one-line errors). */
export const ConstitutionSchema: z.ZodType<Constitution> = z.strictObject({
  name: Text,
  principles: z.array(PrincipleSchema).min(1, "must have at least one principle"),
});

function _kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function _issue(issue: z.core.$ZodIssue, value: Record<string, unknown>, allowed: string): string {
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(", ");
    return `unknown field ${keys}: the allowed fields are ${allowed}`;
  }
  const field = String(issue.path[0]);
  if (value[field] === undefined) return `field "${field}" is missing (needed: ${allowed})`;
  if (issue.code === "invalid_type") return `field "${field}" must be a string, got ${_kind(value[field])}`;
  return `field "${field}" ${issue.message}`;
}

/**
 * Validates a parsed constitution (from JSON, YAML, or code).
 *
 * @param value The parsed value, e.g. `JSON.parse(text)`.
 * @param where Where it came from (a file name), for error messages.
 * @returns The constitution, principles in their order.
 * @throws {Error} One line: `where: principles[i] (id "…"): field "…" is missing (…)`, an empty or missing
 * `principles`, a repeated id, an unknown field, or a value that is not an object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConstitution } from "./constitution.ts";
 * const principle = {
 *   id: "kind",
 *   description: "Be kind.",
 *   critiqueRequest: "Identify ways the response is unkind.",
 *   revisionRequest: "Rewrite the response kindly.",
 *   comparisonQuestion: "Which response is kinder?",
 * };
 * const c = parseConstitution({ name: "mini", principles: [principle] }, "mini.json");
 * assert.deepEqual(c.principles.map((p) => p.id), ["kind"]);
 * const { comparisonQuestion: _, ...partial } = principle;
 * assert.throws(
 *   () => parseConstitution({ name: "mini", principles: [principle, { ...partial, id: "fair" }] }, "mini.json"),
 *   /^Error: mini\.json: principles\[1\] \(id "fair"\): field "comparisonQuestion" is missing/,
 * );
 * ```
 */
export function parseConstitution(value: unknown, where: string): Constitution {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${where}: a constitution must be an object {name, principles}, got ${_kind(value)}.`);
  }
  const top = value as Record<string, unknown>;
  if (top.principles === undefined) {
    throw new Error(`${where}: field "principles" is missing: a constitution is {name, principles: [...]}.`);
  }
  if (!Array.isArray(top.principles)) {
    const got = _kind(top.principles);
    throw new Error(`${where}: field "principles" must be a list of principles, got ${got}.`);
  }
  if (top.principles.length === 0) {
    throw new Error(
      `${where}: "principles" is empty: a constitution needs at least one principle (${FIELD_LIST}).`,
    );
  }
  const seen = new Map<string, number>();
  top.principles.forEach((p: unknown, i: number) => {
    const id = typeof (p as Principle)?.id === "string" ? ` (id ${JSON.stringify((p as Principle).id)})` : "";
    const at = `${where}: principles[${i}]${id}`;
    if (typeof p !== "object" || p === null || Array.isArray(p)) {
      throw new Error(`${at} must be an object with ${FIELD_LIST}, got ${_kind(p)}.`);
    }
    const parsed = PrincipleSchema.safeParse(p);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${at}: ${_issue(issue, p as Record<string, unknown>, FIELD_LIST)}.`);
    }
    const first = seen.get(parsed.data.id);
    if (first !== undefined) {
      throw new Error(`${at} repeats the id of principles[${first}]: give each principle its own id.`);
    }
    seen.set(parsed.data.id, i);
  });
  const parsed = ConstitutionSchema.safeParse(top);
  if (!parsed.success) {
    const allowed = "name and principles";
    throw new Error(`${where}: ${_issue(parsed.error.issues[0], top, allowed)}.`);
  }
  return parsed.data;
}

/**
 * Reads a constitution file — JSON, or YAML for a `.yaml`/`.yml` file (the same fields) — and validates it.
 *
 * @param path The file, e.g. `data/constitution.json`.
 * @returns The constitution.
 * @throws {Error} One line: a missing file, invalid JSON or YAML (with the parser's position), or what
 * {@linkcode parseConstitution} reports.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { loadConstitution } from "./constitution.ts";
 * const c = loadConstitution(`${projectRoot()}/data/constitution.json`);
 * assert.deepEqual(c.principles.map((p) => p.id), ["helpful", "harmless", "honest", "language"]);
 * ```
 */
export function loadConstitution(path: string): Constitution {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    throw new Error(
      `${path}: no such constitution file. Check the path (relative to ${Deno.cwd()}); ` +
        "the course's is data/constitution.json.",
    );
  }
  if (/\.ya?ml$/i.test(path)) {
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch (e) {
      const message = (e as Error).message.split("\n")[0];
      throw new Error(
        `${path}: not valid YAML (${message}). A constitution is one mapping: name, principles.`,
      );
    }
    return parseConstitution(value, path);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message.replace(/\s+/g, " ");
    throw new Error(`${path}: not valid JSON (${message}). A constitution is one JSON object.`);
  }
  return parseConstitution(value, path);
}
