// The GPU augmentation against its CPU float64 reference (augment.ts) on random inputs, with the
// tolerances stated in src/data/augment-gpu.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { bsplineField, matchHistogram, mirror, randomControlGrid, warp, type ControlGrid } from '../../src/data/augment.js';
import { bsplineFieldGpu, histogramGpu, matchHistogramGpu, warpGpu } from '../../src/data/augment-gpu.js';
import { Rng } from '../../src/data/random.js';
import { tensor, type Tensor } from '../../src/core/tensor.js';
import type { Vec3 } from '../../src/image/volume.js';
import { gpu, maxAbsDiff } from '../helpers.js';

const shape: Vec3 = [13, 11, 9];
const voxels = shape[0] * shape[1] * shape[2];

beforeAll(async () => {
  await gpu();
});

async function read(t: Tensor): Promise<Float32Array> {
  const values = await t.toArray();
  t.dispose();
  return values;
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

function randomVolume(seed: number, n = voxels, mean = 0, std = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal(mean, std));
}

function cpuField(grid: ControlGrid): Float32Array {
  const f = bsplineField(shape, grid);
  const flat = new Float32Array(3 * voxels);
  [f.x, f.y, f.z].forEach((a, i) => flat.set(a, i * voxels));
  return flat;
}

describe('bsplineFieldGpu', () => {
  it('matches bsplineField within 1e-5 of the largest control displacement, for 5 and 7 control points', async () => {
    for (const [seed, controlPoints] of [
      [1, 5],
      [2, 7],
    ] as const) {
      const grid = randomControlGrid(new Rng(seed), { controlPoints, sigma: 4 });
      const got = await read(bsplineFieldGpu(shape, grid));
      const scale = Math.max(maxAbs(grid.x), maxAbs(grid.y), maxAbs(grid.z));
      expect(maxAbsDiff(got, cpuField(grid))).toBeLessThan(1e-5 * scale);
    }
  });

  it('is exactly zero for a zero grid, and rejects a grid of the wrong size', async () => {
    const got = await read(bsplineFieldGpu(shape, randomControlGrid(new Rng(0), { sigma: 0 })));
    expect(got.every((v) => v === 0)).toBe(true);
    const bad = { controlPoints: 5, x: new Float64Array(125), y: new Float64Array(124), z: new Float64Array(125) };
    expect(() => bsplineFieldGpu(shape, bad)).toThrow(
      'bsplineFieldGpu: a control grid of 5³ points needs 125 values per axis (m ≥ 4), got 125, 124, 125',
    );
  });
});

describe('warpGpu', () => {
  const image = randomVolume(3, voxels, 2, 5);
  const label = Uint8Array.from(randomVolume(4), (v) => (v > 0.3 ? 1 : 0));

  it('is exactly the identity for a zero field', async () => {
    const field = tensor(new Float32Array(3 * voxels), [3, shape[2], shape[1], shape[0]]);
    const out = warpGpu(tensor(image), tensor(label), field, shape);
    expect(Array.from(await read(out.image))).toEqual(Array.from(image));
    expect(Array.from(await read(out.label))).toEqual(Array.from(label));
  });

  it('matches warp() on a random field that reaches outside the volume', async () => {
    const grid = randomControlGrid(new Rng(5), { sigma: 4 });
    const flat = cpuField(grid);
    const field = { x: flat.subarray(0, voxels), y: flat.subarray(voxels, 2 * voxels), z: flat.subarray(2 * voxels) };
    const wantImage = warp(image, shape, field, 'linear', -7);
    const wantLabel = warp(label, shape, field, 'nearest');
    const out = warpGpu(tensor(image), tensor(label), tensor(flat), shape, { outside: -7 });
    const gotImage = await read(out.image);
    const gotLabel = await read(out.label);
    expect(wantImage.some((v) => v === -7)).toBe(true); // some points fall outside
    expect(maxAbsDiff(gotImage, wantImage)).toBeLessThan(1e-4 * maxAbs(image));
    // Labels agree except where a sample point is within float32 rounding of where nearest-neighbour
    // rounding flips (q + 0.5 an integer; the out-of-volume edges, half a voxel out, are such points too).
    const flipsNear = (q: number) => Math.abs(q + 0.5 - Math.round(q + 0.5)) < 1e-4;
    for (let n = 0; n < voxels; n++) {
      const p = [n % shape[0], Math.floor(n / shape[0]) % shape[1], Math.floor(n / (shape[0] * shape[1]))];
      const ambiguous = p.some((v, a) => flipsNear(v + flat[a * voxels + n]!));
      if (!ambiguous) expect(gotLabel[n], `voxel ${n}`).toBe(wantLabel[n]);
    }
  });

  it('mirrors exactly: the same samples as without, written to the mirrored voxels', async () => {
    const flat = cpuField(randomControlGrid(new Rng(6), { sigma: 3 }));
    const plain = warpGpu(tensor(image), tensor(label), tensor(flat), shape);
    const [plainImage, plainLabel] = [await read(plain.image), await read(plain.label)];
    for (const axes of [1, 2, 4, 7]) {
      const out = warpGpu(tensor(image), tensor(label), tensor(flat), shape, { mirror: axes });
      expect(Array.from(await read(out.image)), `axes ${axes}`).toEqual(Array.from(mirror(plainImage, shape, axes)));
      expect(Array.from(await read(out.label)), `axes ${axes}`).toEqual(Array.from(mirror(plainLabel, shape, axes)));
    }
    expect(() => warpGpu(tensor(image), tensor(label), tensor(flat), shape, { mirror: 8 })).toThrow(
      'warpGpu: mirror must be a set of axes from 0 to 7 (bit 0 x, 1 y, 2 z), got 8',
    );
  });

  it('writes into a batch at an offset, and names the op and shapes for bad input', async () => {
    const batchImage = tensor(new Float32Array(2 * voxels).fill(9));
    const batchLabel = tensor(new Float32Array(2 * voxels).fill(9));
    const zero = tensor(new Float32Array(3 * voxels));
    warpGpu(tensor(image), tensor(label), zero, shape, { into: { image: batchImage, label: batchLabel, offset: voxels } });
    const got = await read(batchImage);
    expect(got.subarray(0, voxels).every((v) => v === 9)).toBe(true);
    expect(Array.from(got.subarray(voxels))).toEqual(Array.from(image));
    expect(() => warpGpu(tensor(image), tensor(label), tensor(new Float32Array(voxels)), shape)).toThrow(
      `warpGpu: field [${voxels}] does not fit a volume of [13,11,9] voxels: expected [3, 9, 11, 13]`,
    );
    expect(() => warpGpu(tensor([1, 2]), tensor(label), zero, shape)).toThrow(
      `warpGpu: image [2] has 2 values, expected ${voxels} for a volume of [13,11,9] voxels`,
    );
    const small = tensor(new Float32Array(voxels));
    expect(() => warpGpu(tensor(image), tensor(label), zero, shape, { into: { image: small, label: small, offset: 2 } })).toThrow(
      `warpGpu: target image [${voxels}] has no room for ${voxels} values at offset 2`,
    );
  });
});

