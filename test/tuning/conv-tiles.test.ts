// The conv tile lists, keys and timing crops with plain numbers (no GPU).
import { describe, expect, it } from 'vitest';
import { checkConvolveTile, checkGradTile, convolveKey, convolveTiles, crop, gradKey, gradTiles, groupSize } from '../../src/ops/conv-tiles.js';
import type { ConvGeometry } from '../../src/ops/conv-shape.js';

const k5: ConvGeometry = { kernel: [5, 5, 5], stride: [1, 1, 1], padding: [2, 2, 2], dilation: [1, 1, 1] };

describe('conv tiles', () => {
  it('each tile is named by its constants (the name is what the tuning cache stores)', () => {
    for (const t of convolveTiles) expect(t.name).toBe(`COT${t.COT}.XV${t.maxXV}.WG${t.WG}`);
    for (const t of gradTiles) expect(t.name).toBe(`COT${t.COT}.KHT${t.KHT}.WG${t.WG}`);
  });

  it('a short list of distinct tiles, all within the kernel’s register arrays', () => {
    for (const list of [convolveTiles, gradTiles]) {
      expect(list.length).toBeLessThanOrEqual(6);
      expect(new Set(list.map((t) => t.name)).size).toBe(list.length);
    }
    for (const t of convolveTiles) checkConvolveTile('conv3d', t);
    for (const t of gradTiles) checkGradTile('conv3d', t);
    expect(() => checkGradTile('convTranspose3d', { ...gradTiles[0]!, KHT: 9 })).toThrow('convTranspose3d: tile KHT must be an integer from 1 to 8, got 9');
  });

  it('halves the workgroup while a volume gives fewer than two workgroups', () => {
    expect(groupSize(4096, 64)).toBe(64);
    expect(groupSize(64, 64)).toBe(32);
    expect(groupSize(32, 64)).toBe(16);
    expect(groupSize(4, 64)).toBe(8);
  });
});

describe('conv keys', () => {
  it('bucket channels and voxels, keep geometry and direction exact', () => {
    const fwd = convolveKey('gpu (vulkan)', [2, 16, 32, 32, 32], 16, [32, 32, 32], k5, false);
    expect(fwd).toEqual({ adapter: 'gpu (vulkan)', op: 'conv3d.convolve', shapeClass: 'cin16.cout16.voxels65536.w32.k5x5x5.stride1x1x1.dil1x1x1.t0' });
    expect(convolveKey('gpu (vulkan)', [2, 12, 30, 30, 30], 13, [30, 30, 30], k5, false)).toEqual(fwd);
    expect(convolveKey('gpu (vulkan)', [2, 16, 32, 32, 32], 16, [32, 32, 32], k5, true).shapeClass).toMatch(/\.t1$/);
    const down = { ...k5, kernel: [2, 2, 2], stride: [2, 2, 2] } as ConvGeometry;
    expect(gradKey('gpu (vulkan)', [1, 32, 16, 16, 16], [1, 16, 32, 32, 32], down)).toEqual({
      adapter: 'gpu (vulkan)',
      op: 'conv3d.weightGrad',
      shapeClass: 'a32.b16.voxels4096.w16.k2x2x2.stride2x2x2.dil1x1x1',
    });
  });
});

describe('timing crops', () => {
  it('keep small passes whole', () => {
    expect(crop(2, 16, 256, 16, 65536)).toEqual({ batch: 2, depth: 16, otherDepth: 16 });
  });

  it('drop batch entries first, then depth planes, cutting the other side in proportion', () => {
    expect(crop(4, 32, 1024, 32, 65536)).toEqual({ batch: 2, depth: 32, otherDepth: 32 });
    // The paper's top stage: 128×128 planes, 4 of them.
    expect(crop(1, 64, 128 * 128, 64, 65536)).toEqual({ batch: 1, depth: 4, otherDepth: 4 });
    // Stride 2 down: the source has twice the depth.
    expect(crop(1, 32, 64 * 64, 64, 65536)).toEqual({ batch: 1, depth: 16, otherDepth: 32 });
    // A plane beyond the budget still keeps one.
    expect(crop(1, 8, 512 * 512, 8, 65536)).toEqual({ batch: 1, depth: 1, otherDepth: 1 });
    expect(crop(3, 64, 128 * 128, 64, Infinity)).toEqual({ batch: 3, depth: 64, otherDepth: 64 });
  });
});
