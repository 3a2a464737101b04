/**
 * Set-up: the pinned Deno in the cache, the Python environment keyed by its pins, our kernel
 * registered in that environment, and the npm dependencies from `deno.lock`. Every step checks
 * before it acts, so a second run only verifies (a few seconds).
 *
 * Over 300 lines because the steps share one cache layout and one order, so they stay in one `setup()`
 * a reader follows top to bottom.
 *
 * @module
 */

import { ensureDeployTools } from "../deploy/deploy_tools.ts";
import { checkLlamaFactory, ensureLlamaFactory } from "../llamafactory/environment.ts";
import { installUnsloth, unslothCpuRefusal } from "../train/unsloth.ts";
import { cacheDir, projectRoot } from "./paths.ts";
import { detectProfile, type Profile } from "./profile.ts";
import { exists } from "../util/fs.ts";
import { pipInstallPins, runCommand, sha256Hex } from "../util/run_command.ts";

/** The Deno version the project pins (also in the README's commands). */
export const DENO_VERSION = "2.9.6";

/** Default PyTorch ROCm wheel index for the `rocm` profile (override with `INCE_TORCH_INDEX`). */
export const ROCM_TORCH_INDEX = "https://download.pytorch.org/whl/rocm7.1";

/** Options for {@linkcode setup}. */
export interface SetupOptions {
  /** Hardware profile; auto-detected when absent. */
  profile?: Profile;
  /** Print only problems and the final line. */
  quiet?: boolean;
  /** Environment to read (defaults to the process environment). */
  env?: Record<string, string | undefined>;
  /** Delete the cached environments of older pins (each is several GB). */
  prune?: boolean;
  /** Also make sure a Chromium for the browser tests exists (Debian's `chromium`, via apt as root). */
  browser?: boolean;
  /** Also create (first time: ≈ 300 MB, 1–2 min) and verify LLaMA-Factory's own environment (lesson 08). */
  llamafactory?: boolean;
  /** Also install Unsloth's own environment (GPU profiles only; ≈ 4 GB): the trainer's `backend: "unsloth"`. */
  unsloth?: boolean;
}

/** What {@linkcode setup} put where. */
export interface SetupResult {
  profile: Profile;
  /** The pinned Deno binary in the cache. */
  deno: string;
  /** The Python environment folder (in the cache, keyed by the pins). */
  venv: string;
  /** The environment's Python. */
  python: string;
  /** The installed kernelspec file. */
  kernelSpec: string;
  /** The Chromium found or installed (with `browser: true`). */
  chromium?: string;
  /** LLaMA-Factory's Python (with `llamafactory: true`). */
  llamaFactoryPython?: string;
  /** Unsloth's Python (with `unsloth: true`). */
  unslothPython?: string;
  /** Seconds each step took. */
  seconds: Record<string, number>;
}

function _link(target: string, path: string): void {
  try {
    if (Deno.readLinkSync(path) === target) return;
  } catch {
    // missing, or not a link
  }
  try {
    Deno.removeSync(path, { recursive: true });
  } catch {
    // nothing there
  }
  Deno.symlinkSync(target, path);
}

/**
 * Finds a Python ≥ 3.10 to build the environment from: `$INCE_BASE_PYTHON`, else `python3.11`,
 * else `python3`.
 *
 * @param env The environment to read.
 * @returns The interpreter's command.
 * @throws {Error} When none is found, saying what to install.
 *
 * @example Without a usable Python it says what it tried
 * ```ts
 * import assert from "node:assert/strict";
 * import { findBasePython } from "./setup.ts";
 * await assert.rejects(
 *   findBasePython({ INCE_BASE_PYTHON: "no-such-python" }),
 *   /No Python 3\.10\+ found \(tried no-such-python \(not found\)\)/,
 * );
 * ```
 */
