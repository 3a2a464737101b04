/**
 * Lesson 07's pipeline stages (lib/align: cai, rlaif, context_distillation, align_run): position-debiased
 * aggregation, the critique → revise loop, determinism with the rule judge (same files, same DPO margins for
 * the same seed), and that held-out prompts never reach a training file.
 */
import assert from "node:assert/strict";
import { projectRoot } from "../lib/env/paths.ts";
import { loadDataset } from "../lib/data/load_dataset.ts";
import { aggregateVerdicts, preferencePairs, type PrincipleOutcome } from "../lib/align/rlaif.ts";
import { type CaiRevision, caiRevisions } from "../lib/align/cai.ts";
import { behavesAs, distillationRows, withSystemPrompt } from "../lib/align/context_distillation.ts";
import { ALIGN_RUN_FILES, type AlignRun, newAlignRun, trainingPrompts } from "../lib/align/align_run.ts";
import { type AlignPromptRow, assertDisjoint, loadAlignPrompts } from "../lib/align/align_prompts.ts";
import { loadConstitution } from "../lib/align/constitution.ts";
import { analysePrompt, DONT_KNOW, REFUSAL, ruleJudge, ruleScores } from "../lib/align/rule_judge.ts";
import { readJudgeCalls, recordJudge, replayJudge } from "../lib/align/recorded_judge.ts";
import { numberWords } from "../lib/align/number_words.ts";
import type { AlignPrompt, Constitution, Judge, Principle, Verdict } from "../lib/align/types.ts";
import { numbersRecipe } from "../lib/train/recipes.ts";
import { trainRuns } from "../lib/train/train_run.ts";
import { eventsOf } from "../lib/train/events.ts";

const ROOT = projectRoot();
const DATA = `${ROOT}/data/datasets`;
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
  assert.equal(most, 2, "at most 2 calls at once");
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
  // By default a step's calls all go at once (a batching judge answers them in one job).
  most = 0;
  await caiRevisions({ prompts, responses: prompts.map(() => "r"), judge, constitution: MINI });
  assert.equal(most, prompts.length);
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

// ---- The whole pipeline on the course's prompt sets with the rule judge ----

const TRAIN = loadAlignPrompts(`${DATA}/align-train.jsonl`);
const SYSTEM_TRAIN = loadAlignPrompts(`${DATA}/align-system-train.jsonl`);
const HELD_OUT = ["align-heldout", "align-redteam", "align-harmless", "align-system-heldout"]
  .flatMap((name) => loadAlignPrompts(`${DATA}/${name}.jsonl`));
const CONSTITUTION = loadConstitution(`${ROOT}/data/constitution.json`);

/**
 * A first answer per prompt, in turn: one that breaks a principle (a number in the other language, going
 * along with a harmful request, a made-up fact), one in the wrong language or refusing a harmless question,
 * and the ideal one.
 */
function firstAnswer(p: AlignPromptRow, i: number): string {
  const lang = p.lang!, other = lang === "tr" ? "en" : "tr";
  const n = analysePrompt(p).n;
  const variants: Record<string, string[]> = {
    number: [n === undefined ? REFUSAL[other] : numberWords(n, other), REFUSAL[lang], p.expected!],
    unsafe: [
      lang === "tr" ? "Tabii, önce kapıyı zorla aç." : "Sure, first break the window.",
      REFUSAL[other],
      REFUSAL[lang],
    ],
    unknown: [
      lang === "tr" ? "Yarın güneşli olacak." : "The answer is Lima.",
      DONT_KNOW[other],
      DONT_KNOW[lang],
    ],
  };
  return variants[p.category!][i % 3];
}

interface Pipeline {
  run: AlignRun;
  revisions: CaiRevision[];
  result: Awaited<ReturnType<typeof preferencePairs>>;
}

/**
 * CAI on the train prompts, RLAIF between each first answer and its revision, context distillation; the
 * judge (default: the rule judge) recorded in the run's `judge_calls.jsonl`.
 */
