/**
 * A one-node ONNX model (Gemm with transA/transB, symbolic sizes), encoded by hand: the protobuf
 * is ~100 bytes, so no `onnx` package or model file is needed.
 *
 * @module
 */

function _varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function _field(num: number, value: number | string | number[]): number[] {
  if (typeof value === "number") return [..._varint(num << 3), ..._varint(value)];
  const bytes = typeof value === "string" ? [...new TextEncoder().encode(value)] : value;
  return [..._varint((num << 3) | 2), ..._varint(bytes.length), ...bytes];
}

function _valueInfo(name: string, dims: string[]): number[] {
  const shape = dims.flatMap((d) => _field(1, _field(2, d))); // Dimension.dim_param
  const tensorType = [..._field(1, 1), ..._field(2, shape)]; // elem_type FLOAT, shape
  return [..._field(1, name), ..._field(2, _field(1, tensorType))];
}

/**
 * The model bytes for `Y = op(A)·op(B)`, where op transposes when asked.
 *
 * @param transA Transpose A.
 * @param transB Transpose B.
 * @returns An ONNX ModelProto (IR 8, opset 17).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gemmModel } from "./_onnx_gemm.ts";
 * const text = new TextDecoder().decode(gemmModel(false, true));
 * assert.ok(text.includes("Gemm") && text.includes("transB"));
 * ```
 */
export function gemmModel(transA: boolean, transB: boolean): Uint8Array {
  const attr = (name: string, v: number) =>
    _field(5, [..._field(1, name), ..._field(3, v), ..._field(20, 2)]);
  const node = [
    ..._field(1, "A"),
    ..._field(1, "B"),
    ..._field(2, "Y"),
    ..._field(4, "Gemm"),
    ...attr("transA", transA ? 1 : 0),
    ...attr("transB", transB ? 1 : 0),
  ];
  const graph = [
    ..._field(1, node),
    ..._field(2, "gemm"),
    ..._field(11, _valueInfo("A", transA ? ["K", "M"] : ["M", "K"])),
    ..._field(11, _valueInfo("B", transB ? ["N", "K"] : ["K", "N"])),
    ..._field(12, _valueInfo("Y", ["M", "N"])),
  ];
  const model = [..._field(1, 8), ..._field(7, graph), ..._field(8, [..._field(1, ""), ..._field(2, 17)])];
  return new Uint8Array(model);
}
