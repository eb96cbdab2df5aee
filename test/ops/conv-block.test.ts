// Convolutions whose stride equals the kernel size, with no padding or dilation: the software
// family's block path (src/ops/conv/block.ts) and the GEMM family's gather (forward) and scatter
// passes. Forward and all three gradients of both ops against the float64 reference, on sizes that
// take every branch of kernels/conv/block.wgsl: rows aligned to 16 bytes or not, volumes with
// voxels past the last whole block, channel counts that leave partial tiles, weights read as vec4s
// or not; and a check that these shapes do take those passes.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { getContext, init, tensor } from '../../src/index.js';
import { blockTiles } from '../../src/ops/conv/block.js';
import { conv3d } from '../../src/ops/conv/conv3d.js';
import { randomArray } from '../helpers.js';
import type { ConvCase, Triple } from '../reference/conv.js';
import {
  conv3dUnderTest,
  convTranspose3dUnderTest,
  describeFamilies,
  forwardError,
  gradErrors,
  type ConvUnderTest,
} from './conv-harness.js';

const zero: Triple = [0, 0, 0];
const one: Triple = [1, 1, 1];
const two: Triple = [2, 2, 2];
const block = (stride: Triple): Pick<ConvCase, 'stride' | 'padding' | 'dilation'> => ({ stride, padding: zero, dilation: one });

// conv3d's x is the big tensor; 20 output channels span two gather tiles; 7×5×9 leaves a voxel
// past the last block in every dimension (and unaligned rows).
const conv3dCases: Record<string, ConvCase> = {
  '2×2×2 stride 2, 6×4×8, 4→9 channels': { xShape: [2, 4, 6, 4, 8], wShape: [9, 4, 2, 2, 2], ...block(two) },
  '2×2×2 stride 2, 7×5×9 (leftover voxels), 3→5 channels': { xShape: [2, 3, 7, 5, 9], wShape: [5, 3, 2, 2, 2], ...block(two) },
  '2×2×2 stride 2, 4×10×24, 6→20 channels': { xShape: [2, 6, 4, 10, 24], wShape: [20, 6, 2, 2, 2], ...block(two) },
  '1×1×1, 3→5 channels, 3×4×5': { xShape: [2, 3, 3, 4, 5], wShape: [5, 3, 1, 1, 1], ...block(one) },
  '1×1×1, 3→8 channels, 2×3×8': { xShape: [2, 3, 2, 3, 8], wShape: [8, 3, 1, 1, 1], ...block(one) },
  '2×1×2 stride (2, 1, 2), 6×3×8, 3→5 channels': { xShape: [2, 3, 6, 3, 8], wShape: [5, 3, 2, 1, 2], ...block([2, 1, 2]) },
};

// convTranspose3d's x is the small tensor; 9 output channels of 8 taps span five scatter tiles.
const convTranspose3dCases: Record<string, ConvCase> = {
  '2×2×2 stride 2, 3×2×4 → 6×4×8, 9→9 channels': { xShape: [2, 9, 3, 2, 4], wShape: [9, 9, 2, 2, 2], ...block(two) },
  '2×2×2 stride 2, 3×2×3 → 6×4×6 (unaligned rows), 3→5 channels': {
    xShape: [2, 3, 3, 2, 3],
    wShape: [3, 5, 2, 2, 2],
    ...block(two),
  },
  '1×1×1, 3→5 channels, 3×4×5': { xShape: [2, 3, 3, 4, 5], wShape: [3, 5, 1, 1, 1], ...block(one) },
  '1×1×1, 3→8 channels, 2×3×8': { xShape: [2, 3, 2, 3, 8], wShape: [3, 8, 1, 1, 1], ...block(one) },
  '2×1×2 stride (2, 1, 2), 3×3×4 → 6×3×8, 3→5 channels': {
    xShape: [2, 3, 3, 3, 4],
    wShape: [3, 5, 2, 1, 2],
    ...block([2, 1, 2]),
  },
};

const tolerance = 1e-5;

/** The kernel entries dispatched while fn runs, as 'kernel.entry' (scatterElements as scatter). */
async function entriesOf(fn: () => Promise<unknown>): Promise<Set<string>> {
  const spy = vi.spyOn(getContext(), 'dispatch');
  try {
    await fn();
    return new Set(spy.mock.calls.map(([d]) => `${d.kernel}.${d.entry.replace('scatterElements', 'scatter')}`));
  } finally {
    spy.mockRestore();
  }
}

