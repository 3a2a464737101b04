/**
 * Linear algebra against numpy and PyTorch, measured in one run on this machine:
 *   - 1024² float32 matmul: ince (onnxruntime) vs numpy        (goal: ≤ 2× numpy's time)
 *   - rank-16 randomized SVD of 2048², 2 power iterations: ince vs torch.svd_lowrank (goal: ≤ 2×)
 *
 *   deno run -A bench/linalg_bench.ts [repeats=10]
 */
import { matmul, randn, randomizedSvd } from "../lib/math/mod.ts";
import { pythonPath } from "../lib/env/paths.ts";

const repeats = Number(Deno.args[0] ?? 10);

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up (session creation, caches)
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const a = randn(1024, 1024, 1), b = randn(1024, 1024, 2);
const big = randn(2048, 2048, 3);
const ours = {
  matmul: await median(() => matmul(a, b)),
  svd: await median(() => randomizedSvd(big, 16, { niter: 2 })),
};

const PY = `
import json, sys, time, numpy as np, torch
repeats = int(sys.argv[1])
def median(fn):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1000)
    return sorted(ts)[len(ts) // 2]
a = np.random.randn(1024, 1024).astype(np.float32); b = np.random.randn(1024, 1024).astype(np.float32)
big = torch.randn(2048, 2048)
print(json.dumps({"matmul": median(lambda: a @ b), "svd": median(lambda: torch.svd_lowrank(big, q=16, niter=2)),
                  "threads": torch.get_num_threads()}))
`;
const out = await new Deno.Command(pythonPath(), {
  args: ["-c", PY, String(repeats)],
  stdout: "piped",
  stderr: "inherit",
}).output();
const ref = JSON.parse(new TextDecoder().decode(out.stdout));

const rows = [
  { task: "matmul 1024² f32", ince_ms: ours.matmul, reference: "numpy", reference_ms: ref.matmul },
  {
    task: "randomized SVD r=16 of 2048², niter=2",
    ince_ms: ours.svd,
    reference: "torch.svd_lowrank",
    reference_ms: ref.svd,
  },
].map((r) => ({
  ...r,
  ince_ms: +r.ince_ms.toFixed(1),
  reference_ms: +r.reference_ms.toFixed(1),
  ratio: +(r.ince_ms / r.reference_ms).toFixed(2),
  goal: "≤ 2",
}));
console.table(rows);
for (const r of rows) console.log(`${r.task}: ince/${r.reference} time ratio = ${r.ratio} (goal ≤ 2)`);