async function pipeline(
  runId: string,
  prompts: readonly AlignPromptRow[] = TRAIN,
  live: Judge = ruleJudge({ prompts: [...prompts, ...SYSTEM_TRAIN] }),
): Promise<Pipeline> {
  const run = newAlignRun({ runsDir: RUNS, runId });
  const judge = recordJudge(live, run.file(ALIGN_RUN_FILES.judgeCalls));
  const responses = prompts.map(firstAnswer);
  const revisions = await caiRevisions({ prompts, responses, judge, constitution: CONSTITUTION, run });
  // The revision goes first for odd prompts, so both positions get chosen.
  const finals = revisions.map((r) => r.final);
  const result = await preferencePairs({
    prompts,
    samplesA: prompts.map((_, i) => (i % 2 ? finals[i] : responses[i])),
    samplesB: prompts.map((_, i) => (i % 2 ? responses[i] : finals[i])),
    judge,
    constitution: CONSTITUTION,
    run,
  });
  distillationRows({ prompts: SYSTEM_TRAIN, answersWithSystem: SYSTEM_TRAIN.map((p) => p.expected!), run });
  return { run, revisions, result };
}

let pipelines: Promise<[Pipeline, Pipeline]> | undefined;
/** The pipeline run twice (shared by the tests below). */
function twice(): Promise<[Pipeline, Pipeline]> {
  pipelines ??= Promise.all([pipeline("rules-1"), pipeline("rules-2")]);
  return pipelines;
}

Deno.test("the pipeline with the rule judge: revisions fix every violation, the revision is always chosen, no splits", async () => {
  const [{ revisions, result }] = await twice();
  const ids = CONSTITUTION.principles.map((p) => p.id);
  let changed = 0;
  for (const [i, r] of revisions.entries()) {
    const row = TRAIN[i];
    assert.deepEqual(r.steps.map((s) => s.principle), ids);
    const before = ruleScores(row, r.original), after = ruleScores(row, r.final);
    assert.ok(
      !Object.values(after).includes(0),
      `${row.id}: ${JSON.stringify(r)} → ${JSON.stringify(after)}`,
    );
    if (Object.values(before).includes(0)) changed++;
    else assert.equal(r.final, r.original, `${row.id}: nothing to fix, yet revised`);
  }
  assert.ok(changed >= TRAIN.length / 2, `${changed} of ${TRAIN.length} answers needed a revision`);
  // Each pair is (revision, first answer); equal texts were not compared.
  const byId = new Map(revisions.map((r) => [r.id, r]));
  assert.equal(result.pairs.length, revisions.filter((r) => r.final !== r.original).length);
  for (const p of result.pairs) {
    assert.deepEqual([p.chosen, p.rejected], [byId.get(p.id)!.final, byId.get(p.id)!.original]);
  }
  assert.ok(result.decisions.some((d) => d.winner === "a") && result.decisions.some((d) => d.winner === "b"));
  assert.equal(result.counts.identical, TRAIN.length - result.pairs.length);
  for (const id of ids) assert.equal(result.counts.perPrinciple[id].split, 0, id);
  // The files are what the trainer reads.
  const [, second] = await twice();
  assert.equal(loadDataset(second.run.file(ALIGN_RUN_FILES.caiSft)).shape, "messages");
  assert.equal(loadDataset(second.run.file(ALIGN_RUN_FILES.preferences)).shape, "preference");
  assert.equal(loadDataset(second.run.file(ALIGN_RUN_FILES.distillSft)).examples.length, SYSTEM_TRAIN.length);
});

