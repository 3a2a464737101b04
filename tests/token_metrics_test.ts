/**
 * Lesson 00's puzzle: a LoRA run on the numbers set ends with train loss ≈ 2.2 while TRL reports
 * mean_token_accuracy ≈ 0.97 and entropy ≈ 3.4 nats. The three numbers cover the same tokens (the answer,
 * the end-of-turn token <|im_end|> and the newline the chat template writes after it); the loss and the
 * entropy come from the two end tokens, which the model ranks first but at about 1 % probability, from a
 * near-uniform distribution. The trainer's own numbers (a run through trainRun, logged every step) are the
 * reference; tokenReport recomputes them from the run's checkpoint.
 *
 * The two runs (LoRA, and a full fine-tune for contrast) train side by side, one trainer process each on
 * one thread, and each Python job starts as soon as what it reads exists; each test then checks its own.
 */
import assert from "node:assert/strict";
import { type TokenReport, tokenReport, type TokenReportExample } from "../lib/infer/token_report.ts";
import { scoreExamples } from "../lib/infer/score.ts";
import { builtInModel } from "../lib/train/recipes.ts";
import { type RunResult, trainRun } from "../lib/train/train_run.ts";
import { eventsOf } from "../lib/train/events.ts";
import { projectRoot } from "../lib/env/paths.ts";

const DIR = Deno.makeTempDirSync({ prefix: "ince-token-metrics-" });
const STEPS = 100;
const BATCH = 16;

/** 16 varied rows of the numbers set (English and Turkish, one- to three-token answers): one batch. */
function trainFile(): string {
  const lines = Deno.readTextFileSync(`${projectRoot()}/data/datasets/numbers-train.jsonl`).trim().split(
    "\n",
  );
  const path = `${DIR}/numbers-16.jsonl`;
  Deno.writeTextFileSync(path, lines.filter((_, i) => i % 26 === 0).slice(0, BATCH).join("\n") + "\n");
  return path;
}

function near(what: string, got: number, want: number, tol: number): void {
  assert.ok(Math.abs(got - want) <= tol, `${what}: tokenReport ${got} vs trainer ${want} (tolerance ${tol})`);
}

/** The LoRA run with its logged steps and the token reports at step 1 (base) and at the end. */
interface LoraResult {
  run: RunResult;
  checks: [number, TokenReport][];
}

let loraRun: Promise<LoraResult> | undefined, fullReport: Promise<TokenReport> | undefined;

/** Starts both runs and their reports (once): two chains of processes, side by side on two cores. */
function started(): Promise<unknown> {
  if (!loraRun || !fullReport) {
    const file = trainFile();
    const examples = scoreExamples(file).map((e) => e as TokenReportExample);
    assert.equal(examples.length, BATCH);
    // One chain: the base model's report (step 1's reference), then the full fine-tune and its report.
    const base = tokenReport({ model: builtInModel() }, examples);
    // The other: the LoRA run, then its report. Every step's batch is the whole set, and step k's logged metrics come from the weights after k − 1
    // updates: the checkpoint saved at step k − 1 (at step 1, the base model: LoRA starts as a no-op).
    loraRun = trainRun({
      model: builtInModel(),
      dataset: { train: file },
      method: "lora",
      lora: { r: 16, alpha: 32, dropout: 0, targetModules: "all-linear" },
      train: {
        maxSteps: STEPS,
        batchSize: BATCH,
        lr: 3e-3,
        warmupSteps: 10,
        maxLength: 64,
        logEvery: 1,
        saveEvery: STEPS - 1,
      },
    }, { runsDir: DIR, env: { OMP_NUM_THREADS: "1" } }).then(async (run) => {
      assert.ok(run.ok, run.error?.message);
      const end = await tokenReport(
        { model: builtInModel(), adapter: `${run.dir}/checkpoints/checkpoint-${STEPS - 1}` },
        examples,
      );
      return { run, checks: [[1, await base], [STEPS, end]] };
    });
    fullReport = base.then(() =>
      trainRun({
        model: builtInModel(),
        dataset: { train: file },
        fullFineTune: true,
        train: { maxSteps: STEPS, batchSize: BATCH, lr: 1e-3, warmupSteps: 10, maxLength: 64, logEvery: 10 },
      }, { runsDir: DIR, env: { OMP_NUM_THREADS: "1" } })
    ).then((run) => {
      assert.ok(run.ok, run.error?.message);
      return tokenReport({ model: `${run.dir}/model` }, examples);
    });
    // Each failure is reported by its own test.
    loraRun.catch(() => {});
    fullReport.catch(() => {});
  }
  // Each test waits for both chains, so no process outlives it (the op sanitizer).
  return Promise.allSettled([loraRun, fullReport]);
}

