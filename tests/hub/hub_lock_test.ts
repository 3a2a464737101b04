/**
 * TypeScript and Python downloading the same blob at the same time: both take huggingface_hub's lock
 * (`<cache>/.locks/<repo folder>/<blob>.lock`, an flock), so one transfers while the other waits, and
 * both end with the one correct blob. The fake Hub holds the body mid-transfer until the other side is
 * seen waiting (filelock's debug log, or ince's own notice), so the overlap is certain, not a race.
 */
import assert from "node:assert/strict";
import { downloadSnapshot } from "../../lib/hub/download.ts";
import { type FakeRepo, startFakeHub } from "./fake_hub.ts";
import { bytes, opts, pythonProcess, sha256 } from "./hub_fixtures.ts";

const WEIGHTS = bytes(300_000, 5);
const REPOS: FakeRepo[] = [{
  type: "model",
  id: "ince/shared",
  files: { "model.safetensors": { data: WEIGHTS } },
}];
const SHA = sha256(WEIGHTS);
// filelock's debug log says when Python tried the lock and found it taken ("… not acquired on …").
const PY_DOWNLOAD = `import logging, sys
logging.basicConfig(stream=sys.stderr)
logging.getLogger("filelock").setLevel(logging.DEBUG)
from huggingface_hub import hf_hub_download
print(hf_hub_download("ince/shared", "model.safetensors", token=False))`;

/** Polls `ok` every 20 ms; fails with `what` after 30 s. */
async function waitFor(what: string, ok: () => boolean): Promise<void> {
  for (const end = Date.now() + 30_000; !ok();) {
    if (Date.now() > end) throw new Error(`Timed out waiting until ${what}.`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A running Python download whose stderr (filelock's debug log) can be watched as it comes. */
function startPython(hubUrl: string, cache: string) {
  const child = pythonProcess(PY_DOWNLOAD, { HF_ENDPOINT: hubUrl, HF_HUB_CACHE: cache }).spawn();
  let stderr = "";
  const errDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (s) => void (stderr += s) }),
  );
  const stdout = new Response(child.stdout).text();
  return {
    stderr: () => stderr,
    /** The snapshot path Python printed; throws with its stderr when it failed. */
    async path(): Promise<string> {
      const [status, out] = await Promise.all([child.status, stdout, errDone]);
      assert.ok(status.success, stderr);
      return out.trim();
    },
  };
}

function checkCache(cache: string, paths: string[], hub: ReturnType<typeof startFakeHub>): void {
  for (const p of paths) assert.equal(sha256(Deno.readFileSync(p)), SHA, p);
  assert.equal(new Set(paths).size, 1, "both sides point at the same snapshot file");
  const blobs = [...Deno.readDirSync(`${cache}/models--ince--shared/blobs`)].map((e) => e.name);
  assert.deepEqual(blobs, [SHA], "one blob, no partial file left");
  const transfers = hub.log.filter((r) => r.method === "GET" && r.path === `/cdn/${SHA}`);
  assert.equal(
    transfers.length,
    1,
    "the bytes crossed the network once: the other side waited, then found the blob",
  );
}

/** A fake Hub whose file bodies wait for `release()`, and an empty cache; both cleaned up after `fn`. */
async function withHeldBodies(
  fn: (hub: ReturnType<typeof startFakeHub>, cache: string, release: () => void) => Promise<void>,
): Promise<void> {
  const hub = startFakeHub(REPOS);
  const cache = Deno.makeTempDirSync({ prefix: "ince-hub-lock-" });
  const hold = Promise.withResolvers<void>();
  hub.faults.holdBodies = hold.promise;
  try {
    await fn(hub, cache, hold.resolve);
  } finally {
    hold.resolve();
    await hub.close();
  }
}

Deno.test({
  name:
    "TypeScript and Python downloading the same blob at once share huggingface_hub's lock: one transfer, one blob",
  ignore: Deno.build.os === "windows", // filelock and Deno lock differently there (msvcrt vs LockFileEx)
  async fn(t) {
    await t.step("ince first: Python waits on ince's lock, then finds the blob", async () => {
      await withHeldBodies(async (hub, cache, release) => {
        const ts = downloadSnapshot("ince/shared", "model", opts(cache, hub.url));
        await waitFor("ince is transferring", () => hub.log.some((r) => r.path.startsWith("/cdn/")));
        const py = startPython(hub.url, cache);
        const lock = `${cache}/.locks/models--ince--shared/${SHA}.lock`;
        await waitFor(
          "Python waits on the lock ince holds",
          () => py.stderr().includes(`not acquired on ${lock}`),
        );
        release();
        const snap = await ts;
        checkCache(cache, [`${snap.path}/model.safetensors`, await py.path()], hub);
      });
    });

    await t.step("Python first: ince waits on Python's lock (and says so), then finds the blob", async () => {
      await withHeldBodies(async (hub, cache, release) => {
        const py = startPython(hub.url, cache);
        await waitFor("Python is transferring", () => hub.log.some((r) => r.path.startsWith("/cdn/")));
        const notices: string[] = [];
        const ts = downloadSnapshot("ince/shared", "model", opts(cache, hub.url, notices));
        await waitFor(
          "ince waits on the lock Python holds",
          () => notices.some((l) => l.includes("waiting")),
        );
        assert.match(
          notices[0],
          /^ince\/shared: model\.safetensors: waiting for another download of the same file to finish \(lock .*\.locks\/models--ince--shared\/[0-9a-f]{64}\.lock\)$/,
        );
        release();
        const snap = await ts;
        checkCache(cache, [`${snap.path}/model.safetensors`, await py.path()], hub);
      });
    });

    await t.step(
      "two ince calls in one process: the second waits, then links the first one's blob",
      async () => {
        await withHeldBodies(async (hub, cache, release) => {
          const notices: string[] = [];
          const both = Promise.all(
            [0, 1].map(() => downloadSnapshot("ince/shared", "model", opts(cache, hub.url, notices))),
          );
          await waitFor(
            "one call waits on the other's lock",
            () => notices.some((l) => l.includes("waiting")),
          );
          release();
          const [a, b] = await both;
          checkCache(cache, [`${a.path}/model.safetensors`, `${b.path}/model.safetensors`], hub);
        });
      },
    );
  },
});
