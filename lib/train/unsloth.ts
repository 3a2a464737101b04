/**
 * Unsloth as an optional backend of the trainer (`backend: "unsloth"`), pinned to Unsloth 2026.10.9.
 *
 * Unsloth 2026.10.9 declares torch < 2.15, transformers ≤ 5.17.0, trl ≤ 1.15.0 and datasets < 5, while the main
 * environment pins torch 2.15.0, transformers 5.23.0, trl 1.16.0 and datasets 5.2.0 (pip: ResolutionImpossible).
 * So, like LLaMA-Factory (`lib/llamafactory/environment.ts`), it gets its own environment in the cache,
 * `<cache>/unsloth/venv-<key>`, installed from `requirements/unsloth.lock` (standalone: its own torch 2.14.1) on
 * GPU profiles only. A run with `backend: "unsloth"` is trained by `lib/train/python/trainer.py` running on that
 * environment's Python ({@linkcode unslothPython}).
 *
 * {@linkcode unslothStatus} says, without ever crashing on a CPU, whether Unsloth can run here;
 * {@linkcode installUnsloth} is `deno task setup --unsloth`.
 *
 * @module
 */
import { z } from "zod";
import { runPythonJob } from "../infer/_python_job.ts";
import { withBlobLock } from "../hub/blob_lock.ts";
import { cacheDir, projectRoot, pythonPath } from "../env/paths.ts";
import { detectProfile, type Profile } from "../env/profile.ts";
import { exists } from "../util/fs.ts";
import { pipInstallPins, runCommand, sha256Hex } from "../util/run_command.ts";

/** The Unsloth (and unsloth_zoo) release `requirements/unsloth.lock` pins. */
export const UNSLOTH_VERSION = "2026.10.9";

const _LOCK = "requirements/unsloth.lock";
// The lock's CUDA wheels; on the rocm profile they come from the ROCm index instead (torch, torchvision) or
// not at all (xformers is CUDA-only on PyPI; Unsloth runs without it).
const _CUDA_ONLY = /^(torch|torchvision|triton|xformers|nvidia-[a-z0-9-]+|cuda-[a-z-]+)==/i;

/** Options for {@linkcode unslothStatus}, {@linkcode installUnsloth} and {@linkcode unslothPython}. */
export interface UnslothOptions {
  /** Hardware profile (default: {@linkcode detectProfile} of `env`). */
  profile?: Profile;
  /** Environment for the profile, the cache and the main venv (default: the process's). */
  env?: Record<string, string | undefined>;
  /** Progress lines (default `console.error`). */
  say?: (line: string) => void;
  /** The PyTorch wheel index of the rocm profile (default `INCE_TORCH_INDEX`; set-up passes its own). */
  torchIndex?: string;
}

/** What {@linkcode unslothStatus} found. */
export interface UnslothStatus {
  /** Whether a run with `backend: "unsloth"` can train here. */
  available: boolean;
  /** When not: one sentence naming what is missing and the alternative (`backend: "peft"`). */
  reason: string | null;
  /** The installed Unsloth version, or null. */
  version: string | null;
}

/** Where Unsloth's environment is (or would be). */
export interface UnslothEnvironment {
  /** Its Python interpreter. */
  python: string;
  /** The venv folder. */
  venv: string;
  /** Whether it is complete (its `.ince-complete` marker exists). */
  installed: boolean;
}

/**
 * The one-line refusal of the cpu profile (set-up and the trainer say the same).
 *
 * @param profile The machine's profile.
 * @returns The sentence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unslothCpuRefusal } from "./unsloth.ts";
 * assert.match(unslothCpuRefusal("cpu"), /^setup --unsloth: Unsloth needs an NVIDIA \(CUDA\) or AMD \(ROCm\) GPU/);
 * assert.doesNotMatch(unslothCpuRefusal("cpu"), /\n/);
 * ```
 */
export function unslothCpuRefusal(profile: Profile): string {
  return `setup --unsloth: Unsloth needs an NVIDIA (CUDA) or AMD (ROCm) GPU; this machine's profile is ${profile}. ` +
    'Use backend "peft" (the same run config and events), or run `deno task setup --unsloth` on a GPU machine ' +
    "(INCE_PROFILE=cuda|rocm overrides the detection).";
}

function _torchIndex(
  profile: Profile,
  options: UnslothOptions,
  env: Record<string, string | undefined>,
): string {
  return profile === "rocm" ? (options.torchIndex || env.INCE_TORCH_INDEX || "") : "";
}

