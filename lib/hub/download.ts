/**
 * Downloading Hub repositories into the cache Python's `huggingface_hub` uses
 * (`models--org--name/{blobs,snapshots/<commit>,refs/<revision>,trees/<commit>.json}`), with
 * resume, sha256 checks of LFS files, atomic moves, offline mode and a progress bar.
 *
 * The protocol mirrors `huggingface_hub` 2.x: resolve the revision to a commit
 * (`/api/{type}s/{repo}/revision/{rev}`), list the tree at that commit (cached forever in
 * `trees/<commit>.json`, the same file Python writes and reads), then fetch each missing blob from
 * `/{repo}/resolve/{commit}/{file}`. `@huggingface/hub`'s own `downloadFileToCacheDir` names
 * snapshots after each file's last commit and neither resumes nor verifies, so it cannot share a
 * cache with Python; this module does.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { type Env, hubCacheDir, hubEndpoint, hubOffline, hubToken } from "./hub_env.ts";
import { checkRepoFilePath, repoFolderName, type RepoType } from "./repo_id.ts";
import { formatBytes, progressBar } from "../display/progress.ts";
import { exists } from "../util/fs.ts";

/** Options for {@linkcode downloadModel} and {@linkcode downloadDataset}. */
export interface DownloadOptions {
  /** Branch, tag or commit (default `main`). */
  revision?: string;
  /** Only files matching one of these globs (e.g. `["*.safetensors", "*.json"]`). */
  allowPatterns?: string[];
  /** Skip files matching any of these globs. */
  ignorePatterns?: string[];
  /** Access token (default: `HF_TOKEN` or Python's token file). Never printed or stored. */
  token?: string;
  /** Hub address (default `HF_ENDPOINT` or https://huggingface.co). */
  hubUrl?: string;
  /** Cache folder (default: as Python resolves `HF_HUB_CACHE`). */
  cacheDir?: string;
  /** Use only the cache (default: `HF_HUB_OFFLINE`). */
  offline?: boolean;
  /** Files downloaded at once (default 4). */
  concurrency?: number;
  /** Show a progress bar (default true). */
  progress?: boolean;
  /** Environment to read defaults from (default: the process environment). */
  env?: Env;
}

/** What a download did. */
export interface SnapshotResult {
  /** The snapshot folder: `…/snapshots/<commit>`. */
  path: string;
  commit: string;
  /** Files in the snapshot that matched the patterns. */
  files: string[];
  /** Files fetched now (empty on a full cache hit). */
  downloaded: string[];
  /** HTTP requests made. */
  requests: number;
}

/** One file of a tree listing, as Python caches it. */
export interface _TreeEntry {
  size: number;
  blob_id: string;
  lfs_sha256?: string;
  lfs_size?: number;
}

const _COMMIT = /^[0-9a-f]{40}$/;

/**
 * Downloads (or finds in the cache) a model repository.
 *
 * @param repo The repo id, e.g. `"Qwen/Qwen2.5-0.5B-Instruct"`.
 * @param options Revision, file patterns, token, endpoint, offline mode.
 * @returns The local snapshot folder.
 * @throws {Error} One line saying what failed (bad id, 401/404, checksum, offline miss) and what to do.
 *
 * @example Only the weights and tokenizer
 * ```ts ignore
 * import { downloadModel } from "./download.ts";
 * const dir = await downloadModel("Qwen/Qwen2.5-0.5B-Instruct", { allowPatterns: ["*.safetensors", "*.json"] });
 * ```
 */
export async function downloadModel(repo: string, options: DownloadOptions = {}): Promise<string> {
  return (await downloadSnapshot(repo, "model", options)).path;
}

/**
 * A lesson's `MODEL` parameter as a local folder: a path (starting with `.` or `/`) is used as it is;
 * anything else is a Hub repo id, downloaded (or found in the cache) with {@linkcode downloadModel}.
 *
 * @param model A folder path or a Hub repo id.
 * @param options As for {@linkcode downloadModel}.
 * @returns The local folder.
 * @throws {Error} When a path does not exist (say which), or as for {@linkcode downloadModel}.
 *
 * @example
 * ```ts
 * import { resolveModel } from "./download.ts";
 * console.log(await resolveModel("./data/models/ince-tiny")); // ./data/models/ince-tiny
 * ```
 */
