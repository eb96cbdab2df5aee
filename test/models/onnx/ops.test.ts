// Every op the importer supports, as one-node (or few-node) models built here, run by voxgpu and by
// ONNX Runtime on random inputs: outputs within 1e-4 relative to the largest value.
import { beforeAll, describe, expect, it } from 'vitest';
import { importOnnx, noGrad, tensor, tidy } from '../../../src/index.js';
import { GraphBuilder } from '../../../src/models/onnx/builder.js';
import { gpu, maxRelError } from '../../helpers.js';
import { randomInput, randomWeight, runOrt } from './helpers.js';

beforeAll(gpu);

const X = [2, 4, 5, 6, 7];

interface Case {
  name: string;
  opset?: number;
  /** Input shapes by name (default: x of shape X). */
  inputs?: Record<string, number[]>;
  outputType?: 'int64';
  build: (b: GraphBuilder, w: (shape: number[], lo?: number, hi?: number) => string) => string;
}

const cases: Case[] = [
  {
    name: 'Conv k3 stride 2 pads 1 with bias',
    build: (b, w) =>
      b.node('Conv', ['x', w([3, 4, 3, 3, 3]), w([3])], { strides: { ints: [2, 2, 2] }, pads: { ints: [1, 1, 1, 1, 1, 1] } }),
  },
  {
    name: 'Conv k3 dilation 2 without bias',
    build: (b, w) => b.node('Conv', ['x', w([3, 4, 3, 3, 3])], { dilations: { ints: [2, 1, 2] }, pads: { ints: [2, 1, 2, 2, 1, 2] } }),
  },
  {
    name: 'Conv auto_pad SAME_UPPER',
    build: (b, w) => b.node('Conv', ['x', w([2, 4, 3, 3, 3]), w([2])], { auto_pad: { string: 'SAME_UPPER' } }),
  },
  {
    name: 'Conv auto_pad VALID k1x2x3',
    build: (b, w) => b.node('Conv', ['x', w([2, 4, 1, 2, 3])], { auto_pad: { string: 'VALID' }, kernel_shape: { ints: [1, 2, 3] } }),
  },
  { name: 'Conv asymmetric pads', build: (b, w) => b.node('Conv', ['x', w([2, 4, 3, 2, 3])], { pads: { ints: [0, 1, 2, 1, 0, 1] } }) },
  {
    name: 'Conv auto_pad SAME_LOWER stride 2 (asymmetric)',
    build: (b, w) => b.node('Conv', ['x', w([2, 4, 3, 3, 3])], { auto_pad: { string: 'SAME_LOWER' }, strides: { ints: [2, 2, 2] } }),
  },
  {
    name: 'ConvTranspose asymmetric pads',
    build: (b, w) =>
      b.node('ConvTranspose', ['x', w([4, 2, 3, 3, 3]), w([2])], { strides: { ints: [2, 2, 2] }, pads: { ints: [0, 1, 2, 1, 0, 1] } }),
  },
  {
    name: 'Conv with 2 groups',
    build: (b, w) => b.node('Conv', ['x', w([6, 2, 3, 3, 3]), w([6])], { group: { int: 2 }, pads: { ints: [1, 1, 1, 1, 1, 1] } }),
  },
  { name: 'Conv depthwise (group = channels)', build: (b, w) => b.node('Conv', ['x', w([4, 1, 3, 3, 3])], { group: { int: 4 } }) },
  {
    name: 'ConvTranspose with 2 groups',
    build: (b, w) => b.node('ConvTranspose', ['x', w([4, 3, 2, 2, 2]), w([6])], { group: { int: 2 }, strides: { ints: [2, 2, 2] } }),
  },
  {
    name: 'ConvTranspose k3 s2 p1 op1 (MONAI up)',
    build: (b, w) =>
      b.node('ConvTranspose', ['x', w([4, 3, 3, 3, 3]), w([3])], {
        strides: { ints: [2, 2, 2] },
        pads: { ints: [1, 1, 1, 1, 1, 1] },
        output_padding: { ints: [1, 1, 1] },
      }),
  },
  {
    name: 'ConvTranspose k2 s2 (V-Net up)',
    build: (b, w) => b.node('ConvTranspose', ['x', w([4, 2, 2, 2, 2])], { strides: { ints: [2, 2, 2] } }),
  },
  {
    name: 'BatchNormalization (inference)',
    build: (b, w) => b.node('BatchNormalization', ['x', w([4]), w([4]), w([4]), w([4], 0.5, 1.5)], { epsilon: { float: 1e-3 } }),
  },
  { name: 'InstanceNormalization', build: (b, w) => b.node('InstanceNormalization', ['x', w([4]), w([4])]) },
  {
    name: 'GroupNormalization (opset 18)',
    opset: 18,
    build: (b, w) => b.node('GroupNormalization', ['x', w([2]), w([2])], { num_groups: { int: 2 } }),
  },
  {
    name: 'group norm as Reshape → InstanceNormalization → Reshape (PyTorch < 2 export)',
    build: (b, w) => {
      const grouped = b.node('Reshape', ['x', b.ints([0, 2, -1])]);
      const normed = b.node(
        'InstanceNormalization',
        [grouped, b.weight('ones', [2], new Float32Array([1, 1])), b.weight('zeros', [2], new Float32Array(2))],
        { epsilon: { float: 1e-5 } },
      );
      const back = b.node('Reshape', [normed, b.node('Shape', ['x'])]);
      return b.node('Add', [b.node('Mul', [back, w([4, 1, 1, 1])]), w([4, 1, 1, 1])]);
    },
  },
  { name: 'PRelu, one slope', build: (b, w) => b.node('PRelu', ['x', w([1], 0, 0.5)]) },
  { name: 'PRelu, slope per channel [C, 1, 1, 1]', build: (b, w) => b.node('PRelu', ['x', w([4, 1, 1, 1], 0, 0.5)]) },
  { name: 'Relu', build: (b) => b.node('Relu', ['x']) },
  { name: 'LeakyRelu', build: (b) => b.node('LeakyRelu', ['x'], { alpha: { float: 0.2 } }) },
  { name: 'Elu', build: (b) => b.node('Elu', ['x'], { alpha: { float: 0.7 } }) },
  { name: 'Sigmoid', build: (b) => b.node('Sigmoid', ['x']) },
  {
    name: 'Gelu in its Erf form (PyTorch export)',
    build: (b) => {
      const scalar = (v: number) => b.weight(`c${v}`, [], new Float32Array([v]));
      const e = b.node('Erf', [b.node('Div', ['x', scalar(Math.SQRT2)])]);
      return b.node('Mul', [b.node('Mul', ['x', b.node('Add', [e, scalar(1)])]), scalar(0.5)]);
    },
  },
  { name: 'Softmax axis 1 (opset 13)', build: (b) => b.node('Softmax', ['x'], { axis: { int: 1 } }) },
  {
    name: 'Softmax axis 1 (opset 11: over the flattened trailing axes)',
    opset: 11,
    build: (b) => b.node('Softmax', ['x'], { axis: { int: 1 } }),
  },
  { name: 'Transpose (NCDHW → NDHWC)', build: (b) => b.node('Transpose', ['x'], { perm: { ints: [0, 2, 3, 4, 1] } }) },
  {
    name: 'channel softmax as PyTorch exports it at opset 11 (Transpose, Softmax, Transpose)',
    opset: 11,
    build: (b) =>
      b.node('Transpose', [b.node('Softmax', [b.node('Transpose', ['x'], { perm: { ints: [0, 4, 2, 3, 1] } })], { axis: { int: 4 } })], {
        perm: { ints: [0, 4, 2, 3, 1] },
      }),
  },
  { name: 'LogSoftmax axis 1', build: (b) => b.node('LogSoftmax', ['x'], { axis: { int: 1 } }) },
  {
    name: 'Add, Sub, Mul, Div with broadcasting',
    build: (b, w) =>
      b.node('Div', [b.node('Mul', [b.node('Sub', [b.node('Add', ['x', w([4, 1, 1, 1])]), w([7])]), 'x']), w([1, 4, 1, 6, 1], 1, 2)]),
  },
  { name: 'Concat along channels', inputs: { x: X, y: [2, 3, 5, 6, 7] }, build: (b) => b.node('Concat', ['x', 'y'], { axis: { int: 1 } }) },
  {
    name: 'Reshape (0 and -1), Flatten',
    build: (b) => b.node('Flatten', [b.node('Reshape', ['x', b.ints([0, -1, 7])])], { axis: { int: 2 } }),
  },
  {
    name: 'Squeeze and Unsqueeze (axes as inputs, opset 13)',
    build: (b) => b.node('Squeeze', [b.node('Unsqueeze', ['x', b.ints([0, 3])]), b.ints([0])]),
  },
  {
    name: 'Squeeze and Unsqueeze (axes as attributes, opset 11)',
    opset: 11,
    build: (b) => b.node('Squeeze', [b.node('Unsqueeze', ['x'], { axes: { ints: [0, 3] } })], { axes: { ints: [3] } }),
  },
  { name: 'Expand (both ways)', inputs: { x: [2, 1, 5, 1, 7] }, build: (b) => b.node('Expand', ['x', b.ints([3, 1, 6, 1])]) },
  { name: 'Tile', build: (b) => b.node('Tile', ['x', b.ints([1, 2, 1, 3, 1])]) },
  {
    name: 'Resize nearest ×2 as PyTorch exports nn.Upsample (scales)',
    build: (b) =>
      b.node('Resize', ['x', '', b.weight('scales', [5], new Float32Array([1, 1, 2, 2, 3]))], {
        mode: { string: 'nearest' },
        coordinate_transformation_mode: { string: 'asymmetric' },
        nearest_mode: { string: 'floor' },
      }),
  },
  {
    name: 'Resize nearest by sizes (half_pixel)',
    build: (b) => b.node('Resize', ['x', '', '', b.ints([2, 4, 10, 6, 14])], { mode: { string: 'nearest' } }),
  },
  {
    name: 'Resize trilinear ×2 (nn.Upsample(mode="trilinear"), half-pixel)',
    build: (b) =>
      b.node('Resize', ['x', '', b.weight('scales', [5], new Float32Array([1, 1, 2, 1, 2]))], {
        mode: { string: 'linear' },
        coordinate_transformation_mode: { string: 'pytorch_half_pixel' },
      }),
  },
  {
    name: 'AveragePool 2×3×1 blocks',
    inputs: { x: [2, 4, 6, 6, 7] },
    build: (b) => b.node('AveragePool', ['x'], { kernel_shape: { ints: [2, 3, 1] }, strides: { ints: [2, 3, 1] } }),
  },
  {
    name: 'MaxPool 2×2×2 (UNet down-sampling)',
    inputs: { x: [2, 4, 6, 6, 8] },
    build: (b) => b.node('MaxPool', ['x'], { kernel_shape: { ints: [2, 2, 2] }, strides: { ints: [2, 2, 2] } }),
  },
  {
    name: 'MaxPool k3 s2 pads 1 (overlapping)',
    build: (b) =>
      b.node('MaxPool', ['x'], { kernel_shape: { ints: [3, 3, 3] }, strides: { ints: [2, 2, 2] }, pads: { ints: [1, 1, 1, 1, 1, 1] } }),
  },
  { name: 'ArgMax over channels', outputType: 'int64', build: (b) => b.node('ArgMax', ['x'], { axis: { int: 1 }, keepdims: { int: 0 } }) },
  {
    name: 'Dropout (inference: identity) and Identity',
    build: (b) => b.node('Identity', [b.node('Dropout', ['x', b.weight('ratio', [], new Float32Array([0.3]))])]),
  },
];

describe('ONNX ops against ONNX Runtime', () => {
  it.each(cases)('$name', async (c) => {
    const b = new GraphBuilder(c.opset ?? 13);
    let seed = 100;
    const w = (shape: number[], lo = -1, hi = 1) => randomWeight(b, `w${seed}`, shape, seed++, lo, hi);
    const output = c.build(b, w);
    const shapes = c.inputs ?? { x: X };
    const bytes = b.toBytes(
      Object.entries(shapes).map(([name, shape]) => ({ name, shape })),
      [{ name: output, type: c.outputType }],
    );
    const inputs = Object.fromEntries(Object.entries(shapes).map(([name, shape], i) => [name, randomInput(shape, 7 + i)]));
    const expected = await runOrt(bytes, inputs);
    const model = importOnnx(bytes);
    const out = tidy(() => noGrad(() => model.forward(...Object.values(inputs).map((v) => tensor(v.data, v.shape)))));
    expect(out.shape).toEqual(expected.shape);
    expect(maxRelError(await out.toArray(), expected.data)).toBeLessThan(1e-4);
    out.dispose();
    model.dispose();
  });
});
