/**
 * The tools lesson 03 drives, installed once from the package registries and pinned:
 * - the Python packages of `requirements/deploy.txt` (llama.cpp's converter needs `sentencepiece`; the ONNX
 *   exporter needs `onnx` + `onnxscript`; `xllamacpp` embeds llama.cpp's OpenAI-compatible server), installed
 *   into the project's Python environment with `--no-deps` (every dependency is pinned there or in lock.txt);
 * - llama.cpp's own converter (`convert_hf_to_gguf.py`, `conversion/`, its `gguf-py`) at tag
 *   {@linkcode LLAMA_CPP_TAG}, taken from the git bundle that npm's `node-llama-cpp` tarball ships — the same
 *   llama.cpp the prebuilt `@node-llama-cpp/linux-x64` binaries (quantizer, runtime) were built from.
 *
 * `deno task setup` calls {@linkcode ensureDeployTools}; the lesson's functions call the parts they need
 * lazily, so an environment set up before lesson 03 existed still works (with a progress line).
 *
 * @module
 */
import { cacheDir, projectRoot, pythonPath } from "../env/paths.ts";
import { exists } from "../util/fs.ts";
import { pipInstallPins, runCommand, sha256Hex } from "../util/run_command.ts";

/** llama.cpp's release the converter and the prebuilt binaries come from. */
export const LLAMA_CPP_TAG = "v0.4.0";
/** The npm package (and version) whose tarball carries llama.cpp's source as a git bundle. */
export const LLAMA_CPP_SOURCE_PACKAGE = "node-llama-cpp@3.21.1";
/** The registry's integrity of that tarball (`npm view node-llama-cpp@3.21.1 dist.integrity`). */
export const LLAMA_CPP_SOURCE_INTEGRITY =
  "sha512-E3N0Ev2Va0wzydvXYFwM9Hvyo07PoWjt8T/9GMc43Cvt8YkV/NU/tYUgEMC1grTPv2o9PRjQi0G3Wb5P/awiMg==";

/** Options of the installers: a progress logger (default: stderr) and the environment. */
export interface DeployToolsOptions {
  /** Progress lines (`· installing …`); default `console.error`. */
  say?: (line: string) => void;
  /** Environment for the cache location (default: the process's). */
  env?: Record<string, string | undefined>;
}

/**
 * Installs `requirements/deploy.txt` into the project's Python environment unless already there (a marker
 * in the environment records the hash of the pins).
 *
 * @param options Logger and environment.
 * @returns The Python interpreter that has them.
 */
export async function ensureDeployPython(options: DeployToolsOptions = {}): Promise<string> {
  const say = options.say ?? console.error;
  const python = pythonPath({ env: options.env });
  const pinsFile = `${projectRoot()}/requirements/deploy.txt`;
  const key = (await sha256Hex(Deno.readTextFileSync(pinsFile))).slice(0, 12);
  const venv = python.replace(/\/bin\/python3?$/, "");
  const marker = `${venv}/.ince-deploy-${key}`;
  if (exists(marker)) return python;
  if (!exists(python)) {
    throw new Error(`No Python environment at ${python}: run \`deno task setup\` first.`);
  }
  say(
    "· installing lesson 03's Python packages (sentencepiece, onnx, onnxscript, xllamacpp; first time only)",
  );
  await pipInstallPins(python, pinsFile, "Installing requirements/deploy.txt");
  await runCommand(
    python,
    ["-m", "pip", "check"],
    "Checking the Python environment after installing deploy.txt",
  );
  Deno.writeTextFileSync(marker, `${new Date().toISOString()}\n`);
  return python;
}

/**
 * Unpacks llama.cpp's converter (`convert_hf_to_gguf.py`, `conversion/`, `gguf-py/`, `include/llama.h`) at
 * {@linkcode LLAMA_CPP_TAG} into the cache, unless already there: `npm pack` fetches the pinned
 * `node-llama-cpp` tarball from the registry, its integrity is checked, and `git archive` reads the files
 * out of the git bundle it ships. Needs `npm`, `tar` and `git`.
 *
 * @param options Logger and environment.
 * @returns The folder holding `convert_hf_to_gguf.py`.
 */
