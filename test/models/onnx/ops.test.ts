// Every op the importer supports, as one-node (or few-node) models built here, run by voxgpu and by
// ONNX Runtime on random inputs: outputs within 1e-4 relative to the largest value. Resize and
// AveragePool, with many forms each, have files of their own (resize.test.ts, pool.test.ts).
import { beforeAll, describe, it } from 'vitest';
import { gpu } from '../../helpers.js';
import { expectMatchesOrt, type OrtCase } from './helpers.js';

beforeAll(gpu);

const X = [2, 4, 5, 6, 7];

const cases: OrtCase[] = [
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
  it.each(cases)('$name', (c) => expectMatchesOrt(c, X));
});
