// The conv ops on the GPU with the tuner: they dispatch a cached winner, every candidate tile is
// exact, and autotune measures each shape once, persisting through the cache file.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { autotune, init, ones, randn, tensor, type Context, type Tensor } from '../../src/index.js';
import type { Dispatch } from '../../src/device/context.js';
import { record } from '../../src/autograd.js';
import { biasGrad, conv3d, convolve, weightGrad } from '../../src/ops/conv3d.js';
import { conv3dShape } from '../../src/ops/conv-shape.js';
import { convolveKey, convolveTiles, gradKey, gradTiles, type ConvolveTile, type GradTile } from '../../src/ops/conv-tiles.js';
import { keyString, parseCache, serializeCache, type CacheEntry } from '../../src/tuning/tuner.js';
import { conv3dGradRef, conv3dOutShape, conv3dRef, type ConvCase } from '../reference/conv.js';
import { forwardError, gradErrors, type ConvUnderTest } from '../ops/conv-harness.js';

const tempCache = (): string => join(mkdtempSync(join(tmpdir(), 'voxgpu-autotune-')), 'tuning.json');

/** The override constants of every dispatch while fn runs, by kernel entry. */
function constantsOf(ctx: Context, fn: () => void): Record<string, Record<string, number>[]> {
  const spy = vi.spyOn(ctx, 'dispatch');
  try {
    fn();
    const out: Record<string, Record<string, number>[]> = {};
    for (const [d] of spy.mock.calls as [Dispatch][]) (out[`${d.kernel}.${d.entry}`] ??= []).push(d.constants ?? {});
    return out;
  } finally {
    spy.mockRestore();
  }
}

const entry = (winner: string): CacheEntry => ({ winner, ms: 1, candidates: {}, measuredAt: '' });

/** What fn dispatches (kernel entries, constants, grids), from a dry run: no GPU work. */
function dispatchesOf(ctx: Context, fn: () => unknown): string[] {
  const seen: string[] = [];
  ctx.dryRun(fn, (d) => seen.push(`${d.kernel}.${d.entry} ${JSON.stringify(d.constants ?? {})} ${JSON.stringify(d.workgroups)}`));
  return seen;
}

/** Total workgroups of a dispatch. */
const groups = (d: Dispatch): number => (typeof d.workgroups === 'number' ? d.workgroups : d.workgroups.reduce<number>((a, g) => a * (g ?? 1), 1));

describe('conv ops and the tuner', () => {
  it('untuned, dispatch the default tile (the first candidate) with the small-volume workgroup rule', async () => {
    const ctx = await init({ tuningCache: false });
    const x = randn([1, 64, 8, 8, 8]);
    const w = randn([64, 64, 5, 5, 5]);
    const c = { padding: 2 };
    const { geometry, outShape } = conv3dShape(x, w, null, c);
    // The same dispatches as a convolve given the first candidate, whatever that default is.
    const untuned = dispatchesOf(ctx, () => conv3d(x, w, null, c));
    expect(untuned).toEqual(dispatchesOf(ctx, () => convolve('conv3d', x, w, null, outShape.slice(2), geometry, false, convolveTiles[0])));
    // A volume this small gets at least two workgroups (one per core), or the smallest workgroup.
    const seen = constantsOf(ctx, () => conv3d(x, w, null, c))['conv3d.convolve']!;
    expect(seen).toHaveLength(1);
    const spy = vi.spyOn(ctx, 'dispatch');
    conv3d(x, w, null, c);
    const d = (spy.mock.calls as [Dispatch][]).map(([call]) => call).find((call) => call.entry === 'convolve')!;
    spy.mockRestore();
    expect(seen[0]!.WG).toBeLessThanOrEqual(convolveTiles[0]!.WG);
    expect(groups(d) >= 2 || seen[0]!.WG === 8).toBe(true);
    await ctx.sync();
  });

  it('dispatch the cached winner of their shape class, loaded from the cache file', async () => {
    const c: ConvCase = { xShape: [1, 16, 8, 8, 16], wShape: [16, 16, 3, 3, 3], stride: [1, 1, 1], padding: [1, 1, 1], dilation: [1, 1, 1] };
    const path = tempCache();
    const ctx0 = await init({ tuningCache: false });
    const adapter = ctx0.adapterId;
    const x0 = randn(c.xShape);
    const w0 = randn(c.wShape);
    const g0 = randn(conv3dOutShape(c));
    const { geometry, outShape } = conv3dShape(x0, w0, null, c);
    // For each pass, a candidate that dispatches something else than the default at this shape (so
    // the test sees which one ran), whatever the candidate lists hold.
    const differing = <T>(list: readonly T[], run: (t: T) => unknown): T => {
      const def = dispatchesOf(ctx0, () => run(list[0]!));
      const t = list.find((t) => dispatchesOf(ctx0, () => run(t)).join() !== def.join());
      expect(t, 'a candidate that dispatches differently from the default').toBeDefined();
      return t!;
    };
    const fwdTile = differing(convolveTiles, (t) => convolve('conv3d', x0, w0, null, outShape.slice(2), geometry, false, t));
    const dxTile = differing(convolveTiles, (t) => convolve('conv3d', g0, w0, null, c.xShape.slice(2), geometry, true, t));
    const dwTile = differing(gradTiles, (t) => weightGrad('conv3d', g0, x0, geometry, t));
    const winners = new Map([
      [keyString(convolveKey(adapter, c.xShape, 16, outShape.slice(2), geometry, false)), entry(fwdTile.name)],
      [keyString(convolveKey(adapter, outShape, 16, c.xShape.slice(2), geometry, true)), entry(dxTile.name)],
      [keyString(gradKey(adapter, outShape, c.xShape, geometry)), entry(dwTile.name)],
    ]);
    writeFileSync(path, serializeCache(winners));
    const ctx = await init({ tuningCache: path });
    const x = tensor(new Float32Array(16 * 8 * 8 * 16).fill(1), c.xShape, { requiresGrad: true });
    const w = tensor(new Float32Array(16 * 16 * 27).fill(0.5), c.wShape, { requiresGrad: true });
    const g = ones(outShape);
    const pinned = tiled(fwdTile, dwTile, dxTile);
    expect(dispatchesOf(ctx, () => conv3d(x, w, null, c))).toEqual(dispatchesOf(ctx, () => pinned.run(x, w, null, c)));
    const y = conv3d(x, w, null, c);
    const backward = dispatchesOf(ctx, () => y.backward(g));
    x.grad = null;
    w.grad = null;
    const yPinned = pinned.run(x, w, null, c);
    expect(backward).toEqual(dispatchesOf(ctx, () => yPinned.backward(g)));
    // An interior voxel (channel 1, d = h = w = 1) of a 3×3×3 conv of ones, weights 0.5, 16 channels: 27 · 16 · 0.5.
    expect((await conv3d(x, w, null, c).toArray())[((1 * 8 + 1) * 8 + 1) * 16 + 1]).toBe(216);
  });
});

