// The one gradient-check harness of the op tests: float32-rounded seeded inputs, an op run forward
// and backward on the GPU (a random upstream gradient), its output and gradients compared with a
// float64 reference, the reference's gradients with central finite differences, and the worst error
// of each kind printed once per test file. checkOp() does all of it for an op with a reference
// function; the conv ops, whose references come with analytic gradients (test/reference/conv.ts),
// use forwardError() and gradErrors() through a ConvUnderTest.
import { afterAll, expect } from 'vitest';
import { tensor, tidy, type Tensor } from '../../src/index.js';
import { conv3d } from '../../src/ops/conv/conv3d.js';
import { convTranspose3d } from '../../src/ops/conv/conv-transpose3d.js';
import { shapeSize } from '../../src/core/shape.js';
import { dot, finiteDifference, maxRelError, randomArray, rng } from '../helpers.js';
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

/** Float32 rounding, so the reference sees exactly the values the GPU got. */
export function f32(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(Float32Array.from(x));
}

/** Seeded uniform values in [lo, hi), already rounded to float32. */
export function inputs(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  return f32(randomArray(n, seed, lo, hi));
}

const worst = new Map<string, number>();

/** Records an error under `kind` for the file's summary line. */
export function recordError(kind: string, err: number): void {
  worst.set(kind, Math.max(worst.get(kind) ?? 0, err));
}

/** Expects actual ≈ expected (maxRelError below tol) and records the error under `kind`. */
export function expectClose(kind: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, message?: string): number {
  const err = maxRelError(actual, expected);
  recordError(kind, err);
  expect(err, message).toBeLessThan(tol);
  return err;
}

/** Prints the worst error of each kind once the file's tests are done (the figures quoted in docs). */
export function reportErrors(file: string): void {
  afterAll(() => {
    const parts = [...worst].map(([kind, err]) => `${kind} ${err.toExponential(2)}`);
    console.log(`${file}: max rel. errors: ${parts.join(', ')}`);
  });
}

/** Expects a reference's analytic gradient of the scalar f to match finite differences (float64). */
export function expectFiniteDifference(f: (x: Float64Array) => number, x: Float64Array, analytic: ArrayLike<number>, tol = 1e-7): void {
  expect(maxRelError(analytic, finiteDifference(f, Float64Array.from(x)))).toBeLessThan(tol);
}

export interface GpuInput {
  data: ArrayLike<number>;
  shape: readonly number[];
  /** Whether the input requires grad (default true). */
  grad?: boolean;
}

export interface GpuRun {
  shape: number[];
  output: Float32Array;
  /** Per input: its gradient's shape and values, null where it needs none (and got none). */
  grads: ({ shape: number[]; data: Float32Array } | null)[];
}

/**
 * Runs `forward` on the inputs, then backward with `upstream` (a gradient of the output's shape,
 * made by the function from that shape), and reads everything back; every tensor is freed.
 */
