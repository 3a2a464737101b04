/**
 * Lesson 00 with a Hub model id instead of the built-in path: the lesson downloads it (from a local
 * Hub on 127.0.0.1) into the standard cache, with a progress bar, and fine-tunes it unchanged.
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
  const hub = startFakeHub([{ type: "model", id: "ince-course/ince-tiny", files }]);
  const cache = Deno.makeTempDirSync({ prefix: "ince-hub-cache-" });
  const out = Deno.makeTempDirSync({ prefix: "ince-hub-lesson-" });
  try {
    const [result] = await runNotebooks([`${ROOT}/notebooks/00-first-time-beginner`], {
      out,
      params: { MODEL: "ince-course/ince-tiny", STEPS: "20", IDENTITY_STEPS: "20" },
      env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_HUB_DISABLE_TELEMETRY: "1" },
    });
    assert.ok(result.ok, describeFailure(result));
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
