// The new ops wired together as an imported MeshNet uses them: dilated conv → instance norm (with
// weight and bias) → GELU → conv → batch norm (batch statistics) → ELU → 1×1×1 conv → sigmoid, its
// output and the gradient of every input and weight against a float64 composition of the
// references (checkOp: finite differences of the whole chain).
import { beforeAll, describe, it } from 'vitest';
import { conv3d } from '../../src/ops/conv/conv3d.js';
import { elu, gelu, sigmoid } from '../../src/ops/activations.js';
import { batchNorm, instanceNorm } from '../../src/ops/norm.js';
import { gpu } from '../helpers.js';
import { checkOp, reportErrors } from '../helpers/gradcheck.js';
import { activations } from '../reference/activations.js';
import { conv3dOutShape, conv3dRef, type ConvCase, type Shape5, type Triple } from '../reference/conv.js';
import { normalize } from '../reference/norm.js';

beforeAll(async () => {
  await gpu();
});
reportErrors('meshnet chain');

const xShape: Shape5 = [2, 2, 6, 5, 4];
const layers: { wShape: Shape5; padding: number; dilation: number }[] = [
  { wShape: [3, 2, 3, 3, 3], padding: 2, dilation: 2 },
  { wShape: [3, 3, 3, 3, 3], padding: 1, dilation: 1 },
  { wShape: [2, 3, 1, 1, 1], padding: 0, dilation: 1 },
];

function convCase(i: number, shape: Shape5): ConvCase {
  const { wShape, padding, dilation } = layers[i]!;
  const t = (v: number): Triple => [v, v, v];
  return { xShape: shape, wShape, stride: t(1), padding: t(padding), dilation: t(dilation) };
}

describe('a MeshNet-like chain of the new ops', () => {
  it('forward and every gradient match the float64 composition', async () => {
    const c0 = convCase(0, xShape);
    const c1 = convCase(1, conv3dOutShape(c0));
    const c2 = convCase(2, conv3dOutShape(c1));
    await checkOp('meshnet chain', {
      inputs: [
        { shape: xShape },
        { shape: layers[0]!.wShape, range: [-0.4, 0.4] },
        { shape: layers[1]!.wShape, range: [-0.3, 0.3] },
        { shape: layers[2]!.wShape },
        { shape: [3], range: [0.5, 1.5] },
        { shape: [3], range: [-0.5, 0.5] },
      ],
      forward: (x, w0, w1, w2, weight, bias) => {
        const a = gelu(instanceNorm(conv3d(x!, w0!, null, c0), { weight, bias }));
        const b = elu(batchNorm(conv3d(a, w1!, null, c1), { training: true }));
        return sigmoid(conv3d(b, w2!, null, c2));
      },
      reference: (x, w0, w1, w2, weight, bias) => {
        const s0 = conv3dOutShape(c0);
        const a = normalize(conv3dRef(c0, x!, w0!), s0, 3, { weight, bias }).map(activations.gelu);
        const s1 = conv3dOutShape(c1);
        const b = normalize(conv3dRef(c1, a, w1!), s1, 'batch').map((v) => activations.elu(v));
        return { data: conv3dRef(c2, b, w2!).map(activations.sigmoid), shape: conv3dOutShape(c2) };
      },
      fdSamples: 24,
    });
  });
});
