/**
 * The TypeScript quantizers against bitsandbytes' own numbers, computed live on this CPU by one
 * Python process (lib/quant/python/bnb_reference.py), one table of cases driving every check; then
 * GPTQ against round-to-nearest on real activations of the built-in model, and the error messages.
 */
import assert from "node:assert/strict";
import { fromRows, type Matrix, matrix, randn, readSafetensors } from "../lib/math/mod.ts";
import {
  dequantizeBlockwise,
  dynamicMap,
  gptqQuantize,
  int4GroupDequantize,
  int4GroupQuantize,
  int8AbsmaxDequantize,
  int8AbsmaxQuantize,
  layerInputs,
  NF4_CODEBOOK,
  nf4Dequantize,
  nf4DoubleDequantize,
  nf4DoubleQuantize,
  nf4Pack,
  nf4Quantize,
  nf4Stats,
  nf4Unpack,
  outputError,
  quantizeBlockwise,
} from "../lib/quant/mod.ts";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";

const ROOT = projectRoot();
const MODEL = `${ROOT}/data/models/ince-tiny`;
const { tensors } = await readSafetensors(`${MODEL}/model.safetensors`);

function weight(name: string): Matrix {
  const t = tensors[`model.${name}.weight`];
  return matrix(t.shape[0], t.shape[1], t.data as Float32Array);
}

const scaled = (m: Matrix, s: number): Float32Array => m.data.map((x) => x * s);

/** A block with absmax exactly 1 whose other values sit exactly on NF4's midpoints (ties). */
function midpointBlock(): Float32Array {
  const v = new Float32Array(64);
  v[0] = 1;
  for (let i = 0; i < 15; i++) v[1 + i] = Math.fround(NF4_CODEBOOK[i] + NF4_CODEBOOK[i + 1]) / 2;
  v.set(scaled(randn(1, 48, 7), 0.3).map((x) => Math.max(-0.99, Math.min(0.99, x))), 16);
  return v;
}

/** A full zero block, a normal block, and a short all-zero tail (bitsandbytes stores its absmax as 1e-38). */
function zeroBlocks(): Float32Array {
  const v = new Float32Array(64 + 64 + 10);
  v.set(scaled(randn(1, 64, 3), 0.02), 64);
  return v;
}

const NF4_CASES: { name: string; values: Float32Array; blockSize: number }[] = [
  { name: "seeded normal ×0.02, 40 blocks of 64", values: scaled(randn(1, 2560, 1), 0.02), blockSize: 64 },
  {
    name: "ince-tiny layers.2.mlp.down_proj (160×448)",
    values: weight("layers.2.mlp.down_proj").data,
    blockSize: 64,
  },
  {
    name: "ince-tiny layers.0.self_attn.q_proj (160×160)",
    values: weight("layers.0.self_attn.q_proj").data,
    blockSize: 64,
  },
  {
    name: "1000 values (15 blocks of 64 and one of 40)",
    values: scaled(randn(1, 1000, 2), 0.05),
    blockSize: 64,
  },
  {
    name: "999 values (an odd count: a padded nibble)",
    values: scaled(randn(1, 999, 4), 0.05),
    blockSize: 64,
  },
  { name: "all-zero blocks, one full and one short", values: zeroBlocks(), blockSize: 64 },
  { name: "values exactly on the midpoints", values: midpointBlock(), blockSize: 64 },
  { name: "seeded normal, blocks of 128", values: scaled(randn(1, 2560, 5), 0.02), blockSize: 128 },
];

const BLOCKWISE_CASES = [
  { name: "seeded normal, blocks of 256", values: scaled(randn(1, 5000, 8), 0.1), blockSize: 256 },
  {
    name: "ince-tiny layers.4.mlp.up_proj, blocks of 4096",
    values: weight("layers.4.mlp.up_proj").data,
    blockSize: 4096,
  },
];

function zeroRow(m: Matrix): Matrix {
  const out = matrix(m.rows, m.cols, m.data);
  out.data.fill(0, 0, m.cols);
  return out;
}

const INT8_CASES = [
  { name: "ince-tiny layers.1.mlp.gate_proj (448×160)", w: weight("layers.1.mlp.gate_proj") },
  { name: "seeded normal 33×70 with an all-zero row", w: zeroRow(randn(33, 70, 9)) },
];