export async function resolveModel(model: string, options: DownloadOptions = {}): Promise<string> {
  if (!model.startsWith(".") && !model.startsWith("/")) return await downloadModel(model, options);
  if (!exists(`${model}/config.json`)) {
    throw new Error(
      `${model}: no model folder here (no config.json; paths are relative to ${Deno.cwd()}). ` +
        'Use a folder with a Hugging Face model, or a Hub id such as "Qwen/Qwen2.5-0.5B-Instruct".',
    );
  }
  return model;
}

/**
 * Downloads (or finds in the cache) a dataset repository.
 *
 * @param repo The repo id.
 * @param options As for {@linkcode downloadModel}.
 * @returns The local snapshot folder.
 * @throws {Error} As for {@linkcode downloadModel}.
 *
 * @example
 * ```ts ignore
 * import { downloadDataset } from "./download.ts";
 * const dir = await downloadDataset("tatsu-lab/alpaca", { allowPatterns: ["*.parquet"] });
 * ```
 */
export async function downloadDataset(repo: string, options: DownloadOptions = {}): Promise<string> {
  return (await downloadSnapshot(repo, "dataset", options)).path;
}

/**
 * Python's `fnmatch` for repo paths: `*` and `?` also match `/`; a pattern ending in `/` means
 * everything under that folder.
 *
 * @param path A repo file path.
 * @param pattern A glob.
 * @returns Whether it matches.
 *
 * @example
 * ```ts
 * import { matchesPattern } from "./download.ts";
 * console.log(matchesPattern("onnx/model.onnx", "*.onnx"), matchesPattern("a/b.txt", "a/")); // true true
 * ```
 */
