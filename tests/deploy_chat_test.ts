/**
 * Chatting with a deployed model: the Ollama Modelfile (TEMPLATE derived from the model's Jinja chat template,
 * stop strings, parameters) against the Jinja rendering and against Ollama's own Go parser and renderer
 * (github.com/ollama/ollama v0.17.4, built from tests/go/ollama_check when `go` and its module proxy are
 * there); the OpenAI-compatible streaming client against llama.cpp's real server on a GGUF of the built-in
 * model, whose answers must be transformers' greedy answers; the server leaves no process behind; and bad
 * input fails in one line.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";
import { spawnJsonLines } from "../lib/util/json_lines_process.ts";
import { killAfter } from "../lib/util/kill_after.ts";
import type { Message } from "../lib/data/load_dataset.ts";
import { readChatTemplate, renderChat } from "../lib/deploy/chat_template.ts";
import { convertToGguf } from "../lib/deploy/gguf_convert.ts";
import { parseGoTemplate, renderGoTemplate } from "../lib/deploy/go_template.ts";
import { ollamaTemplate, renderOllamaTemplate } from "../lib/deploy/ollama_template.ts";
import { type Modelfile, parseModelfile, writeModelfile } from "../lib/deploy/modelfile.ts";
import { chatStream } from "../lib/deploy/openai_chat.ts";
import { startLlamaServer } from "../lib/deploy/llama_server.ts";
import { findOllama, ollamaChat, ollamaCreate } from "../lib/deploy/ollama.ts";

import { HELD_OUT_QUESTIONS } from "./_held_out_questions.ts";

const ROOT = projectRoot();
const MODEL = `${ROOT}/data/models/ince-tiny`;
const TMP = Deno.makeTempDirSync({ prefix: "ince-chat-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

const EXAMPLES = HELD_OUT_QUESTIONS;

/** Conversations to render: with and without a system message, multi-turn, a multi-line message. */
const SYSTEM: Message = { role: "system", content: "You are İnce, a tiny model.\nAnswer briefly." };
const [q1, q2, q3] = [EXAMPLES[3], EXAMPLES[40], EXAMPLES[65]];
const CONVERSATIONS: Message[][] = [
  q1.prompt,
  [SYSTEM, ...q2.prompt],
  [...q1.prompt, { role: "assistant", content: q1.answer }, ...q3.prompt],
  [SYSTEM, ...q1.prompt, { role: "assistant", content: q1.answer }, ...q2.prompt, {
    role: "assistant",
    content: q2.answer,
  }, { role: "user", content: "And now\nin two lines?" }],
  [...q2.prompt, { role: "assistant", content: q2.answer }],
];

const CHAT = readChatTemplate(MODEL);
const DERIVED = ollamaTemplate(CHAT);
const MODELFILE: Modelfile = {
  from: "./ince-tiny-f32.gguf",
  template: DERIVED.template,
  stop: DERIVED.stop,
  parameters: { temperature: 0, num_ctx: 256, num_predict: 32, top_k: 1, use_mmap: true },
  system: 'You are İnce.\nSay "hi" first.',
};

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => p ??= make();
}

const gguf = once(async () =>
  (await convertToGguf({ model: MODEL, out: `${TMP}/ince-tiny-f32.gguf`, outType: "f32" })).path
);

function assertOneLine(e: unknown, pattern: RegExp): true {
  assert.ok(e instanceof Error);
  assert.doesNotMatch(e.message, /\n/, `not one line: ${e.message}`);
  assert.match(e.message, pattern);
  return true;
}

