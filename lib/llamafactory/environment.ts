/**
 * LLaMA-Factory's own Python environment. LLaMA-Factory 0.9.5 pins transformers, PEFT, TRL and datasets to
 * ranges that conflict with the main environment's, so it gets a second venv in the cache
 * (`<cache>/llamafactory/venv-<key>`), created the first time something needs it:
 *
 * 1. a venv from the main environment's base Python;
 * 2. `pip install --no-deps -r requirements/llamafactory.lock` (exact pins, no resolver; the torch stack is
 *    not in the lock);
 * 3. a text-only stand-in for `torchaudio` (`python/stub_torchaudio`: PyPI's torchaudio does not import next
 *    to the main environment's torch);
 * 4. `zz-ince-main.pth`, which appends the main environment's site-packages LAST on `sys.path`, so torch
 *    (and its CUDA libraries) come from there while LLaMA-Factory's own pins shadow the main ones. Written
 *    after the install, so pip never sees — or touches — the main environment;
 * 5. an import check, then the `.ince-complete` marker. Later calls only look for the marker.
 *
 * The key hashes the lock, the stub and the main environment's real path, so a new pin (or a new main
 * environment) makes a new venv. Not under `<cache>/venvs/`, which `deno task setup --prune` empties.
 *
 * @module
 */
import { withBlobLock } from "../hub/blob_lock.ts";
import { cacheDir, projectRoot, pythonPath } from "../env/paths.ts";
import { exists } from "../util/fs.ts";
import { pipInstallPins, runCommand, sha256Hex } from "../util/run_command.ts";

/** The LLaMA-Factory release `requirements/llamafactory.lock` pins. */
export const LLAMAFACTORY_VERSION = "0.9.5";

/** Options for {@linkcode ensureLlamaFactory} and {@linkcode llamaFactoryPython}. */
export interface LlamaFactoryEnvironmentOptions {
  /** Progress lines (`· creating …`); default `console.error`. */
  say?: (line: string) => void;
  /** Environment for the cache and main-venv locations (default: the process's). */
  env?: Record<string, string | undefined>;
}

/** Where the LLaMA-Factory environment is. */
export interface LlamaFactoryEnvironment {
  /** Its Python interpreter. */
  python: string;
  /** The venv folder. */
  venv: string;
}

/** The versions the LLaMA-Factory environment imports, as {@linkcode checkLlamaFactory} reads them. */
export interface LlamaFactoryVersions {
  llamafactory: string;
  transformers: string;
  peft: string;
  trl: string;
  datasets: string;
  torch: string;
  /** Where torch was imported from (the main environment's site-packages). */
  torchFile: string;
}

const _LOCK = "requirements/llamafactory.lock";
const _STUB = "lib/llamafactory/python/stub_torchaudio";

/**
 * The pin of one package in a lock file's text.
 *
 * @param lock The lock text (`name==version` lines).
 * @param name The package name as the lock writes it.
 * @returns The pinned version, or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lockedVersion } from "./environment.ts";
 * assert.equal(lockedVersion("# x\ntransformers==5.6.0\ntrl==0.24.0\n", "transformers"), "5.6.0");
 * assert.equal(lockedVersion("trl==0.24.0\n", "peft"), undefined);
 * ```
 */
export function lockedVersion(lock: string, name: string): string | undefined {
  return lock.split("\n").find((l) => l.startsWith(`${name}==`))?.slice(name.length + 2).trim();
}

