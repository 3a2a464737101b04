/**
 * The options and result of a snapshot download, in their own file so that `download.ts` and
 * `cache_fallback.ts` can both use them without importing each other.
 *
 * @module
 */
import type { FilePatterns } from "./patterns.ts";
import type { ResolveTreeOptions } from "./resolve_tree.ts";

/** Options for `downloadModel` and `downloadDataset`. */
export interface DownloadOptions extends Omit<ResolveTreeOptions, "type">, FilePatterns {
  /** Use only the cache (default: `HF_HUB_OFFLINE`). */
  offline?: boolean;
  /** Files downloaded at once (default 4). */
  concurrency?: number;
  /** Show a progress bar (default true). */
  progress?: boolean;
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