// One conv3d per tile pair, wired like conv3d() but with the tiles fixed (dx's convolve: `dxTile`, default the forward's).
function tiled(tile: ConvolveTile, grad: GradTile, dxTile: ConvolveTile = tile): ConvUnderTest {
  return {
    run: (x, w, b, c) => {
      const { geometry, outShape } = conv3dShape(x, w, b, c);
      const out = convolve('conv3d', x, w, b, outShape.slice(2), geometry, false, tile);
      return record('conv3d', b ? [x, w, b] : [x, w], out, (g) => [
        convolve('conv3d', g, w, null, x.shape.slice(2), geometry, true, dxTile),
        weightGrad('conv3d', g, x, geometry, grad),
        b ? biasGrad(g) : null,
      ]);
    },
    ref: conv3dRef,
    gradRef: conv3dGradRef,
    outShape: conv3dOutShape,
    outChannels: (c) => c.wShape[0],
  };
}

describe('every candidate tile matches the float64 reference', () => {
  // Aligned and odd rows, Cout above 16 and not a multiple of 8, stride with dilation, a 7-tall kernel.
  const cases: Record<string, ConvCase> = {
    '5×5×5 padding 2, aligned rows, 19 output channels': { xShape: [1, 3, 5, 6, 8], wShape: [19, 3, 5, 5, 5], stride: [1, 1, 1], padding: [2, 2, 2], dilation: [1, 1, 1] },
    'odd sizes, stride 2 and dilation 2': { xShape: [2, 3, 7, 5, 9], wShape: [6, 3, 3, 2, 3], stride: [2, 1, 2], padding: [1, 0, 2], dilation: [2, 1, 1] },
    '1×7×3 kernel, width 16': { xShape: [1, 2, 3, 9, 16], wShape: [5, 2, 1, 7, 3], stride: [1, 1, 1], padding: [0, 3, 1], dilation: [1, 1, 1] },
  };
  convolveTiles.forEach((tile, i) => {
    const grad = gradTiles[i % gradTiles.length]!;
    it(`${tile.name} and ${grad.name}`, async () => {
      await init({ tuningCache: false });
      const op = tiled(tile, grad);
      for (const [name, c] of Object.entries(cases)) {
        expect(await forwardError(op, c, 51), `${name} forward`).toBeLessThan(1e-5);
        const e = await gradErrors(op, c, 52);
        expect(Math.max(e.x, e.weight, e.bias), `${name} gradients`).toBeLessThan(1e-5);
      }
    });
  });
});

