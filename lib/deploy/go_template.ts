/**
 * The part of Go's `text/template` that Ollama's chat templates use, parsed and rendered in TypeScript, so a
 * Modelfile's TEMPLATE can be checked (and an exercise graded) without Go or Ollama.
 *
 * Supported, with Go's semantics: text; `{{ pipeline }}`; trim markers `{{- ` and ` -}}`; comments
 * `{{/* … *\/}}`; fields `.A.B`, the dot `.`, variables `$`, `$.A`, `$x`, `$x.A`; declarations and assignments
 * `{{ $x := … }}` / `{{ $x = … }}`; `if` / `else if` / `else` / `end`; `range` (with `$i, $v :=`, `else`,
 * `break`, `continue`);
 * `with` / `else`; pipes `a | f`; parentheses; string (`"…"`, `` `…` ``), number, `true` / `false` / `nil`
 * literals; the functions `eq ne lt le gt ge and or not len index slice` and `printf` with `%s %v %d %q %%` (Go's
 * built-ins) and `json` (Ollama's). Anything else (`template`, `define`, `block`, method calls …) is refused with a one-line
 * error giving the line and column, as is a field the data does not have (Go would print `<no value>` for a
 * missing map key; for checking a TEMPLATE an error is more useful).
 *
 * @module
 */

/** Where something is in the template text (1-based). */
export interface GoTemplatePosition {
  line: number;
  column: number;
}

/** An operand or a call inside an action. */
export type GoExpr =
  | { kind: "field"; path: string[]; pos: GoTemplatePosition }
  | { kind: "var"; name: string; path: string[]; pos: GoTemplatePosition }
  | { kind: "literal"; value: string | number | boolean | null; pos: GoTemplatePosition }
  | { kind: "call"; name: string; args: GoExpr[]; pos: GoTemplatePosition }
  | { kind: "paren"; pipe: GoPipeline; pos: GoTemplatePosition };

/** `$x := cmd | cmd …`: optional variables, then commands whose value feeds the next one's last argument. */
export interface GoPipeline {
  decl: string[];
  /** `=` (assign existing variables) rather than `:=` (declare). */
  assign: boolean;
  cmds: GoExpr[];
  pos: GoTemplatePosition;
}

/** A node of the parsed template. */
export type GoNode =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: GoPipeline }
  | { kind: "if"; branches: { cond: GoPipeline; body: GoNode[] }[]; otherwise?: GoNode[] }
  | { kind: "range"; pipe: GoPipeline; body: GoNode[]; otherwise?: GoNode[] }
  | { kind: "with"; pipe: GoPipeline; body: GoNode[]; otherwise?: GoNode[] }
  | { kind: "break" }
  | { kind: "continue" };

/** A parsed template. */
export interface GoTemplate {
  /** The source text. */
  source: string;
  /** Its nodes. */
  nodes: GoNode[];
  /** The name used in error messages (default `"Go template"`). */
  name: string;
}

/** Options of {@linkcode parseGoTemplate}. */
export interface GoTemplateOptions {
  /** The name used in error messages, e.g. `"Modelfile TEMPLATE"` (default `"Go template"`). */
  name?: string;
}

const FUNCTIONS = new Set([
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
  "and",
  "or",
  "not",
  "len",
  "index",
  "slice",
  "printf",
  "json",
]);
const UNSUPPORTED_KEYWORDS = new Set(["template", "define", "block"]);
const SPACE = /[ \t\r\n]/;

type Token =
  | { t: "field"; path: string[]; at: number }
  | { t: "var"; name: string; path: string[]; at: number }
  | { t: "ident"; name: string; at: number }
  | { t: "literal"; value: string | number | boolean | null; at: number }
  | { t: "sym"; sym: "(" | ")" | "|" | "," | ":=" | "="; at: number };

class _Source {
  readonly lineStarts: number[] = [0];
  constructor(readonly text: string, readonly name: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.lineStarts.push(i + 1);
  }
  pos(offset: number): GoTemplatePosition {
    let lo = 0, hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo] + 1 };
  }
  fail(offset: number, message: string): never {
    throw _error(this.name, this.pos(offset), message);
  }
}

