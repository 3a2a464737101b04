/**
 * Matrix products: a plain loop for tiny sizes, onnxruntime (MLAS, multi-threaded) for the rest.
 *
 * @module
 */
import type * as Ort from "onnxruntime-node";
import type { Matrix } from "./matrix.ts";
import { gemmModel } from "./_onnx_gemm.ts";

/** Options for {@linkcode matmul}. */
export interface MatmulOptions {
  /** Use `aᵀ` instead of `a`. */
  transA?: boolean;
  /** Use `bᵀ` instead of `b`. */
  transB?: boolean;
  /** Force a path (default: plain below ~64³ multiply-adds, onnxruntime above). */
  backend?: "plain" | "onnx";
}

const _sessions = new Map<string, Promise<Ort.InferenceSession>>();
let _ort: Promise<typeof Ort> | undefined;

/** onnxruntime, loaded on first use: importing the math (e.g. in a sandboxed exercise) needs no native addon. */
function _onnx(): Promise<typeof Ort> {
  return _ort ??= import("onnxruntime-node");
}

function _session(transA: boolean, transB: boolean): Promise<Ort.InferenceSession> {
  const key = `${transA}${transB}`;
  let s = _sessions.get(key);
  if (!s) {
    s = _onnx().then((ort) =>
      ort.InferenceSession.create(gemmModel(transA, transB), {
        graphOptimizationLevel: "all",
        // Idle worker threads must not spin: on a 2-core laptop they would steal the CPU from the
        // JavaScript work (QR, Jacobi) that runs between products.
        extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
      })
    );
    _sessions.set(key, s);
  }
  return s;
}

/**
 * The plain-JavaScript product (i-k-j order), exact reference for small sizes.
 *
 * @param a Left matrix.
 * @param b Right matrix.
 * @param options Transposes.
 * @returns `op(a)·op(b)`.
 * @throws {Error} On inner sizes that do not match, naming both shapes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, toRows } from "./matrix.ts";
 * import { matmulPlain } from "./matmul.ts";
 * assert.deepEqual(toRows(matmulPlain(fromRows([[1, 2]]), fromRows([[3], [4]]))), [[11]]);
 * ```
 */
export function matmulPlain(a: Matrix, b: Matrix, options: MatmulOptions = {}): Matrix {
  const { m, k, n } = _dims(a, b, options);
  const out = new Float32Array(m * n);
  const A = a.data, B = b.data;
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = options.transA ? A[p * a.cols + i] : A[i * a.cols + p];
      if (av === 0) continue;
      const row = i * n;
      if (options.transB) { for (let j = 0; j < n; j++) out[row + j] += av * B[j * b.cols + p]; }
      else for (let j = 0, o = p * n; j < n; j++) out[row + j] += av * B[o + j];
    }
  }
  return { rows: m, cols: n, data: out };
}

function _dims(a: Matrix, b: Matrix, o: MatmulOptions): { m: number; k: number; n: number } {
  const [m, k] = o.transA ? [a.cols, a.rows] : [a.rows, a.cols];
  const [k2, n] = o.transB ? [b.cols, b.rows] : [b.rows, b.cols];
  if (k !== k2) {
    const name = (x: Matrix, t?: boolean) => `${x.rows}×${x.cols}${t ? "ᵀ" : ""}`;
    throw new Error(
      `matmul: inner sizes differ: ${name(a, o.transA)} · ${name(b, o.transB)} (${k} ≠ ${k2}). ` +
        "Check which side should be transposed.",
    );
  }
  return { m, k, n };
}

/**
 * `op(a)·op(b)`, on onnxruntime for anything but tiny sizes.
 *
 * @param a Left matrix.
 * @param b Right matrix.
 * @param options Transposes and backend.
 * @returns The product.
 * @throws {Error} On inner sizes that do not match, naming both shapes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, toRows } from "./matrix.ts";
 * import { matmul } from "./matmul.ts";
 * const c = await matmul(fromRows([[1, 2], [3, 4]]), fromRows([[1, 0], [0, 1]]), { backend: "onnx" });
 * assert.deepEqual(toRows(c), [[1, 2], [3, 4]]);
 * ```
 */
export async function matmul(a: Matrix, b: Matrix, options: MatmulOptions = {}): Promise<Matrix> {
  const { m, k, n } = _dims(a, b, options);
  const backend = options.backend ?? (m * k * n < 64 ** 3 ? "plain" : "onnx");
  if (backend === "plain" || m === 0 || n === 0 || k === 0) return matmulPlain(a, b, options);
  const session = await _session(!!options.transA, !!options.transB);
  const ort = await _onnx();
  const result = await session.run({
    A: new ort.Tensor("float32", a.data, [a.rows, a.cols]),
    B: new ort.Tensor("float32", b.data, [b.rows, b.cols]),
  });
  return { rows: m, cols: n, data: result.Y.data as Float32Array };
}
