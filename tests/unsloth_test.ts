import assert from "node:assert/strict";
import { z } from "zod";
import { projectRoot } from "../lib/env/paths.ts";
import { runPythonJob } from "../lib/infer/_python_job.ts";
import {
  installUnsloth,
  UNSLOTH_VERSION,
  unslothEnvironment,
  unslothPython,
  unslothStatus,
} from "../lib/train/unsloth.ts";

const GPU = (await unslothStatus()).available;
const LOCK = Deno.readTextFileSync(`${projectRoot()}/requirements/unsloth.lock`);

/** check_config() of lib/train/python/unsloth_backend.py on the main venv (no unsloth, no torch). */
async function checkConfig(
  config: Record<string, unknown>,
  axes?: Record<string, string>,
): Promise<string | null> {
  const { reason } = await runPythonJob(
    "train/python/unsloth_backend.py",
    { config, axes },
    "check_config",
    z.object({ reason: z.string().nullable() }),
  );
  return reason;
}

const BASE = {
  model: "/abs/ince-tiny",
  stage: "sft",
  lora: { r: 8, alpha: 16, dropout: 0, targetModules: "all-linear" },
  train: { lr: 1e-3, batchSize: 2, seed: 0, maxLength: 64 },
};

Deno.test("installUnsloth() refuses in one line on the cpu profile, naming the GPU it needs and backend peft", async () => {
  for (
    const options of [{ profile: "cpu" as const }, { env: { ...Deno.env.toObject(), INCE_PROFILE: "cpu" } }]
  ) {
    const e = await installUnsloth({ ...options, say: () => assert.fail("nothing is installed") }).catch((
      e,
    ) => e);
    assert.ok(e instanceof Error);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(
      e.message,
      /^setup --unsloth: Unsloth needs an NVIDIA \(CUDA\) or AMD \(ROCm\) GPU; this machine's profile is cpu\. Use backend "peft" \(the same run config and events\)/,
    );
  }
});

Deno.test("installUnsloth() on rocm without a torch index, and unslothPython() without the environment, say what to run", async () => {
  const env = { INCE_CACHE: "/nowhere-ince", INCE_PROFILE: "rocm" };
  await assert.rejects(
    installUnsloth({ env }),
    /the rocm profile needs PyTorch's ROCm wheel index: set INCE_TORCH_INDEX/,
  );
  await assert.rejects(
    unslothPython({ env }),
    /^Error: Unsloth is not installed: run `deno task setup --unsloth` on this rocm machine/,
  );
  await assert.rejects(
    unslothPython({ profile: "cpu" }),
    /^Error: backend "unsloth": Unsloth needs an NVIDIA/,
  );
  const cuda = await unslothEnvironment({ profile: "cuda", env });
  const rocm = await unslothEnvironment({ profile: "rocm", env, torchIndex: "https://x/rocm" });
  assert.notEqual(cuda.venv, rocm.venv, "the profile and index are part of the key");
});

Deno.test({
  name: "unslothStatus() on this CPU says unavailable in one line naming the missing GPU and backend peft",
  ignore: GPU,
  fn: async () => {
    const s = await unslothStatus();
    assert.equal(s.available, false);
    assert.doesNotMatch(s.reason!, /\n/);
    assert.match(
      s.reason!,
      /^Unsloth needs an NVIDIA \(CUDA\) or AMD \(ROCm\) GPU and PyTorch sees none here; use backend "peft"/,
    );
  },
});

Deno.test("check_config() refuses what Unsloth cannot train, one sentence naming the field, and passes the rest", async () => {
  const cases: [string, Record<string, unknown>, Record<string, string> | undefined, RegExp | null][] = [
    ["lora", {}, undefined, null],
    ["dora + rslora + gaussian", { adapter: "dora", scaling: "rslora", init: "gaussian" }, undefined, null],
    ["qlora (preset)", { method: "qlora" }, undefined, null],
    ["qdora (axes)", {}, { adapter: "dora", init: "default", scaling: "standard", quant: "nf4" }, null],
    ["pissa, dropout 0.1", { method: "pissa", lora: { ...BASE.lora, dropout: 0.1 } }, undefined, null],
    ["full fine-tune", { fullFineTune: true }, undefined, /^field fullFineTune: .*use backend "peft"/],
    ["ia3", { peftType: "ia3" }, undefined, /^field peftType: Unsloth makes LoRA adapters only .*not ia3/],
    [
      "pissa + nf4 (preset + field)",
      { method: "pissa", quant: "nf4" },
      undefined,
      /^field init: .*unquantized/,
    ],
    [
      "pissa + nf4 (axes)",
      {},
      { adapter: "lora", init: "pissa", scaling: "standard", quant: "nf4" },
      /^field init:/,
    ],
    ["liger", { train: { ...BASE.train, liger: true } }, undefined, /^field train\.liger: /],
    ["compile", { train: { ...BASE.train, compile: true } }, undefined, /^field train\.compile: /],
  ];
  for (const [name, patch, axes, want] of cases) {
    const reason = await checkConfig({ ...BASE, ...patch }, axes);
    if (want === null) assert.equal(reason, null, name);
    else {
      assert.match(reason ?? "", want, name);
      assert.doesNotMatch(reason!, /\n/, name);
    }
  }
});

