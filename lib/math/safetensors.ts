/**
 * Reading and writing `.safetensors` files (adapters, model shards): an 8-byte little-endian header
 * length, a JSON header `{name: {dtype, shape, data_offsets}}`, then the raw bytes.
 *
 * @module
 */

/** A tensor read from a file: values (floats widened to float32), shape and original dtype. */
export interface Tensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Float64Array;
}

/** Bytes per element of each safetensors dtype. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

const _DECODABLE = new Set(["F64", "F32", "F16", "BF16", "I64", "I32", "I8", "U8", "BOOL"]);

function _f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function _decode(dtype: string, bytes: Uint8Array): Tensor["data"] {
  const copy = bytes.slice(); // aligned
  const buf = copy.buffer;
  switch (dtype) {
    case "F32":
      return new Float32Array(buf);
    case "F64":
      return new Float64Array(buf);
    case "I64":
      return new BigInt64Array(buf);
    case "I32":
      return new Int32Array(buf);
    case "U8":
    case "BOOL":
      return copy;
    case "I8":
      return new Int8Array(buf);
    case "F16": {
      const h = new Uint16Array(buf);
      return Float32Array.from(h, _f16);
    }
    case "BF16": {
      const h = new Uint16Array(buf);
      const out = new Uint32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = h[i] << 16;
      return new Float32Array(out.buffer);
    }
  }
  throw new Error(`dtype ${dtype} is not supported`);
}

/**
 * Parses safetensors bytes.
 *
 * @param bytes The file's contents.
 * @param name The file name, for error messages.
 * @returns The tensors by name, and the header's `__metadata__`.
 * @throws {Error} On a truncated file or a corrupt header, naming the file and what is wrong.
 *
 * @example Round-trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSafetensors, serializeSafetensors } from "./safetensors.ts";
 * const bytes = serializeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
 * const { w } = parseSafetensors(bytes).tensors;
 * assert.deepEqual([w.dtype, w.shape, Array.from(w.data as Float32Array)], ["F32", [2], [1, 2]]);
 * ```
 */
