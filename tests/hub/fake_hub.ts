/**
 * A Hub-compatible server on 127.0.0.1 for tests and benchmarks, answering as huggingface.co does
 * (as Python's `huggingface_hub` expects it, `utils/_http.py`): revision info; a recursive tree listing
 * with folders, split into pages with a `Link: <…>; rel="next"` header; resolve (LFS files redirect to a
 * "CDN" host with X-Linked-Etag/X-Linked-Size); range requests; tokens, with the Hub's 401/403/404
 * answers and `X-Error-Code`/`X-Error-Message` headers; and switches for failures (429/5xx with
 * `Retry-After`, broken, corrupt or held bodies, a server that ignores `Range`).
 */
import { createHash } from "node:crypto";
import { type BodyFaults, fileBody } from "./fake_hub_body.ts";

export interface FakeFile {
  data: Uint8Array;
  /** Serve as an LFS file (sha256 etag, redirect to the CDN). Default: files over 1 KB. */
  lfs?: boolean;
}

export interface FakeRepo {
  type: "model" | "dataset";
  id: string;
  files: Record<string, FakeFile>;
  /** The token that may read the repo; others get the Hub's answers for a gated (or private) repo. */
  token?: string;
  /** With `token`: answer as for a private repo (401/404 RepoNotFound) rather than a gated one. */
  private?: boolean;
  commit?: string;
}

export interface FakeHubOptions {
  /** Entries per tree page (the Hub: 1000 without `expand`); more go to the next page. Default: all. */
  pageSize?: number;
  /** Valid tokens of accounts without access to any gated repo (any other unknown token is refused). */
  tokens?: string[];
}

/** The next `times` requests whose path matches answer `status` (and `Retry-After`, when given). */
export interface FailFault {
  status: number;
  times: number;
  path?: RegExp;
  /** Seconds, sent as `Retry-After` (and, on a 429, as `RateLimit: "api";r=0;t=N`). */
  retryAfter?: number;
}

export interface FakeHub {
  url: string;
  /** The same server under another host name: the "CDN" LFS downloads are redirected to. */
  cdnUrl: string;
  /** Every request: method, path, query, range header, whether it carried a token, and the status. */
  log: {
    method: string;
    path: string;
    query: string;
    range: string | null;
    auth: boolean;
    status?: number;
  }[];
  commitOf(id: string): string;
  /** Failure switches. */
  faults: BodyFaults & { fail?: FailFault };
  close(): Promise<void>;
}

function sha(algo: string, data: Uint8Array | string): string {
  return createHash(algo).update(data).digest("hex");
}

/** Git's blob id of some bytes. */
function gitBlobId(data: Uint8Array): string {
  const head = new TextEncoder().encode(`blob ${data.length}\0`);
  const all = new Uint8Array(head.length + data.length);
  all.set(head);
  all.set(data, head.length);
  return sha("sha1", all);
}

function error(status: number, code: string | null, message: string): Response {
  const headers = new Headers({ "x-error-message": message });
  if (code) headers.set("x-error-code", code);
  return Response.json({ error: message }, { status, headers });
}

/** The repo's entries as the recursive tree listing gives them: folders, then files. */
function treeEntries(files: Record<string, FakeFile>): Record<string, unknown>[] {
  const dirs = new Set<string>();
  for (const p of Object.keys(files)) {
    for (let i = p.indexOf("/"); i > 0; i = p.indexOf("/", i + 1)) dirs.add(p.slice(0, i));
  }
  return [
    ...[...dirs].map((d) => ({ type: "directory", oid: sha("sha1", d), size: 0, path: d })),
    ...Object.entries(files).map(([p, f]) => {
      const lfs = f.lfs ?? f.data.length > 1024;
      return {
        type: "file",
        oid: gitBlobId(f.data),
        size: f.data.length,
        path: p,
        ...(lfs ? { lfs: { oid: sha("sha256", f.data), size: f.data.length, pointerSize: 134 } } : {}),
      };
    }),
  ];
}

