/**
 * listLinearModules() against PyTorch's own module list, and predictTrainableParams() against PEFT's
 * own `get_nb_trainable_parameters()`, on the built-in tiny Llama (one Python call for every number).
 */
import assert from "node:assert/strict";
import {
  type LinearModules,
  listLinearModules,
  predictTrainableParams,
  type PredictTrainableParamsOptions,
} from "../lib/adapters/linear_modules.ts";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";
import { readSafetensors, serializeSafetensors, writeSafetensors } from "../lib/math/safetensors.ts";

const TINY = `${projectRoot()}/data/models/ince-tiny`;
const ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"], MLP = ["gate_proj", "up_proj", "down_proj"];
const CASES: Required<PredictTrainableParamsOptions>[] = [
  ...[4, 16].flatMap((r) =>
    (["all-linear", ATTENTION, MLP] as const).map((targets) => ({
      r,
      targets: targets === "all-linear" ? targets : [...targets],
      adapter: "lora" as const,
    }))
  ),
  { r: 4, targets: "all-linear", adapter: "dora" },
  { r: 16, targets: "all-linear", adapter: "dora" },
  { r: 8, targets: ["q_proj", "v_proj"], adapter: "dora" },
];

const ORACLE = `
import json, sys, torch
from transformers import AutoModelForCausalLM
from peft import LoraConfig, get_peft_model
path, cases = sys.argv[1], json.loads(sys.argv[2])
load = lambda: AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
linear = [[n, list(m.weight.shape)] for n, m in load().named_modules() if isinstance(m, torch.nn.Linear)]
counts = []
for c in cases:
    config = LoraConfig(r=c["r"], target_modules=c["targets"], use_dora=c["adapter"] == "dora")
    peft = get_peft_model(load(), config)
    by_type = {}
    for n, p in peft.named_parameters():
        if p.requires_grad:  # ...layers.0.self_attn.q_proj.lora_A.default.weight -> q_proj
            t = n.split(".lora_")[0].rsplit(".", 1)[1]
            by_type[t] = by_type.get(t, 0) + p.numel()
    counts.append({"trainable": peft.get_nb_trainable_parameters()[0], "byType": by_type})
print(json.dumps({"linear": linear, "counts": counts}))
`;

