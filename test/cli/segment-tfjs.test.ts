// `voxgpu segment --model model.json`: a TF.js layers-model (brainchop's model5_gw_ae) through the CLI,
// labels on the scan's grid equal to segmentBrainchop's in this process.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IDENTITY_DIRECTION, segmentBrainchop, type Vec3 } from '../../src/index.js';
import { loadTfjsModel, readVolume, writeVolume } from '../../src/node.js';
import { gpu, rng } from '../helpers.js';
import { voxgpu } from '../helpers/cli.js';

const modelJson = 'test/fixtures/brainchop/model5_gw_ae/model.json';

describe('voxgpu segment with a TF.js model', () => {
  it("writes brainchop's labels with the scan's geometry", { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'voxgpu-segment-tfjs-'));
    const shape: Vec3 = [20, 18, 16];
    const r = rng(5);
    const data = Uint8Array.from({ length: shape[0] * shape[1] * shape[2] }, () => Math.floor(256 * r()));
    const scan = { shape, spacing: [1, 1, 1.2] as Vec3, origin: [-10, 4, 7] as Vec3, direction: IDENTITY_DIRECTION, data };
    await writeVolume(join(dir, 'scan.nii.gz'), scan);
    const run = await voxgpu('segment', '--model', modelJson, join(dir, 'scan.nii.gz'), '-o', join(dir, 'labels.nii.gz'), '--crop-padding', '2', '--max-tile-mib', '0.5');
    expect(run.stderr).not.toContain('Error');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^wrote .*labels\.nii\.gz: voxels per class 0 background: \d+, 1 White Matter: \d+, 2 Grey Matter: \d+\n$/);
    const labels = await readVolume(join(dir, 'labels.nii.gz'));
    await gpu();
    const expected = await segmentBrainchop(await loadTfjsModel(modelJson), await readVolume(join(dir, 'scan.nii.gz')), { cropPadding: 2 });
    expect(labels.shape).toEqual(shape);
    expect(labels.spacing.map((s) => Math.fround(s))).toEqual([1, 1, Math.fround(1.2)]);
    expect(labels.origin).toEqual(expected.labels.origin);
    expect(Array.from(labels.data)).toEqual(Array.from(expected.labels.data));
  });
});
