// The GEMM family (src/ops/conv/gemm.ts) beyond what the op tests cover: every tile the kernel
// takes is exact for every pass, K split or not; results are bit-identical run to run; tiles
// the kernel cannot hold and unknown families are rejected by name; path.ts runs each family
// where it is asked for; and init's answer for the mixed precision where the adapter lacks tensor
// cores (conv-tensor-core.test.ts checks them).
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { getContext, init, randn, tensor, type Tensor } from '../../src/index.js';
import type { Dispatch } from '../../src/device/context.js';
import { conv3d } from '../../src/ops/conv/conv3d.js';
import { checkGemmTile, gemmRuns, gemmTile, gemmTiles } from '../../src/ops/conv/gemm.js';
import { maxRelError, randomArray } from '../helpers.js';
import { conv3dRef, type ConvCase } from '../reference/conv.js';
import { conv3dOnPaths, forwardError, gradErrors } from './conv-harness.js';

const tolerance = 1e-5;

// A padded 3³ conv with 20 output channels (partial column tiles), a strided one whose transposed
// pass skips the taps that miss, and a 2³/2 one whose transposed pass scatters.
const cases: Record<string, ConvCase> = {
  '3×3×3 padding 1, 5→20 channels': {
    xShape: [2, 5, 5, 6, 7],
    wShape: [20, 5, 3, 3, 3],
    stride: [1, 1, 1],
    padding: [1, 1, 1],
    dilation: [1, 1, 1],
  },
  '3×3×3 stride 2, dilation (1, 2, 1)': {
    xShape: [1, 3, 7, 8, 6],
    wShape: [6, 3, 3, 3, 3],
    stride: [2, 2, 2],
    padding: [1, 2, 1],
    dilation: [1, 2, 1],
  },
  '2×2×2 stride 2': { xShape: [2, 6, 4, 6, 8], wShape: [17, 6, 2, 2, 2], stride: [2, 2, 2], padding: [0, 0, 0], dilation: [1, 1, 1] },
};

/** The override constants of every GEMM dispatch while fn runs. */
function gemmDispatches(fn: () => void): Dispatch[] {
  const spy = vi.spyOn(getContext(), 'dispatch');
  try {
    fn();
    return (spy.mock.calls as [Dispatch][]).map(([d]) => d).filter((d) => d.kernel.startsWith('conv/gemm'));
  } finally {
    spy.mockRestore();
  }
}

describe('the GEMM family', () => {
  beforeAll(async () => {
    await init({ kernels: 'gpu' });
  });

  // The candidates, and a 32-invocation tile that stages two columns per invocation (as the
  // tensor-core tiles do).
  for (const t of [...gemmTiles, gemmTile(8, 8, 8, 4, 16)]) {
    it(`tile ${t.name} is exact for every pass`, async () => {
      const grad = gemmRuns(t, true) ? t : gemmTiles.find((g) => gemmRuns(g, true))!;
      const op = conv3dOnPaths(gemmRuns(t, false) ? t : gemmTiles[0]!, grad);
      for (const [name, c] of Object.entries(cases)) {
        const e = await gradErrors(op, c, 7);
        expect(await forwardError(op, c, 8), name).toBeLessThan(tolerance);
        expect(Math.max(e.x, e.weight, e.bias), name).toBeLessThan(tolerance);
      }
    });
  }

  it('splits K where the output tiles are few, and not where they fill the GPU', () => {
    const small = gemmDispatches(() => conv3d(randn([1, 8, 4, 4, 4]), randn([8, 8, 3, 3, 3]), null, { padding: 1 }));
    // K chunks: kChunk below K, and as many workgroups along z per column tile.
    const split = small.find((d) => d.entry === 'forward')!.params!;
    expect(split.kChunk).toBeLessThan(split.K as number);
    const x = randn([1, 2, 16, 64, 64]);
    const w = randn([3, 2, 3, 3, 3]);
    const big = gemmDispatches(() => conv3d(x, w, null, { padding: 1 }));
    const whole = big.find((d) => d.entry === 'forward')!.params!;
    expect(whole.kChunk).toBeGreaterThanOrEqual(whole.K as number);
  });

  it('is exact without a split K (65536 output voxels)', async () => {
    const c: ConvCase = { xShape: [1, 2, 16, 64, 64], wShape: [3, 2, 3, 3, 3], stride: [1, 1, 1], padding: [1, 1, 1], dilation: [1, 1, 1] };
    const x = randomArray(2 * 16 * 64 * 64, 3);
    const w = randomArray(3 * 2 * 27, 4);
    const b = randomArray(3, 5);
    const out = conv3d(tensor(x, c.xShape), tensor(w, c.wShape), tensor(b, [3]), { padding: 1 });
    expect(maxRelError(await out.toArray(), conv3dRef(c, x, w, b))).toBeLessThan(tolerance);
  });

  it('gives bit-identical results run to run, partial sums included', async () => {
    const run = async (): Promise<Float32Array[]> => {
      const x = tensor(randomArray(2 * 6 * 6 * 6 * 8, 11), [2, 6, 6, 6, 8], { requiresGrad: true });
      const w = tensor(randomArray(16 * 6 * 125, 12), [16, 6, 5, 5, 5], { requiresGrad: true });
      const y = conv3d(x, w, null, { padding: 2 });
      y.backward(tensor(randomArray(y.size, 13), y.shape));
      return [await y.toArray(), await x.grad!.toArray(), await w.grad!.toArray()] as Float32Array[];
    };
    const [a, b] = [await run(), await run()];
    for (let i = 0; i < a.length; i++) expect(Buffer.from(b[i]!.buffer).equals(Buffer.from(a[i]!.buffer))).toBe(true);
  });

  it('rejects tiles its kernel cannot hold, by name', () => {
    expect(() => checkGemmTile('conv3d', gemmTile(2, 4, 16, 16, 16), false)).toThrow(
      'conv3d: GEMM tile gemm32x64.t2x4.k16 must have TM and TN of 4 or 8',
    );
    expect(() => checkGemmTile('conv3d', gemmTile(4, 4, 8, 6, 16), false)).toThrow(
      'conv3d: GEMM tile gemm32x24.t4x4.k16 must have BM and BN dividing the invocations, or up to 4 times as many',
    );
    expect(() => checkGemmTile('conv3d', gemmTile(8, 8, 16, 16, 16), true)).toThrow(
      'conv3d: GEMM tile gemm128x128.t8x8.k16 must fit the workgroup arrays (weight gradient)',
    );
    expect(() => checkGemmTile('conv3d', gemmTile(4, 4, 32, 16, 16), false)).toThrow(
      'conv3d: GEMM tile gemm128x64.t4x4.k16 must have at most 256 invocations',
    );
  });
});

