import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { downloadModel, downloadSnapshot } from "../../lib/hub/download.ts";
import { type FakeRepo, startFakeHub } from "./fake_hub.ts";
import { bytes, enc, opts, python, TOKEN } from "./hub_fixtures.ts";

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
      want: /ince\/gated: gated repo, and no token was sent \(HTTP 401\).*set HF_TOKEN/,
    },
    {
      name: "missing repo without a token (401, as the Hub answers)",
      run: () => downloadModel("ince/nope", o),
      want: /ince\/nope: model repository not found, or private or gated \(HTTP 401, no token sent\)/,
    },
    {
      name: "missing repo with a token (404)",
      run: () => downloadModel("ince/nope", { ...o, token: TOKEN }),
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
        hub.faults.corrupt = /^\/cdn\//;
        return downloadModel("ince/tiny", opts(Deno.makeTempDirSync(), hub.url)).finally(
          () => (hub.faults.corrupt = undefined),
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
