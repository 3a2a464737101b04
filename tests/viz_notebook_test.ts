/**
 * Live charts end to end: a "training" notebook (three recorded runs replayed live into one chart,
 * prints, a table, a bar chart) executed headless 20 times (four runners at once); each executed copy
 * checked for exactly one final figure; its HTML export and JupyterLab opened in headless Chromium.
 */
import assert from "node:assert/strict";
import { codeCell, markdownCell, newNotebook } from "../lib/notebook/build_notebook.ts";
import { describeFailure, type NotebookResult, runNotebooks } from "../lib/notebook/run_notebooks.ts";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";
import { loadRun } from "../lib/train/run_store.ts";
import { summarizeRun } from "../lib/train/compare_runs.ts";
import { PLOTLY_MIME } from "../lib/viz/figure.ts";
import { launchBrowser } from "./_browser.ts";

const ROOT = projectRoot();
const METHODS = ["lora", "dora", "pissa"];
const RUNS = Object.fromEntries(METHODS.map((m) => [m, loadRun(`${ROOT}/data/runs/numbers-${m}`)]));
const stepCount = (m: string) => RUNS[m].events.filter((e) => e.event === "step").length;
const evalCount = (m: string) => RUNS[m].events.filter((e) => e.event === "eval").length;

function liveNotebook() {
  return newNotebook([
    markdownCell("# Live chart test\n\nThree recorded runs replayed live into one chart."),
    codeCell(
      `import { barChart, liveCurves, loadRun, replayRun, showFigure, showTable, summarizeRun } from "../../lib/mod.ts";\n` +
        `const names = ${JSON.stringify(METHODS)};\n` +
        `const runs = names.map((m) => loadRun(\`../../data/runs/numbers-\${m}\`));`,
    ),
    codeCell(
      `const live = liveCurves({ runs: names, intervalMs: 40, title: "LoRA vs DoRA vs PiSSA" });\n` +
        `for (const [i, name] of names.entries()) {\n` +
        `  await replayRun(runs[i], { speed: 400, onEvent: async (e) => {\n` +
        `    if (e.event === "eval") console.log(\`\${name} eval at step \${e.step}\`);\n` +
        `    await live.push(name, e);\n` +
        `  } });\n` +
        `}\n` +
        `await live.finish();`,
    ),
    codeCell(
      `await showTable(names.map((m, i) => summarizeRun(m, { ...runs[i], ok: true })), { caption: "runs" });`,
    ),
    codeCell(
      `await showFigure(barChart(Object.fromEntries(names.map((m, i) => [m, summarizeRun(m, { ...runs[i], ok: true }).trainableParams ?? 0])), { title: "Trainable parameters", yTitle: "parameters" }));`,
    ),
  ]);
}

type Output = {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
};
const cellsOf = (path: string): { outputs?: Output[] }[] => JSON.parse(Deno.readTextFileSync(path)).cells;
const join = (t: string | string[] | undefined) => Array.isArray(t) ? t.join("") : t ?? "";

function checkExecuted(result: NotebookResult): void {
  assert.ok(result.ok, describeFailure(result));
  const cells = cellsOf(result.out);
  const live = cells[2].outputs ?? [];
  const figures = live.filter((o) => o.data?.[PLOTLY_MIME]);
  assert.equal(figures.length, 1, `${result.out}: the live chart must leave exactly one figure`);
  const fig = figures[0].data![PLOTLY_MIME] as {
    data: { name: string; y: number[]; meta?: { kind: string } }[];
  };
  const train = fig.data.filter((t) => t.meta?.kind === "train");
  assert.deepEqual(train.map((t) => t.name), METHODS);
  for (const t of train) assert.equal(t.y.length, stepCount(t.name), `${result.out}: points of ${t.name}`);
  const printed = live.filter((o) => o.output_type === "stream").map((o) => join(o.text)).join("");
  const expected = METHODS.flatMap((m) =>
    RUNS[m].events.filter((e) => e.event === "eval").map((e) =>
      `${m} eval at step ${(e as { step: number }).step}\n`
    )
  ).join("");
  assert.equal(printed, expected, `${result.out}: printed lines`);
  const tableText = join(cells[3].outputs?.[0]?.data?.["text/plain"] as string);
  for (const m of METHODS) {
    const row = summarizeRun(m, { ...RUNS[m], ok: true });
    assert.match(
      tableText,
      new RegExp(`${m}\\s+${m}\\s+${row.seed}\\s+true\\s+${row.trainableParams!.toLocaleString("en-US")}`),
    );
  }
  assert.equal((cells[4].outputs ?? []).filter((o) => o.data?.[PLOTLY_MIME]).length, 1);
}

let executed: NotebookResult | undefined;
let workDir: string | undefined;