Deno.test("writeModelfile() → parseModelfile() gives back the template, stop strings, parameters and system", () => {
  const text = writeModelfile(MODELFILE);
  assert.match(text, /^TEMPLATE """\{\{- range \.Messages \}\}<\|im_start\|>\{\{ \.Role \}\}\n/m);
  assert.deepEqual(parseModelfile(text), MODELFILE);
  // Values that need each kind of quoting: spaces, a quote, a newline, edges, empty.
  const tricky: Modelfile = {
    from: "/models/with space/m.gguf",
    stop: ["User:", " ", '"', "a b", "<|im_end|>"],
    system: "",
    messages: [{ role: "user", content: ' "quoted" ' }, { role: "assistant", content: "two\nlines" }],
    license: ["MIT\n\nCopyright"],
  };
  assert.deepEqual(parseModelfile(writeModelfile(tricky)), tricky);
  // Instructions are case-insensitive, # lines are comments, white space around values goes.
  assert.deepEqual(
    parseModelfile('# a comment\n\nfrom   ./m.gguf  \nParameter stop "</s>"\nPARAMETER temperature 0.5\n'),
    { from: "./m.gguf", stop: ["</s>"], parameters: { temperature: 0.5 } },
  );
});

Deno.test("ollamaTemplate(): the TEMPLATE rendered as Ollama renders it equals the Jinja chat template's prompt", () => {
  assert.deepEqual(DERIVED.stop, ["<|im_end|>", "<|im_start|>"]);
  for (const messages of CONVERSATIONS) {
    const want = renderChat(CHAT, messages, { addGenerationPrompt: true });
    assert.equal(renderOllamaTemplate(DERIVED.template, messages), want);
  }
  // A template whose roles differ beyond their names becomes one branch per role (Vicuna-like).
  const vicuna = {
    ...CHAT,
    file: "vicuna.jinja",
    source:
      "{% for m in messages %}{% if m.role == 'system' %}{{ m.content }}\n\n{% elif m.role == 'user' %}" +
      "USER: {{ m.content }}\n{% else %}ASSISTANT: {{ m.content }}</s>\n{% endif %}{% endfor %}" +
      "{% if add_generation_prompt %}ASSISTANT:{% endif %}",
    eosToken: "</s>",
  };
  const derived = ollamaTemplate(vicuna);
  assert.match(derived.template, /\{\{ if eq \.Role "system" \}\}/);
  assert.deepEqual(derived.stop, ["</s>", "USER:", "ASSISTANT:"]);
  for (const messages of CONVERSATIONS) {
    assert.equal(renderOllamaTemplate(derived.template, messages), renderChat(vicuna, messages));
  }
});

// Ollama's own code, when Go can fetch it (first time: ~25 s to download and compile).
const GO_DIR = `${ROOT}/tests/go/ollama_check`;
const GO_ENV = { GOTOOLCHAIN: "local", GOFLAGS: "-mod=readonly -buildvcs=false" };
async function goSkipReason(): Promise<string | null> {
  try {
    const child = new Deno.Command("go", {
      args: ["mod", "download"],
      cwd: GO_DIR,
      env: GO_ENV,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const timer = killAfter(child, 120_000);
    const out = await child.output();
    timer.clear();
    if (out.success) return null;
    const said = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
    return `the Go module proxy did not answer (go mod download: ${timer.timedOut ? "timed out" : said})`;
  } catch {
    return "go is not on PATH";
  }
}
const GO_SKIP = await goSkipReason();
if (GO_SKIP) console.log(`skipped: Ollama's own parser check — ${GO_SKIP}`);

/** Templates that exercise the Go subset and Ollama's legacy rules, for the Go oracle. */
const GO_TEMPLATES = [
  "{{ if .System }}<|system|>{{ .System }}</s>{{ end }}{{ if .Prompt }}<|user|>{{ .Prompt }}</s>{{ end }}" +
  "<|assistant|>{{ .Response }}</s>",
  "{{ .System }} {{ .Prompt }}",
  "{{- range $i, $m := .Messages }}{{ $i }}:{{ $m.Role }}={{ .Content | json }}{{ if eq (len (slice $.Messages $i)) 1 }} LAST{{ end }}\n{{ end }}",
  '{{ with .System }}S={{ . }}{{ else }}none{{ end }}{{ range .Messages }}{{ if and (eq .Role "user") (ne .Content "") }}U{{ else if or (eq .Role "assistant") false }}A{{ else }}?{{ end }}{{ end }}',
  '{{/* comment */}}a  {{- /* c2 */ -}}  b {{ printf "%s-%d-%v" "x" 3 true }} {{ len "İnce" }} {{ index .Messages 0 | not }}',
  '{{- $system := "" }}{{ range .Messages }}{{ if eq .Role "system" }}{{ $system = .Content }}{{ continue }}{{ end }}' +
  '[{{ .Role }}{{ if $system }} after {{ $system }}{{ end }}] {{ if eq .Role "assistant" }}{{ break }}{{ end }}{{ end }}',
];

Deno.test({
  name: "Ollama's own Go parser reads our Modelfile and renders the TEMPLATE as we do",
  ignore: GO_SKIP !== null,
  async fn() {
    const bin = `${TMP}/ollama_check`;
    const build = await new Deno.Command("go", {
      args: ["build", "-o", bin, "."],
      cwd: GO_DIR,
      env: GO_ENV,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(build.success, new TextDecoder().decode(build.stderr));
    const messages = [...CONVERSATIONS, [
      { role: "system", content: "s1" },
      { role: "system", content: "s2" },
      { role: "user", content: "<b>&" },
      { role: "user", content: "again" },
    ]] as Message[][];
    const text = writeModelfile(MODELFILE);
    const job = { modelfile: text, templates: GO_TEMPLATES, conversations: messages };
    const p = spawnJsonLines({
      command: bin,
      args: [],
      job,
      schema: z.object({
        modelfile: z.object({
          string: z.string(),
          request: z.object({
            template: z.string(),
            system: z.string(),
            parameters: z.record(z.string(), z.unknown()),
          }),
          error: z.string().optional(),
        }),
        renders: z.array(z.array(z.object({ text: z.string().optional(), error: z.string().optional() }))),
      }),
      where: "ollama_check",
    });
    const answers = [];
    for await (const line of p.lines) answers.push(line);
    assert.equal((await p.finished).status.success, true);
    const [{ modelfile, renders }] = answers;
    assert.equal(modelfile.error, undefined);
    const { stop, parameters, template, system } = MODELFILE;
    assert.equal(modelfile.request.template, template);
    assert.equal(modelfile.request.system, system);
    assert.deepEqual(modelfile.request.parameters, { ...parameters, stop });
    // Ollama's own Modelfile writer's output reads back the same with our parser.
    assert.deepEqual(parseModelfile(modelfile.string), MODELFILE);
    // The Modelfile's TEMPLATE first, then the test templates: every rendering is Ollama's.
    [template!, ...GO_TEMPLATES].forEach((source, t) => {
      messages.forEach((conversation, c) => {
        const go = renders[t][c];
        assert.equal(go.error, undefined, `template ${t}, conversation ${c}: ${go.error}`);
        assert.equal(renderOllamaTemplate(source, conversation), go.text, `template ${t}, conversation ${c}`);
      });
    });
    // And Ollama renders the derived TEMPLATE as the model's Jinja template does.
    CONVERSATIONS.forEach((conversation, c) =>
      assert.equal(renders[0][c].text, renderChat(CHAT, conversation))
    );
  },
});

/**
 * transformers' greedy answers, stopped where llama.cpp stops: at every end-of-generation token of the vocabulary
 * (`<|im_end|>` and `<|endoftext|>`), where lib/infer's `generate()` stops only at generation_config's eos.
 */
const REFERENCE_PY = `
import sys
from _job import answer, load_model, read_job
import torch
torch.set_num_threads(1)
job = read_job()
tok, model = load_model(job["model"])
end_ids = [tok.convert_tokens_to_ids(t) for t in job["endTokens"]]
answers, counts = [], []
with torch.no_grad():
    for messages in job["prompts"]:
        enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        out = model.generate(**enc, max_new_tokens=job["maxNewTokens"], do_sample=False, eos_token_id=end_ids,
                             pad_token_id=tok.pad_token_id)
        new = out[0, enc["input_ids"].shape[1]:]
        counts.append(len(new))
        answers.append(tok.decode(new, skip_special_tokens=True).strip())
answer({"answers": answers, "newTokens": counts})
`;

async function transformersGreedy(prompts: Message[][]): Promise<{ answers: string[]; newTokens: number[] }> {
  const script = `${TMP}/reference_greedy.py`;
  Deno.writeTextFileSync(script, REFERENCE_PY);
  const p = spawnJsonLines({
    command: pythonPath(),
    args: [script],
    env: { PYTHONPATH: `${ROOT}/lib/infer/python` },
    job: { model: MODEL, prompts, endTokens: ["<|im_end|>", "<|endoftext|>"], maxNewTokens: 32 },
    schema: z.object({ answers: z.array(z.string()), newTokens: z.array(z.number()) }),
    where: "reference_greedy.py",
    otherLines: "skip",
  });
  let answer;
  for await (const line of p.lines) answer = line;
  const { status, stderrTail } = await p.finished;
  assert.ok(status.success && answer, stderrTail.join("\n"));
  return answer;
}

Deno.test("chatStream() streams llama.cpp's server's answers on the GGUF, equal to transformers' greedy answers", async () => {
  const prompts = EXAMPLES.map((e) => e.prompt);
  const reference = await transformersGreedy(prompts);
  await using server = await startLlamaServer({ gguf: await gguf(), threads: 1, contextSize: 256 });
  // The server formats chats with the GGUF's chat template exactly as the Jinja template and our TEMPLATE do.
  // (A chat that ends with the assistant's message is continued by llama.cpp, so only those ending with a question.)
  for (const messages of CONVERSATIONS.filter((m) => m.at(-1)!.role === "user")) {
    const res = await fetch(`${server.baseUrl}/apply-template`, {
      method: "POST",
      body: JSON.stringify({ messages }),
    });
    const { prompt } = await res.json();
    assert.equal(prompt, renderChat(CHAT, messages));
    assert.equal(prompt, renderOllamaTemplate(DERIVED.template, messages));
  }
  let same = 0, speed = 0, streamed = 0;
  for (const [k, messages] of prompts.entries()) {
    const pieces: string[] = [];
    const reply = await chatStream({
      baseUrl: server.baseUrl,
      messages,
      maxTokens: 32,
      onText: (s) => pieces.push(s),
    });
    assert.equal(pieces.join(""), reply.text);
    assert.equal(reply.chunks, pieces.length);
    if (reply.chunks >= 2) streamed++;
    assert.ok(reply.finishReason === "stop" || reply.finishReason === "length", String(reply.finishReason));
    assert.equal(reply.usage?.completionTokens, reference.newTokens[k], `tokens of answer ${k}`);
    if (reply.text.trim() === reference.answers[k]) same++;
    speed += reply.tokensPerSecond ?? 0;
  }
  console.log(
    `llama.cpp server (xllamacpp, 1 thread) vs transformers greedy: ${same}/${prompts.length} answers equal, ` +
      `${streamed} streamed in ≥ 2 pieces, ${(speed / prompts.length).toFixed(0)} tokens/s on average`,
  );
  assert.equal(same, prompts.length);
  assert.equal(streamed, prompts.length);
});

/** Whether a process is running (a zombie waiting for its parent's reaping counts as ended). */
function running(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitUntil(done: () => boolean, seconds: number): Promise<boolean> {
  const end = Date.now() + seconds * 1000;
  while (!done()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

Deno.test("startLlamaServer(): stop() ends the server, and a server whose parent dies exits too", async () => {
  const path = await gguf();
  const server = await startLlamaServer({ gguf: path });
  assert.ok(running(server.pid));
  await server.stop();
  assert.equal(running(server.pid), false);
  await server.stop(); // idempotent
  await assert.rejects(
    chatStream({ baseUrl: server.baseUrl, messages: EXAMPLES[0].prompt }),
    (e) =>
      assertOneLine(
        e,
        /^Cannot connect to http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions \(connection refused\)/,
      ),
  );
  // A notebook kernel killed while its server runs: the server sees its stdin close and exits.
  const code = `import { startLlamaServer } from ${
    JSON.stringify(`file://${ROOT}/lib/deploy/llama_server.ts`)
  };
const s = await startLlamaServer({ gguf: ${JSON.stringify(path)} });
console.log(JSON.stringify({ pid: s.pid }));
setInterval(() => {}, 1000);`;
  const parent = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", `${ROOT}/deno.json`, code],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const timer = killAfter(parent, 60_000);
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const { pid } = JSON.parse(out);
  assert.ok(running(pid));
  parent.kill("SIGKILL");
  await parent.status;
  timer.clear();
  await reader.cancel();
  assert.ok(await waitUntil(() => !running(pid), 10), `server ${pid} outlived its parent`);
});

Deno.test("bad input fails in one line: malformed Modelfile, template, server, GGUF, no Ollama", async () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => parseModelfile("FROM ./m.gguf\nPARAMETR stop x\n"),
      /^Modelfile line 2: unknown instruction "PARAMETR"/,
    ],
    [
      () => parseModelfile('FROM ./m.gguf\n\nTEMPLATE """{{ .Prompt }}\n', { file: "out/Modelfile" }),
      /^out\/Modelfile line 3: the """ string of this TEMPLATE is never closed/,
    ],
    [
      () => parseModelfile("FROM ./m.gguf\nPARAMETER temperature hot\n"),
      /^Modelfile line 2: PARAMETER temperature must be a float, not "hot"/,
    ],
    [
      () => parseModelfile("FROM ./m.gguf\nPARAMETER top_q 1\n"),
      /^Modelfile line 2: unknown PARAMETER top_q; Ollama's are stop, num_ctx/,
    ],
    [() => parseModelfile("FROM a\nFROM b\n"), /^Modelfile line 2: a second FROM \(line 1 has one/],
    [() => parseModelfile("SYSTEM hi\n"), /^Modelfile: no FROM line; add one/],
    [() => writeModelfile({ from: "m", template: 'say """' }), /^writeModelfile: template contains """/],
    [
      () => writeModelfile({ from: "m", parameters: { temprature: 0 } }),
      /^writeModelfile: parameters\.temprature is not an Ollama parameter/,
    ],
    [
      () => parseGoTemplate('{{ range .Messages }}\n  {{ template "x" . }}{{ end }}'),
      /^Go template line 2, column 6: unexpected keyword template/,
    ],
    [
      () => parseGoTemplate("{{ if .System }}x"),
      /^Go template line 1, column 4: this if has no \{\{ end \}\}/,
    ],
    [
      () => renderGoTemplate("{{ .Nope }}", { Messages: [] }),
      /^Go template line 1, column 4: no field Nope in \. \(it has: Messages\)/,
    ],
    [
      () => renderOllamaTemplate('{{ range .Messages }}{{ printf "%x" .Role }}{{ end }}', EXAMPLES[0].prompt),
      /^Ollama TEMPLATE line 1, column 25: printf supports only/,
    ],
    [
      () =>
        ollamaTemplate({
          ...CHAT,
          file: "gemma/chat_template.jinja",
          source:
            "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}<start_of_turn>{{ m.role }}\n{{ m.content }}<end_of_turn>\n{% endfor %}",
        }),
      /^gemma\/chat_template\.jinja: the chat template is not of the per-message form .*write the Modelfile's TEMPLATE by hand/,
    ],
  ];
  for (const [run, pattern] of cases) assert.throws(run, (e) => assertOneLine(e, pattern));

  const truncated = `${TMP}/truncated.gguf`;
  Deno.writeFileSync(truncated, Deno.readFileSync(await gguf()).subarray(0, 100_000));
  await assert.rejects(
    startLlamaServer({ gguf: truncated }),
    (e) => assertOneLine(e, /truncated\.gguf: llama\.cpp's server could not load it/),
  );
  await assert.rejects(
    startLlamaServer({ gguf: `${TMP}/missing.gguf` }),
    (e) => assertOneLine(e, /missing\.gguf: no such GGUF file/),
  );

  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    await assert.rejects(
      startLlamaServer({ gguf: await gguf(), port }),
      (e) =>
        assertOneLine(e, new RegExp(`^Port ${port} on 127\\.0\\.0\\.1 is in use .*pass another port, or 0`)),
    );
  } finally {
    taken.close();
  }

  // No Ollama here (CI): found nowhere on an empty search path, and create/chat say what to do.
  assert.equal(findOllama({ path: TMP }), null);
  const modelfile = `${TMP}/Modelfile`;
  Deno.writeTextFileSync(modelfile, writeModelfile(MODELFILE));
  await assert.rejects(
    ollamaCreate({ name: "ince-tiny", modelfile, ollama: `${TMP}/no-ollama` }),
    (e) => assertOneLine(e, /^ollama create: could not start .*no-ollama/),
  );
  if (!findOllama()) {
    await assert.rejects(
      ollamaCreate({ name: "ince-tiny", modelfile }),
      (e) => assertOneLine(e, /^ollama is not on PATH/),
    );
  }
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (free.addr as Deno.NetAddr).port;
  free.close();
  await assert.rejects(
    ollamaChat({ baseUrl: `http://127.0.0.1:${port}`, model: "ince-tiny", messages: EXAMPLES[0].prompt }),
    (e) => assertOneLine(e, /^Cannot connect to .*\/api\/chat \(connection refused\): .*ollama serve/),
  );
});
