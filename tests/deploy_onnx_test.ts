/**
 * ONNX export and TypeScript inference on the built-in model, against transformers: the tokenizer gives
 * transformers' ids and text, the ONNX logits are PyTorch's (float32) within 1e-4, greedy answers are
 * `generate()`'s, answer losses are `scoreModels`'s; and bad input fails in one line naming the file.
 * The model is exported once per run.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { projectRoot } from "../lib/env/paths.ts";
import { runPythonJob } from "../lib/infer/_python_job.ts";
import { generate } from "../lib/infer/generate.ts";
import { scoreModels } from "../lib/infer/score.ts";
import type { Message } from "../lib/data/load_dataset.ts";
import { readChatTemplate, renderChat } from "../lib/deploy/chat_template.ts";
import { loadTokenizer } from "../lib/deploy/hf_tokenizer.ts";
import { exportOnnx, type OnnxExport } from "../lib/deploy/onnx_export.ts";
import { loadOnnx, type OnnxModel } from "../lib/deploy/onnx_model.ts";

import { HELD_OUT_QUESTIONS } from "./_held_out_questions.ts";

const ROOT = projectRoot();
const MODEL = `${ROOT}/data/models/ince-tiny`;
const TMP = Deno.makeTempDirSync({ prefix: "ince-onnx-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

const EXAMPLES = HELD_OUT_QUESTIONS;
/** Plus one answer whose spaces a "clean-up" decoder would change (transformers ≥ 5 keeps them). */
const TOKENIZER_EXAMPLES = [
  ...EXAMPLES,
  {
    prompt: [{ role: "user", content: "Spaces?" }] as Message[],
    answer: "Yes , it 's 12 . Don't ! İnce n't",
  },
];

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => p ??= make();
}

const exported = once((): Promise<OnnxExport> =>
  exportOnnx({ model: MODEL, out: `${TMP}/export/ince-tiny.onnx` })
);
const onnxModel = once(async (): Promise<OnnxModel> =>
  loadOnnx((await exported()).path, { modelDir: MODEL })
);

const ReferenceSchema = z.object({
  vocab: z.number(),
  sequences: z.array(z.object({
    promptText: z.string(),
    promptIds: z.array(z.number()),
    fullText: z.string(),
    fullIds: z.array(z.number()),
    decoded: z.string(),
    decodedSkip: z.string(),
    offset: z.number(),
  })),
});
/** transformers' tokenization of every tokenizer example and PyTorch's logits of each (a float32 file). */
const reference = once(async () => {
  const logitsFile = `${TMP}/reference-logits.f32`;
  const ref = await runPythonJob(
    "deploy/python/reference_logits.py",
    { model: MODEL, examples: TOKENIZER_EXAMPLES, logitsFile },
    "PyTorch reference logits",
    ReferenceSchema,
  );
  return { ...ref, logits: new Float32Array(Deno.readFileSync(logitsFile).buffer) };
});

function assertOneLine(e: unknown, ...parts: (string | RegExp)[]): true {
  const message = (e as Error).message;
  assert.ok(!message.includes("\n"), `not one line: ${message}`);
  for (const part of parts) {
    if (typeof part === "string") assert.ok(message.includes(part), `"${message}" does not name ${part}`);
    else assert.match(message, part);
  }
  return true;
}

Deno.test("exportOnnx() writes one self-contained .onnx file (input_ids → logits)", async () => {
  const onnx = await exported();
  assert.equal(onnx.path, `${TMP}/export/ince-tiny.onnx`);
  assert.equal(onnx.bytes, Deno.statSync(onnx.path).size);
  assert.equal(onnx.opset, 18);
  // No external data: the folder holds the one file, and it carries every weight (7,016,208 bytes of safetensors).
  assert.deepEqual([...Deno.readDirSync(`${TMP}/export`)].map((e) => e.name), ["ince-tiny.onnx"]);
  assert.ok(onnx.bytes > Deno.statSync(`${MODEL}/model.safetensors`).size, `${onnx.bytes} bytes`);
  const model = await onnxModel();
  assert.equal(model.format, "ONNX fp32");
  assert.equal(model.vocabSize, 1024);
  console.log(
    `  ONNX: ${onnx.bytes} bytes, exported in ${onnx.seconds.toFixed(1)} s, loaded in ${
      (model.loadSeconds * 1000).toFixed(0)
    } ms`,
  );
});

