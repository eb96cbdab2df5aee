import { describe, expect, it } from 'vitest';
import { conform, conformedGrid, conformIntensityScale, conformSamples, labelsToScanGrid } from '../../src/data/conform.js';
import type { Mat3, Vec3, Volume } from '../../src/image/volume.js';
import { rng } from '../helpers.js';
import { obliqueDirection } from '../helpers/volumes.js';
import { conformedAffine, conformReference, rasAffine } from '../reference/conform.js';

function scanOf(data: Volume['data'], shape: Vec3, spacing: Vec3, direction: Mat3, origin: Vec3): Volume {
  return { data, shape, spacing, direction, origin };
}

const count = (s: Vec3) => s[0] * s[1] * s[2];

// Voxel sizes whose ratios to the conformed spacing are not simple fractions: no sample lands exactly on an
// integer index, where NiiVue's float32 matrices and our float64 ones may round either way.

/** Oblique, anisotropic, float32 with a bright spot. */
function obliqueScan(): Volume {
  const shape: Vec3 = [23, 19, 14];
  const r = rng(1);
  const data = Float32Array.from({ length: count(shape) }, () => 100 + 900 * r());
  data[500] = 5000;
  return scanOf(data, shape, [0.9, 1.3, 2.1], obliqueDirection(25, -10), [-11.3, 7.9, 4.2]);
}

/** Axes permuted and flipped, anisotropic, int16 with negative values and a few hot voxels. */
function flippedScan(): Volume {
  const shape: Vec3 = [17, 21, 12];
  const r = rng(2);
  const data = Int16Array.from({ length: count(shape) }, () => Math.floor(-200 + 1700 * r()));
  for (let i = 0; i < 9; i++) data[Math.floor(r() * data.length)] = 30000;
  return scanOf(data, shape, [1.1, 0.8, 1.7], [0, 0, -1, -1, 0, 0, 0, 1, 0], [40.5, -3.25, 12]);
}

/** uint8, x and z flipped, a dark border: NiiVue subtracts the central minimum (17) and does not rescale. */
function uint8Scan(): Volume {
  const shape: Vec3 = [20, 18, 16];
  const r = rng(3);
  const data = new Uint8Array(count(shape));
  for (let k = 0, n = 0; k < 16; k++)
    for (let j = 0; j < 18; j++)
      for (let i = 0; i < 20; i++, n++) {
        const inside = i >= 2 && i < 18 && j >= 2 && j < 16 && k >= 2 && k < 14;
        data[n] = inside ? 17 + Math.floor(233 * r()) : 0;
      }
  return scanOf(data, shape, [1.05, 0.95, 1.15], [-1, 0, 0, 0, 1, 0, 0, 0, -1], [9.5, -20, 33.3]);
}

const scans: [string, () => Volume][] = [
  ['oblique float32', obliqueScan],
  ['flipped int16', flippedScan],
  ['uint8', uint8Scan],
];