Deno.test("requirements/unsloth.lock pins every package exactly, Unsloth at UNSLOTH_VERSION on its own torch", () => {
  const pins = LOCK.split("\n").filter((l) => l.trim() && !l.startsWith("#"));
  assert.ok(pins.length > 50);
  for (const line of pins) assert.match(line, /^[A-Za-z0-9._-]+==[A-Za-z0-9.+-]+$/, line);
  const pin = (name: string) => pins.find((l) => l.toLowerCase().startsWith(`${name}==`))?.split("==")[1];
  assert.equal(pin("unsloth"), UNSLOTH_VERSION);
  assert.equal(pin("unsloth_zoo"), UNSLOTH_VERSION);
  assert.equal(pin("torch"), "2.14.1");
  assert.equal(pin("transformers"), "5.17.0");
  assert.equal(pin("trl"), "1.15.0");
  assert.equal(
    new Set(pins.map((l) => l.split("==")[0].toLowerCase())).size,
    pins.length,
    "no package twice",
  );
});

Deno.test({
  name:
    "unslothStatus() on a GPU with Unsloth's environment is available at the pinned version (GPU only: skipped on a CPU)",
  ignore: !GPU,
  fn: async () => {
    const s = await unslothStatus();
    assert.deepEqual(s, { available: true, reason: null, version: UNSLOTH_VERSION });
    assert.match(await unslothPython(), /\/unsloth\/venv-(cuda|rocm)-[0-9a-f]{12}\/bin\/python$/);
  },
});

Deno.test("load() maps the run config onto FastLanguageModel.from_pretrained / get_peft_model (a recording stand-in for unsloth)", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ince-unsloth-stub-" });
  try {
    Deno.mkdirSync(`${dir}/unsloth`);
    Deno.writeTextFileSync(
      `${dir}/unsloth/__init__.py`,
      `calls = []
class _Model:
    is_loaded_in_4bit = False
class FastLanguageModel:
    @staticmethod
    def from_pretrained(**kw):
        calls.append(("from_pretrained", kw))
        m = _Model(); m.is_loaded_in_4bit = kw["load_in_4bit"]
        return m, "tokenizer"
    @staticmethod
    def get_peft_model(model, **kw):
        calls.append(("get_peft_model", kw))
        return model
`,
    );
    const script = `
import json, sys
sys.path[:0] = [${JSON.stringify(dir)}, ${JSON.stringify(`${projectRoot()}/lib/train/python`)}]
import unsloth, unsloth_backend
cfg = json.loads(sys.argv[1])
ax = {"adapter": "dora", "init": "pissa", "scaling": "rslora", "quant": "none"}
unsloth_backend.load(cfg, ax, "bf16", 256)
unsloth_backend.load({**cfg, "lora": {**cfg["lora"], "targetModules": ["q_proj"]}},
                     {**ax, "adapter": "lora", "init": "default", "scaling": "standard", "quant": "nf4"}, "bf16", 256)
print(json.dumps(unsloth.calls))`;
    const cfg = {
      ...BASE,
      lora: { ...BASE.lora, dropout: 0.05, pissaNiter: 2 },
      train: { ...BASE.train, seed: 7, gradientCheckpointing: true },
    };
    const out = await new Deno.Command(`${projectRoot()}/.tools/venv/bin/python`, {
      args: ["-c", script, JSON.stringify(cfg)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const calls = JSON.parse(new TextDecoder().decode(out.stdout)) as [string, Record<string, unknown>][];
    assert.deepEqual(calls.map((c) => c[0]), [
      "from_pretrained",
      "get_peft_model",
      "from_pretrained",
      "get_peft_model",
    ]);
    assert.deepEqual(calls[0][1], {
      model_name: "/abs/ince-tiny",
      max_seq_length: 256,
      dtype: "bf16",
      load_in_4bit: false,
      load_in_8bit: false,
      load_in_16bit: true,
      full_finetuning: false,
      use_exact_model_name: true,
      use_gradient_checkpointing: "unsloth",
      random_state: 7,
    });
    assert.deepEqual(calls[1][1], {
      r: 8,
      lora_alpha: 16,
      lora_dropout: 0.05,
      target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
      bias: "none",
      use_gradient_checkpointing: "unsloth",
      random_state: 7,
      use_rslora: true,
      init_lora_weights: "pissa_niter_2",
      use_dora: true,
    });
    assert.equal(calls[2][1].load_in_4bit, true);
    assert.equal(calls[2][1].load_in_16bit, false);
    assert.deepEqual(calls[3][1].target_modules, ["q_proj"]);
    assert.equal(calls[3][1].init_lora_weights, true);
    assert.equal(calls[3][1].use_dora, false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
