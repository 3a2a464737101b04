/**
 * Reading a GGUF file's header in TypeScript: its metadata (architecture, hyper-parameters, tokenizer, chat
 * template — typed key/value pairs) and its tensor table (name, shape, ggml type, where the data is), without
 * reading the tensor data itself.
 *
 * The layout (GGUF v3, little-endian, as llama.cpp's `gguf-py` writes it):
 * `"GGUF"` · u32 version · u64 tensor count · u64 metadata count · the metadata (string key, u32 value type,
 * value) · the tensor infos (string name, u32 dimension count, u64 × dims, u32 ggml type, u64 offset) ·
 * padding to `general.alignment` (default 32) · the tensor data, each tensor at its offset from there.
 * A string is a u64 byte length + UTF-8 bytes; an array is a u32 element type + u64 length + elements.
 *
 * @module
 */
import { type GgmlType, ggmlType, tensorBytes } from "./ggml_types.ts";

/** One tensor of a GGUF file. */
export interface GgufTensor {
  /** Its name in llama.cpp's naming (`token_embd.weight`, `blk.0.attn_q.weight`, …). */
  name: string;
  /** Dimensions in ggml order: `shape[0]` is the row length (a PyTorch `[out, in]` weight is `[in, out]`). */
  shape: number[];
  /** The ggml type's name (`"F32"`, `"Q8_0"`, …; see {@linkcode GGML_TYPES}). */
  type: string;
  /** Where its data starts, in bytes from the start of the data section (`dataOffset`). */
  offset: number;
  /** How many bytes its data takes ({@linkcode tensorBytes}; without the alignment padding after it). */
  bytes: number;
}

/** What {@linkcode readGgufInfo} read. */
export interface GgufInfo {
  /** The file read. */
  path: string;
  /** GGUF format version (3 for llama.cpp's current writers). */
  version: number;
  /** Every metadata key with its value: numbers (a 64-bit integer beyond 2^53 as a bigint), booleans,
   * strings, and arrays of those. */
  metadata: Record<string, unknown>;
  /** The tensor table, in file order. */
  tensors: GgufTensor[];
  /** Byte position of the data section in the file. */
  dataOffset: number;
  /** Alignment of the data section and of every tensor in it (`general.alignment`, default 32). */
  alignment: number;
  /** The file's size in bytes. */
  fileBytes: number;
}

const _MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const _CHUNK = 1 << 20;
const _decoder = new TextDecoder();

/** Reads the header of an open file sequentially, a chunk at a time. */
class _HeaderReader {
  #file: Deno.FsFile;
  #buf = new Uint8Array(0);
  #view = new DataView(this.#buf.buffer);
  #bufStart = 0;
  pos = 0;

  constructor(file: Deno.FsFile, readonly fileBytes: number, readonly fail: (what: string) => Error) {
    this.#file = file;
  }

