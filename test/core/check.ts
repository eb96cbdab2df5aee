// One harness for every glue op: forward against a float64 reference, backward (with a random
// upstream gradient) against central finite differences of that reference.
import { afterAll, expect } from 'vitest';
import { tensor, tidy, type Tensor } from '../../src/index.js';
import { dot, finiteDifference, maxRelError, randomArray, rng } from '../helpers.js';
import type { Ref } from './reference.js';

export interface InputSpec {
  shape: number[];
  /** Uniform range of the random values; default [-1, 1). */
  range?: [number, number];
  /** Whether the input requires grad (default true). */
  grad?: boolean;
}

export interface OpCase {
  inputs: InputSpec[];
  forward: (...xs: Tensor[]) => Tensor;
  reference: (...xs: Float64Array[]) => Ref;
  /** Check the gradient only at this many coordinates per input (large inputs). */
  fdSamples?: number;
  forwardTol?: number;
  gradTol?: number;
}

export interface OpErrors {
  forward: number;
  grads: number[];
}

const worst = { forward: 0, grad: 0 };

/** Prints the largest errors a test file saw, for the report. */
export function reportWorstErrors(file: string): void {
  afterAll(() => {
    console.log(`${file}: max forward rel. error ${worst.forward.toExponential(2)}, max gradient rel. error ${worst.grad.toExponential(2)}`);
  });
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Float32 rounding, so the reference sees exactly the values the GPU got. */
export function f32(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(Float32Array.from(x));
}

function sampledFiniteDifference(f: (x: Float64Array) => number, x: Float64Array, samples: number, seed: number): { indices: number[]; values: Float64Array } {
  const r = rng(seed);
  const indices = [0, x.length - 1];
  while (indices.length < samples) indices.push(Math.floor(r() * x.length));
  return { indices, values: finiteDifference(f, x, 1e-4, indices) };
}

export async function checkOp(name: string, c: OpCase): Promise<OpErrors> {
  const seed = hash(name);
  const hostInputs = c.inputs.map((s, k) => f32(randomArray(s.shape.reduce((a, b) => a * b, 1), seed + 17 * k, ...(s.range ?? [-1, 1]))));
  const expected = c.reference(...hostInputs);
  const upstream = f32(randomArray(expected.data.length, seed + 1000));

  const xs = c.inputs.map((s, k) => tensor(hostInputs[k]!, s.shape, { requiresGrad: s.grad ?? true }));
  const y = tidy(() => {
    const out = c.forward(...xs);
    const g = tensor(upstream, out.shape);
    out.backward(g);
    return out;
  });
  expect([...y.shape], `${name}: output shape`).toEqual(expected.shape);
  const forward = maxRelError(await y.toArray(), expected.data);
  expect(forward, `${name}: forward error`).toBeLessThan(c.forwardTol ?? 1e-5);
  worst.forward = Math.max(worst.forward, forward);

  const grads: number[] = [];
  for (const [k, spec] of c.inputs.entries()) {
    const x = xs[k]!;
    if (spec.grad === false) {
      expect(x.grad, `${name}: input ${k} must get no gradient`).toBeNull();
      continue;
    }
    expect(x.grad, `${name}: input ${k} has a gradient`).not.toBeNull();
    expect([...x.grad!.shape], `${name}: gradient ${k} shape`).toEqual(spec.shape);
    const loss = (v: Float64Array): number => dot(upstream, c.reference(...hostInputs.map((h, j) => (j === k ? v : h))).data);
    const got = await x.grad!.toArray();
    let err: number;
    if (c.fdSamples && hostInputs[k]!.length > c.fdSamples) {
      const { indices, values } = sampledFiniteDifference(loss, hostInputs[k]!, c.fdSamples, seed + k);
      err = maxRelError(indices.map((i) => got[i]!), values);
    } else {
      err = maxRelError(got, finiteDifference(loss, hostInputs[k]!));
    }
    expect(err, `${name}: gradient ${k} error`).toBeLessThan(c.gradTol ?? 1e-4);
    worst.grad = Math.max(worst.grad, err);
    grads.push(err);
  }
  for (const x of xs) {
    x.grad?.dispose();
    x.dispose();
  }
  y.dispose();
  return { forward, grads };
}