export async function findBasePython(env: Record<string, string | undefined>): Promise<string> {
  const candidates = env.INCE_BASE_PYTHON ? [env.INCE_BASE_PYTHON] : ["python3.11", "python3"];
  const tried: string[] = [];
  for (const cmd of candidates) {
    try {
      const out = await new Deno.Command(cmd, {
        args: ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        stdout: "piped",
        stderr: "null",
      }).output();
      const version = new TextDecoder().decode(out.stdout).trim();
      const [major, minor] = version.split(".").map(Number);
      if (out.success && major === 3 && minor >= 10) return cmd;
      tried.push(`${cmd} (${version || "failed"})`);
    } catch {
      tried.push(`${cmd} (not found)`);
    }
  }
  throw new Error(
    `No Python 3.10+ found (tried ${tried.join(", ")}). Install Python 3.11, ` +
      "or point INCE_BASE_PYTHON at one.",
  );
}

/**
 * Makes the machine ready: pinned Deno, the Python environment for the trainer and Jupyter, our
 * kernel registered in it, and the npm dependencies. Idempotent.
 *
 * @param options Profile override and verbosity.
 * @returns Where everything is.
 * @throws {Error} When a step fails, with the failing command and its last output lines.
 *
 * @example Set up from a script
 * ```ts ignore
 * import { setup } from "./setup.ts";
 * const { python } = await setup({ quiet: true });
 * ```
 */