interface Oracle {
  linear: [string, [number, number]][];
  counts: { trainable: number; byType: Record<string, number> }[];
}
let oracle: Promise<Oracle> | undefined;
/** PyTorch's linear layers and PEFT's counts for every case, from one Python process. */
function peft(): Promise<Oracle> {
  return oracle ??= (async () => {
    const out = await new Deno.Command(pythonPath(), {
      args: ["-c", ORACLE, TINY, JSON.stringify(CASES)],
      env: { HF_HUB_OFFLINE: "1", TRANSFORMERS_VERBOSITY: "error" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    if (!out.success) throw new Error(`The PEFT oracle failed:\n${dec.decode(out.stderr)}`);
    return JSON.parse(dec.decode(out.stdout));
  })();
}

/** The listing in a comparable form: [name, shape] sorted by name. */
const names = (list: LinearModules) => list.modules.map((m) => [m.name, m.shape]).sort();

Deno.test("listLinearModules() lists the linear layers PyTorch's named_modules() has, all but lm_head", async () => {
  const list = await listLinearModules(TINY);
  const torch = (await peft()).linear.filter(([n]) => n !== "lm_head").sort();
  assert.deepEqual(names(list), torch);
  assert.deepEqual(list.modules[0], {
    name: "model.layers.0.mlp.down_proj",
    type: "down_proj",
    shape: [160, 448],
    layer: 0,
  });
  assert.deepEqual(list.modules.map((m) => m.layer), [0, 1, 2, 3, 4].flatMap((l) => Array(7).fill(l)));
  assert.deepEqual(
    list.byType.map((t) => [t.type, t.count, t.shapes, t.params]),
    [
      ["down_proj", 5, [[160, 448]], 5 * 160 * 448],
      ["gate_proj", 5, [[448, 160]], 5 * 448 * 160],
      ["up_proj", 5, [[448, 160]], 5 * 448 * 160],
      ["k_proj", 5, [[160, 160]], 5 * 160 * 160],
      ["o_proj", 5, [[160, 160]], 5 * 160 * 160],
      ["q_proj", 5, [[160, 160]], 5 * 160 * 160],
      ["v_proj", 5, [[160, 160]], 5 * 160 * 160],
    ],
  );
});

Deno.test("predictTrainableParams() equals PEFT's get_nb_trainable_parameters() for LoRA and DoRA, per type", async () => {
  const { modules } = await listLinearModules(TINY);
  const { counts } = await peft();
  for (const [i, c] of CASES.entries()) {
    const got = predictTrainableParams(modules, c);
    const label = `${c.adapter} r=${c.r} ${c.targets}`;
    assert.equal(got.trainable, counts[i].trainable, label);
    assert.deepEqual(Object.fromEntries(got.byType.map((t) => [t.type, t.params])), counts[i].byType, label);
    assert.ok(got.byType.every((t) => t.count === 5), label);
  }
});

Deno.test("listLinearModules() reads only the header: a sharded folder, and a file cut after its header, list the same", async () => {
  const want = names(await listLinearModules(TINY));
  const { tensors } = await readSafetensors(`${TINY}/model.safetensors`);
  const dir = Deno.makeTempDirSync({ prefix: "ince-linear-" });
  try {
    const shards: Record<string, Record<string, { shape: number[]; data: Float32Array }>> = {};
    const weightMap: Record<string, string> = {};
    for (const [name, t] of Object.entries(tensors)) {
      const file = /layers\.[0-2]\./.test(name)
        ? "model-00001-of-00002.safetensors"
        : "model-00002-of-00002.safetensors";
      (shards[file] ??= {})[name] = { shape: t.shape, data: t.data as Float32Array };
      weightMap[name] = file;
    }
    for (const [file, part] of Object.entries(shards)) await writeSafetensors(`${dir}/${file}`, part);
    Deno.writeTextFileSync(`${dir}/model.safetensors.index.json`, JSON.stringify({ weight_map: weightMap }));
    Deno.copyFileSync(`${TINY}/config.json`, `${dir}/config.json`);
    assert.deepEqual(names(await listLinearModules(dir)), want);

    // The same tensors' header with no weight bytes after it: nothing past the header is read.
    const cut = `${dir}/cut`;
    Deno.mkdirSync(cut);
    Deno.copyFileSync(`${TINY}/config.json`, `${cut}/config.json`);
    const bytes = Deno.readFileSync(`${TINY}/model.safetensors`);
    const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    Deno.writeFileSync(`${cut}/model.safetensors`, bytes.subarray(0, headerEnd));
    assert.deepEqual(names(await listLinearModules(cut)), want);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("listLinearModules() reads a Hub id from the Hub cache's snapshot, making no request", async () => {
  const cache = Deno.makeTempDirSync({ prefix: "ince-linear-cache-" });
  try {
    const commit = "0123456789abcdef0123456789abcdef01234567";
    const repo = `${cache}/models--ince--tiny`;
    Deno.mkdirSync(`${repo}/refs`, { recursive: true });
    Deno.mkdirSync(`${repo}/snapshots/${commit}`, { recursive: true });
    Deno.writeTextFileSync(`${repo}/refs/main`, commit);
    Deno.copyFileSync(`${TINY}/model.safetensors`, `${repo}/snapshots/${commit}/model.safetensors`);
    // A closed port: any request would fail the test.
    const list = await listLinearModules("ince/tiny", {
      cacheDir: cache,
      hubUrl: "http://127.0.0.1:9",
      env: {},
    });
    assert.deepEqual(names(list), names(await listLinearModules(TINY)));
  } finally {
    Deno.removeSync(cache, { recursive: true });
  }
});

Deno.test("bad input gives one-line errors that name the model and say what to do", async (t) => {
  const empty = Deno.makeTempDirSync({ prefix: "ince-linear-bad-" });
  const noWeights = Deno.makeTempDirSync({ prefix: "ince-linear-bad-" });
  Deno.copyFileSync(`${TINY}/config.json`, `${noWeights}/config.json`);
  Deno.writeFileSync(`${noWeights}/pytorch_model.bin`, new Uint8Array(8));
  const notSafetensors = Deno.makeTempDirSync({ prefix: "ince-linear-bad-" });
  Deno.copyFileSync(`${TINY}/config.json`, `${notSafetensors}/config.json`);
  Deno.writeFileSync(`${notSafetensors}/model.safetensors`, serializeSafetensors({}).subarray(0, 5));
  const { modules } = await listLinearModules(TINY);
  const cases: [string, () => unknown, RegExp][] = [
    [
      "a missing path",
      () => listLinearModules("./no/such/model"),
      /^\.\/no\/such\/model: no model folder here.*Use a folder/,
    ],
    [
      "a folder without config.json",
      () => listLinearModules(empty),
      new RegExp(`^${empty}: no model folder here`),
    ],
    [
      "a folder without safetensors",
      () => listLinearModules(noWeights),
      new RegExp(`^${noWeights}: no model.safetensors or model.safetensors.index.json.*save_pretrained`),
    ],
    [
      "a file too short for a header",
      () => listLinearModules(notSafetensors),
      new RegExp(`^${notSafetensors}/model.safetensors is not a safetensors file \\(5 bytes\\)`),
    ],
    [
      "an uncached Hub id while offline",
      () => listLinearModules("ince/absent", { cacheDir: empty, offline: true, env: {} }),
      /^ince\/absent: offline .*Download it once/,
    ],
    [
      "an unknown target",
      () => predictTrainableParams(modules, { r: 8, targets: ["q_proj", "c_attn"] }),
      /^Target module\(s\) c_attn match no linear layer: use some of down_proj, .*, or "all-linear"\.$/,
    ],
    [
      "no targets",
      () => predictTrainableParams(modules, { r: 8, targets: [] }),
      /^No targets: use some of/,
    ],
    [
      "a rank of 0",
      () => predictTrainableParams(modules, { r: 0, targets: "all-linear" }),
      /≥ 1; got 0/,
    ],
  ];
  try {
    for (const [name, fn, want] of cases) {
      await t.step(name, async () => {
        const err = await Promise.resolve().then(fn).then(() => undefined, (e: Error) => e);
        assert.ok(err instanceof Error, "it throws");
        assert.match(err.message, want);
        assert.ok(!err.message.includes("\n"), `one line: ${err.message}`);
      });
    }
  } finally {
    for (const d of [empty, noWeights, notSafetensors]) Deno.removeSync(d, { recursive: true });
  }
});
