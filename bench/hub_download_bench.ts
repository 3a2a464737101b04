/**
 * Download throughput: ince's downloader vs Python's huggingface_hub, same local Hub server (its own
 * process), same files, fresh caches, measured in one run. Goal: ratio ≥ 0.9.
 *
 *   deno run -A bench/hub_download_bench.ts [files=2] [mb=100]
 */
import { downloadSnapshot } from "../lib/hub/download.ts";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";

const files = Deno.args[0] ?? "2", mb = Deno.args[1] ?? "100";
const server = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `${projectRoot()}/tests/hub/serve_fake_hub.ts`, files, mb],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
const url = (await reader.read()).value!.trim();
const totalMb = Number(files) * Number(mb);

async function ince(): Promise<number> {
  const cache = Deno.makeTempDirSync({ prefix: "ince-bench-ts-" });
  const t0 = performance.now();
  await downloadSnapshot("ince/bench", "model", { cacheDir: cache, hubUrl: url, progress: false, env: {} });
  const s = (performance.now() - t0) / 1000;
  Deno.removeSync(cache, { recursive: true });
  return s;
}

async function python(): Promise<number> {
  const cache = Deno.makeTempDirSync({ prefix: "ince-bench-py-" });
  const code = "import time; from huggingface_hub import snapshot_download; t=time.perf_counter(); " +
    "snapshot_download('ince/bench'); print(time.perf_counter()-t)";
  const out = await new Deno.Command(pythonPath(), {
    args: ["-c", code],
    env: {
      HF_ENDPOINT: url,
      HF_HUB_CACHE: cache,
      HF_HUB_DISABLE_TELEMETRY: "1",
      HF_HUB_DISABLE_XET: "1",
      HF_HUB_DISABLE_PROGRESS_BARS: "1",
    },
    stdout: "piped",
  }).output();
  Deno.removeSync(cache, { recursive: true });
  return Number(new TextDecoder().decode(out.stdout).trim());
}

const rows: { client: string; seconds: number }[] = [];
for (let round = 0; round < 2; round++) {
  rows.push({ client: "ince (TS)", seconds: await ince() });
  rows.push({ client: "huggingface_hub (Python)", seconds: await python() });
}
const table = rows.map((r) => ({
  ...r,
  seconds: +r.seconds.toFixed(2),
  "MB/s": +(totalMb / r.seconds).toFixed(0),
}));
console.table(table);
const best = (name: string) =>
  Math.min(...rows.filter((r) => r.client.startsWith(name)).map((r) => r.seconds));
console.log(
  `${files} × ${mb} MB: ince/huggingface_hub throughput ratio = ${
    (best("huggingface_hub") / best("ince")).toFixed(2)
  } (goal ≥ 0.9; best of 2 each; Python time excludes interpreter start)`,
);
server.kill();
await server.status;
