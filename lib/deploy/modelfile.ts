/**
 * Ollama's Modelfile: how `ollama create` learns which GGUF to load (`FROM`), how to format a chat
 * (`TEMPLATE`, Go template syntax), where to stop (`PARAMETER stop`), sampling defaults (`PARAMETER …`) and an
 * optional `SYSTEM` prompt. {@linkcode writeModelfile} writes one; {@linkcode parseModelfile} reads one back with
 * the rules of Ollama's own parser (github.com/ollama/ollama/parser, v0.17.4): instructions are
 * case-insensitive, `#` starts a comment line, a value is bare, `"…"` or `"""…"""` (both may span lines, there
 * are no escapes), `PARAMETER stop` repeats, and parameter values are typed as Ollama types them.
 *
 * @module
 */
import type { Message } from "../data/load_dataset.ts";

/** The value types of Ollama's parameters (`api.Options` of Ollama v0.17.4). */
export const OLLAMA_PARAMETERS: Readonly<Record<string, "int" | "float" | "bool">> = {
  num_ctx: "int",
  num_batch: "int",
  num_gpu: "int",
  main_gpu: "int",
  use_mmap: "bool",
  num_thread: "int",
  num_keep: "int",
  seed: "int",
  num_predict: "int",
  top_k: "int",
  top_p: "float",
  min_p: "float",
  typical_p: "float",
  repeat_last_n: "int",
  temperature: "float",
  repeat_penalty: "float",
  presence_penalty: "float",
  frequency_penalty: "float",
};

/** Parameters Ollama v0.17.4 still accepts but ignores (with a warning). */
const DEPRECATED = [
  "penalize_newline",
  "low_vram",
  "f16_kv",
  "logits_all",
  "vocab_only",
  "use_mlock",
  "mirostat",
  "mirostat_tau",
  "mirostat_eta",
];

const INSTRUCTIONS = [
  "from",
  "license",
  "template",
  "system",
  "adapter",
  "renderer",
  "parser",
  "parameter",
  "message",
  "requires",
];

/** A Modelfile's content. */
export interface Modelfile {
  /** `FROM`: a GGUF file (relative to the Modelfile's folder, or absolute) or an Ollama model name. */
  from: string;
  /** `TEMPLATE`: the chat template in Go template syntax (see {@linkcode ollamaTemplate}). */
  template?: string;
  /** `PARAMETER stop` values, in order. */
  stop?: string[];
  /** Other `PARAMETER`s, e.g. `{ temperature: 0, num_ctx: 256 }` (see {@linkcode OLLAMA_PARAMETERS}). */
  parameters?: Record<string, number | boolean>;
  /** `SYSTEM`: the default system message. */
  system?: string;
  /** `ADAPTER`: a LoRA adapter (GGUF) applied to the model. */
  adapter?: string;
  /** `MESSAGE`s: a conversation every chat starts with. */
  messages?: Message[];
  /** `LICENSE` texts. */
  license?: string[];
  /** `RENDERER`, `PARSER`, `REQUIRES` (newer Ollama features, kept as written). */
  renderer?: string;
  parser?: string;
  requires?: string;
}

/** Options of {@linkcode parseModelfile}. */
export interface ParseModelfileOptions {
  /** The file's name for errors (default `"Modelfile"`). */
  file?: string;
}

/** Go's `unicode.IsPrint` (letters, marks, numbers, punctuation, symbols, ASCII space): what Ollama keeps. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const isSpace = (c: string) => c === " " || c === "\t";
const isNewline = (c: string) => c === "\r" || c === "\n";
const isAlpha = (c: string) => /^[A-Za-z]$/.test(c);

/** Ollama's `unquote`: the value inside `"""…"""` or `"…"`, or null while a quote is still open. */
function _unquote(s: string): string | null {
  if (s.startsWith('"""')) return s.length >= 6 && s.endsWith('"""') ? s.slice(3, -3) : null;
  if (s.startsWith('"')) return s.length >= 2 && s.endsWith('"') ? s.slice(1, -1) : null;
  return s;
}