export function startFakeHub(repos: FakeRepo[], options: FakeHubOptions = {}): FakeHub {
  const byKey = new Map(repos.map((r) => [`${r.type}s/${r.id}`, {
    ...r,
    commit: r.commit ?? sha("sha1", r.id + JSON.stringify(Object.keys(r.files))),
  }]));
  const known = new Set([...repos.flatMap((r) => r.token ?? []), ...(options.tokens ?? [])]);
  const blobs = new Map<string, Uint8Array>();
  for (const r of repos) for (const f of Object.values(r.files)) blobs.set(sha("sha256", f.data), f.data);
  const log: FakeHub["log"] = [];
  const faults: FakeHub["faults"] = {};
  let port = 0;

  const route = (req: Request, url: URL, path: string): Response => {
    const fail = faults.fail;
    if (fail && fail.times > 0 && (!fail.path || fail.path.test(path))) {
      fail.times--;
      const headers = new Headers();
      if (fail.retryAfter !== undefined) {
        headers.set("retry-after", String(fail.retryAfter));
        if (fail.status === 429) headers.set("ratelimit", `"api";r=0;t=${fail.retryAfter}`);
      }
      return new Response(`HTTP ${fail.status}`, { status: fail.status, headers });
    }
    const cdn = path.match(/^\/cdn\/([0-9a-f]{64})$/);
    if (cdn) {
      const data = blobs.get(cdn[1]);
      return data
        ? fileBody(data, req, path, new Headers(), faults)
        : error(404, "EntryNotFound", "Entry not found");
    }
    // The Hub refuses an unknown token on every request, even for a public repo.
    const authz = req.headers.get("authorization");
    const token = authz?.replace(/^Bearer /, "");
    if (token !== undefined && !known.has(token)) {
      return error(401, null, "Invalid credentials in Authorization header");
    }
    const api = path.match(/^\/api\/(models|datasets)\/([^/]+(?:\/[^/]+)?)\/(revision|tree)\/([^/]+)$/);
    const resolve = path.match(/^\/(datasets\/)?([^/]+(?:\/[^/]+)?)\/resolve\/([^/]+)\/(.+)$/);
    const key = api
      ? `${api[1]}/${api[2]}`
      : resolve
      ? `${resolve[1] ? "datasets" : "models"}/${resolve[2]}`
      : "";
    const repo = byKey.get(key);
    if (!repo) return error(token ? 404 : 401, "RepoNotFound", "Repository not found");
    if (repo.token && token !== repo.token) {
      const kind = repo.type;
      if (repo.private) return error(token ? 404 : 401, "RepoNotFound", "Repository not found");
      return token
        ? error(
          403,
          "GatedRepo",
          `Access to ${kind} ${repo.id} is restricted and you are not in the authorized list. ` +
            `Visit ${url.origin}/${repo.id} to ask for access.`,
        )
        : error(
          401,
          "GatedRepo",
          `Access to ${kind} ${repo.id} is restricted. You must have access to it and be authenticated to access it. ` +
            "Please log in.",
        );
    }
    const rev = api ? api[4] : resolve![3];
    if (rev !== "main" && rev !== repo.commit) return error(404, "RevisionNotFound", "Invalid rev id");
    if (api?.[3] === "revision") {
      return Response.json({
        id: repo.id,
        sha: repo.commit,
        private: !!repo.token,
        siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
      });
    }
    if (api?.[3] === "tree") {
      const all = treeEntries(repo.files), size = options.pageSize ?? all.length;
      const cursor = url.searchParams.get("cursor");
      const start = cursor ? JSON.parse(atob(cursor)).index : 0;
      const headers = new Headers();
      if (start + size < all.length) {
        const next = new URL(url);
        next.searchParams.set("cursor", btoa(JSON.stringify({ index: start + size })));
        headers.set("link", `<${next.href}>; rel="next"`);
      }
      return Response.json(all.slice(start, start + size), { headers });
    }
    const file = repo.files[resolve![4]];
    if (!file) return error(404, "EntryNotFound", `${resolve![4]} does not exist on "${rev}"`);
    const headers = new Headers({ "x-repo-commit": repo.commit });
    if (file.lfs ?? file.data.length > 1024) {
      const sha256 = sha("sha256", file.data);
      headers.set("x-linked-etag", `"${sha256}"`);
      headers.set("x-linked-size", String(file.data.length));
      headers.set("etag", `"${sha256}"`);
      headers.set("location", `http://localhost:${port}/cdn/${sha256}`);
      return new Response(null, { status: 302, headers });
    }
    headers.set("etag", `"${gitBlobId(file.data)}"`);
    return fileBody(file.data, req, path, headers, faults);
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    const path = decodeURIComponent(url.pathname);
    const entry: FakeHub["log"][number] = {
      method: req.method,
      path,
      query: url.search,
      range: req.headers.get("range"),
      auth: req.headers.has("authorization"),
    };
    log.push(entry);
    const res = route(req, url, path);
    entry.status = res.status;
    return res;
  });
  port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    cdnUrl: `http://localhost:${port}`,
    log,
    faults,
    commitOf: (id) => [...byKey.values()].find((r) => r.id === id)!.commit,
    close: () => server.shutdown(),
  };
}
