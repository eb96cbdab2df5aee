import { describe, it, expect } from 'vitest';
import { resampleToGrid, resampleToSpacing, gridWithSpacing } from '../../src/data/resample.js';
import { centerCropOrPad, cropOrPad, undoCenterCropOrPad } from '../../src/data/crop.js';
import { rescaleIntensity, zscore } from '../../src/data/intensity.js';
import { indexToWorld, type Vec3, type Volume } from '../../src/image/volume.js';
import { obliqueDirection, rampVolume } from '../helpers/volumes.js';

/** v = 2x + 3y − z + 1 in world millimetres along the voxel axes: trilinear interpolation reproduces it exactly. */
function linearRamp(shape: Vec3, spacing: Vec3): Volume {
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  for (let k = 0, n = 0; k < shape[2]; k++)
    for (let j = 0; j < shape[1]; j++)
      for (let i = 0; i < shape[0]; i++, n++) data[n] = 2 * i * spacing[0] + 3 * j * spacing[1] - k * spacing[2] + 1;
  return { data, shape, spacing, origin: [3, -4, 5], direction: obliqueDirection() };
}

describe('resampling', () => {
  it('to the same spacing is an exact copy (images and labels)', () => {
    for (const type of ['float32', 'uint8', 'int16'] as const) {
      const volume = rampVolume(type, [7, 6, 5], { spacing: [0.7, 0.9, 1.3], direction: obliqueDirection() });
      for (const mode of ['linear', 'nearest'] as const) {
        const out = resampleToSpacing(volume, [0.7, 0.9, 1.3], mode);
        expect(Array.from(out.data)).toEqual(Array.from(volume.data));
        expect(out.data.constructor).toBe(mode === 'nearest' ? volume.data.constructor : Float32Array);
      }
    }
  });

  it('reproduces a linear ramp exactly on a finer and a coarser grid', () => {
    const volume = linearRamp([9, 8, 6], [1, 1, 3]);
    for (const spacing of [
      [0.5, 0.25, 1.5],
      [2, 1, 6],
    ] as Vec3[]) {
      const out = resampleToSpacing(volume, spacing, 'linear');
      expect(out.shape).toEqual(gridWithSpacing(volume, spacing).shape);
      for (let k = 0, n = 0; k < out.shape[2]; k++)
        for (let j = 0; j < out.shape[1]; j++)
          for (let i = 0; i < out.shape[0]; i++, n++) {
            // The new grid spans the old extent; between the outer voxel centres interpolation is exact, beyond
            // them the edge value holds.
            const [x, y, z] = [i, j, k].map((c, a) => {
              const ratio = spacing[a] / volume.spacing[a];
              return Math.min(Math.max((ratio - 1) / 2 + c * ratio, 0), volume.shape[a] - 1) * volume.spacing[a];
            });
            expect(out.data[n]).toBeCloseTo(2 * x + 3 * y - z + 1, 4);
          }
    }
  });

  it('nearest keeps labels as labels and round-trips onto the original grid', () => {
    const labels = rampVolume('uint8', [8, 8, 4], { spacing: [1, 1, 3] });
    const fine = resampleToSpacing(labels, [0.5, 0.5, 1.5], 'nearest');
    expect(fine.data).toBeInstanceOf(Uint8Array);
    expect(new Set(fine.data)).toEqual(new Set(labels.data));
    expect(Array.from(resampleToGrid(fine, labels, 'nearest').data)).toEqual(Array.from(labels.data));
  });

  it('fills points beyond half a voxel outside with the outside value', () => {
    const volume = rampVolume('float32', [4, 4, 4], { direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], spacing: [1, 1, 1] });
    const shifted = { ...volume, origin: [volume.origin[0] + 10, volume.origin[1], volume.origin[2]] as Vec3 };
    expect(Array.from(resampleToGrid(volume, shifted, 'linear', -7).data).every((v) => v === -7)).toBe(true);
  });
});

describe('centre crop / pad', () => {
  it('crops and pads around the centre, moving the origin with the data', () => {
    const volume = rampVolume('int16', [7, 4, 5]);
    const out = centerCropOrPad(volume, [4, 6, 5]); // crop x by 3 (start 1), pad y by 2 (start -1)
    expect(out.origin).toEqual(indexToWorld(volume, [1, -1, 0]));
    const at = (v: Volume, i: number, j: number, k: number) => v.data[i + v.shape[0] * (j + v.shape[1] * k)];
    expect(at(out, 0, 1, 2)).toBe(at(volume, 1, 0, 2));
    expect(at(out, 3, 4, 4)).toBe(at(volume, 4, 3, 4));
    expect(at(out, 2, 0, 1)).toBe(0);
    expect(at(out, 2, 5, 1)).toBe(0);
  });

  it('undo puts every kept voxel back where it was, for odd and even differences', () => {
    const volume = rampVolume('float32', [9, 6, 5]);
    for (const shape of [
      [4, 8, 5],
      [5, 9, 2],
      [12, 3, 7],
    ] as Vec3[]) {
      const cropped = centerCropOrPad(volume, shape);
      const back = undoCenterCropOrPad(cropped, volume.shape);
      expect(back.origin.map((o, a) => o - volume.origin[a]).every((d) => Math.abs(d) < 1e-9)).toBe(true);
      const again = centerCropOrPad(back, shape);
      expect(Array.from(again.data)).toEqual(Array.from(cropped.data));
    }
  });

  it('pads with a fill value', () => {
    const out = cropOrPad(rampVolume('float32', [2, 2, 2]), [3, 2, 2], [0, 0, 0], -1);
    expect(out.data[2]).toBe(-1);
  });
});

describe('intensity normalisation', () => {
  it('rescales to a range, optionally by percentiles with clipping', () => {
    expect(Array.from(rescaleIntensity([2, 4, 6]))).toEqual([0, 0.5, 1]);
    expect(Array.from(rescaleIntensity([2, 4, 6], { min: -1, max: 1 }))).toEqual([-1, 0, 1]);
    const values = Array.from({ length: 101 }, (_, i) => i);
    values[100] = 1e6;
    const out = rescaleIntensity(values, { lowerPercentile: 1, upperPercentile: 99 });
    expect(out[0]).toBe(0);
    expect(out[100]).toBe(1);
    expect(out[50]).toBeCloseTo((50 - 1) / (99 - 1), 6);
    expect(Array.from(rescaleIntensity([3, 3]))).toEqual([0, 0]);
  });

  it('z-scores over all voxels or a mask', () => {
    const out = zscore([1, 2, 3, 4]);
    expect(out.reduce((s, v) => s + v, 0)).toBeCloseTo(0, 6);
    expect(out.reduce((s, v) => s + v * v, 0) / 4).toBeCloseTo(1, 6);
    expect(Array.from(zscore([10, 1, 3, 100], [0, 1, 1, 0]))).toEqual([8, -1, 1, 98]);
    expect(Array.from(zscore([5, 5]))).toEqual([0, 0]);
  });
});