describe('conform (NiiVue 0.62.0 for brainchop)', () => {
  it.each(scans)("puts the %s scan on FreeSurfer's 256³ 1 mm LIA grid, centred as mri_convert --conform", (_, make) => {
    const scan = make();
    const grid = conformedGrid(scan);
    expect(grid.shape).toEqual([256, 256, 256]);
    expect(grid.spacing).toEqual([1, 1, 1]);
    const expected = conformedAffine(scan);
    rasAffine(grid).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-9));
    // LIA: voxel axes run towards Left, Inferior, Anterior in RAS (columns of the affine).
    const a = rasAffine(grid);
    expect([0, 1, 2, 4, 5, 6, 8, 9, 10].map((i) => a[i]! + 0)).toEqual([-1, 0, 0, 0, 0, 1, 0, -1, 0]);
  });

  it.each(scans)('samples the %s scan as the float64 reference does (trilinear and nearest)', (_, make) => {
    const scan = make();
    for (const interpolation of ['linear', 'nearest'] as const) {
      const got = conformSamples(scan, { size: 40, spacing: 1.5, interpolation }).data;
      const ref = conformReference(scan, { size: 40, mm: 1.5, linear: interpolation === 'linear' }).samples;
      let inside = 0;
      for (let i = 0; i < ref.length; i++) {
        if (Number.isNaN(ref[i]!)) expect(got[i]).toBeNaN();
        else expect(Math.abs(got[i]! - ref[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref[i]!)));
        if (ref[i] !== 0) inside++;
      }
      expect(inside).toBeGreaterThan(500); // the scan lies inside the cube, not beside it
    }
  });

  it.each(scans)("applies NiiVue's intensity rule to the %s scan: uint8 equal to the reference", (_, make) => {
    const scan = make();
    const got = conform(scan, { size: 40, spacing: 1.5 });
    expect(got.data).toBeInstanceOf(Uint8Array);
    const ref = conformReference(scan, { size: 40, mm: 1.5 }).scaled;
    let nearInteger = 0;
    for (let i = 0; i < ref.length; i++) {
      const r = ref[i]!;
      const expected = Number.isNaN(r) ? 0 : Math.trunc(r);
      // float32 samples and float64 matrices: a value within 1e-3 of an integer may truncate either way.
      if (!Number.isNaN(r) && Math.abs(r - Math.round(r)) < 1e-3 && r > 0.5) {
        nearInteger++;
        expect(Math.abs(got.data[i]! - expected)).toBeLessThanOrEqual(1);
      } else expect(got.data[i]).toBe(expected);
    }
    expect(nearInteger).toBeLessThan(ref.length / 100);
  });

  it('shifts a uint8 scan by its central minimum without rescaling; other types map [min, 99.9th percentile] to 0..255', () => {
    expect(conformIntensityScale(uint8Scan())).toEqual({ min: 17, scale: 1 });
    const flipped = flippedScan();
    const { min, scale } = conformIntensityScale(flipped);
    // The hot voxels (0.04 %) lie past the 99.9th percentile of the non-zero voxels: the range ends below them.
    expect(255 / scale + min).toBeLessThan(1600);
    expect(255 / scale + min).toBeGreaterThan(1400);
    const out = conform(flipped, { size: 40, spacing: 1.5 });
    expect(Math.max(...out.data)).toBe(255);
  });

  it("copies a scan already on its conformed grid, except where NiiVue's zero-weight far neighbour lies past the array", () => {
    const shape: Vec3 = [6, 6, 6];
    const data = Uint8Array.from({ length: 216 }, (_, i) => 10 + (i % 97));
    const scan = scanOf(data, shape, [1, 1, 1], [1, 0, 0, 0, 0, -1, 0, -1, 0], [2.5, -7, 3]);
    const out = conform(scan, { size: 6 });
    expect(out.origin).toEqual(scan.origin);
    const { min } = conformIntensityScale(scan);
    // Voxel i blends i + 1, i + 6 (next row) and i + 36 (next slice) with weight 0 on the grid; from i = 173
    // on, i + 1 + 6 + 36 is past the 216 voxels: undefined · 0 = NaN in NiiVue, stored as 0.
    expect(Array.from(out.data)).toEqual(Array.from(data, (v, i) => (i + 1 + 6 + 36 >= 216 ? 0 : v - min)));
  });

  it('round-trips labels: conformed by nearest neighbour and mapped back onto the scan grid, unchanged', () => {
    const shape: Vec3 = [19, 14, 11];
    const r = rng(4);
    const labels = Uint8Array.from({ length: count(shape) }, () => Math.floor(5 * r()));
    labels[Math.floor(count(shape) / 2) + 9] = 0; // a 0 in the centre: conform's uint8 shift is 0
    const scan = scanOf(labels, shape, [1.2, 1.5, 2], [0, 0, -1, -1, 0, 0, 0, 1, 0], [30.1, -12.7, 8.4]);
    const conformed = conform(scan, { interpolation: 'nearest' });
    expect(conformed.shape).toEqual([256, 256, 256]);
    const back = labelsToScanGrid(conformed, scan);
    expect(back.shape).toEqual(shape);
    expect(back.origin).toEqual(scan.origin);
    expect(back.direction).toEqual(scan.direction);
    expect(back.spacing).toEqual(scan.spacing);
    expect(back.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(back.data)).toEqual(Array.from(labels));
  });

  it('refuses bad options and labels not on the conformed grid, naming what it expected', () => {
    const scan = uint8Scan();
    expect(() => conform(scan, { size: 0 })).toThrow('conform: size must be a positive integer, got 0');
    expect(() => conform(scan, { size: 2.5 })).toThrow('conform: size must be a positive integer, got 2.5');
    expect(() => conform(scan, { spacing: -1 })).toThrow('conform: spacing must be a positive number of mm, got -1');
    expect(() => conform(scan, { interpolation: 'cubic' as 'linear' })).toThrow(
      "conform: interpolation must be 'linear' or 'nearest', got 'cubic'",
    );
    const nan = { ...flippedScan(), data: new Float32Array(count([17, 21, 12])).fill(Number.NaN) };
    expect(() => conform(nan, { size: 8 })).toThrow('conform: the central part of the scan holds no finite value');
    const labels = conform(scan, { size: 8 });
    expect(() => labelsToScanGrid({ ...labels, origin: [0, 0, 0] }, scan)).toThrow(
      `labelsToScanGrid: the labels' grid (shape [8,8,8], spacing [1,1,1], origin [0,0,0], direction [1,0,0,0,0,-1,0,-1,0]) is ` +
        `not the conformed grid of the scan (shape [8,8,8], spacing [1,1,1], origin [${labels.origin}], direction [1,0,0,0,0,-1,0,-1,0])`,
    );
  });
});
