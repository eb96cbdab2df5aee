// An imported ONNX graph as a voxgpu Module: float initializers are trainable parameters (named as
// in the file), BatchNormalization's running statistics are buffers, integer and rank-0 initializers,
// settings (Dropout's ratio, Resize's scales) and Constant nodes are host constants folded before the GPU sees them; forward() runs the
// nodes in
// order with voxgpu's ops, so autograd, fit() and segment() work on it as on any Module.
import { Module } from '../../nn/module.js';
import { formatShape, type Tensor, tensor } from '../../core/tensor.js';
import type { GraphProto, ModelProto, NodeProto, ValueInfoProto } from './generated/onnx/onnx_pb.js';
import { isHost, NodeContext, type Value } from './node-context.js';
import { onnxOps } from './ops.js';
import { type ExternalDataReader, type HostArray, nodeError, tensorValues } from './proto.js';

/** The opsets of the default ONNX domain that the importer knows the semantics of. */
export const SUPPORTED_OPSETS = [11, 18] as const;

/** Which initializers a node reads as statistics (buffers) rather than as weights. */
const BUFFER_INPUTS: Record<string, number[]> = { BatchNormalization: [3, 4] };

/** Inputs read on the host as settings, never trained (float initializers there are constants). */
const SETTING_INPUTS: Record<string, number[]> = { Dropout: [1, 2], Resize: [1, 2, 3] };

function namesAt(nodes: NodeProto[], positions: Record<string, number[]>): Set<string> {
  return new Set(nodes.flatMap((n) => (positions[n.opType] ?? []).map((i) => n.input[i]).filter((s): s is string => !!s)));
}

/** Declared input: its name and shape, a dimension null where the file leaves it free (a dim_param such as the batch). */
export interface OnnxInput {
  name: string;
  shape: (number | null)[];
}

function declaredShape(v: ValueInfoProto): (number | null)[] {
  const t = v.type?.value.case === 'tensorType' ? v.type.value.value : undefined;
  return (t?.shape?.dim ?? []).map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : null));
}

export class OnnxModule extends Module {
  readonly opset: number;
  readonly inputs: OnnxInput[];
  readonly outputNames: string[];
  /** Declared output shapes (null where free or not declared). */
  readonly outputShapes: (number | null)[][];
  private readonly nodes: NodeProto[];
  private readonly constants = new Map<string, HostArray>();
  private readonly weights = new Map<string, Tensor>();

  /** Use importOnnx(bytes) or loadOnnx(path). */
  constructor(
    readonly model: ModelProto,
    external?: ExternalDataReader,
  ) {
    super();
    const graph = model.graph;
    if (!graph) throw new Error('importOnnx: the model has no graph');
    this.opset = defaultOpset(model);
    this.nodes = graph.node;
    this.checkNodes(graph);
    const bufferNames = namesAt(this.nodes, BUFFER_INPUTS);
    const settingNames = namesAt(this.nodes, SETTING_INPUTS);
    for (const init of graph.initializer) {
      const values = tensorValues(init, external);
      // Rank-0 floats are the constants of exported arithmetic (GELU's √2, a scale), not weights.
      if (values.integer || values.shape.length === 0 || settingNames.has(init.name)) {
        this.constants.set(init.name, values);
        continue;
      }
      const t = tensor(values.data, values.shape);
      this.weights.set(init.name, bufferNames.has(init.name) ? this.addBuffer(init.name, t) : this.addParameter(init.name, t));
      // The GPU copy is the weight from now on (exportOnnx writes it back): drop the host bytes.
      init.rawData = new Uint8Array();
      init.floatData = [];
    }
    const initialized = new Set(graph.initializer.map((t) => t.name));
    this.inputs = graph.input.filter((v) => !initialized.has(v.name)).map((v) => ({ name: v.name, shape: declaredShape(v) }));
    this.outputNames = graph.output.map((v) => v.name);
    this.outputShapes = graph.output.map(declaredShape);
    // The file is an inference graph: BatchNorm on running statistics, Dropout off. train() to fine-tune.
    this.eval();
  }

