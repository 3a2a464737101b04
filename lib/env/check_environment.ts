/**
 * The environment check a lesson starts with: what this machine has, with a verdict per row.
 *
 * @module
 */
import { z } from "zod";
import { spawnJsonLines } from "../util/json_lines_process.ts";
import { cacheDir, pythonPath } from "./paths.ts";
import { hubCacheDir } from "../hub/hub_env.ts";

/** One row of the check. */
export interface CheckRow {
  /** What was checked. */
  item: string;
  /** What was found. */
  value: string;
  /** `ok`, `warn` (works, but slower or limited) or `fail`. */
  verdict: "ok" | "warn" | "fail";
  /** What to do about a warn/fail. */
  hint?: string;
}

/** What the probe prints (one JSON line). */
const _ProbeSchema = z.object({
  python: z.string(),
  torch: z.string().optional(),
  torch_error: z.string().optional(),
  cuda: z.boolean().optional(),
  hip: z.string().nullable().optional(),
  gpu: z.string().optional(),
  gpu_mem_gib: z.number().optional(),
  arch: z.string().nullable().optional(),
  cuda_version: z.string().nullable().optional(),
  disk_free_gib: z.number().optional(),
  ollama: z.string().nullable(),
});

const _PROBE = `
import json, platform, sys
out = {"python": sys.version.split()[0]}
try:
    import torch
    out["torch"] = torch.__version__
    out["cuda"] = torch.cuda.is_available()
    out["hip"] = getattr(torch.version, "hip", None)
    if out["cuda"]:
        p = torch.cuda.get_device_properties(0)
        out["gpu"] = p.name
        out["gpu_mem_gib"] = round(p.total_memory / 2**30, 1)
        out["arch"] = getattr(p, "gcnArchName", None)
        out["cuda_version"] = torch.version.cuda
except Exception as e:
    out["torch_error"] = f"{type(e).__name__}: {e}"
import shutil
try:
    out["disk_free_gib"] = round(shutil.disk_usage(sys.argv[1]).free / 2**30, 1)
except Exception:
    pass
out["ollama"] = shutil.which("ollama")
print(json.dumps(out))
`;

/**
 * Checks Deno, the Python environment and PyTorch's backend.
 *
 * @returns The rows, in reading order.
 *
 * @example Print the check
 * ```ts ignore
 * import { checkEnvironment } from "./check_environment.ts";
 * console.table(await checkEnvironment());
 * ```
 */
