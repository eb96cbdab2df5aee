// The conv tile lists, keys, candidates, timing crops and the family table with plain numbers (no GPU).
import { describe, expect, it } from 'vitest';
import type { Context } from '../../src/device/context.js';
import { gemmCandidates, gemmDefault, gemmRuns, gemmTiles } from '../../src/ops/conv/gemm.js';
import { checkConvolveTile, checkGradTile, convolveTiles, gradTiles, groupSize } from '../../src/ops/conv/register-tiles.js';
import type { ConvPass } from '../../src/ops/conv/family.js';
import { choose } from '../../src/ops/conv/path.js';
import type { ConvGeometry } from '../../src/ops/conv/shape.js';
import { tensorCoreBytes, tensorCoreTile, tensorCoreTiles, tileProblem } from '../../src/ops/conv/tensor-core.js';
import type { Tensor } from '../../src/core/tensor.js';
import { collectTunables } from '../../src/tuning/tuned.js';
import { Tuner } from '../../src/tuning/tuner.js';
import { convolveKey, crop, gradKey } from '../../src/tuning/conv.js';

const k5: ConvGeometry = { kernel: [5, 5, 5], stride: [1, 1, 1], padding: [2, 2, 2], dilation: [1, 1, 1] };

describe('register tiles', () => {
  it('a short list of distinct tiles, all within the kernel’s register arrays', () => {
    for (const list of [convolveTiles, gradTiles]) {
      expect(list.length).toBeLessThanOrEqual(3);
      expect(new Set(list.map((t) => t.name)).size).toBe(list.length);
    }
    for (const t of convolveTiles) checkConvolveTile('conv3d', t);
    for (const t of gradTiles) checkGradTile('conv3d', t);
    expect(() => checkGradTile('convTranspose3d', { ...gradTiles[0]!, KHT: 9 })).toThrow(
      'convTranspose3d: tile KHT must be an integer from 1 to 8, got 9',
    );
  });

  it('halves the workgroup while a volume gives fewer than two workgroups', () => {
    expect(groupSize(4096, 64)).toBe(64);
    expect(groupSize(64, 64)).toBe(32);
    expect(groupSize(32, 64)).toBe(16);
    expect(groupSize(4, 64)).toBe(8);
  });
});

describe('GEMM tiles', () => {
  const shapes = [1, 16, 100, 4096, 1 << 20].flatMap((M) =>
    [2, 16, 32, 64, 256, 2000].flatMap((N) => [8, 128, 2000, 32000].map((K) => ({ M, N, K }))),
  );

  it('defaults the kernel runs, as wide as N needs up to 128 columns', () => {
    for (const s of shapes) {
      for (const weightGrad of [false, true]) {
        const t = gemmDefault(s, weightGrad);
        expect(gemmRuns(t, weightGrad)).toBe(true);
        // Short K (the 2³/2 and 1³ convolutions) caps the width at 64, to give more workgroups.
        const wide = Math.min(128, Math.max(16, 2 ** Math.ceil(Math.log2(s.N))));
        if (!weightGrad && s.M > 32) expect(t.WN * t.TN).toBe(s.K <= 1024 ? Math.min(wide, 64) : wide);
      }
    }
  });

  it('candidates: the default first, at most four, distinct, each one the kernel runs', () => {
    for (const s of shapes) {
      for (const weightGrad of [false, true]) {
        const c = gemmCandidates(s, weightGrad);
        expect(c[0]).toBe(gemmDefault(s, weightGrad));
        expect(c.length).toBeLessThanOrEqual(4);
        expect(new Set(c.map((t) => t.name)).size).toBe(c.length);
        for (const t of c) expect(gemmRuns(t, weightGrad)).toBe(true);
      }
    }
    expect(new Set(gemmTiles.map((t) => t.name)).size).toBe(gemmTiles.length);
  });
});

