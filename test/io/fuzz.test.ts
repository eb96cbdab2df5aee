import { describe, it, expect } from 'vitest';
import { decodeMetaImage, decodeNifti, encodeMha, encodeMhd, encodeNifti, voxelCount, type Volume } from '../../src/io/index.js';
import { Rng } from '../../src/data/random.js';
import { rampVolume } from '../helpers/volumes.js';

/**
 * Damaged files must fail with an Error that names the file, or (for a flip the format cannot detect, such as
 * one in a description or a spacing) decode to a self-consistent volume. Never a hang, never a crash from
 * inside a parser, never a volume whose data does not match its shape.
 */
function outcome(decode: () => Volume, name: string): Volume | 'threw' {
  let volume: Volume;
  try {
    volume = decode();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message.startsWith(`${name}: `), (error as Error).message).toBe(true);
    return 'threw';
  }
  expect(volume.data.length).toBe(voxelCount(volume.shape));
  expect([...volume.spacing, ...volume.origin, ...volume.direction].every(Number.isFinite)).toBe(true);
  return volume;
}

function flipBit(bytes: Uint8Array, rng: Rng, from: number, to: number): Uint8Array {
  const copy = bytes.slice();
  copy[rng.int(from, to)] ^= 1 << rng.int(0, 8);
  return copy;
}

const ROUNDS = 400;
const volume = rampVolume('int16', [6, 5, 4]);

const formats: { name: string; bytes: Uint8Array; decode: (b: Uint8Array, name: string) => Volume; header: number; checked: number }[] = [
  // header: bytes where flips go; checked: from where on every flip must be detected (payload checksums).
  { name: 'f.nii', bytes: encodeNifti(volume), decode: decodeNifti, header: 352, checked: Infinity },
  { name: 'f.nii.gz', bytes: encodeNifti(volume, { gzip: true }), decode: decodeNifti, header: Infinity, checked: 10 },
  {
    name: 'f.mha',
    bytes: encodeMha(volume),
    decode: (b, n) => decodeMetaImage(b, n),
    header: encodeMhd(volume, 'LOCAL').header.length,
    checked: Infinity,
  },
  {
    name: 'z.mha',
    bytes: encodeMha(volume, { compress: true }),
    decode: (b, n) => decodeMetaImage(b, n),
    header: Infinity,
    checked: encodeMhd(volume, 'LOCAL', { compress: true }).header.length,
  },
];

describe('fuzzed readers', () => {
  for (const format of formats) {
    it(`${format.name}: every truncation is rejected`, () => {
      const rng = new Rng(1);
      for (let round = 0; round < ROUNDS; round++) {
        const length = round < 40 ? round : rng.int(0, format.bytes.length);
        expect(outcome(() => format.decode(format.bytes.slice(0, length), format.name), format.name)).toBe('threw');
      }
    });

    it(`${format.name}: bit flips are rejected or decode consistently`, () => {
      const rng = new Rng(2);
      const end = Math.min(format.header, format.bytes.length);
      let threw = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const position = rng.int(0, end);
        const damaged = flipBit(format.bytes, new Rng(round), position, position + 1);
        const result = outcome(() => format.decode(damaged, format.name), format.name);
        if (result === 'threw') threw++;
        // Past the header, checksums guard the voxels: a flip either fails or changed nothing that decodes
        // (a deflate stream has a few bits that do not affect its output).
        else if (position >= format.checked) expect(Array.from(result.data), `flip at byte ${position}`).toEqual(Array.from(volume.data));
      }
      expect(threw).toBeGreaterThan(ROUNDS / 20);
    });

    it(`${format.name}: random garbage bursts never crash or hang`, () => {
      const rng = new Rng(3);
      for (let round = 0; round < ROUNDS / 4; round++) {
        const damaged = format.bytes.slice();
        const at = rng.int(0, damaged.length);
        for (let i = at; i < Math.min(damaged.length, at + rng.int(1, 16)); i++) damaged[i] = rng.int(0, 256);
        outcome(() => format.decode(damaged, format.name), format.name);
      }
    });
  }
});