function _error(name: string, pos: GoTemplatePosition, message: string): Error {
  return new Error(`${name} line ${pos.line}, column ${pos.column}: ${message}`);
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[+-]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/y;

function _goString(src: _Source, body: string, at: number): string {
  const simple: Record<string, string> = {
    n: "\n",
    t: "\t",
    r: "\r",
    a: "\x07",
    b: "\b",
    f: "\f",
    v: "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
  };
  let out = "";
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== "\\") {
      out += body[i];
      continue;
    }
    const c = body[++i];
    if (c in simple) out += simple[c];
    else if (c === "x" || c === "u" || c === "U") {
      const n = c === "x" ? 2 : c === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) {
        src.fail(at, `bad escape \\${c}${hex} in a string`);
      }
      out += c === "x" ? String.fromCharCode(parseInt(hex, 16)) : String.fromCodePoint(parseInt(hex, 16));
      i += n;
    } else if (/[0-7]/.test(c)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) src.fail(at, `bad octal escape \\${oct} in a string`);
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else src.fail(at, `unknown escape \\${c} in a string`);
  }
  return out;
}

/** The tokens of one action's body `text[from, to)`. */
function _tokens(src: _Source, from: number, to: number): Token[] {
  const text = src.text;
  const out: Token[] = [];
  const chain = (i: number): [string[], number] => {
    const path: string[] = [];
    while (text[i] === "." && i < to) {
      IDENT.lastIndex = i + 1;
      const m = IDENT.exec(text);
      if (!m || m.index + m[0].length > to) break;
      path.push(m[0]);
      i = m.index + m[0].length;
    }
    return [path, i];
  };
  let i = from;
  while (i < to) {
    const c = text[i];
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === "." && !/[0-9]/.test(text[i + 1] ?? "")) {
      const [path, next] = chain(i);
      if (path.length === 0) i++; // the dot itself
      else i = next;
      out.push({ t: "field", path, at });
    } else if (c === "$") {
      IDENT.lastIndex = i + 1;
      const m = IDENT.exec(text);
      const name = m && m.index === i + 1 && m.index + m[0].length <= to ? "$" + m[0] : "$";
      const [path, next] = chain(i + name.length);
      out.push({ t: "var", name, path, at });
      i = next;
    } else if (c === '"') {
      let j = i + 1;
      while (j < to && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (j >= to || text[j] !== '"') src.fail(at, "unterminated string; close it with a double quote");
      out.push({ t: "literal", value: _goString(src, text.slice(i + 1, j), at), at });
      i = j + 1;
    } else if (c === "`") {
      const j = text.indexOf("`", i + 1);
      if (j < 0 || j >= to) src.fail(at, "unterminated raw string; close it with a back quote");
      out.push({ t: "literal", value: text.slice(i + 1, j), at });
      i = j + 1;
    } else if (c === "'") {
      src.fail(at, "character constants ('x') are not supported; use a string");
    } else if (/[0-9+\-.]/.test(c)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m || m.index + m[0].length > to) src.fail(at, `unexpected ${JSON.stringify(c)}`);
      const value = Number(m[0].replaceAll("_", ""));
      if (Number.isNaN(value)) src.fail(at, `bad number ${m[0]}`);
      out.push({ t: "literal", value, at });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      IDENT.lastIndex = i;
      const name = IDENT.exec(text)![0];
      i += name.length;
      if (name === "true" || name === "false") out.push({ t: "literal", value: name === "true", at });
      else if (name === "nil") out.push({ t: "literal", value: null, at });
      else out.push({ t: "ident", name, at });
      if (text[i] === "." && /[A-Za-z_]/.test(text[i + 1] ?? "")) {
        src.fail(i, `method or field calls on ${name} are not supported`);
      }
    } else if (c === ":" && text[i + 1] === "=") {
      out.push({ t: "sym", sym: ":=", at });
      i += 2;
    } else if (c === "(" || c === ")" || c === "|" || c === "," || c === "=") {
      out.push({ t: "sym", sym: c, at });
      i++;
    } else {
      src.fail(at, `unexpected ${JSON.stringify(c)} in an action`);
    }
  }
  return out;
}

