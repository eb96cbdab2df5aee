import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  dice,
  distanceTransform,
  evaluateSegmentation,
  jaccard,
  largestConnectedComponent,
  relativeVolumeDifference,
  surfaceDistances,
  surfaceVoxels,
} from '../../src/metrics/index.js';
import { Rng } from '../../src/data/random.js';
import type { Vec3 } from '../../src/image/volume.js';

/** A mask of `shape` with the box [lo, hi) set. */
function box(shape: Vec3, lo: Vec3, hi: Vec3): Uint8Array {
  const mask = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (let z = lo[2]; z < hi[2]; z++)
    for (let y = lo[1]; y < hi[1]; y++) for (let x = lo[0]; x < hi[0]; x++) mask[x + shape[0] * (y + shape[1] * z)] = 1;
  return mask;
}

function coords(i: number, shape: Vec3): Vec3 {
  return [i % shape[0], Math.floor(i / shape[0]) % shape[1], Math.floor(i / (shape[0] * shape[1]))];
}

/** O(n²) reference: distance from every voxel to the nearest set voxel. */
function bruteForceDistance(mask: Uint8Array, shape: Vec3, spacing: Vec3): number[] {
  const set = [...mask.keys()].filter((i) => mask[i]).map((i) => coords(i, shape));
  return [...mask.keys()].map((i) => {
    const p = coords(i, shape);
    return Math.min(...set.map((q) => Math.hypot(...p.map((c, a) => (c - q[a]) * spacing[a]))));
  });
}

describe('overlap metrics', () => {
  const shape: Vec3 = [10, 10, 10];
  const a = box(shape, [0, 0, 0], [4, 4, 4]); // 64 voxels
  const b = box(shape, [2, 0, 0], [6, 4, 4]); // 64 voxels, 32 shared

  it('Dice, Jaccard and relative volume difference of two offset cubes', () => {
    expect(dice(a, b)).toBe((2 * 32) / 128);
    expect(jaccard(a, b)).toBe(32 / 96);
    expect(relativeVolumeDifference(box(shape, [0, 0, 0], [4, 4, 5]), a)).toBe(16 / 64);
    expect(relativeVolumeDifference(box(shape, [0, 0, 0], [4, 4, 2]), a)).toBe(-0.5);
  });

  it('defines the empty cases', () => {
    const empty = new Uint8Array(1000);
    expect([dice(empty, empty), jaccard(empty, empty), relativeVolumeDifference(empty, empty)]).toEqual([1, 1, 0]);
    expect([dice(a, empty), jaccard(empty, a), relativeVolumeDifference(a, empty)]).toEqual([0, 0, Infinity]);
    expect(relativeVolumeDifference(empty, a)).toBe(-1);
    expect(surfaceDistances(empty, empty, shape, [1, 1, 1])).toEqual({ hausdorff: 0, hausdorff95: 0, assd: 0 });
    expect(surfaceDistances(a, empty, shape, [1, 1, 1])).toEqual({ hausdorff: Infinity, hausdorff95: Infinity, assd: Infinity });
    expect(surfaceDistances(empty, a, shape, [1, 1, 1]).hausdorff).toBe(Infinity);
  });

  it('treats any non-zero value as foreground', () => {
    expect(
      dice(
        Float32Array.from(a, (v) => v * 0.7),
        Int16Array.from(a, (v) => -v),
      ),
    ).toBe(1);
  });
});

describe('Euclidean distance transform', () => {
  it('matches brute force on random masks with anisotropic spacing', () => {
    const rng = new Rng(5);
    for (const shape of [
      [7, 5, 4],
      [1, 9, 3],
      [6, 1, 1],
    ] as Vec3[]) {
      const spacing: Vec3 = [0.6, 1.3, 2.7];
      const mask = Uint8Array.from({ length: shape[0] * shape[1] * shape[2] }, () => (rng.next() < 0.08 ? 1 : 0));
      mask[rng.int(0, mask.length)] = 1;
      const edt = distanceTransform(mask, shape, spacing);
      bruteForceDistance(mask, shape, spacing).forEach((d, i) => expect(edt[i]).toBeCloseTo(d, 10));
    }
  });

  it('is Infinity everywhere for an empty mask', () => {
    expect(Array.from(distanceTransform(new Uint8Array(8), [2, 2, 2], [1, 1, 1]))).toEqual(Array(8).fill(Infinity));
  });
});

