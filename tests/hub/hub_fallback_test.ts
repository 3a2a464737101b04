/**
 * The cache as a fallback when the Hub cannot serve a download, as huggingface_hub's `snapshot_download`
 * falls back (`_snapshot_download.py`): an unreachable (or 5xx) Hub → the cached snapshot of the
 * revision, in one line and without waiting out the retries; nothing (or too little) cached → one line
 * that says so; an error answer (401, 403, 404) → the error, naming the cached snapshot. Python's client
 * is run on the same cache and the same closed port, to show it makes the same choice.
 */
import assert from "node:assert/strict";
import { downloadSnapshot } from "../../lib/hub/download.ts";
import { type FakeRepo, startFakeHub } from "./fake_hub.ts";
import { bytes, enc, opts, python, TOKEN } from "./hub_fixtures.ts";

const OTHER = "hf_valid_token_of_an_account_without_access";
const REPOS: FakeRepo[] = [
  {
    type: "model",
    id: "ince/fb",
    files: { "config.json": { data: enc('{"a":1}') }, "w.safetensors": { data: bytes(3_000, 1) } },
  },
  { type: "model", id: "ince/gated", token: TOKEN, files: { "config.json": { data: enc("{}") } } },
  {
    type: "model",
    id: "ince/private",
    token: TOKEN,
    private: true,
    files: { "c.json": { data: enc("{}") } },
  },
];

/** A cache filled from a fake Hub that is then closed (nothing listens on its port any more). */
async function cachedThenClosed(patterns: { allowPatterns?: string[] } = {}) {
  const hub = startFakeHub(REPOS);
  const cache = Deno.makeTempDirSync({ prefix: "ince-hub-fallback-" });
  const first = await downloadSnapshot("ince/fb", "model", { ...opts(cache, hub.url), ...patterns });
  await hub.close();
  return { cache, url: hub.url, first };
}

Deno.test("an unreachable Hub falls back to the cached snapshot of the revision, in one line, at once (as huggingface_hub)", async () => {
  const { cache, url, first } = await cachedThenClosed();
  const notices: string[] = [];
  const t0 = performance.now();
  const snap = await downloadSnapshot("ince/fb", "model", opts(cache, url, notices));
  assert.equal(snap.path, first.path);
  assert.deepEqual(snap.files, ["config.json", "w.safetensors"]);
  assert.deepEqual(snap.downloaded, []);
  assert.equal(notices.length, 1, "no retries: huggingface_hub's repo_info is not retried either");
  assert.match(
    notices[0],
    new RegExp(
      String
        .raw`^ince/fb: the Hub cannot be reached \(cannot reach 127\.0\.0\.1:\d+ for revision main \(.+\)\); ` +
        String.raw`using the cached snapshot ${
          first.commit.slice(0, 8)
        } \(set HF_HUB_OFFLINE=1 to skip the Hub\)\.$`,
    ),
  );
  assert.ok(performance.now() - t0 < 2_000);

  // A pattern the cache holds falls back too; one it lacks is not served from a partial snapshot.
  notices.length = 0;
  const json = await downloadSnapshot("ince/fb", "model", {
    ...opts(cache, url, notices),
    allowPatterns: ["*.json"],
  });
  assert.deepEqual(json.files, ["config.json"]);
  assert.equal(notices.length, 1);

  // Python's snapshot_download, on the same cache and the same closed port, returns the same folder.
  const py = await python(
    `from huggingface_hub import snapshot_download; print(snapshot_download("ince/fb"))`,
    { HF_ENDPOINT: url, HF_HUB_CACHE: cache },
  );
  assert.equal(py, first.path);
});