export function matchesPattern(path: string, pattern: string): boolean {
  const p = pattern.endsWith("/") ? `${pattern}*` : pattern;
  let re = "^";
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = p.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        const body = p.slice(i + 1, end);
        re += `[${body.startsWith("!") ? "^" + body.slice(1) : body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(re + "$").test(path);
}

function _filter(files: string[], allow?: string[], ignore?: string[]): string[] {
  return files.filter((f) =>
    (!allow?.length || allow.some((p) => matchesPattern(f, p))) && !ignore?.some((p) => matchesPattern(f, p))
  );
}

function _writeAtomic(path: string, text: string): void {
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(tmp, text);
  Deno.renameSync(tmp, path);
}

function _dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

function _relative(fromDir: string, to: string): string {
  const a = fromDir.split("/").filter(Boolean), b = to.split("/").filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...Array(a.length - i).fill(".."), ...b.slice(i)].join("/");
}

/** An error from the Hub, turned into one line that says what to do. */
function _httpError(status: number, headers: Headers, what: string, repo: string, type: RepoType): Error {
  const code = headers.get("x-error-code") ?? "";
  if (status === 401 || status === 403) {
    return new Error(
      `${repo}: access denied (HTTP ${status}) — the repo is gated or private. Accept its terms on the Hub, then ` +
        "set HF_TOKEN (or run `hf auth login`) with a token that can read it.",
    );
  }
  if (status === 404) {
    if (code === "RevisionNotFound") {
      return new Error(`${repo}: revision not found (${what}). Check the branch, tag or commit.`);
    }
    if (code === "EntryNotFound") {
      return new Error(`${repo}: file not found: ${what}. Check the file name in the repo.`);
    }
    return new Error(
      `${repo}: ${type} repository not found (HTTP 404). Check the id, and whether it is a ${
        type === "model" ? "dataset" : "model"
      }.`,
    );
  }
  return new Error(`${repo}: the Hub answered HTTP ${status} for ${what}. Try again later.`);
}

/**
 * Downloads a repository snapshot, reporting what came from the cache.
 *
 * @param repo The repo id.
 * @param type `model` or `dataset`.
 * @param options As for {@linkcode downloadModel}.
 * @returns The snapshot folder, commit, files, what was downloaded and how many requests it took.
 * @throws {Error} As for {@linkcode downloadModel}.
 *
 * @example
 * ```ts ignore
 * import { downloadSnapshot } from "./download.ts";
 * const { path, downloaded } = await downloadSnapshot("org/tiny", "model", { offline: true });
 * ```
 */
export async function downloadSnapshot(
  repo: string,
  type: RepoType,
  options: DownloadOptions = {},
): Promise<SnapshotResult> {
  const env = options.env ?? Deno.env.toObject();
  const storage = `${options.cacheDir ?? hubCacheDir(env)}/${repoFolderName(repo, type)}`;
  const revision = options.revision ?? "main";
  const offline = options.offline ?? hubOffline(env);
  if (offline) return _fromCache(repo, type, storage, revision, options);

  const { hub, auth, commit, tree, countRequests } = await resolveTree(
    repo,
    type,
    storage,
    revision,
    options,
    env,
  );
  let requests = countRequests();
  // 3. Fetch what is missing.
  const files = _filter(Object.keys(tree).sort(), options.allowPatterns, options.ignorePatterns);
  for (const f of files) checkRepoFilePath(f);
  const snapshot = `${storage}/snapshots/${commit}`;
  const todo: string[] = [];
  for (const f of files) {
    const pointer = `${snapshot}/${f}`;
    if (exists(pointer)) continue;
    const blob = `${storage}/blobs/${tree[f].lfs_sha256 ?? tree[f].blob_id}`;
    if (exists(blob)) _link(blob, pointer);
    else todo.push(f);
  }
  const total = todo.reduce((s, f) => s + (tree![f].lfs_size ?? tree![f].size), 0);
  const bar = options.progress === false || todo.length === 0 ? undefined : progressBar({
    label: `${repo} (${todo.length} file${todo.length > 1 ? "s" : ""})`,
    total,
    unit: "bytes",
  });
  let done = 0;
  const inFlight = new Map<string, number>();
  const detail = () =>
    [...inFlight].map(([f, n]) => {
      const size = tree![f].lfs_size ?? tree![f].size;
      return `  ${f} ${Math.round((100 * n) / (size || 1))}% ${formatBytes(n)}/${formatBytes(size)}`;
    }).join("\n");
  const queue = [...todo];
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      inFlight.set(f, 0);
      requests += await _fetchBlob(
        { hub, repo, type, commit, path: f, entry: tree![f], storage, auth },
        (n) => {
          done += n;
          inFlight.set(f, inFlight.get(f)! + n);
          bar?.update(done, detail());
        },
      );
      inFlight.delete(f);
      _link(`${storage}/blobs/${tree![f].lfs_sha256 ?? tree![f].blob_id}`, `${snapshot}/${f}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, todo.length) }, worker));
  await bar?.finish("done");
  return { path: snapshot, commit, files, downloaded: todo, requests };
}

/** The commit and file list of a repo revision, from the Hub or the tree cache. */
export interface ResolvedTree {
  hub: string;
  auth: Record<string, string>;
  commit: string;
  tree: Record<string, _TreeEntry>;
  /** Requests made so far. */
  countRequests: () => number;
}

/**
 * Resolves a revision to its commit and file list (tree cached per commit, shared with Python).
 *
 * @param repo The repo id.
 * @param type Model or dataset.
 * @param storage The repo's cache folder.
 * @param revision Branch, tag or commit.
 * @param options Endpoint and token.
 * @param env The environment for defaults.
 * @returns Hub URL, auth headers, commit and tree.
 * @throws {Error} One line on HTTP or network errors.
 *
 * @example
 * ```ts ignore
 * const { commit, tree } = await resolveTree("org/m", "model", "/cache/models--org--m", "main", {}, {});
 * ```
 */