/**
 * Where Unsloth's environment for this profile and lock lives, and whether it is installed. The key hashes the
 * lock, the profile and the ROCm torch index, so a new pin makes a new environment.
 *
 * @param options Profile, environment and torch index.
 * @returns The interpreter, the venv and whether it is complete.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unslothEnvironment } from "./unsloth.ts";
 * const e = await unslothEnvironment({ profile: "cuda", env: { INCE_CACHE: "/c" } });
 * assert.match(e.venv, /^\/c\/unsloth\/venv-cuda-[0-9a-f]{12}$/);
 * assert.equal(e.python, `${e.venv}/bin/python`);
 * assert.equal(e.installed, false);
 * ```
 */
export async function unslothEnvironment(options: UnslothOptions = {}): Promise<UnslothEnvironment> {
  const env = options.env ?? Deno.env.toObject();
  const profile = options.profile ?? detectProfile({ env });
  const lock = Deno.readTextFileSync(`${projectRoot()}/${_LOCK}`);
  const key = (await sha256Hex([lock, profile, _torchIndex(profile, options, env)].join("\n"))).slice(0, 12);
  const venv = `${cacheDir({ env })}/unsloth/venv-${profile}-${key}`;
  return { python: `${venv}/bin/python`, venv, installed: exists(`${venv}/.ince-complete`) };
}

/**
 * Whether a run with `backend: "unsloth"` can train here: runs `unavailable_reason()` of
 * `lib/train/python/unsloth_backend.py` on Unsloth's environment when it is installed, else on the main one
 * (which has no Unsloth). Never throws on a CPU: the answer says why not, in one sentence.
 *
 * @param options Profile and environment.
 * @returns Available or not, why not, and the installed version.
 * @throws {Error} Only when no Python environment exists at all (run `deno task setup`).
 *
 * @example On a machine without a GPU
 * ```ts
 * import assert from "node:assert/strict";
 * import { unslothStatus } from "./unsloth.ts";
 * const s = await unslothStatus();
 * if (!s.available) assert.match(s.reason!, /GPU|not installed/);
 * ```
 */
export async function unslothStatus(options: UnslothOptions = {}): Promise<UnslothStatus> {
  const env = options.env ?? Deno.env.toObject();
  const own = await unslothEnvironment(options);
  const python = own.installed ? own.python : pythonPath({ env });
  return await runPythonJob(
    "train/python/unsloth_backend.py",
    { device: "auto" },
    "Checking whether Unsloth can run here",
    z.object({ available: z.boolean(), reason: z.string().nullable(), version: z.string().nullable() }),
    { python, env: { OMP_NUM_THREADS: env.OMP_NUM_THREADS ?? "1" } },
  );
}

/**
 * The Python of Unsloth's environment, for the trainer of a `backend: "unsloth"` run.
 *
 * @param options Profile and environment.
 * @returns The interpreter.
 * @throws {Error} One line: on the cpu profile the refusal of {@linkcode unslothCpuRefusal}; on a GPU profile
 * without the environment, which command installs it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unslothPython } from "./unsloth.ts";
 * await assert.rejects(unslothPython({ profile: "cpu" }), /needs an NVIDIA \(CUDA\) or AMD \(ROCm\) GPU/);
 * await assert.rejects(
 *   unslothPython({ profile: "cuda", env: { INCE_CACHE: "/nowhere" } }),
 *   /Unsloth is not installed: run `deno task setup --unsloth`/,
 * );
 * ```
 */
export async function unslothPython(options: UnslothOptions = {}): Promise<string> {
  const env = options.env ?? Deno.env.toObject();
  const profile = options.profile ?? detectProfile({ env });
  if (profile === "cpu") {
    throw new Error(unslothCpuRefusal(profile).replace(/^setup --unsloth/, 'backend "unsloth"'));
  }
  const own = await unslothEnvironment({ ...options, profile, env });
  if (!own.installed) {
    throw new Error(
      `Unsloth is not installed: run \`deno task setup --unsloth\` on this ${profile} machine ` +
        `(its own environment, ≈ 4 GB in ${own.venv}), or use backend "peft" (the same run config and events).`,
    );
  }
  return own.python;
}

/**
 * Installs Unsloth {@linkcode UNSLOTH_VERSION} into its own environment (`deno task setup --unsloth`): a venv
 * from the main environment's base Python, then `pip install --no-deps -r requirements/unsloth.lock` (on rocm:
 * the lock without its CUDA wheels, then torch 2.14.1 + torchvision 0.29.2 from the ROCm index), a version
 * check, and the `.ince-complete` marker. Idempotent: an installed environment (same lock, profile, index) is
 * only found (milliseconds). Two processes take turns (a file lock); an interrupted install starts over.
 *
 * @param options Profile, environment, logger, ROCm torch index.
 * @returns The environment.
 * @throws {Error} One line on the cpu profile (nothing is installed); on a GPU profile, the failing step with
 * its output's tail (the half-made venv is removed).
 *
 * @example The cpu profile refuses in one line
 * ```ts
 * import assert from "node:assert/strict";
 * import { installUnsloth } from "./unsloth.ts";
 * await assert.rejects(installUnsloth({ profile: "cpu" }), /setup --unsloth: Unsloth needs an NVIDIA \(CUDA\)/);
 * ```
 */
