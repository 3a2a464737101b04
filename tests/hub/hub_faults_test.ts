/**
 * The Hub client against a Hub that misbehaves as huggingface.co does: tree listings over pages, the
 * 401/403 answers of gated repos and refused tokens, and 429/5xx/network failures retried with backoff.
 * Python's huggingface_hub is run against the same fake Hub, to show the fake answers as the real one.
 */
import assert from "node:assert/strict";
import { downloadSnapshot } from "../../lib/hub/download.ts";
import { resolveTree } from "../../lib/hub/resolve_tree.ts";
import { type FakeRepo, startFakeHub } from "./fake_hub.ts";
import { bytes, enc, opts, python, TOKEN } from "./hub_fixtures.ts";

const OTHER = "hf_valid_token_of_an_account_without_access";
const BAD = "hf_not_a_token_the_hub_knows";
const FILES = Object.fromEntries(
  ["a.json", "b/c.json", "b/d/e.txt", "f.bin", "g/h.md", "i.txt", "j.safetensors"].map((p, i) => [
    p,
    { data: p.endsWith(".safetensors") ? bytes(3_000, i) : enc(`file ${i}\n`) },
  ]),
);
const REPOS: FakeRepo[] = [
  { type: "model", id: "ince/many", files: FILES },
  { type: "model", id: "ince/gated", token: TOKEN, files: { "config.json": { data: enc("{}") } } },
  {
    type: "model",
    id: "ince/private",
    token: TOKEN,
    private: true,
    files: { "config.json": { data: enc("{}") } },
  },
];

function fresh(hubUrl: string, notices?: string[]) {
  return opts(Deno.makeTempDirSync({ prefix: "ince-hub-faults-" }), hubUrl, notices);
}

Deno.test("a tree listing split over pages (Link: rel=next) is read to its end, as huggingface_hub reads it", async () => {
  const hub = startFakeHub(REPOS, { pageSize: 3 });
  try {
    const o = fresh(hub.url);
    const { tree, requests } = await resolveTree("ince/many", o);
    assert.deepEqual(Object.keys(tree).sort(), Object.keys(FILES).sort(), "every file, no folder");
    const pages = hub.log.filter((r) => r.path.includes("/tree/"));
    assert.equal(pages.length, 4, "10 entries (3 folders, 7 files) in pages of 3");
    assert.deepEqual([pages[0].query.includes("cursor="), pages[3].query.includes("cursor=")], [false, true]);
    assert.equal(requests, 1 + pages.length);
    // The same listing, through Python's own client and the cache both share.
    const listed = JSON.parse(
      await python(
        `import json; from huggingface_hub import HfApi
print(json.dumps(sorted(f.path for f in HfApi().list_repo_tree("ince/many", recursive=True) if hasattr(f, "lfs"))))`,
        { HF_ENDPOINT: hub.url },
      ),
    );
    assert.deepEqual(listed, Object.keys(FILES).sort());
    const snap = await downloadSnapshot("ince/many", "model", o);
    assert.deepEqual(snap.files, Object.keys(FILES).sort());
  } finally {
    await hub.close();
  }
});

Deno.test("401 and 403 name the repo and say what to do: gated without a token, gated without access, a refused token, a private repo", async () => {
  const hub = startFakeHub(REPOS, { tokens: [OTHER] });
  const cases: [string, string | undefined, RegExp][] = [
    [
      "ince/gated",
      undefined,
      /^ince\/gated: gated repo, and no token was sent \(HTTP 401\)\. Accept its terms at http:\/\/127\.0\.0\.1:\d+\/ince\/gated, then set HF_TOKEN/,
    ],
    [
      "ince/gated",
      OTHER,
      /^ince\/gated: gated repo, and the token's account has no access to it yet \(HTTP 403\)\. Request access at http:\/\/127\.0\.0\.1:\d+\/ince\/gated/,
    ],
    [
      "ince/gated",
      BAD,
      /^ince\/gated: the Hub refused the token \(HTTP 401: invalid credentials\)\. Check HF_TOKEN/,
    ],
    ["ince/many", BAD, /^ince\/many: the Hub refused the token \(HTTP 401: invalid credentials\)/],
    [
      "ince/private",
      undefined,
      /^ince\/private: model repository not found, or private or gated \(HTTP 401, no token sent\)/,
    ],
    ["ince/private", OTHER, /^ince\/private: model repository not found \(HTTP 404\)/],
  ];
  try {
    for (const [repo, token, want] of cases) {
      await assert.rejects(downloadSnapshot(repo, "model", { ...fresh(hub.url), token }), (e: Error) => {
        assert.match(e.message, want);
        assert.ok(!e.message.includes("\n"), "one line");
        for (const t of [TOKEN, OTHER, BAD]) assert.ok(!e.message.includes(t), "the token is never printed");
        return true;
      });
    }
    // Python's client sees the fake's answers as it sees the real Hub's.
    const seen = JSON.parse(
      await python(
        `import json; from huggingface_hub import hf_hub_download
out = []
for repo, token in json.loads(${JSON.stringify(JSON.stringify(cases.map(([r, t]) => [r, t ?? false])))}):
    try: hf_hub_download(repo, "config.json", token=token); out.append("ok")
    except Exception as e: out.append(type(e).__name__ + " " + str(getattr(getattr(e, "response", None), "status_code", "")))
print(json.dumps(out))`,
        { HF_ENDPOINT: hub.url, HF_HUB_CACHE: Deno.makeTempDirSync() },
      ),
    );
    assert.deepEqual(seen, [
      "GatedRepoError 401",
      "GatedRepoError 403",
      "HfHubHTTPError 401",
      "HfHubHTTPError 401",
      "RepositoryNotFoundError 401",
      "RepositoryNotFoundError 404",
    ]);
  } finally {
    await hub.close();
  }
});

