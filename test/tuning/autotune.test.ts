// The conv ops on the GPU with the tuner: they dispatch a cached winner, every candidate tile is
// exact, and autotune measures each shape once, persisting through the cache file, within its time
// budget. The register family is forced where a test names its tiles, so it holds on any adapter.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { autotune, init, ones, randn, tensor, type Context, type Tensor } from '../../src/index.js';
import type { Dispatch } from '../../src/device/context.js';
import { conv3d } from '../../src/ops/conv/conv3d.js';
import { convolveKey, gradKey } from '../../src/tuning/conv.js';
import { convolveTiles, groupSize, gradTiles } from '../../src/ops/conv/register-tiles.js';
import { keyString, parseCache, serializeCache, type CacheEntry } from '../../src/tuning/tuner.js';
import { conv3dOutShape, type ConvCase } from '../reference/conv.js';
import { conv3dOnPaths, forwardError, gradErrors } from '../ops/conv-harness.js';

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

describe('conv ops and the tuner', () => {
  it('untuned, dispatch the default tile, with the small-volume workgroup rule', async () => {
    const ctx = await init({ tuningCache: false, kernels: 'software' });
    const x = randn([1, 64, 8, 8, 8]);
    const w = randn([64, 64, 5, 5, 5]);
    const [seen] = constantsOf(ctx, () => conv3d(x, w, null, { padding: 2 }))['conv/register.convolve']!;
    const def = convolveTiles[0]!;
    expect(seen!.COT).toBe(def.COT);
    // 4 channel blocks × 8 depth planes × 2 tiles of 4 rows (2 vec4s each): 64 invocations, too
    // few for two workgroups of the default size.
    expect(seen!.WG).toBe(groupSize(64, def.WG));
    expect(seen!.WG).toBeLessThan(def.WG);
    await ctx.sync();
  });

  it('dispatch the cached winner of their shape class, loaded from the cache file', async () => {
    const c: ConvCase = {
      xShape: [1, 16, 8, 8, 16],
      wShape: [16, 16, 3, 3, 3],
      stride: [1, 1, 1],
      padding: [1, 1, 1],
      dilation: [1, 1, 1],
    };
    const path = tempCache();
    const adapter = (await init({ tuningCache: false })).adapterId;
    const geometry = { kernel: [3, 3, 3], stride: [1, 1, 1], padding: [1, 1, 1], dilation: [1, 1, 1] } as const;
    const outShape = conv3dOutShape(c);
    const [forwardTile, dxTile, gradTile] = [convolveTiles[2]!, convolveTiles[1]!, gradTiles[1]!];
    const winners = new Map([
      [keyString(convolveKey(adapter, 'software', c.xShape, 16, outShape.slice(2), geometry, false)), entry(forwardTile.name)],
      [keyString(convolveKey(adapter, 'software', outShape, 16, c.xShape.slice(2), geometry, true)), entry(dxTile.name)],
      [keyString(gradKey(adapter, 'software', outShape, c.xShape, geometry)), entry(gradTile.name)],
    ]);
    writeFileSync(path, serializeCache(winners));
    const ctx = await init({ tuningCache: path, kernels: 'software' });
    const x = tensor(new Float32Array(16 * 8 * 8 * 16).fill(1), c.xShape, { requiresGrad: true });
    const w = tensor(new Float32Array(16 * 16 * 27).fill(0.5), c.wShape, { requiresGrad: true });
    const y = conv3d(x, w, null, c);
    const g = ones(outShape);
    const forward = constantsOf(ctx, () => conv3d(x, w, null, c))['conv/register.convolve'];
    const backward = constantsOf(ctx, () => y.backward(g));
    expect(forward).toEqual([expect.objectContaining({ COT: forwardTile.COT })]);
    expect(backward['conv/register.convolve']).toEqual([expect.objectContaining({ COT: dxTile.COT, XV: dxTile.maxXV })]);
    expect(backward['conv/register.weightGrad']).toEqual([expect.objectContaining({ COT: gradTile.COT })]);
    // An interior voxel (channel 1, d = h = w = 1) of a 3×3×3 conv of ones, weights 0.5, 16 channels: 27 · 16 · 0.5.
    expect((await y.toArray())[((1 * 8 + 1) * 8 + 1) * 16 + 1]).toBe(216);
  });
});