export function parseSafetensors(bytes: Uint8Array, name = "safetensors data"): {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
} {
  const bad = (what: string): never => {
    throw new Error(`${name}: not a valid safetensors file: ${what}. Re-download or re-save it.`);
  };
  if (bytes.length < 8) bad(`only ${bytes.length} bytes, the header length alone needs 8`);
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLen > bytes.length - 8) {
    bad(`header length ${headerLen} is larger than the file (${bytes.length} bytes)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    return bad(`the header is not JSON (${(e as Error).message})`);
  }
  const base = 8 + headerLen;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(header)) {
    if (key === "__metadata__") {
      metadata = value as Record<string, string>;
      continue;
    }
    const v = value as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (!v || typeof v.dtype !== "string" || !Array.isArray(v.shape) || !Array.isArray(v.data_offsets)) {
      bad(`tensor "${key}" lacks dtype, shape or data_offsets`);
    }
    const size = DTYPE_BYTES[v.dtype!];
    if (!size || !_DECODABLE.has(v.dtype!)) bad(`tensor "${key}" has unsupported dtype ${v.dtype}`);
    const [start, end] = v.data_offsets!;
    const count = v.shape!.reduce((a, b) => a * b, 1);
    if (end - start !== count * size) {
      bad(
        `tensor "${key}" (${v.dtype} ${JSON.stringify(v.shape)}) needs ${count * size} bytes, offsets give ${
          end - start
        }`,
      );
    }
    if (base + end > bytes.length) {
      bad(`tensor "${key}" ends at byte ${base + end}, past the end of the file`);
    }
    tensors[key] = {
      dtype: v.dtype!,
      shape: v.shape!,
      data: _decode(v.dtype!, bytes.subarray(base + start, base + end)),
    };
  }
  return { tensors, metadata };
}

/**
 * Reads a `.safetensors` file.
 *
 * @param path The file.
 * @returns The tensors by name, and the metadata.
 * @throws {Error} When the file is missing or corrupt, naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await writeSafetensors(path, { w: { shape: [1, 2], data: new Float32Array([1, 2]) } });
 * const { tensors } = await readSafetensors(path);
 * assert.deepEqual(tensors.w.shape, [1, 2]);
 * await Deno.remove(path);
 * ```
 */
export async function readSafetensors(path: string): Promise<ReturnType<typeof parseSafetensors>> {
  return parseSafetensors(await Deno.readFile(path), path);
}

/** A tensor to write: float32 values (or another typed array with its dtype) and a shape. */
export interface TensorInput {
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

function _dtypeOf(data: TensorInput["data"]): string {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof BigInt64Array) return "I64";
  return "U8";
}

/**
 * Encodes tensors as safetensors bytes (names sorted, as the Python library writes them).
 *
 * @param tensors The tensors by name.
 * @param metadata Optional string metadata.
 * @returns The file's bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serializeSafetensors } from "./safetensors.ts";
 * const bytes = serializeSafetensors({ b: { shape: [1], data: new Float32Array([0]) } });
 * const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
 * assert.equal(headerLength % 8, 0); // the data starts 8-byte aligned
 * assert.equal(bytes.length, 8 + headerLength + 4); // one float32
 * ```
 */
export function serializeSafetensors(
  tensors: Record<string, TensorInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name];
    header[name] = {
      dtype: _dtypeOf(t.data),
      shape: t.shape,
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // keep the data 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

/**
 * Writes a `.safetensors` file.
 *
 * @param path The file to write.
 * @param tensors The tensors by name.
 * @param metadata Optional string metadata.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await writeSafetensors(path, { w: { shape: [1], data: new Float32Array([1]) } }, { format: "pt" });
 * assert.deepEqual((await readSafetensors(path)).metadata, { format: "pt" });
 * await Deno.remove(path);
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorInput>,
  metadata?: Record<string, string>,
): Promise<void> {
  await Deno.writeFile(path, serializeSafetensors(tensors, metadata));
}

/** A safetensors header's tensors by name (the `__metadata__` entry left out). */
export type SafetensorsHeader = Record<
  string,
  { dtype: string; shape: number[]; data_offsets: [number, number] }
>;

/**
 * Reads a safetensors header with two reads, whatever the file's size: the 8-byte little-endian
 * length, then that many bytes of JSON. `read(start, end)` returns an inclusive byte range, from a
 * local file or an HTTP range request.
 *
 * @param read Returns bytes `start..end` (inclusive) of the file.
 * @param name The file, for error messages.
 * @returns The tensors' dtypes, shapes and offsets.
 * @throws {Error} Naming the file when it is too short or its header is corrupt.
 *
 * @example From bytes in memory
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensorsHeader, serializeSafetensors } from "./safetensors.ts";
 * const bytes = serializeSafetensors({ w: { shape: [2, 3], data: new Float32Array(6) } });
 * const header = await readSafetensorsHeader(async (s, e) => bytes.subarray(s, e + 1), "w.safetensors");
 * assert.deepEqual(header.w.shape, [2, 3]);
 * ```
 */
export async function readSafetensorsHeader(
  read: (start: number, end: number) => Promise<Uint8Array>,
  name: string,
): Promise<SafetensorsHeader> {
  const head = await read(0, 7);
  if (head.length < 8) throw new Error(`${name} is not a safetensors file (${head.length} bytes).`);
  const n = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
  if (n > 100_000_000) {
    throw new Error(`${name} has a corrupt safetensors header (length ${n}). Re-download or re-save it.`);
  }
  let header: SafetensorsHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(await read(8, 7 + n)));
  } catch (e) {
    throw new Error(
      `${name} has a corrupt safetensors header (${(e as Error).message}). Re-download or re-save it.`,
    );
  }
  delete header.__metadata__;
  return header;
}
