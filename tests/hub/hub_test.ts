import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { downloadModel, downloadSnapshot } from "../../lib/hub/download.ts";
import { pythonPath } from "../../lib/env/paths.ts";
import { type FakeRepo, startFakeHub } from "./fake_hub.ts";

const enc = (s: string) => new TextEncoder().encode(s);
function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);
}
const TOKEN = "hf_testtoken_do_not_print_123";
const REPOS: FakeRepo[] = [
  {
    type: "model",
    id: "ince/tiny",
    files: {
      "config.json": { data: enc('{"model_type":"llama"}') },
      "model.safetensors": { data: bytes(20_000, 1) },
      "tokenizer/tokenizer.json": { data: enc('{"version":"1.0"}') },
    },
  },
  {
    type: "model",
    id: "ince/py-first",
    files: { "config.json": { data: enc("{}") }, "w.bin": { data: bytes(5_000, 2) } },
  },
  { type: "model", id: "ince/gated", token: TOKEN, files: { "config.json": { data: enc("{}") } } },
  { type: "model", id: "ince/evil", files: { "../escape.txt": { data: enc("x") } } },
  { type: "dataset", id: "ince/data", files: { "train.jsonl": { data: enc('{"a":1}\n') } } },
];

function opts(cacheDir: string, hubUrl: string) {
  return { cacheDir, hubUrl, progress: false, env: {} };
}