  /** Makes bytes [pos, pos + n) readable; throws when the file ends before. */
  #need(n: number, what: string): number {
    if (this.pos + n > this.fileBytes) {
      throw this.fail(
        `it ends inside ${what} (byte ${this.pos} + ${n} > ${this.fileBytes} bytes): it is truncated`,
      );
    }
    if (this.pos < this.#bufStart || this.pos + n > this.#bufStart + this.#buf.length) {
      const size = Math.min(Math.max(n, _CHUNK), this.fileBytes - this.pos);
      const buf = new Uint8Array(size);
      this.#file.seekSync(this.pos, Deno.SeekMode.Start);
      let got = 0;
      while (got < size) {
        const r = this.#file.readSync(buf.subarray(got));
        if (r === null) throw this.fail(`it ends inside ${what}: it is truncated`);
        got += r;
      }
      this.#buf = buf;
      this.#view = new DataView(buf.buffer);
      this.#bufStart = this.pos;
    }
    const at = this.pos - this.#bufStart;
    this.pos += n;
    return at;
  }

  u8(what: string): number {
    const at = this.#need(1, what);
    return this.#view.getUint8(at);
  }
  i8(what: string): number {
    const at = this.#need(1, what);
    return this.#view.getInt8(at);
  }
  u16(what: string): number {
    const at = this.#need(2, what);
    return this.#view.getUint16(at, true);
  }
  i16(what: string): number {
    const at = this.#need(2, what);
    return this.#view.getInt16(at, true);
  }
  u32(what: string): number {
    const at = this.#need(4, what);
    return this.#view.getUint32(at, true);
  }
  i32(what: string): number {
    const at = this.#need(4, what);
    return this.#view.getInt32(at, true);
  }
  f32(what: string): number {
    const at = this.#need(4, what);
    return this.#view.getFloat32(at, true);
  }
  f64(what: string): number {
    const at = this.#need(8, what);
    return this.#view.getFloat64(at, true);
  }
  u64(what: string): number | bigint {
    const at = this.#need(8, what);
    const v = this.#view.getBigUint64(at, true);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  i64(what: string): number | bigint {
    const at = this.#need(8, what);
    const v = this.#view.getBigInt64(at, true);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  }
  /** A u64 that must be a size or count that fits in the file. */
  size(what: string, unit = 1): number {
    const v = this.u64(what);
    if (typeof v === "bigint" || v * unit > this.fileBytes) {
      throw this.fail(
        `${what} is ${v}, more than the file's ${this.fileBytes} bytes can hold: it is corrupt`,
      );
    }
    return v;
  }
  string(what: string): string {
    const n = this.size(`the length of ${what}`);
    const at = this.#need(n, what);
    return _decoder.decode(this.#buf.subarray(at, at + n));
  }
}

function _readValue(r: _HeaderReader, type: number, what: string): unknown {
  switch (type) {
    case 0:
      return r.u8(what);
    case 1:
      return r.i8(what);
    case 2:
      return r.u16(what);
    case 3:
      return r.i16(what);
    case 4:
      return r.u32(what);
    case 5:
      return r.i32(what);
    case 6:
      return r.f32(what);
    case 7:
      return r.u8(what) !== 0;
    case 8:
      return r.string(what);
    case 9: {
      const itemType = r.u32(`the element type of ${what}`);
      if (itemType === 9) {
        throw r.fail(`${what} is an array of arrays, which GGUF does not allow: it is corrupt`);
      }
      const n = r.size(`the length of ${what}`);
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = _readValue(r, itemType, what);
      return out;
    }
    case 10:
      return r.u64(what);
    case 11:
      return r.i64(what);
    case 12:
      return r.f64(what);
    default:
      throw r.fail(`${what} has value type ${type}, not one of GGUF's 0…12: it is corrupt`);
  }
}

/**
 * Reads a GGUF file's header: version, metadata, tensor table, and where the data starts. Checks that the
 * file is complete (every tensor's data lies inside it), so a truncated download or an interrupted
 * conversion is caught here with a clear message rather than deep inside llama.cpp.
 *
 * @param path A `.gguf` file.
 * @returns The header.
 * @throws {Error} One line naming the file when it is missing, not a GGUF (bad magic), of an unsupported
 * version or byte order, truncated, or inconsistent — and saying to convert or download it again.
 *
 * @example The tensor table of a converted model
 * ```ts ignore
 * import { readGgufInfo } from "./gguf_file.ts";
 * const info = readGgufInfo("out/ince-tiny-f16.gguf");
 * console.log(info.metadata["general.architecture"], info.tensors.length); // "llama" 47
 * ```
 *
 * @example A file that is not a GGUF
 * ```ts
 * import assert from "node:assert/strict";
 * import { readGgufInfo } from "./gguf_file.ts";
 * assert.throws(() => readGgufInfo("deno.json"), /deno\.json: not a GGUF file/);
 * ```
 */
export function readGgufInfo(path: string): GgufInfo {
  const fail = (what: string) =>
    new Error(
      `${path}: ${what}; convert the model again (convertToGguf / quantizeGguf) or download the file again.`,
    );
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        `${path}: no such file; convert a model to GGUF first (convertToGguf) or check the path.`,
      );
    }
    throw new Error(`${path}: cannot open (${(e as Error).message}).`);
  }
  try {
    const fileBytes = file.statSync().size;
    const r = new _HeaderReader(file, fileBytes, fail);
    if (fileBytes < 4 || r.u32("the magic number") !== _MAGIC) {
      throw new Error(
        `${path}: not a GGUF file (it does not start with "GGUF"); give a .gguf file made by llama.cpp.`,
      );
    }
    const version = r.u32("the version");
    if (version !== 2 && version !== 3) {
      const why = (version & 0xffff) === 0
        ? "a big-endian GGUF, which this reader does not read"
        : "not 2 or 3";
      throw fail(`GGUF version ${version} is ${why}`);
    }
    const tensorCount = r.size("the tensor count", 8);
    const kvCount = r.size("the metadata count", 8);
    const metadata: Record<string, unknown> = {};
    for (let i = 0; i < kvCount; i++) {
      const key = r.string(`metadata key ${i}`);
      metadata[key] = _readValue(r, r.u32(`the type of ${key}`), `metadata ${key}`);
    }
    const alignment = metadata["general.alignment"] ?? 32;
    if (typeof alignment !== "number" || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
      throw fail(`general.alignment is ${alignment}, not a power of two`);
    }
    const tensors: GgufTensor[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const name = r.string(`tensor name ${i}`);
      const dims = r.u32(`the dimension count of ${name}`);
      if (dims > 8) throw fail(`tensor ${name} has ${dims} dimensions (ggml allows 4)`);
      const shape: number[] = [];
      for (let d = 0; d < dims; d++) shape.push(r.size(`dimension ${d} of ${name}`));
      const typeId = r.u32(`the type of ${name}`);
      let type: GgmlType;
      try {
        type = ggmlType(typeId);
      } catch {
        throw fail(`tensor ${name} has ggml type ${typeId}, which llama.cpp v0.4.0 does not define`);
      }
      const offset = r.u64(`the data offset of ${name}`);
      if (typeof offset === "bigint") throw fail(`tensor ${name} has data offset ${offset}: it is corrupt`);
      let bytes: number;
      try {
        bytes = tensorBytes(shape, type);
      } catch (e) {
        throw fail(
          `tensor ${name} [${shape.join(", ")}]: ${(e as Error).message.replace(/^tensorBytes: /, "")}`,
        );
      }
      tensors.push({ name, shape, type: type.name, offset, bytes });
    }
    const dataOffset = Math.ceil(r.pos / alignment) * alignment;
    for (const t of tensors) {
      if (t.offset % alignment !== 0) {
        throw fail(`tensor ${t.name} starts at offset ${t.offset}, not aligned to ${alignment}`);
      }
      const end = dataOffset + t.offset + t.bytes;
      if (end > fileBytes) {
        throw fail(
          `tensor ${t.name}'s data ends at byte ${end}, past the end of the file (${fileBytes} bytes): it is truncated`,
        );
      }
    }
    return { path, version, metadata, tensors, dataOffset, alignment, fileBytes };
  } finally {
    file.close();
  }
}