export async function runForwardBackward(
  forward: (...xs: Tensor[]) => Tensor,
  ins: readonly GpuInput[],
  upstream: (shape: number[]) => ArrayLike<number>,
): Promise<GpuRun> {
  const xs = ins.map((s) => tensor(s.data, s.shape, { requiresGrad: s.grad ?? true }));
  try {
    const y = tidy(() => {
      const out = forward(...xs);
      out.backward(tensor(upstream([...out.shape]), out.shape));
      return out;
    });
    const output = await y.toArray();
    y.dispose();
    const grads = [];
    for (const x of xs) grads.push(x.grad ? { shape: [...x.grad.shape], data: await x.grad.toArray() } : null);
    return { shape: [...y.shape], output, grads };
  } finally {
    for (const x of xs) {
      x.grad?.dispose();
      x.dispose();
    }
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

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
  /** The float64 reference: output values and shape. */
  reference: (...xs: Float64Array[]) => { data: Float64Array; shape: number[] };
  /** Check the gradient only at this many coordinates per input (large inputs). */
  fdSamples?: number;
  forwardTol?: number;
  gradTol?: number;
}

export interface OpErrors {
  forward: number;
  grads: number[];
}

function sampledFiniteDifference(
  f: (x: Float64Array) => number,
  x: Float64Array,
  samples: number,
  seed: number,
): { indices: number[]; values: Float64Array } {
  const r = rng(seed);
  const indices = [0, x.length - 1];
  while (indices.length < samples) indices.push(Math.floor(r() * x.length));
  return { indices, values: finiteDifference(f, x, 1e-4, indices) };
}

/**
 * An op with a reference function: forward against the reference, each input's gradient (for a
 * random upstream gradient) against central finite differences of Σ upstream · reference.
 */
export async function checkOp(name: string, c: OpCase): Promise<OpErrors> {
  const seed = hash(name);
  const hostInputs = c.inputs.map((s, k) => inputs(shapeSize(s.shape), seed + 17 * k, ...(s.range ?? [-1, 1])));
  const expected = c.reference(...hostInputs);
  const upstream = inputs(expected.data.length, seed + 1000);
  const run = await runForwardBackward(
    c.forward,
    c.inputs.map((s, k) => ({ data: hostInputs[k]!, shape: s.shape, grad: s.grad })),
    () => upstream,
  );
  expect(run.shape, `${name}: output shape`).toEqual(expected.shape);
  const forward = expectClose('forward', run.output, expected.data, c.forwardTol ?? 1e-5, `${name}: forward error`);

  const grads: number[] = [];
  for (const [k, spec] of c.inputs.entries()) {
    const g = run.grads[k];
    if (spec.grad === false) {
      expect(g, `${name}: input ${k} must get no gradient`).toBeNull();
      continue;
    }
    expect(g, `${name}: input ${k} has a gradient`).not.toBeNull();
    expect(g!.shape, `${name}: gradient ${k} shape`).toEqual(spec.shape);
    const loss = (v: Float64Array): number => dot(upstream, c.reference(...hostInputs.map((h, j) => (j === k ? v : h))).data);
    let err: number;
    if (c.fdSamples && hostInputs[k]!.length > c.fdSamples) {
      const { indices, values } = sampledFiniteDifference(loss, hostInputs[k]!, c.fdSamples, seed + k);
      err = expectClose(
        'gradient',
        indices.map((i) => g!.data[i]!),
        values,
        c.gradTol ?? 1e-4,
        `${name}: gradient ${k} error`,
      );
    } else {
      err = expectClose('gradient', g!.data, finiteDifference(loss, hostInputs[k]!), c.gradTol ?? 1e-4, `${name}: gradient ${k} error`);
    }
    grads.push(err);
  }
  return { forward, grads };
}

/** A conv op with its float64 reference and the reference's analytic gradients (test/reference/conv.ts). */
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

function convData(op: ConvUnderTest, c: ConvCase, seed: number): { x: Float64Array; w: Float64Array; b: Float64Array } {
  return {
    x: randomArray(shapeSize(c.xShape), seed),
    w: randomArray(shapeSize(c.wShape), seed + 1),
    b: randomArray(op.outChannels(c), seed + 2),
  };
}

/** The forward's error against the reference (no backward). */
export async function forwardError(op: ConvUnderTest, c: ConvCase, seed: number, withBias = true): Promise<number> {
  const d = convData(op, c, seed);
  const out = tidy(() => op.run(tensor(d.x, c.xShape), tensor(d.w, c.wShape), withBias ? tensor(d.b, [d.b.length]) : null, c));
  try {
    const want = op.outShape(c);
    if (out.shape.join() !== want.join()) throw new Error(`output shape [${out.shape}] differs from the reference's [${want}]`);
    return maxRelError(await out.toArray(), op.ref(c, d.x, d.w, withBias ? d.b : undefined));
  } finally {
    out.dispose();
  }
}

/** GPU gradients for a random upstream gradient vs the reference's analytic ones. */
export async function gradErrors(op: ConvUnderTest, c: ConvCase, seed: number): Promise<Record<keyof Grads, number>> {
  const d = convData(op, c, seed);
  const gOut = randomArray(shapeSize(op.outShape(c)), seed + 3);
  const run = await runForwardBackward(
    (x, w, b) => op.run(x!, w!, b!, c),
    [
      { data: d.x, shape: c.xShape },
      { data: d.w, shape: c.wShape },
      { data: d.b, shape: [d.b.length] },
    ],
    () => gOut,
  );
  const want = op.gradRef(c, d.x, d.w, gOut);
  return {
    x: maxRelError(run.grads[0]!.data, want.x),
    weight: maxRelError(run.grads[1]!.data, want.weight),
    bias: maxRelError(run.grads[2]!.data, want.bias),
  };
}

/** The reference's analytic gradients vs central differences of Σ gOut · op(x, w, b). */
export function referenceGradErrors(op: ConvUnderTest, c: ConvCase, seed: number): Record<keyof Grads, number> {
  const d = convData(op, c, seed);
  const gOut = randomArray(shapeSize(op.outShape(c)), seed + 3);
  const want = op.gradRef(c, d.x, d.w, gOut);
  return {
    x: maxRelError(
      want.x,
      finiteDifference((x) => dot(gOut, op.ref(c, x, d.w, d.b)), d.x),
    ),
    weight: maxRelError(
      want.weight,
      finiteDifference((w) => dot(gOut, op.ref(c, d.x, w, d.b)), d.w),
    ),
    bias: maxRelError(
      want.bias,
      finiteDifference((b) => dot(gOut, op.ref(c, d.x, d.w, b)), d.b),
    ),
  };
}