Deno.test("loadTokenizer() encodes and decodes the held-out chats exactly as transformers does", async () => {
  const ref = await reference();
  const tok = loadTokenizer(MODEL);
  const template = readChatTemplate(MODEL);
  TOKENIZER_EXAMPLES.forEach((ex, i) => {
    const want = ref.sequences[i];
    const prompt = renderChat(template, ex.prompt);
    assert.equal(prompt, want.promptText);
    assert.deepEqual(tok.encode(prompt), want.promptIds, `prompt ${i}: ${JSON.stringify(prompt)}`);
    assert.deepEqual(tok.encode(want.fullText), want.fullIds, `chat ${i}: ${JSON.stringify(want.fullText)}`);
    assert.equal(tok.decode(want.fullIds), want.decoded);
    assert.equal(tok.decode(want.fullIds, { skipSpecialTokens: true }), want.decodedSkip);
  });
  assert.deepEqual(tok.eosTokenIds, [2]);
});

Deno.test("ONNX logits equal PyTorch's (float32) within 1e-4 on every position of the held-out chats", async () => {
  const ref = await reference();
  const model = await onnxModel();
  assert.equal(ref.vocab, model.vocabSize);
  let maxDiff = 0, values = 0;
  for (const seq of ref.sequences) {
    const got = await model.logits(seq.fullIds);
    const want = ref.logits.subarray(seq.offset, seq.offset + seq.fullIds.length * ref.vocab);
    assert.equal(got.length, want.length);
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    values += got.length;
  }
  assert.equal(values * 4, Deno.statSync(`${TMP}/reference-logits.f32`).size); // every reference logit compared
  console.log(
    `  max |ONNX − PyTorch| over ${values} logits of ${ref.sequences.length} chats: ${
      maxDiff.toExponential(2)
    }`,
  );
  assert.ok(maxDiff <= 1e-4, `max |Δlogit| ${maxDiff}`);
});

Deno.test("ONNX greedy answers equal transformers generate() on the 72 held-out questions, streaming", async () => {
  const model = await onnxModel();
  const want = await generate(MODEL, EXAMPLES.map((e) => e.prompt), { maxNewTokens: 32 });
  const template = readChatTemplate(MODEL);
  const got: string[] = [];
  let tokens = 0, seconds = 0;
  for (const ex of EXAMPLES) {
    const pieces: string[] = [];
    const answer = await model.greedy(renderChat(template, ex.prompt), { onText: (p) => pieces.push(p) });
    assert.equal(pieces.join("").trim(), answer.text, "the streamed pieces make up the answer");
    assert.ok(answer.tokenIds.length <= 32);
    got.push(answer.text);
    tokens += answer.tokenIds.length;
    seconds += answer.seconds;
  }
  const same = got.filter((a, i) => a === want[i]).length;
  console.log(
    `  ONNX greedy = transformers greedy: ${same}/${got.length} (${
      (100 * same / got.length).toFixed(1)
    } %), ` +
      `${(tokens / seconds).toFixed(0)} tok/s (1 thread, no KV cache)`,
  );
  assert.deepEqual(got, want);
});

