// Opt-in section (--sections ...,tune): the conv kernels' register-tile variants swept with the
// tuner (src/tuning/tuner.ts), per pass and V-Net stage shape. The ops are not wired to the tuner
// yet; this drives the exported `convTiles` of src/ops/conv3d.ts directly, restores it after, and
// reports the winner and every candidate's time. A variant's outputs must match the default's
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

/** Register tiles to try: output channels per invocation × vec4s along W, and workgroup size. */
const grid = { COT: [4, 8, 16], XV: [1, 2], WG: [32, 64] };

function variants(defaults: Tiles): TileVariant[] {
  const name = (t: Tiles) => Object.entries(t).map(([k, v]) => `${k}${v}`).join('.');
  const out: TileVariant[] = [{ name: name(defaults), tiles: { ...defaults } }]; // the default first: ties keep it
  for (const COT of grid.COT)
    for (const XV of grid.XV)
      for (const WG of grid.WG) {
        const t = { ...defaults, COT, XV, WG };
        if (!out.some((v) => v.name === name(t))) out.push({ name: name(t), tiles: t });
      }
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
  let tiles: Tiles | undefined;
  try {
    const mod = (await import(/* @vite-ignore */ '../src/ops/conv3d.js' as string)) as { convTiles?: Tiles };
    tiles = mod.convTiles;
  } catch {
    tiles = undefined;
  }
  if (!tiles || typeof tiles.COT !== 'number') {
    return [{ section: 'op', name: 'tune conv tiles', shape: '', status: 'skipped', note: 'src/ops/conv3d.ts exports no convTiles to sweep' }];
  }
  const defaults = { ...tiles };
  const tuner = new Tuner({ storage: fileStorage(options.cachePath), samples: 1, warmup: 0 });
  const adapter = adapterId(ctx.describe());
  try {
    for (const c of cases) {
      const m = c.conv;
      if (!m || m.pass === 'dx+dw') continue;
      const row: Row = { section: 'op', name: `tune ${c.name}`, shape: c.shape, status: 'ok', flops: c.flops, bytes: c.bytes };
      try {
        const prepared = await c.prepare();
        try {
          Object.assign(tiles, defaults);
          const reference = prepared.compute();
          const expected = await readAll(reference);
          for (const t of reference) t.dispose();
          const key = { adapter, op: `${m.op}.${m.pass}`, shapeClass: shapeClass({ cin: m.cin, cout: m.cout, voxels: m.size[0] * m.size[1] * m.size[2], k: m.k, stride: m.stride }) };
          const timings = new Map<string, Awaited<ReturnType<typeof timeGpu>>>();
          const result = await tuner.tune(key, variants(defaults), async (v) => {
            Object.assign(tiles!, v.tiles);
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
          row.note = `winner ${result.winner}${def.ms ? ` (${(def.ms / best.medianMs).toFixed(2)}× the default)` : ''}`;
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
    Object.assign(tiles, defaults);
  }
  return rows;
}