export async function ensureLlamaCppConverter(options: DeployToolsOptions = {}): Promise<string> {
  const say = options.say ?? console.error;
  const dir = `${cacheDir({ env: options.env })}/tools/llama.cpp-${LLAMA_CPP_TAG}`;
  if (exists(`${dir}/.ince-complete`)) return dir;
  say(
    `· unpacking llama.cpp ${LLAMA_CPP_TAG}'s converter from npm's ${LLAMA_CPP_SOURCE_PACKAGE} (first time only)`,
  );
  const work = Deno.makeTempDirSync({ prefix: "ince-llama-cpp-" });
  try {
    const packed = (await runCommand(
      "npm",
      ["pack", LLAMA_CPP_SOURCE_PACKAGE, "--pack-destination", work, "--silent"],
      `Fetching ${LLAMA_CPP_SOURCE_PACKAGE} from the npm registry`,
    )).trim().split("\n").at(-1)!;
    const tgz = `${work}/${packed}`;
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", Deno.readFileSync(tgz)));
    const integrity = "sha512-" + btoa(String.fromCharCode(...digest));
    if (integrity !== LLAMA_CPP_SOURCE_INTEGRITY) {
      throw new Error(
        `${packed}: integrity ${integrity} is not the pinned ${LLAMA_CPP_SOURCE_INTEGRITY}; ` +
          "check your npm registry (a mirror serving another file?).",
      );
    }
    await runCommand(
      "tar",
      ["-xzf", tgz, "-C", work, "package/llama/gitRelease.bundle"],
      `Unpacking ${packed}`,
    );
    const repo = `${work}/repo`;
    await runCommand("git", ["init", "-q", repo], "Creating a scratch git repository");
    await runCommand(
      "git",
      ["-C", repo, "fetch", "-q", `${work}/package/llama/gitRelease.bundle`, "HEAD"],
      "Reading the bundle",
    );
    const tmpOut = `${dir}.partial`;
    if (exists(tmpOut)) Deno.removeSync(tmpOut, { recursive: true });
    Deno.mkdirSync(tmpOut, { recursive: true });
    const tar = `${work}/src.tar`;
    await runCommand(
      "git",
      [
        "-C",
        repo,
        "archive",
        "-o",
        tar,
        "FETCH_HEAD",
        "convert_hf_to_gguf.py",
        "conversion",
        "gguf-py",
        "include/llama.h",
      ],
      "Extracting llama.cpp's converter from the bundle",
    );
    await runCommand("tar", ["-xf", tar, "-C", tmpOut], "Unpacking llama.cpp's converter");
    const commit = (await runCommand("git", ["-C", repo, "rev-parse", "FETCH_HEAD"], "Reading the commit"))
      .trim();
    Deno.writeTextFileSync(`${tmpOut}/.ince-complete`, JSON.stringify({ tag: LLAMA_CPP_TAG, commit }) + "\n");
    if (exists(dir)) Deno.removeSync(dir, { recursive: true });
    Deno.renameSync(tmpOut, dir);
    return dir;
  } finally {
    Deno.removeSync(work, { recursive: true });
  }
}

/**
 * Everything lesson 03 needs (called by `deno task setup`).
 *
 * @param options Logger and environment.
 * @returns The Python interpreter and the converter's folder.
 */
export async function ensureDeployTools(
  options: DeployToolsOptions = {},
): Promise<{ python: string; converter: string }> {
  const python = await ensureDeployPython(options);
  const converter = await ensureLlamaCppConverter(options);
  return { python, converter };
}

/**
 * The folder of the prebuilt llama.cpp libraries (`libllama.v0.4.0.so`, the CPU backends) of
 * `@node-llama-cpp/linux-x64`, which lib/deploy loads through Deno's FFI.
 *
 * @returns The folder, e.g. `…/@node-llama-cpp/linux-x64/3.21.1/bins/linux-x64`.
 */
export async function llamaCppBinsDir(): Promise<string> {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    throw new Error(
      `llama.cpp's prebuilt libraries are pinned for linux x86_64 only; this is ${Deno.build.os} ${Deno.build.arch}.`,
    );
  }
  const { getBinsDir } = await import("@node-llama-cpp/linux-x64");
  return `${getBinsDir().binsDir}/linux-x64`;
}