Deno.test("answerLoss() of the ONNX model equals scoreModels' completion loss per held-out answer", async () => {
  const model = await onnxModel();
  const [score] = await scoreModels([{ model: MODEL }], EXAMPLES);
  const template = readChatTemplate(MODEL);
  let nll = 0, count = 0, maxDiff = 0;
  for (const [i, ex] of EXAMPLES.entries()) {
    const prompt = renderChat(template, ex.prompt);
    const chat = renderChat(template, [...ex.prompt, { role: "assistant", content: ex.answer }], {
      addGenerationPrompt: false,
    });
    assert.ok(chat.startsWith(prompt));
    const loss = await model.answerLoss(prompt, chat.slice(prompt.length));
    assert.ok(loss.tokens > 0);
    maxDiff = Math.max(maxDiff, Math.abs(loss.nll / loss.tokens - score.losses[i]));
    nll += loss.nll;
    count += loss.tokens;
  }
  console.log(
    `  mean answer loss: ONNX ${(nll / count).toFixed(6)}, transformers ${score.loss.toFixed(6)}; ` +
      `max per-answer difference ${maxDiff.toExponential(2)}`,
  );
  // log softmax moves at most 2·max|Δlogit| when the logits move, so 1e-4 on logits bounds the loss to 2e-4.
  assert.ok(maxDiff <= 2e-4, `max per-answer loss difference ${maxDiff}`);
  assert.ok(Math.abs(nll / count - score.loss) <= 2e-4);
});

Deno.test("exportOnnx() refuses a folder without config.json or weights in one line naming the file", async () => {
  const noConfig = `${TMP}/no-config`, noWeights = `${TMP}/no-weights`;
  for (const dir of [noConfig, noWeights]) {
    Deno.mkdirSync(dir);
    for (const f of ["config.json", "model.safetensors", "tokenizer.json"]) {
      if (!(dir === noConfig && f === "config.json") && !(dir === noWeights && f === "model.safetensors")) {
        Deno.copyFileSync(`${MODEL}/${f}`, `${dir}/${f}`);
      }
    }
  }
  await assert.rejects(
    exportOnnx({ model: noConfig, out: `${TMP}/x.onnx` }),
    (e) => assertOneLine(e, `${noConfig}/config.json`, /missing/),
  );
  await assert.rejects(
    exportOnnx({ model: noWeights, out: `${TMP}/x.onnx` }),
    (e) => assertOneLine(e, noWeights, /\.safetensors/),
  );
  await assert.rejects(
    exportOnnx({ model: `${TMP}/nowhere`, out: `${TMP}/x.onnx` }),
    (e) => assertOneLine(e, `${TMP}/nowhere`, /no such model folder/),
  );
  assert.ok(![...Deno.readDirSync(TMP)].some((e) => e.name.startsWith("x.onnx")), "nothing was written");
});

Deno.test("loadOnnx() refuses a corrupt or missing .onnx file and loadTokenizer() a folder without tokenizer.json, in one line", async () => {
  const real = Deno.readFileSync((await exported()).path);
  const truncated = `${TMP}/truncated.onnx`, garbage = `${TMP}/garbage.onnx`;
  Deno.writeFileSync(truncated, real.subarray(0, Math.floor(real.length / 2)));
  Deno.writeFileSync(garbage, new TextEncoder().encode("this is not a protobuf\n".repeat(100)));
  for (const bad of [truncated, garbage]) {
    await assert.rejects(loadOnnx(bad, { modelDir: MODEL }), (e) => assertOneLine(e, bad, /exportOnnx/));
  }
  await assert.rejects(
    loadOnnx(`${TMP}/missing.onnx`, { modelDir: MODEL }),
    (e) => assertOneLine(e, `${TMP}/missing.onnx`, /no such ONNX file/),
  );
  const noTokenizer = `${TMP}/no-tokenizer`;
  Deno.mkdirSync(noTokenizer);
  Deno.copyFileSync(`${MODEL}/config.json`, `${noTokenizer}/config.json`);
  assert.throws(
    () => loadTokenizer(noTokenizer),
    (e) => assertOneLine(e, `${noTokenizer}/tokenizer.json`, /missing/),
  );
  await assert.rejects(
    loadOnnx((await exported()).path, { modelDir: noTokenizer }),
    (e) => assertOneLine(e, `${noTokenizer}/tokenizer.json`),
  );
});

Deno.test("close() releases the ONNX session; the model refuses to run afterwards", async () => {
  const model = await loadOnnx((await exported()).path, { modelDir: MODEL });
  model.close();
  await assert.rejects(model.logits([1, 2]), (e) => assertOneLine(e, /closed/));
  (await onnxModel()).close();
});