describe('every candidate tile matches the float64 reference', () => {
  // Aligned and odd rows, Cout above 16 and not a multiple of 8, stride with dilation, a 7-tall kernel.
  const cases: Record<string, ConvCase> = {
    '5×5×5 padding 2, aligned rows, 19 output channels': {
      xShape: [1, 3, 5, 6, 8],
      wShape: [19, 3, 5, 5, 5],
      stride: [1, 1, 1],
      padding: [2, 2, 2],
      dilation: [1, 1, 1],
    },
    'odd sizes, stride 2 and dilation 2': {
      xShape: [2, 3, 7, 5, 9],
      wShape: [6, 3, 3, 2, 3],
      stride: [2, 1, 2],
      padding: [1, 0, 2],
      dilation: [2, 1, 1],
    },
    '1×7×3 kernel, width 16': {
      xShape: [1, 2, 3, 9, 16],
      wShape: [5, 2, 1, 7, 3],
      stride: [1, 1, 1],
      padding: [0, 3, 1],
      dilation: [1, 1, 1],
    },
  };
  convolveTiles.forEach((tile, i) => {
    const grad = gradTiles[i % gradTiles.length]!;
    it(`${tile.name} and ${grad.name}`, async () => {
      await init({ tuningCache: false, kernels: 'software' });
      const op = conv3dOnPaths(tile, grad);
      for (const [name, c] of Object.entries(cases)) {
        expect(await forwardError(op, c, 51), `${name} forward`).toBeLessThan(1e-5);
        const e = await gradErrors(op, c, 52);
        expect(Math.max(e.x, e.weight, e.bias), `${name} gradients`).toBeLessThan(1e-5);
      }
    });
  });
});

/**
 * No time budget: how many shapes a budget covers depends on the host's speed, so the tests that count
 * what gets measured do without one (the budget has its own test, with a budget of 0).
 */
const unlimited = { budgetSeconds: Infinity };

/** A forward and backward through one small conv: three tunable passes (forward, dx, dw). */
function convStep(x: Tensor, w: Tensor): void {
  conv3d(x, w, null, { padding: 1 }).backward(ones([1, 8, 4, 4, 8]));
}