Deno.test("the trainer's loss, mean_token_accuracy and entropy all cover the answer + end tokens; the end tokens make the loss", async () => {
  await started();
  const { run, checks } = await loraRun!;
  const steps = eventsOf(run.events, "step");
  for (const [step, report] of checks) {
    const logged = steps.find((s) => s.step === step)!;
    const trl = {
      loss: logged.loss!,
      accuracy: logged.metrics.mean_token_accuracy!,
      entropy: logged.metrics.entropy!,
    };
    near(`step ${step} loss`, report.completion.loss, trl.loss, 1e-4);
    near(`step ${step} accuracy`, report.completion.accuracy, trl.accuracy, 1e-6);
    near(`step ${step} entropy`, report.completion.entropy, trl.entropy, 1e-4);
  }

  const [, end] = checks[1];
  const trl = steps.at(-1)!;
  const ln = (x: number) => Math.log(x);
  // The puzzle, reproduced: accuracy near 1 and a loss far above 0 on the same tokens.
  assert.ok(trl.metrics.mean_token_accuracy! >= 0.9 && trl.loss! >= 1.5, JSON.stringify(trl));
  // Not another token set: over the answer alone the loss is small; over every token the accuracy is low.
  assert.ok(end.answer.loss < 0.5 && end.answer.accuracy >= 0.9, JSON.stringify(end.answer));
  assert.ok(Math.abs(end.all.accuracy - trl.metrics.mean_token_accuracy!) > 0.3, JSON.stringify(end.all));
  // The end tokens: ranked first, at low probability, from a distribution close to uniform over the vocabulary.
  assert.ok(end.end.accuracy >= 0.9 && end.end.loss > 3, JSON.stringify(end.end));
  assert.ok(
    end.end.entropy > 0.8 * ln(end.vocabSize),
    `end entropy ${end.end.entropy} vs ln V ${ln(end.vocabSize)}`,
  );
  const share = (end.end.loss * end.end.tokens) / (end.completion.loss * end.completion.tokens);
  assert.ok(share > 0.8, `the end tokens carry ${share} of the loss`);
  console.log(
    `trainer: loss ${trl.loss!.toFixed(3)} acc ${trl.metrics.mean_token_accuracy!.toFixed(3)} entropy ${
      trl.metrics.entropy!.toFixed(3)
    };`,
    `answer ${JSON.stringify(end.answer)} end ${JSON.stringify(end.end)} share ${share.toFixed(3)}`,
  );
});

Deno.test("a full fine-tune, whose embeddings train, learns the end tokens that LoRA ranks first at ~1 %", async () => {
  // Why the end tokens stay uncertain under LoRA: <|im_end|> and the newline never occur in the built-in
  // model's pretraining text, so their (tied) embedding rows are near copies of ~470 other unseen tokens'
  // (cosine > 0.99), and LoRA trains no embedding. With every weight training, embeddings included, the same
  // data and steps make them near certain.
  await started();
  const full = await fullReport!;
  assert.ok(full.end.accuracy === 1 && full.end.loss < 0.5 && full.end.entropy < 1, JSON.stringify(full.end));
  assert.ok(full.completion.loss < 0.5, JSON.stringify(full.completion));
  console.log(
    `full fine-tune: end ${JSON.stringify(full.end)} completion ${JSON.stringify(full.completion)}`,
  );
});
