import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeMetaImage,
  decodeVolume,
  encodeMha,
  encodeMhd,
  encodeVolume,
  readMetaImage,
  readVolume,
  volumeFilesRead,
  volumeFilesWritten,
  writeMetaImage,
  writeVolume,
  type VoxelType,
} from '../../src/io/node.js';
import { expectGeometryClose, rampVolume, tempDir } from '../helpers/volumes.js';

const TYPES: VoxelType[] = ['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'];
const text = (s: string) => new TextEncoder().encode(s);

describe('MetaImage round trip', () => {
  for (const type of TYPES) {
    for (const compress of [false, true]) {
      it(`.mha ${type}${compress ? ' compressed' : ''}`, () => {
        const volume = rampVolume(type);
        const back = decodeMetaImage(encodeMha(volume, { compress }), 'x.mha');
        expect(back.data.constructor).toBe(volume.data.constructor);
        expect(Array.from(back.data)).toEqual(Array.from(volume.data));
        expect(back.shape).toEqual(volume.shape);
        // Text with shortest round-trip numbers: geometry comes back bit-exact.
        expect([back.spacing, back.origin, back.direction]).toEqual([volume.spacing, volume.origin, volume.direction]);
      });
    }
  }

  it('.mhd + .raw and compressed .mhd + .zraw by path', async () => {
    const dir = tempDir();
    const volume = rampVolume('int16');
    await writeMetaImage(join(dir, 'Case00.mhd'), volume);
    await writeMetaImage(join(dir, 'Case01.mhd'), volume, { compress: true });
    expect(readFileSync(join(dir, 'Case00.mhd'), 'utf8')).toContain('ElementDataFile = Case00.raw');
    expect(readFileSync(join(dir, 'Case00.raw')).length).toBe(2 * 60);
    expect(readFileSync(join(dir, 'Case01.mhd'), 'utf8')).toMatch(/CompressedData = True\nCompressedDataSize = \d+/);
    for (const name of ['Case00.mhd', 'Case01.mhd']) {
      const back = await readMetaImage(join(dir, name));
      expect(Array.from(back.data)).toEqual(Array.from(volume.data));
      expectGeometryClose(back, volume, 12);
    }
    expect(await volumeFilesRead(join(dir, 'Case01.mhd'))).toEqual([join(dir, 'Case01.mhd'), join(dir, 'Case01.zraw')]);
    expect(volumeFilesWritten(join(dir, 'x.mhd'))).toEqual([join(dir, 'x.mhd'), join(dir, 'x.raw')]);
  });

  it('dispatches on extension in both directions', async () => {
    const dir = tempDir();
    const volume = rampVolume('float32');
    for (const name of ['v.nii', 'v.nii.gz', 'v.mha', 'v.mhd']) {
      await writeVolume(join(dir, name), volume);
      expect(Array.from((await readVolume(join(dir, name))).data)).toEqual(Array.from(volume.data));
    }
    for (const name of ['v.nii', 'v.nii.gz', 'v.mha']) {
      expect(Array.from(decodeVolume(encodeVolume(volume, name)).data)).toEqual(Array.from(volume.data));
    }
    await expect(writeVolume(join(dir, 'v.png'), volume)).rejects.toThrow(/v\.png: unsupported file extension/);
  });

  it('reads 2-D images, key aliases, HeaderSize and big-endian data', () => {
    const header = text(
      'NDims = 2\nDimSize = 2 2\nElementSize = 9 9\nPosition = 1 2\nOrientation = 0 1 -1 0\n' +
        'ElementByteOrderMSB = True\nElementType = MET_USHORT\nHeaderSize = 3\nElementDataFile = d.raw\n',
    );
    const data = new Uint8Array([9, 9, 9, 0, 1, 0, 2, 1, 0, 0xff, 0xff]);
    const volume = decodeMetaImage(header, 'h.mhd', { 'd.raw': data });
    expect(Array.from(volume.data)).toEqual([1, 2, 256, 65535]);
    expect(volume.shape).toEqual([2, 2, 1]);
    expect(volume.spacing).toEqual([1, 1, 1]);
    expect(volume.origin).toEqual([1, 2, 0]);
    expect(volume.direction).toEqual([0, -1, 0, 1, 0, 0, 0, 0, 1]);
  });

  it('writes the data file before the header, and a missing data file is named', async () => {
    const dir = tempDir();
    await writeMetaImage(join(dir, 'a.mhd'), rampVolume('uint8'));
    rmSync(join(dir, 'a.raw'));
    await expect(readVolume(join(dir, 'a.mhd'))).rejects.toThrow(/a\.mhd: missing data file .*a\.raw/);
    expect(() => decodeMetaImage(encodeMhd(rampVolume('uint8'), 'a.raw').header, 'a.mhd')).toThrow(/^a\.mhd: missing data file a\.raw/);
  });
});

describe('MetaImage errors name the file and the problem', () => {
  const headerWith = (lines: string) => text(`ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\n${lines}\nElementDataFile = LOCAL\n`);
  const cases: [string, Uint8Array, RegExp][] = [
    ['binary junk', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 10, 3]), /^s\.mha: bad magic: line 1/],
    ['no ElementDataFile', text('NDims = 3\nDimSize = 1 1 1\n'), /truncated header: no ElementDataFile/],
    ['unsupported type', headerWith('ElementType = MET_LONG_LONG'), /unsupported ElementType MET_LONG_LONG/],
    ['missing type', headerWith('ElementSpacing = 1 1 1'), /missing ElementType/],
    ['bad DimSize', text('NDims = 3\nDimSize = 2 0 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n'), /invalid DimSize/],
    ['short spacing', headerWith('ElementType = MET_UCHAR\nElementSpacing = 1 1'), /ElementSpacing must be 3 numbers/],
    ['size mismatch', new Uint8Array([...headerWith('ElementType = MET_SHORT'), 1, 2, 3]), /size mismatch: expected 16 bytes got 3/],
    ['4-D', text('NDims = 4\nElementDataFile = LOCAL\n'), /4-D images are not supported/],
    ['file list', headerWith('ElementType = MET_UCHAR\nElementDataFile = LIST'), /file lists and patterns/],
    ['not an image', text('ObjectType = Tube\nElementDataFile = LOCAL\n'), /ObjectType "Tube" is not an Image/],
    [
      'compressed size',
      new Uint8Array([...headerWith('ElementType = MET_UCHAR\nCompressedData = True\nCompressedDataSize = 99'), 1]),
      /expected 99 compressed bytes got 1/,
    ],
    [
      'corrupt zlib',
      new Uint8Array([...headerWith('ElementType = MET_UCHAR\nCompressedData = True'), 0x78, 0x9c, 1, 2, 3, 4, 5]),
      /^s\.mha: (corrupt deflate|zlib)/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => expect(() => decodeMetaImage(bytes, 's.mha')).toThrow(message));
  }

  it('names the data file when its size is wrong', async () => {
    const dir = tempDir();
    await writeMetaImage(join(dir, 'a.mhd'), rampVolume('uint8'));
    writeFileSync(join(dir, 'a.raw'), new Uint8Array(7));
    await expect(readVolume(join(dir, 'a.mhd'))).rejects.toThrow(/a\.raw: size mismatch: expected 60 bytes got 7/);
    expect(existsSync(join(dir, 'a.mhd'))).toBe(true);
  });
});
