/**
 * `deno task setup [--profile cpu|cuda|rocm] [--quiet] [--prune] [--browser] [--llamafactory] [--unsloth]`: make this machine ready (idempotent).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { setup } from "../lib/env/setup.ts";
import { type Profile, PROFILES } from "../lib/env/profile.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    profile: { type: "string" },
    quiet: { type: "boolean", default: false },
    prune: { type: "boolean", default: false },
    browser: { type: "boolean", default: false },
    llamafactory: { type: "boolean", default: false },
    unsloth: { type: "boolean", default: false },
  },
});
if (values.profile && !(PROFILES as readonly string[]).includes(values.profile)) {
  console.error(`setup: --profile ${values.profile} is not one of ${PROFILES.join(", ")}.`);
  Deno.exit(2);
}
const t0 = performance.now();
try {
  const result = await setup({
    profile: values.profile as Profile | undefined,
    quiet: values.quiet,
    prune: values.prune,
    browser: values.browser,
    llamafactory: values.llamafactory,
    unsloth: values.unsloth,
  });
  if (!values.quiet) {
    console.error(
      `  steps (s): ${JSON.stringify(result.seconds)}; total ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
    );
  }
} catch (e) {
  const message = (e as Error).message;
  console.error(message.startsWith("setup") ? message : `setup: ${message}`);
  Deno.exit(1);
}