describe('surface distances', () => {
  it('a single-voxel shift along an anisotropic axis is one spacing', () => {
    const shape: Vec3 = [8, 8, 8];
    const spacing: Vec3 = [0.5, 0.8, 2.5];
    for (let axis = 0; axis < 3; axis++) {
      const lo: Vec3 = [2, 2, 2];
      const hi: Vec3 = [5, 6, 5];
      const shifted = (v: Vec3) => v.map((c, a) => c + (a === axis ? 1 : 0)) as Vec3;
      const d = surfaceDistances(box(shape, lo, hi), box(shape, shifted(lo), shifted(hi)), shape, spacing);
      expect(d.hausdorff).toBeCloseTo(spacing[axis], 12);
    }
  });

  it('two cubes offset by a known distance', () => {
    // 4³ cubes 3 voxels apart along x (1.5 mm) and 1 along z (2 mm): the far corners are √(1.5² + 2²) mm off.
    const shape: Vec3 = [12, 8, 8];
    const spacing: Vec3 = [0.5, 1, 2];
    const a = box(shape, [1, 1, 1], [5, 5, 5]);
    const b = box(shape, [4, 1, 2], [8, 5, 6]);
    const d = surfaceDistances(a, b, shape, spacing);
    expect(d.hausdorff).toBeCloseTo(Math.hypot(1.5, 2), 12);
    expect(evaluateSegmentation(a, b, shape, spacing).dice).toBeCloseTo((2 * 12) / 128, 12);
  });

  it('the surface of a box is its hull; a box touching the border keeps that face', () => {
    const shape: Vec3 = [5, 5, 5];
    expect(surfaceVoxels(box(shape, [1, 1, 1], [4, 4, 4]), shape).reduce((s, v) => s + v, 0)).toBe(27 - 1);
    expect(surfaceVoxels(box(shape, [0, 0, 0], [5, 5, 5]), shape).reduce((s, v) => s + v, 0)).toBe(125 - 27);
  });

  it('agrees with scipy (exact EDT, MedPy surfaces) on an anisotropic pair of ellipsoids', () => {
    const ref = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/metrics.json', import.meta.url)), 'utf8'));
    const m = evaluateSegmentation(Uint8Array.from(ref.pred), Uint8Array.from(ref.gt), ref.shape, ref.spacing);
    for (const key of ['dice', 'jaccard', 'hausdorff', 'hausdorff95', 'assd'] as const) {
      expect(m[key], key).toBeCloseTo(ref[key], 9);
    }
    expect(m.hausdorff).not.toBeCloseTo(m.hausdorff95, 3);
  });
});

describe('largestConnectedComponent', () => {
  const shape: Vec3 = [6, 6, 6];
  it('keeps the largest island only', () => {
    const mask = box(shape, [0, 0, 0], [2, 2, 2]);
    box(shape, [3, 3, 3], [6, 6, 5]).forEach((v, i) => (mask[i] |= v));
    expect(Array.from(largestConnectedComponent(mask, shape))).toEqual(Array.from(box(shape, [3, 3, 3], [6, 6, 5])));
  });

  it('joins diagonal neighbours with 26-connectivity but not with 6', () => {
    const mask = new Uint8Array(216);
    const at = (x: number, y: number, z: number) => x + 6 * (y + 6 * z);
    mask[at(1, 1, 1)] = mask[at(2, 2, 2)] = mask[at(3, 3, 3)] = 1;
    mask[at(5, 0, 0)] = mask[at(5, 0, 1)] = 1;
    expect(largestConnectedComponent(mask, shape, 26).reduce((s, v) => s + v, 0)).toBe(3);
    const six = largestConnectedComponent(mask, shape, 6);
    expect([six[at(5, 0, 0)], six[at(5, 0, 1)], six[at(2, 2, 2)]]).toEqual([1, 1, 0]);
  });

  it('leaves an empty mask empty', () => {
    expect(largestConnectedComponent(new Uint8Array(216), shape).some((v) => v)).toBe(false);
  });
});
