import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNifti, encodeNifti, readNifti, writeNifti, readVolume, type VoxelType } from '../../src/io/node.js';
import { expectGeometryClose, rampVolume, tempDir } from '../helpers/volumes.js';

const TYPES: VoxelType[] = ['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'];

describe('NIfTI-1 round trip', () => {
  for (const type of TYPES) {
    for (const gzip of [false, true]) {
      it(`${type}${gzip ? ' gzipped' : ''}: same voxels, type and geometry`, () => {
        const volume = rampVolume(type);
        const back = decodeNifti(encodeNifti(volume, { gzip }), 'x.nii');
        expect(back.data.constructor).toBe(volume.data.constructor);
        expect(Array.from(back.data)).toEqual(Array.from(volume.data));
        expect(back.shape).toEqual(volume.shape);
        expectGeometryClose(back, volume);
      });
    }
  }

  it('applies scl_slope / scl_inter and reports the stored type', () => {
    const bytes = encodeNifti(rampVolume('int16'));
    const view = new DataView(bytes.buffer);
    view.setFloat32(112, 0.5, true);
    view.setFloat32(116, -3, true);
    const back = decodeNifti(bytes, 'scaled.nii');
    expect(back.data).toBeInstanceOf(Float32Array);
    expect(back.storedType).toBe('int16');
    expect(Array.from(back.data)).toEqual(Array.from(rampVolume('int16').data, (v) => v * 0.5 - 3));
  });

  it('keeps a sheared (non-rotation) geometry exactly in the sform and writes no qform', () => {
    const volume = rampVolume('float32', [3, 3, 3], { direction: [1, 0.2, 0, 0, 0.9797958971, 0, 0, 0, 1] });
    const bytes = encodeNifti(volume);
    expect(new DataView(bytes.buffer).getInt16(252, true)).toBe(0); // qform_code
    expectGeometryClose(decodeNifti(bytes), volume);
  });

  it('keeps the source qform/sform codes, and reads a qform when there is no sform', () => {
    const volume = { ...rampVolume('uint8'), niftiCodes: { qform: 1, sform: 0 } };
    const back = decodeNifti(encodeNifti(volume));
    expect(back.niftiCodes).toEqual({ qform: 1, sform: 0 });
    expectGeometryClose(back, volume);
  });

  it('reads and writes files by path, gzip chosen by the .gz extension', async () => {
    const dir = tempDir();
    const volume = rampVolume('float32');
    for (const name of ['a.nii', 'a.nii.gz']) {
      await writeNifti(join(dir, name), volume);
      const back = await readNifti(join(dir, name));
      expect(Array.from(back.data)).toEqual(Array.from(volume.data));
    }
    expect(readFileSync(join(dir, 'a.nii.gz')).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(readFileSync(join(dir, 'a.nii')).length).toBe(352 + 4 * 60);
  });
});

describe('NIfTI-1 errors name the file and the problem', () => {
  const good = encodeNifti(rampVolume('int16'));
  const mutate = (edit: (view: DataView, bytes: Uint8Array) => void) => {
    const bytes = good.slice();
    edit(new DataView(bytes.buffer), bytes);
    return bytes;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['bad magic', mutate((_, b) => b.set([0x41, 0x42, 0x43, 0], 344)), /^scan\.nii: bad magic/],
    ['wrong sizeof_hdr', mutate((v) => v.setInt32(0, 12345, true)), /^scan\.nii: bad magic/],
    ['NIfTI-2', mutate((v) => v.setInt32(0, 540, true)), /NIfTI-2 files are not supported/],
    ['hdr/img pair', mutate((_, b) => b.set([0x6e, 0x69, 0x31, 0], 344)), /\.hdr\/\.img pairs are not supported/],
    ['unsupported datatype', mutate((v) => v.setInt16(70, 1024, true)), /unsupported datatype code 1024/],
    ['bitpix mismatch', mutate((v) => v.setInt16(72, 8, true)), /bitpix 8 does not match datatype int16/],
    [
      '4-D',
      mutate((v) => {
        v.setInt16(40, 4, true);
        v.setInt16(48, 2, true);
      }),
      /4-D images are not supported/,
    ],
    ['truncated data', good.slice(0, good.length - 1), /size mismatch: expected 472 bytes got 471/],
    ['trailing bytes', new Uint8Array([...good, 0]), /size mismatch: expected 472 bytes got 473/],
    ['truncated header', good.slice(0, 100), /truncated header: expected at least 348 bytes got 100/],
    ['infinite slope', mutate((v) => v.setFloat32(112, Infinity, true)), /invalid scl_slope/],
    ['zero spacing sform', mutate((v) => [280, 296, 312].forEach((o) => v.setFloat32(o, 0, true))), /degenerate sform/],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => expect(() => decodeNifti(bytes, 'scan.nii')).toThrow(message));
  }

  it('uses <buffer> when bytes have no name', () => {
    expect(() => decodeNifti(good.slice(0, 10))).toThrow(/^<buffer>: truncated header/);
  });

  it('rejects a corrupt gzip stream by its CRC', () => {
    const gz = encodeNifti(rampVolume('int16'), { gzip: true });
    gz[gz.length - 6] ^= 1; // inside the CRC-32 trailer
    expect(() => decodeNifti(gz, 'scan.nii.gz')).toThrow(/^scan\.nii\.gz: gzip CRC\/size mismatch/);
  });

  it('names the path for files read from disk', async () => {
    await expect(readVolume(join(tempDir(), 'missing.nii'))).rejects.toThrow(/missing\.nii/);
  });
});
