// The tuner with plain numbers: fake measure functions stand in for GPU timings, so every choice
// (fastest wins, ties, failures, caching per key, persistence) is checked exactly.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adapterId } from '../../src/device/adapter-choice.js';
import { Tuner, keyString, memoryStorage, parseCache, shapeClass, type Variant } from '../../src/tuning/tuner.js';
import { defaultTuningCachePath, fileStorage } from '../../src/tuning/tuner-node.js';

interface Tile extends Variant {
  tm: number;
}

const tiles: Tile[] = [
  { name: 'tm4', tm: 4 },
  { name: 'tm8', tm: 8 },
  { name: 'tm16', tm: 16 },
];

const key = { adapter: 'llvmpipe (opengl)', op: 'conv3d.convolve', shapeClass: 'cin16.cout16.voxels32768' };

/** A measure function that returns fixed times per variant and counts its calls. */
function fake(times: Record<string, number | number[] | Error>) {
  const calls: string[] = [];
  const seen = new Map<string, number>();
  const measure = (v: Variant): number => {
    calls.push(v.name);
    const t = times[v.name];
    if (t instanceof Error) throw t;
    if (Array.isArray(t)) {
      const i = seen.get(v.name) ?? 0;
      seen.set(v.name, i + 1);
      return t[i % t.length]!;
    }
    return t!;
  };
  return { measure, calls };
}

describe('Tuner.tune', () => {
  it('picks the fastest candidate and reports every measurement', async () => {
    const tuner = new Tuner({ samples: 3, warmup: 1 });
    const { measure, calls } = fake({ tm4: 12, tm8: 7, tm16: 9 });
    const r = await tuner.tune(key, tiles, measure);
    expect(r.winner).toBe('tm8');
    expect(r.cached).toBe(false);
    expect(r.measurements).toEqual([
      { name: 'tm4', ms: 12 },
      { name: 'tm8', ms: 7 },
      { name: 'tm16', ms: 9 },
    ]);
    // 1 warm-up + 3 samples per candidate, candidates in order.
    expect(calls).toEqual([...Array(4).fill('tm4'), ...Array(4).fill('tm8'), ...Array(4).fill('tm16')]);
    expect(tuner.lookup(key)).toBe('tm8');
    expect(tuner.choose(key, tiles)).toBe(tiles[1]);
  });

  it('judges by the median of the samples, ignoring the warm-up', async () => {
    const tuner = new Tuner({ samples: 3, warmup: 1 });
    // tm4: warm-up 100 (compilation), then 5, 50, 6 → median 6; tm8: 8, 8, 8 → 8.
    const { measure } = fake({ tm4: [100, 5, 50, 6], tm8: [1000, 8, 8, 8], tm16: 20 });
    const r = await tuner.tune(key, tiles, measure);
    expect(r.measurements.map((m) => m.ms)).toEqual([6, 8, 20]);
    expect(r.winner).toBe('tm4');
  });

  it('breaks ties in favour of the earlier candidate', async () => {
    const tuner = new Tuner({ samples: 1, warmup: 0 });
    const r = await tuner.tune(key, tiles, fake({ tm4: 9, tm8: 5, tm16: 5 }).measure);
    expect(r.winner).toBe('tm8');
  });

  it('keeps the first candidate (the default) unless another beats it by minGain', async () => {
    const tuner = new Tuner({ samples: 1, warmup: 0, minGain: 0.05 });
    expect((await tuner.tune(key, tiles, fake({ tm4: 10, tm8: 9.6, tm16: 9.7 }).measure)).winner).toBe('tm4');
    const other = { ...key, shapeClass: 'cin8.cout8.voxels512' };
    expect((await tuner.tune(other, tiles, fake({ tm4: 10, tm8: 9.6, tm16: 9.4 }).measure)).winner).toBe('tm16');
    // A failed default leaves the fastest.
    const third = { ...key, shapeClass: 'cin4.cout4.voxels512' };
    expect((await tuner.tune(third, tiles, fake({ tm4: new Error('x'), tm8: 9.6, tm16: 9.7 }).measure)).winner).toBe('tm8');
    expect(() => new Tuner({ minGain: 1 })).toThrow(/minGain must be a fraction/);
  });

  it('skips candidates that throw or return no valid time, and fails only when all do', async () => {
    const tuner = new Tuner({ samples: 2, warmup: 0 });
    const r = await tuner.tune(key, tiles, fake({ tm4: new Error('workgroup too large'), tm8: NaN, tm16: 30 }).measure);
    expect(r.winner).toBe('tm16');
    expect(r.measurements[0]).toEqual({ name: 'tm4', ms: null, error: 'workgroup too large' });
    expect(r.measurements[1]!.ms).toBeNull();
    expect(r.measurements[1]!.error).toMatch(/NaN/);

    const other = { ...key, shapeClass: 'cin256.cout256.voxels256' };
    await expect(tuner.tune(other, tiles, fake({ tm4: new Error('a'), tm8: -1, tm16: new Error('c') }).measure)).rejects.toThrow(
      /every candidate failed for llvmpipe \(opengl\)\|conv3d.convolve\|cin256.cout256.voxels256: tm4: a; tm8: .*-1.*; tm16: c/,
    );
    expect(tuner.lookup(other)).toBeUndefined();
  });

  it('accepts async measure functions', async () => {
    const tuner = new Tuner({ samples: 1, warmup: 0 });
    const r = await tuner.tune(key, tiles, async (v) => {
      await new Promise((res) => setTimeout(res, 1));
      return 100 / v.tm;
    });
    expect(r.winner).toBe('tm16');
  });

  it('rejects empty and duplicate candidate lists', async () => {
    const tuner = new Tuner();
    await expect(tuner.tune(key, [], () => 1)).rejects.toThrow(/no candidates/);
    await expect(tuner.tune(key, [tiles[0]!, { name: 'tm4', tm: 5 }], () => 1)).rejects.toThrow(/'tm4' appears twice/);
    expect(() => tuner.choose(key, [])).toThrow(/no candidates/);
  });
});