export async function resolveTree(
  repo: string,
  type: RepoType,
  storage: string,
  revision: string,
  options: DownloadOptions,
  env: Env,
): Promise<ResolvedTree> {
  const hub = (options.hubUrl ?? hubEndpoint(env)).replace(/\/+$/, "");
  const token = options.token ?? hubToken(env);
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let requests = 0;
  const api = async (url: string, what: string): Promise<Response> => {
    requests++;
    let res: Response;
    try {
      res = await fetch(url, { headers: auth });
    } catch (e) {
      throw new Error(
        `${repo}: cannot reach the Hub at ${hub} (${
          (e as Error).message
        }). Check the connection, or set HF_HUB_OFFLINE=1 to use the cache.`,
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw _httpError(res.status, res.headers, what, repo, type);
    }
    return res;
  };

  // 1. Revision → commit.
  let commit = revision;
  if (!_COMMIT.test(revision)) {
    const info = await (await api(
      `${hub}/api/${type}s/${repo}/revision/${encodeURIComponent(revision)}`,
      `revision ${revision}`,
    )).json();
    commit = String(info.sha ?? "");
    if (!_COMMIT.test(commit)) throw new Error(`${repo}: the Hub gave no commit for revision ${revision}.`);
    const ref = `${storage}/refs/${revision}`;
    if (!exists(ref) || Deno.readTextFileSync(ref) !== commit) _writeAtomic(ref, commit);
  }

  // 2. The tree at that commit: immutable, so cached forever (shared with Python).
  const treeFile = `${storage}/trees/${commit}.json`;
  let tree: Record<string, _TreeEntry> | undefined;
  try {
    const cached = JSON.parse(Deno.readTextFileSync(treeFile));
    if (cached.format_version === 1) tree = cached.files;
  } catch {
    // not cached yet
  }
  if (!tree) {
    tree = {};
    let url: string | null = `${hub}/api/${type}s/${repo}/tree/${commit}?recursive=true&expand=false`;
    while (url) {
      const res = await api(url, "the file list");
      for (const f of await res.json()) {
        if (f.type !== "file") continue;
        tree[f.path] = {
          size: f.size,
          blob_id: f.oid,
          ...(f.lfs ? { lfs_sha256: f.lfs.oid, lfs_size: f.lfs.size } : {}),
        };
      }
      const next = res.headers.get("link")?.match(/<([^>]+)>;\s*rel="next"/);
      url = next ? new URL(next[1], hub).href : null;
    }
    _writeAtomic(treeFile, JSON.stringify({ format_version: 1, files: tree }, null, 1));
  }

  return { hub, auth, commit, tree, countRequests: () => requests };
}

function _link(blob: string, pointer: string): void {
  Deno.mkdirSync(_dirname(pointer), { recursive: true });
  try {
    Deno.removeSync(pointer);
  } catch {
    // nothing there
  }
  // Relative, as Python makes it, so the cache can be moved.
  Deno.symlinkSync(_relative(_dirname(pointer), blob), pointer);
}

/** Where a repo file is: enough to build its `resolve` URL. */
export interface RepoFileRef {
  hub: string;
  repo: string;
  type: RepoType;
  commit: string;
  path: string;
  auth: Record<string, string>;
}

/**
 * GETs a repo file through `/resolve/`, following redirects by hand so the token goes only to the
 * Hub's own host, never to a CDN.
 *
 * @param ref The file.
 * @param headers Extra headers (e.g. `range`).
 * @returns The successful response and how many requests it took.
 * @throws {Error} One line for HTTP errors (401, 404 …).
 *
 * @example
 * ```ts ignore
 * const { res } = await fetchRepoFile(ref, { range: "bytes=0-7" });
 * ```
 */
export async function fetchRepoFile(
  ref: RepoFileRef,
  headers: Record<string, string> = {},
): Promise<{ res: Response; requests: number }> {
  const prefix = ref.type === "dataset" ? "datasets/" : "";
  const encoded = ref.path.split("/").map(encodeURIComponent).join("/");
  let url = `${ref.hub}/${prefix}${ref.repo}/resolve/${ref.commit}/${encoded}`;
  let requests = 0;
  for (let hop = 0; hop < 5; hop++) {
    const sameHost = new URL(url).host === new URL(ref.hub).host;
    requests++;
    const res = await fetch(url, {
      headers: { "accept-encoding": "identity", ...headers, ...(sameHost ? ref.auth : {}) },
      redirect: "manual",
    });
    if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
      await res.body?.cancel();
      url = new URL(res.headers.get("location")!, url).href;
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw _httpError(res.status, res.headers, ref.path, ref.repo, ref.type);
    }
    return { res, requests };
  }
  throw new Error(`${ref.repo}: too many redirects for ${ref.path}.`);
}

