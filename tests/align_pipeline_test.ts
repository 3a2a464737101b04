/**
 * Lesson 07's pipeline stages (lib/align: cai, rlaif, context_distillation, align_run): position-debiased
 * aggregation, the critique → revise loop, determinism with the rule judge (same files, same DPO margins for
 * the same seed), and that held-out prompts never reach a training file.
 */
import assert from "node:assert/strict";
import { aggregateVerdicts, preferencePairs, type PrincipleOutcome } from "../lib/align/rlaif.ts";
import { caiRevisions } from "../lib/align/cai.ts";
import { behavesAs, distillationRows, withSystemPrompt } from "../lib/align/context_distillation.ts";
import { ALIGN_RUN_FILES, newAlignRun } from "../lib/align/align_run.ts";
import type { AlignPrompt, Constitution, Judge, Principle, Verdict } from "../lib/align/types.ts";

const RUNS = Deno.makeTempDirSync({ prefix: "ince-align-" });

const principle = (id: string): Principle => ({
  id,
  description: `${id}.`,
  critiqueRequest: `Critique (${id}).`,
  revisionRequest: `Revise (${id}).`,
  comparisonQuestion: `Which is more ${id}?`,
});
const MINI: Constitution = { name: "mini", principles: ["p1", "p2", "p3"].map(principle) };

/** A judge whose comparisons are one fixed verdict (pure position bias for "A" and "B"). */
function constantJudge(verdict: Verdict): Judge {
  return {
    name: `always-${verdict}`,
    critique: () => Promise.resolve("No problem found."),
    revise: ({ response }) => Promise.resolve(response),
    compare: () => Promise.resolve(verdict),
  };
}

const VERDICTS: Verdict[] = ["A", "B", "tie"];

Deno.test("aggregateVerdicts() gives a win only when both orders agree on it (all 9 verdict pairs)", () => {
  // The oracle: read `second` from a's side (its A means b, its B means a); equal readings decide, else split.
  const fromA: Record<Verdict, PrincipleOutcome> = { A: "a", B: "b", tie: "tie" };
  const swap: Record<Verdict, Verdict> = { A: "B", B: "A", tie: "tie" };
  const seen = new Set<PrincipleOutcome>();
  for (const first of VERDICTS) {
    for (const second of VERDICTS) {
      const want = first === swap[second] ? fromA[first] : "split";
      const got = aggregateVerdicts(first, second);
      assert.equal(got, want, `${first}, ${second}`);
      seen.add(got);
      // Swapping a and b swaps the outcome.
      const mirrored = aggregateVerdicts(swap[first], swap[second]);
      assert.equal(mirrored, got === "a" ? "b" : got === "b" ? "a" : got, `mirror of ${first}, ${second}`);
    }
  }
  assert.deepEqual([...seen].sort(), ["a", "b", "split", "tie"]);
  assert.throws(
    () => aggregateVerdicts("C" as Verdict, "A"),
    /^Error: aggregateVerdicts: first is "C"; a verdict/,
  );
});

Deno.test("preferencePairs(): a judge that always answers one position yields only splits, never a pair", async () => {
  const prompts: AlignPrompt[] = Array.from(
    { length: 6 },
    (_, i) => ({ id: `q${i}`, prompt: `Question ${i}?` }),
  );
  const samplesA = prompts.map((_, i) => `answer ${i}`);
  const samplesB = prompts.map((_, i) => (i === 5 ? `answer ${i}` : `other ${i}`)); // q5: the same text twice
  for (const verdict of VERDICTS) {
    const calls: string[] = [];
    const base = constantJudge(verdict);
    const judge: Judge = {
      ...base,
      compare: (x) => (calls.push(`${x.principle.id}:${x.a}|${x.b}`), base.compare(x)),
    };
    const { pairs, decisions, counts } = await preferencePairs({
      prompts,
      samplesA,
      samplesB,
      judge,
      constitution: MINI,
    });
    assert.equal(pairs.length, 0, verdict);
    const want = verdict === "tie" ? { a: 0, b: 0, tie: 5, split: 0 } : { a: 0, b: 0, tie: 0, split: 5 };
    for (const p of MINI.principles) assert.deepEqual(counts.perPrinciple[p.id], want, `${verdict} ${p.id}`);
    assert.deepEqual(
      [counts.prompts, counts.pairs, counts.noPreference, counts.identical],
      [6, 0, 5, 1],
    );
    // Both orders were asked for every principle of every distinct pair; identical samples were not sent.
    assert.equal(calls.length, 5 * MINI.principles.length * 2);
    assert.ok(calls.includes("p2:answer 3|other 3") && calls.includes("p2:other 3|answer 3"));
    assert.ok(!calls.some((c) => c.includes("answer 5|answer 5")));
    assert.deepEqual(decisions[5].principles, []);
    assert.equal(decisions[5].winner, null);
  }
});

