/** listLinearModules() on a Hub id that is not cached: headers only, with range requests to the fake Hub. */
import assert from "node:assert/strict";
import { type LinearModules, listLinearModules } from "../../lib/adapters/linear_modules.ts";
import { projectRoot } from "../../lib/env/paths.ts";
import { readSafetensors, serializeSafetensors, type TensorInput } from "../../lib/math/safetensors.ts";
import { startFakeHub } from "./fake_hub.ts";

const TINY = `${projectRoot()}/data/models/ince-tiny`;
const names = (list: LinearModules) => list.modules.map((m) => [m.name, m.shape]);

Deno.test("listLinearModules() reads an uncached Hub model's headers with range requests, single file or sharded", async () => {
  const { tensors } = await readSafetensors(`${TINY}/model.safetensors`);
  const part = (keep: (name: string) => boolean) =>
    serializeSafetensors(
      Object.fromEntries(
        Object.entries(tensors).filter(([n]) => keep(n)).map(([n, t]) => [n, t as TensorInput]),
      ),
    );
  const first = (n: string) => /layers\.[0-2]\./.test(n);
  const shardOf = (n: string) => `model-0000${first(n) ? 1 : 2}-of-00002.safetensors`;
  const index = { weight_map: Object.fromEntries(Object.keys(tensors).map((n) => [n, shardOf(n)])) };
  const config = { data: Deno.readFileSync(`${TINY}/config.json`) };
  const hub = startFakeHub([
    {
      type: "model",
      id: "ince/tiny",
      files: {
        "config.json": config,
        "model.safetensors": { data: Deno.readFileSync(`${TINY}/model.safetensors`) },
      },
    },
    {
      type: "model",
      id: "ince/tiny-sharded",
      files: {
        "config.json": config,
        "model.safetensors.index.json": { data: new TextEncoder().encode(JSON.stringify(index)), lfs: false },
        "model-00001-of-00002.safetensors": { data: part(first) },
        "model-00002-of-00002.safetensors": { data: part((n) => !first(n)) },
      },
    },
  ]);
  const cache = Deno.makeTempDirSync({ prefix: "ince-linear-hub-" });
  try {
    const want = names(await listLinearModules(TINY));
    for (const repo of ["ince/tiny", "ince/tiny-sharded"]) {
      const list = await listLinearModules(repo, { cacheDir: cache, hubUrl: hub.url, env: {} });
      assert.deepEqual(names(list), want, repo);
    }
    const weightGets = hub.log.filter((r) => r.path.endsWith(".safetensors") || r.path.includes("/cdn/"));
    assert.ok(weightGets.length > 0, "the headers came from the Hub");
    assert.ok(weightGets.every((r) => r.range !== null), "every weight request is a range request");
    for (const folder of Deno.readDirSync(cache)) {
      const stored = [...Deno.readDirSync(`${cache}/${folder.name}`)].map((e) => e.name);
      assert.ok(!stored.includes("blobs") && !stored.includes("snapshots"), `nothing downloaded: ${stored}`);
    }
  } finally {
    await hub.close();
    Deno.removeSync(cache, { recursive: true });
  }
});