describe('the kernels option', () => {
  const saved = process.env.VOXGPU_KERNELS;
  afterEach(() => {
    if (saved === undefined) delete process.env.VOXGPU_KERNELS;
    else process.env.VOXGPU_KERNELS = saved;
  });

  /** The conv kernels a small conv3d forward and backward dispatches. */
  function kernelsOf(): Set<string> {
    const spy = vi.spyOn(getContext(), 'dispatch');
    try {
      const x: Tensor = randn([1, 2, 4, 4, 8], { requiresGrad: true });
      conv3d(x, randn([3, 2, 3, 3, 3], { requiresGrad: true }), null, { padding: 1 }).backward(randn([1, 3, 4, 4, 8]));
      return new Set((spy.mock.calls as [Dispatch][]).map(([d]) => d.kernel).filter((k) => k.startsWith('conv/')));
    } finally {
      spy.mockRestore();
    }
  }

  it('forces a family on any adapter, and auto picks by the adapter', async () => {
    expect((await init({ kernels: 'gpu' })).describe().kernels).toBe('gpu');
    expect(kernelsOf()).toEqual(new Set(['conv/gemm']));
    expect((await init({ kernels: 'software' })).describe().kernels).toBe('software');
    expect(kernelsOf()).toEqual(new Set(['conv/register']));
    const auto = await init({ kernels: 'auto' });
    expect(auto.describe().kernels).toBe(auto.describe().isSoftware ? 'software' : 'gpu');
  });

  it('reads VOXGPU_KERNELS, and rejects unknown names', async () => {
    process.env.VOXGPU_KERNELS = 'gpu';
    expect((await init()).kernels).toBe('gpu');
    process.env.VOXGPU_KERNELS = 'fast';
    await expect(init()).rejects.toThrow("init: unknown kernels 'fast' (from VOXGPU_KERNELS); expected one of auto, gpu, software");
    // @ts-expect-error: not a family
    await expect(init({ kernels: 'cuda' })).rejects.toThrow("init: unknown kernels 'cuda'; expected one of auto, gpu, software");
  });
});

describe('the mixed precision', () => {
  const saved = process.env.VOXGPU_PRECISION;
  afterEach(() => {
    if (saved === undefined) delete process.env.VOXGPU_PRECISION;
    else process.env.VOXGPU_PRECISION = saved;
  });

  it("'mixed' says why an adapter cannot run it; 'mixed-if-available' falls back to fp32", async ({ skip }) => {
    const ctx = await init({ precision: 'mixed-if-available' });
    if (ctx.precision === 'mixed') skip('this adapter has tensor cores: the tests below check them');
    expect(ctx.describe().precision).toBe('fp32');
    await expect(init({ precision: 'mixed' })).rejects.toThrow(
      /^init: precision 'mixed' needs tensor cores through WGSL subgroup matrices, but .+; use 'fp32' or 'mixed-if-available'$/,
    );
    await expect(init({ precision: 'mixed', kernels: 'software' })).rejects.toThrow(
      "but the software kernels run in f32 only (kernels: 'software')",
    );
  });

  it('reads VOXGPU_PRECISION, and rejects unknown names', async () => {
    process.env.VOXGPU_PRECISION = 'fp32';
    expect((await init()).precision).toBe('fp32');
    process.env.VOXGPU_PRECISION = 'half';
    await expect(init()).rejects.toThrow(
      "init: unknown precision 'half' (from VOXGPU_PRECISION); expected one of fp32, mixed, mixed-if-available",
    );
  });
});
