/**
 * A model folder whose linear weights went through a quantizer and back ("fake quantization"): the
 * same fp32 files, but every q/k/v/o/gate/up/down projection holds exactly the values a 4- or 8-bit
 * model would compute with. On a CPU, where bitsandbytes' 4-bit layers cannot train, this is how we
 * measure what quantizing the frozen base costs in quality, and train LoRA on top of an NF4 base —
 * QLoRA's arithmetic without its memory saving.
 *
 * @module
 */
import { ALL_LINEAR_MODULES } from "../train/model_shape.ts";
import { readSafetensors, type TensorInput, writeSafetensors } from "../math/safetensors.ts";
import type { Matrix } from "../math/matrix.ts";
import { nf4Dequantize, nf4Quantize } from "./nf4.ts";
import { nf4DoubleDequantize, nf4DoubleQuantize } from "./nf4_double.ts";
import { nf4BitsPerWeight } from "./nf4_stats.ts";
import { int8AbsmaxDequantize, int8AbsmaxQuantize } from "./int8.ts";
import { int4BitsPerWeight, int4GroupDequantize, int4GroupQuantize } from "./int4_group.ts";

/** The quantizers a model can be round-tripped through, with their bits per weight. */
export const FAKE_QUANT_FORMATS = {
  /** NF4, blocks of 64, absmax double-quantized (QLoRA's storage): 4.127 bits. */
  nf4: { bits: nf4BitsPerWeight(), roundTrip: _nf4 },
  /** int8 with one absmax per row (LLM.int8's weight format, without its outlier path): 8 bits, plus a float32 per row. */
  int8: { bits: 8, roundTrip: _int8 },
  /** int4 round-to-nearest per group of 32 inputs, with a scale and a zero point per group (GPTQ's storage, no calibration). */
  int4: {
    bits: int4BitsPerWeight(32),
    roundTrip: (w: Matrix) => int4GroupDequantize(int4GroupQuantize(w, { groupSize: 32 })),
  },
} as const satisfies Record<string, { bits: number; roundTrip: (w: Matrix) => Matrix }>;

/** A format name of {@linkcode FAKE_QUANT_FORMATS}. */
export type FakeQuantFormat = keyof typeof FAKE_QUANT_FORMATS;

function _nf4(w: Matrix): Matrix {
  const q = nf4Quantize(w.data);
  return { ...w, data: nf4Dequantize({ ...q, absmax: nf4DoubleDequantize(nf4DoubleQuantize(q.absmax)) }) };
}

function _int8(w: Matrix): Matrix {
  return int8AbsmaxDequantize(int8AbsmaxQuantize(w));
}

/** Options for {@linkcode fakeQuantizeModel}. */
export interface FakeQuantizeOptions {
  /** The model folder (a single `model.safetensors`). */
  model: string;
  /** Where to write the new folder (created; files other than the weights are copied). */
  out: string;
  format: FakeQuantFormat;
}

/** What {@linkcode fakeQuantizeModel} wrote. */
export interface FakeQuantizedModel {
  dir: string;
  format: FakeQuantFormat;
  /** Relative RMS error ‖Ŵ − W‖ / ‖W‖ per quantized weight. */
  relativeError: Record<string, number>;
  /** Weights quantized, and all weights. */
  quantizedParams: number;
  totalParams: number;
}

const LINEAR = new RegExp(`\\.(${ALL_LINEAR_MODULES.join("|")})\\.weight$`);

/**
 * Writes a copy of a model whose linear weights are quantized and dequantized.
 *
 * @param options The model, the output folder and the format.
 * @returns The folder and the error per weight.
 * @throws {Error} Naming the folder when it has no `model.safetensors`, or no linear weight to quantize.
 *
 * @example The built-in model through NF4
 * ```ts
 * import assert from "node:assert/strict";
 * import { fakeQuantizeModel } from "./fake_quantize_model.ts";
 * const out = await Deno.makeTempDir();
 * const m = await fakeQuantizeModel({ model: "data/models/ince-tiny", out, format: "nf4" });
 * assert.equal(Object.keys(m.relativeError).length, 35); // 7 projections × 5 layers
 * assert.ok(Object.values(m.relativeError).every((e) => e > 0.05 && e < 0.15));
 * ```
 */
export async function fakeQuantizeModel(options: FakeQuantizeOptions): Promise<FakeQuantizedModel> {
  const { model, out, format } = options;
  const file = `${model}/model.safetensors`;
  let tensors;
  try {
    tensors = await readSafetensors(file);
  } catch (e) {
    throw new Error(
      `fakeQuantizeModel: cannot read ${file} (${
        (e as Error).message
      }); give a model folder with one model.safetensors.`,
    );
  }
  const written: Record<string, TensorInput> = {};
  const relativeError: Record<string, number> = {};
  let quantizedParams = 0, totalParams = 0;
  for (const [name, t] of Object.entries(tensors.tensors)) {
    totalParams += t.data.length;
    if (!(t.data instanceof Float32Array) || !LINEAR.test(name) || t.shape.length !== 2) {
      written[name] = { shape: t.shape, data: t.data as TensorInput["data"] };
      continue;
    }
    const w: Matrix = { rows: t.shape[0], cols: t.shape[1], data: t.data };
    const q = FAKE_QUANT_FORMATS[format].roundTrip(w);
    let se = 0, ss = 0;
    for (let i = 0; i < w.data.length; i++) {
      se += (q.data[i] - w.data[i]) ** 2;
      ss += w.data[i] ** 2;
    }
    relativeError[name] = Math.sqrt(se / (ss || 1));
    quantizedParams += w.data.length;
    written[name] = { shape: t.shape, data: q.data };
  }
  if (quantizedParams === 0) {
    throw new Error(
      `fakeQuantizeModel: ${file} has no q/k/v/o/gate/up/down_proj weights; only Llama-style models are supported.`,
    );
  }
  await Deno.mkdir(out, { recursive: true });
  for await (const entry of Deno.readDir(model)) {
    if (entry.isFile && entry.name !== "model.safetensors") {
      await Deno.copyFile(`${model}/${entry.name}`, `${out}/${entry.name}`);
    }
  }
  await writeSafetensors(`${out}/model.safetensors`, written, { format: "pt", ince_fake_quant: format });
  return { dir: out, format, relativeError, quantizedParams, totalParams };
}
