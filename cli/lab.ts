/**
 * `deno task lab [jupyter lab options]`: JupyterLab on notebooks/ with the ince kernel.
 *
 * @module
 */
import { setup } from "../lib/env/setup.ts";
import { projectRoot } from "../lib/env/paths.ts";

try {
  const { venv } = await setup({ quiet: true });
  const args = ["lab", `--notebook-dir=${projectRoot()}/notebooks`, ...Deno.args];
  // Jupyter refuses to start as root (containers, CI) unless told it is deliberate.
  if (Deno.uid() === 0 && !args.includes("--allow-root")) args.push("--allow-root");
  const child = new Deno.Command(`${venv}/bin/jupyter`, {
    args,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  Deno.addSignalListener("SIGINT", () => child.kill("SIGINT"));
  Deno.exit((await child.status).code);
} catch (e) {
  console.error(`lab: ${(e as Error).message}`);
  Deno.exit(1);
}