/** A forward and backward through one small conv: three tunable passes (forward, dx, dw). */
function convStep(x: Tensor, w: Tensor): void {
  conv3d(x, w, null, { padding: 1 }).backward(ones([1, 8, 4, 4, 8]));
}

describe('autotune', () => {
  it('measures each pass once, saves the winners, and measures nothing with a warm cache', async () => {
    // The test setup points VOXGPU_TUNING_CACHE at a file of this test file's own: init() uses it.
    const path = process.env.VOXGPU_TUNING_CACHE!;
    const ctx = await init();
    const x = randn([1, 4, 4, 4, 8], { requiresGrad: true });
    const w = randn([8, 4, 3, 3, 3], { requiresGrad: true });
    const lines: string[] = [];
    const first = await autotune(() => convStep(x, w), { log: (l) => lines.push(l) });
    expect(first.measured).toBe(3);
    expect(first.ops.map((o) => o.key.split('|')[1]).sort()).toEqual(['conv3d.convolve', 'conv3d.convolve', 'conv3d.weightGrad']);
    for (const op of first.ops) {
      expect(op.error).toBeUndefined();
      expect(op.cached).toBe(false);
      expect(op.measurements.map((m) => m.ms)).toEqual(op.measurements.map(() => expect.any(Number)));
      expect(ctx.tuner.lookup({ adapter: ctx.adapterId, op: op.key.split('|')[1]!, shapeClass: op.key.split('|')[2]! })).toBe(op.winner);
    }
    // Candidates that dispatch the same at this shape (e.g. a tile wider than the 8 output channels
    // and a narrower one) are timed once: equal times, and the later one loses the tie.
    const forward = first.ops.find((o) => o.key.endsWith('.t0') && o.key.includes('conv3d.convolve'))!;
    const { geometry, outShape } = conv3dShape(x, w, null, { padding: 1 });
    const signature = (t: ConvolveTile) => dispatchesOf(ctx, () => convolve('conv3d', x, w, null, outShape.slice(2), geometry, false, t)).join();
    const ms = (name: string) => forward.measurements.find((m) => m.name === name)!.ms;
    for (const [i, a] of convolveTiles.entries()) {
      for (const b of convolveTiles.slice(i + 1)) {
        if (signature(a) !== signature(b)) continue;
        expect(ms(b.name), `${b.name} timed as ${a.name}`).toBe(ms(a.name));
        expect(forward.winner).not.toBe(b.name);
      }
    }
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^autotune: 3 op shapes measured in [\d.]+ s, 0 cached$/);
    expect([...parseCache(readFileSync(path, 'utf8')).keys()].sort()).toEqual(first.ops.map((o) => o.key).sort());

    // Warm: nothing is timed (timing waits on ctx.sync()).
    const sync = vi.spyOn(ctx, 'sync');
    const again = await autotune(() => convStep(x, w));
    expect(sync).not.toHaveBeenCalled();
    sync.mockRestore();
    expect(again.measured).toBe(0);
    expect(again.ops.map((o) => [o.winner, o.cached])).toEqual(first.ops.map((o) => [o.winner, true]));

    // A new process (here: context) finds them in the file.
    const next = await init();
    const x2 = randn([1, 4, 4, 4, 8], { requiresGrad: true });
    const w2 = randn([8, 4, 3, 3, 3], { requiresGrad: true });
    expect((await autotune(() => convStep(x2, w2))).measured).toBe(0);
    expect(next.tuner.entries().size).toBe(3);
  });

  it('ignores a corrupt cache file and replaces it with a good one', async () => {
    const path = tempCache();
    writeFileSync(path, '{"version": 1, "entries": {"truncated');
    const ctx = await init({ tuningCache: path });
    expect(ctx.tuner.entries().size).toBe(0);
    const x = randn([1, 4, 4, 4, 8]);
    const w = randn([8, 4, 3, 3, 3]);
    expect((await autotune(() => conv3d(x, w, null, { padding: 1 }))).measured).toBe(1);
    expect(parseCache(readFileSync(path, 'utf8')).size).toBe(1);
  });

  it('with tuningCache: false writes no file; a function returning a Promise is refused', async () => {
    const path = process.env.VOXGPU_TUNING_CACHE!;
    const before = existsSync(path) ? readFileSync(path, 'utf8') : null;
    await init({ tuningCache: false });
    const x = randn([1, 4, 4, 4, 8]);
    // A shape not tuned above; not 1×1×1, which takes the block path (conv-block.ts): nothing to tune.
    const w = randn([8, 4, 1, 1, 2]);
    expect((await autotune(() => conv3d(x, w))).measured).toBe(1);
    expect(existsSync(path) ? readFileSync(path, 'utf8') : null).toBe(before);
    await expect(autotune(async () => conv3d(x, w))).rejects.toThrow('autotune: the function must be synchronous');
  });
});