class _PipeParser {
  i = 0;
  constructor(readonly src: _Source, readonly toks: Token[], readonly end: number) {}

  peek(): Token | undefined {
    return this.toks[this.i];
  }
  at(): number {
    return this.peek()?.at ?? this.end;
  }

  /** The variable name of token k when it is a bare variable (`$x`, not `$x.A`). */
  varName(k: number): string | null {
    const tok = this.toks[k];
    return tok?.t === "var" && tok.path.length === 0 ? tok.name : null;
  }
  sym(k: number): string | null {
    const tok = this.toks[k];
    return tok?.t === "sym" ? tok.sym : null;
  }

  pipeline(allowDecl: "none" | "one" | "two"): GoPipeline {
    const start = this.at();
    const pos = this.src.pos(start);
    const isSet = (k: number) => this.sym(k) === ":=" || this.sym(k) === "=";
    const [first, second] = [this.varName(this.i), this.varName(this.i + 2)];
    let decl: string[] = [];
    let assign = false;
    if (first && isSet(this.i + 1)) {
      [decl, assign] = [[first], this.sym(this.i + 1) === "="];
      this.i += 2;
    } else if (first && this.sym(this.i + 1) === "," && second && isSet(this.i + 3)) {
      if (allowDecl !== "two") this.src.fail(start, "two variables can only be declared in a range");
      [decl, assign] = [[first, second], this.sym(this.i + 3) === "="];
      this.i += 4;
    }
    if (decl.length > 0 && allowDecl === "none") this.src.fail(start, "a variable cannot be declared here");
    const cmds: GoExpr[] = [this.command()];
    while (this.sym(this.i) === "|") {
      this.i++;
      cmds.push(this.command());
    }
    return { decl, assign, cmds, pos };
  }

  /** Whether the command goes on (the next token is not `|`, `)` or the end). */
  more(): boolean {
    return this.i < this.toks.length && this.sym(this.i) !== "|" && this.sym(this.i) !== ")";
  }

  command(): GoExpr {
    const first = this.peek();
    if (!first || (first.t === "sym" && first.sym !== "(")) {
      this.src.fail(this.at(), "missing value in a command");
    }
    if (first.t === "ident") {
      this.i++;
      const args: GoExpr[] = [];
      while (this.more()) args.push(this.operand());
      return this.call(first.name, args, first.at);
    }
    const value = this.operand();
    if (this.more()) this.src.fail(this.at(), "an argument after a value that is not a function");
    return value;
  }

  call(name: string, args: GoExpr[], at: number): GoExpr {
    if (UNSUPPORTED_KEYWORDS.has(name) || ["if", "else", "end", "range", "with"].includes(name)) {
      this.src.fail(at, `unexpected keyword ${name}`);
    }
    if (!FUNCTIONS.has(name)) {
      this.src.fail(
        at,
        `function ${JSON.stringify(name)} is not supported (supported: ${[...FUNCTIONS].join(", ")})`,
      );
    }
    return { kind: "call", name, args, pos: this.src.pos(at) };
  }

  operand(): GoExpr {
    const tok = this.peek();
    if (!tok) this.src.fail(this.end, "missing value");
    this.i++;
    const pos = this.src.pos(tok.at);
    switch (tok.t) {
      case "field":
        return { kind: "field", path: tok.path, pos };
      case "var":
        return { kind: "var", name: tok.name, path: tok.path, pos };
      case "literal":
        return { kind: "literal", value: tok.value, pos };
      case "ident":
        return this.call(tok.name, [], tok.at); // a function without arguments
      case "sym": {
        if (tok.sym !== "(") this.src.fail(tok.at, `unexpected ${JSON.stringify(tok.sym)}`);
        const pipe = this.pipeline("none");
        const close = this.peek();
        if (!close || close.t !== "sym" || close.sym !== ")") {
          this.src.fail(this.at(), "unclosed parenthesis");
        }
        this.i++;
        const after = this.peek();
        if (after && after.t === "field" && after.at === close.at + 1) {
          this.src.fail(after.at, "fields of a parenthesized value ((x).Field) are not supported");
        }
        return { kind: "paren", pipe, pos };
      }
    }
  }

