import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readVolume, voxelTypeOf, type Volume } from '../../src/io/node.js';
import { expectGeometryClose } from '../helpers/volumes.js';

// Written by nibabel and by an independent MetaImage writer (test/fixtures/make-fixtures.py).
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

interface Expected {
  shape: [number, number, number];
  dtype: string;
  spacing: [number, number, number];
  origin: [number, number, number];
  direction: Volume['direction'];
  values: number[];
}
const expected = JSON.parse(readFileSync(`${FIXTURES}expected.json`, 'utf8')) as Record<string, Expected>;

describe('volumes written by other tools', () => {
  for (const [file, want] of Object.entries(expected)) {
    it(`${file} (${want.dtype})`, async () => {
      const volume = await readVolume(FIXTURES + file);
      expect(volume.shape).toEqual(want.shape);
      expect(Array.from(volume.data)).toEqual(want.values);
      expectGeometryClose(volume, want);
      expect(volume.storedType ?? voxelTypeOf(volume.data)).toBe(want.dtype);
    });
  }
});
