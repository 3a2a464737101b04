/**
 * Runs the fake Hub in its own process (for benchmarks: the server must not share the client's
 * CPU time). Serves `ince/bench` with N LFS files of M MB; prints its URL on stdout.
 *
 *   deno run -A tests/hub/serve_fake_hub.ts [files=2] [mb=100]
 */
import { startFakeHub } from "./fake_hub.ts";

const files = Number(Deno.args[0] ?? 2), mb = Number(Deno.args[1] ?? 100);
const repo: Record<string, { data: Uint8Array }> = {
  "config.json": { data: new TextEncoder().encode("{}") },
};
for (let f = 0; f < files; f++) {
  const data = new Uint8Array(mb * 1_000_000);
  for (let i = 0; i < data.length; i += 4096) data[i] = (i / 4096 + f) & 0xff;
  repo[`model-${f}.safetensors`] = { data };
}
const hub = startFakeHub([{ type: "model", id: "ince/bench", files: repo }]);
console.log(hub.url);
