// Opt-in section (--sections ...,tune): autotune (src/autotune.ts) on each conv case, the way
// fit() runs it on a model: the case's passes (forward: convolve; dx: transposed convolve; dw:
// weightGrad) are collected, their candidate tiles timed and the winners cached; then the case is
// timed again like the ops section. Each row is the tuned case, with the variant that ran in its
// kernels, and notes the winner, the speed-up over the default (both timed here, one after the
// other) and every candidate's tuner median. The tuner starts empty for every case, so "default"
// really is the untuned tile, and is emptied at the end, so later sections run untuned too.
import type { Context } from '../src/device/context.js';
import { autotune } from '../src/autotune.js';
import { runCase, runOf, type OpCase } from './ops.js';
import type { Ceiling, Row } from './lib/report.js';
import type { TimingOptions } from './lib/timing.js';

export async function tuneConv(
  ctx: Context,
  cases: OpCase[],
  ceiling: Ceiling | null,
  options: { timing: TimingOptions; log: (s: string) => void },
): Promise<Row[]> {
  const rows: Row[] = [];
  try {
    for (const c of cases) {
      if (!c.conv || c.conv.pass === 'dx+dw') continue;
      ctx.tuner.clear();
      const before = await runCase(ctx, c, ceiling, options.timing);
      const row: Row = { ...before, name: `tune ${c.name}` };
      if (before.status === 'ok') {
        try {
          const prepared = await c.prepare();
          const report = await autotune(runOf(prepared)).finally(() => prepared.dispose());
          const failed = report.ops.find((o) => o.error);
          if (failed) throw new Error(`${failed.label}: ${failed.error}`);
          Object.assign(row, await runCase(ctx, c, ceiling, options.timing), { name: row.name });
          const speedup = before.medianMs! / row.medianMs!;
          const winners = report.ops.map((o) => o.winner).join(' + ');
          const candidates = report.ops
            .map((o) => o.measurements.map((m) => `${m.name} ${m.ms === null ? `✗ (${m.error})` : m.ms.toFixed(2)}`).join(', '))
            .join('; ');
          row.note =
            `winner ${winners}: ${before.medianMs!.toFixed(2)} → ${row.medianMs!.toFixed(2)} ` +
            `ms ` +
            `(${speedup.toFixed(2)}× the default)`;
          row.extra = {
            winner: winners,
            defaultMs: before.medianMs!,
            defaultForeignLoad: before.foreignLoad ?? 'unknown',
            speedup,
            candidates,
            tuneSeconds: report.seconds,
            shapeClass: report.ops.map((o) => o.key.split('|')[2]).join(' + '),
          };
          options.log(`  ${c.name} ${c.shape}: ${row.note}; tuner medians (ms): ${candidates}`);
        } catch (e) {
          row.status = 'failed';
          row.note = (e as Error).message.split('\n')[0];
          await ctx.sync().catch(() => undefined);
        }
      }
      rows.push(row);
    }
  } finally {
    ctx.tuner.clear();
  }
  return rows;
}
