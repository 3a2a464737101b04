import assert from "node:assert/strict";
import {
  fromRows,
  matmul,
  matmulPlain,
  matrix,
  parseSafetensors,
  qr,
  randn,
  randomizedSvd,
  serializeSafetensors,
  svd,
  transpose,
} from "../lib/math/mod.ts";
import { loraForward, pissaInit } from "../lib/adapters/mod.ts";
import { nf4Quantize } from "../lib/quant/mod.ts";

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  return e;
}

Deno.test("matmul() on onnxruntime agrees with the plain loop for every transpose", async () => {
  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
    const a = transA ? randn(90, 120, 1) : randn(120, 90, 1);
    const b = transB ? randn(70, 90, 2) : randn(90, 70, 2);
    const want = matmulPlain(a, b, { transA, transB });
    const got = await matmul(a, b, { transA, transB, backend: "onnx" });
    assert.deepEqual([got.rows, got.cols], [120, 70]);
    assert.ok(maxAbsDiff(got.data, want.data) < 1e-4, `transA=${transA} transB=${transB}`);
  }
});

Deno.test("qr() gives orthonormal columns that rebuild the matrix", async () => {
  const a = randn(300, 20, 3);
  const { q, r } = qr(a);
  const qtq = await matmul(q, q, { transA: true });
  for (let i = 0; i < 20; i++) {
    for (let j = 0; j < 20; j++) assert.ok(Math.abs(qtq.data[i * 20 + j] - (i === j ? 1 : 0)) < 1e-5);
  }
  assert.ok(maxAbsDiff((await matmul(q, r)).data, a.data) < 1e-4);
});

Deno.test("svd() rebuilds wide and tall matrices with descending singular values", async () => {
  for (const a of [randn(15, 9, 4), randn(9, 15, 5)]) {
    const { u, s, vt } = svd(a);
    for (let i = 1; i < s.length; i++) assert.ok(s[i - 1] >= s[i]);
    const us = { ...u, data: u.data.map((x, i) => x * s[i % u.cols]) };
    assert.ok(maxAbsDiff((await matmul(us, vt)).data, a.data) < 1e-4);
  }
});

Deno.test("svd() and randomizedSvd() give numpy's singular values (numpy.linalg.svd as the oracle)", async () => {
  // np.linalg.svd(a, compute_uv=False) in float64.
  const cases: { a: number[][]; want: number[]; rank: number }[] = [
    {
      a: [[1, 2, 3], [4, 5, 6], [7, 8, 10], [1, 0, 1]],
      want: [17.45089558463664, 0.9869391657365876, 0.7015656613921288],
      rank: 3,
    },
    {
      // rank 2 (a sum of two outer products): the randomized SVD is exact at rank 2
      a: [[2, -1, 0, 1, 1], [5, -1, -2, 2, 5], [1, 1, -2, 0, 3], [0, 3, -4, -1, 5], [5, -4, 2, 3, 0], [
        3,
        0,
        -2,
        1,
        4,
      ]],
      want: [11.535160517837772, 9.107143999504821],
      rank: 2,
    },
  ];
  for (const { a, want, rank } of cases) {
    for (const m of [fromRows(a), transpose(fromRows(a))]) {
      const exact = svd(m).s, approx = (await randomizedSvd(m, rank)).s;
      for (let i = 0; i < want.length; i++) {
        assert.ok(Math.abs(exact[i] - want[i]) / want[i] < 1e-6, `svd σ${i}: ${exact[i]} vs ${want[i]}`);
        assert.ok(
          Math.abs(approx[i] - want[i]) / want[i] < 1e-5,
          `randomizedSvd σ${i}: ${approx[i]} vs ${want[i]}`,
        );
      }
    }
  }
});

Deno.test("qr() of a matrix with a dependent column gives a zero column and a zero on R's diagonal", () => {
  const { q, r } = qr(fromRows([[1, 2], [2, 4], [2, 4]]));
  assert.deepEqual(Array.from(q.data, (x) => +x.toFixed(6)), [0.333333, 0, 0.666667, 0, 0.666667, 0]);
  assert.deepEqual(Array.from(r.data), [3, 6, 0, 0]);
});

Deno.test("svd() of a rank-deficient matrix keeps the zero singular values and still rebuilds it", async () => {
  for (
    const a of [
      fromRows([[1, 2], [2, 4], [3, 6], [0, 0], [1, 2]]),
      fromRows([[1, 2, 3, 0, 1], [2, 4, 6, 0, 2]]),
    ]
  ) {
    const { u, s, vt } = svd(a);
    assert.ok(Math.abs(s[0] - Math.sqrt(75)) < 1e-5 && s[1] < 1e-6, `s = ${Array.from(s)}`);
    const us = { ...u, data: u.data.map((x, i) => x * s[i % u.cols]) };
    assert.ok(maxAbsDiff((await matmul(us, vt)).data, a.data) < 1e-5);
  }
});