/** The entries each family runs these passes with: gather and scatter, and the weight gradient. */
function blockEntries(): { gather: string; scatter: string; weightGrad: string; other: string } {
  return getContext().kernels === 'gpu'
    ? { gather: 'conv/gemm.forward', scatter: 'conv/gemm.scatter', weightGrad: 'conv/gemm.weightGrad', other: 'conv/register.' }
    : { gather: 'conv/block.gather', scatter: 'conv/block.scatter', weightGrad: 'conv/block.weightGrad', other: 'conv/register.' };
}

function suite(name: string, op: ConvUnderTest, cases: Record<string, ConvCase>, forwardEntry: 'gather' | 'scatter'): void {
  describeFamilies(`${name} with the stride equal to the kernel`, () => {
    for (const [caseName, c] of Object.entries(cases)) {
      it(`${caseName}: forward`, async () => {
        expect(await forwardError(op, c, 81)).toBeLessThan(tolerance);
        expect(await forwardError(op, c, 82, false)).toBeLessThan(tolerance);
      });

      it(`${caseName}: gradients, all on the gather, scatter and weight-gradient passes`, async () => {
        let e: Awaited<ReturnType<typeof gradErrors>> | undefined;
        const entries = await entriesOf(async () => {
          e = await gradErrors(op, c, 91);
        });
        expect(e!.x).toBeLessThan(tolerance);
        expect(e!.weight).toBeLessThan(tolerance);
        expect(e!.bias).toBeLessThan(tolerance);
        const want = blockEntries();
        expect(entries).toContain(want[forwardEntry]);
        expect(entries).toContain(want[forwardEntry === 'gather' ? 'scatter' : 'gather']);
        expect(entries).toContain(want.weightGrad);
        expect([...entries].filter((k) => k.startsWith(want.other))).toEqual([]);
      });
    }
  });
}

suite('conv3d', conv3dUnderTest, conv3dCases, 'gather');
suite('convTranspose3d', convTranspose3dUnderTest, convTranspose3dCases, 'scatter');

describe('the software block path', () => {
  beforeAll(async () => {
    await init({ kernels: 'software' });
  });
  const saved = { ...blockTiles };
  afterEach(() => {
    Object.assign(blockTiles, saved);
  });

  it('is exact with other register tiles: one row of one quad, 4-row channel tiles, more weight-gradient chunks', async () => {
    Object.assign(blockTiles, { rows: 8, maxXV: 1, maxVec4s: 1, gradA: 3, gradInvocations: 1 << 16 });
    for (const [op, cases] of [
      [conv3dUnderTest, conv3dCases],
      [convTranspose3dUnderTest, convTranspose3dCases],
    ] as const) {
      for (const c of Object.values(cases)) {
        const e = await gradErrors(op, c, 93);
        expect(Math.max(e.x, e.weight, e.bias)).toBeLessThan(tolerance);
      }
    }
  });

  it('convTranspose3d with outputPadding and no bias: the uncovered outputs are 0', async () => {
    const c: ConvCase = { xShape: [1, 3, 2, 3, 4], wShape: [3, 5, 2, 2, 2], ...block(two), outputPadding: [1, 0, 1] };
    let err = Infinity;
    const entries = await entriesOf(async () => {
      err = await forwardError(convTranspose3dUnderTest, c, 95, false);
    });
    expect(err).toBeLessThan(tolerance);
    expect(entries).toContain('conv/block.scatter');
  });

  it('is not taken with padding, dilation or a stride other than the kernel', async () => {
    const x = tensor(randomArray(2 * 64, 96), [1, 2, 4, 4, 4]);
    const w = tensor(randomArray(3 * 2 * 8, 97), [3, 2, 2, 2, 2]);
    for (const options of [{ stride: 2, padding: 1 }, { stride: 1 }, { stride: 2, dilation: 2 }]) {
      const entries = await entriesOf(() => conv3d(x, w, null, options).toArray());
      expect([...entries].filter((k) => k.startsWith('conv/block.'))).toEqual([]);
    }
  });
});