interface Stats {
  rms: number;
  max: number;
  meanAbs: number;
}
interface Reference {
  versions: Record<string, string>;
  dynamicMap: string;
  nf4: {
    name: string;
    packed: string;
    absmax: string;
    dequantized: string;
    stats: Stats;
    packedDouble: string;
    double: { codes: string; absmax2: string; offset: number; blockSize: number; code: string };
    dequantizedDouble: string;
    statsDouble: Stats;
  }[];
  blockwise: { name: string; codes: string; absmax: string; dequantized: string }[];
  int8: { name: string; codes: string; rowAbsmax: string; dequantized: string; stats: Stats }[];
}

const b64 = (a: Float32Array): string => {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
const bytes = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const f32 = (s: string): Float32Array => new Float32Array(bytes(s).buffer);
const i8 = (s: string): Int8Array => new Int8Array(bytes(s).buffer);

/** bitsandbytes' answers for every case, from one Python process (started once, on first use). */
let _reference: Promise<Reference> | undefined;
function reference(): Promise<Reference> {
  return _reference ??= (async () => {
    const child = new Deno.Command(pythonPath(), {
      args: [`${ROOT}/lib/quant/python/bnb_reference.py`],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const job = {
      nf4: NF4_CASES.map((c) => ({ name: c.name, values: b64(c.values), blockSize: c.blockSize })),
      blockwise: BLOCKWISE_CASES.map((c) => ({
        name: c.name,
        values: b64(c.values),
        blockSize: c.blockSize,
      })),
      int8: INT8_CASES.map((c) => ({ name: c.name, values: b64(c.w.data), rows: c.w.rows, cols: c.w.cols })),
    };
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(JSON.stringify(job)));
    await w.close();
    const out = await child.output();
    const last = (b: Uint8Array) => new TextDecoder().decode(b).trim().split("\n").at(-1) ?? "";
    if (!out.success) throw new Error(`bitsandbytes reference failed: ${last(out.stderr)}`);
    return JSON.parse(last(out.stdout)) as Reference;
  })();
}

/** Asserts two arrays hold the same numbers (0 and −0 count as equal), naming the first difference. */
function assertSame(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what: string,
): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} values, bitsandbytes has ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) assert.fail(`${what}: value ${i} is ${got[i]}, bitsandbytes has ${want[i]}`);
  }
}

function assertStats(got: { rms: number; max: number; meanAbs: number }, want: Stats, what: string): void {
  for (const k of ["rms", "max", "meanAbs"] as const) {
    const rel = Math.abs(got[k] - want[k]) / Math.max(want[k], 1e-30);
    assert.ok(
      rel <= 1e-6,
      `${what} ${k}: ${got[k]} vs bitsandbytes ${want[k]} (relative ${rel.toExponential(2)})`,
    );
  }
}

Deno.test("dynamicMap() is bitsandbytes' create_dynamic_map(signed=True), value for value", async () => {
  assertSame(dynamicMap(), f32((await reference()).dynamicMap), "dynamic map");
});