describe('matchHistogramGpu', () => {
  it('matches matchHistogram on random volumes of different sizes, bin for bin', async () => {
    // Values at bin centres: no value is within rounding of a bin edge, so every bin agrees. Prime
    // sizes keep source quantiles off reference cdf steps, where the reference's float64 sums of
    // 1/n may round either way (the GPU compares integer counts exactly).
    const rng = new Rng(8);
    const bins = 1000;
    const centred = (n: number, draw: () => number) => {
      const v = Float32Array.from({ length: n }, () => Math.min(999, Math.max(0, Math.floor(draw()))) + 0.5);
      [v[0], v[1]] = [0, 1000];
      return v;
    };
    const source = centred(3001, () => rng.normal(400, 120));
    const reference = centred(2003, () => Math.exp(rng.normal(5, 0.6)));
    const want = matchHistogram(source, reference, { bins });
    const got = await read(matchHistogramGpu(tensor(source), tensor(reference), { bins }));
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-6 * 1000 * 4);
  });

  it('with the default 65536 bins, agrees on all but values at bin edges, and keeps quantiles', async () => {
    const source = randomVolume(9, 20000, 100, 20);
    const reference = Float32Array.from(randomVolume(10, 15000), (v) => Math.exp(0.5 * v) * 300);
    const want = matchHistogram(source, reference);
    const got = await read(matchHistogramGpu(tensor(source), tensor(reference)));
    let close = 0;
    for (let i = 0; i < got.length; i++) if (Math.abs(got[i]! - want[i]!) <= 1e-5 * maxAbs(reference)) close++;
    expect(close / got.length).toBeGreaterThan(0.99);
    const sorted = (a: Float32Array) => Float64Array.from(a).sort();
    expect(maxAbsDiff(sorted(got), sorted(want))).toBeLessThan(0.01 * maxAbs(reference));
  });

  it('maps a volume to itself onto its bin centres (within half a bin), and is bit-identical run to run', async () => {
    const values = randomVolume(12, voxels, 0, 3);
    const t = tensor(values);
    const h = histogramGpu(t);
    const first = await read(matchHistogramGpu(h, h));
    const second = await read(matchHistogramGpu(t, t));
    h.dispose();
    expect(Array.from(second)).toEqual(Array.from(first));
    const range = Math.max(...values) - Math.min(...values);
    // Half a bin, and a little more for a value that float32 rounding puts in the next bin.
    expect(maxAbsDiff(first, values)).toBeLessThanOrEqual(0.51 * (range / 65536));
    // Against the CPU: a value at a bin edge may land one bin (one bin centre) away.
    expect(maxAbsDiff(first, matchHistogram(values, values))).toBeLessThanOrEqual(1.01 * (range / 65536));
  });

  it('names the op for bad input', () => {
    expect(() => histogramGpu(tensor([1, 2]), 0)).toThrow('histogramGpu: bins must be a positive integer, got 0');
    const h = histogramGpu(tensor([1, 2, 3]), 8);
    expect(() => matchHistogramGpu(h, tensor([1, 2]), { bins: 16 })).toThrow(
      'matchHistogramGpu: source and reference histograms have 8 and 16 bins',
    );
    expect(() => matchHistogramGpu(h, h, { into: tensor([0, 0, 0]), offset: 1 })).toThrow(
      'matchHistogramGpu: target [3] has no room for 3 values at offset 1',
    );
  });
});
