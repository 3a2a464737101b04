/**
 * A Hub-compatible server on 127.0.0.1 for tests and benchmarks: revision info, recursive tree,
 * resolve (LFS files redirect to a "CDN" host with X-Linked-Etag/X-Linked-Size, as the Hub does),
 * range requests, tokens, and switches for failures (truncated bodies, corrupt bytes).
 */
import { createHash } from "node:crypto";

export interface FakeFile {
  data: Uint8Array;
  /** Serve as an LFS file (sha256 etag, redirect to the CDN). Default: files over 1 KB. */
  lfs?: boolean;
}

export interface FakeRepo {
  type: "model" | "dataset";
  id: string;
  files: Record<string, FakeFile>;
  /** Require `Authorization: Bearer <token>`. */
  token?: string;
  commit?: string;
}

export interface FakeHub {
  url: string;
  /** The same server under another host name: the "CDN" LFS downloads are redirected to. */
  cdnUrl: string;
  /** Every request: method, path, range header, whether it carried a token. */
  log: { method: string; path: string; range: string | null; auth: boolean }[];
  commitOf(id: string): string;
  /** Failure switches. */
  faults: { truncateAfter?: number; corrupt?: boolean };
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

export function startFakeHub(repos: FakeRepo[]): FakeHub {
  const byKey = new Map(repos.map((r) => [`${r.type}s/${r.id}`, {
    ...r,
    commit: r.commit ?? sha("sha1", r.id + JSON.stringify(Object.keys(r.files))),
  }]));
  const blobs = new Map<string, Uint8Array>();
  const meta = (f: FakeFile) => {
    const lfs = f.lfs ?? f.data.length > 1024;
    const sha256 = sha("sha256", f.data);
    if (lfs) blobs.set(sha256, f.data);
    return { lfs, sha256, blobId: gitBlobId(f.data) };
  };
  const log: FakeHub["log"] = [];
  const faults: FakeHub["faults"] = {};
  let port = 0;

  const body = (data: Uint8Array, req: Request, headers: Headers): Response => {
    headers.set("accept-ranges", "bytes");
    let start = 0;
    const range = req.headers.get("range")?.match(/^bytes=(\d+)-(\d*)$/);
    let end = data.length - 1;
    if (range) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
    }
    let slice = data.subarray(start, end + 1);
    if (faults.corrupt) slice = slice.map((b) => b ^ 0xff);
    headers.set("content-length", String(slice.length));
    if (range) headers.set("content-range", `bytes ${start}-${end}/${data.length}`);
    if (req.method === "HEAD") return new Response(null, { status: range ? 206 : 200, headers });
    const cut = Math.max(0, (faults.truncateAfter ?? Infinity) - start);
    if (cut < slice.length) {
      // Send part of the body, then end it short of Content-Length: the client sees a broken transfer.
      const stream = new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(slice.slice(0, cut));
          await new Promise((r) => setTimeout(r, 50));
          c.close();
        },
      });
      return new Response(stream, { status: range ? 206 : 200, headers });
    }
    return new Response(slice as Uint8Array<ArrayBuffer>, { status: range ? 206 : 200, headers });
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    const path = decodeURIComponent(url.pathname);
    const authz = req.headers.get("authorization");
    log.push({ method: req.method, path, range: req.headers.get("range"), auth: !!authz });
    const notFound = (code: string) =>
      new Response(JSON.stringify({ error: code }), { status: 404, headers: { "x-error-code": code } });

    const cdn = path.match(/^\/cdn\/([0-9a-f]{64})$/);
    if (cdn) {
      const data = blobs.get(cdn[1]);
      return data ? body(data, req, new Headers()) : notFound("EntryNotFound");
    }
    const api = path.match(/^\/api\/(models|datasets)\/([^/]+(?:\/[^/]+)?)\/(revision|tree)\/([^/]+)$/);
    const resolve = path.match(/^\/(datasets\/)?([^/]+(?:\/[^/]+)?)\/resolve\/([^/]+)\/(.+)$/);
    const key = api
      ? `${api[1]}/${api[2]}`
      : resolve
      ? `${resolve[1] ? "datasets" : "models"}/${resolve[2]}`
      : "";
    const repo = byKey.get(key);
    if (!repo) return notFound("RepoNotFound");
    if (repo.token && authz !== `Bearer ${repo.token}`) {
      return new Response(JSON.stringify({ error: "Access to this repo is restricted" }), {
        status: 401,
        headers: { "x-error-code": "GatedRepo" },
      });
    }
    const rev = api ? api[4] : resolve![3];
    if (rev !== "main" && rev !== repo.commit) return notFound("RevisionNotFound");
    if (api?.[3] === "revision") {
      return Response.json({
        id: repo.id,
        sha: repo.commit,
        private: !!repo.token,
        siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
      });
    }
    if (api?.[3] === "tree") {
      return Response.json(
        Object.entries(repo.files).map(([p, f]) => {
          const m = meta(f);
          return {
            type: "file",
            path: p,
            size: f.data.length,
            oid: m.blobId,
            ...(m.lfs ? { lfs: { oid: m.sha256, size: f.data.length, pointerSize: 134 } } : {}),
          };
        }),
      );
    }
    const file = repo.files[resolve![4]];
    if (!file) return notFound("EntryNotFound");
    const m = meta(file);
    const headers = new Headers({ "x-repo-commit": repo.commit });
    if (m.lfs) {
      headers.set("x-linked-etag", `"${m.sha256}"`);
      headers.set("x-linked-size", String(file.data.length));
      headers.set("etag", `"${m.sha256}"`);
      headers.set("location", `http://localhost:${port}/cdn/${m.sha256}`);
      return new Response(null, { status: 302, headers });
    }
    headers.set("etag", `"${m.blobId}"`);
    return body(file.data, req, headers);
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
