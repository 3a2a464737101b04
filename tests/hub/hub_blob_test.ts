/**
 * One file's transfer against a Hub whose bytes misbehave: bodies that break off, a server that
 * ignores `Range`, partial files (`blobs/<etag>.incomplete`) that are too long or hold wrong bytes, and
 * a corrupt small (non-LFS) file caught by its git blob id.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { downloadSnapshot } from "../../lib/hub/download.ts";
import { type FakeRepo, startFakeHub } from "./fake_hub.ts";
import { bytes, enc, opts, sha256 } from "./hub_fixtures.ts";

const WEIGHTS = bytes(20_000, 3);
const CONFIG = enc('{"model_type":"llama","hidden_size":64}');
const REPOS: FakeRepo[] = [{
  type: "model",
  id: "ince/blobs",
  files: { "config.json": { data: CONFIG }, "model.safetensors": { data: WEIGHTS } },
}];
const WEIGHTS_BLOB = `models--ince--blobs/blobs/${sha256(WEIGHTS)}`;

async function withHub(fn: (hub: ReturnType<typeof startFakeHub>, cache: string) => Promise<void>) {
  const hub = startFakeHub(REPOS);
  try {
    await fn(hub, Deno.makeTempDirSync({ prefix: "ince-hub-blob-" }));
  } finally {
    await hub.close();
  }
}

const weightGets = (hub: ReturnType<typeof startFakeHub>) =>
  hub.log.filter((r) => r.method === "GET" && r.path === `/cdn/${sha256(WEIGHTS)}`);

Deno.test("a transfer that breaks off is resumed in the same call with a range request", async () => {
  await withHub(async (hub, cache) => {
    const notices: string[] = [];
    hub.faults.truncateAfter = 7_000;
    hub.faults.truncateTimes = 1;
    const snap = await downloadSnapshot("ince/blobs", "model", opts(cache, hub.url, notices));
    assert.deepEqual(Deno.readFileSync(`${snap.path}/model.safetensors`), WEIGHTS);
    assert.deepEqual(weightGets(hub).map((r) => [r.range, r.status]), [[null, 200], ["bytes=7000-", 206]]);
    assert.match(
      notices.join("\n"),
      /model\.safetensors broke off at 7000 of 20000 bytes .*resuming in 1 ms/,
    );
  });
});

Deno.test("a server that ignores Range gets the whole file again, and the partial file is not appended to", async () => {
  await withHub(async (hub, cache) => {
    hub.faults.truncateAfter = 7_000;
    const noRetry = { ...opts(cache, hub.url), retry: { retries: 0, onNotice: () => {} } };
    await assert.rejects(
      downloadSnapshot("ince/blobs", "model", noRetry),
      /broke off after 7000 of 20000 bytes/,
    );
    assert.equal(Deno.statSync(`${cache}/${WEIGHTS_BLOB}.incomplete`).size, 7_000);
    hub.faults.truncateAfter = undefined;
    hub.faults.ignoreRange = true;
    const snap = await downloadSnapshot("ince/blobs", "model", opts(cache, hub.url));
    assert.deepEqual(Deno.readFileSync(`${snap.path}/model.safetensors`), WEIGHTS);
    assert.deepEqual(weightGets(hub).at(-1), {
      ...weightGets(hub).at(-1),
      range: "bytes=7000-",
      status: 200,
    }, "the range was asked for and ignored");
  });
});

Deno.test("a partial file longer than the blob, or holding wrong bytes, never ends up in the cache", async (t) => {
  const cases: { name: string; partial: Uint8Array; ranges: (string | null)[]; notice?: RegExp }[] = [
    { name: "longer than the blob: discarded", partial: bytes(25_000, 9), ranges: [null] },
    {
      name: "full length, wrong bytes: checked, then fetched again",
      partial: bytes(20_000, 9),
      ranges: [null],
      notice: /checksum mismatch for model\.safetensors \(sha256 .*after resuming a partial file/,
    },
    {
      name: "a wrong prefix: resumed, checked, then fetched again",
      partial: bytes(5_000, 9),
      ranges: ["bytes=5000-", null],
      notice: /checksum mismatch .*downloading it again from the start/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await withHub(async (hub, cache) => {
        Deno.mkdirSync(`${cache}/models--ince--blobs/blobs`, { recursive: true });
        Deno.writeFileSync(`${cache}/${WEIGHTS_BLOB}.incomplete`, c.partial);
        const notices: string[] = [];
        const snap = await downloadSnapshot("ince/blobs", "model", opts(cache, hub.url, notices));
        assert.deepEqual(Deno.readFileSync(`${snap.path}/model.safetensors`), WEIGHTS);
        assert.deepEqual(weightGets(hub).map((r) => r.range), c.ranges);
        if (c.notice) assert.match(notices.join("\n"), c.notice);
        assert.deepEqual(
          [...Deno.readDirSync(`${cache}/models--ince--blobs/blobs`)].filter((e) =>
            e.name.endsWith(".incomplete")
          ),
          [],
        );
      });
    });
  }
});

Deno.test("a corrupt small file (not LFS) is caught by its git blob id and discarded", async () => {
  await withHub(async (hub, cache) => {
    const blobId = createHash("sha1").update(`blob ${CONFIG.length}\0`).update(CONFIG).digest("hex");
    hub.faults.corrupt = /config\.json$/;
    await assert.rejects(
      downloadSnapshot("ince/blobs", "model", { ...opts(cache, hub.url), allowPatterns: ["config.json"] }),
      new RegExp(
        `^Error: ince/blobs: checksum mismatch for config\\.json \\(git-sha1 [0-9a-f]{12}…, expected ` +
          `${
            blobId.slice(0, 12)
          }…\\): the file was discarded\\. Run again; if it repeats, the mirror is corrupt\\.$`,
      ),
    );
    assert.deepEqual([...Deno.readDirSync(`${cache}/models--ince--blobs/blobs`)], [], "nothing kept");
    hub.faults.corrupt = undefined;
    const snap = await downloadSnapshot("ince/blobs", "model", opts(cache, hub.url));
    assert.equal(Deno.readLinkSync(`${snap.path}/config.json`), `../../blobs/${blobId}`);
    assert.deepEqual(Deno.readFileSync(`${snap.path}/config.json`), CONFIG);
  });
});