/** A value as Ollama's parser reads it back unchanged: bare, `"…"` or `"""…"""`. */
function _quote(value: string, field: string): string {
  for (const c of value) {
    if (!PRINTABLE.test(c) && !isSpace(c) && !isNewline(c)) {
      throw new Error(
        `writeModelfile: ${field} contains the character U+${
          c.codePointAt(0)!.toString(16).padStart(4, "0")
        }, ` +
          "which Ollama's parser drops; remove it.",
      );
    }
  }
  if (value !== "" && !/[\s"]/.test(value)) return value;
  if (!/["\r\n]/.test(value)) return `"${value}"`;
  if (value.includes('"""')) {
    throw new Error(`writeModelfile: ${field} contains """, which a Modelfile cannot quote; remove it.`);
  }
  return `"""${value}"""`;
}

/**
 * Writes a Modelfile: `FROM`, `ADAPTER`, `TEMPLATE`, `PARAMETER stop` lines, the other `PARAMETER`s, `SYSTEM`,
 * `MESSAGE`s, `LICENSE`s — each value bare, `"…"` or `"""…"""` so that Ollama's parser reads it back unchanged.
 *
 * @param modelfile What to write.
 * @returns The Modelfile's text.
 * @throws {Error} Naming the field: an unknown or mistyped parameter, a value Ollama cannot read back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeModelfile } from "./modelfile.ts";
 * const text = writeModelfile({
 *   from: "./ince-tiny-q8_0.gguf",
 *   template: "{{ range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n",
 *   stop: ["<|im_end|>", "<|im_start|>"],
 *   parameters: { temperature: 0, num_ctx: 256 },
 *   system: "You are İnce.",
 * });
 * assert.equal(text.split("\n")[0], "FROM ./ince-tiny-q8_0.gguf");
 * assert.match(text, /^PARAMETER stop <\|im_end\|>$/m);
 * assert.match(text, /^SYSTEM "You are İnce."$/m);
 * ```
 */
export function writeModelfile(modelfile: Modelfile): string {
  const lines: string[] = [];
  if (!modelfile.from) throw new Error("writeModelfile: from is empty; give the GGUF file or a model name.");
  lines.push(`FROM ${_quote(modelfile.from, "from")}`);
  if (modelfile.adapter !== undefined) lines.push(`ADAPTER ${_quote(modelfile.adapter, "adapter")}`);
  if (modelfile.template !== undefined) lines.push(`TEMPLATE ${_quote(modelfile.template, "template")}`);
  (modelfile.stop ?? []).forEach((s, k) => lines.push(`PARAMETER stop ${_quote(s, `stop[${k}]`)}`));
  for (const [name, value] of Object.entries(modelfile.parameters ?? {})) {
    const type = OLLAMA_PARAMETERS[name];
    const field = `parameters.${name}`;
    if (name === "stop") throw new Error(`writeModelfile: ${field}: give stop strings as stop: [...]`);
    if (!type) {
      throw new Error(
        `writeModelfile: ${field} is not an Ollama parameter; use one of ${
          Object.keys(OLLAMA_PARAMETERS).join(", ")
        }.`,
      );
    }
    const ok = type === "bool"
      ? typeof value === "boolean"
      : typeof value === "number" && Number.isFinite(value) &&
        (type === "float" || Number.isInteger(value));
    if (!ok) {
      throw new Error(`writeModelfile: ${field} must be ${type === "int" ? "an integer" : `a ${type}`}.`);
    }
    lines.push(`PARAMETER ${name} ${value}`);
  }
  if (modelfile.system !== undefined) lines.push(`SYSTEM ${_quote(modelfile.system, "system")}`);
  (modelfile.messages ?? []).forEach((m, k) =>
    lines.push(`MESSAGE ${m.role} ${_quote(m.content, `messages[${k}].content`)}`)
  );
  (modelfile.license ?? []).forEach((l, k) => lines.push(`LICENSE ${_quote(l, `license[${k}]`)}`));
  for (const key of ["renderer", "parser", "requires"] as const) {
    if (modelfile[key] !== undefined) lines.push(`${key.toUpperCase()} ${_quote(modelfile[key], key)}`);
  }
  return lines.join("\n") + "\n";
}

interface _Command {
  name: string;
  args: string;
  line: number;
}

/** Ollama's Modelfile state machine (parser.ParseFile), with errors naming the line. */
function _commands(text: string, file: string): _Command[] {
  type State = "nil" | "name" | "value" | "parameter" | "message" | "comment";
  const fail = (line: number, message: string): never => {
    throw new Error(`${file} line ${line}: ${message}`);
  };
  const commands: _Command[] = [];
  let state: State = "nil";
  let buf = "";
  let cmd: _Command = { name: "", args: "", line: 1 };
  let role = "";
  let line = 1;
  const known = () => INSTRUCTIONS.map((i) => i.toUpperCase()).join(", ");
  for (const c of text.replace(/^\uFEFF/, "")) {
    const here = line;
    if (c === "\n") line++;
    let next: State = state;
    let kept = c; // what the character adds to the buffer; "" when a transition consumes it
    switch (state) {
      case "nil":
        if (c === "#") [next, kept] = ["comment", ""];
        else if (isSpace(c) || isNewline(c)) kept = "";
        else {
          next = "name";
          cmd = { name: "", args: "", line: here };
        }
        break;
      case "name":
        if (isSpace(c)) [next, kept] = ["value", ""];
        else if (!isAlpha(c)) {
          if (INSTRUCTIONS.includes(buf.toLowerCase()) && isNewline(c)) {
            fail(here, `${buf.toUpperCase()} needs a value on the same line`);
          }
          fail(
            here,
            `unknown instruction ${JSON.stringify(buf + (isNewline(c) ? "" : c))}; Ollama's are ${known()}`,
          );
        }
        break;
      case "value":
        if (isSpace(c) || isNewline(c)) next = "nil";
        break;
      case "parameter":
        if (isSpace(c)) [next, kept] = ["value", ""];
        else if (!/^[A-Za-z0-9_]$/.test(c)) {
          fail(
            here,
            `PARAMETER needs a name and a value (e.g. PARAMETER temperature 0), not ${
              JSON.stringify(buf + c)
            }`,
          );
        }
        break;
      case "message":
        if (isSpace(c)) [next, kept] = ["value", ""];
        else if (!isAlpha(c)) fail(here, "MESSAGE needs a role and a text (e.g. MESSAGE user Hello)");
        break;
      case "comment":
        if (isNewline(c)) next = "nil";
        kept = "";
        break;
    }
    if (next !== state) {
      if (state === "name") {
        const s = buf.toLowerCase();
        if (!INSTRUCTIONS.includes(s)) {
          fail(here, `unknown instruction ${JSON.stringify(buf)}; Ollama's are ${known()}`);
        }
        cmd.name = s === "from" ? "model" : s;
        if (s === "parameter" || s === "message") next = s;
      } else if (state === "parameter") cmd.name = buf;
      else if (state === "message") {
        if (!["system", "user", "assistant"].includes(buf)) {
          fail(here, `MESSAGE role must be system, user or assistant, not ${JSON.stringify(buf)}`);
        }
        role = buf;
      } else if (state === "value") {
        const value = _unquote(buf.trim());
        if (value === null || isSpace(c)) {
          buf += c; // still inside a quoted value, or a space inside a bare one
          continue;
        }
        cmd.args = role ? `${role}: ${value}` : value;
        role = "";
        commands.push(cmd);
      }
      buf = "";
      state = next;
    }
    if (kept && PRINTABLE.test(kept)) buf += kept;
  }
  if (state === "value") {
    const value = _unquote(buf.trim());
    if (value === null) {
      const quote = buf.trim().startsWith('"""') ? '"""' : '"';
      return fail(
        cmd.line,
        `the ${quote} string of this ${cmd.name.toUpperCase()} is never closed; close it`,
      );
    }
    cmd.args = role ? `${role}: ${value}` : value;
    commands.push(cmd);
  } else if (state !== "nil" && state !== "comment") {
    fail(cmd.line, `${buf ? JSON.stringify(buf) : "this instruction"} needs a value`);
  }
  return commands;
}

function _parameter(cmd: _Command, file: string): number | boolean {
  const fail = (message: string): never => {
    throw new Error(`${file} line ${cmd.line}: ${message}`);
  };
  if (DEPRECATED.includes(cmd.name)) {
    fail(`PARAMETER ${cmd.name} is deprecated (Ollama ignores it); remove it`);
  }
  const type = OLLAMA_PARAMETERS[cmd.name];
  if (!type) {
    fail(`unknown PARAMETER ${cmd.name}; Ollama's are stop, ${Object.keys(OLLAMA_PARAMETERS).join(", ")}`);
  }
  const v = cmd.args;
  if (type === "int" && /^[+-]?\d+$/.test(v)) return Number(v);
  if (type === "float" && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) return Number(v);
  if (type === "bool" && /^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(v)) {
    return /^(1|t|T|TRUE|true|True)$/.test(v);
  }
  return fail(
    `PARAMETER ${cmd.name} must be ${type === "int" ? "an integer" : `a ${type}`}, not ${JSON.stringify(v)}`,
  );
}

/**
 * Reads a Modelfile (Ollama's syntax) into its structure; the inverse of {@linkcode writeModelfile}.
 *
 * @param text The Modelfile's text.
 * @param options The file's name for errors.
 * @returns The structure: `stop` collects the `PARAMETER stop` lines; other parameters are typed (int, float,
 * bool) as Ollama types them.
 * @throws {Error} `<file> line N: <what is wrong>; …` for an unknown instruction or parameter, a bad value, an
 * unclosed quote, a repeated FROM/TEMPLATE/SYSTEM; `<file>: no FROM line …` when there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseModelfile } from "./modelfile.ts";
 * const m = parseModelfile('# tuned\nfrom ./m.gguf\nTEMPLATE """{{ .Prompt }}\n"""\nPARAMETER stop "</s>"\nPARAMETER stop User:\nPARAMETER temperature 0.2\n');
 * assert.deepEqual(m, { from: "./m.gguf", template: "{{ .Prompt }}\n", stop: ["</s>", "User:"], parameters: { temperature: 0.2 } });
 * assert.throws(() => parseModelfile("FROM ./m.gguf\nPARAMETR stop x\n"), /Modelfile line 2: unknown instruction "PARAMETR"/);
 * ```
 */
export function parseModelfile(text: string, options: ParseModelfileOptions = {}): Modelfile {
  const file = options.file ?? "Modelfile";
  const out: Partial<Modelfile> = {};
  const seen = new Map<string, number>();
  for (const cmd of _commands(text, file)) {
    const single = ["model", "template", "system", "adapter", "renderer", "parser", "requires"];
    if (single.includes(cmd.name)) {
      const instruction = cmd.name === "model" ? "FROM" : cmd.name.toUpperCase();
      if (seen.has(cmd.name)) {
        throw new Error(
          `${file} line ${cmd.line}: a second ${instruction} (line ${
            seen.get(cmd.name)
          } has one; Ollama would keep ` +
            "only the last); remove one.",
        );
      }
      seen.set(cmd.name, cmd.line);
    }
    switch (cmd.name) {
      case "model":
        out.from = cmd.args;
        break;
      case "template":
      case "system":
      case "adapter":
      case "renderer":
      case "parser":
      case "requires":
        out[cmd.name] = cmd.args;
        break;
      case "license":
        (out.license ??= []).push(cmd.args);
        break;
      case "message": {
        const at = cmd.args.indexOf(": ");
        (out.messages ??= []).push({
          role: cmd.args.slice(0, at) as Message["role"],
          content: cmd.args.slice(at + 2),
        });
        break;
      }
      case "stop":
        (out.stop ??= []).push(cmd.args);
        break;
      default:
        (out.parameters ??= {})[cmd.name] = _parameter(cmd, file);
    }
  }
  if (out.from === undefined) {
    throw new Error(`${file}: no FROM line; add one naming the GGUF file, e.g. FROM ./model.gguf`);
  }
  const { from, ...rest } = out;
  return { from, ...rest };
}
