// Writing ONNX: a graph assembled node by node (float32 initializers, int64 constants, typed
// attributes), serialised with @bufbuild/protobuf. exportOnnx and the tests build models with it.
import { create, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import {
  type AttributeProto,
  AttributeProto_AttributeType as AttrType,
  AttributeProtoSchema,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  type TensorProto,
  TensorProto_DataType as DataType,
  TensorProtoSchema,
  ValueInfoProtoSchema,
} from './generated/onnx/onnx_pb.js';

/** An attribute value: `{ int }`, `{ ints }`, `{ float }`, `{ string }`. */
export type AttributeValue = { int: number } | { ints: readonly number[] } | { float: number } | { string: string };

/** A declared graph input or output: a dimension given as a name (dim_param) is free. */
export interface GraphValue {
  name: string;
  shape?: readonly (number | string)[];
  /** Element type (float32 by default; ArgMax gives int64). */
  type?: 'float' | 'int64';
}

/** ONNX's IR version for opsets up to 17 (onnx 1.12), which ONNX Runtime 1.x reads. */
const IR_VERSION = 8n;

function attribute(name: string, v: AttributeValue): AttributeProto {
  const init: MessageInitShape<typeof AttributeProtoSchema> = { name };
  if ('int' in v) Object.assign(init, { type: AttrType.INT, i: BigInt(v.int) });
  else if ('ints' in v) Object.assign(init, { type: AttrType.INTS, ints: v.ints.map(BigInt) });
  else if ('float' in v) Object.assign(init, { type: AttrType.FLOAT, f: v.float });
  else Object.assign(init, { type: AttrType.STRING, s: new TextEncoder().encode(v.string) });
  return create(AttributeProtoSchema, init);
}

/** A float32 TensorProto (raw little-endian data). */
export function floatTensor(name: string, shape: readonly number[], data: Float32Array): TensorProto {
  const raw = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return create(TensorProtoSchema, { name, dims: shape.map(BigInt), dataType: DataType.FLOAT, rawData: raw });
}

function valueInfo(v: GraphValue) {
  const dim = (v.shape ?? []).map((d) => ({
    value: typeof d === 'number' ? { case: 'dimValue' as const, value: BigInt(d) } : { case: 'dimParam' as const, value: d },
  }));
  return create(ValueInfoProtoSchema, {
    name: v.name,
    type: {
      value: {
        case: 'tensorType',
        value: { elemType: v.type === 'int64' ? DataType.INT64 : DataType.FLOAT, shape: v.shape ? { dim } : undefined },
      },
    },
  });
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private count = 0;

  constructor(readonly opset: number) {}

  /** A float32 initializer (a weight); returns its name. */
  weight(name: string, shape: readonly number[], data: Float32Array): string {
    this.initializers.push(floatTensor(name, shape, data));
    return name;
  }

  /** An int64 initializer (shapes, axes, repeats); returns its name. */
  ints(values: readonly number[], name = this.fresh('ints')): string {
    this.initializers.push(
      create(TensorProtoSchema, { name, dims: [BigInt(values.length)], dataType: DataType.INT64, int64Data: values.map(BigInt) }),
    );
    return name;
  }

  /** Adds a node with one output; returns the output's name. */
  node(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, output = this.fresh(opType)): string {
    this.nodes.push(
      create(NodeProtoSchema, {
        name: `${opType}_${this.nodes.length}`,
        opType,
        input: [...inputs],
        output: [output],
        attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
      }),
    );
    return output;
  }

  /** The model's bytes (.onnx). */
  toBytes(inputs: readonly GraphValue[], outputs: readonly GraphValue[], producer = 'voxgpu'): Uint8Array {
    const model = create(ModelProtoSchema, {
      irVersion: IR_VERSION,
      producerName: producer,
      opsetImport: [{ domain: '', version: BigInt(this.opset) }],
      graph: {
        name: 'main',
        node: this.nodes,
        initializer: this.initializers,
        input: inputs.map(valueInfo),
        output: outputs.map(valueInfo),
      },
    });
    return toBinary(ModelProtoSchema, model);
  }

  private fresh(prefix: string): string {
    return `${prefix}_${this.count++}`;
  }
}
