/**
 * A model's chat template for Ollama: Ollama does not run the Jinja template a Hugging Face model ships; its
 * Modelfile's TEMPLATE is a Go template over `.Messages`. {@linkcode ollamaTemplate} writes that TEMPLATE from
 * the model's own Jinja template, and {@linkcode renderOllamaTemplate} renders a TEMPLATE the way Ollama does
 * (its `template.Execute`, v0.17.4), so the two can be compared without Ollama.
 *
 * @module
 */
import type { Message } from "../data/load_dataset.ts";
import { type ChatTemplate, renderChat } from "./chat_template.ts";
import {
  type GoExpr,
  type GoNode,
  type GoPipeline,
  goTemplateIdentifiers,
  parseGoTemplate,
  renderGoTemplate,
} from "./go_template.ts";

/** An Ollama TEMPLATE and the stop strings that go with it. */
export interface OllamaTemplate {
  /** The Go template (Modelfile `TEMPLATE`). */
  template: string;
  /**
   * `PARAMETER stop` values: the end of an assistant turn, the end-of-sequence token, and the turn-start
   * marker(s) — as Ollama's own templates list them (e.g. chatml: `<|im_end|>`, `<|im_start|>`).
   */
  stop: string[];
}

type Role = Message["role"];
const ROLES: Role[] = ["system", "user", "assistant"];

/** The conversations a derived TEMPLATE must render exactly as the Jinja template does. */
const CHECKS: Role[][] = [
  ["user"],
  ["system", "user"],
  ["user", "assistant", "user"],
  ["system", "user", "assistant", "user", "assistant", "user"],
  ["user", "assistant"],
];

function _checkMessages(roles: Role[]): Message[] {
  const says: Record<Role, string> = {
    system: "You are İnce, a small model.\nBe brief.",
    user: "Write 47 in Turkish words.",
    assistant: "kırk yedi",
  };
  return roles.map((role, k) => ({ role, content: `${says[role]} (${k})` }));
}

/** Text for a Go template: a literal `{{` must be written as an action. */
function _goText(text: string): string {
  return text.split("{{").join('{{ "{{" }}');
}

/**
 * Derives an Ollama TEMPLATE (Go template syntax) and stop strings from a model's Jinja chat template.
 *
 * It renders the Jinja template with probe messages, reads each role's text before and after the content
 * (`<|im_start|>user\n` … `<|im_end|>\n`), the text before the first message and the generation prompt, and
 * writes a `range .Messages` template: one line per role, or `{{ .Role }}` when only the role name differs.
 * A leading `bos_token` is left out (llama.cpp and Ollama add it when the GGUF says so). The result is then
 * rendered (as Ollama does) for several conversations — with and without a system message, multi-turn — and
 * must equal the Jinja rendering, or the template is refused.
 *
 * @param chat From {@linkcode readChatTemplate}.
 * @returns The TEMPLATE and its stop strings.
 * @throws {Error} Naming the template's file when it is not of that per-message form (it merges the system
 * message into a user turn, rejects a role, adds a default system prompt, …): write TEMPLATE by hand then.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readChatTemplate } from "./chat_template.ts";
 * import { ollamaTemplate } from "./ollama_template.ts";
 * const { template, stop } = ollamaTemplate(readChatTemplate("data/models/ince-tiny"));
 * assert.equal(template, "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n");
 * assert.deepEqual(stop, ["<|im_end|>", "<|im_start|>"]);
 * ```
 */