Deno.test("preferencePairs(): more principles won is chosen, equal wins give no pair; counts add up", async () => {
  // A judge that prefers per principle the answer containing that principle's id (both orders consistent).
  const judge: Judge = {
    ...constantJudge("tie"),
    name: "contains-id",
    compare: ({ a, b, principle }) => {
      const [x, y] = [a.includes(principle.id), b.includes(principle.id)];
      return Promise.resolve(x === y ? "tie" : x ? "A" : "B");
    },
  };
  const cases = [
    { a: "p1 p2", b: "p3", winner: "a" }, // 2 wins to 1
    { a: "p1", b: "p2 p3", winner: "b" },
    { a: "p1", b: "p2", winner: null }, // 1 to 1
    { a: "p1 p2 p3", b: "none", winner: "a" },
  ] as const;
  const prompts = cases.map((_, i) => ({ id: `c${i}`, prompt: `Case ${i}` }));
  const run = newAlignRun({ runsDir: RUNS, runId: "contains-id" });
  const result = await preferencePairs({
    prompts,
    samplesA: cases.map((c) => c.a),
    samplesB: cases.map((c) => c.b),
    judge,
    constitution: MINI,
    run,
    concurrency: 3,
  });
  assert.deepEqual(result.decisions.map((d) => d.winner), cases.map((c) => c.winner));
  const want = cases.filter((c) => c.winner).map((c) => ({
    chosen: c.winner === "a" ? c.a : c.b,
    rejected: c.winner === "a" ? c.b : c.a,
  }));
  assert.deepEqual(result.pairs.map(({ chosen, rejected }) => ({ chosen, rejected })), want);
  assert.deepEqual(result.pairs.map((p) => p.id), ["c0", "c1", "c3"]);
  for (const p of MINI.principles) {
    const c = result.counts.perPrinciple[p.id];
    assert.equal(c.a + c.b + c.tie + c.split, cases.length, p.id);
    assert.equal(c.split, 0, p.id);
  }
  assert.deepEqual(result.counts.perPrinciple.p3, { a: 1, b: 2, tie: 1, split: 0 });
  // The files: the DPO rows as the trainer reads them, and every decision.
  const lines = (name: string) =>
    Deno.readTextFileSync(run.file(name)).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines(ALIGN_RUN_FILES.preferences), result.pairs);
  assert.deepEqual(lines(ALIGN_RUN_FILES.rlaifComparisons), result.decisions);
});