  /** The first output for the graph's inputs (NCDHW volumes for the networks voxgpu runs). */
  forward(...inputs: Tensor[]): Tensor {
    return this.run(...inputs)[0]!;
  }

  /**
   * Class scores for the losses (trainStep, fit): the first output, or, when the graph ends in a
   * Softmax over the channels, that Softmax's input (the losses apply their own). Call train()
   * first to fine-tune with batch statistics and dropout, as in PyTorch.
   */
  logits(x: Tensor): Tensor {
    const last = this.nodes.findLast((n) => n.output.includes(this.outputNames[0]!));
    // Before opset 13 a Softmax on axis 1 spans the flattened C, D, H, W: not the channel softmax.
    const endsInSoftmax =
      last?.opType === 'Softmax' && this.opset >= 13 && new NodeContext(last, this.opset, [], false).attrs.int('axis', -1) === 1;
    return endsInSoftmax ? this.evaluate([x], [last.input[0]!])[0]! : this.forward(x);
  }

  /** Every graph output, in the file's order. */
  run(...inputs: Tensor[]): Tensor[] {
    return this.evaluate(inputs, this.outputNames);
  }

  private evaluate(inputs: Tensor[], wanted: readonly string[]): Tensor[] {
    const values = new Map<string, Value>([...this.constants, ...this.weights]);
    this.bindInputs(inputs, values);
    for (const node of this.nodes) {
      const args = node.input.map((name) => {
        if (!name) return undefined;
        const v = values.get(name);
        if (!v) throw nodeError(node, this.opset, `input '${name}' is produced by no earlier node`);
        return v;
      });
      const out = onnxOps[node.opType]!.run(new NodeContext(node, this.opset, args, this.training));
      const outs = Array.isArray(out) ? out : [out];
      node.output.forEach((name, i) => {
        if (name && outs[i]) values.set(name, outs[i]!);
      });
    }
    return wanted.map((name) => {
      const v = values.get(name)!;
      return isHost(v) ? tensor(v.data, v.shape) : v;
    });
  }

  private bindInputs(inputs: Tensor[], values: Map<string, Value>): void {
    if (inputs.length !== this.inputs.length) {
      throw new Error(
        `OnnxModule: the graph takes ${this.inputs.length} input(s) (${this.inputs.map((i) => i.name).join(', ')}), got ${inputs.length}`,
      );
    }
    this.inputs.forEach((decl, i) => {
      const x = inputs[i]!;
      const fits = x.rank === decl.shape.length && decl.shape.every((d, k) => d === null || d === x.shape[k]);
      if (!fits) {
        const expected = `[${decl.shape.map((d) => d ?? '?').join(', ')}]`;
        throw new Error(`OnnxModule: input '${decl.name}' must have shape ${expected} (? is free), got ${formatShape(x.shape)}`);
      }
      values.set(decl.name, x);
    });
  }

  private checkNodes(graph: GraphProto): void {
    for (const node of graph.node) {
      if (node.domain && node.domain !== 'ai.onnx')
        throw nodeError(node, this.opset, `domain '${node.domain}' is not supported (only the default ONNX domain)`);
      if (!onnxOps[node.opType])
        throw nodeError(
          node,
          this.opset,
          `op type '${node.opType}' is not supported (supported: ${Object.keys(onnxOps).sort().join(', ')})`,
        );
      const unknown = node.attribute.find((a) => !onnxOps[node.opType]!.attributes.includes(a.name));
      if (unknown) throw nodeError(node, this.opset, `attribute '${unknown.name}' is not supported`);
    }
  }
}

function defaultOpset(model: ModelProto): number {
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const opset = entry ? Number(entry.version) : 0;
  const [low, high] = SUPPORTED_OPSETS;
  if (opset < low || opset > high)
    throw new Error(`importOnnx: opset ${opset} of the default ONNX domain is not supported (${low}–${high})`);
  return opset;
}
