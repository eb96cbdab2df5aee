// What the tests of the V-Net activation and loss ops share: float32-rounded random inputs, error
// bounds that also record the worst error of each kind for the file's summary line, and the check of
// a reference's analytic gradient against central finite differences.
import { afterAll, expect } from 'vitest';
import { finiteDifference, maxRelError, randomArray } from '../helpers.js';

/** Random values already rounded to float32, so the float64 reference sees what the GPU sees. */
export function inputs(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  return Float64Array.from(Float32Array.from(randomArray(n, seed, lo, hi)));
}

const worst = new Map<string, number>();

/** Expects actual ≈ expected (maxRelError below tol) and records the error under `kind`. */
export function expectClose(kind: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  const err = maxRelError(actual, expected);
  worst.set(kind, Math.max(worst.get(kind) ?? 0, err));
  expect(err).toBeLessThan(tol);
}

/** Prints the worst error of each kind once the file's tests are done (numbers for the issue). */
export function reportErrors(file: string): void {
  afterAll(() => {
    const parts = [...worst].map(([kind, err]) => `${kind} ${err.toExponential(2)}`);
    console.log(`${file} max rel. errors: ${parts.join(', ')}`);
  });
}

/** Expects a reference's analytic gradient of the scalar f to match finite differences (float64). */
export function expectFiniteDifference(f: (x: Float64Array) => number, x: Float64Array, analytic: ArrayLike<number>): void {
  expect(maxRelError(analytic, finiteDifference(f, Float64Array.from(x)))).toBeLessThan(1e-7);
}