  done(): void {
    if (this.i < this.toks.length) {
      this.src.fail(this.toks[this.i].at, "unexpected extra words in the action");
    }
  }
}

type _Frame =
  | { kind: "root"; nodes: GoNode[] }
  | { kind: "if"; node: Extract<GoNode, { kind: "if" }>; nodes: GoNode[]; at: number; elseSeen: boolean }
  | {
    kind: "range" | "with";
    node: Extract<GoNode, { kind: "range" | "with" }>;
    nodes: GoNode[];
    at: number;
    elseSeen: boolean;
  };

/**
 * Parses a Go template (the subset described in this module's documentation).
 *
 * @param source The template text, e.g. a Modelfile's TEMPLATE.
 * @param options The name used in error messages.
 * @returns The parsed template.
 * @throws {Error} `<name> line L, column C: <what is wrong>` for syntax outside the subset or a malformed action.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGoTemplate } from "./go_template.ts";
 * assert.equal(parseGoTemplate("{{ range .Messages }}{{ .Content }}{{ end }}").nodes[0].kind, "range");
 * assert.throws(() => parseGoTemplate("hi\n{{ template \"x\" }}"), /line 2, column 4: unexpected keyword template/);
 * ```
 */
export function parseGoTemplate(source: string, options: GoTemplateOptions = {}): GoTemplate {
  const name = options.name ?? "Go template";
  const src = new _Source(source, name);
  const stack: _Frame[] = [{ kind: "root", nodes: [] }];
  const top = () => stack[stack.length - 1];
  let i = 0;
  let trimNextText = false;
  const pushText = (text: string) => {
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, "");
    trimNextText = false;
    if (text) top().nodes.push({ kind: "text", text });
  };
  while (i < source.length) {
    const open = source.indexOf("{{", i);
    if (open < 0) {
      pushText(source.slice(i));
      break;
    }
    let bodyStart = open + 2;
    let text = source.slice(i, open);
    if (source[bodyStart] === "-" && SPACE.test(source[bodyStart + 1] ?? "")) {
      text = text.replace(/[ \t\r\n]+$/, "");
      bodyStart += 2;
    }
    pushText(text);
    // A comment: {{/* … */}} or {{- /* … */ -}}.
    let j = bodyStart;
    while (j < source.length && SPACE.test(source[j])) j++;
    if (source.startsWith("/*", j)) {
      const endComment = source.indexOf("*/", j + 2);
      if (endComment < 0) src.fail(j, "unclosed comment; end it with */}}");
      const k = endComment + 2;
      if (SPACE.test(source[k] ?? "") && source.startsWith("-}}", k + 1)) {
        trimNextText = true;
        i = k + 4;
      } else if (source.startsWith("}}", k)) i = k + 2;
      else src.fail(k, "a comment must end right before the closing }}");
      continue;
    }
    // The closing delimiter, skipping string literals (which may contain "}}").
    while (j < source.length && !source.startsWith("}}", j)) {
      if (source[j] === '"') {
        j++;
        while (j < source.length && source[j] !== '"' && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
      } else if (source[j] === "`") {
        const k = source.indexOf("`", j + 1);
        j = k < 0 ? source.length : k;
      }
      j++;
    }
    if (!source.startsWith("}}", j)) src.fail(open, "unclosed action; end it with }}");
    let bodyEnd = j;
    if (source[j - 1] === "-" && SPACE.test(source[j - 2] ?? "") && j - 2 >= bodyStart) {
      bodyEnd = j - 2;
      trimNextText = true;
    }
    i = j + 2;
    _action(src, _tokens(src, bodyStart, bodyEnd), bodyEnd, open, stack);
  }
  if (stack.length > 1) {
    const f = top() as Exclude<_Frame, { kind: "root" }>;
    src.fail(f.at, `this ${f.kind} has no {{ end }}`);
  }
  return { source, nodes: stack[0].nodes, name };
}