Deno.test("an unreachable Hub with an incomplete or no cached snapshot: one line that says nothing usable is cached", async () => {
  // Only the JSON files were downloaded: the full snapshot is incomplete (huggingface_hub: IncompleteSnapshotError).
  const { cache, url } = await cachedThenClosed({ allowPatterns: ["*.json"] });
  const notices: string[] = [];
  await assert.rejects(downloadSnapshot("ince/fb", "model", opts(cache, url, notices)), (e: Error) => {
    assert.match(
      e.message,
      /^ince\/fb: cannot reach 127\.0\.0\.1:\d+ for revision main \(.+\), 6 times, retried for 23 ms\. Nothing to fall back to: 1 file\(s\) are not cached \(w\.safetensors\)\. Check the connection and try again\.$/,
    );
    return true;
  });
  assert.equal(notices.length, 5, "with nothing usable cached, the retries are waited out");
  const py = await python(
    `from huggingface_hub import snapshot_download
try: snapshot_download("ince/fb")
except Exception as e: print(type(e).__name__)`,
    { HF_ENDPOINT: url, HF_HUB_CACHE: cache },
  );
  assert.equal(py, "IncompleteSnapshotError");

  // Another revision was never cached.
  await assert.rejects(
    downloadSnapshot("ince/fb", "model", { ...opts(cache, url), revision: "v2" }),
    /Nothing to fall back to: revision v2 of this model is not in the cache \(.+models--ince--fb\)\. Check the connection/,
  );
});

Deno.test("a Hub answering 5xx (after one try, as repo_info) falls back to the cache, saying it is unavailable", async () => {
  const hub = startFakeHub(REPOS);
  try {
    const cache = Deno.makeTempDirSync({ prefix: "ince-hub-fallback-" });
    const first = await downloadSnapshot("ince/fb", "model", opts(cache, hub.url));
    hub.faults.fail = { status: 503, times: Infinity };
    const before = hub.log.length, notices: string[] = [];
    const snap = await downloadSnapshot("ince/fb", "model", opts(cache, hub.url, notices));
    assert.equal(snap.path, first.path);
    assert.equal(hub.log.length - before, 1);
    assert.deepEqual(notices, [
      `ince/fb: the Hub is unavailable (HTTP 503 for revision main); using the cached snapshot ${
        first.commit.slice(0, 8)
      } (set HF_HUB_OFFLINE=1 to skip the Hub).`,
    ]);
  } finally {
    await hub.close();
  }
});

Deno.test("an error answer (401 gated, 401 refused token, 404 private) does not fall back: it names the cached snapshot", async () => {
  const hub = startFakeHub(REPOS, { tokens: [OTHER] });
  try {
    const cache = Deno.makeTempDirSync({ prefix: "ince-hub-fallback-" });
    const gated = await downloadSnapshot("ince/gated", "model", { ...opts(cache, hub.url), token: TOKEN });
    const priv = await downloadSnapshot("ince/private", "model", { ...opts(cache, hub.url), token: TOKEN });
    const cases: [string, string | undefined, RegExp, string][] = [
      [
        "ince/gated",
        undefined,
        /^ince\/gated: gated repo, and no token was sent \(HTTP 401\)\./,
        gated.commit,
      ],
      [
        "ince/gated",
        "hf_bad",
        /^ince\/gated: the Hub refused the token \(HTTP 401: invalid credentials\)/,
        gated.commit,
      ],
      ["ince/private", OTHER, /^ince\/private: model repository not found \(HTTP 404\)/, priv.commit],
    ];
    for (const [repo, token, want, commit] of cases) {
      const notices: string[] = [];
      await assert.rejects(
        downloadSnapshot(repo, "model", { ...opts(cache, hub.url, notices), token }),
        (e: Error) => {
          assert.match(e.message, want);
          assert.ok(
            e.message.endsWith(
              `(A cached snapshot ${
                commit.slice(0, 8)
              } exists: set HF_HUB_OFFLINE=1 to use it without asking the Hub.)`,
            ),
            e.message,
          );
          assert.ok(!e.message.includes("\n"));
          return true;
        },
      );
      assert.deepEqual(notices, []);
    }
    // huggingface_hub differs here: it returns the cached snapshot without a word (ince keeps the error).
    const py = await python(
      `from huggingface_hub import snapshot_download; print(snapshot_download("ince/gated", token=False))`,
      { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache },
    );
    assert.equal(py, gated.path);
  } finally {
    await hub.close();
  }
});