Deno.test("the pipeline with the rule judge is deterministic: the same files twice, the same judge calls", async () => {
  const [a, b] = await twice();
  for (const name of Object.values(ALIGN_RUN_FILES).filter((n) => n !== ALIGN_RUN_FILES.judgeCalls)) {
    const text = Deno.readTextFileSync(a.run.file(name));
    assert.ok(text.length > 0, `${name} is empty`);
    assert.equal(text, Deno.readTextFileSync(b.run.file(name)), name);
  }
  const calls = (p: Pipeline) =>
    readJudgeCalls(p.run.file(ALIGN_RUN_FILES.judgeCalls)).map(({ seconds: _, ...c }) => c);
  const [ca, cb] = [calls(a), calls(b)];
  const principles = CONSTITUTION.principles.length;
  const compared = TRAIN.length - a.result.counts.identical;
  assert.equal(ca.length, TRAIN.length * principles * 2 + compared * principles * 2);
  assert.deepEqual(ca, cb);
});

Deno.test("a recorded run replays offline: every file, judge_calls.jsonl included, comes out the same", async () => {
  const [a] = await twice();
  const replayed = await pipeline("replayed", TRAIN, replayJudge(a.run.file(ALIGN_RUN_FILES.judgeCalls)));
  for (const name of Object.values(ALIGN_RUN_FILES)) {
    assert.equal(
      Deno.readTextFileSync(replayed.run.file(name)),
      Deno.readTextFileSync(a.run.file(name)),
      name,
    );
  }
  // A prompt the log never saw cannot be answered offline.
  const unseen = [{ ...TRAIN[0], id: "new", prompt: "Write 99 in words." }];
  await assert.rejects(
    pipeline("unseen", unseen, replayJudge(a.run.file(ALIGN_RUN_FILES.judgeCalls))),
    /^Error: caiRevisions: the judge "rules" failed to critique prompt "new" under principle "helpful": replayJudge: .*run with a live judge/,
  );
});

Deno.test("held-out prompts never reach a training file of the run (and the check catches one that does)", async () => {
  const [{ run, result }] = await twice();
  const trained = trainingPrompts(run); // cai_sft, preferences, distill_sft
  assert.equal(trained.length, TRAIN.length + result.pairs.length + SYSTEM_TRAIN.length);
  assertDisjoint(trained, HELD_OUT, { trainName: run.dir, heldOutName: "held-out sets" });
  // A run that (wrongly) revises a held-out prompt is caught from its files.
  const leak = HELD_OUT.find((p) => p.category === "unsafe")!;
  const leaky = await pipeline("leaky", [...TRAIN.slice(0, 6), leak]);
  assert.throws(
    () => assertDisjoint(trainingPrompts(leaky.run), HELD_OUT),
    new RegExp(`^Error: Held-out prompt ${JSON.stringify(leak.prompt).replace(/[?.()]/g, "\\$&")}`),
  );
});

Deno.test("DPO on the pipeline's pairs: the same seed gives the same reward margins, another seed others", async () => {
  const [a, b] = await twice();
  const dpo = (run: AlignRun, seed: number) =>
    numbersRecipe({
      stage: "dpo",
      dataset: { train: run.file(ALIGN_RUN_FILES.preferences), eval: undefined },
      lora: { r: 8, alpha: 16 },
      train: {
        maxSteps: 6,
        batchSize: 8,
        lr: 5e-3,
        seed,
        warmupSteps: 0,
        logEvery: 1,
        evalEvery: 0,
        dpoBeta: 0.1,
      },
    });
  const runs = await trainRuns([dpo(a.run, 7), dpo(b.run, 7), dpo(a.run, 8)], {
    runsDir: a.run.dir,
    env: { OMP_NUM_THREADS: "1" },
  });
  const margins = runs.map((r) => {
    assert.ok(
      r.ok,
      r.error
        ? `${r.error.kind}: ${r.error.message}`
        : Deno.readTextFileSync(`${r.dir}/stderr.log`).slice(-2000),
    );
    return eventsOf(r.events, "step").map((s) => s.metrics["rewards/margins"]);
  });
  assert.equal(margins[0].length, 6);
  assert.ok(margins[0].every((m) => typeof m === "number" && Number.isFinite(m)), String(margins[0]));
  assert.ok(margins[0].some((m) => m !== 0), `margins ${margins[0]}`);
  assert.deepEqual(margins[1], margins[0]);
  assert.notDeepEqual(margins[2], margins[0]);
});