describe('Tuner cache', () => {
  it('measures each (adapter, op, shape class) once', async () => {
    const tuner = new Tuner({ samples: 1, warmup: 0 });
    const f = fake({ tm4: 3, tm8: 2, tm16: 1 });
    await tuner.tune(key, tiles, f.measure);
    const again = await tuner.tune(key, tiles, f.measure);
    expect(again).toEqual({ key: keyString(key), winner: 'tm16', cached: true, measurements: [] });
    expect(f.calls).toHaveLength(3);
    // Any other field of the key is another entry, measured anew.
    const g = fake({ tm4: 1, tm8: 2, tm16: 3 });
    expect((await tuner.tune({ ...key, adapter: 'NVIDIA (vulkan)' }, tiles, g.measure)).winner).toBe('tm4');
    expect((await tuner.tune({ ...key, op: 'conv3d.backwardInput' }, tiles, g.measure)).winner).toBe('tm4');
    expect((await tuner.tune({ ...key, shapeClass: 'cin32.cout32.voxels4096' }, tiles, g.measure)).winner).toBe('tm4');
    expect(g.calls).toHaveLength(9);
    expect(tuner.lookup(key)).toBe('tm16');
    expect(tuner.entries().size).toBe(4);
  });

  it('re-tunes when the cached winner is no longer a candidate', async () => {
    const tuner = new Tuner({ samples: 1, warmup: 0 });
    await tuner.tune(key, tiles, fake({ tm4: 3, tm8: 2, tm16: 1 }).measure);
    const renamed = [tiles[0]!, tiles[1]!, { name: 'tm16v2', tm: 16 }];
    const f = fake({ tm4: 3, tm8: 2, tm16v2: 4 });
    const r = await tuner.tune(key, renamed, f.measure);
    expect(r).toMatchObject({ winner: 'tm8', cached: false });
    expect(f.calls).toEqual(['tm4', 'tm8', 'tm16v2']);
  });

  it('shares one measurement between concurrent tunes of the same key', async () => {
    const tuner = new Tuner({ samples: 1, warmup: 0 });
    const f = fake({ tm4: 3, tm8: 2, tm16: 1 });
    const [a, b] = await Promise.all([tuner.tune(key, tiles, f.measure), tuner.tune(key, tiles, f.measure)]);
    expect(a).toBe(b);
    expect(f.calls).toHaveLength(3);
  });

  it('chooses the first candidate (the default) until tuned', () => {
    const tuner = new Tuner();
    expect(tuner.lookup(key)).toBeUndefined();
    expect(tuner.choose(key, tiles)).toBe(tiles[0]);
  });

  it('clear() forgets the winners', async () => {
    const tuner = new Tuner({ samples: 1, warmup: 0 });
    await tuner.tune(key, tiles, fake({ tm4: 3, tm8: 2, tm16: 1 }).measure);
    tuner.clear();
    expect(tuner.lookup(key)).toBeUndefined();
  });
});

