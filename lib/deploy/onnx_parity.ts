/**
 * Is the exported ONNX model the same function as the PyTorch model? Every logit of every position of
 * some chats, computed by both (PyTorch in a Python process, written to a float32 file; ONNX here),
 * and the largest absolute difference.
 *
 * @module
 */
import { z } from "zod";
import { modelArg, runPythonJob } from "../infer/_python_job.ts";
import type { ChatQuestion } from "./compare_formats.ts";
import type { OnnxModel } from "./onnx_model.ts";

/** What {@linkcode onnxLogitsGap} found. */
export interface LogitsGap {
  /** max |logit_ONNX − logit_PyTorch| over every position and vocabulary entry. */
  maxAbsDiff: number;
  /** How many logits were compared. */
  logits: number;
  /** How many chats (question + answer, tokenized by transformers). */
  chats: number;
}

const ReferenceSchema = z.object({
  vocab: z.number(),
  sequences: z.array(z.object({ fullIds: z.array(z.number()), offset: z.number() }).passthrough()),
});

/**
 * Compares an ONNX model's logits with PyTorch's (float32, transformers) on the full chats of `questions`.
 *
 * @param onnx The loaded ONNX model (`loadOnnx`).
 * @param modelDir The model folder it was exported from.
 * @param questions Chats to compare on (prompt + reference answer, tokenized by transformers).
 * @returns The largest difference and how much was compared.
 * @throws {Error} When the vocabulary sizes differ (not the same model).
 *
 * @example
 * ```ts ignore
 * import { loadOnnx } from "./onnx_model.ts";
 * import { onnxLogitsGap } from "./onnx_parity.ts";
 * const onnx = await loadOnnx("out/ince-tiny.onnx", { modelDir: "data/models/ince-tiny" });
 * const gap = await onnxLogitsGap(onnx, "data/models/ince-tiny", [{ prompt: [{ role: "user", content: "Hi" }], answer: "Hello" }]);
 * ```
 */
export async function onnxLogitsGap(
  onnx: OnnxModel,
  modelDir: string,
  questions: readonly ChatQuestion[],
): Promise<LogitsGap> {
  const tmp = Deno.makeTempDirSync({ prefix: "ince-logits-" });
  try {
    const logitsFile = `${tmp}/reference.f32`;
    const ref = await runPythonJob(
      "deploy/python/reference_logits.py",
      { model: modelArg(modelDir), examples: questions, logitsFile },
      `PyTorch logits of ${modelDir}`,
      ReferenceSchema,
    );
    if (ref.vocab !== onnx.vocabSize) {
      throw new Error(
        `${onnx.path}: its vocabulary has ${onnx.vocabSize} entries, ${modelDir}'s ${ref.vocab}; ` +
          "compare an ONNX file with the model it was exported from.",
      );
    }
    const reference = new Float32Array(Deno.readFileSync(logitsFile).buffer);
    let maxAbsDiff = 0, logits = 0;
    for (const seq of ref.sequences) {
      const got = await onnx.logits(seq.fullIds);
      const want = reference.subarray(seq.offset, seq.offset + seq.fullIds.length * ref.vocab);
      if (got.length !== want.length) {
        throw new Error(
          `${onnx.path}: ${got.length} logits for a ${seq.fullIds.length}-token chat, expected ${want.length}.`,
        );
      }
      for (let i = 0; i < got.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i] - want[i]));
      logits += got.length;
    }
    return { maxAbsDiff, logits, chats: ref.sequences.length };
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}
