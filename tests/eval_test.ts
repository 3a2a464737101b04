/**
 * lib/eval against references: pass@k against its closed form, Wilson intervals against Newcombe's
 * published table, JSON metrics on malformed outputs, the sandbox against the escapes a generated
 * program could try, and batched generation against the one-at-a-time path.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import {
  binomialInterval,
  generateSamples,
  jsonMetrics,
  meanPassAtK,
  normalizedMatch,
  parseJsonOutput,
  passAtK,
  runCodeTests,
  runSandboxed,
} from "../lib/eval/mod.ts";
import { generate } from "../lib/infer/generate.ts";

const choose = (n: number, k: number): number => {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
};

Deno.test("passAtK() equals 1 − C(n−c, k)/C(n, k) on known cases, and is 1 when a pass is certain", () => {
  for (const [n, c, k] of [[10, 3, 1], [10, 3, 5], [20, 1, 10], [5, 0, 3], [200, 37, 10], [7, 6, 2]]) {
    const closed = n - c < k ? 1 : 1 - choose(n - c, k) / choose(n, k);
    assert.ok(Math.abs(passAtK(n, c, k) - closed) < 1e-12, `n=${n} c=${c} k=${k}`);
  }
  assert.equal(passAtK(3, 2, 2), 1);
  assert.ok(Math.abs(passAtK(10, 3, 1) - 0.3) < 1e-12); // pass@1 is the pass rate
  assert.ok(Math.abs(meanPassAtK([{ n: 4, c: 1 }, { n: 4, c: 4 }], 2) - 0.75) < 1e-12);
  assert.throws(() => passAtK(5, 6, 1), /0 ≤ c ≤ n/);
  assert.throws(() => passAtK(5, 1, 6), /1 ≤ k ≤ n/);
});

Deno.test("binomialInterval() gives the Wilson intervals of Newcombe (1998), Table I", () => {
  // Newcombe, "Two-sided confidence intervals for the single proportion", Stat. Med. 17:857–872, method 3.
  const table: [number, number, number, number][] = [
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ];
  for (const [k, n, low, high] of table) {
    const r = binomialInterval(k, n);
    assert.ok(
      Math.abs(r.low - low) < 5e-5 && Math.abs(r.high - high) < 5e-5,
      `${k}/${n}: ${r.low} ${r.high}`,
    );
  }
  assert.equal(binomialInterval(10, 10).high, 1);
  assert.ok(binomialInterval(5, 10, { confidence: 0.99 }).low < binomialInterval(5, 10).low);
  assert.throws(() => binomialInterval(3, 0), /n ≥ 1/);
});

Deno.test("a malformed generated JSON is a parse failure, never an exception", () => {
  const schema = z.object({ name: z.string(), count: z.number().int() });
  const bad = [
    "",
    "{",
    "}",
    '{"name": "a", "count": }',
    "{'name': 'a'}",
    '{"name": "a\\',
    "null",
    "[1, 2]",
    '{"a": {"b": 1}',
  ];
  const m = jsonMetrics(bad, bad.map(() => ({ name: "a", count: 1 })), schema);
  assert.equal(m.parseRate, 0);
  assert.equal(m.schemaValidRate, 0);
  assert.equal(m.fieldAccuracy, 0);
  assert.ok(m.items.every((i) => typeof i.error === "string"));
  assert.deepEqual(parseJsonOutput('text {"s": "a } in a string"} more'), {
    ok: true,
    value: { s: "a } in a string" },
  });
  const good = jsonMetrics(['{"name": "a", "count": 1.5}', '{"name": "a", "count": 1}'], [{
    name: "a",
    count: 1,
  }, { name: "a", count: 1 }], schema);
  assert.deepEqual([good.parseRate, good.schemaValidRate, good.fieldAccuracy], [1, 0.5, 0.75]);
});

Deno.test("normalizedMatch() follows Turkish case rules and ignores punctuation and spacing", () => {
  assert.ok(normalizedMatch("IŞIK", "ışık"));
  assert.ok(normalizedMatch("İstanbul.", "istanbul"));
  assert.ok(normalizedMatch("Low-rank  adaptation!", "lowrank adaptation"));
  assert.ok(!normalizedMatch("DoRA", "LoRA"));
});

Deno.test("the sandbox refuses files, network, environment, subprocesses, native code and imports, and kills loops", async () => {
  const escapes: [string, string][] = [
    ["read a file", 'Deno.readTextFileSync("/etc/passwd")'],
    ["write a file", 'Deno.writeTextFileSync("/tmp/ince-sandbox-escape", "x")'],
    ["network", 'await fetch("http://127.0.0.1:9/")'],
    ["environment", 'console.log(Deno.env.get("HOME"))'],
    ["subprocess", 'new Deno.Command("true").outputSync()'],
    ["native code", 'Deno.dlopen("libc.so.6", {})'],
    ["npm import", 'await import("npm:zod")'],
    ["remote import", 'await import("https://example.com/x.ts")'],
    ["relative import", 'await import("../lib/mod.ts")'],
    ["system info", "Deno.hostname()"],
  ];
  for (const [what, code] of escapes) {
    const r = await runSandboxed(code, { timeoutMs: 10_000 });
    assert.equal(r.ok, false, `${what}: ran (${r.stdout}${r.stderr})`);
    assert.ok(!r.timedOut, `${what}: timed out instead of being refused`);
  }
  assert.throws(() => Deno.statSync("/tmp/ince-sandbox-escape"));
  const loop = await runSandboxed("while (true) {}", { timeoutMs: 1500 });
  assert.equal(loop.timedOut, true);
  assert.equal(loop.ok, false);
  const bomb = await runSandboxed("const a: number[][] = []; while (true) a.push(new Array(1e6).fill(1));", {
    timeoutMs: 20_000,
    memoryMb: 64,
  });
  assert.equal(bomb.ok, false);
  assert.equal(bomb.timedOut, false, "the memory limit, not the time limit, stopped it");
});

Deno.test("runCodeTests() passes a right solution, fails a wrong one, an early exit and a forged success line", async () => {
  const tests =
    'if (sumDigits(123) !== 6) throw new Error("sumDigits(123)");\nif (sumDigits(0) !== 0) throw new Error("0");';
  const right =
    "function sumDigits(n: number): number { return String(n).split('').reduce((s, d) => s + Number(d), 0); }";
  assert.equal((await runCodeTests(right, tests)).passed, true);
  const wrong = await runCodeTests("function sumDigits(n: number): number { return n % 10; }", tests);
  assert.equal(wrong.passed, false);
  assert.match(wrong.error!, /sumDigits\(123\)/);
  assert.equal((await runCodeTests(`${right}\nDeno.exit(0);`, tests)).passed, false);
  assert.equal(
    (await runCodeTests('console.log("ince-tests-passed-forged"); Deno.exit(0);', tests)).passed,
    false,
  );
  assert.equal(
    (await runCodeTests("function sumDigits(n: number): number { while (true) {} }", tests, {
      timeoutMs: 1500,
    })).timedOut,
    true,
  );
});

Deno.test("generateSamples(): greedy equals generate() one by one; sampling gives n answers, the same for the same seed", async () => {
  const model = "data/models/ince-tiny";
  const prompts = ["Write 3 in English words.", "Who are you?", "5 sayısını Türkçe yazıyla yaz."];
  const [greedy, oneByOne] = await Promise.all([
    generateSamples(model, prompts, { maxNewTokens: 12, batchSize: 2 }),
    generate(model, prompts, { maxNewTokens: 12 }),
  ]);
  assert.deepEqual(greedy.map((g) => g[0]), oneByOne);
  const a = await generateSamples(model, prompts, { n: 4, temperature: 1, maxNewTokens: 8, seed: 3 });
  const b = await generateSamples(model, prompts, { n: 4, temperature: 1, maxNewTokens: 8, seed: 3 });
  assert.deepEqual(a, b);
  assert.ok(a.every((s) => s.length === 4));
  assert.ok(new Set(a.flat()).size > 3, "sampling gives different answers");
  await assert.rejects(() => generateSamples(model, prompts, { n: 2 }), /temperature > 0/);
});