/** What a GGUF file's tensor table adds up to, from {@linkcode ggufTensorSummary}. */
export interface GgufTensorSummary {
  /** Numbers stored (the product of every tensor's shape). */
  params: number;
  /** Bytes of tensor data (without alignment padding). */
  dataBytes: number;
  /** 8 × dataBytes / params. */
  bitsPerWeight: number;
  /** How many tensors have each ggml type, e.g. `{ F32: 11, Q5_0: 31, Q8_0: 5 }`. */
  tensorTypes: Record<string, number>;
}

/**
 * Sums a GGUF file's tensor table: parameters, data bytes, bits per weight, tensors per type.
 *
 * @param info From {@linkcode readGgufInfo}.
 * @returns The summary.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ggufTensorSummary } from "./gguf_file.ts";
 * const s = ggufTensorSummary({ tensors: [
 *   { name: "a", shape: [32, 2], type: "Q8_0", offset: 0, bytes: 68 },
 *   { name: "n", shape: [32], type: "F32", offset: 96, bytes: 128 },
 * ] });
 * assert.deepEqual(s, { params: 96, dataBytes: 196, bitsPerWeight: 8 * 196 / 96, tensorTypes: { Q8_0: 1, F32: 1 } });
 * ```
 */
export function ggufTensorSummary(info: Pick<GgufInfo, "tensors">): GgufTensorSummary {
  let params = 0, dataBytes = 0;
  const tensorTypes: Record<string, number> = {};
  for (const t of info.tensors) {
    params += t.shape.reduce((a, b) => a * b, 1);
    dataBytes += t.bytes;
    tensorTypes[t.type] = (tensorTypes[t.type] ?? 0) + 1;
  }
  return { params, dataBytes, bitsPerWeight: params ? (8 * dataBytes) / params : 0, tensorTypes };
}
