import { describe, it, expect } from 'vitest';
import { decodeVolume, encodeNifti, encodeMha, tensorDataToVolume, volumeToTensorData } from '../../src/io/index.js';
import { resampleToGrid, resampleToSpacing } from '../../src/data/resample.js';
import { rampVolume } from '../helpers/volumes.js';

describe('volume ⇄ tensor data', () => {
  it('is [1, 1, D, H, W] = [1, 1, nz, ny, nx] with the same flat order (no transpose)', () => {
    const volume = rampVolume('float32', [5, 4, 3]);
    const tensor = volumeToTensorData(volume);
    expect(tensor.shape).toEqual([1, 1, 3, 4, 5]);
    expect(tensor.data).toBe(volume.data); // float32 is shared, not copied
    // Tensor element [0, 0, d, h, w] is voxel (x = w, y = h, z = d).
    const [d, h, w] = [2, 1, 3];
    expect(tensor.data[w + 5 * (h + 4 * d)]).toBe(volume.data[3 + 5 * (1 + 4 * 2)]);
  });

  it('converts other voxel types to float32 and back onto the grid', () => {
    const volume = { ...rampVolume('int16', [5, 4, 3]), niftiCodes: { qform: 2, sform: 4 } };
    const { data, shape } = volumeToTensorData(volume);
    expect(data).toBeInstanceOf(Float32Array);
    const back = tensorDataToVolume(data, shape, volume);
    expect(Array.from(back.data)).toEqual(Array.from(volume.data));
    expect([back.shape, back.spacing, back.origin, back.direction, back.niftiCodes]).toEqual([
      volume.shape,
      volume.spacing,
      volume.origin,
      volume.direction,
      volume.niftiCodes,
    ]);
    expect(() => tensorDataToVolume(data, [1, 1, 3, 5, 4], volume)).toThrow(/does not match volume grid/);
  });

  it("a prediction resampled back onto its scan keeps the scan's NIfTI codes", () => {
    const scan = decodeVolume(encodeNifti({ ...rampVolume('int16'), niftiCodes: { qform: 1, sform: 2 } }), 'scan.nii');
    const network = resampleToSpacing(scan, [1, 1, 1.5], 'linear');
    expect(resampleToGrid(network, scan, 'nearest').niftiCodes).toEqual({ qform: 1, sform: 2 });
  });

  it('sniffs the format of unnamed bytes', () => {
    const volume = rampVolume('uint8');
    for (const bytes of [encodeNifti(volume), encodeNifti(volume, { gzip: true }), encodeMha(volume)]) {
      expect(Array.from(decodeVolume(bytes).data)).toEqual(Array.from(volume.data));
    }
  });
});