function _action(src: _Source, toks: Token[], end: number, open: number, stack: _Frame[]): void {
  const top = stack[stack.length - 1];
  if (toks.length === 0) src.fail(open, "empty action {{ }}");
  const first = toks[0];
  const keyword = first.t === "ident" ? first.name : "";
  const p = new _PipeParser(src, toks, end);
  if (UNSUPPORTED_KEYWORDS.has(keyword)) src.fail(first.at, `unexpected keyword ${keyword}`);
  if (keyword === "if" || keyword === "range" || keyword === "with") {
    p.i = 1;
    const pipe = p.pipeline(keyword === "range" ? "two" : "one");
    p.done();
    if (keyword === "if") {
      const node: Extract<GoNode, { kind: "if" }> = { kind: "if", branches: [{ cond: pipe, body: [] }] };
      top.nodes.push(node);
      stack.push({ kind: "if", node, nodes: node.branches[0].body, at: first.at, elseSeen: false });
    } else {
      const node: Extract<GoNode, { kind: "range" | "with" }> = { kind: keyword, pipe, body: [] };
      top.nodes.push(node);
      stack.push({ kind: keyword, node, nodes: node.body, at: first.at, elseSeen: false });
    }
    return;
  }
  if (keyword === "else") {
    if (top.kind === "root") src.fail(first.at, "{{ else }} outside an if, range or with");
    if (top.elseSeen) src.fail(first.at, `a second {{ else }} in this ${top.kind}`);
    if (toks.length > 1) {
      const next = toks[1];
      if (!(next.t === "ident" && next.name === "if" && top.kind === "if")) {
        src.fail(next.at, `only {{ else if … }} is supported after else in an ${top.kind}`);
      }
      p.i = 2;
      const cond = p.pipeline("one");
      p.done();
      const branch = { cond, body: [] as GoNode[] };
      top.node.branches.push(branch);
      top.nodes = branch.body;
      return;
    }
    top.elseSeen = true;
    const otherwise: GoNode[] = [];
    top.node.otherwise = otherwise;
    top.nodes = otherwise;
    return;
  }
  if (keyword === "break" || keyword === "continue") {
    if (toks.length > 1) src.fail(toks[1].at, `unexpected words after ${keyword}`);
    if (!stack.some((f) => f.kind === "range")) src.fail(first.at, `{{ ${keyword} }} outside a range`);
    top.nodes.push({ kind: keyword });
    return;
  }
  if (keyword === "end") {
    if (toks.length > 1) src.fail(toks[1].at, "unexpected words after end");
    if (top.kind === "root") src.fail(first.at, "{{ end }} without an if, range or with");
    stack.pop();
    return;
  }
  const pipe = p.pipeline("one");
  p.done();
  top.nodes.push({ kind: "action", pipe });
}

