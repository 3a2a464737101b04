/**
 * GGUF with llama.cpp, checked against the references: the built-in model converted by llama.cpp's converter
 * (f32 and f16, once each), quantized by llama.cpp's quantizer (Q8_0, Q4_K_M), run through our FFI bindings,
 * and compared with transformers (greedy answers, answer losses) and with llama.cpp's own gguf-py (type
 * tables, the converter's registry, the header of the real files).
 */
import assert from "node:assert/strict";
import { converterArchitectures, convertToGguf } from "../lib/deploy/gguf_convert.ts";
import { quantizeGguf } from "../lib/deploy/quantize_gguf.ts";
import { readGgufInfo } from "../lib/deploy/gguf_file.ts";
import { GGML_TYPES, LLAMA_FTYPE, tensorBytes } from "../lib/deploy/ggml_types.ts";
import { loadGguf } from "../lib/deploy/gguf_model.ts";
import { readChatTemplate } from "../lib/deploy/chat_template.ts";
import { ensureLlamaCppConverter } from "../lib/deploy/deploy_tools.ts";
import { generate } from "../lib/infer/generate.ts";
import { type ScoreExample, scoreModels } from "../lib/infer/score.ts";
import { pythonPath } from "../lib/env/paths.ts";

import { HELD_OUT_QUESTIONS } from "./_held_out_questions.ts";
import { promptAndCompletion } from "../lib/deploy/compare_formats.ts";

const MODEL = "data/models/ince-tiny";
const TMP = Deno.makeTempDirSync({ prefix: "ince-gguf-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

const EXAMPLES = HELD_OUT_QUESTIONS;
const TEMPLATE = readChatTemplate(MODEL);
const SPLIT = EXAMPLES.map((e) => promptAndCompletion(TEMPLATE, e));
const PROMPTS = SPLIT.map((s) => s.prompt);
/** The expected answers as the template renders the assistant's turn after each prompt (`"dört<|im_end|>\n"`). */
const COMPLETIONS = SPLIT.map((s) => s.completion);
/** Every prompt, and every prompt with its answer: what the tokenizers must agree on. */
const TEXTS = [...PROMPTS, ...PROMPTS.map((p, i) => p + COMPLETIONS[i])];

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= make());
}

/** The four files, each made once: converter f32 + f16, quantizer Q8_0 + Q4_K_M (from the f32). */
const files = once(async () => {
  const f32 = await convertToGguf({ model: MODEL, out: `${TMP}/ince-tiny-f32.gguf`, outType: "f32" });
  const f16 = await convertToGguf({ model: MODEL, out: `${TMP}/ince-tiny-f16.gguf`, outType: "f16" });
  const q8 = await quantizeGguf({ input: f32.path, out: `${TMP}/ince-tiny-q8_0.gguf`, type: "Q8_0" });
  const q4 = await quantizeGguf({ input: f32.path, out: `${TMP}/ince-tiny-q4_k_m.gguf`, type: "Q4_K_M" });
  return { f32, f16, q8, q4 };
});

/** transformers' greedy answers (generate(), 32 new tokens) to the 72 questions. */
const reference = once(() => generate(MODEL, EXAMPLES.map((e) => e.prompt), { maxNewTokens: 32 }));

