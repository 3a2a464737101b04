/**
 * The display layer: one decision about where output goes, and viz/display modules that import one way.
 */
import assert from "node:assert/strict";
import { display, displayTarget } from "../lib/display/mod.ts";
import { showFigure, showTable } from "../lib/viz/mod.ts";
import { projectRoot } from "../lib/env/paths.ts";

const ROOT = projectRoot();

Deno.test("displayTarget() says terminal or none outside the kernel, and show* return their bundle there", async () => {
  for (const stream of ["stdout", "stderr"] as const) {
    const isTty = (stream === "stdout" ? Deno.stdout : Deno.stderr).isTerminal();
    assert.equal(displayTarget(stream), isTty ? "terminal" : "none");
  }
  assert.deepEqual(await display({ "text/plain": "x" }), { "text/plain": "x" });
  const fig = await showFigure({ data: [], layout: {} }, { displayId: "t", update: true });
  assert.equal(fig?.["text/plain"], `Figure "": no traces`);
  assert.equal((await showTable([{ a: 1 }]))?.["text/plain"], "a\n-\n1");
});

Deno.test("only lib/display/display.ts looks for the kernel or a terminal", () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (path.endsWith(".ts") && !path.endsWith("lib/display/display.ts")) {
        const text = Deno.readTextFileSync(path);
        if (/Deno\.jupyter|\.isTerminal\(|env\.get\(["'](JPY_|JUPYTER_)/.test(text)) {
          offenders.push(path.slice(ROOT.length + 1));
        }
      }
    }
  };
  walk(`${ROOT}/lib`);
  assert.deepEqual(offenders, [], "ask displayTarget() from lib/display/display.ts instead");
});

Deno.test("lib/ has no import cycles (deno info from lib/mod.ts)", () => {
  const edges = new Map<string, string[]>();
  for (const root of ["lib/mod.ts"]) {
    const out = new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", `${ROOT}/${root}`],
      stdout: "piped",
    })
      .outputSync();
    assert.ok(out.success, `deno info ${root} failed`);
    type Dep = { code?: { specifier?: string }; type?: { specifier?: string } };
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: { specifier: string; dependencies?: Dep[] }[];
    };
    for (const m of info.modules) {
      if (!m.specifier.startsWith("file:")) continue;
      const deps = (m.dependencies ?? []).flatMap((d) => [d.code?.specifier, d.type?.specifier]);
      edges.set(m.specifier, [...new Set(deps.filter((s): s is string => !!s?.startsWith("file:")))]);
    }
  }
  const state = new Map<string, "open" | "done">(), stack: string[] = [], cycles: string[] = [];
  const visit = (n: string) => {
    state.set(n, "open");
    stack.push(n);
    for (const d of edges.get(n) ?? []) {
      if (state.get(d) === "open") cycles.push([...stack.slice(stack.indexOf(d)), d].join(" -> "));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of edges.keys()) if (!state.has(n)) visit(n);
  assert.deepEqual(cycles, []);
});
