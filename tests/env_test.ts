import assert from "node:assert/strict";
import { cacheDir, projectRoot, pythonPath } from "../lib/env/paths.ts";
import { detectProfile } from "../lib/env/profile.ts";

Deno.test("detectProfile() prefers INCE_PROFILE, then rocminfo, then nvidia-smi, else cpu", () => {
  const has = (names: string[]) => (n: string) => names.includes(n);
  assert.equal(detectProfile({ env: { INCE_PROFILE: "cuda" }, hasCommand: has(["rocminfo"]) }), "cuda");
  assert.equal(detectProfile({ env: {}, hasCommand: has(["rocminfo", "nvidia-smi"]) }), "rocm");
  assert.equal(detectProfile({ env: {}, hasCommand: has(["nvidia-smi"]) }), "cuda");
  assert.equal(detectProfile({ env: {}, hasCommand: has([]) }), "cpu");
  assert.throws(
    () => detectProfile({ env: { INCE_PROFILE: "tpu" } }),
    /INCE_PROFILE="tpu" is not a known profile: use one of cpu, cuda, rocm/,
  );
});

Deno.test("cacheDir() follows INCE_CACHE, then XDG_CACHE_HOME, then HOME", () => {
  assert.equal(cacheDir({ env: { INCE_CACHE: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" } }), "/c");
  assert.equal(cacheDir({ env: { XDG_CACHE_HOME: "/x", HOME: "/h" } }), "/x/ince");
  assert.equal(cacheDir({ env: { HOME: "/h" } }), "/h/.cache/ince");
  assert.throws(() => cacheDir({ env: {} }), /set INCE_CACHE/);
});

Deno.test("pythonPath() points at the set-up environment, and says how to make it when missing", () => {
  assert.throws(
    () => pythonPath({ env: { INCE_PYTHON: "/nowhere/python" } }),
    /Run `npx -y deno@2\.9\.6 task setup`/,
  );
  const python = pythonPath({ env: {} });
  assert.match(python, /\.tools\/venv\/bin\/python$/);
});

Deno.test("set-up registered our kernel with signal interrupts (see lib/env/kernel_interrupt.ts), NO_COLOR and the pinned Deno", () => {
  const spec = JSON.parse(
    Deno.readTextFileSync(`${projectRoot()}/.tools/venv/share/jupyter/kernels/ince/kernel.json`),
  );
  assert.equal(spec.interrupt_mode, "signal");
  assert.equal(spec.env.NO_COLOR, "1");
  assert.match(spec.argv[0], /deno-2\.9\.6\/node_modules\/deno\/deno$/);
  assert.deepEqual(spec.argv.slice(1), ["jupyter", "--kernel", "--conn", "{connection_file}"]);
  assert.ok(spec.env.DENO_DIR && spec.env.INCE_PYTHON && spec.env.INCE_CACHE);
});