export async function setup(options: SetupOptions = {}): Promise<SetupResult> {
  const env = options.env ?? Deno.env.toObject();
  const say = (line: string) => options.quiet || console.error(line);
  const root = projectRoot();
  const cache = cacheDir({ env });
  const seconds: Record<string, number> = {};
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      seconds[step] = Math.round(performance.now() - t0) / 1000;
    }
  };
  Deno.mkdirSync(`${root}/.tools/bin`, { recursive: true });

  // 1. The pinned Deno, in the cache, so the installed kernel does not depend on this checkout.
  const denoDir = `${cache}/tools/deno-${DENO_VERSION}`;
  const deno = `${denoDir}/node_modules/deno/deno`;
  await timed("deno", async () => {
    if (!exists(deno)) {
      say(`· installing Deno ${DENO_VERSION} into ${denoDir}`);
      Deno.mkdirSync(denoDir, { recursive: true });
      await runCommand(
        "npm",
        ["install", "--prefix", denoDir, "--no-audit", "--no-fund", `deno@${DENO_VERSION}`],
        "Installing Deno",
      );
    }
    await runCommand(deno, ["--version"], "Checking the installed Deno");
    _link(deno, `${root}/.tools/bin/deno`);
  });

  // 2. The Python environment, keyed by profile + pins + base Python, outside the checkout.
  const profile = options.profile ?? detectProfile({ env });
  const torchIndex = env.INCE_TORCH_INDEX || (profile === "rocm" ? ROCM_TORCH_INDEX : "");
  if (options.unsloth && profile === "cpu") throw new Error(unslothCpuRefusal(profile));
  // With a custom torch index the lock (made on PyPI's build) cannot apply: install from the pins.
  const requirements = torchIndex ? "requirements/base.in" : "requirements/lock.txt";
  const pins = Deno.readTextFileSync(`${root}/${requirements}`);
  const basePython = await findBasePython(env);
  const baseVersion =
    (await runCommand(basePython, ["-c", "import sys; print(sys.version.split()[0])"], "Checking Python"))
      .trim();
  const key = (await sha256Hex([profile, torchIndex, baseVersion, pins].join("\n"))).slice(0, 12);
  const venv = `${cache}/venvs/${profile}-py${baseVersion}-${key}`;
  const python = `${venv}/bin/python`;
  const marker = `${venv}/.ince-complete`;
  await timed("python", async () => {
    if (exists(marker)) return;
    // An interrupted install leaves no marker: start it again from scratch.
    if (exists(venv)) Deno.removeSync(venv, { recursive: true });
    say(`· creating the ${profile} Python environment in ${venv} (first time only; PyTorch is large)`);
    const t0 = performance.now();
    await runCommand(basePython, ["-m", "venv", venv], "Creating the Python environment");
    const args = [
      "-m",
      "pip",
      "install",
      "--disable-pip-version-check",
      "--no-input",
      "-r",
      `${root}/${requirements}`,
    ];
    if (torchIndex) args.push("--extra-index-url", torchIndex);
    try {
      await runCommand(python, args, `Installing ${requirements}`);
    } catch (e) {
      Deno.removeSync(venv, { recursive: true });
      throw e;
    }
    Deno.writeTextFileSync(
      marker,
      JSON.stringify({ profile, torchIndex, requirements, seconds: (performance.now() - t0) / 1000 }) + "\n",
    );
  });
  _link(venv, `${root}/.tools/venv`);
  const stale = [...Deno.readDirSync(`${cache}/venvs`)]
    .map((e) => `${cache}/venvs/${e.name}`)
    .filter((path) => path !== venv);
  if (options.prune) {
    for (const path of stale) Deno.removeSync(path, { recursive: true });
    if (stale.length) say(`· removed ${stale.length} older environment(s): ${stale.join(", ")}`);
  } else if (stale.length) {
    say(`· ${stale.length} other environment(s) in ${cache}/venvs; \`deno task setup --prune\` removes them`);
  }

  // 2a. On a GPU profile, the GPU-only additions (Liger's kernels: pure Python, their dependencies are in the lock).
  if (profile !== "cpu") {
    await timed("gpu", async () => {
      const lock = Deno.readTextFileSync(`${root}/requirements/gpu.lock`);
      const gpuMarker = `${venv}/.ince-gpu-${(await sha256Hex(lock)).slice(0, 12)}`;
      if (exists(gpuMarker)) return;
      say("· installing requirements/gpu.lock (Liger kernels) into the Python environment");
      await pipInstallPins(python, `${root}/requirements/gpu.lock`);
      Deno.writeTextFileSync(gpuMarker, "");
    });
  }

  // 2b. Lesson 03's extra Python packages and llama.cpp's converter (pinned; skipped when present).
  await timed("deploy", () => ensureDeployTools({ env, say }));

  // 2c. Optionally LLaMA-Factory's own environment (lesson 08), next to the main one, and its versions.
  let llamaFactoryPython: string | undefined;
  if (options.llamafactory) {
    llamaFactoryPython = await timed("llamafactory", async () => {
      const lf = await ensureLlamaFactory({ env, say });
      const v = await checkLlamaFactory(lf.python);
      say(
        `· LLaMA-Factory ${v.llamafactory} (transformers ${v.transformers}, peft ${v.peft}, trl ${v.trl}, torch ${v.torch}): ${lf.python}`,
      );
      const stale = [...Deno.readDirSync(`${cache}/llamafactory`)]
        .filter((e) => e.name.startsWith("venv-") && `${cache}/llamafactory/${e.name}` !== lf.venv)
        .map((e) => `${cache}/llamafactory/${e.name}`);
      if (options.prune) { for (const path of stale) Deno.removeSync(path, { recursive: true }); }
      if (stale.length) {
        say(
          `· ${options.prune ? "removed" : "kept"} ${stale.length} older LLaMA-Factory environment(s): ${
            stale.join(", ")
          }`,
        );
      }
      return lf.python;
    });
  }
  let unslothPython: string | undefined;
  if (options.unsloth) {
    unslothPython = await timed(
      "unsloth",
      async () => (await installUnsloth({ profile, env, say, torchIndex })).python,
    );
  }

  // 3. Our kernel, written into the environment's Jupyter data path, where its JupyterLab and
  //    nbclient find it (other Jupyters: add `.tools/venv/share/jupyter` to JUPYTER_PATH).
  const kernelSpec = `${venv}/share/jupyter/kernels/ince/kernel.json`;
  await timed("kernel", async () => {
    const template = JSON.parse(Deno.readTextFileSync(`${root}/kernels/ince/kernel.json`));
    const info = JSON.parse(await runCommand(deno, ["info", "--json"], "Reading Deno's cache location"));
    template.argv[0] = deno;
    template.env = {
      ...template.env,
      DENO_DIR: env.DENO_DIR || info.denoDir,
      INCE_PYTHON: python,
      INCE_CACHE: cache,
    };
    const text = JSON.stringify(template, null, 2) + "\n";
    Deno.mkdirSync(`${venv}/share/jupyter/kernels/ince`, { recursive: true });
    if (!exists(kernelSpec) || Deno.readTextFileSync(kernelSpec) !== text) {
      Deno.writeTextFileSync(kernelSpec, text);
    }
  });

  // 4. npm dependencies exactly as deno.lock says.
  await timed("npm", async () => {
    await runCommand(deno, ["install", "--frozen"], "Installing npm dependencies from deno.lock", {
      cwd: root,
    });
  });

  // 5. Optionally a browser, for the tests that open exported HTML and JupyterLab.
  let chromium: string | undefined;
  if (options.browser) {
    try {
      chromium = await timed("browser", () => ensureChromium({ env, say }));
    } catch (e) {
      // Not fatal: only the browser tests need it, and they say the same thing when they run.
      console.error(`! ${(e as Error).message}`);
    }
  }

  say(`✓ set-up done (${profile}): python ${python}`);
  return {
    profile,
    deno,
    venv,
    python,
    kernelSpec,
    seconds,
    ...(chromium ? { chromium } : {}),
    ...(llamaFactoryPython ? { llamaFactoryPython } : {}),
    ...(unslothPython ? { unslothPython } : {}),
  };
}