describe('Tuner persistence', () => {
  const now = () => new Date('2026-11-23T12:00:00Z');

  it('saves after measuring and restores in a new tuner without measuring', async () => {
    const storage = memoryStorage();
    const first = new Tuner({ storage, samples: 1, warmup: 0, now });
    await first.tune(key, tiles, fake({ tm4: 3, tm8: 2, tm16: 4 }).measure);
    expect(JSON.parse(storage.text!)).toEqual({
      version: 1,
      entries: {
        [keyString(key)]: { winner: 'tm8', ms: 2, candidates: { tm4: 3, tm8: 2, tm16: 4 }, measuredAt: '2026-11-23T12:00:00.000Z' },
      },
    });
    const second = new Tuner({ storage, samples: 1, warmup: 0 });
    await second.load();
    const f = fake({ tm4: 1, tm8: 1, tm16: 1 });
    expect(await second.tune(key, tiles, f.measure)).toMatchObject({ winner: 'tm8', cached: true });
    expect(f.calls).toEqual([]);
  });

  it('merges with what storage holds, so two processes keep each other’s winners', async () => {
    const storage = memoryStorage();
    const a = new Tuner({ storage, samples: 1, warmup: 0 });
    const b = new Tuner({ storage, samples: 1, warmup: 0 });
    await a.tune(key, tiles, fake({ tm4: 1, tm8: 2, tm16: 3 }).measure);
    await b.tune({ ...key, op: 'conv3d.backwardWeight' }, tiles, fake({ tm4: 3, tm8: 2, tm16: 1 }).measure);
    expect(Object.keys(JSON.parse(storage.text!).entries).sort()).toEqual([
      keyString({ ...key, op: 'conv3d.backwardWeight' }),
      keyString(key),
    ]);
  });

  it('keeps winners in memory over saved ones on load', async () => {
    const storage = memoryStorage();
    await new Tuner({ storage, samples: 1, warmup: 0 }).tune(key, tiles, fake({ tm4: 1, tm8: 2, tm16: 3 }).measure);
    // Not loaded yet, so it measures (and, without autoSave, leaves storage alone).
    const t = new Tuner({ storage, autoSave: false, samples: 1, warmup: 0 });
    await t.tune(key, tiles, fake({ tm4: 3, tm8: 2, tm16: 1 }).measure);
    await t.load();
    expect(t.lookup(key)).toBe('tm16');
  });

  it('ignores a corrupt or foreign cache instead of failing', async () => {
    for (const text of ['{not json', '[]', 'null', '{"version": 99, "entries": {}}', '{"version": 1, "entries": {"k": {"winner": 3}}}']) {
      const t = new Tuner({ storage: memoryStorage(text) });
      await t.load();
      expect(t.entries().size).toBe(0);
    }
    expect(parseCache(null).size).toBe(0);
  });

  it('without autoSave, writes only on save()', async () => {
    const storage = memoryStorage();
    const t = new Tuner({ storage, autoSave: false, samples: 1, warmup: 0 });
    await t.tune(key, tiles, fake({ tm4: 1, tm8: 2, tm16: 3 }).measure);
    expect(storage.text).toBeNull();
    await t.save();
    expect(parseCache(storage.text).get(keyString(key))?.winner).toBe('tm4');
  });

  it('keeps the result when saving fails, and says why', async () => {
    const storage = { load: async () => null, save: async () => Promise.reject(new Error('EROFS: read-only file system')) };
    const t = new Tuner({ storage, samples: 1, warmup: 0 });
    const r = await t.tune(key, tiles, fake({ tm4: 1, tm8: 2, tm16: 3 }).measure);
    expect(r.winner).toBe('tm4');
    expect(t.lookup(key)).toBe('tm4');
    expect(t.lastSaveError?.message).toMatch(/EROFS/);
  });

  it('persists to a JSON file in Node (missing file = empty cache; directories created)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'voxgpu-tuner-'));
    const path = join(dir, 'nested', 'tuning.json');
    const storage = fileStorage(path);
    expect(await storage.load()).toBeNull();
    await new Tuner({ storage, samples: 1, warmup: 0 }).tune(key, tiles, fake({ tm4: 2, tm8: 1, tm16: 3 }).measure);
    expect(parseCache(readFileSync(path, 'utf8')).get(keyString(key))?.winner).toBe('tm8');
    const restored = new Tuner({ storage: fileStorage(path) });
    await restored.load();
    expect(restored.lookup(key)).toBe('tm8');
    writeFileSync(path, 'garbage');
    const fresh = new Tuner({ storage: fileStorage(path) });
    await fresh.load();
    expect(fresh.entries().size).toBe(0);
  });

  it('finds the default cache path from the environment', () => {
    expect(defaultTuningCachePath({ VOXGPU_TUNING_CACHE: '/x/t.json' })).toBe('/x/t.json');
    expect(defaultTuningCachePath({ XDG_CACHE_HOME: '/c' })).toBe(join('/c', 'voxgpu', 'tuning.json'));
    expect(defaultTuningCachePath({})).toMatch(/\.cache[/\\]voxgpu[/\\]tuning\.json$/);
  });
});