/** What llama.cpp's own Python package (gguf-py) and converter registry say, read in one Python process. */
const PY_REFERENCE = `
import json, sys
conv, model, files = sys.argv[1], sys.argv[2], sys.argv[3:]
texts = json.load(sys.stdin)
sys.path[:0] = [conv, conv + "/gguf-py"]
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained(model)
from gguf import GGUFReader, GGML_QUANT_SIZES, GGMLQuantizationType, LlamaFileType
from conversion import TEXT_MODEL_MAP
out = {"types": {t.name: [t.value, *GGML_QUANT_SIZES[t]] for t in GGMLQuantizationType},
       "ftypes": {f.name: f.value for f in LlamaFileType}, "archs": sorted(TEXT_MODEL_MAP), "files": {},
       "ids": [tok(t, add_special_tokens=False)["input_ids"] for t in texts]}
for f in files:
    r = GGUFReader(f)
    out["files"][f] = {
        "metadata": {k: v.contents() for k, v in r.fields.items() if not k.startswith("GGUF.")},
        "tensors": [{"name": t.name, "shape": [int(x) for x in t.shape], "type": t.tensor_type.name,
                     "offset": int(t.data_offset)} for t in r.tensors]}
print(json.dumps(out))
`;
interface PyReference {
  types: Record<string, [number, number, number]>;
  ftypes: Record<string, number>;
  archs: string[];
  /** transformers' token ids of TEXTS. */
  ids: number[][];
  files: Record<
    string,
    {
      metadata: Record<string, unknown>;
      tensors: { name: string; shape: number[]; type: string; offset: number }[];
    }
  >;
}
const pyReference = once(async (): Promise<PyReference> => {
  const { f32, q4 } = await files();
  const py = new Deno.Command(pythonPath(), {
    args: ["-c", PY_REFERENCE, await ensureLlamaCppConverter(), MODEL, f32.path, q4.path],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = py.stdin.getWriter();
  await stdin.write(new TextEncoder().encode(JSON.stringify(TEXTS)));
  await stdin.close();
  const out = await py.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
});

Deno.test("the ggml type table and LLAMA_FTYPE equal llama.cpp's gguf-py (GGML_QUANT_SIZES, LlamaFileType)", async () => {
  // transformers' reference answers (for a later test) are computed meanwhile, in their own process
  const [py] = await Promise.all([pyReference(), reference()]);
  const ours = Object.fromEntries(GGML_TYPES.map((t) => [t.name, [t.id, t.blockSize, t.typeSize]]));
  assert.deepEqual(ours, py.types);
  const theirs = Object.fromEntries(
    Object.entries(py.ftypes).filter(([k]) => k !== "GUESSED").map((
      [k, v],
    ) => [k.replace(/^(MOSTLY|ALL)_/, ""), v]),
  );
  assert.deepEqual({ ...LLAMA_FTYPE }, theirs);
});

Deno.test("converterArchitectures() reads the converter's registry (TEXT_MODEL_MAP) exactly", async () => {
  const py = await pyReference();
  const ours = converterArchitectures(await ensureLlamaCppConverter());
  assert.deepEqual([...ours].sort(), [...py.archs].sort());
  assert.ok(ours.includes("LlamaForCausalLM"));
});

Deno.test("tokenize() of the f32 and Q4_K_M GGUF equals transformers' tokenization of prompts and answers", async () => {
  const py = await pyReference();
  const { f32, q4 } = await files();
  for (const path of [f32.path, q4.path]) {
    const model = await loadGguf(path);
    try {
      const mismatches = TEXTS.filter((t, i) =>
        JSON.stringify(model.tokenize(t)) !== JSON.stringify(py.ids[i])
      );
      assert.deepEqual(mismatches, [], path);
    } finally {
      model.close();
    }
  }
});

Deno.test("readGgufInfo() reads the metadata and tensor table that gguf-py's GGUFReader reads", async () => {
  const py = await pyReference();
  const { f32, q4 } = await files();
  for (const path of [f32.path, q4.path]) {
    const info = readGgufInfo(path);
    const ref = py.files[path];
    assert.equal(info.version, 3);
    assert.deepEqual(info.metadata, ref.metadata, path);
    assert.deepEqual(
      info.tensors.map((t) => ({
        name: t.name,
        shape: t.shape,
        type: t.type,
        offset: info.dataOffset + t.offset,
      })),
      ref.tensors,
      path,
    );
  }
});

Deno.test("tensorBytes() equals every tensor's data span in the real f32, f16, Q8_0 and Q4_K_M files", async () => {
  const { f32, f16, q8, q4 } = await files();
  for (const path of [f32.path, f16.path, q8.path, q4.path]) {
    const info = readGgufInfo(path);
    const sorted = [...info.tensors].sort((a, b) => a.offset - b.offset);
    sorted.forEach((t, i) => {
      // the next tensor starts (or the file ends) where this one's data ends, padded to the alignment
      const next = i + 1 < sorted.length ? sorted[i + 1].offset : info.fileBytes - info.dataOffset;
      const span = Math.ceil((t.offset + tensorBytes(t.shape, t.type)) / info.alignment) * info.alignment -
        t.offset;
      assert.equal(span, next - t.offset, `${path}: ${t.name} (${t.type} [${t.shape}])`);
    });
  }
  // what the quantizer did to the 160/448-wide rows: no k-quant fits. The 11 norms stay F32; Q4_K falls back
  // to Q5_0 (31 weights); Q6_K (attn_v and ffn_down of layers 2 and 4: llama.cpp's use_more_bits) to Q8_0;
  // the tied token embedding is Q8_0.
  assert.deepEqual(q4.tensorTypes, { F32: 11, Q5_0: 31, Q8_0: 5 });
  assert.deepEqual(q8.tensorTypes, { F32: 11, Q8_0: 36 });
  // llama.cpp's warnings name each fallback: the file holds exactly the type each one announces
  const types = new Map(readGgufInfo(q4.path).tensors.map((t) => [t.name, t.type]));
  const fallbacks = q4.warnings.map((w) =>
    w.match(/^warning: (\S+) - ncols \d+ not divisible .* falling back to (\w+)$/)
  )
    .filter((m) => m !== null);
  const summary = q4.warnings.map((w) => w.match(/(\d+) of (\d+) tensor\(s\) required fallback/)).find((m) =>
    m
  );
  assert.ok(summary, "llama.cpp's fallback summary line");
  assert.equal(fallbacks.length, Number(summary[1]));
  assert.equal(fallbacks.length, q4.tensorTypes.Q5_0 + 4); // Q4_K→Q5_0 everywhere, Q6_K→Q8_0 in 4 tensors
  for (const [, name, type] of fallbacks) assert.equal(types.get(name), type.toUpperCase(), name);
  assert.deepEqual(q8.warnings, []);
  assert.deepEqual(readGgufInfo(f16.path).tensors.filter((t) => t.type === "F16").length, 36);
});

Deno.test("greedy answers of the f32 and f16 GGUF equal transformers' generate() on the 72 held-out questions", async () => {
  const [ref, { f32, f16, q8, q4 }] = await Promise.all([reference(), files()]);
  const rows: string[] = [];
  const rates: Record<string, number> = {};
  for (const file of [f32, f16, q8, q4]) {
    const model = await loadGguf(file.path, { threads: 1 });
    try {
      let same = 0, tokens = 0, seconds = 0, nll = 0, scored = 0;
      for (let i = 0; i < PROMPTS.length; i++) {
        const a = await model.greedy(PROMPTS[i], { maxNewTokens: 32 });
        same += a.text === ref[i] ? 1 : 0;
        tokens += a.tokenIds.length;
        seconds += a.seconds;
        const loss = await model.answerLoss(PROMPTS[i], COMPLETIONS[i]);
        nll += loss.nll;
        scored += loss.tokens;
      }
      rates[model.format] = same / PROMPTS.length;
      rows.push(
        `${model.format.padEnd(12)} ${String(model.fileBytes).padStart(9)} B  load ${
          (model.loadSeconds * 1000).toFixed(0).padStart(4)
        } ms  ` +
          `${(tokens / seconds).toFixed(0).padStart(5)} tok/s  match ${same}/${PROMPTS.length}  ` +
          `answer perplexity ${Math.exp(nll / scored).toFixed(1)}`,
      );
    } finally {
      model.close();
    }
  }
  console.log(`GGUF vs transformers greedy (1 thread):\n${rows.join("\n")}`);
  assert.ok(rates["GGUF F32"] >= 0.95, `f32 match ${rates["GGUF F32"]}`);
  assert.ok(rates["GGUF F16"] >= 0.95, `f16 match ${rates["GGUF F16"]}`);
});

Deno.test("answerLoss() of the f32 GGUF equals transformers' completion loss (scoreModels) per example", async () => {
  const { f32 } = await files();
  const examples: ScoreExample[] = EXAMPLES;
  const [score] = await scoreModels([{ model: MODEL }], examples);
  const worst: Record<string, number> = {};
  for (const f32Attention of [true, false]) {
    const model = await loadGguf(f32.path, { threads: 1, f32Attention });
    try {
      let nll = 0, tokens = 0, max = 0;
      for (let i = 0; i < EXAMPLES.length; i++) {
        const loss = await model.answerLoss(PROMPTS[i], COMPLETIONS[i]);
        nll += loss.nll;
        tokens += loss.tokens;
        max = Math.max(max, Math.abs(loss.nll / loss.tokens - score.losses[i]));
      }
      const label = f32Attention ? "f32 attention" : "llama.cpp defaults";
      worst[label] = max;
      console.log(
        `answer loss, ${label}: GGUF ${(nll / tokens).toFixed(7)} vs transformers ${
          score.loss.toFixed(7)
        }; ` +
          `worst example |Δ| ${max.toExponential(2)}`,
      );
    } finally {
      model.close();
    }
  }
  // Float32 throughout (F32 weights, F32 K/V cache, no flash attention): only the summation order differs
  // from PyTorch (logits within ~1e-5), so a mean loss of a few tokens agrees to ~1e-5; 1e-4 leaves room for
  // that and nothing more (a wrong token, position or BOS moves a loss by whole nats).
  assert.ok(
    worst["f32 attention"] < 1e-4,
    `f32 attention: worst per-example loss difference ${worst["f32 attention"]}`,
  );
  // llama.cpp's defaults compute attention in F16 (flash attention's CPU kernel, F16 cache): logits move by
  // ~3e-3, a per-example loss by ~1e-3.
  assert.ok(
    worst["llama.cpp defaults"] < 5e-3,
    `defaults: worst per-example loss difference ${worst["llama.cpp defaults"]}`,
  );
});

Deno.test("convertToGguf() refuses a model folder without tokenizer.json in one line naming the file", async () => {
  const dir = `${TMP}/no-tokenizer`;
  Deno.mkdirSync(dir);
  for (const f of ["config.json", "model.safetensors", "tokenizer_config.json"]) {
    Deno.copyFileSync(`${MODEL}/${f}`, `${dir}/${f}`);
  }
  await assert.rejects(
    convertToGguf({ model: dir, out: `${TMP}/x.gguf`, outType: "f32" }),
    (e: Error) => {
      assert.match(e.message, new RegExp(`^${dir}/tokenizer\\.json: missing; .*copy`));
      assert.doesNotMatch(e.message, /\n/);
      return true;
    },
  );
});

Deno.test("convertToGguf() refuses an architecture the converter does not support, naming config.json", async () => {
  const dir = `${TMP}/foo-arch`;
  Deno.mkdirSync(dir);
  for (const f of ["model.safetensors", "tokenizer.json", "tokenizer_config.json"]) {
    Deno.copyFileSync(`${MODEL}/${f}`, `${dir}/${f}`);
  }
  const config = JSON.parse(Deno.readTextFileSync(`${MODEL}/config.json`));
  Deno.writeTextFileSync(
    `${dir}/config.json`,
    JSON.stringify({ ...config, architectures: ["FooForCausalLM"] }),
  );
  await assert.rejects(
    convertToGguf({ model: dir, out: `${TMP}/x.gguf`, outType: "f16" }),
    (e: Error) => {
      assert.match(
        e.message,
        new RegExp(`^${dir}/config\\.json: architecture FooForCausalLM is not one llama\\.cpp`),
      );
      assert.doesNotMatch(e.message, /\n/);
      return true;
    },
  );
});

Deno.test("convertToGguf() refuses a tokenizer that is not plain GPT-2 ByteLevel instead of mislabelling it", async () => {
  const dir = `${TMP}/other-pretokenizer`;
  Deno.mkdirSync(dir);
  for (const f of ["config.json", "model.safetensors", "tokenizer_config.json", "chat_template.jinja"]) {
    Deno.copyFileSync(`${MODEL}/${f}`, `${dir}/${f}`);
  }
  const tok = JSON.parse(Deno.readTextFileSync(`${MODEL}/tokenizer.json`));
  tok.pre_tokenizer = { ...tok.pre_tokenizer, add_prefix_space: true }; // splits " x" differently from "gpt-2"
  Deno.writeTextFileSync(`${dir}/tokenizer.json`, JSON.stringify(tok));
  await assert.rejects(
    convertToGguf({ model: dir, out: `${TMP}/other.gguf`, outType: "f32" }),
    (e: Error) => {
      assert.match(
        e.message,
        /tokenizer\.json: its pre-tokenizer .* is not one llama\.cpp's converter recognises/,
      );
      assert.doesNotMatch(e.message, /\n/);
      return true;
    },
  );
  assert.ok(![...Deno.readDirSync(TMP)].some((e) => e.name.startsWith("other.gguf")), "no partial file left");
});

Deno.test("a corrupt GGUF (truncated, bad magic, missing) gives one line naming the file, in every reader", async () => {
  const { f32 } = await files();
  const bytes = Deno.readFileSync(f32.path);
  const truncated = `${TMP}/truncated.gguf`;
  Deno.writeFileSync(truncated, bytes.subarray(0, 100_000));
  const badMagic = `${TMP}/bad-magic.gguf`;
  const copy = bytes.slice(0, 200_000);
  copy.set(new TextEncoder().encode("GGUX"));
  Deno.writeFileSync(badMagic, copy);
  const headerCut = `${TMP}/header-cut.gguf`;
  Deno.writeFileSync(headerCut, bytes.subarray(0, 5_000)); // ends inside the vocabulary
  const cases: [string, RegExp][] = [
    [truncated, /truncated\.gguf: tensor .* past the end of the file .* truncated; convert the model again/],
    [
      headerCut,
      /header-cut\.gguf: it ends inside .*tokenizer\.ggml\.\w+.* truncated; convert the model again/,
    ],
    [badMagic, /bad-magic\.gguf: not a GGUF file/],
    [`${TMP}/missing.gguf`, /missing\.gguf: no such file; convert a model to GGUF first/],
  ];
  for (const [path, expected] of cases) {
    const oneLine = (e: Error) => {
      assert.match(e.message, expected);
      assert.ok(e.message.startsWith(path), e.message);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    };
    assert.throws(() => readGgufInfo(path), oneLine);
    await assert.rejects(loadGguf(path), oneLine);
    await assert.rejects(quantizeGguf({ input: path, out: `${TMP}/never.gguf`, type: "Q8_0" }), oneLine);
  }
});
