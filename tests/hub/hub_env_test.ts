/** Where the cache, endpoint, token and offline flag come from: the same answers as Python's huggingface_hub. */
import assert from "node:assert/strict";
import { pythonPath } from "../../lib/env/paths.ts";

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
