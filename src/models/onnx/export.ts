// exportOnnx: voxgpu's V-Net, or an imported (possibly fine-tuned) graph, as an ONNX model that ONNX
// Runtime, 3D Slicer or MONAI Deploy run. Weights keep their state-dict names.
import { clone, toBinary } from '@bufbuild/protobuf';
import type { Module } from '../../nn/module.js';
import { VNet } from '../../nn/vnet.js';
import { floatTensor, GraphBuilder } from './builder.js';
import { ModelProtoSchema } from './generated/onnx/onnx_pb.js';
import { OnnxModule } from './graph-module.js';

/** The opset exportOnnx writes (PyTorch 1.13's newest; ONNX Runtime 1.13+ runs it). */
export const EXPORT_OPSET = 17;

/**
 * The module as ONNX bytes: a VNet (input [N, inChannels, D, H, W] with the batch size free and the
 * spatial sizes of `inputShape`, where a name instead of a number leaves that size free too; output
 * the softmax probabilities) or an OnnxModule (its own graph, with the current weights and running
 * statistics).
 */
export async function exportOnnx(module: Module, inputShape: readonly (number | string)[]): Promise<Uint8Array> {
  if (module instanceof OnnxModule) return exportImported(module);
  if (module instanceof VNet) return exportVNet(module, inputShape);
  throw new Error(`exportOnnx: ${module.constructor.name} cannot be exported (VNet and imported ONNX graphs can)`);
}

async function exportImported(module: OnnxModule): Promise<Uint8Array> {
  const state = module.stateDict();
  const model = clone(ModelProtoSchema, module.model);
  const graph = model.graph!;
  graph.initializer = await Promise.all(
    graph.initializer.map(async (init) => {
      const t = state.get(init.name);
      return t ? floatTensor(init.name, init.dims.map(Number), await t.toArray()) : init;
    }),
  );
  return toBinary(ModelProtoSchema, model);
}

async function exportVNet(model: VNet, inputShape: readonly (number | string)[]): Promise<Uint8Array> {
  const c = model.config;
  if (inputShape.length !== 5 || inputShape[1] !== c.inChannels) {
    throw new Error(`exportOnnx: VNet input shape must be [N, ${c.inChannels}, D, H, W], got [${inputShape.join(', ')}]`);
  }
  const state = model.stateDict();
  const b = new GraphBuilder(EXPORT_OPSET);
  const data = new Map(await Promise.all([...state].map(async ([name, t]) => [name, await t.toArray()] as const)));
  const weight = (name: string) => b.weight(name, state.get(name)!.shape, data.get(name)!);
  // voxgpu's PReLU slope is [C]; ONNX broadcasts PRelu's slope from the right, so [C, 1, 1, 1].
  const prelu = (x: string, layer: string) => {
    const name = `${layer}.weight`;
    return b.node('PRelu', [x, b.weight(name, [state.get(name)!.size, 1, 1, 1], data.get(name)!)]);
  };
  const pad = (c.kernelSize - 1) / 2;
  const conv = (x: string, prefix: string, attrs = { pads: { ints: [pad, pad, pad, pad, pad, pad] } }) =>
    b.node('Conv', [x, weight(`${prefix}.weight`), weight(`${prefix}.bias`)], attrs);
  const stage = (x: string, residual: string, prefix: string, n: number) => {
    let h = x;
    for (let i = 0; i < n; i++) {
      h = conv(h, `${prefix}.conv${i}`);
      if (i < n - 1) h = prelu(h, `${prefix}.prelu${i}`);
    }
    return prelu(b.node('Add', [h, residual]), `${prefix}.prelu`);
  };
  const resample = (x: string, prefix: string, op: 'Conv' | 'ConvTranspose') =>
    prelu(
      b.node(op, [x, weight(`${prefix}.conv.weight`), weight(`${prefix}.conv.bias`)], { strides: { ints: [2, 2, 2] } }),
      `${prefix}.prelu`,
    );

  const levels = c.encoderConvs.length;
  const skips: string[] = [];
  let h = 'input';
  c.encoderConvs.forEach((n, level) => {
    h = stage(h, level === 0 ? replicated(b, 'input', c.inChannels, c.baseChannels) : h, `enc${level + 1}`, n);
    if (level < levels - 1) {
      skips.push(h);
      h = resample(h, `down${level + 1}`, 'Conv');
    }
  });
  c.decoderConvs.forEach((n, i) => {
    const level = levels - 2 - i;
    const joined = b.node('Concat', [resample(h, `up${level + 1}`, 'ConvTranspose'), skips.pop()!], { axis: { int: 1 } });
    h = stage(joined, joined, `dec${level + 1}`, n);
  });
  if (c.head === 'conv5') h = prelu(conv(h, 'head'), 'headPrelu');
  const logits = conv(h, 'classifier', { pads: { ints: [0, 0, 0, 0, 0, 0] } });
  b.node('Softmax', [logits], { axis: { int: 1 } }, 'output');
  return b.toBytes(
    [{ name: 'input', shape: ['N', ...inputShape.slice(1)] }],
    [{ name: 'output', shape: ['N', c.numClasses, ...inputShape.slice(2)] }],
  );
}

/** Stage 1's residual: the input copied to the stage's width (VNet's replicate()). */
function replicated(b: GraphBuilder, x: string, inChannels: number, channels: number): string {
  if (inChannels === channels) return x;
  if (inChannels === 1) return b.node('Expand', [x, b.ints([1, channels, 1, 1, 1])]);
  return b.node('Concat', new Array<string>(channels / inChannels).fill(x), { axis: { int: 1 } });
}