async function python(code: string, env: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(pythonPath(), {
    args: ["-c", code],
    env: { HF_HUB_DISABLE_TELEMETRY: "1", HF_HUB_DISABLE_XET: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("downloadModel() fills the cache in huggingface_hub's layout, and a second call is a cache hit", async () => {
  const hub = startFakeHub(REPOS);
  const cache = Deno.makeTempDirSync({ prefix: "ince-hub-" });
  try {
    const first = await downloadSnapshot("ince/tiny", "model", opts(cache, hub.url));
    const commit = hub.commitOf("ince/tiny");
    const storage = `${cache}/models--ince--tiny`;
    assert.equal(first.path, `${storage}/snapshots/${commit}`);
    assert.equal(Deno.readTextFileSync(`${storage}/refs/main`), commit);
    assert.deepEqual(first.downloaded, ["config.json", "model.safetensors", "tokenizer/tokenizer.json"]);
    const sha = createHash("sha256").update(REPOS[0].files["model.safetensors"].data).digest("hex");
    assert.equal(Deno.readLinkSync(`${first.path}/model.safetensors`), `../../blobs/${sha}`);
    assert.equal(
      Deno.readLinkSync(`${first.path}/tokenizer/tokenizer.json`).startsWith("../../../blobs/"),
      true,
    );
    assert.deepEqual(
      Deno.readFileSync(`${first.path}/model.safetensors`),
      REPOS[0].files["model.safetensors"].data,
    );
    assert.ok(hub.log.some((r) => r.path.startsWith("/cdn/")), "LFS file came through the CDN redirect");

    const second = await downloadSnapshot("ince/tiny", "model", opts(cache, hub.url));
    assert.deepEqual(second.downloaded, []);
    assert.equal(second.requests, 1, "only the revision is resolved; the tree is cached per commit");
    const byCommit = await downloadSnapshot("ince/tiny", "model", {
      ...opts(cache, hub.url),
      revision: commit,
    });
    assert.equal(byCommit.requests, 0);
    const offline = await downloadSnapshot("ince/tiny", "model", { ...opts(cache, hub.url), offline: true });
    assert.equal(offline.path, first.path);

    const only = await downloadSnapshot("ince/tiny", "model", {
      ...opts(Deno.makeTempDirSync(), hub.url),
      allowPatterns: ["*.json"],
    });
    assert.deepEqual(only.downloaded, ["config.json", "tokenizer/tokenizer.json"]);
  } finally {
    await hub.close();
  }
});

Deno.test("the cache is shared with Python's huggingface_hub in both directions, without requests", async () => {
  const hub = startFakeHub(REPOS);
  const cache = Deno.makeTempDirSync({ prefix: "ince-hub-py-" });
  const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache };
  try {
    // TS downloads; Python finds the same files with local_files_only=True and no request.
    const ts = await downloadSnapshot("ince/tiny", "model", opts(cache, hub.url));
    const before = hub.log.length;
    const py = JSON.parse(
      await python(
        `import json; from huggingface_hub import hf_hub_download, snapshot_download
print(json.dumps([snapshot_download("ince/tiny", local_files_only=True),
  hf_hub_download("ince/tiny", "model.safetensors", local_files_only=True),
  hf_hub_download("ince/tiny", "tokenizer/tokenizer.json", local_files_only=True)]))`,
        env,
      ),
    );
    assert.deepEqual(py, [ts.path, `${ts.path}/model.safetensors`, `${ts.path}/tokenizer/tokenizer.json`]);
    assert.equal(hub.log.length, before, "Python made no request");

    // Python downloads from the server; TS then reports a cache hit, making no request.
    const pyPath = await python(
      `from huggingface_hub import snapshot_download; print(snapshot_download("ince/py-first"))`,
      env,
    );
    const n = hub.log.length;
    const offline = await downloadSnapshot("ince/py-first", "model", {
      ...opts(cache, hub.url),
      offline: true,
    });
    const byCommit = await downloadSnapshot("ince/py-first", "model", {
      ...opts(cache, hub.url),
      revision: hub.commitOf("ince/py-first"),
    });
    assert.equal(offline.path, pyPath);
    assert.equal(byCommit.path, pyPath);
    assert.deepEqual([offline.downloaded, byCommit.downloaded, byCommit.requests], [[], [], 0]);
    assert.equal(hub.log.length, n, "TS made no request");
  } finally {
    await hub.close();
  }
});

Deno.test("an interrupted download resumes with a range request and the file's sha256 matches", async () => {
  const hub = startFakeHub(REPOS);
  const cache = Deno.makeTempDirSync({ prefix: "ince-hub-resume-" });
  try {
    hub.faults.truncateAfter = 7_000;
    await assert.rejects(
      () => downloadModel("ince/tiny", opts(cache, hub.url)),
      /model\.safetensors broke off after 7000 of 20000 bytes.*run the same call again to resume/i,
    );
    const sha = createHash("sha256").update(REPOS[0].files["model.safetensors"].data).digest("hex");
    assert.equal(Deno.statSync(`${cache}/models--ince--tiny/blobs/${sha}.incomplete`).size, 7_000);
    hub.faults.truncateAfter = undefined;
    const dir = await downloadModel("ince/tiny", opts(cache, hub.url));
    assert.ok(hub.log.some((r) => r.range === "bytes=7000-"), "the second call asked for the rest only");
    const got = createHash("sha256").update(Deno.readFileSync(`${dir}/model.safetensors`)).digest("hex");
    assert.equal(got, sha);
  } finally {
    await hub.close();
  }
});

Deno.test("bad input gives a clear one-line error", async (t) => {
  const hub = startFakeHub(REPOS);
  const cache = Deno.makeTempDirSync({ prefix: "ince-hub-bad-" });
  const o = opts(cache, hub.url);
  const cases: { name: string; run: () => Promise<unknown>; want: RegExp }[] = [
    {
      name: "malformed repo id",
      run: () => downloadModel("not a/valid/id", o),
      want: /"not a\/valid\/id" is not a valid Hub repo id/,
    },
    {
      name: "401 gated",
      run: () => downloadModel("ince/gated", o),
      want: /access denied \(HTTP 401\).*set HF_TOKEN/,
    },
    {
      name: "404 repo",
      run: () => downloadModel("ince/nope", o),
      want: /ince\/nope: model repository not found \(HTTP 404\)/,
    },
    {
      name: "404 revision",
      run: () => downloadModel("ince/tiny", { ...o, revision: "v9" }),
      want: /revision not found/,
    },
    {
      name: "dataset asked as model",
      run: () => downloadModel("ince/data", o),
      want: /not found.*whether it is a dataset/,
    },
    {
      name: "path traversal",
      run: () => downloadModel("ince/evil", o),
      want: /Refusing the file name "\.\.\/escape\.txt"/,
    },
    {
      name: "offline with an empty cache",
      run: () => downloadModel("ince/tiny", { ...opts(Deno.makeTempDirSync(), hub.url), offline: true }),
      want: /offline \(HF_HUB_OFFLINE\) and revision main of this model is not in the cache/,
    },
    {
      name: "truncated body",
      run: () => {
        hub.faults.truncateAfter = 100;
        return downloadModel("ince/tiny", opts(Deno.makeTempDirSync(), hub.url)).finally(
          () => (hub.faults.truncateAfter = undefined),
        );
      },
      want: /broke off after 100 of 20000 bytes/,
    },
    {
      name: "checksum mismatch",
      run: () => {
        hub.faults.corrupt = true;
        return downloadModel("ince/tiny", opts(Deno.makeTempDirSync(), hub.url)).finally(
          () => (hub.faults.corrupt = false),
        );
      },
      want: /checksum mismatch for model\.safetensors .*the file was discarded/,
    },
  ];
  try {
    for (const c of cases) {
      await t.step(c.name, async () => {
        await assert.rejects(c.run, (e: Error) => {
          assert.match(e.message, c.want);
          assert.ok(!e.message.includes("\n"), "one line");
          return true;
        });
      });
    }
  } finally {
    await hub.close();
  }
});

Deno.test("a token reaches the Hub but never the CDN, and is stored nowhere in the cache", async () => {
  const hub = startFakeHub([{ ...REPOS[0], id: "ince/private", token: TOKEN }]);
  const cache = Deno.makeTempDirSync({ prefix: "ince-hub-token-" });
  try {
    await downloadModel("ince/private", { ...opts(cache, hub.url), token: TOKEN });
    assert.ok(hub.log.filter((r) => r.path.startsWith("/api/")).every((r) => r.auth));
    assert.ok(hub.log.filter((r) => r.path.startsWith("/cdn/")).every((r) => !r.auth));
    const out = await new Deno.Command("grep", { args: ["-r", "-l", TOKEN, cache] }).output();
    assert.equal(new TextDecoder().decode(out.stdout), "");
  } finally {
    await hub.close();
  }
});

Deno.test("modelInfo() counts parameters from safetensors headers with range requests, downloading no weights", async () => {
  const { serializeSafetensors } = await import("../../lib/math/safetensors.ts");
  const { modelInfo } = await import("../../lib/hub/model_info.ts");
  const { estimateTrainingMemory } = await import("../../lib/train/memory_estimate.ts");
  const config = {
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    vocab_size: 100,
  };
  const shard = (n: number) =>
    serializeSafetensors({
      [`layers.${n}.w`]: { shape: [64, 128], data: new Float32Array(64 * 128) },
      [`layers.${n}.b`]: { shape: [3, 5, 7], data: new Float32Array(105) },
    });
  const files = {
    "model-00001-of-00002.safetensors": { data: shard(0) },
    "model-00002-of-00002.safetensors": { data: shard(1) },
  };
  const hub = startFakeHub([
    {
      type: "model",
      id: "ince/sharded",
      files: { ...files, "config.json": { data: enc(JSON.stringify(config)) } },
    },
    {
      type: "model",
      id: "ince/encoder",
      files: { ...files, "config.json": { data: enc('{"model_type":"bert"}') } },
    },
  ]);
  try {
    const o = { ...opts(Deno.makeTempDirSync(), hub.url), r: 8, batchSize: 2, seqLength: 16 };
    const info = await modelInfo("ince/sharded", o);
    assert.equal(info.params, 2 * (64 * 128 + 105));
    assert.deepEqual(info.paramsByDtype, { F32: 2 * (64 * 128 + 105) });
    assert.equal(info.memory.inference, info.params * 4);
    // r·(in+out) per linear layer: q,k,v,o (64→64), gate/up (64→128), down (128→64), 2 layers.
    assert.equal(info.loraParams, 2 * 8 * (4 * 128 + 3 * 192));
    // The training figures are the estimator's peaks (bf16 on a GPU) for the batch asked for.
    for (
      const [method, bytes] of [["lora", info.memory.loraTraining], [
        "qlora",
        info.memory.qloraTraining,
      ]] as const
    ) {
      const e = estimateTrainingMemory({ ...config }, {
        method,
        batchSize: 2,
        seqLength: 16,
        r: 8,
        dtype: "bfloat16",
        device: "cuda",
      });
      assert.equal(bytes, e.peakBytes, method);
    }
    assert.match(info.notes.join(" "), /LoRA r=8 on all linear layers .*batch 2 × 16 tokens/);
    const weightGets = hub.log.filter((r) => r.path.includes(".safetensors"));
    assert.ok(
      weightGets.length > 0 && weightGets.every((r) => r.range !== null),
      "every weight request is a range request",
    );

    // Not a Llama-style decoder: weights and optimizer state only, for an adapter of ~0.5 % of the model.
    const encoder = await modelInfo("ince/encoder", o);
    assert.equal(encoder.loraParams, Math.round(encoder.params * 0.005));
    assert.equal(encoder.memory.loraTraining, encoder.params * 2 + encoder.loraParams * 16);
    assert.ok(encoder.memory.qloraTraining < encoder.memory.loraTraining);
    assert.match(encoder.notes[0], /not Llama-shaped/);
  } finally {
    await hub.close();
  }
});

Deno.test("resolveTree() takes one options object, and a commit's cached tree needs no request", async () => {
  const { resolveTree } = await import("../../lib/hub/resolve_tree.ts");
  const hub = startFakeHub(REPOS);
  const cache = Deno.makeTempDirSync({ prefix: "ince-hub-tree-" });
  try {
    const o = { cacheDir: cache, hubUrl: hub.url, env: {} };
    const first = await resolveTree("ince/data", { ...o, type: "dataset" });
    assert.equal(first.commit, hub.commitOf("ince/data"));
    assert.equal(first.storage, `${cache}/datasets--ince--data`);
    assert.deepEqual(Object.keys(first.tree), ["train.jsonl"]);
    assert.equal(first.requests, 2, "revision, then the tree");
    const again = await resolveTree("ince/data", { ...o, type: "dataset", revision: first.commit });
    assert.deepEqual([again.requests, again.tree], [0, first.tree]);
  } finally {
    await hub.close();
  }
});

Deno.test("downloadDataset() uses the datasets/ URLs and the datasets--org--name folder", async () => {
  const { downloadDataset } = await import("../../lib/hub/download.ts");
  const hub = startFakeHub(REPOS);
  const cache = Deno.makeTempDirSync({ prefix: "ince-hub-ds-" });
  try {
    const dir = await downloadDataset("ince/data", opts(cache, hub.url));
    assert.equal(dir, `${cache}/datasets--ince--data/snapshots/${hub.commitOf("ince/data")}`);
    assert.equal(Deno.readTextFileSync(`${dir}/train.jsonl`), '{"a":1}\n');
    assert.ok(hub.log.some((r) => r.path === "/api/datasets/ince/data/revision/main"));
  } finally {
    await hub.close();
  }
});

Deno.test("cache folder, endpoint, token file and offline flag resolve exactly as Python's huggingface_hub does", async () => {
  const { hubCacheDir, hubEndpoint, hubOffline, hubToken } = await import("../../lib/hub/hub_env.ts");
  const home = Deno.makeTempDirSync({ prefix: "ince-home-" });
  Deno.mkdirSync(`${home}/hfhome`);
  Deno.writeTextFileSync(`${home}/hfhome/token`, "hf_fromfile\n");
  const envs: Record<string, string>[] = [
    { HOME: home },
    { HOME: home, XDG_CACHE_HOME: `${home}/xdg` },
    { HOME: home, HF_HOME: `${home}/hfhome`, HF_HUB_OFFLINE: "1" },
    {
      HOME: home,
      HF_HOME: `${home}/hfhome`,
      HF_HUB_CACHE: `${home}/hubcache`,
      HF_ENDPOINT: "http://127.0.0.1:1/",
    },
    { HOME: home, HUGGINGFACE_HUB_CACHE: `${home}/legacy`, TRANSFORMERS_OFFLINE: "true" },
  ];
  const code =
    `import json; from huggingface_hub import constants; from huggingface_hub.utils import get_token
print(json.dumps([constants.HF_HUB_CACHE, constants.ENDPOINT, constants.HF_HUB_OFFLINE, get_token()]))`;
  for (const env of envs) {
    const out = await new Deno.Command(pythonPath(), {
      args: ["-c", code],
      env,
      clearEnv: true,
      stdout: "piped",
    }).output();
    const [cache, endpoint, offline, token] = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual([hubCacheDir(env), hubEndpoint(env), hubOffline(env), hubToken(env) ?? null], [
      cache,
      endpoint,
      offline,
      token,
    ], JSON.stringify(env));
  }
});
