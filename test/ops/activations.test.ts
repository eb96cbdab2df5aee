// elu, leakyRelu, sigmoid, gelu (exact and tanh) and erf: forward against float64 references and
// gradients against finite differences (checkOp), on sizes with and without a partial last vec4;
// then each function's float32 accuracy on a dense grid over [-10, 10] (WGSL has no erf, so the
// exact GELU and erf rest on an approximation whose error this measures), agreement with the
// activations of TF.js layers (its CPU backend) that imported models name, and bad arguments.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../../src/index.js';
import { elu, erf, gelu, leakyRelu, sigmoid } from '../../src/ops/activations.js';
import type { Tensor } from '../../src/core/tensor.js';
import { gpu } from '../helpers.js';
import { activations as ref } from '../reference/activations.js';
import { checkOp, expectClose, f32, recordError, reportErrors } from '../helpers/gradcheck.js';

beforeAll(async () => {
  await gpu();
});
reportErrors('activations');

interface Activation {
  name: string;
  op: (x: Tensor) => Tensor;
  ref: (v: number) => number;
}

const cases: Activation[] = [
  { name: 'elu', op: (x) => elu(x), ref: (v) => ref.elu(v) },
  { name: 'elu alpha 0.3', op: (x) => elu(x, 0.3), ref: (v) => ref.elu(v, 0.3) },
  { name: 'leakyRelu', op: (x) => leakyRelu(x), ref: (v) => ref.leakyRelu(v) },
  { name: 'leakyRelu slope 0.2', op: (x) => leakyRelu(x, 0.2), ref: (v) => ref.leakyRelu(v, 0.2) },
  { name: 'sigmoid', op: sigmoid, ref: ref.sigmoid },
  { name: 'gelu', op: (x) => gelu(x), ref: ref.gelu },
  { name: 'gelu tanh', op: (x) => gelu(x, 'tanh'), ref: ref.geluTanh },
  { name: 'erf', op: erf, ref: ref.erf },
];

// 210 elements (a partial last vec4), 11 (three vec4s, the last partial), 2048 (whole vec4s).
const shapes = [[2, 3, 5, 7], [11], [1, 2, 8, 8, 16]];

/**
 * The worst errors of the float32 result on a grid over [-10, 10]: `near`, relative, where |x| ≤ 4;
 * `far`, relative to max(|f(x)|, 1), beyond; `tail`, relative, over [-10, -4) (GELU's left tail).
 */
async function gridErrors(a: Activation): Promise<{ near: number; far: number; tail: number }> {
  const xs = f32(Array.from({ length: 20001 }, (_, i) => -10 + i / 1000));
  const out = a.op(tensor(xs, [xs.length]));
  const got = await out.toArray();
  out.dispose();
  const worst = { near: 0, far: 0, tail: 0 };
  xs.forEach((v, i) => {
    const want = a.ref(v);
    const diff = Math.abs(got[i]! - want);
    const relative = diff / Math.max(Math.abs(want), 1e-30);
    if (Math.abs(v) <= 4) worst.near = Math.max(worst.near, relative);
    else worst.far = Math.max(worst.far, diff / Math.max(Math.abs(want), 1));
    if (v < -4) worst.tail = Math.max(worst.tail, relative);
  });
  return worst;
}

describe('activations', () => {
  for (const a of cases) {
    for (const shape of shapes) {
      it(`${a.name} ${JSON.stringify(shape)}: forward and gradient`, async () => {
        await checkOp(`${a.name} ${shape}`, {
          inputs: [{ shape, range: [-4, 4] }],
          forward: a.op,
          reference: (x) => ({ data: x.map(a.ref), shape }),
          fdSamples: 64,
        });
      });
    }

    // Near 0 (erf and GELU around 0 and GELU's left side included) the error is relative. Beyond 4,
    // exp's own error on large arguments (about |argument| · 2⁻²⁴) makes tails that are tiny in
    // absolute terms lose relative digits: there it is relative to max(|f|, 1), and the exact GELU,
    // whose Φ is computed from the tail side, has its relative left-tail error bounded too.
    it(`${a.name}: float32 accuracy over [-10, 10]`, async () => {
      const { near, far, tail } = await gridErrors(a);
      recordError(`${a.name} grid |x|≤4`, near);
      recordError(`${a.name} grid |x|>4`, far);
      recordError(`${a.name} grid x<-4 relative`, tail);
      expect(near).toBeLessThan(5e-6);
      expect(far).toBeLessThan(5e-6);
      if (a.name === 'gelu') expect(tail).toBeLessThan(2e-5);
    });
  }

  // TF.js layers' 'gelu' is the exact form (x·½(1 + erf(x/√2)), its erf Abramowitz–Stegun 7.1.26,
  // within 1.5e-7), 'gelu_new' the tanh form, 'elu' alpha 1 (tfjs-layers/src/activations.ts).
  const tfjsNames: [string, (x: Tensor) => Tensor][] = [
    ['gelu', (x) => gelu(x)],
    ['gelu_new', (x) => gelu(x, 'tanh')],
    ['elu', (x) => elu(x)],
    ['sigmoid', sigmoid],
  ];
  for (const [name, op] of tfjsNames) {
    it(`equals TF.js layers' '${name}' activation`, async () => {
      await tf.setBackend('cpu');
      const xs = f32(Array.from({ length: 4001 }, (_, i) => -8 + i / 250));
      const want = tf.tidy(() =>
        (tf.layers.activation({ activation: name as 'gelu' }).apply(tf.tensor(Float32Array.from(xs))) as tf.Tensor).dataSync(),
      );
      const got = op(tensor(xs, [xs.length]));
      expectClose(`TF.js ${name}`, await got.toArray(), want, 1e-6);
      got.dispose();
    });
  }

  it('rejects bad parameters, naming the op', () => {
    const x = tensor([1, 2], [2]);
    expect(() => gelu(x, 'erf' as 'none')).toThrow(`gelu: approximate must be 'none' or 'tanh', got "erf"`);
    expect(() => elu(x, Number.NaN)).toThrow('elu: alpha must be a finite number, got NaN');
    expect(() => leakyRelu(x, Number.POSITIVE_INFINITY)).toThrow('leakyRelu: slope must be a finite number, got Infinity');
  });
});