for (const [i, c] of NF4_CASES.entries()) {
  Deno.test(`nf4Quantize() gives bitsandbytes' packed codes, absmax and dequantized values: ${c.name}`, async () => {
    const ref = (await reference()).nf4[i];
    const q = nf4Quantize(c.values, { blockSize: c.blockSize });
    const packed = nf4Pack(q.codes);
    assertSame(packed, bytes(ref.packed), `${c.name}: packed codes`);
    assertSame(nf4Unpack(packed, c.values.length), q.codes, `${c.name}: unpack(pack(codes))`);
    assertSame(q.absmax, f32(ref.absmax), `${c.name}: absmax`);
    assertSame(nf4Dequantize(q), f32(ref.dequantized), `${c.name}: dequantized`);
    const s = nf4Stats(c.values, { blockSize: c.blockSize });
    assertStats({ rms: s.rmsError, max: s.maxError, meanAbs: s.meanAbsError }, ref.stats, c.name);
  });

  Deno.test(`nf4DoubleQuantize() gives bitsandbytes' compress_statistics state: ${c.name}`, async () => {
    const ref = (await reference()).nf4[i];
    const q = nf4Quantize(c.values, { blockSize: c.blockSize });
    assertSame(nf4Pack(q.codes), bytes(ref.packedDouble), `${c.name}: packed codes (double quant)`);
    const dq = nf4DoubleQuantize(q.absmax);
    // The offset is torch's float32 mean; its summation order follows the CPU's vector width (AVX2 here).
    const cpu = (await reference()).versions.cpu;
    assert.equal(
      dq.offset,
      ref.double.offset,
      `${c.name}: offset (torch summed with ${cpu}; _torchMeanF32 assumes AVX2)`,
    );
    assert.equal(dq.blockSize, ref.double.blockSize);
    assertSame(dq.codes, bytes(ref.double.codes), `${c.name}: 8-bit absmax codes`);
    assertSame(dq.absmax2, f32(ref.double.absmax2), `${c.name}: absmax2`);
    assertSame(dq.code, f32(ref.double.code), `${c.name}: code map`);
    const deq = nf4Dequantize({ ...q, absmax: nf4DoubleDequantize(dq) });
    assertSame(deq, f32(ref.dequantizedDouble), `${c.name}: dequantized (double quant)`);
    const s = nf4Stats(c.values, { blockSize: c.blockSize });
    assertStats(
      { rms: s.rmsErrorDouble, max: s.maxErrorDouble, meanAbs: s.meanAbsErrorDouble },
      ref.statsDouble,
      c.name,
    );
  });
}

Deno.test("quantizeBlockwise() gives bitsandbytes' 8-bit codes (its lookup table, not the exact nearest)", async () => {
  const ref = (await reference()).blockwise;
  for (const [i, c] of BLOCKWISE_CASES.entries()) {
    const q = quantizeBlockwise(c.values, { blockSize: c.blockSize });
    assertSame(q.codes, bytes(ref[i].codes), `${c.name}: codes`);
    assertSame(q.absmax, f32(ref[i].absmax), `${c.name}: absmax`);
    assertSame(dequantizeBlockwise(q), f32(ref[i].dequantized), `${c.name}: dequantized`);
  }
});

Deno.test("int8AbsmaxQuantize() gives bitsandbytes' int8_vectorwise_quant codes, row stats and dequantization", async () => {
  const ref = (await reference()).int8;
  for (const [i, c] of INT8_CASES.entries()) {
    const q = int8AbsmaxQuantize(c.w);
    assertSame(q.codes, i8(ref[i].codes), `${c.name}: codes`);
    assertSame(q.rowAbsmax, f32(ref[i].rowAbsmax), `${c.name}: row absmax`);
    const deq = int8AbsmaxDequantize(q);
    assertSame(deq.data, f32(ref[i].dequantized), `${c.name}: dequantized`);
    let se = 0, sa = 0, max = 0;
    for (let k = 0; k < deq.data.length; k++) {
      const e = Math.abs(c.w.data[k] - deq.data[k]);
      [se, sa, max] = [se + e * e, sa + e, Math.max(max, e)];
    }
    const n = deq.data.length;
    assertStats({ rms: Math.sqrt(se / n), max, meanAbs: sa / n }, ref[i].stats, c.name);
  }
});

Deno.test("nf4Stats() reports QLoRA's bits per weight: 4.5, and 4.127 with double quantization", () => {
  const s = nf4Stats(scaled(randn(1, 4096, 1), 0.02));
  assert.equal(s.bitsPerWeight, 4.5);
  assert.equal(s.bitsPerWeightDouble, 4 + 8 / 64 + 32 / (64 * 256));
  assert.equal(s.bitsPerWeightDouble.toFixed(3), "4.127");
});

// GPTQ against round-to-nearest on real activations of ince-tiny's layer 2 down projection.
const LAYER = "model.layers.2.mlp.down_proj";
const instructions = (file: string) =>
  Deno.readTextFileSync(`${ROOT}/data/datasets/${file}`).trim().split("\n").map((l) =>
    JSON.parse(l).instruction as string
  );
let _activations: Promise<{ calib: Matrix; heldout: Matrix }> | undefined;
const activations = () =>
  _activations ??= (async () => {
    // One after the other: two Python processes at once only fight over the two cores.
    const train = instructions("numbers-train.jsonl").filter((_, i) => i % 3 === 0);
    const calib = await layerInputs(MODEL, LAYER, train, { maxTokens: 2048 });
    return { calib, heldout: await layerInputs(MODEL, LAYER, instructions("numbers-heldout.jsonl")) };
  })();