/**
 * Finds Chromium (`INCE_CHROMIUM`, then `/usr/bin/chromium`, then `chromium` on PATH), installing
 * Debian's `chromium` package with apt when missing and running as root.
 *
 * @param options Environment and a logger.
 * @returns The browser's path.
 * @throws {Error} When none is found and it cannot be installed, saying how to install it.
 *
 * @example May install Chromium with apt
 * ```ts ignore
 * import { ensureChromium } from "./setup.ts";
 * const browser = await ensureChromium({ say: console.error });
 * console.log(`browser tests use ${browser}`);
 * ```
 */
export async function ensureChromium(
  options: { env?: Record<string, string | undefined>; say?: (line: string) => void } = {},
): Promise<string> {
  const env = options.env ?? Deno.env.toObject();
  const found = findChromium(env);
  if (found) return found;
  const root = Deno.uid?.() === 0;
  const apt = exists("/usr/bin/apt-get");
  if (!root || !apt) {
    throw new Error(
      "Chromium was not found (needed by the browser tests). Install it (Debian/Ubuntu: " +
        "`sudo apt-get install chromium`) or set INCE_CHROMIUM to a Chromium/Chrome binary.",
    );
  }
  options.say?.("· installing Debian's chromium for the browser tests (apt-get)");
  const aptEnv = { DEBIAN_FRONTEND: "noninteractive" };
  await runCommand("apt-get", ["update", "-qq"], "apt-get update", { env: aptEnv });
  await runCommand("apt-get", ["install", "-y", "-qq", "chromium"], "Installing chromium with apt-get", {
    env: aptEnv,
  });
  const installed = findChromium(env);
  if (!installed) throw new Error("apt-get installed chromium but no chromium binary was found on PATH.");
  return installed;
}

/**
 * The Chromium binary to use, if any: `INCE_CHROMIUM`, `/usr/bin/chromium`, or `chromium` on PATH.
 *
 * @param env The environment to read.
 * @returns Its path, or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findChromium } from "./setup.ts";
 * const browser = Deno.execPath(); // any existing file stands in for a browser here
 * assert.equal(findChromium({ INCE_CHROMIUM: browser }), browser);
 * ```
 */
export function findChromium(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): string | undefined {
  const candidates = [
    env.INCE_CHROMIUM,
    "/usr/bin/chromium",
    ...(env.PATH ?? "").split(":").filter(Boolean).map((d) => `${d}/chromium`),
  ];
  return candidates.find((p): p is string => !!p && exists(p));
}
