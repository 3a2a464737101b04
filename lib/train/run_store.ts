/**
 * The run store: every run is a folder (`config.json`, `events.jsonl`, `stderr.log`, `adapter/`,
 * `checkpoints/`). Recorded runs replay anywhere, without training.
 *
 * @module
 */
import { projectRoot } from "../env/paths.ts";
import { parseEvent, type TrainEvent } from "./events.ts";
import { parseRunConfig, type RunConfig } from "./run_config.ts";

/** A run read back from its folder. */
export interface StoredRun {
  id: string;
  dir: string;
  config: RunConfig;
  events: TrainEvent[];
  /**
   * From the last `end` or `error` (a run resumed after an interruption is `done` once it ends):
   * `done`, `failed`, `interrupted`, or `running` (no end yet — still running, or its runner was killed).
   */
  status: "done" | "failed" | "interrupted" | "running";
  /** Set when the last line of `events.jsonl` was cut off mid-write (the writer was killed); it is left out. */
  truncated?: string;
}

function _status(events: TrainEvent[]): StoredRun["status"] {
  const last = events.findLast((e) => e.event === "end" || e.event === "error");
  if (!last) return "running";
  if (last.event === "end") return "done";
  return last.event === "error" && last.kind === "interrupted" ? "interrupted" : "failed";
}

/** The events of a file; a cut-off last line (no newline, not JSON) is reported instead of failing. */
function _events(text: string, file: string): { events: TrainEvent[]; truncated?: string } {
  const lines = text.split("\n");
  const events: TrainEvent[] = [];
  let truncated: string | undefined;
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const lastLine = i === lines.length - 1; // no newline after it
    try {
      events.push(parseEvent(line, `${file}:${i + 1}`));
    } catch (e) {
      if (!lastLine) throw e;
      truncated = `${file}:${i + 1}: the last line was cut off mid-write (${line.length} characters; the ` +
        `writer was stopped); it is left out, the ${events.length} events before it are kept.`;
    }
  });
  return { events, truncated };
}

/**
 * Loads a run from its folder (under `runs/`, `data/runs/`, or any path).
 *
 * @param idOrDir A run id under `runsDir`, or a folder path.
 * @param options Where run ids live (default `<project>/runs`).
 * @returns Config, events and status.
 * @throws {Error} When the folder or its files are missing or an event line is corrupt (file:line); a
 * last line cut off mid-write is not an error (see `truncated`).
 *
 * @example Replay a recorded run
 * ```ts ignore
 * import { loadRun } from "./run_store.ts";
 * const run = loadRun("data/runs/numbers-lora");
 * console.log(run.events.filter((e) => e.event === "step").length);
 * ```
 */
export function loadRun(idOrDir: string, options: { runsDir?: string } = {}): StoredRun {
  const dir = idOrDir.includes("/") ? idOrDir : `${options.runsDir ?? `${projectRoot()}/runs`}/${idOrDir}`;
  let configText: string, eventsText: string;
  try {
    configText = Deno.readTextFileSync(`${dir}/config.json`);
    eventsText = Deno.readTextFileSync(`${dir}/events.jsonl`);
  } catch {
    throw new Error(
      `${dir}: not a run folder (needs config.json and events.jsonl). Check the run id with listRuns().`,
    );
  }
  const { events, truncated } = _events(eventsText, `${dir}/events.jsonl`);
  return {
    id: dir.replace(/\/$/, "").split("/").pop()!,
    dir,
    // Recorded runs of older versions name only a preset (`method: "dora"`): parsing expands it.
    config: _config(configText, dir),
    events,
    status: _status(events),
    ...(truncated ? { truncated } : {}),
  };
}

function _config(text: string, dir: string): RunConfig {
  try {
    return parseRunConfig(JSON.parse(text));
  } catch (e) {
    throw new Error(`${dir}/config.json: ${(e as Error).message} Fix or remove this run folder.`);
  }
}

/**
 * Lists the runs in a folder, newest first.
 *
 * @param runsDir The folder (default `<project>/runs`).
 * @returns The runs (folders that are not runs are skipped).
 *
 * @example
 * ```ts ignore
 * import { listRuns } from "./run_store.ts";
 * for (const r of listRuns()) console.log(r.id, r.status);
 * ```
 */
export function listRuns(runsDir = `${projectRoot()}/runs`): StoredRun[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(runsDir)];
  } catch {
    return [];
  }
  const runs: StoredRun[] = [];
  for (const e of entries.filter((e) => e.isDirectory).sort((a, b) => b.name.localeCompare(a.name))) {
    try {
      runs.push(loadRun(`${runsDir}/${e.name}`));
    } catch {
      // not a run folder
    }
  }
  return runs;
}

/**
 * Replays a recorded run's events, as if it were training now (for live charts without training).
 *
 * @param run A stored run.
 * @param options `onEvent` and a speed-up (default: instantly; 10 = ten times real time).
 * @returns When all events were replayed.
 *
 * @example
 * ```ts ignore
 * import { loadRun, replayRun } from "./run_store.ts";
 * await replayRun(loadRun("data/runs/numbers-lora"), { onEvent: (e) => console.log(e.event) });
 * ```
 */
export async function replayRun(
  run: StoredRun,
  options: { onEvent: (e: TrainEvent) => void | Promise<void>; speed?: number },
): Promise<void> {
  let last: number | undefined;
  for (const e of run.events) {
    if (options.speed && last !== undefined) {
      await new Promise((r) => setTimeout(r, ((e.time - last!) * 1000) / options.speed!));
    }
    last = e.time;
    await options.onEvent(e);
  }
}