Deno.test("layerInputs() records tokens × in_features inputs of a linear module", async () => {
  const { calib, heldout } = await activations();
  assert.deepEqual([calib.rows, calib.cols], [2048, 448]);
  assert.equal(heldout.cols, 448);
  assert.ok(heldout.rows > 448, `only ${heldout.rows} held-out tokens`);
  // down_proj's input is SiLU(gate)·up: finite, not all zero.
  assert.ok(heldout.data.every(Number.isFinite) && heldout.data.some((x) => x !== 0));
});

Deno.test("gptqQuantize() beats round-to-nearest on held-out activations of a real layer", async () => {
  const { calib, heldout } = await activations();
  const w = weight("layers.2.mlp.down_proj");
  const rtn = await outputError(w, int4GroupDequantize(int4GroupQuantize(w, { groupSize: 32 })), heldout);
  const gptq = await outputError(
    w,
    int4GroupDequantize(await gptqQuantize(w, calib, { groupSize: 32 })),
    heldout,
  );
  assert.ok(gptq < rtn, `GPTQ held-out output error ${gptq} is not below round-to-nearest's ${rtn}`);
  assert.ok(rtn > 0 && rtn < 0.5, `round-to-nearest output error ${rtn} is implausible`);
});

Deno.test("gptqQuantize() is exactly round-to-nearest when the Hessian is the identity", async () => {
  const w = weight("layers.2.mlp.down_proj");
  const eye = matrix(448, 448);
  for (let i = 0; i < 448; i++) eye.data[i * 449] = 1;
  const gptq = await gptqQuantize(w, eye, { groupSize: 32 });
  const rtn = int4GroupQuantize(w, { groupSize: 32 });
  assertSame(gptq.codes, rtn.codes, "codes");
  assertSame(gptq.scales, rtn.scales, "scales");
  assertSame(gptq.zeros, rtn.zeros, "zeros");
});

Deno.test("the quantizers reject bad input with one-line errors", async () => {
  const w = fromRows([[1, 2, 3, 4]]);
  const cases: [string, () => unknown, RegExp][] = [
    ["NaN into NF4", () => nf4Quantize(new Float32Array([1, NaN])), /nf4Quantize: value 1 is NaN/],
    [
      "block size 0",
      () => nf4Quantize(new Float32Array(4), { blockSize: 0 }),
      /block size 0 is not a positive whole number/,
    ],
    ["Infinity into 8-bit", () => quantizeBlockwise(new Float32Array([Infinity])), /value 0 is Infinity/],
    ["NaN into int8", () => int8AbsmaxQuantize(fromRows([[0, NaN]])), /int8AbsmaxQuantize: value 1 is NaN/],
    ["code 16 to pack", () => nf4Pack(Uint8Array.of(16)), /code 0 is 16; NF4 codes are 0…15/],
    [
      "group size 3 of 4 columns",
      () => int4GroupQuantize(w, { groupSize: 3 }),
      /group size 3 does not divide the 4 input columns/,
    ],
    [
      "group size 128 of 160 columns",
      () => int4GroupQuantize(matrix(1, 160), { groupSize: 128 }),
      /does not divide the 160/,
    ],
  ];
  for (const [name, run, want] of cases) {
    assert.throws(run, (e: Error) => want.test(e.message) && !e.message.includes("\n"), name);
  }
  await assert.rejects(
    gptqQuantize(w, matrix(5, 3), { groupSize: 2 }),
    /calibration inputs are 5×3; the weight 1×4 needs tokens × 4/,
  );
  await assert.rejects(
    gptqQuantize(w, fromRows([[1, 0, 0, NaN]]), { groupSize: 2 }),
    /holds NaN at row 0, column 3/,
  );
  await assert.rejects(outputError(w, fromRows([[1, 2]]), w), /outputError: shapes differ: 1×4 vs 1×2/);
  await assert.rejects(
    layerInputs(MODEL, "model.layers.9.mlp.down_proj", ["hi"]),
    (e: Error) => /is not in .*linear modules are e\.g\./.test(e.message) && !e.message.includes("\n"),
  );
});
