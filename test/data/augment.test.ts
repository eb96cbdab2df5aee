import { describe, it, expect } from 'vitest';
import { bsplineField, matchHistogram, mirror, randomBSplineField, randomControlGrid, warp } from '../../src/data/augment.js';
import { Rng } from '../../src/data/random.js';
import { quantileOfSorted, sortedCopy } from '../../src/data/quantile.js';
import type { Vec3 } from '../../src/image/volume.js';
import { rampVolume } from '../helpers/volumes.js';

const shape: Vec3 = [12, 10, 8];

describe('B-spline deformation', () => {
  it('a zero displacement field is exactly the identity, for images and labels', () => {
    const field = randomBSplineField(shape, new Rng(1), { sigma: 0 });
    expect(field.x.every((v) => v === 0)).toBe(true);
    const image = rampVolume('float32', shape).data;
    const label = rampVolume('uint8', shape).data;
    expect(Array.from(warp(image, shape, field, 'linear'))).toEqual(Array.from(image));
    const warpedLabel = warp(label, shape, field, 'nearest');
    expect(warpedLabel).toBeInstanceOf(Uint8Array);
    expect(Array.from(warpedLabel)).toEqual(Array.from(label));
  });

  it('equal control displacements give that displacement everywhere (the basis sums to one)', () => {
    const m = 6;
    const grid = {
      controlPoints: m,
      x: new Float64Array(m ** 3).fill(1),
      y: new Float64Array(m ** 3),
      z: new Float64Array(m ** 3).fill(-2.5),
    };
    const field = bsplineField(shape, grid);
    field.x.forEach((v) => expect(v).toBeCloseTo(1, 6));
    field.z.forEach((v) => expect(v).toBeCloseTo(-2.5, 6));
    // A one-voxel shift along x moves the data by one voxel.
    const image = rampVolume('float32', shape).data;
    const moved = warp(image, shape, { ...field, z: new Float32Array(image.length) }, 'linear');
    expect(moved[3 + 12 * 4]).toBeCloseTo(image[4 + 12 * 4], 5);
  });

  it('the same seed gives the same deformation; another seed another', () => {
    const image = rampVolume('float32', shape).data;
    const deform = (seed: number) => warp(image, shape, randomBSplineField(shape, new Rng(seed), { sigma: 3 }), 'linear');
    expect(Array.from(deform(7))).toEqual(Array.from(deform(7)));
    expect(Array.from(deform(7))).not.toEqual(Array.from(deform(8)));
  });

  it('is smooth and scaled by sigma, with the paper defaults of 5³ control points', () => {
    const grid = randomControlGrid(new Rng(3));
    expect(grid.x.length).toBe(125);
    const field = bsplineField([32, 32, 32], grid);
    const rms = Math.sqrt(field.x.reduce((s, v) => s + v * v, 0) / field.x.length);
    expect(rms).toBeGreaterThan(3);
    expect(rms).toBeLessThan(30);
    let largestStep = 0;
    for (let i = 1; i < 32; i++) largestStep = Math.max(largestStep, Math.abs(field.x[i] - field.x[i - 1]));
    expect(largestStep).toBeLessThan(rms);
    expect(() => randomControlGrid(new Rng(0), { controlPoints: 3 })).toThrow(/controlPoints/);
  });
});

describe('mirror', () => {
  it('reverses the chosen axes of every channel, keeps the type, and is its own inverse', () => {
    const [nx, ny, nz] = shape;
    const voxels = nx * ny * nz;
    const data = Uint16Array.from({ length: 2 * voxels }, (_, i) => i);
    for (let axes = 0; axes < 8; axes++) {
      const out = mirror(data, shape, axes, 2);
      expect(out).toBeInstanceOf(Uint16Array);
      for (const [c, x, y, z] of [
        [0, 0, 0, 0],
        [1, 3, 7, 5],
        [1, 11, 9, 7],
      ] as const) {
        const from = [axes & 1 ? nx - 1 - x : x, axes & 2 ? ny - 1 - y : y, axes & 4 ? nz - 1 - z : z] as const;
        expect(out[c * voxels + x + nx * (y + ny * z)], `axes ${axes}`).toBe(c * voxels + from[0] + nx * (from[1] + ny * from[2]));
      }
      expect(Array.from(mirror(out, shape, axes, 2))).toEqual(Array.from(data));
    }
    expect(mirror(data, shape, 0, 2)).toBe(data);
  });
});

describe('histogram matching', () => {
  it('gives the source the reference quantiles, monotonically', () => {
    const rng = new Rng(11);
    const source = Float32Array.from({ length: 20000 }, () => rng.normal(100, 20));
    const reference = Float32Array.from({ length: 15000 }, () => Math.exp(rng.normal(0, 0.5)) * 300);
    const matched = matchHistogram(source, reference);
    const [got, want] = [sortedCopy(matched), sortedCopy(reference)];
    for (const q of [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) {
      expect(quantileOfSorted(got, q)).toBeCloseTo(quantileOfSorted(want, q), -0.5); // within ±1.6 on ~300
    }
    const order = [...source.keys()].sort((a, b) => source[a] - source[b]);
    for (let i = 1; i < order.length; i++) expect(matched[order[i]]).toBeGreaterThanOrEqual(matched[order[i - 1]]);
  });

  it('keeps ties tied (a background of zeros stays one value)', () => {
    const source = [0, 0, 0, 0, 0, 0, 5, 6, 7, 8];
    const matched = matchHistogram(source, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(new Set(matched.slice(0, 6)).size).toBe(1);
    expect(matched[0]).toBeCloseTo(30, 2); // mid-rank of six ties out of ten: the 30% quantile
    expect(matched[9]).toBeCloseTo(100, 2);
    expect(matched[6]).toBeLessThan(matched[7]);
  });
});
