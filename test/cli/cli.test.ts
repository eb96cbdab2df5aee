import { describe, it, expect } from 'vitest';
import { copyFileSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeVolume } from '../../src/io/node.js';
import type { Vec3, Volume } from '../../src/image/volume.js';
import { tempDir } from '../helpers/volumes.js';
import { ROOT, voxgpu } from '../helpers/cli.js';

function cube(shape: Vec3, lo: number, hi: number, spacing: Vec3 = [0.5, 0.5, 2]): Volume {
  const data = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (let z = lo; z < hi; z++) for (let y = lo; y < hi; y++) for (let x = lo; x < hi; x++) data[x + shape[0] * (y + shape[1] * z)] = 1;
  return { data, shape, spacing, origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
}

describe('voxgpu CLI', () => {
  it('info prints the header of NIfTI and MetaImage files', async () => {
    const fixtures = join(ROOT, 'test/fixtures');
    const [nifti, mhd, json] = await Promise.all([
      voxgpu('info', join(fixtures, 'nibabel/int16-scaled.nii.gz')),
      voxgpu('info', join(fixtures, 'metaimage/uint8-zlib.mhd')),
      voxgpu('info', '--json', join(fixtures, 'metaimage/float32.mha')),
    ]);
    expect(nifti.code).toBe(0);
    expect(nifti.stdout).toMatch(/shape\s+4 x 3 x 2 \(x, y, z\)/);
    expect(nifti.stdout).toMatch(/spacing\s+0\.8 x 0\.9 x 3 mm/);
    expect(nifti.stdout).toMatch(/datatype\s+int16 \(scaled to float32\)/);
    expect(nifti.stdout).toMatch(/intensity\s+-13\.5 \.\. 21/);
    expect(mhd.stdout).toMatch(/format\s+MetaImage/);
    expect(JSON.parse(json.stdout)).toMatchObject({ shape: [4, 3, 2], spacing: [0.6, 0.6, 1.5], datatype: 'float32' });
  });

  it('evaluate prints the metrics table and JSON', async () => {
    const dir = tempDir();
    await writeVolume(join(dir, 'pred.nii.gz'), cube([8, 8, 8], 2, 6));
    await writeVolume(join(dir, 'gt.mha'), cube([8, 8, 8], 3, 7));
    const [table, json] = await Promise.all([
      voxgpu('evaluate', join(dir, 'pred.nii.gz'), join(dir, 'gt.mha')),
      voxgpu('evaluate', '--json', join(dir, 'pred.nii.gz'), join(dir, 'gt.mha')),
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Dice\s+0\.4219$/m); // 2·27 / (64 + 64)
    expect(table.stdout).toMatch(/Hausdorff distance\s+\S+ mm/);
    const metrics = JSON.parse(json.stdout);
    expect(metrics.dice).toBeCloseTo(54 / 128, 12);
    expect(metrics.hausdorff).toBeCloseTo(Math.hypot(0.5, 0.5, 2), 6);
  });

  it("evaluate reports an empty prediction's distances as Infinity", async () => {
    const dir = tempDir();
    await writeVolume(join(dir, 'empty.nii'), cube([4, 4, 4], 0, 0));
    await writeVolume(join(dir, 'gt.nii'), cube([4, 4, 4], 1, 3));
    const result = await voxgpu('evaluate', '--json', join(dir, 'empty.nii'), join(dir, 'gt.nii'));
    expect(JSON.parse(result.stdout)).toMatchObject({ dice: 0, hausdorff: 'Infinity' });
  });

  it('fails with a message and non-zero exit on bad arguments and unreadable files', async () => {
    const dir = tempDir();
    await writeVolume(join(dir, 'a.nii'), cube([4, 4, 4], 1, 3));
    await writeVolume(join(dir, 'b.nii'), cube([5, 4, 4], 1, 3));
    const [none, unknown, missing, corrupt, mismatch, badSpacing] = await Promise.all([
      voxgpu('info'),
      voxgpu('frobnicate'),
      voxgpu('info', join(dir, 'nope.nii')),
      voxgpu('info', join(ROOT, 'package.json')),
      voxgpu('evaluate', join(dir, 'a.nii'), join(dir, 'b.nii')),
      voxgpu('convert', join(dir, 'a.nii'), join(dir, 'c.nii'), '--spacing', '1,zero,1'),
    ]);
    for (const result of [none, unknown, missing, corrupt, mismatch, badSpacing]) expect(result.code).not.toBe(0);
    expect(none.stderr).toMatch(/missing required argument 'file'/);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(missing.stderr).toMatch(/voxgpu: error: .*nope\.nii/);
    expect(corrupt.stderr).toMatch(/voxgpu: error: .*package\.json: unsupported file extension/);
    expect(mismatch.stderr).toMatch(/a\.nii is 4x4x4 but .*b\.nii is 5x4x4/);
    expect(badSpacing.stderr).toMatch(/expected three positive numbers/);
  });

  it('--help documents each command', async () => {
    const results = await Promise.all(['info', 'evaluate', 'convert'].map((c) => voxgpu(c, '--help')));
    for (const result of results) expect(result.code).toBe(0);
    expect(results[1].stdout).toMatch(/Usage: voxgpu evaluate \[options\] <pred> <gt>/);
    expect(results[1].stdout).toMatch(/Empty masks/);
  });

  it('convert writes another format and refuses to overwrite an input, even with --force', async () => {
    const dir = tempDir();
    const input = join(dir, 'scan.mhd');
    await writeVolume(input, cube([6, 6, 4], 1, 4));
    const before = readFileSync(join(dir, 'scan.raw'));
    symlinkSync(join(dir, 'scan.raw'), join(dir, 'alias.raw'));
    copyFileSync(input, join(dir, 'other.mhd'));
    const [converted, same, viaDataFile, viaLink] = await Promise.all([
      voxgpu('convert', input, join(dir, 'scan.nii.gz'), '--spacing', '1,1,2', '--label'),
      voxgpu('convert', input, input, '--force'),
      voxgpu('convert', join(dir, 'other.mhd'), join(dir, 'scan.mhd'), '--force'), // would replace scan.raw too
      voxgpu('convert', input, join(dir, 'alias.mhd'), '--force'), // alias.raw is scan.raw
    ]);
    expect(converted.code).toBe(0);
    expect(existsSync(join(dir, 'scan.nii.gz'))).toBe(true);
    for (const refused of [same, viaDataFile, viaLink]) {
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/refusing to overwrite input file/);
    }
    expect(readFileSync(join(dir, 'scan.raw'))).toEqual(before);

    const again = await voxgpu('convert', input, join(dir, 'scan.nii.gz'));
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already exists \(use --force/);
  });
});
