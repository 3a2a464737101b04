/**
 * `deno task nb <command>`: notebook tools.
 *   nb run <notebook|dir>... [--out DIR] [--timeout S] [--html]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { describeFailure, runNotebooks } from "../lib/notebook/run_notebooks.ts";

const USAGE = "usage: deno task nb run <notebook|dir>... [--out DIR] [--timeout S] [--html]";

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string", default: "out" },
      timeout: { type: "string", default: "600" },
      html: { type: "boolean", default: false },
    },
  });
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout < 0) {
    throw new Error(`--timeout ${values.timeout} is not a number of seconds.`);
  }
  const t0 = performance.now();
  const results = await runNotebooks(positionals, {
    out: values.out,
    timeout,
    html: values.html,
    onEvent: (e) => {
      if (e.event === "start") console.error(`▶ ${e.notebook} (${e.cells} cells)`);
      if (e.event === "done" && e.ok) {
        console.error(`✓ ${e.notebook} → ${e.out}${e.html ? ` + ${e.html}` : ""}`);
      }
    },
  });
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) console.error(`✗ ${describeFailure(r)} → executed copy kept at ${r.out}`);
  console.error(
    `${results.length - failed.length} of ${results.length} notebooks ran in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s`,
  );
  return failed.length ? 1 : 0;
}

const [command, ...rest] = Deno.args;
try {
  if (command === "run") Deno.exit(await run(rest));
  console.error(command ? `nb: unknown command "${command}". ${USAGE}` : USAGE);
  Deno.exit(2);
} catch (e) {
  console.error(`nb ${command}: ${(e as Error).message}`);
  Deno.exit(1);
}