describe('autotune', () => {
  it('measures each pass once, saves the winners, and measures nothing with a warm cache', async () => {
    // The test setup points VOXGPU_TUNING_CACHE at a file of this test file's own: init() uses it.
    const path = process.env.VOXGPU_TUNING_CACHE!;
    const ctx = await init({ kernels: 'software' });
    const x = randn([1, 4, 4, 4, 8], { requiresGrad: true });
    const w = randn([8, 4, 3, 3, 3], { requiresGrad: true });
    const lines: string[] = [];
    const first = await autotune(() => convStep(x, w), { ...unlimited, log: (l) => lines.push(l) });
    expect(first.measured).toBe(3);
    expect(first.ops.map((o) => o.key.split('|')[1]!.replace(/\.v\d+$/, '')).sort()).toEqual([
      'conv.convolve.software',
      'conv.convolve.software',
      'conv.weightGrad.software',
    ]);
    for (const op of first.ops) {
      expect(op.error).toBeUndefined();
      expect(op.cached).toBe(false);
      expect(op.measurements.map((m) => m.ms)).toEqual(op.measurements.map(() => expect.any(Number)));
      expect(ctx.tuner.lookup({ adapter: ctx.adapterId, op: op.key.split('|')[1]!, shapeClass: op.key.split('|')[2]! })).toBe(op.winner);
    }
    // With 8 output channels a 16-channel tile is an 8-channel one: the same dispatches, timed once.
    const forward = first.ops.find((o) => o.key.endsWith('.t0') && o.key.includes('conv.convolve'))!;
    const ms = (name: string) => forward.measurements.find((m) => m.name === name)!.ms;
    expect(ms('COT8.XV4.WG64')).toBe(ms('COT16.XV4.WG64'));
    expect(forward.winner).not.toBe('COT8.XV4.WG64');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^autotune: 3 op shapes measured in [\d.]+ s, 0 cached$/);
    expect([...parseCache(readFileSync(path, 'utf8')).keys()].sort()).toEqual(first.ops.map((o) => o.key).sort());

    // Warm: nothing is timed (timing waits on ctx.sync()).
    const sync = vi.spyOn(ctx, 'sync');
    const again = await autotune(() => convStep(x, w), unlimited);
    expect(sync).not.toHaveBeenCalled();
    sync.mockRestore();
    expect(again.measured).toBe(0);
    expect(again.ops.map((o) => [o.winner, o.cached])).toEqual(first.ops.map((o) => [o.winner, true]));

    // A new process (here: context) finds them in the file.
    const next = await init({ kernels: 'software' });
    const x2 = randn([1, 4, 4, 4, 8], { requiresGrad: true });
    const w2 = randn([8, 4, 3, 3, 3], { requiresGrad: true });
    expect((await autotune(() => convStep(x2, w2), unlimited)).measured).toBe(0);
    expect(next.tuner.entries().size).toBe(3);
  });

  it('ignores a corrupt cache file and replaces it with a good one', async () => {
    const path = tempCache();
    writeFileSync(path, '{"version": 1, "entries": {"truncated');
    const ctx = await init({ tuningCache: path, kernels: 'software' });
    expect(ctx.tuner.entries().size).toBe(0);
    const x = randn([1, 4, 4, 4, 8]);
    const w = randn([8, 4, 3, 3, 3]);
    expect((await autotune(() => conv3d(x, w, null, { padding: 1 }), unlimited)).measured).toBe(1);
    expect(parseCache(readFileSync(path, 'utf8')).size).toBe(1);
  });

  it('with tuningCache: false writes no file; a function returning a Promise is refused', async () => {
    const path = process.env.VOXGPU_TUNING_CACHE!;
    const before = existsSync(path) ? readFileSync(path, 'utf8') : null;
    await init({ tuningCache: false, kernels: 'software' });
    const x = randn([1, 4, 4, 4, 8]);
    // A shape not tuned above; not 1×1×1, which takes the software block path (block.ts): nothing to tune.
    const w = randn([8, 4, 1, 1, 2]);
    expect((await autotune(() => conv3d(x, w), unlimited)).measured).toBe(1);
    expect(existsSync(path) ? readFileSync(path, 'utf8') : null).toBe(before);
    await expect(autotune(async () => conv3d(x, w))).rejects.toThrow('autotune: the function must be synchronous');
  });

  it('stops measuring when its time budget is spent: the rest keep their defaults until a later call', async () => {
    const ctx = await init({ tuningCache: false, kernels: 'software' });
    const x = randn([1, 4, 4, 4, 8], { requiresGrad: true });
    const w = randn([8, 4, 3, 3, 3], { requiresGrad: true });
    const lines: string[] = [];
    const report = await autotune(() => convStep(x, w), { budgetSeconds: 0, log: (l) => lines.push(l) });
    expect([report.measured, report.skipped]).toEqual([0, 3]);
    expect(report.ops.map((o) => [o.skipped, o.winner === o.defaultVariant])).toEqual([
      [true, true],
      [true, true],
      [true, true],
    ]);
    expect(ctx.tuner.entries().size).toBe(0);
    expect(lines.at(-1)).toMatch(/3 left at their defaults \(the 0 s budget was spent; a later call measures them\)$/);
    expect((await autotune(() => convStep(x, w), unlimited)).measured).toBe(3);
  });
});