describe('conv keys', () => {
  it('name the family and candidate set; bucket channels and voxels; keep geometry and direction exact', () => {
    const fwd = convolveKey('gpu (vulkan)', 'gpu', [2, 16, 32, 32, 32], 16, [32, 32, 32], k5, false);
    expect(fwd.adapter).toBe('gpu (vulkan)');
    expect(fwd.op).toMatch(/^conv\.convolve\.gpu\.v\d+$/);
    expect(fwd.shapeClass).toBe('cin16.cout16.voxels65536.w32.k5x5x5.stride1x1x1.dil1x1x1.t0');
    expect(convolveKey('gpu (vulkan)', 'gpu', [2, 12, 30, 30, 30], 13, [30, 30, 30], k5, false)).toEqual(fwd);
    expect(convolveKey('gpu (vulkan)', 'software', [2, 16, 32, 32, 32], 16, [32, 32, 32], k5, false).op).not.toBe(fwd.op);
    expect(convolveKey('gpu (vulkan)', 'gpu', [2, 16, 32, 32, 32], 16, [32, 32, 32], k5, true).shapeClass).toMatch(/\.t1$/);
    const down = { ...k5, kernel: [2, 2, 2], stride: [2, 2, 2] } as ConvGeometry;
    const grad = gradKey('gpu (vulkan)', 'software', [1, 32, 16, 16, 16], [1, 16, 32, 32, 32], down);
    expect(grad.op).toMatch(/^conv\.weightGrad\.software\.v\d+$/);
    expect(grad.shapeClass).toBe('a32.b16.voxels4096.w16.k2x2x2.stride2x2x2.dil1x1x1');
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

describe('tensor-core tiles', () => {
  const limits = (bytes: number): Context => ({ limits: { maxComputeWorkgroupStorageSize: bytes } }) as unknown as Context;

  it('fit 48 KiB of workgroup memory, each within the generated kernels', () => {
    expect(tensorCoreTiles.map((t) => [t.name, tensorCoreBytes(t)])).toEqual([
      ['tc128x128.f4x2', 49152],
      ['tc128x128.f4x4', 49152],
      ['tc128x64.f4x2', 34816],
      ['tc128x32.f4x1', 29696],
      ['tc128x16.f4x1', 25088],
      ['tc64x64.f2x2', 24576],
      ['tc64x32.f2x2', 17408],
      ['tc64x16.f4x1', 13824],
      ['tc32x16.f2x1', 8704],
      ['tc128x128.f4x4.bdirect', 28672],
      ['tc128x64.f4x2.bdirect', 24576],
      ['tc128x32.f4x1.bdirect', 24576],
      ['tc64x16.f4x1.bdirect', 11264],
    ]);
    for (const t of tensorCoreTiles) expect(tileProblem(t, limits(49152))).toBeNull();
    expect(tileProblem(tensorCoreTiles[0]!, limits(32768))).toBe("needs 49152 bytes of workgroup memory (the adapter's: 32768)");
    expect(tileProblem(tensorCoreTile(2, 1, 4, 2), limits(49152))).toBe(
      'must give each invocation 1 to 8 whole 16-byte loads of each operand a step',
    );
  });
});

describe('the family table', () => {
  // choose() reads only these of a context, and only the shapes of a pass's tensors.
  const context = (kernels: 'gpu' | 'software', precision: 'fp32' | 'mixed' = 'fp32', workgroupBytes = 49152) =>
    ({
      kernels,
      precision,
      adapterId: 'test',
      tuner: new Tuner(),
      limits: { maxComputeWorkgroupStorageSize: workgroupBytes },
    }) as unknown as Context;
  const t = (...shape: number[]) => ({ shape }) as unknown as Tensor;
  const down: ConvGeometry = { kernel: [2, 2, 2], stride: [2, 2, 2], padding: [0, 0, 0], dilation: [1, 1, 1] };
  const forward = (g: ConvGeometry, transposed = false): ConvPass => ({
    kind: 'convolve',
    op: 'conv3d',
    src: t(1, 4, 8, 8, 8),
    weight: t(8, 4, ...g.kernel),
    bias: null,
    outSpatial: transposed ? [16, 16, 16] : [8, 8, 8],
    geometry: g,
    transposed,
  });
  const grad = (g: ConvGeometry): ConvPass => ({
    kind: 'weightGrad',
    op: 'conv3d',
    lhs: t(1, 8, 4, 4, 4),
    src: t(1, 4, 8, 8, 8),
    geometry: g,
  });

  it('runs the first family of the context’s row that applies, untuned its default', () => {
    const software = context('software');
    expect(choose(forward(k5), software)).toBe(convolveTiles[0]);
    expect(choose(grad(k5), software)).toBe(gradTiles[0]);
    expect(choose(forward(down), software).family).toBe('block');
    expect(choose(grad(down), software).family).toBe('block');
    // A 5³ kernel with stride 5 is too big for the block kernel's registers: the register family runs it.
    expect(choose(forward({ ...k5, stride: [5, 5, 5], padding: [0, 0, 0] }), software)).toBe(convolveTiles[0]);
    const gpu = context('gpu');
    expect(choose(forward(k5), gpu)).toEqual(gemmDefault({ M: 512, N: 8, K: 500 }, false));
    expect(choose(grad(down), gpu)).toEqual(gemmDefault({ M: 8, N: 32, K: 64 }, true));
    // Mixed precision: the tensor-core family takes every pass, strided transposed ones included;
    // where none of its tiles fit the adapter's workgroup memory (init refuses such an adapter), none.
    const mixed = context('gpu', 'mixed');
    expect(choose(forward(k5), mixed).name).toBe('tc32x16.f2x1');
    expect(choose(forward(k5, true), mixed).name).toBe('tc32x16.f2x1');
    expect(choose(grad(down), mixed).name).toBe('tc32x16.f2x1');
    expect(choose(forward(down, true), mixed).name).toBe('tc32x16.f2x1');
    expect(() => choose(forward(k5), context('gpu', 'mixed', 8192))).toThrow(
      'conv3d: no conv kernel family takes this convolve pass on mma kernels',
    );
  });

  it('times the first family’s candidates, plus the register default on gpu kernels where the stride is not the kernel', () => {
    const requested = (pass: ConvPass, ctx: Context): string[][] =>
      collectTunables(() => choose(pass, ctx)).map((r) => r.candidates.map((c) => c.name));
    const gpu = context('gpu');
    const names = (tiles: readonly { name: string }[]) => tiles.map((c) => c.name);
    expect(requested(forward(k5), gpu)).toEqual([[...names(gemmCandidates({ M: 512, N: 8, K: 500 }, false)), convolveTiles[0]!.name]]);
    expect(requested(forward(down, true), gpu)).toEqual([names(gemmCandidates({ M: 512, N: 32, K: 4 }, false))]);
    expect(requested(forward(k5), context('software'))).toEqual([names(convolveTiles)]);
    // Tensor-core tiles at most twice as wide as the 8 output channels (rounded up to 16).
    expect(requested(forward(k5), context('gpu', 'mixed'))).toEqual([['tc32x16.f2x1', 'tc128x32.f4x1', 'tc128x16.f4x1', 'tc64x32.f2x2']]);
    // The block path has one variant: nothing to tune.
    expect(requested(forward(down), context('software'))).toEqual([]);
  });

  it('takes the tuned winner', async () => {
    const gpu = context('gpu');
    const candidates = [...gemmCandidates({ M: 512, N: 8, K: 500 }, false), convolveTiles[0]!];
    await gpu.tuner.tune(convolveKey('test', 'gpu', [1, 4, 8, 8, 8], 8, [8, 8, 8], k5, false), candidates, (v) =>
      v === convolveTiles[0] ? 1 : 2,
    );
    expect(choose(forward(k5), gpu)).toBe(convolveTiles[0]);
  });
});