Deno.test("caiRevisions(): principle after principle, each critique reads the last revision; blank revisions keep the answer", async () => {
  const seen: string[] = [];
  let inFlight = 0, most = 0;
  const judge: Judge = {
    name: "appender",
    critique: async ({ response, principle }) => {
      inFlight++, most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      seen.push(`${principle.id} saw ${response}`);
      return `${principle.id}-critique`;
    },
    // p2's revision is blank: the answer stays as p1 left it.
    revise: ({ response, critique, principle }) =>
      Promise.resolve(principle.id === "p2" ? " " : `${response}+${critique.replace("-critique", "")}`),
    compare: () => Promise.resolve("tie"),
  };
  const prompts = Array.from({ length: 5 }, (_, i) => ({ id: `x${i}`, prompt: `Prompt ${i}` }));
  const run = newAlignRun({ runsDir: RUNS, runId: "appender" });
  const out = await caiRevisions({
    prompts,
    responses: prompts.map((_, i) => `r${i}`),
    judge,
    constitution: MINI,
    run,
    concurrency: 2,
  });
  assert.ok(most <= 2 && most > 0, `at most 2 calls at once, saw ${most}`);
  assert.deepEqual(out[3], {
    id: "x3",
    prompt: "Prompt 3",
    original: "r3",
    steps: [
      { principle: "p1", critique: "p1-critique", revision: "r3+p1" },
      { principle: "p2", critique: "p2-critique", revision: " " },
      { principle: "p3", critique: "p3-critique", revision: "r3+p1+p3" },
    ],
    final: "r3+p1+p3",
  });
  assert.ok(seen.includes("p3 saw r3+p1"));
  // Every prompt went through p1 before any went through p2.
  assert.ok(seen.findLastIndex((s) => s.startsWith("p1")) < seen.findIndex((s) => s.startsWith("p2")));
  const sft = Deno.readTextFileSync(run.file(ALIGN_RUN_FILES.caiSft)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(sft[3], {
    id: "x3",
    messages: [{ role: "user", content: "Prompt 3" }, { role: "assistant", content: "r3+p1+p3" }],
  });
});

Deno.test("bad input and a failing judge give one-line errors naming the stage, field, prompt and principle", async () => {
  const prompts = [{ id: "a1", prompt: "Write 1 in words." }, { id: "a2", prompt: "Write 2 in words." }];
  const failing: Judge = {
    ...constantJudge("A"),
    name: "broken",
    critique: () => Promise.reject(new Error("connection refused\n  at fetch")),
    compare: ({ principle }) => Promise.resolve((principle.id === "p2" ? "maybe" : "A") as Verdict),
  };
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    [
      "too few responses",
      () => caiRevisions({ prompts, responses: ["one"], judge: failing, constitution: MINI }),
      /^caiRevisions: options\.responses has 1 entries for 2 prompts; give one answer per prompt/,
    ],
    [
      "no prompts",
      () => caiRevisions({ prompts: [], responses: [], judge: failing, constitution: MINI }),
      /^caiRevisions: options\.prompts is empty/,
    ],
    [
      "empty constitution",
      () =>
        caiRevisions({
          prompts,
          responses: ["x", "y"],
          judge: failing,
          constitution: { name: "none", principles: [] },
        }),
      /^caiRevisions: the constitution "none" has no principles/,
    ],
    [
      "duplicate principle",
      () =>
        preferencePairs({
          prompts,
          samplesA: ["x", "y"],
          samplesB: ["y", "x"],
          judge: failing,
          constitution: { name: "dup", principles: [principle("p1"), principle("p1")] },
        }),
      /^preferencePairs: the constitution's principles\[1\] repeats the id "p1"/,
    ],
    [
      "the judge fails",
      () => caiRevisions({ prompts, responses: ["x", "y"], judge: failing, constitution: MINI }),
      /^caiRevisions: the judge "broken" failed to critique prompt "a1" under principle "p1": connection refused$/,
    ],
    [
      "a blank sample",
      () =>
        preferencePairs({
          prompts,
          samplesA: ["x", "y"],
          samplesB: ["y", "  "],
          judge: failing,
          constitution: MINI,
        }),
      /^preferencePairs: options\.samplesB\[1\] is blank \(prompt "a2"\)/,
    ],
    [
      "a verdict that is not one",
      () =>
        preferencePairs({
          prompts,
          samplesA: ["x", "y"],
          samplesB: ["y", "x"],
          judge: failing,
          constitution: MINI,
        }),
      /^preferencePairs: the judge "broken" answered "maybe" for prompt "a1" under principle "p2"/,
    ],
    [
      "a distillation answer missing",
      () => Promise.resolve().then(() => distillationRows({ prompts, answersWithSystem: ["bir"] })),
      /^distillationRows: options\.answersWithSystem has 1 entries for 2 prompts/,
    ],
  ];
  for (const [name, call, want] of cases) {
    const error = await call().then(() => null, (e: Error) => e);
    assert.ok(error, `${name}: no error`);
    assert.match(error.message, want, name);
    assert.equal(error.message.split("\n").length, 1, `${name}: ${error.message}`);
  }
});

Deno.test("context distillation: rows without the system prompt; behavesAs counts matches with a Wilson interval", () => {
  const prompts = [{ id: "s1", prompt: "Write 5 in words." }, { id: "s2", prompt: "Write 6 in words." }];
  const chats = withSystemPrompt("Always answer in Turkish.", prompts);
  assert.deepEqual(chats[1].map((m) => m.role), ["system", "user"]);
  const run = newAlignRun({ runsDir: RUNS, runId: "distill" });
  const rows = distillationRows({ prompts, answersWithSystem: ["beş", "altı"], run });
  assert.ok(rows.every((r) => r.messages.every((m) => m.role !== "system")));
  assert.equal(Deno.readTextFileSync(run.file(ALIGN_RUN_FILES.distillSft)).trim().split("\n").length, 2);
  const r = behavesAs(["Beş.", "yedi", "altı", "on"], ["beş", "sekiz", "altı", "on"]);
  assert.deepEqual([r.same, r.n, r.rate], [3, 4, 0.75]);
  assert.ok(r.low < 0.75 && r.high < 1 && r.high > 0.75);
  assert.equal(behavesAs(["a"], ["A"], { match: (x, y) => x === y }).same, 0);
  assert.throws(() => behavesAs(["a"], []), /^Error: behavesAs: 1 answers vs 0/);
});