interface _BlobJob extends RepoFileRef {
  entry: _TreeEntry;
  storage: string;
}

/** Downloads one blob into `blobs/<etag>` via `<etag>.incomplete`, resuming and verifying. */
async function _fetchBlob(job: _BlobJob, onBytes: (n: number) => void): Promise<number> {
  const etag = job.entry.lfs_sha256 ?? job.entry.blob_id;
  const expected = job.entry.lfs_size ?? job.entry.size;
  const blob = `${job.storage}/blobs/${etag}`, incomplete = `${blob}.incomplete`;
  Deno.mkdirSync(_dirname(blob), { recursive: true });
  let have = 0;
  try {
    have = Deno.statSync(incomplete).size;
  } catch {
    // fresh download
  }
  if (have > expected) {
    Deno.removeSync(incomplete);
    have = 0;
  }
  const { res, requests } = await fetchRepoFile(job, have > 0 ? { range: `bytes=${have}-` } : {});
  if (have > 0 && res.status !== 206) have = 0; // the server ignored the range: start over
  const file = await Deno.open(incomplete, {
    create: true,
    write: true,
    append: have > 0,
    truncate: have === 0,
  });
  let got = have;
  try {
    onBytes(have);
    for await (const chunk of res.body!) {
      await file.write(chunk);
      got += chunk.length;
      onBytes(chunk.length);
    }
  } catch (e) {
    throw new Error(
      `${job.repo}: download of ${job.path} broke off after ${got} of ${expected} bytes (${
        (e as Error).message
      }). ` +
        "Run the same call again to resume.",
    );
  } finally {
    file.close();
  }
  if (got !== expected) {
    throw new Error(
      `${job.repo}: ${job.path} is truncated: got ${got} of ${expected} bytes. The partial file is kept; run the same call again to resume.`,
    );
  }
  if (job.entry.lfs_sha256) {
    const hash = createHash("sha256");
    const f = await Deno.open(incomplete);
    for await (const chunk of f.readable) hash.update(chunk);
    const actual = hash.digest("hex");
    if (actual !== job.entry.lfs_sha256) {
      Deno.removeSync(incomplete);
      throw new Error(
        `${job.repo}: checksum mismatch for ${job.path} (sha256 ${actual.slice(0, 12)}…, expected ` +
          `${
            job.entry.lfs_sha256.slice(0, 12)
          }…): the file was discarded. Run again; if it repeats, the mirror is corrupt.`,
      );
    }
  }
  Deno.renameSync(incomplete, blob);
  return requests;
}

function _walk(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(..._walk(`${dir}/${e.name}`, rel));
    else out.push(rel);
  }
  return out;
}

function _fromCache(
  repo: string,
  type: RepoType,
  storage: string,
  revision: string,
  options: DownloadOptions,
): SnapshotResult {
  const miss = (why: string) =>
    new Error(
      `${repo}: offline (HF_HUB_OFFLINE) and ${why}. Download it once with the network on, or unset HF_HUB_OFFLINE.`,
    );
  let commit = revision;
  if (!_COMMIT.test(revision)) {
    try {
      commit = Deno.readTextFileSync(`${storage}/refs/${revision}`).trim();
    } catch {
      throw miss(`revision ${revision} of this ${type} is not in the cache (${storage})`);
    }
  }
  const snapshot = `${storage}/snapshots/${commit}`;
  let all: string[];
  try {
    all = Object.keys(JSON.parse(Deno.readTextFileSync(`${storage}/trees/${commit}.json`)).files);
  } catch {
    try {
      all = _walk(snapshot);
    } catch {
      throw miss(`snapshot ${commit} is not in the cache`);
    }
  }
  const files = _filter(all.sort(), options.allowPatterns, options.ignorePatterns);
  const missing = files.filter((f) => !exists(`${snapshot}/${f}`));
  if (missing.length) {
    throw miss(`${missing.length} file(s) are not cached (${missing.slice(0, 3).join(", ")})`);
  }
  if (files.length === 0) throw miss(`no cached file matches the patterns`);
  return { path: snapshot, commit, files, downloaded: [], requests: 0 };
}