Deno.test("randomizedSvd() finds the top singular values of a low-rank-plus-noise matrix", async () => {
  const n = 256, k = 8;
  const low = await matmul(randn(n, k, 6), randn(k, n, 7));
  const noise = randn(n, n, 8);
  const a = { ...low, data: low.data.map((x, i) => x + 0.01 * noise.data[i]) };
  const exact = svd(a).s.slice(0, k);
  const approx = (await randomizedSvd(a, k, { niter: 2 })).s;
  for (let i = 0; i < k; i++) {
    assert.ok(Math.abs(approx[i] - exact[i]) / exact[i] < 1e-3, `σ${i}: ${approx[i]} vs ${exact[i]}`);
  }
});

Deno.test("PiSSA with the randomized SVD (pissa_niter_K) keeps W = W_res + s·B·A", async () => {
  const W = randn(64, 48, 9);
  const { adapter, residual } = await pissaInit(W, { r: 4, alpha: 8, niter: 4 });
  const rebuilt = await loraForward(
    transpose(matrix(48, 48, Array.from({ length: 48 * 48 }, (_, i) => (i % 49 === 0 ? 1 : 0)))),
    residual,
    adapter,
  );
  assert.ok(maxAbsDiff(transpose(rebuilt).data, W.data) < 1e-4);
});

Deno.test("bad input gets a clear error naming the shapes or values", async (t) => {
  const cases: { name: string; run: () => unknown; want: RegExp }[] = [
    {
      name: "shape mismatch",
      run: () => matmul(matrix(2, 3), matrix(4, 5)),
      want: /inner sizes differ: 2×3 · 4×5 \(3 ≠ 4\)/,
    },
    {
      name: "LoRA factors that do not fit W",
      run: () => loraForward(matrix(1, 3), matrix(2, 3), { A: matrix(2, 4), B: matrix(2, 2), alpha: 1 }),
      want: /W is 2×3 \(out×in\), A is 2×4 \(needs r×3\)/,
    },
    {
      name: "rank larger than the matrix",
      run: () => randomizedSvd(randn(5, 4), 6),
      want: /rank 6 .* min\(rows, cols\) = 4 for a 5×4 matrix/,
    },
    {
      name: "PiSSA rank too large",
      run: () => pissaInit(randn(3, 3), { r: 4, alpha: 1 }),
      want: /PiSSA rank 4 must be from 1 to min\(out, in\) = 3/,
    },
    {
      name: "Infinity in the randomized SVD's input (found through the sketch)",
      run: () => {
        const a = randn(300, 200, 1);
        a.data[123 * 200 + 45] = -Infinity;
        return randomizedSvd(a, 4);
      },
      want: /randomizedSvd input \(300×200\) holds -Infinity at row 123, column 45/,
    },
    {
      name: "NaN in the randomized SVD's input",
      run: () => randomizedSvd(fromRows([[1, 2, 3], [4, NaN, 6]]), 1),
      want: /randomizedSvd input \(2×3\) holds NaN at row 1, column 1/,
    },
    {
      name: "NaN in weights",
      run: () => svd(fromRows([[1, 2], [NaN, 4]])),
      want: /svd input \(2×2\) holds NaN at row 1, column 0/,
    },
    { name: "NaN in NF4 input", run: () => nf4Quantize(new Float32Array([1, NaN])), want: /value 1 is NaN/ },
    {
      name: "corrupt safetensors header",
      run: () => {
        const bytes = serializeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
        bytes[8] = "!".charCodeAt(0); // the header's opening brace
        return parseSafetensors(bytes, "adapter_model.safetensors");
      },
      want: /adapter_model\.safetensors: not a valid safetensors file: the header is not JSON/,
    },
    {
      name: "truncated safetensors",
      run: () =>
        parseSafetensors(
          serializeSafetensors({ w: { shape: [4], data: new Float32Array(4) } }).slice(0, -4),
          "shard.safetensors",
        ),
      want: /shard\.safetensors: .*tensor "w" ends at byte \d+, past the end of the file/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await assert.rejects(async () => await c.run(), c.want);
    });
  }
});

Deno.test("safetensors written in TS round-trip with shapes, dtypes and metadata", () => {
  const bytes = serializeSafetensors(
    {
      "a.weight": { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      codes: { shape: [3], data: new Uint8Array([1, 2, 3]) },
    },
    { format: "pt" },
  );
  const { tensors, metadata } = parseSafetensors(bytes);
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual(tensors["a.weight"].shape, [2, 2]);
  assert.equal(tensors["a.weight"].dtype, "F32");
  assert.deepEqual(Array.from(tensors.codes.data as Uint8Array), [1, 2, 3]);
});
