/**
 * The environment check a lesson starts with: what this machine has, with a verdict per row.
 *
 * @module
 */
import { pythonPath } from "./paths.ts";

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
except Exception as e:
    out["torch_error"] = f"{type(e).__name__}: {e}"
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
  const out = await new Deno.Command(python, { args: ["-c", _PROBE], stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? "";
    rows.push({
      item: "Python environment",
      value: python,
      verdict: "fail",
      hint: `It does not run: ${err}. Run \`deno task setup\`.`,
    });
    return rows;
  }
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  rows.push({ item: "Python", value: `${info.python} (${python})`, verdict: "ok" });
  if (info.torch_error) {
    rows.push({
      item: "PyTorch",
      value: info.torch_error,
      verdict: "fail",
      hint: "Run `deno task setup` again.",
    });
    return rows;
  }
  rows.push({ item: "PyTorch", value: info.torch, verdict: "ok" });
  if (info.cuda) {
    const backend = info.hip ? `ROCm/HIP ${info.hip}${info.arch ? `, ${info.arch}` : ""}` : "CUDA";
    rows.push({ item: "GPU", value: `${info.gpu} (${backend}), ${info.gpu_mem_gib} GiB`, verdict: "ok" });
  } else {
    rows.push({
      item: "GPU",
      value: "none visible to PyTorch: training runs on the CPU",
      verdict: "warn",
      hint: "Lessons default to the built-in tiny model, which trains on a CPU in minutes.",
    });
  }
  return rows;
}
