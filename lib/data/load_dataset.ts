/**
 * Course and Hub datasets as JSONL, validated with zod, errors naming file, line and field.
 *
 * Shapes accepted (the common Hub ones), detected from the first row:
 * - `alpaca`: `{instruction, input?, output}`
 * - `messages`: `{messages: [{role, content}, …]}` (also `conversations`)
 * - `prompt-completion`: `{prompt, completion}`
 * - `preference`: `{prompt, chosen, rejected}` (strings or message lists, as TRL's DPO takes them)
 *
 * SFT shapes are normalised to chat messages; preference rows keep their three parts.
 *
 * @module
 */
import { z } from "zod";

const Message = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() });
/** A chat message. */
export type Message = z.infer<typeof Message>;

const Id = z.union([z.string(), z.number()]).optional();
const Text = z.string().min(1, "must not be empty");

/** The row schemas, by shape. */
export const ROW_SCHEMAS = {
  alpaca: z.object({ id: Id, instruction: Text, input: z.string().optional(), output: Text }),
  messages: z.object({
    id: Id,
    messages: z.array(Message).min(2, "needs at least a user and an assistant message")
      .refine((m) => m.at(-1)?.role === "assistant", "the last message must be the assistant's answer"),
  }),
  "prompt-completion": z.object({ id: Id, prompt: Text, completion: Text }),
  preference: z.object({
    id: Id,
    prompt: z.union([Text, z.array(Message)]),
    chosen: z.union([Text, z.array(Message)]),
    rejected: z.union([Text, z.array(Message)]),
  }),
} as const;

/** A dataset shape. */
export type DatasetShape = keyof typeof ROW_SCHEMAS;

/** A supervised example: a chat whose last message is the assistant's answer. */
export interface ChatExample {
  id?: string | number;
  messages: Message[];
}

/** A preference pair for DPO. */
export interface PreferenceExample {
  id?: string | number;
  prompt: string | Message[];
  chosen: string | Message[];
  rejected: string | Message[];
}

/** A loaded dataset. */
export type Dataset =
  | { shape: Exclude<DatasetShape, "preference">; path: string; examples: ChatExample[] }
  | { shape: "preference"; path: string; examples: PreferenceExample[] };

/**
 * Which shape a row has, from its keys.
 *
 * @param row A parsed JSON row.
 * @returns The shape, or undefined when none fits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectShape } from "./load_dataset.ts";
 * assert.equal(detectShape({ prompt: "2+2?", chosen: "4", rejected: "5" }), "preference");
 * assert.equal(detectShape({ text: "no known keys" }), undefined);
 * ```
 */
export function detectShape(row: Record<string, unknown>): DatasetShape | undefined {
  if ("chosen" in row && "rejected" in row) return "preference";
  if ("messages" in row || "conversations" in row) return "messages";
  if ("instruction" in row) return "alpaca";
  if ("prompt" in row && "completion" in row) return "prompt-completion";
  return undefined;
}

function _toChat(shape: DatasetShape, row: Record<string, unknown>): ChatExample {
  const id = row.id as string | number | undefined;
  if (shape === "alpaca") {
    const r = row as z.infer<typeof ROW_SCHEMAS.alpaca>;
    const user = r.input ? `${r.instruction}\n\n${r.input}` : r.instruction;
    return { id, messages: [{ role: "user", content: user }, { role: "assistant", content: r.output }] };
  }
  if (shape === "prompt-completion") {
    const r = row as z.infer<(typeof ROW_SCHEMAS)["prompt-completion"]>;
    return {
      id,
      messages: [{ role: "user", content: r.prompt }, { role: "assistant", content: r.completion }],
    };
  }
  return { id, messages: (row as z.infer<typeof ROW_SCHEMAS.messages>).messages };
}

/** Options for {@linkcode parseDataset} and {@linkcode loadDataset}. */
export interface LoadDatasetOptions {
  /** Require this shape (default: detect from the first row). */
  shape?: DatasetShape;
}

/**
 * Parses JSONL text into a dataset.
 *
 * @param text The JSONL content.
 * @param path The file name, for error messages.
 * @param options The expected shape.
 * @returns The examples, normalised.
 * @throws {Error} `path:line: …` naming the field and what is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDataset } from "./load_dataset.ts";
 * const ds = parseDataset('{"instruction": "Write 7 in words.", "output": "seven"}\n', "mini.jsonl");
 * assert.equal(ds.shape, "alpaca");
 * assert.deepEqual(ds.examples[0].messages, [
 *   { role: "user", content: "Write 7 in words." },
 *   { role: "assistant", content: "seven" },
 * ]);
 * assert.throws(() => parseDataset('{"instruction": 7, "output": "x"}', "bad.jsonl"), /bad\.jsonl:1: field "instruction"/);
 * ```
 */
export function parseDataset(text: string, path: string, options: LoadDatasetOptions = {}): Dataset {
  let shape = options.shape;
  const examples: (ChatExample | PreferenceExample)[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${path}:${i + 1}`;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new Error(
        `${where}: not valid JSON (${(e as Error).message}). Each line must be one JSON object.`,
      );
    }
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new Error(
        `${where}: each line must be a JSON object, got ${Array.isArray(row) ? "an array" : typeof row}.`,
      );
    }
    if (row.conversations && !row.messages) row = { ...row, messages: row.conversations };
    shape ??= detectShape(row);
    if (!shape) {
      throw new Error(
        `${where}: unknown row shape (keys: ${
          Object.keys(row).join(", ")
        }). Use alpaca {instruction, output}, ` +
          "messages {messages}, prompt-completion {prompt, completion} or preference {prompt, chosen, rejected}.",
      );
    }
    const parsed = ROW_SCHEMAS[shape].safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.path.join(".") || "(row)";
      const missing = issue.path.reduce<unknown>((v, k) =>
        (v as Record<PropertyKey, unknown>)?.[k], row) === undefined;
      const what = missing ? " is missing" : `: ${issue.message}`;
      throw new Error(`${where}: field "${field}"${what} (expected the ${shape} shape).`);
    }
    examples.push(shape === "preference" ? (parsed.data as PreferenceExample) : _toChat(shape, parsed.data));
  });
  if (examples.length === 0) throw new Error(`${path}: no rows. A dataset needs at least one JSON line.`);
  return { shape: shape!, path, examples } as Dataset;
}

/**
 * Reads and validates a JSONL dataset file.
 *
 * @param path The `.jsonl` file.
 * @param options The expected shape.
 * @returns The examples, normalised.
 * @throws {Error} When the file is missing, or `path:line: …` for a bad row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { loadDataset } from "./load_dataset.ts";
 * const train = loadDataset(`${projectRoot()}/data/datasets/numbers-train.jsonl`);
 * assert.equal(train.shape, "alpaca");
 * assert.equal(train.examples.length, 420);
 * ```
 */
export function loadDataset(path: string, options: LoadDatasetOptions = {}): Dataset {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    throw new Error(`${path}: no such dataset file. Check the path (it is relative to ${Deno.cwd()}).`);
  }
  return parseDataset(text, path, options);
}
