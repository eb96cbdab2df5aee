// What conv3d.test.ts and conv-transpose3d.test.ts share: running an op on seeded random data,
// forward and backward, and measuring it against the float64 reference (test/reference/conv.ts).
import { beforeAll, describe } from 'vitest';
import { init, tensor, type Tensor } from '../../src/index.js';
import { conv3d } from '../../src/ops/conv/conv3d.js';
import { convTranspose3d } from '../../src/ops/conv/conv-transpose3d.js';
import { dot, finiteDifference, maxRelError, randomArray } from '../helpers.js';
import {
  conv3dGradRef,
  conv3dOutShape,
  conv3dRef,
  convTranspose3dGradRef,
  convTranspose3dOutShape,
  convTranspose3dRef,
  type ConvCase,
  type Grads,
  type Shape5,
} from '../reference/conv.js';

export interface ConvUnderTest {
  run(x: Tensor, w: Tensor, b: Tensor | null, c: ConvCase): Tensor;
  ref(c: ConvCase, x: ArrayLike<number>, w: ArrayLike<number>, b?: ArrayLike<number>): Float64Array;
  gradRef(c: ConvCase, x: ArrayLike<number>, w: ArrayLike<number>, gOut: ArrayLike<number>): Grads;
  outShape(c: ConvCase): Shape5;
  /** Output channels: the bias size. */
  outChannels(c: ConvCase): number;
}

export const conv3dUnderTest: ConvUnderTest = {
  run: (x, w, b, c) => conv3d(x, w, b, c),
  ref: conv3dRef,
  gradRef: conv3dGradRef,
  outShape: conv3dOutShape,
  outChannels: (c) => c.wShape[0],
};

export const convTranspose3dUnderTest: ConvUnderTest = {
  run: (x, w, b, c) => convTranspose3d(x, w, b, c),
  ref: convTranspose3dRef,
  gradRef: convTranspose3dGradRef,
  outShape: convTranspose3dOutShape,
  outChannels: (c) => c.wShape[1],
};

const count = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

interface Data {
  x: Float64Array;
  w: Float64Array;
  b: Float64Array;
}

function data(op: ConvUnderTest, c: ConvCase, seed: number): Data {
  return { x: randomArray(count(c.xShape), seed), w: randomArray(count(c.wShape), seed + 1), b: randomArray(op.outChannels(c), seed + 2) };
}

export async function forwardError(op: ConvUnderTest, c: ConvCase, seed: number, withBias = true): Promise<number> {
  const d = data(op, c, seed);
  const out = op.run(tensor(d.x, c.xShape), tensor(d.w, c.wShape), withBias ? tensor(d.b, [d.b.length]) : null, c);
  expectShape(out, op.outShape(c));
  return maxRelError(await out.toArray(), op.ref(c, d.x, d.w, withBias ? d.b : undefined));
}

function expectShape(t: Tensor, shape: readonly number[]): void {
  if (t.shape.join() !== shape.join()) throw new Error(`output shape [${t.shape}] differs from the reference's [${shape}]`);
}

/** GPU gradients for a random upstream gradient vs the reference's analytic ones. */
export async function gradErrors(op: ConvUnderTest, c: ConvCase, seed: number): Promise<Record<keyof Grads, number>> {
  const d = data(op, c, seed);
  const gOut = randomArray(count(op.outShape(c)), seed + 3);
  const x = tensor(d.x, c.xShape, { requiresGrad: true });
  const w = tensor(d.w, c.wShape, { requiresGrad: true });
  const b = tensor(d.b, [d.b.length], { requiresGrad: true });
  op.run(x, w, b, c).backward(tensor(gOut, op.outShape(c)));
  const want = op.gradRef(c, d.x, d.w, gOut);
  return {
    x: maxRelError(await x.grad!.toArray(), want.x),
    weight: maxRelError(await w.grad!.toArray(), want.weight),
    bias: maxRelError(await b.grad!.toArray(), want.bias),
  };
}

/** The reference's analytic gradients vs central differences of Σ gOut · op(x, w, b). */
export function referenceGradErrors(op: ConvUnderTest, c: ConvCase, seed: number): Record<keyof Grads, number> {
  const d = data(op, c, seed);
  const gOut = randomArray(count(op.outShape(c)), seed + 3);
  const want = op.gradRef(c, d.x, d.w, gOut);
  return {
    x: maxRelError(want.x, finiteDifference((x) => dot(gOut, op.ref(c, x, d.w, d.b)), d.x)),
    weight: maxRelError(want.weight, finiteDifference((w) => dot(gOut, op.ref(c, d.x, w, d.b)), d.w)),
    bias: maxRelError(want.bias, finiteDifference((b) => dot(gOut, op.ref(c, d.x, d.w, b)), d.b)),
  };
}

/** The conv kernel families: each runs on any adapter (init's `kernels` forces it). */
export const kernelFamilies = ['software', 'gpu'] as const;

/** `body`'s tests once per kernel family, each on a context of its own. */
export function describeFamilies(name: string, body: () => void): void {
  for (const kernels of kernelFamilies) {
    describe(`${name} (${kernels} kernels)`, () => {
      beforeAll(async () => {
        await init({ kernels });
      });
      body();
    });
  }
}
