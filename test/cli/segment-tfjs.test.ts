// `voxgpu segment --model <folder>`: brainchop's model5_gw_ae (its brainchop.json and colormap beside it)
// through the CLI: the labels segmentScan gives in this process, written with the scan's geometry; the
// colormap's names and colours in the summary.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformedGrid, labelsToScanGrid, segmentScan, type Vec3 } from '../../src/index.js';
import { loadBrainchopModel, readVolume, writeVolume } from '../../src/node.js';
import { gpu, rng } from '../helpers.js';
import { voxgpu } from '../helpers/cli.js';
import { tempDir } from '../helpers/volumes.js';

const modelFolder = 'test/fixtures/brainchop/model5_gw_ae';

describe('voxgpu segment with a brainchop model', () => {
  it("writes brainchop's labels with the scan's geometry", async () => {
    const dir = tempDir();
    const shape: Vec3 = [20, 18, 16];
    const r = rng(5);
    const data = Uint8Array.from({ length: shape[0] * shape[1] * shape[2] }, () => Math.floor(256 * r()));
    // Axes flipped and permuted, anisotropic voxels: a geometry that only survives if the labels are mapped back.
    const scan = {
      shape,
      spacing: [1, 1.1, 1.2] as Vec3,
      origin: [-10, 4, 7] as Vec3,
      direction: [0, -1, 0, 0, 0, 1, -1, 0, 0] as [number, number, number, number, number, number, number, number, number],
      data,
    };
    await writeVolume(join(dir, 'scan.nii.gz'), scan);
    const run = await voxgpu(
      'segment',
      '--model',
      modelFolder,
      join(dir, 'scan.nii.gz'),
      '-o',
      join(dir, 'labels.nii.gz'),
      '--crop-padding',
      '2',
      '--max-tile-mib',
      '4',
      '--no-tune',
    );
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^wrote .*labels\.nii\.gz: voxels per class 0 background #000000: \d+, 1 White Matter #ffffff: \d+, 2 Grey Matter #cd3e4e: \d+\n$/,
    );
    const labels = await readVolume(join(dir, 'labels.nii.gz'));
    const written = await readVolume(join(dir, 'scan.nii.gz'));
    await gpu();
    const loaded = await loadBrainchopModel(modelFolder);
    // --crop-padding over brainchop.json's 18: a smaller crop, a faster test on a software adapter.
    const settings = { ...loaded.settings, options: { ...loaded.settings.options, cropPadding: 2 } };
    const onConformed = await segmentScan(loaded.model, written, settings, { space: 'conformed' });
    const expected = labelsToScanGrid(onConformed.labels, written);
    expect(labels.shape).toEqual(shape);
    expect(labels.origin).toEqual(written.origin);
    expect(labels.direction).toEqual(written.direction);
    expect(labels.spacing).toEqual(written.spacing);
    expect(Array.from(labels.data)).toEqual(Array.from(expected.data));

    // --conformed would write onConformed.labels: its grid is the conformed one.
    const grid = conformedGrid(written);
    expect([onConformed.labels.shape, onConformed.labels.direction]).toEqual([
      [256, 256, 256],
      [1, 0, 0, 0, 0, -1, 0, -1, 0],
    ]);
    onConformed.labels.origin.forEach((o, a) => expect(o).toBeCloseTo(grid.origin[a]!, 9));
    loaded.dispose();
  });
});
