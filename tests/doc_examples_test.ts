/**
 * Doc examples cannot rot: `deno test --doc` runs every TypeScript code block of lib/'s JSDoc, so each
 * must assert its result; a block marked `ts ignore` (training, Python, network) is skipped there, so here
 * each is written beside its source file and all of them are type-checked with one `deno check`.
 *
 * `DOC_EXAMPLES_DIRS=lib/adapters,lib/quant` narrows the scan (default: `lib`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Block {
  /** Source file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence; body line k is at `line + k`. */
  line: number;
  ignore: boolean;
  code: string;
}

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* tsFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** The TypeScript code blocks of one file's JSDoc comments, with the ` * ` prefix stripped. */
function docBlocks(file: string, text: string): Block[] {
  const blocks: Block[] = [];
  let open: { line: number; ignore: boolean; body: string[] } | null = null;
  text.split("\n").forEach((raw, i) => {
    if (!/^\s*\*/.test(raw)) {
      open = null;
      return;
    }
    const line = raw.replace(/^\s*\* ?/, "");
    const fence = line.match(/^```ts\b(.*)$/);
    if (!open && fence) open = { line: i + 1, ignore: /\bignore\b/.test(fence[1]), body: [] };
    else if (open && line.trim() === "```") {
      blocks.push({ file, line: open.line, ignore: open.ignore, code: open.body.join("\n") });
      open = null;
    } else if (open) open.body.push(line);
  });
  return blocks;
}

async function collectBlocks(): Promise<Block[]> {
  const dirs = (Deno.env.get("DOC_EXAMPLES_DIRS") ?? "lib").split(",").map((d) => d.trim()).filter(Boolean);
  const blocks: Block[] = [];
  for (const dir of dirs) {
    for await (const path of tsFiles(join(ROOT, dir))) {
      blocks.push(...docBlocks(relative(ROOT, path), await Deno.readTextFile(path)));
    }
  }
  return blocks;
}

const blocks = await collectBlocks();

Deno.test("every doc example that deno test --doc runs asserts its result", () => {
  assert.ok(blocks.length > 0, "No ```ts blocks found: is DOC_EXAMPLES_DIRS right?");
  const silent = blocks.filter((b) => !b.ignore && !/\bassert(\.\w+)?\(/.test(b.code));
  assert.deepEqual(
    silent.map((b) => `${b.file}:${b.line}`),
    [],
    'These examples run but check nothing: assert the value (import assert from "node:assert/strict") ' +
      "instead of printing it.",
  );
});

Deno.test("every ```ts ignore doc example type-checks beside its source file", async () => {
  const ignored = blocks.filter((b) => b.ignore);
  const temps = ignored.map((b, n) => join(ROOT, dirname(b.file), `.doc_ignore_${Deno.pid}_${n}.ts`));
  try {
    await Promise.all(temps.map((t, n) => Deno.writeTextFile(t, `${ignored[n].code}\nexport {};\n`)));
    if (temps.length === 0) return;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", ...temps],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    // Point each error at the block's line in its source file instead of the temporary file.
    const located = text.replace(
      /(?:file:\/\/)?[^\s]*\.doc_ignore_\d+_(\d+)\.ts:(\d+)(?::\d+)?/g,
      (_, n: string, l: string) => `${ignored[+n].file}:${ignored[+n].line + +l}`,
    );
    assert.ok(out.success, `Some \`ts ignore\` doc examples do not type-check:\n${located}`);
  } finally {
    await Promise.all(temps.map((t) => Deno.remove(t).catch(() => {})));
  }
  console.log(
    `${blocks.length} doc examples: ${blocks.length - ignored.length} run, ${ignored.length} ignore`,
  );
});
