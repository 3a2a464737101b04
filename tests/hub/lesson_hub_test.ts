/**
 * Lesson 00 with a Hub model id instead of the built-in path: the lesson downloads it (from a local
 * Hub on 127.0.0.1) into the standard cache, with a progress bar, and fine-tunes it unchanged. The repo
 * is gated behind a canary HF_TOKEN, and afterwards every artefact of the run is searched for it: the
 * executed notebook, its HTML, the run folders (configs, events, stderr logs, adapters), the Hub cache
 * and the runner's own output — a token must never be printed or stored.
 */
import assert from "node:assert/strict";
import { projectRoot } from "../../lib/env/paths.ts";
import { describeFailure, runNotebooks } from "../../lib/notebook/run_notebooks.ts";
import { readNotebook } from "../../lib/notebook/read_notebook.ts";
import { startFakeHub } from "./fake_hub.ts";

const ROOT = projectRoot();

Deno.test("lesson 00 with MODEL set to a Hub id downloads it with progress and trains it", async () => {
  const modelDir = `${ROOT}/data/models/ince-tiny`;
  const files = Object.fromEntries(
    [...Deno.readDirSync(modelDir)].filter((e) => e.isFile).map((
      e,
    ) => [e.name, { data: Deno.readFileSync(`${modelDir}/${e.name}`) }]),
  );
  const token = `hf_inceCanary${crypto.randomUUID().replaceAll("-", "")}`;
  const hub = startFakeHub([{ type: "model", id: "ince-course/ince-tiny", files, token }]);
  const runsBefore = new Set(_listRuns());
  const cache = Deno.makeTempDirSync({ prefix: "ince-hub-cache-" });
  const runnerOutput: string[] = [];
  const out = Deno.makeTempDirSync({ prefix: "ince-hub-lesson-" });
  try {
    const [result] = await runNotebooks([`${ROOT}/notebooks/00-first-time-beginner`], {
      out,
      params: { MODEL: "ince-course/ince-tiny", STEPS: "20", IDENTITY_STEPS: "20" },
      html: true,
      env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_HUB_DISABLE_TELEMETRY: "1", HF_TOKEN: token },
      onEvent: (e) => void runnerOutput.push(JSON.stringify(e)),
    });
    assert.ok(result.ok, describeFailure(result));
    assert.ok(hub.log.some((r) => r.auth), "the token was sent to the Hub");
    // The secret never lands anywhere: notebook, HTML, new run folders, the Hub cache, the runner's events.
    const newRuns = _listRuns().filter((d) => !runsBefore.has(d));
    assert.ok(newRuns.length >= 2, `lesson 00 made its run folders (${newRuns.length})`);
    const places = [out, cache, ...newRuns];
    const leaks = places.flatMap((p) => _filesContaining(p, token));
    if (runnerOutput.join("\n").includes(token)) leaks.push("the runner's events");
    assert.deepEqual(leaks, [], "the HF_TOKEN was written to these files");
    assert.ok(_filesContaining(out, "ince-tiny").length > 0, "the search itself finds text in these files");
    type Output = { output_type: string; text?: string[]; data?: Record<string, string[] | string> };
    const cells = readNotebook(result.out).cells as unknown as { outputs?: Output[] }[];
    const text = cells.flatMap((c) => c.outputs ?? []).map((o) =>
      o.output_type === "stream" ? o.text!.join("") : [o.data?.["text/plain"] ?? ""].flat().join("")
    ).join("\n");
    const snapshot = `${cache}/models--ince-course--ince-tiny/snapshots/${
      hub.commitOf("ince-course/ince-tiny")
    }`;
    assert.match(text, new RegExp(`model: ${snapshot.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    assert.match(text, /█{20} 100%/, "a finished progress bar");
    assert.match(text, /held-out exact match after 20 steps: \d+%/);
    assert.ok(hub.log.some((r) => r.path.includes("model.safetensors")), "the weights came from the Hub");
  } finally {
    await hub.close();
    Deno.removeSync(cache, { recursive: true });
    Deno.removeSync(out, { recursive: true });
  }
});

/** The run folders under the project's runs/ (where lessons write by default). */
function _listRuns(): string[] {
  try {
    return [...Deno.readDirSync(`${ROOT}/runs`)].filter((e) => e.isDirectory).map((e) =>
      `${ROOT}/runs/${e.name}`
    );
  } catch {
    return [];
  }
}

/** Every file below `dir` whose bytes contain `needle` (binary files too: safetensors, optimizer state). */
function _filesContaining(dir: string, needle: string): string[] {
  const want = new TextEncoder().encode(needle);
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      const path = `${d}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (e.isFile && _includes(Deno.readFileSync(path), want)) hits.push(path);
    }
  };
  walk(dir);
  return hits;
}

function _includes(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (
    let i = hay.indexOf(needle[0]);
    i !== -1 && i <= hay.length - needle.length;
    i = hay.indexOf(needle[0], i + 1)
  ) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