export async function installUnsloth(options: UnslothOptions = {}): Promise<UnslothEnvironment> {
  const env = options.env ?? Deno.env.toObject();
  const say = options.say ?? console.error;
  const profile = options.profile ?? detectProfile({ env });
  if (profile === "cpu") throw new Error(unslothCpuRefusal(profile));
  const torchIndex = _torchIndex(profile, options, env);
  if (profile === "rocm" && !torchIndex) {
    throw new Error(
      "setup --unsloth: the rocm profile needs PyTorch's ROCm wheel index: set INCE_TORCH_INDEX " +
        "(e.g. https://download.pytorch.org/whl/rocm7.1) or run it through `deno task setup --unsloth`.",
    );
  }
  const own = await unslothEnvironment({ ...options, profile, env });
  if (own.installed) {
    say(`· Unsloth ${UNSLOTH_VERSION} is installed: ${own.python}`);
    return own;
  }
  const root = projectRoot();
  const mainPython = pythonPath({ env });
  await withBlobLock(`${cacheDir({ env })}/unsloth/.locks/${own.venv.split("/").pop()}.lock`, async () => {
    if (exists(`${own.venv}/.ince-complete`)) return; // another process made it while we waited
    if (exists(own.venv)) Deno.removeSync(own.venv, { recursive: true }); // interrupted before: start over
    say(
      `· installing Unsloth ${UNSLOTH_VERSION} into its own environment ${own.venv} ` +
        "(first time only: its own PyTorch 2.14.1, ≈ 4 GB)",
    );
    const t0 = performance.now();
    try {
      const base = (await runCommand(
        mainPython,
        [
          "-c",
          "import os, sys; b = os.path.join(sys.base_prefix, 'bin'); v = 'python%d.%d' % sys.version_info[:2]; " +
          "print(os.path.join(b, v if os.path.exists(os.path.join(b, v)) else 'python3'))",
        ],
        "Reading the main Python environment's base interpreter",
      )).trim();
      await runCommand(base, ["-m", "venv", own.venv], "Creating Unsloth's Python environment");
      const pip = ["-m", "pip", "install", "--disable-pip-version-check", "--no-input"];
      let lockFile = `${root}/${_LOCK}`;
      if (profile === "rocm") {
        lockFile = `${own.venv}/unsloth-rocm.lock`;
        const lines = Deno.readTextFileSync(`${root}/${_LOCK}`).split("\n").filter((l) =>
          !_CUDA_ONLY.test(l)
        );
        Deno.writeTextFileSync(lockFile, lines.join("\n"));
        await runCommand(
          own.python,
          [...pip, "torch==2.14.1", "torchvision==0.29.2", "--index-url", torchIndex],
          `Installing PyTorch 2.14.1 for ROCm from ${torchIndex}`,
        );
      }
      await pipInstallPins(own.python, lockFile, `Installing ${_LOCK}`);
      const got = JSON.parse(
        await runCommand(
          own.python,
          [
            "-c",
            "import json, importlib.metadata as m; print(json.dumps({n: m.version(n) for n in ('unsloth', 'unsloth_zoo', 'torch', 'transformers', 'trl', 'peft')}))",
          ],
          "Reading the versions in Unsloth's environment",
        ),
      ) as Record<string, string>;
      if (got.unsloth !== UNSLOTH_VERSION || got.unsloth_zoo !== UNSLOTH_VERSION) {
        throw new Error(
          `setup --unsloth: the environment has unsloth ${got.unsloth} / unsloth_zoo ${got.unsloth_zoo}, not ` +
            `${UNSLOTH_VERSION}; delete ${own.venv} and run it again.`,
        );
      }
      Deno.writeTextFileSync(
        `${own.venv}/.ince-complete`,
        JSON.stringify({
          profile,
          torchIndex,
          versions: got,
          seconds: Math.round(performance.now() - t0) / 1000,
        }) +
          "\n",
      );
    } catch (e) {
      Deno.removeSync(own.venv, { recursive: true });
      throw e;
    }
  }, () => say(`· waiting for another process installing Unsloth into ${own.venv}`));
  say(`· Unsloth ${UNSLOTH_VERSION} installed: ${own.python}`);
  return { ...own, installed: true };
}
