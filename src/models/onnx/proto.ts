// Reading ONNX protobuf messages (decoded by @bufbuild/protobuf from code generated off onnx.proto):
// tensor payloads as host arrays, node attributes by name, and the errors that name a node.
import {
  type AttributeProto,
  AttributeProto_AttributeType as AttrType,
  type NodeProto,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProto_DataType as DataType,
} from './generated/onnx/onnx_pb.js';

/** A tensor on the host: float (float32 data) or integer/boolean (exact in a double up to 2^53). */
export interface HostArray {
  shape: number[];
  data: Float32Array | Float64Array;
  integer: boolean;
}

/** Reads an external-data file (location as the model names it, relative to the model file). */
export type ExternalDataReader = (location: string, offset: number, length: number | null) => Uint8Array;

const INTEGER_TYPES = new Set([
  DataType.INT8,
  DataType.UINT8,
  DataType.INT16,
  DataType.UINT16,
  DataType.INT32,
  DataType.INT64,
  DataType.UINT32,
  DataType.UINT64,
  DataType.BOOL,
]);

/** Error for an unsupported or malformed node: names the node, its op type and the opset. */
export function nodeError(node: NodeProto, opset: number, message: string): Error {
  return new Error(`ONNX node '${node.name || node.output[0]}' (${node.opType}, opset ${opset}): ${message}`);
}

function rawBytes(t: TensorProto, external: ExternalDataReader | undefined): Uint8Array | null {
  if (t.dataLocation !== TensorProto_DataLocation.EXTERNAL) return t.rawData.length > 0 ? t.rawData : null;
  const info = new Map(t.externalData.map((e) => [e.key, e.value]));
  const location = info.get('location');
  if (!location) throw new Error(`ONNX tensor '${t.name}': external data without a location`);
  if (!external)
    throw new Error(
      `ONNX tensor '${t.name}': its data is in the external file '${location}'; read the model with loadOnnx(path) from ` +
        `'voxgpu/node', or pass { externalData } to importOnnx`,
    );
  const length = info.has('length') ? Number(info.get('length')) : null;
  return external(location, Number(info.get('offset') ?? 0), length);
}

/** The values of a TensorProto (raw_data, typed fields or external data), as float32 or exact integers. */
export function tensorValues(t: TensorProto, external?: ExternalDataReader): HostArray {
  const shape = t.dims.map(Number);
  const count = shape.reduce((a, d) => a * d, 1);
  const integer = INTEGER_TYPES.has(t.dataType);
  const raw = rawBytes(t, external);
  const out = integer ? new Float64Array(count) : new Float32Array(count);
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const read = rawReader(t, view);
    for (let i = 0; i < count; i++) out[i] = read(i);
  } else {
    const typed: ArrayLike<number | bigint> = t.floatData.length
      ? t.floatData
      : t.doubleData.length
        ? t.doubleData
        : t.int64Data.length
          ? t.int64Data
          : t.uint64Data.length
            ? t.uint64Data
            : t.int32Data;
    if (typed.length !== count) throw new Error(`ONNX tensor '${t.name}': ${typed.length} values for shape [${shape.join(', ')}]`);
    for (let i = 0; i < count; i++) out[i] = Number(typed[i]);
  }
  return { shape, data: out, integer };
}

function rawReader(t: TensorProto, v: DataView): (i: number) => number {
  switch (t.dataType) {
    case DataType.FLOAT:
      return (i) => v.getFloat32(4 * i, true);
    case DataType.DOUBLE:
      return (i) => v.getFloat64(8 * i, true);
    case DataType.INT64:
      return (i) => Number(v.getBigInt64(8 * i, true));
    case DataType.UINT64:
      return (i) => Number(v.getBigUint64(8 * i, true));
    case DataType.INT32:
      return (i) => v.getInt32(4 * i, true);
    case DataType.UINT32:
      return (i) => v.getUint32(4 * i, true);
    case DataType.INT16:
      return (i) => v.getInt16(2 * i, true);
    case DataType.UINT16:
      return (i) => v.getUint16(2 * i, true);
    case DataType.INT8:
      return (i) => v.getInt8(i);
    case DataType.UINT8:
    case DataType.BOOL:
      return (i) => v.getUint8(i);
    default:
      throw new Error(
        `ONNX tensor '${t.name}': data type ${DataType[t.dataType] ?? t.dataType} is not supported (float, double and integer types are)`,
      );
  }
}

/** A node's attributes by name, read with defaults; reading an absent one without a default is an error. */
export class Attributes {
  private readonly byName: Map<string, AttributeProto>;
  constructor(
    private readonly node: NodeProto,
    private readonly opset: number,
  ) {
    this.byName = new Map(node.attribute.map((a) => [a.name, a]));
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  int(name: string, fallback?: number): number {
    const a = this.get(name, AttrType.INT, fallback);
    return a ? Number(a.i) : fallback!;
  }
  float(name: string, fallback?: number): number {
    const a = this.get(name, AttrType.FLOAT, fallback);
    return a ? a.f : fallback!;
  }
  string(name: string, fallback?: string): string {
    const a = this.get(name, AttrType.STRING, fallback);
    return a ? new TextDecoder().decode(a.s) : fallback!;
  }
  ints(name: string, fallback?: number[]): number[] {
    const a = this.get(name, AttrType.INTS, fallback);
    return a ? a.ints.map(Number) : fallback!;
  }
  tensor(name: string): TensorProto {
    return this.get(name, AttrType.TENSOR, undefined)!.t!;
  }
  private get(name: string, type: AttrType, fallback: unknown): AttributeProto | undefined {
    const a = this.byName.get(name);
    if (!a) {
      if (fallback === undefined) throw nodeError(this.node, this.opset, `attribute '${name}' is required`);
      return undefined;
    }
    if (a.type !== type) throw nodeError(this.node, this.opset, `attribute '${name}' must be ${AttrType[type]}, got ${AttrType[a.type]}`);
    return a;
  }
}