Deno.test("429 and 5xx are retried with exponential backoff (Retry-After honoured), each retry announced", async () => {
  const hub = startFakeHub(REPOS);
  try {
    // Two 503s on the tree listing, then a 429 with Retry-After: 0 on a file: the download succeeds.
    const notices: string[] = [];
    hub.faults.fail = { status: 503, times: 2, path: /\/tree\// };
    const o = fresh(hub.url, notices);
    const listed = await resolveTree("ince/many", o);
    assert.equal(hub.log.filter((r) => r.path.includes("/tree/")).length, 3);
    hub.faults.fail = { status: 429, times: 1, path: /\/cdn\//, retryAfter: 0 };
    const snap = await downloadSnapshot("ince/many", "model", { ...o, revision: listed.commit });
    assert.equal(snap.files.length, 7);
    assert.deepEqual(notices, [
      "ince/many: HTTP 503 for the file list; retry 1/5 in 1 ms.",
      "ince/many: HTTP 503 for the file list; retry 2/5 in 2 ms.",
      "ince/many: HTTP 429 for j.safetensors; retry 1/5 in 1 ms.", // Retry-After 0 s + one base delay
    ]);

    // The waits double up to the cap; then the call fails, saying how often and for how long.
    notices.length = 0;
    hub.faults.fail = { status: 500, times: Infinity };
    await assert.rejects(
      downloadSnapshot("ince/many", "model", { ...fresh(hub.url, notices) }),
      /^Error: ince\/many: the Hub answered HTTP 500 for revision main 6 times, retried for 23 ms\. It may be down\. Try again later\. Nothing to fall back to: revision main of this model is not in the cache \(.+\)\.$/,
    );
    assert.deepEqual(notices.map((l) => l.match(/in (\d+ ms)/)![1]), [
      "1 ms",
      "2 ms",
      "4 ms",
      "8 ms",
      "8 ms",
    ]);

    // A Retry-After longer than the client will sit through fails at once, saying how long.
    const before = hub.log.length;
    hub.faults.fail = { status: 429, times: Infinity, retryAfter: 3600 };
    await assert.rejects(
      downloadSnapshot("ince/many", "model", fresh(hub.url)),
      /^Error: ince\/many: the Hub is rate-limiting \(HTTP 429 for revision main\) and asks to wait 3600 s\. Try again after that/,
    );
    assert.equal(hub.log.length - before, 1, "one request, no retry");
  } finally {
    await hub.close();
  }
});

Deno.test("an unreachable Hub, with nothing cached, is retried, then named in one line that says nothing is cached", async () => {
  const hub = startFakeHub(REPOS);
  await hub.close(); // nothing listens on its port any more
  const notices: string[] = [];
  const o = {
    ...fresh(hub.url, notices),
    retry: { retries: 2, baseDelayMs: 1, onNotice: (l: string) => notices.push(l) },
  };
  await assert.rejects(downloadSnapshot("ince/many", "model", o), (e: Error) => {
    assert.match(
      e.message,
      /^ince\/many: cannot reach 127\.0\.0\.1:\d+ for revision main \(.+\), 3 times, retried for 3 ms\./,
    );
    assert.match(
      e.message,
      /\. Nothing to fall back to: revision main of this model is not in the cache \(.+\)\. Check the connection and try again\.$/,
    );
    assert.ok(!e.message.includes("\n"));
    return true;
  });
  assert.equal(notices.length, 2);
});