export function ollamaTemplate(chat: ChatTemplate): OllamaTemplate {
  const refuse = (why: string): never => {
    throw new Error(
      `${chat.file}: the chat template is not of the per-message form an Ollama TEMPLATE can copy (${why}); ` +
        "write the Modelfile's TEMPLATE by hand in Ollama's Go template syntax.",
    );
  };
  const render = (roles: Role[], addGenerationPrompt: boolean, contents?: string[]): string => {
    const messages = roles.map((role, k) => ({ role, content: contents?.[k] ?? `ince-probe-${k}` }));
    let text: string;
    try {
      text = renderChat(chat, messages, { addGenerationPrompt });
    } catch (e) {
      return refuse(`rendering ${roles.join(", ")} failed: ${(e as Error).message.split("\n")[0]}`);
    }
    return chat.bosToken && text.startsWith(chat.bosToken) ? text.slice(chat.bosToken.length) : text;
  };
  /** The text around each probe: [before 0, between 0 and 1, …, after the last]. */
  const pieces = (roles: Role[]): string[] => {
    const text = render(roles, false);
    const out: string[] = [];
    let from = 0;
    roles.forEach((_, k) => {
      const marker = `ince-probe-${k}`;
      const at = text.indexOf(marker, from);
      if (at < 0 || text.indexOf(marker, at + 1) >= 0) {
        refuse(`message ${k} of ${roles.join(", ")} is not rendered once`);
      }
      out.push(text.slice(from, at));
      from = at + marker.length;
    });
    out.push(text.slice(from));
    return out;
  };
  const after = (text: string, head: string, what: string) =>
    text.startsWith(head)
      ? text.slice(head.length)
      : refuse(`${what} does not start with ${JSON.stringify(head)}`);
  const before = (text: string, tail: string, what: string) =>
    text.endsWith(tail)
      ? text.slice(0, text.length - tail.length)
      : refuse(`${what} does not end with ${JSON.stringify(tail)}`);

  const [headUser, userEnd] = pieces(["user"]);
  const [, userEndAssistantStart, assistantEnd] = pieces(["user", "assistant"]);
  const [, , assistantEndUserStart] = pieces(["user", "assistant", "user"]);
  const [headSystem, systemEndUserStart] = pieces(["system", "user"]);
  const generation = after(render(["user"], true), render(["user"], false), "the generation prompt");

  const start: Record<Role, string> = { system: "", user: "", assistant: "" };
  const end: Record<Role, string> = { system: "", user: userEnd, assistant: assistantEnd };
  start.assistant = after(userEndAssistantStart, userEnd, "the text between a user and an assistant message");
  start.user = after(assistantEndUserStart, assistantEnd, "the text between an assistant and a user message");
  const head = before(headUser, start.user, "the text before the first user message");
  start.system = after(headSystem, head, "the text before a system message");
  end.system = before(systemEndUserStart, start.user, "the text between a system and a user message");

  const at = start.user.indexOf("user");
  const [open, close] = [start.user.slice(0, at), start.user.slice(at + "user".length)];
  const sameShape = at >= 0 && ROLES.every((r) => start[r] === `${open}${r}${close}` && end[r] === end.user);
  const perRole = ROLES.map((r, k) =>
    `{{ ${k === 0 ? "if" : "else if"} eq .Role ${JSON.stringify(r)} }}` +
    `${_goText(start[r])}{{ .Content }}${_goText(end[r])}`
  ).join("") + "{{ end }}";
  const body = sameShape
    ? `${_goText(open)}{{ .Role }}${_goText(close)}{{ .Content }}${_goText(end.user)}`
    : perRole;
  const range = head ? `${_goText(head)}{{ range .Messages }}` : "{{- range .Messages }}";
  const template = `${range}${body}{{ end }}${_goText(generation)}`;

  for (const roles of CHECKS) {
    const messages = _checkMessages(roles);
    const want = render(roles, true, messages.map((m) => m.content));
    const got = renderOllamaTemplate(template, messages);
    if (got !== want) {
      refuse(
        `for ${roles.join(", ")} the Jinja template renders ${
          JSON.stringify(want.slice(0, 160))
        } but the derived ` +
          `TEMPLATE ${JSON.stringify(got.slice(0, 160))}`,
      );
    }
  }

  const turnStarts = sameShape && /^<.*>$/.test(open.trim())
    ? [open.trim()]
    : ROLES.map((r) => start[r].trim());
  const stop = [...new Set([assistantEnd.trim(), chat.eosToken, ...turnStarts])].filter((s) => s !== "");
  return { template, stop };
}

/** Merges consecutive messages of one role and gathers the system messages, as Ollama's `collate`. */
function _collate(messages: readonly Message[]): { system: string; collated: Message[] } {
  const system: string[] = [];
  const collated: Message[] = [];
  for (const m of messages) {
    if (m.role === "system") system.push(m.content);
    const last = collated.at(-1);
    if (last && last.role === m.role) last.content += `\n\n${m.content}`;
    else collated.push({ ...m });
  }
  return { system: system.join("\n\n"), collated };
}

/** Whether an action uses the field `.Response` (Ollama looks for the field, not `$.Response`). */
function _mentionsResponse(pipe: GoPipeline): boolean {
  const uses = (e: GoExpr): boolean =>
    e.kind === "field"
      ? e.path.includes("Response")
      : e.kind === "call"
      ? e.args.some(uses)
      : e.kind === "paren"
      ? _mentionsResponse(e.pipe)
      : false;
  return pipe.cmds.some(uses);
}

