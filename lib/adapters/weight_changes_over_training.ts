/**
 * The DoRA paper's Figure 2 (Liu et al. 2024, Sec. 3): one kind of matrix (the query projection), in every
 * layer, at several checkpoints of a run, as (ΔD, ΔM) points — for a full fine-tune, LoRA and DoRA alike —
 * and the trend of ΔM against ΔD. The paper reads a negative slope for full fine-tuning and DoRA (a large
 * change of direction comes with a small change of magnitude, or the other way round) and a positive one
 * for LoRA (both grow together).
 *
 * The paper's definitions, for a matrix at training step t with rows n = 1..k (see `weight_changes.ts` for
 * why rows of PyTorch's out×in weight are the paper's columns):
 * `ΔM_t = Σ_n |m_t^n − m_0^n| / k` with `m^n = ‖w^n‖`, and `ΔD_t = Σ_n (1 − cos(w_t^n, w_0^n)) / k`.
 *
 * A run keeps its checkpoints in `runDir/checkpoints/checkpoint-N/`: `adapter_model.safetensors` for an
 * adapter run (TRL saves the PEFT adapter only), `model.safetensors` for a full fine-tune (the whole
 * model). Train with `train.saveEvery` and a `train.keepCheckpoints` large enough to keep them all.
 *
 * @module
 */
import { correlation } from "../math/stats.ts";
import { exists } from "../util/fs.ts";
import {
  adapterWeightChanges,
  modelWeightChanges,
  readModelWeights,
  type WeightChange,
  type WeightChangeOptions,
} from "./weight_changes.ts";

/** One point of the figure: one layer's matrix at one checkpoint. */
export interface WeightChangePoint extends WeightChange {
  /** The training step the checkpoint was saved at. */
  step: number;
}

/** A checkpoint folder and its step. */
export interface CheckpointFolder {
  step: number;
  dir: string;
}

/**
 * The checkpoints a run kept, oldest first.
 *
 * @param runDir The run folder (`trainRun(...).dir`).
 * @returns `runDir/checkpoints/checkpoint-N` folders with their steps N, by step.
 * @throws {Error} When the run kept no checkpoint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCheckpoints } from "./weight_changes_over_training.ts";
 * const run = Deno.makeTempDirSync();
 * for (const n of [40, 20, 60]) Deno.mkdirSync(`${run}/checkpoints/checkpoint-${n}`, { recursive: true });
 * assert.deepEqual(runCheckpoints(run).map((c) => c.step), [20, 40, 60]);
 * assert.throws(() => runCheckpoints(`${run}/checkpoints/checkpoint-20`), /saveEvery/);
 * Deno.removeSync(run, { recursive: true });
 * ```
 */
export function runCheckpoints(runDir: string): CheckpointFolder[] {
  const dir = `${runDir}/checkpoints`;
  const found = exists(dir)
    ? [...Deno.readDirSync(dir)].flatMap((e) => {
      const m = e.isDirectory ? e.name.match(/^checkpoint-(\d+)$/) : null;
      return m ? [{ step: Number(m[1]), dir: `${dir}/${e.name}` }] : [];
    })
    : [];
  if (found.length === 0) {
    throw new Error(
      `${runDir}: no checkpoints/checkpoint-N folders; train with train.saveEvery > 0 and train.keepCheckpoints as large as the number of checkpoints you want.`,
    );
  }
  return found.sort((a, b) => a.step - b.step);
}

function _step(dir: string): number {
  const m = dir.replace(/\/+$/, "").match(/checkpoint-(\d+)$/);
  if (m) return Number(m[1]);
  const state = `${dir}/trainer_state.json`;
  if (exists(state)) return Number(JSON.parse(Deno.readTextFileSync(state)).global_step);
  throw new Error(
    `${dir}: cannot tell its training step (no checkpoint-N name, no trainer_state.json); pass checkpoint folders.`,
  );
}

