import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { allocateVoxels, type Mat3, type Vec3, type Volume, type VoxelType } from '../../src/image/volume.js';

/** A rotation about z by `degrees` then about x by `tilt`: an oblique but orthonormal direction. */
export function obliqueDirection(degrees = 25, tilt = -10): Mat3 {
  const [a, b] = [(degrees * Math.PI) / 180, (tilt * Math.PI) / 180];
  const rz = [Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a), 0, 0, 0, 1];
  const rx = [1, 0, 0, 0, Math.cos(b), -Math.sin(b), 0, Math.sin(b), Math.cos(b)];
  const out = Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[3 * r + c] += rz[3 * r + k] * rx[3 * k + c];
  return out as Mat3;
}

/** Distinct values per voxel that fit every voxel type: v = (i + 3j + 7k) mod 100, minus 50 if signed. */
export function rampVolume(type: VoxelType, shape: Vec3 = [5, 4, 3], geometry: Partial<Volume> = {}): Volume {
  const data = allocateVoxels(type, shape[0] * shape[1] * shape[2]);
  const signed = !type.startsWith('uint');
  for (let k = 0, n = 0; k < shape[2]; k++) {
    for (let j = 0; j < shape[1]; j++) {
      for (let i = 0; i < shape[0]; i++, n++)
        data[n] = ((i + 3 * j + 7 * k) % 100) - (signed ? 50 : 0) + (type.startsWith('float') ? 0.25 : 0);
    }
  }
  return { data, shape, spacing: [0.7, 0.8, 2.5], origin: [-12.5, 30.25, 4], direction: obliqueDirection(), ...geometry };
}

/** A fresh temporary directory, removed after the current test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'voxgpu-test-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function expectGeometryClose(actual: Volume, expected: Pick<Volume, 'spacing' | 'origin' | 'direction'>, digits = 5): void {
  const close = (a: number[], b: number[]) =>
    a.forEach((v, i) => {
      if (Math.abs(v - b[i]) > 10 ** -digits * Math.max(1, Math.abs(b[i]))) {
        throw new Error(`expected [${a}] to be close to [${b}]`);
      }
    });
  close(actual.spacing, expected.spacing);
  close(actual.origin, expected.origin);
  close(actual.direction, expected.direction);
}
