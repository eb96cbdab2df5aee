import { describe, it, expect, vi } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pairCaseFiles, pairFolders } from '../../src/data/pairing.js';
import { batchIterator, prepareCase, type PreparedCase } from '../../src/data/loader.js';
import { findCases, loadCases } from '../../src/data/loader-node.js';
import { syntheticCase } from '../../src/data/synthetic.js';
import { writeVolume } from '../../src/io/node.js';
import type { Vec3, Volume } from '../../src/image/volume.js';
import { tempDir } from '../helpers/volumes.js';

function syntheticVolumes(seed: number, shape: Vec3, spacing: Vec3 = [0.8, 0.8, 2]): { image: Volume; label: Volume } {
  const { image, label } = syntheticCase(seed, [shape[2], shape[1], shape[0]]);
  const grid = { shape, spacing, origin: [1, 2, 3] as Vec3, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as Volume['direction'] };
  return { image: { ...grid, data: image }, label: { ...grid, data: label } };
}

describe('pairing images with labels', () => {
  it('PROMISE12 and _seg naming, ignoring data files and reporting strays', () => {
    const { cases, unpaired } = pairCaseFiles([
      'Case10.mhd',
      'Case10.raw',
      'Case10_segmentation.mhd',
      'Case10_segmentation.raw',
      'Case2.mhd',
      'Case2_segmentation.mhd',
      'a.nii.gz',
      'a_seg.nii.gz',
      'test.nii',
      'notes.txt',
    ]);
    expect(cases).toEqual([
      { id: 'a', image: 'a.nii.gz', label: 'a_seg.nii.gz' },
      { id: 'Case2', image: 'Case2.mhd', label: 'Case2_segmentation.mhd' },
      { id: 'Case10', image: 'Case10.mhd', label: 'Case10_segmentation.mhd' },
    ]);
    expect(unpaired).toEqual(['test.nii']);
  });

  it('images/ + labels/ folders by name, with or without a suffix', () => {
    const { cases, unpaired } = pairFolders(['p1.nii.gz', 'p2.nii.gz', 'p3.mha'], ['p1.nii.gz', 'p2_seg.nii.gz', 'p4.mha']);
    expect(cases.map((c) => [c.image, c.label])).toEqual([
      ['p1.nii.gz', 'p1.nii.gz'],
      ['p2.nii.gz', 'p2_seg.nii.gz'],
    ]);
    expect(unpaired).toEqual(['p3.mha', 'p4.mha']);
  });
});

describe('preparing cases', () => {
  it('resamples, crops/pads and z-scores, keeping the label aligned', () => {
    const { image, label } = syntheticVolumes(1, [40, 36, 12]);
    const prepared = prepareCase('c', image, label, { spacing: [1, 1, 1.5], size: [32, 32, 16] });
    expect(prepared.shape).toEqual([32, 32, 16]);
    expect(prepared.image.length).toBe(32 * 32 * 16);
    expect(new Set(prepared.label)).toEqual(new Set([0, 1]));
    // Same spacing and a size that fits: the label is exactly the source's, shifted by the centre crop.
    const same = prepareCase('c', image, label, { spacing: null, size: [40, 36, 12], normalize: 'none' });
    expect(Array.from(same.label)).toEqual(Array.from(label.data));
    expect(Array.from(same.image)).toEqual(Array.from(image.data));
  });

  it('keeps image and label aligned through resampling: an image that is its label stays its label', () => {
    const { label } = syntheticVolumes(1, [40, 36, 12]);
    const image = { ...label, data: Float32Array.from(label.data) };
    const prepared = prepareCase('c', image, label, { spacing: [1, 1, 1.5], size: [32, 32, 16], normalize: 'none' });
    // Trilinear weights sum to 1 and the nearest source voxel has the largest, at least 1/8: above 7/8
    // it is foreground, below 1/8 background. On any other grid the label lands elsewhere.
    const sure = { foreground: 0, background: 0 };
    const misplaced: number[] = [];
    prepared.image.forEach((v, i) => {
      if (v > 7 / 8) sure.foreground++;
      else if (v < 1 / 8) sure.background++;
      else return;
      if (prepared.label[i] !== (v > 7 / 8 ? 1 : 0)) misplaced.push(i);
    });
    expect(sure.foreground).toBeGreaterThan(100);
    expect(misplaced.length, 'voxels whose label is not the image').toBe(0);
  });
});