/** Go's notion of an empty value (false in `if`, `and`, `or`, `not`). */
function _truth(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

/** How Go's fmt prints a value (`%v`), for the shapes JSON data has. */
function _print(v: unknown): string {
  if (v === null || v === undefined) return "<no value>";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(_print).join(" ")}]`;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${_print(o[k])}`).join(" ")}]`;
  }
  return String(v);
}

/** Go's encoding/json output: HTML-sensitive characters escaped. */
function _json(v: unknown): string {
  return (JSON.stringify(v ?? null) ?? "null").replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** `{{ break }}` / `{{ continue }}` on its way to the enclosing range. */
class _LoopJump {
  constructor(readonly kind: "break" | "continue") {}
}

class _Exec {
  out = "";
  vars: { name: string; value: unknown }[];
  constructor(readonly name: string, readonly root: unknown) {
    this.vars = [{ name: "$", value: root }];
  }

  fail(pos: GoTemplatePosition, message: string): never {
    throw _error(this.name, pos, message);
  }

  lookup(name: string, pos: GoTemplatePosition): number {
    for (let k = this.vars.length - 1; k >= 0; k--) if (this.vars[k].name === name) return k;
    this.fail(pos, `undefined variable ${name}`);
  }

  fields(value: unknown, path: string[], pos: GoTemplatePosition, what: string): unknown {
    for (const key of path) {
      if (value === null || typeof value !== "object" || Array.isArray(value) || !(key in value)) {
        const has = value && typeof value === "object" && !Array.isArray(value)
          ? ` (it has: ${Object.keys(value).join(", ") || "nothing"})`
          : ` (it is ${
            value === null || value === undefined ? "nil" : Array.isArray(value) ? "a list" : typeof value
          })`;
        this.fail(pos, `no field ${key} in ${what}${has}`);
      }
      value = (value as Record<string, unknown>)[key];
      what = `${what}.${key}`.replace(/^\.\./, ".");
    }
    return value;
  }

  nodes(nodes: GoNode[], dot: unknown): void {
    for (const node of nodes) this.node(node, dot);
  }

  scoped(body: GoNode[], dot: unknown): void {
    const mark = this.vars.length;
    this.nodes(body, dot);
    this.vars.length = mark;
  }

  node(node: GoNode, dot: unknown): void {
    switch (node.kind) {
      case "text":
        this.out += node.text;
        return;
      case "action": {
        const value = this.pipeline(node.pipe, dot);
        if (node.pipe.decl.length === 0) this.out += _print(value);
        return;
      }
      case "if": {
        for (const branch of node.branches) {
          const mark = this.vars.length;
          if (_truth(this.pipeline(branch.cond, dot))) {
            this.nodes(branch.body, dot);
            this.vars.length = mark;
            return;
          }
          this.vars.length = mark;
        }
        if (node.otherwise) this.scoped(node.otherwise, dot);
        return;
      }
      case "with": {
        const mark = this.vars.length;
        const value = this.pipeline(node.pipe, dot);
        if (_truth(value)) this.nodes(node.body, value);
        else if (node.otherwise) this.nodes(node.otherwise, dot);
        this.vars.length = mark;
        return;
      }
      case "range":
        this.range(node, dot);
        return;
      case "break":
      case "continue":
        throw new _LoopJump(node.kind);
    }
  }

  range(node: Extract<GoNode, { kind: "range" }>, dot: unknown): void {
    const { decl } = node.pipe;
    const value = this.pipeline({ ...node.pipe, decl: [] }, dot);
    let items: [unknown, unknown][];
    if (value === null || value === undefined) items = [];
    else if (Array.isArray(value)) items = value.map((v, k) => [k, v]);
    else if (typeof value === "object") {
      const o = value as Record<string, unknown>;
      items = Object.keys(o).sort().map((k) => [k, o[k]]);
    } else if (typeof value === "number" && Number.isInteger(value)) {
      items = Array.from({ length: Math.max(0, value) }, (_, k) => [k, k]);
    } else this.fail(node.pipe.pos, `range can't iterate over ${_print(value)}`);
    if (items.length === 0) {
      if (node.otherwise) this.scoped(node.otherwise, dot);
      return;
    }
    for (const [key, elem] of items) {
      const mark = this.vars.length;
      if (decl.length === 1) this.vars.push({ name: decl[0], value: elem });
      if (decl.length === 2) this.vars.push({ name: decl[0], value: key }, { name: decl[1], value: elem });
      try {
        this.nodes(node.body, elem);
      } catch (e) {
        if (!(e instanceof _LoopJump)) throw e;
        if (e.kind === "break") {
          this.vars.length = mark;
          break;
        }
      }
      this.vars.length = mark;
    }
  }

  pipeline(pipe: GoPipeline, dot: unknown): unknown {
    let value: unknown = undefined;
    pipe.cmds.forEach((cmd, k) => {
      value = k === 0 ? this.expr(cmd, dot) : this.expr(cmd, dot, { piped: value });
    });
    if (pipe.decl.length === 1) {
      if (pipe.assign) this.vars[this.lookup(pipe.decl[0], pipe.pos)].value = value;
      else this.vars.push({ name: pipe.decl[0], value });
    }
    return value;
  }

  expr(e: GoExpr, dot: unknown, pipeIn?: { piped: unknown }): unknown {
    if (pipeIn && e.kind !== "call") {
      this.fail(e.pos, "a value cannot take a piped argument; pipe into a function");
    }
    switch (e.kind) {
      case "literal":
        return e.value;
      case "field":
        return this.fields(dot, e.path, e.pos, ".");
      case "var":
        return this.fields(this.vars[this.lookup(e.name, e.pos)].value, e.path, e.pos, e.name);
      case "paren":
        return this.pipeline(e.pipe, dot);
      case "call": {
        const args = e.args;
        if (e.name === "and" || e.name === "or") {
          const all = args.map((a) => () => this.expr(a, dot));
          if (pipeIn) all.push(() => pipeIn.piped);
          if (all.length === 0) this.fail(e.pos, `${e.name} needs at least one argument`);
          let v: unknown;
          for (const get of all) {
            v = get();
            if (_truth(v) === (e.name === "or")) return v;
          }
          return v;
        }
        const vals = args.map((a) => this.expr(a, dot));
        if (pipeIn) vals.push(pipeIn.piped);
        return this.call(e.name, vals, e.pos);
      }
    }
  }

  call(name: string, vals: unknown[], pos: GoTemplatePosition): unknown {
    const need = (n: number) => {
      if (vals.length !== n) {
        this.fail(pos, `${name} takes ${n} argument${n === 1 ? "" : "s"}, got ${vals.length}`);
      }
    };
    const basic = (v: unknown) =>
      v === null
        ? "nil"
        : typeof v === "string" || typeof v === "number" || typeof v === "boolean"
        ? typeof v
        : "";
    const compare = (a: unknown, b: unknown): number => {
      const ta = basic(a), tb = basic(b);
      if (!ta || !tb) this.fail(pos, `${name}: can only compare strings, numbers, booleans and nil`);
      if (ta !== tb) this.fail(pos, `${name}: incompatible types for comparison (${ta} and ${tb})`);
      return a === b ? 0 : (a as number) < (b as number) ? -1 : 1;
    };
    switch (name) {
      case "eq":
        if (vals.length < 2) this.fail(pos, "eq takes at least 2 arguments");
        return vals.slice(1).some((b) => compare(vals[0], b) === 0);
      case "ne":
        need(2);
        return compare(vals[0], vals[1]) !== 0;
      case "lt":
      case "le":
      case "gt":
      case "ge": {
        need(2);
        if (basic(vals[0]) === "boolean" || vals[0] === null) {
          this.fail(pos, `${name}: invalid type for comparison`);
        }
        const c = compare(vals[0], vals[1]);
        return name === "lt" ? c < 0 : name === "le" ? c <= 0 : name === "gt" ? c > 0 : c >= 0;
      }
      case "not":
        need(1);
        return !_truth(vals[0]);
      case "len": {
        need(1);
        const v = vals[0];
        if (typeof v === "string") return new TextEncoder().encode(v).length; // Go counts bytes
        if (Array.isArray(v)) return v.length;
        if (v && typeof v === "object") return Object.keys(v).length;
        this.fail(pos, `len of ${_print(v)}`);
        break;
      }
      case "index": {
        if (vals.length < 1) this.fail(pos, "index takes at least 1 argument");
        let v = vals[0];
        for (const k of vals.slice(1)) {
          if (Array.isArray(v) && typeof k === "number") {
            if (k < 0 || k >= v.length) this.fail(pos, `index out of range: ${k}`);
            v = v[k];
          } else if (v && typeof v === "object" && !Array.isArray(v) && typeof k === "string") {
            v = (v as Record<string, unknown>)[k] ?? null;
          } else this.fail(pos, `can't index ${_print(v)} with ${_print(k)}`);
        }
        return v;
      }
      case "slice": {
        if (vals.length < 1 || vals.length > 3) this.fail(pos, "slice takes 1 to 3 arguments");
        const [v, ...ks] = vals;
        if (ks.some((k) => typeof k !== "number" || !Number.isInteger(k))) {
          this.fail(pos, "slice indexes must be integers");
        }
        const seq = typeof v === "string" ? new TextEncoder().encode(v) : Array.isArray(v) ? v : null;
        if (!seq) this.fail(pos, `can't slice ${_print(v)}`);
        const [from = 0, to = seq.length] = ks as number[];
        if (from < 0 || to < from || to > seq.length) {
          this.fail(pos, `slice index out of range: ${from}:${to}`);
        }
        const part = seq.slice(from, to);
        return part instanceof Uint8Array ? new TextDecoder().decode(part) : part;
      }
      case "printf": {
        if (typeof vals[0] !== "string") this.fail(pos, "printf needs a format string first");
        let k = 1;
        const out = vals[0].replace(/%([%svdq])/g, (_, verb: string) => {
          if (verb === "%") return "%";
          if (k >= vals.length) return `%!${verb}(MISSING)`;
          const v = vals[k++];
          return verb === "q" ? JSON.stringify(String(v)) : _print(v);
        });
        if (/%[^%svdq]/.test(vals[0].replace(/%%/g, ""))) {
          this.fail(pos, "printf supports only %s, %v, %d, %q and %%");
        }
        return out;
      }
      case "json":
        need(1);
        return _json(vals[0]);
    }
    this.fail(pos, `function ${name} is not supported`);
  }
}

