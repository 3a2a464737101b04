import assert from "node:assert/strict";
import { codeCell, newNotebook } from "../lib/notebook/build_notebook.ts";
import { projectRoot } from "../lib/env/paths.ts";

const ROOT = projectRoot();

/** Runs `deno task nb run ...` as a user would and returns exit code + stderr lines. */
async function nbRun(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; lines: string[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/cli/nb.ts`, "run", ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stderr).trim().split("\n").filter(Boolean);
  return { code: out.code, lines };
}

Deno.test("nb run gives a one-line error naming the file for each kind of bad input", async (t) => {
  const dir = Deno.makeTempDirSync({ prefix: "ince-bad-" });
  const good = `${dir}/good.ipynb`;
  Deno.writeTextFileSync(good, JSON.stringify(newNotebook([codeCell("1")])));
  const invalid = `${dir}/broken.ipynb`;
  Deno.writeTextFileSync(invalid, '{\n "cells": [\n  {"cell_type": "code",\n }\n');
  const python3 = `${dir}/python3.ipynb`;
  const nb = newNotebook([codeCell("1")]);
  nb.metadata.kernelspec = { name: "python3", display_name: "Python 3" };
  Deno.writeTextFileSync(python3, JSON.stringify(nb));
  Deno.mkdirSync(`${dir}/empty`);

  const cases: { name: string; args: string[]; env?: Record<string, string>; want: RegExp }[] = [
    {
      name: "missing notebook",
      args: [`${dir}/nope.ipynb`],
      want: /nope\.ipynb: no such notebook or folder\. Check the path/,
    },
    {
      name: "invalid JSON",
      args: [invalid],
      want: /broken\.ipynb: not valid JSON at line 4, column \d+ .*Fix the file/,
    },
    {
      name: "foreign kernelspec",
      args: [python3],
      want: /python3\.ipynb: kernelspec is "python3", not "ince"\. Open it in JupyterLab/,
    },
    {
      name: "a --param without NAME=VALUE",
      args: [good, "--param", "STEPS"],
      want: /Parameter "STEPS": expected NAME=VALUE, e\.g\. STEPS=20\./,
    },
    {
      name: "an empty folder",
      args: [`${dir}/empty`],
      want: /empty: no \.ipynb notebook there; name a notebook or a folder holding some\./,
    },
    {
      name: "missing Python",
      args: [good],
      env: { INCE_PYTHON: `${dir}/no-python/bin/python` },
      want: /Python environment not found at .*no-python\/bin\/python .*Run `npx -y deno@2\.9\.6 task setup`/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const { code, lines } = await nbRun([...c.args, "--out", `${dir}/out`], c.env);
      assert.equal(code, 1);
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0], c.want);
    });
  }
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("resolveModel() says when a model path is not a model folder, and what to use instead", async () => {
  const { resolveModel } = await import("../lib/hub/download.ts");
  await assert.rejects(
    () => resolveModel("./data/models/nope"),
    /\.\/data\/models\/nope: no model folder here \(no config\.json; .*Use a folder with a Hugging Face model, or a Hub id/,
  );
});