describe('batchIterator', () => {
  const cases: PreparedCase[] = [0, 1, 2].map((seed) => {
    const { image, label } = syntheticCase(seed, [8, 16, 16]);
    return { id: `c${seed}`, image, label, shape: [16, 16, 8] };
  });

  async function collect(options: Parameters<typeof batchIterator>[1]) {
    const out = [];
    for await (const batch of batchIterator(cases, options)) out.push(batch);
    return out;
  }

  it('yields [B,1,D,H,W] batches, every case once per epoch', async () => {
    const batches = await collect({ batchSize: 3, batches: 2, seed: 1, deformation: { sigma: 2 } });
    expect(batches[0].shape).toEqual([3, 1, 8, 16, 16]);
    expect(batches[0].image.length).toBe(3 * 16 * 16 * 8);
    expect([...batches[0].ids].sort()).toEqual(['c0', 'c1', 'c2']);
    expect(batches[1].label.every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('replays exactly with the same seed', async () => {
    const [a, b] = await Promise.all([collect({ batches: 3, seed: 9 }), collect({ batches: 3, seed: 9 })]);
    expect(a.map((x) => x.ids)).toEqual(b.map((x) => x.ids));
    expect(Array.from(a[2].image)).toEqual(Array.from(b[2].image));
  });

  it('without augmentation passes cases through unchanged', async () => {
    const [batch] = await collect({ batchSize: 1, batches: 1, deformation: false, histogramMatching: false });
    const source = cases.find((c) => c.id === batch.ids[0])!;
    expect(Array.from(batch.image)).toEqual(Array.from(source.image));
  });

  it('prepares the next batch while the consumer awaits', async () => {
    vi.useFakeTimers();
    try {
      const iterator = batchIterator(cases, { batchSize: 1, batches: 3 });
      const first = iterator.next();
      await vi.runOnlyPendingTimersAsync(); // makes batch 1
      await first;
      expect(vi.getTimerCount()).toBe(1); // batch 2 is already queued before the consumer asks for it
      await vi.runOnlyPendingTimersAsync(); // the consumer awaits its GPU work: batch 2 gets made
      expect(vi.getTimerCount()).toBe(0);
      expect((await iterator.next()).done).toBe(false); // ready without any further task
      await iterator.return(undefined);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects cases of different sizes', async () => {
    const odd = [...cases, { ...cases[0], id: 'odd', shape: [4, 4, 4] as Vec3 }];
    await expect(batchIterator(odd).next()).rejects.toThrow(/case odd is \[4,4,4\]/);
  });
});

describe('loading a dataset folder', () => {
  it('reads PROMISE12-style MetaImage pairs and images/ + labels/ NIfTI folders', async () => {
    const dir = tempDir();
    for (const seed of [0, 1]) {
      const { image, label } = syntheticVolumes(seed, [24, 24, 8]);
      await writeVolume(join(dir, `Case0${seed}.mhd`), image);
      await writeVolume(join(dir, `Case0${seed}_segmentation.mhd`), label);
    }
    const cases = await loadCases(dir, { size: [16, 16, 8] });
    expect(cases.map((c) => c.id)).toEqual(['Case00', 'Case01']);

    const nested = join(dir, 'nifti');
    mkdirSync(join(nested, 'images'), { recursive: true });
    mkdirSync(join(nested, 'labels'));
    const { image, label } = syntheticVolumes(2, [20, 20, 6]);
    await writeVolume(join(nested, 'images', 'p.nii.gz'), image);
    await writeVolume(join(nested, 'labels', 'p.nii.gz'), label);
    writeFileSync(join(nested, 'images', 'README'), 'not a volume');
    expect((await findCases(nested)).cases).toEqual([
      { id: 'p', image: join(nested, 'images', 'p.nii.gz'), label: join(nested, 'labels', 'p.nii.gz') },
    ]);
    await expect(findCases(join(nested, 'images'))).rejects.toThrow(/no image\/label pairs found/);
  });
});