/**
 * Renders a Go template with data, as Go's `text/template` `Execute` does (for the supported subset).
 *
 * @param template The template text, or a template from {@linkcode parseGoTemplate}.
 * @param data The value of the dot at the start (and of `$`): plain JSON-like values.
 * @param options The name used in error messages (when `template` is text).
 * @returns The rendered text.
 * @throws {Error} `<name> line L, column C: …` for unsupported syntax, a missing field, or a bad comparison.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderGoTemplate } from "./go_template.ts";
 * const t = '{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}\n{{- if eq .Role "user" }}!{{ end }}\n{{ end }}';
 * const data = { Messages: [{ Role: "user", Content: "Hi" }, { Role: "assistant", Content: "Hello" }] };
 * assert.equal(renderGoTemplate(t, data), "<|user|>\nHi!\n<|assistant|>\nHello\n");
 * ```
 */
export function renderGoTemplate(
  template: string | GoTemplate,
  data: unknown,
  options: GoTemplateOptions = {},
): string {
  const parsed = typeof template === "string" ? parseGoTemplate(template, options) : template;
  const exec = new _Exec(parsed.name, data);
  exec.nodes(parsed.nodes, data);
  return exec.out;
}

/**
 * The identifiers a template refers to, lower-cased and sorted: each field name of `.A.B`, each variable
 * with its fields (`$`, `messages` for `$.Messages`), as Ollama's `Template.Vars()` lists them (it uses this to
 * decide whether a TEMPLATE is a `.Messages` template or a legacy `.Prompt`/`.Response` one).
 *
 * @param template A parsed template.
 * @returns The identifiers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { goTemplateIdentifiers, parseGoTemplate } from "./go_template.ts";
 * const t = parseGoTemplate("{{ if .System }}{{ .System }}{{ end }}{{ range $m := $.Messages }}{{ $m.Role }}{{ end }}");
 * assert.deepEqual(goTemplateIdentifiers(t), ["$", "$m", "messages", "role", "system"]);
 * ```
 */
export function goTemplateIdentifiers(template: GoTemplate): string[] {
  const names = new Set<string>();
  const expr = (e: GoExpr): void => {
    if (e.kind === "field") e.path.forEach((p) => names.add(p.toLowerCase()));
    else if (e.kind === "var") [e.name, ...e.path].forEach((p) => names.add(p.toLowerCase()));
    else if (e.kind === "call") e.args.forEach(expr);
    else if (e.kind === "paren") pipe(e.pipe);
  };
  const pipe = (p: GoPipeline) => p.cmds.forEach(expr);
  const walk = (nodes: GoNode[]): void => {
    for (const n of nodes) {
      if (n.kind === "action") pipe(n.pipe);
      else if (n.kind === "if") {
        n.branches.forEach((b) => (pipe(b.cond), walk(b.body)));
        walk(n.otherwise ?? []);
      } else if (n.kind === "range" || n.kind === "with") {
        pipe(n.pipe);
        walk(n.body);
        walk(n.otherwise ?? []);
      }
    }
  };
  walk(template.nodes);
  return [...names].sort();
}
