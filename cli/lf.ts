/**
 * `deno task lf <command>`: LLaMA-Factory from its own environment (made on first use).
 *   lf webui [--port N] [--host H]         its web UI on a local port; prints the address, Ctrl-C stops it
 *   lf validate <train.yaml>               a dry run through LLaMA-Factory's own parser: every problem, by key
 *   lf train <train.yaml> [--runs-dir D] [--run-id ID]   validate, then train as an ince run (live step lines)
 *   lf export <export.yaml>                merge an adapter (model_name_or_path, adapter_name_or_path, export_dir)
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { startLlamaFactoryWebUi } from "../lib/llamafactory/webui.ts";
import { formatLlamaFactoryProblems, validateLlamaFactoryConfig } from "../lib/llamafactory/validate.ts";
import { type LlamaFactoryTrainInput, trainLlamaFactory } from "../lib/llamafactory/train.ts";
import { exportLlamaFactory } from "../lib/llamafactory/export.ts";

const USAGE = [
  "usage: deno task lf webui [--port N] [--host H]",
  "       deno task lf validate <train.yaml>",
  "       deno task lf train <train.yaml> [--runs-dir DIR] [--run-id ID]",
  "       deno task lf export <export.yaml>",
].join("\n");

function _yaml(file: string | undefined, command: string): Record<string, unknown> {
  if (!file) throw new Error(`lf ${command} needs a YAML file.\n${USAGE}`);
  const value = parse(Deno.readTextFileSync(file));
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${file}: expected a mapping of LLaMA-Factory keys at the top level.`);
  }
  return value as Record<string, unknown>;
}

async function webui(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: "string" }, host: { type: "string" } } });
  console.error("· starting LLaMA-Factory's web UI …");
  const ui = await startLlamaFactoryWebUi({ port: values.port ? Number(values.port) : 0, host: values.host });
  console.log(`LLaMA-Factory's web UI: ${ui.url}  (started in ${ui.startSeconds} s; Ctrl-C stops it)`);
  const stopped = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGINT", () => stopped.resolve());
  await stopped.promise;
  const status = await ui.stop();
  console.error(`· stopped (exit code ${status.code})`);
  return 0;
}

async function validate(file: string | undefined): Promise<number> {
  if (!file) throw new Error(`lf validate needs a YAML file.\n${USAGE}`);
  const problems = await validateLlamaFactoryConfig({ yamlFile: file });
  if (problems.length) {
    console.error(`${file}: LLaMA-Factory refuses it:\n${formatLlamaFactoryProblems(problems)}`);
    return 1;
  }
  console.log(`✓ ${file}: accepted by LLaMA-Factory's parser`);
  return 0;
}

async function train(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { "runs-dir": { type: "string" }, "run-id": { type: "string" } },
  });
  const file = positionals[0];
  if (await validate(file) !== 0) return 1;
  const config = _yaml(file, "train") as LlamaFactoryTrainInput;
  if (config.output_dir) {
    console.error(`· output_dir ${config.output_dir} is replaced by the run folder's output/`);
  }
  const abort = new AbortController();
  Deno.addSignalListener("SIGINT", () => {
    console.error("· stopping at the end of this step (adapter and checkpoint are saved) …");
    abort.abort();
  });
  let failed = false;
  for await (
    const e of trainLlamaFactory(config, {
      runsDir: values["runs-dir"],
      runId: values["run-id"],
      signal: abort.signal,
    })
  ) {
    if (e.event === "start") {
      console.log(
        `run ${e.runDir}: ${e.method} ${e.stage}, ${e.trainableParams} trainable of ${e.totalParams}`,
      );
    } else if (e.event === "step") {
      const extra = Object.entries(e.metrics).filter(([k]) =>
        k === "rewards/margins" || k === "rewards/accuracies"
      )
        .map(([k, v]) => ` ${k} ${v?.toFixed(4)}`).join("");
      console.log(
        `step ${e.step}  loss ${e.loss.toFixed(4)}  lr ${e.learningRate?.toExponential(2)}${extra}`,
      );
    } else if (e.event === "eval") {
      console.log(`eval at step ${e.step}  loss ${e.evalLoss?.toFixed(4)}`);
    } else if (e.event === "end") {
      console.log(`✓ ${e.steps} steps, final loss ${e.finalLoss?.toFixed(4)}; adapter in ${e.adapter}`);
    } else if (e.event === "error") {
      console.error(`✗ ${e.kind}: ${e.message}\n  ${e.hint}`);
      failed = e.kind !== "interrupted";
    }
  }
  return failed ? 1 : 0;
}

async function exportCommand(file: string | undefined): Promise<number> {
  const keys = _yaml(file, "export");
  const known = ["model_name_or_path", "adapter_name_or_path", "export_dir", "template", "infer_dtype"];
  const unknown = Object.keys(keys).filter((k) => !known.includes(k));
  const missing = known.slice(0, 3).filter((k) => typeof keys[k] !== "string");
  if (unknown.length || missing.length) {
    throw new Error(
      `${file}: ${missing.length ? `missing ${missing.join(", ")}` : ""}${
        missing.length && unknown.length ? "; " : ""
      }${unknown.length ? `keys lf export does not take: ${unknown.join(", ")}` : ""}. It takes ${
        known.join(", ")
      }.`,
    );
  }
  const merged = await exportLlamaFactory({
    model: keys.model_name_or_path as string,
    adapter: keys.adapter_name_or_path as string,
    exportDir: keys.export_dir as string,
    template: keys.template as string | undefined,
    dtype: keys.infer_dtype as "float32" | "bfloat16" | "float16" | undefined,
  });
  console.log(`✓ merged model in ${merged.dir} (${merged.seconds} s)`);
  return 0;
}

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  try {
    const code = command === "webui"
      ? await webui(rest)
      : command === "validate"
      ? await validate(rest[0])
      : command === "train"
      ? await train(rest)
      : command === "export"
      ? await exportCommand(rest[0])
      : (console.error(USAGE), 2);
    Deno.exit(code);
  } catch (e) {
    console.error(`lf: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
