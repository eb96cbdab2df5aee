// What an ONNX op implementation sees of one node: its inputs (GPU tensors or host constants),
// attributes, the opset, the module's mode, and errors that name the node.
import { keep } from '../../core/memory.js';
import { formatShape, type Tensor, tensor } from '../../core/tensor.js';
import type { NodeProto } from './generated/onnx/onnx_pb.js';
import { Attributes, type HostArray, nodeError } from './proto.js';

/** A graph value: a GPU tensor, or a constant known on the host (folded without the GPU). */
export type Value = Tensor | HostArray;

export function isHost(v: Value): v is HostArray {
  return 'data' in v && 'integer' in v;
}

/** Host constants that ops read as tensors are uploaded once per model and kept. */
const uploaded = new WeakMap<HostArray, Tensor>();

export class NodeContext {
  readonly attrs: Attributes;
  constructor(
    readonly node: NodeProto,
    readonly opset: number,
    readonly inputs: readonly (Value | undefined)[],
    readonly training: boolean,
  ) {
    this.attrs = new Attributes(node, opset);
  }

  fail(message: string): Error {
    return nodeError(this.node, this.opset, message);
  }

  has(i: number): boolean {
    return this.inputs[i] !== undefined;
  }

  value(i: number): Value {
    const v = this.inputs[i];
    if (!v) throw this.fail(`input ${i} is required`);
    return v;
  }

  /** Input i on the GPU (a host constant is uploaded; it is not trainable). */
  tensor(i: number): Tensor {
    const v = this.value(i);
    if (!isHost(v)) return v;
    let t = uploaded.get(v);
    if (!t) {
      t = keep(tensor(v.data, v.shape));
      uploaded.set(v, t);
    }
    return t;
  }

  optionalTensor(i: number): Tensor | null {
    return this.has(i) ? this.tensor(i) : null;
  }

  /** Input i as a host constant: shapes, axes, repeats. A value computed on the GPU is a dynamic shape. */
  host(i: number, what: string): HostArray {
    const v = this.value(i);
    if (!isHost(v))
      throw this.fail(
        `its ${what} (input ${i}, '${this.node.input[i]}') is computed at run time; dynamic shapes are not supported (export ` +
          `with constant shapes)`,
      );
    return v;
  }

  ints(i: number, what: string): number[] {
    return Array.from(this.host(i, what).data);
  }

  /** The axis attribute (or value) normalised into [0, rank). */
  axis(axis: number, rank: number): number {
    if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw this.fail(`axis ${axis} is out of range for rank ${rank}`);
    return axis < 0 ? axis + rank : axis;
  }

  /** Checks that input i is a volume batch [N, C, D, H, W] (the 3D networks voxgpu runs). */
  volume(i: number): Tensor {
    const x = this.tensor(i);
    if (x.rank !== 5) throw this.fail(`only 3D data is supported: input ${i} must be [N, C, D, H, W], got ${formatShape(x.shape)}`);
    return x;
  }
}

export type OpImpl = (c: NodeContext) => Value | Value[];

/** An op type: the attributes it reads (the importer refuses any other, before running anything) and how it runs a node. */
export interface OnnxOp {
  attributes: readonly string[];
  run: OpImpl;
}

export function onnxOp(attributes: readonly string[], run: OpImpl): OnnxOp {
  return { attributes, run };
}