/**
 * ΔM and ΔD of one kind of matrix in every layer at every checkpoint of a run: merged adapters (LoRA,
 * DoRA with its magnitude) or a full fine-tune's saved weights, against the base model.
 *
 * @param modelDir The base model folder the run started from.
 * @param checkpoints A run folder (all the checkpoints it kept) or a list of checkpoint folders.
 * @param options `module`: the kind of matrix (default `"q_proj"`, the paper's query matrix).
 * @returns One point per (checkpoint, layer), by step then layer.
 * @throws {Error} When the run kept no checkpoint, a folder holds neither an adapter nor a model, or no
 *   matrix matches `module`.
 *
 * @example Needs a run trained with `saveEvery` (e.g. `numbersRecipe({ train: { maxSteps: 100, saveEvery: 20, keepCheckpoints: 5 } })`)
 * ```ts ignore
 * import { weightChangesOverTraining } from "./weight_changes_over_training.ts";
 * const points = await weightChangesOverTraining("data/models/ince-tiny", "runs/<id>");
 * console.table(points); // step, layer, module, deltaM, deltaD
 * ```
 */
export async function weightChangesOverTraining(
  modelDir: string,
  checkpoints: string | readonly string[],
  options: WeightChangeOptions = {},
): Promise<WeightChangePoint[]> {
  const folders = typeof checkpoints === "string"
    ? runCheckpoints(checkpoints)
    : checkpoints.map((dir) => ({ step: _step(dir), dir }));
  const base = await readModelWeights(modelDir);
  const module = options.module ?? "q_proj";
  const points: WeightChangePoint[] = [];
  for (const { step, dir } of folders) {
    let changes: WeightChange[];
    if (exists(`${dir}/adapter_model.safetensors`)) {
      changes = await adapterWeightChanges(base, dir, { module });
    } else if (exists(`${dir}/model.safetensors`) || exists(`${dir}/model.safetensors.index.json`)) {
      changes = await modelWeightChanges(base, dir, { module });
    } else {
      throw new Error(
        `${dir}: neither adapter_model.safetensors (an adapter run) nor model.safetensors (a full fine-tune); pass checkpoint folders of a run.`,
      );
    }
    points.push(...changes.map((c) => ({ step, ...c })));
  }
  return points.sort((a, b) => a.step - b.step || a.layer - b.layer);
}

/** The trend of ΔM against ΔD over a set of points. */
export interface WeightChangeTrend {
  /** How many points. */
  points: number;
  /** Pearson's correlation of ΔM with ΔD (the paper's "positive"/"negative" reading). */
  correlation: number;
  /** Least-squares slope of ΔM on ΔD (the figure's y on x). */
  slope: number;
}

/**
 * How ΔM moves with ΔD over all points of one method (all layers, all checkpoints): the correlation and
 * the fitted slope the paper reads its Figure 2 by.
 *
 * @param points The points, e.g. from {@linkcode weightChangesOverTraining}.
 * @returns Correlation and slope (NaN when ΔD or ΔM is constant).
 * @throws {RangeError} With fewer than 2 points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { weightChangeTrend } from "./weight_changes_over_training.ts";
 * const t = weightChangeTrend([{ deltaD: 0, deltaM: 3 }, { deltaD: 1, deltaM: 1 }, { deltaD: 2, deltaM: -1 }]);
 * assert.deepEqual(t, { points: 3, correlation: -1, slope: -2 });
 * ```
 */
export function weightChangeTrend(
  points: readonly { deltaM: number; deltaD: number }[],
): WeightChangeTrend {
  if (points.length < 2) {
    throw new RangeError(
      `weightChangeTrend(): needs at least 2 points, got ${points.length}; keep more checkpoints or layers.`,
    );
  }
  const x = points.map((p) => p.deltaD), y = points.map((p) => p.deltaM);
  const mx = x.reduce((a, b) => a + b, 0) / x.length, my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return { points: points.length, correlation: correlation(x, y), slope: sxy / sxx };
}