describe('keys', () => {
  it('buckets shapes up to powers of two', () => {
    expect(shapeClass({ cin: 16, cout: 24, voxels: 30000 })).toBe('cin16.cout32.voxels32768');
    expect(shapeClass({ cin: 1, cout: 0, voxels: 32768 })).toBe('cin1.cout0.voxels32768');
    expect(shapeClass({ cin: 17 })).toBe(shapeClass({ cin: 32 }));
    expect(() => shapeClass({ cin: -1 })).toThrow(/'cin' must be a non-negative number/);
    expect(() => shapeClass({ cin: NaN })).toThrow(/'cin'/);
    // Kernel size and stride change the kernel: kept exactly, never bucketed.
    expect(shapeClass({ cin: 48, voxels: 4096 }, { k: 5, stride: 1 })).toBe('cin64.voxels4096.k5.stride1');
    expect(shapeClass({ voxels: 512 }, { k: 5 })).not.toBe(shapeClass({ voxels: 512 }, { k: 7 }));
  });

  it('joins adapter, op and shape class, refusing fields that would make keys ambiguous', () => {
    expect(keyString(key)).toBe('llvmpipe (opengl)|conv3d.convolve|cin16.cout16.voxels32768');
    expect(() => keyString({ ...key, op: '' })).toThrow(/'op' must be a non-empty string/);
    expect(() => keyString({ ...key, op: 'a|b' })).toThrow(/without '\|'/);
    expect(adapterId({ adapter: 'OpenGL 4.5 / llvmpipe', backend: 'opengl' })).toBe('OpenGL 4.5 / llvmpipe (opengl)');
    expect(adapterId({ adapter: 'a|b', backend: 'vulkan' })).toBe('a/b (vulkan)');
  });
});
