// Opt-in section (--sections ...,tune): the conv kernels' register-tile variants swept with the
// tuner (src/tuning/tuner.ts), per pass and V-Net stage shape. The ops are not wired to the tuner
// yet; this drives the tile objects src/ops/conv3d.ts exports (`convTiles` for convolve: forward
// and dx; `gradTiles` for weightGrad: dw) directly, restores them after, and reports the winner
// and every candidate's time. Only knobs the object has are swept, so the sweep follows the op. A variant's outputs must match the default's
// (a tile beyond a kernel's fixed register arrays can be silently wrong under robust buffer
// access), so each candidate is checked once before it is timed; a mismatch counts as a failure.
import type { Context } from '../src/device/context.js';
import { Tuner, adapterId, shapeClass, type Variant } from '../src/tuning/tuner.js';
import { fileStorage } from '../src/tuning/tuner-node.js';
import type { Tensor } from '../src/tensor.js';
import { runOf, type OpCase } from './ops.js';
import { MissingOp } from './lib/ops-loader.js';
import { rates, timed, type Ceiling, type Row } from './lib/report.js';
import { timeGpu, type TimingOptions } from './lib/timing.js';
import { foreignLoad, mark } from './lib/load.js';

type Tiles = Record<string, number>;

interface TileVariant extends Variant {
  tiles: Tiles;
}

/** Which exported tile object drives each pass, and the values to try for each knob. */
const sweeps: Record<'forward' | 'dx' | 'dw', { object: string; grid: Record<string, number[]> }> = {
  forward: { object: 'convTiles', grid: { COT: [4, 8, 16], XV: [1, 2, 4], maxXV: [1, 2, 4], WG: [32, 64] } },
  dx: { object: 'convTiles', grid: { COT: [4, 8, 16], XV: [1, 2, 4], maxXV: [1, 2, 4], WG: [32, 64] } },
  dw: { object: 'gradTiles', grid: { COT: [4, 8, 16], KHT: [1, 5], maxXV: [1, 2, 4] } },
};

/** The default first (ties keep it), then every combination of the knobs the object has. */
function variants(defaults: Tiles, grid: Record<string, number[]>): TileVariant[] {
  const name = (t: Tiles) => Object.keys(grid).filter((k) => k in t).map((k) => `${k}${t[k]}`).join('.');
  let combos: Tiles[] = [{ ...defaults }];
  for (const [k, values] of Object.entries(grid)) {
    if (!(k in defaults)) continue;
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  }
  const out: TileVariant[] = [{ name: name(defaults), tiles: { ...defaults } }];
  for (const t of combos) if (!out.some((v) => v.name === name(t))) out.push({ name: name(t), tiles: t });
  return out;
}

async function readAll(ts: Tensor[]): Promise<Float32Array[]> {
  return Promise.all(ts.map((t) => t.toArray()));
}

function maxRelDiff(a: Float32Array[], b: Float32Array[]): number {
  let err = 0;
  a.forEach((x, i) => {
    const y = b[i]!;
    let scale = 1e-12;
    for (const v of y) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < x.length; j++) err = Math.max(err, Math.abs(x[j]! - y[j]!) / scale);
  });
  return err;
}

export async function tuneConv(ctx: Context, cases: OpCase[], ceiling: Ceiling | null, options: { timing: TimingOptions; cachePath: string; log: (s: string) => void }): Promise<Row[]> {
  const rows: Row[] = [];
  let mod: Record<string, unknown> = {};
  try {
    mod = (await import(/* @vite-ignore */ '../src/ops/conv3d.js' as string)) as Record<string, unknown>;
  } catch {
    // reported per case below
  }
  const objects = new Map<string, { live: Tiles; defaults: Tiles }>();
  for (const { object } of Object.values(sweeps)) {
    const live = mod[object] as Tiles | undefined;
    if (live && typeof live === 'object' && !objects.has(object)) objects.set(object, { live, defaults: { ...live } });
  }
  const restore = () => {
    for (const { live, defaults } of objects.values()) Object.assign(live, defaults);
  };
  const tuner = new Tuner({ storage: fileStorage(options.cachePath), samples: 1, warmup: 0 });
  const adapter = adapterId(ctx.describe());
  try {
    for (const c of cases) {
      const m = c.conv;
      if (!m || m.pass === 'dx+dw') continue;
      const sweep = sweeps[m.pass];
      const target = objects.get(sweep.object);
      if (!target) {
        rows.push({ section: 'op', name: `tune ${c.name}`, shape: c.shape, status: 'skipped', note: `src/ops/conv3d.ts exports no ${sweep.object} to sweep` });
        continue;
      }
      const tiles = target.live;
      const defaults = target.defaults;
      const row: Row = { section: 'op', name: `tune ${c.name}`, shape: c.shape, status: 'ok', flops: c.flops, bytes: c.bytes };
      try {
        const prepared = await c.prepare();
        try {
          restore();
          const reference = prepared.compute();
          const expected = await readAll(reference);
          for (const t of reference) t.dispose();
          const key = { adapter, op: `${m.op}.${m.pass}`, shapeClass: shapeClass({ cin: m.cin, cout: m.cout, voxels: m.size[0] * m.size[1] * m.size[2] }, { k: m.k, stride: m.stride }) };
          const timings = new Map<string, Awaited<ReturnType<typeof timeGpu>>>();
          const result = await tuner.tune(key, variants(defaults, sweep.grid), async (v) => {
            Object.assign(tiles, v.tiles);
            const outs = prepared.compute();
            const got = await readAll(outs);
            for (const t of outs) t.dispose();
            const diff = maxRelDiff(got, expected);
            if (!(diff < 1e-4)) throw new Error(`wrong result (max rel. diff ${diff.toExponential(1)})`);
            const m0 = mark();
            const t = await timeGpu(ctx, runOf(prepared), options.timing);
            timings.set(v.name, t);
            row.foreignLoad = foreignLoad(m0);
            return t.medianMs;
          });
          const best = timings.get(result.winner)!;
          timed(row, best, row.foreignLoad ?? null);
          const def = result.measurements[0]!;
          const others = result.measurements.map((x) => `${x.name} ${x.ms === null ? `✗ (${x.error})` : `${x.ms.toFixed(2)}`}`).join(', ');
          row.note = `${sweep.object} winner ${result.winner}${def.ms ? ` (${(def.ms / best.medianMs).toFixed(2)}× the default)` : ''}`;
          row.extra = { winner: result.winner, candidates: others, shapeClass: key.shapeClass };
          rates(row, ceiling);
          options.log(`  ${c.name} ${c.shape}: ${row.note}; ${others}`);
        } finally {
          prepared.dispose();
        }
      } catch (e) {
        row.status = e instanceof MissingOp ? 'skipped' : 'failed';
        row.note = (e as Error).message.split('\n')[0];
        await ctx.sync().catch(() => undefined);
      }
      rows.push(row);
    }
  } finally {
    restore();
  }
  return rows;
}