/**
 * Ollama's legacy-template rule: for the last turn, everything after the `{{ .Response }}` action is cut, in
 * template order (Ollama's `deleteNode`), so the model writes the response itself.
 */
function _cutAfterResponse(nodes: GoNode[], state = { cut: false }): GoNode[] {
  const out: GoNode[] = [];
  for (const node of nodes) {
    if (state.cut) break;
    if (node.kind === "text" || node.kind === "break" || node.kind === "continue") out.push(node);
    else if (node.kind === "action") {
      out.push(node);
      state.cut = _mentionsResponse(node.pipe);
    } else if (node.kind === "if") {
      const branches = node.branches.map((b) => ({
        cond: b.cond,
        body: state.cut ? [] : _cutAfterResponse(b.body, state),
      }));
      const otherwise = node.otherwise && (state.cut ? [] : _cutAfterResponse(node.otherwise, state));
      out.push({ ...node, branches, otherwise });
    } else {
      const body = _cutAfterResponse(node.body, state);
      const otherwise = node.otherwise && (state.cut ? [] : _cutAfterResponse(node.otherwise, state));
      out.push({ ...node, body, otherwise });
    }
  }
  return out;
}

/**
 * Renders an Ollama TEMPLATE for a conversation the way Ollama's `template.Execute` does (v0.17.4): consecutive
 * messages of one role are merged (joined by a blank line) and `.System` holds all system messages; a template
 * that uses `.Messages` is rendered once with `.Messages`, `.System`, `.Tools` (nil) and `.Response` (empty);
 * a legacy template (`.System`/`.Prompt`/`.Response`) is rendered once per turn, the last turn cut after
 * `{{ .Response }}`, and one without `.Response` gets it appended.
 *
 * @param template The TEMPLATE text.
 * @param messages The conversation.
 * @returns The prompt Ollama would send to the model.
 * @throws {Error} `Ollama TEMPLATE line L, column C: …` for syntax {@linkcode renderGoTemplate} does not support.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderOllamaTemplate } from "./ollama_template.ts";
 * const legacy = "{{ if .System }}[{{ .System }}] {{ end }}Q: {{ .Prompt }}\nA: {{ .Response }}\n";
 * const messages = [
 *   { role: "system" as const, content: "Be brief." },
 *   { role: "user" as const, content: "2+2?" },
 *   { role: "assistant" as const, content: "4" },
 *   { role: "user" as const, content: "3+3?" },
 * ];
 * assert.equal(renderOllamaTemplate(legacy, messages), "[Be brief.] Q: 2+2?\nA: 4\nQ: 3+3?\nA: ");
 * ```
 */
export function renderOllamaTemplate(template: string, messages: readonly Message[]): string {
  const parsed = parseGoTemplate(template, { name: "Ollama TEMPLATE" });
  const vars = goTemplateIdentifiers(parsed);
  if (!vars.includes("messages") && !vars.includes("response")) {
    const pos = { line: 0, column: 0 };
    parsed.nodes.push({
      kind: "action",
      pipe: { decl: [], assign: false, cmds: [{ kind: "field", path: ["Response"], pos }], pos },
    });
  }
  const { system, collated } = _collate(messages);
  const flags = { Think: false, ThinkLevel: "", IsThinkSet: false };
  if (vars.includes("messages")) {
    const Messages = collated.map((m) => ({
      Role: m.role,
      Content: m.content,
      Thinking: "",
      Images: [],
      ToolCalls: [],
      ToolName: "",
      ToolCallID: "",
    }));
    return renderGoTemplate(parsed, { System: system, Messages, Tools: null, Response: "", ...flags });
  }
  let out = "";
  let turn = { System: "", Prompt: "", Response: "" };
  const execute = () => {
    out += renderGoTemplate(parsed, { ...turn, ...flags });
    turn = { System: "", Prompt: "", Response: "" };
  };
  for (const m of collated) {
    if (m.role === "system") {
      if (turn.Prompt || turn.Response) execute();
      turn.System = m.content;
    } else if (m.role === "user") {
      if (turn.Response) execute();
      turn.Prompt = m.content;
    } else turn.Response = m.content;
  }
  out += renderGoTemplate({ ...parsed, nodes: _cutAfterResponse(parsed.nodes) }, { ...turn, ...flags });
  return out;
}