function _stubFiles(root: string): { name: string; text: string }[] {
  return [...Deno.readDirSync(`${root}/${_STUB}`)]
    .filter((e) => e.isFile && e.name.endsWith(".py"))
    .map((e) => ({ name: e.name, text: Deno.readTextFileSync(`${root}/${_STUB}/${e.name}`) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Makes sure LLaMA-Factory's environment exists (creating it the first time: ≈ 300 MB from PyPI, 1–2 min)
 * and returns it. Later calls only check the marker (milliseconds). Two processes creating it at once take
 * turns (a file lock); an interrupted creation is started over.
 *
 * @param options Logger and environment.
 * @returns The interpreter and the venv folder.
 * @throws {Error} When the main environment is missing (run `deno task setup`), or a creation step fails
 * (the failing command and its last output lines; the half-made venv is removed).
 *
 * @example Create (first time) or find the environment
 * ```ts ignore
 * import { ensureLlamaFactory } from "./environment.ts";
 * const { python } = await ensureLlamaFactory();
 * await new Deno.Command(python, { args: ["-c", "import llamafactory"] }).output();
 * ```
 */
export async function ensureLlamaFactory(
  options: LlamaFactoryEnvironmentOptions = {},
): Promise<LlamaFactoryEnvironment> {
  const say = options.say ?? console.error;
  const root = projectRoot();
  const mainPython = pythonPath({ env: options.env });
  const mainVenv = Deno.realPathSync(mainPython.replace(/\/bin\/python[0-9.]*$/, ""));
  const lock = Deno.readTextFileSync(`${root}/${_LOCK}`);
  const stub = _stubFiles(root);
  const key = (await sha256Hex([lock, ...stub.map((f) => `${f.name}\n${f.text}`), mainVenv].join("\n")))
    .slice(0, 12);
  const home = `${cacheDir({ env: options.env })}/llamafactory`;
  const venv = `${home}/venv-${key}`;
  const python = `${venv}/bin/python`;
  const marker = `${venv}/.ince-complete`;
  if (exists(marker)) return { python, venv };

  await withBlobLock(`${home}/.locks/venv-${key}.lock`, async () => {
    if (exists(marker)) return; // another process made it while we waited
    if (exists(venv)) Deno.removeSync(venv, { recursive: true }); // interrupted before: start over
    say(
      `· creating LLaMA-Factory ${LLAMAFACTORY_VERSION}'s Python environment in ${venv} ` +
        "(first time only: ≈ 300 MB download, 1–2 min)",
    );
    const t0 = performance.now();
    try {
      const main = JSON.parse(
        await runCommand(
          mainPython,
          ["-c", "import sys, json; print(json.dumps([sys.base_prefix, '%d.%d' % sys.version_info[:2]]))"],
          "Reading the main Python environment's base interpreter",
        ),
      ) as [string, string];
      const [base, version] = main;
      const basePython = exists(`${base}/bin/python${version}`)
        ? `${base}/bin/python${version}`
        : `${base}/bin/python3`;
      const sitePackages = `${venv}/lib/python${version}/site-packages`;
      await runCommand(basePython, ["-m", "venv", venv], "Creating LLaMA-Factory's Python environment");
      await pipInstallPins(python, `${root}/${_LOCK}`, `Installing ${_LOCK}`);
      Deno.mkdirSync(`${sitePackages}/torchaudio`);
      for (const f of stub) Deno.writeTextFileSync(`${sitePackages}/torchaudio/${f.name}`, f.text);
      Deno.writeTextFileSync(
        `${sitePackages}/zz-ince-main.pth`,
        `${mainVenv}/lib/python${version}/site-packages\n`,
      );
      const versions = await checkLlamaFactory(python, { lock });
      Deno.writeTextFileSync(
        marker,
        JSON.stringify({ mainVenv, versions, seconds: Math.round(performance.now() - t0) / 1000 }) + "\n",
      );
    } catch (e) {
      Deno.removeSync(venv, { recursive: true });
      throw e;
    }
  }, () => say(`· waiting for another process creating LLaMA-Factory's environment in ${venv}`));
  return { python, venv };
}

/** Options for {@linkcode checkLlamaFactory}. */
export interface CheckLlamaFactoryOptions {
  /** The lock text to compare with (default: `requirements/llamafactory.lock`). */
  lock?: string;
}

/**
 * Imports LLaMA-Factory's trainer in an environment and checks what it got: LLaMA-Factory
 * {@linkcode LLAMAFACTORY_VERSION}, and transformers / PEFT / TRL at the lock's pins (not the main
 * environment's, which the `.pth` puts behind them). Takes ≈ 10 s (cold imports).
 *
 * @param python The environment's interpreter.
 * @param options The lock to compare with.
 * @returns The imported versions.
 * @throws {Error} When the import fails (its traceback's tail) or a version is not the pinned one.
 *
 * @example Verify the environment
 * ```ts ignore
 * import { checkLlamaFactory, llamaFactoryPython } from "./environment.ts";
 * const v = await checkLlamaFactory(await llamaFactoryPython());
 * console.log(`LLaMA-Factory ${v.llamafactory}, transformers ${v.transformers}`);
 * ```
 */
export async function checkLlamaFactory(
  python: string,
  options: CheckLlamaFactoryOptions = {},
): Promise<LlamaFactoryVersions> {
  const lock = options.lock ?? Deno.readTextFileSync(`${projectRoot()}/${_LOCK}`);
  const script = [
    "import json, sys",
    "sys.stdout, out = sys.stderr, sys.stdout",
    "import torch, transformers, peft, trl, datasets, llamafactory",
    "import llamafactory.train.tuner",
    "print(json.dumps(dict(llamafactory=llamafactory.__version__, transformers=transformers.__version__,",
    "  peft=peft.__version__, trl=trl.__version__, datasets=datasets.__version__, torch=torch.__version__,",
    "  torchFile=torch.__file__)), file=out)",
  ].join("\n");
  const out = await runCommand(python, ["-c", script], `Importing LLaMA-Factory in ${python}`, {
    env: { DISABLE_VERSION_CHECK: "1", OMP_NUM_THREADS: "1" },
  });
  const versions = JSON.parse(out.trim().split("\n").at(-1)!) as LlamaFactoryVersions;
  const wrong = (["llamafactory", "transformers", "peft", "trl", "datasets"] as const)
    .map((name) => ({ name, want: lockedVersion(lock, name), got: versions[name] }))
    .filter((v) => v.want !== undefined && v.want !== v.got);
  if (wrong.length) {
    throw new Error(
      `LLaMA-Factory's environment (${python}) imports ${
        wrong.map((w) => `${w.name} ${w.got} (lock: ${w.want})`).join(", ")
      }; delete ${
        python.replace(/\/bin\/python$/, "")
      } and run \`deno task setup --llamafactory\` to recreate it.`,
    );
  }
  return versions;
}

/**
 * The Python interpreter that runs LLaMA-Factory: `$INCE_LLAMAFACTORY_PYTHON` when set (an environment made
 * by hand), else {@linkcode ensureLlamaFactory}'s (created the first time).
 *
 * @param options Logger and environment.
 * @returns The interpreter's path.
 * @throws {Error} When `$INCE_LLAMAFACTORY_PYTHON` names a missing file, or creating the environment fails.
 *
 * @example An interpreter named by the environment variable is used as it is
 * ```ts
 * import assert from "node:assert/strict";
 * import { llamaFactoryPython } from "./environment.ts";
 * const python = Deno.execPath(); // any existing file stands in for an interpreter here
 * assert.equal(await llamaFactoryPython({ env: { INCE_LLAMAFACTORY_PYTHON: python } }), python);
 * await assert.rejects(
 *   llamaFactoryPython({ env: { INCE_LLAMAFACTORY_PYTHON: "/no/such/python" } }),
 *   /INCE_LLAMAFACTORY_PYTHON is \/no\/such\/python, which does not exist/,
 * );
 * ```
 */
export async function llamaFactoryPython(options: LlamaFactoryEnvironmentOptions = {}): Promise<string> {
  const env = options.env ?? Deno.env.toObject();
  const given = env.INCE_LLAMAFACTORY_PYTHON;
  if (given) {
    if (!exists(given)) {
      throw new Error(
        `INCE_LLAMAFACTORY_PYTHON is ${given}, which does not exist; unset it to use (or create) ` +
          "the environment `deno task setup --llamafactory` makes.",
      );
    }
    return given;
  }
  return (await ensureLlamaFactory({ ...options, env })).python;
}
