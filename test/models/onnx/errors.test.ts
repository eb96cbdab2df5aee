// What the importer refuses, and how: every error names the node, its op type and the opset.
import { beforeAll, expect, it } from 'vitest';
import { Conv3d, exportOnnx, importOnnx, noGrad, zeros } from '../../../src/index.js';
import { type AttributeValue, GraphBuilder } from '../../../src/models/onnx/builder.js';
import { gpu } from '../../helpers.js';

beforeAll(gpu);

function oneNode(
  opType: string,
  inputs: string[],
  attributes: Record<string, AttributeValue> = {},
  opset = 13,
  extraInputs: string[] = [],
): Uint8Array {
  const b = new GraphBuilder(opset);
  const weights = inputs.map((name) => (name === 'w' ? b.weight('w', [2, 1, 3, 3, 3], new Float32Array(54)) : name));
  const out = b.node(opType, weights, attributes);
  return b.toBytes(
    ['x', ...extraInputs].map((name) => ({ name, shape: ['N', 1, 6, 6, 6] })),
    [{ name: out }],
  );
}

const run = (bytes: Uint8Array, ...shapes: number[][]) => noGrad(() => importOnnx(bytes).forward(...shapes.map((s) => zeros(s))));

it('refuses an op type it does not run, listing those it does', () => {
  expect(() => importOnnx(oneNode('LpPool', ['x'], { kernel_shape: { ints: [2, 2, 2] } }))).toThrow(
    "ONNX node 'LpPool_0' (LpPool, opset 13): op type 'LpPool' is not supported (supported: Abs, Add, ArgMax, AveragePool, " +
      'BatchNormalization, Cast, Concat,',
  );
});

it('refuses opsets outside 11–18', () => {
  expect(() => importOnnx(oneNode('Relu', ['x'], {}, 10))).toThrow(
    'importOnnx: opset 10 of the default ONNX domain is not supported (11–18)',
  );
});

it('refuses attributes it does not implement at import, and settings when the node runs', () => {
  const x = [1, 1, 6, 6, 6];
  expect(() => importOnnx(oneNode('Relu', ['x'], { alpha: { float: 1 } }))).toThrow(
    "ONNX node 'Relu_0' (Relu, opset 13): attribute 'alpha' is not supported",
  );
  expect(() => importOnnx(oneNode('AveragePool', ['x'], { kernel_shape: { ints: [2, 2, 2] }, dilations: { ints: [1, 1, 1] } }))).toThrow(
    "ONNX node 'AveragePool_0' (AveragePool, opset 13): attribute 'dilations' is not supported",
  );
  expect(() => run(oneNode('AveragePool', ['x'], { kernel_shape: { ints: [3, 7, 3] } }), x)).toThrow(
    "ONNX node 'AveragePool_0' (AveragePool, opset 13): kernel_shape [3, 7, 3] is larger than x [1, 1, 6, 6, 6] with pads [0, 0, 0, 0, 0, 0]",
  );
  expect(() => run(oneNode('AveragePool', ['x']), x)).toThrow(
    "ONNX node 'AveragePool_0' (AveragePool, opset 13): attribute 'kernel_shape' is required",
  );
  expect(() => run(oneNode('Conv', ['x', 'w'], { group: { int: 2 } }), x)).toThrow(
    "ONNX node 'Conv_0' (Conv, opset 13): group 2 must divide the 1 input and 2 output channels",
  );
  expect(() => run(oneNode('ConvTranspose', ['x', 'w'], { auto_pad: { string: 'SAME_UPPER' } }), x)).toThrow(
    "ONNX node 'ConvTranspose_0' (ConvTranspose, opset 13): auto_pad 'SAME_UPPER' is not supported",
  );
  expect(() => run(oneNode('Softmax', ['x'], { axis: { string: '1' } }), x)).toThrow(
    "ONNX node 'Softmax_0' (Softmax, opset 13): attribute 'axis' must be INT, got STRING",
  );
});

it('refuses shapes computed at run time (dynamic shapes)', () => {
  expect(() => run(oneNode('Reshape', ['x', 'y'], {}, 13, ['y']), [1, 1, 6, 6, 6], [1, 1, 6, 6, 6])).toThrow(
    "ONNX node 'Reshape_0' (Reshape, opset 13): its shape (input 1, 'y') is computed at run time; dynamic shapes are not " +
      'supported (export with constant shapes)',
  );
});

it('refuses 2D data and inputs of another shape than declared', () => {
  const b = new GraphBuilder(13);
  b.node('Conv', ['x', b.weight('w', [2, 1, 3, 3], new Float32Array(18))], {}, 'y');
  expect(() => run(b.toBytes([{ name: 'x', shape: [1, 1, 8, 8] }], [{ name: 'y' }]), [1, 1, 8, 8])).toThrow(
    "ONNX node 'Conv_0' (Conv, opset 13): only 3D data is supported: input 0 must be [N, C, D, H, W], got [1, 1, 8, 8]",
  );
  expect(() => run(oneNode('Relu', ['x']), [1, 1, 5, 6, 6])).toThrow(
    "OnnxModule: input 'x' must have shape [?, 1, 6, 6, 6] (? is free), got [1, 1, 5, 6, 6]",
  );
  expect(() => run(oneNode('Relu', ['x']))).toThrow('OnnxModule: the graph takes 1 input(s) (x), got 0');
});

it('exports only what it can write', async () => {
  await expect(exportOnnx(new Conv3d(1, 2, 3), [1, 1, 8, 8, 8])).rejects.toThrow(
    'exportOnnx: Conv3d cannot be exported (VNet and imported ONNX graphs can)',
  );
});