export async function checkEnvironment(): Promise<CheckRow[]> {
  const rows: CheckRow[] = [{ item: "Deno", value: Deno.version.deno, verdict: "ok" }];
  let python: string;
  try {
    python = pythonPath();
  } catch (e) {
    rows.push({ item: "Python environment", value: "missing", verdict: "fail", hint: (e as Error).message });
    return rows;
  }
  const cache = cacheDir();
  Deno.mkdirSync(cache, { recursive: true });
  const probe = spawnJsonLines({
    command: python,
    args: ["-c", _PROBE, cache],
    schema: _ProbeSchema,
    where: "the environment probe",
    otherLines: "skip",
  });
  let info: z.infer<typeof _ProbeSchema> | undefined;
  let bad = "";
  try {
    for await (const line of probe.lines) info = line;
  } catch (e) {
    bad = (e as Error).message;
  }
  const { status, stderrTail } = await probe.finished;
  if (!status.success || !info) {
    rows.push({
      item: "Python environment",
      value: python,
      verdict: "fail",
      hint: `It does not run: ${bad || (stderrTail.at(-1) ?? "no answer")}. Run \`deno task setup\`.`,
    });
    return rows;
  }
  rows.push({ item: "Python", value: `${info.python} (${python})`, verdict: "ok" });
  if (info.torch_error || !info.torch) {
    rows.push({
      item: "PyTorch",
      value: info.torch_error ?? "not installed",
      verdict: "fail",
      hint: "Run `deno task setup` again.",
    });
    return rows;
  }
  rows.push({ item: "PyTorch", value: info.torch, verdict: "ok" });
  const override = Deno.env.get("HSA_OVERRIDE_GFX_VERSION");
  if (info.cuda) {
    const backend = info.hip
      ? `ROCm/HIP ${info.hip}${info.arch ? `, ${info.arch}` : ""}`
      : `CUDA ${info.cuda_version ?? ""}`.trim();
    const advice = gpuAdvice(info.arch ?? null, override);
    rows.push({
      item: "GPU",
      value: `${info.gpu} (${backend}), ${info.gpu_mem_gib} GiB`,
      verdict: advice ? "warn" : "ok",
      ...(advice ? { hint: advice } : {}),
    });
  } else {
    rows.push({
      item: "GPU",
      value: "none visible to PyTorch: training runs on the CPU",
      verdict: "warn",
      hint: "Lessons default to the built-in tiny model, which trains on a CPU in minutes." +
        (gpuAdvice(null, override) ? ` ${gpuAdvice(null, override)}` : ""),
    });
  }
  const mem = Deno.systemMemoryInfo();
  const ramGib = mem.total / 2 ** 30;
  rows.push({
    item: "RAM",
    value: `${ramGib.toFixed(1)} GiB (${(mem.available / 2 ** 30).toFixed(1)} GiB free)`,
    verdict: ramGib >= 8 ? "ok" : "warn",
    ...(ramGib >= 8 ? {} : { hint: "Under 8 GiB: stay with the built-in model or a 0.5B model with QLoRA." }),
  });
  if (typeof info.disk_free_gib === "number") {
    const ok = info.disk_free_gib >= 10;
    rows.push({
      item: "Free disk",
      value: `${info.disk_free_gib} GiB at ${cache}`,
      verdict: ok ? "ok" : "warn",
      ...(ok ? {} : {
        hint:
          "A 0.5B model needs ~1 GB, a 7B one ~15 GB: free some space or set INCE_CACHE/HF_HOME elsewhere.",
      }),
    });
  }
  rows.push({ item: "Hub cache", value: hubCacheDir(), verdict: "ok" });
  rows.push({
    item: "Ollama (optional)",
    value: info.ollama ?? "not installed",
    verdict: info.ollama ? "ok" : "warn",
    ...(info.ollama
      ? {}
      : { hint: "Only lesson 03 (export to Ollama) needs it: https://ollama.com/download." }),
  });
  return rows;
}

/**
 * Advice for AMD GPUs whose support in ROCm is partial, e.g. the Radeon 780M (gfx1103).
 *
 * @param arch The GPU architecture PyTorch reports (`gcnArchName`), or null.
 * @param override `HSA_OVERRIDE_GFX_VERSION`, if set.
 * @returns What to do, or undefined when there is nothing to say.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gpuAdvice } from "./check_environment.ts";
 * assert.match(gpuAdvice("gfx1103", undefined) ?? "", /^Radeon 780M-class APU/);
 * assert.equal(gpuAdvice("gfx90a", undefined), undefined);
 * ```
 */
export function gpuAdvice(arch: string | null, override: string | undefined): string | undefined {
  const notes: string[] = [];
  if (arch?.startsWith("gfx1103")) {
    notes.push(
      "Radeon 780M-class APU (gfx1103): use a PyTorch ROCm build that lists gfx1103 natively " +
        "(`deno task setup --profile rocm`); it shares system RAM, so give it a large UMA buffer in the BIOS.",
    );
  }
  if (override) {
    notes.push(
      `HSA_OVERRIDE_GFX_VERSION=${override} is set: a last resort (it makes ROCm treat the chip as another one, ` +
        "and users report hangs); unset it once your ROCm build supports the chip.",
    );
  }
  return notes.length ? notes.join(" ") : undefined;
}