Deno.test("a live training chart leaves exactly one final figure per chart, in 20 headless runs", async () => {
  Deno.mkdirSync(`${ROOT}/out`, { recursive: true });
  workDir = Deno.makeTempDirSync({ prefix: "test-viz-", dir: `${ROOT}/out` });
  const text = JSON.stringify(liveNotebook());
  // Four runners side by side, five notebooks each: most of a run is waiting (kernel start, the replay's
  // timers), and the load of the others only makes a late or duplicated frame likelier.
  const groups: string[][] = [[], [], [], []];
  for (let i = 1; i <= 20; i++) {
    const path = `${workDir}/live-${String(i).padStart(2, "0")}.ipynb`;
    Deno.writeTextFileSync(path, text);
    groups[(i - 1) % groups.length].push(path);
  }
  const results = (await Promise.all(
    groups.map((paths) => runNotebooks(paths, { out: `${workDir}/executed`, html: true, timeout: 120 })),
  )).flat();
  assert.equal(results.length, 20);
  for (const r of results) checkExecuted(r);
  executed = results.find((r) => r.out.endsWith("/live-01.ipynb"));
});

Deno.test("the HTML export shows the chart as SVG without network or plotly.js (headless Chromium)", async () => {
  assert.ok(executed?.html, "needs the executed notebook of the previous test");
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    // No network: every request that is not the file itself is refused (nbconvert's page still asks a
    // CDN for require.js and MathJax; the chart must not need them).
    const requests: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      requests.push(url);
      return url.startsWith("file:") || url.startsWith("data:") ? route.continue() : route.abort();
    });
    await page.goto(`file://${executed.html}`);
    const svg = page.locator("svg.ince-figure").first();
    await svg.waitFor();
    const traces = await svg.locator("g.trace").evaluateAll((gs) =>
      gs.map((g) => ({
        name: g.getAttribute("data-name"),
        points: Number(g.getAttribute("data-points")),
        paths: g.querySelectorAll("path").length,
      }))
    );
    const train = traces.filter((t) => METHODS.includes(t.name!));
    assert.deepEqual(train.map((t) => t.name), METHODS);
    for (const t of train) {
      assert.equal(t.points, stepCount(t.name!));
      assert.equal(t.paths, 1, `${t.name} is drawn as one line`);
    }
    assert.equal(traces.length, METHODS.length + METHODS.filter((m) => evalCount(m) > 0).length);
    const box = await svg.boundingBox();
    assert.ok(box && box.width > 300 && box.height > 200, `the chart is visible: ${JSON.stringify(box)}`);
    assert.equal(
      requests.filter((u) => /plotly/i.test(u)).length,
      0,
      `plotly.js is not loaded: ${requests.join(", ")}`,
    );
    // The live chart's cell shows one figure, not one per frame.
    assert.equal(await page.locator("svg.ince-figure").count(), 2);
    await svg.screenshot({ path: `${ROOT}/out/viz-html-export.png` });
  } finally {
    await browser.close();
  }
});

Deno.test("JupyterLab renders the executed notebook's chart as an interactive plotly plot (headless Chromium)", async () => {
  assert.ok(executed && workDir, "needs the executed notebook of the first test");
  const port = 20000 + Math.floor(Math.random() * 20000);
  const token = crypto.randomUUID();
  const settings = Deno.makeTempDirSync({ prefix: "ince-lab-" });
  const lab = new Deno.Command(pythonPath().replace(/python$/, "jupyter"), {
    args: [
      "lab",
      "--no-browser",
      `--port=${port}`,
      "--ip=127.0.0.1",
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${workDir}/executed`,
      `--LabApp.user_settings_dir=${settings}/settings`,
      `--LabApp.workspaces_dir=${settings}/workspaces`,
      ...(Deno.uid() === 0 ? ["--allow-root"] : []),
    ],
    stdout: "null",
    stderr: "piped",
    env: { JUPYTER_CONFIG_DIR: `${settings}/config` },
  }).spawn();
  const browser = await launchBrowser();
  try {
    // Wait for the server.
    const t0 = Date.now();
    for (;;) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/api/status?token=${token}`);
        await r.body?.cancel();
        if (r.ok) break;
      } catch { /* not yet */ }
      if (Date.now() - t0 > 60_000) throw new Error("JupyterLab did not start in 60 s");
      await new Promise((r) => setTimeout(r, 300));
    }
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`http://127.0.0.1:${port}/lab/tree/live-01.ipynb?token=${token}`);
    const plot = page.locator(".jp-RenderedPlotly.js-plotly-plot").first();
    await plot.waitFor({ timeout: 90_000 });
    await plot.locator(".scatterlayer .trace").first().waitFor({ timeout: 30_000 });
    const names = await plot.locator(".legend .traces .legendtext").allTextContents();
    assert.deepEqual(names.filter((n) => METHODS.includes(n)), METHODS);
    const traces = await plot.locator(".scatterlayer .trace").count();
    assert.equal(traces, METHODS.length + METHODS.filter((m) => evalCount(m) > 0).length);
    await plot.scrollIntoViewIfNeeded();
    await plot.screenshot({ path: `${ROOT}/out/viz-jupyterlab.png` });
  } finally {
    await browser.close();
    lab.kill("SIGTERM");
    await lab.stderr.cancel();
    await lab.status;
    Deno.removeSync(settings, { recursive: true });
    Deno.removeSync(workDir!, { recursive: true });
  }
});
