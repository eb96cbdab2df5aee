// Dispatch overhead, timed with benny (benchmark.js): these cases last 0.1–20 ms and repeat
// thousands of times, which is the model benchmark.js was built for (it picks the repetitions and
// reports a median over many samples). Each case ends with `await ctx.sync()`, so it is the
// wall time until the GPU has finished, not just the time to record.
//   empty op        one dispatch of an empty kernel (bench_copy.noop) + sync: submit latency
//   100 empty ops   100 such dispatches in one pass + sync
//   tiny op         addScalar on a 1-element tensor (pool, uniform, bind group, dispatch) + sync
//   100 tiny ops    a chain x = x + 1, 100 times + sync
// Per-dispatch cost = (chain − single) / 99: the latency of the sync is paid once in both.
// On Dawn's OpenGL backend most of it is spent at submit, where Dawn replays the commands into GL
// and llvmpipe runs each dispatch to completion; "recording" is the host-side share.
import b from 'benny';
import type { Context } from '../src/device/context.js';
import { addScalar } from '../src/ops/map.js';
import { full } from '../src/ops/creation.js';
import { noGrad } from '../src/core/autograd.js';
import type { Row } from './lib/report.js';
import { foreignLoad, mark } from './lib/load.js';
import { median } from './lib/timing.js';

export async function measureDispatch(
  ctx: Context,
  options: { quick: boolean; log: (s: string) => void },
): Promise<{ rows: Row[]; perDispatchUs: number; hostUs: number; emptyOpUs: number }> {
  const noop = () => ctx.dispatch({ op: 'bench.noop', kernel: 'bench_copy', entry: 'noop', bindings: {}, workgroups: 1 });
  const x0 = full([1], 0);
  const chain = (n: number) =>
    noGrad(() => {
      let x = x0;
      for (let i = 0; i < n; i++) {
        const y = addScalar(x, 1);
        if (x !== x0) x.dispose();
        x = y;
      }
      if (x !== x0) x.dispose();
    });
  const cases: [string, () => Promise<void>][] = [
    [
      'empty op',
      async () => {
        noop();
        await ctx.sync();
      },
    ],
    [
      '100 empty ops',
      async () => {
        for (let i = 0; i < 100; i++) noop();
        await ctx.sync();
      },
    ],
    [
      'tiny op',
      async () => {
        chain(1);
        await ctx.sync();
      },
    ],
    [
      '100 tiny ops',
      async () => {
        chain(100);
        await ctx.sync();
      },
    ],
  ];
  const caseOptions = { minSamples: options.quick ? 10 : 30, maxTime: options.quick ? 1 : 3 };
  const m = mark();
  const summary = await b.suite(
    'dispatch overhead',
    ...cases.map(([name, fn]) => b.add(name, fn, caseOptions)),
    b.cycle((result: { name: string; details: { median: number } }) =>
      options.log(`  ${result.name}: ${(result.details.median * 1e3).toFixed(3)} ms`),
    ),
  );
  const load = foreignLoad(m);
  const ms = new Map(summary.results.map((r) => [r.name, r.details.median * 1e3]));
  const perEmpty = ((ms.get('100 empty ops')! - ms.get('empty op')!) / 99) * 1e3;
  const perTiny = ((ms.get('100 tiny ops')! - ms.get('tiny op')!) / 99) * 1e3;
  // Host side alone: recording 100 tiny ops, without waiting (hand loop: benny cannot stop the
  // clock before the sync). The work is drained untimed after each sample.
  const recordUs: number[] = [];
  for (let i = 0; i < (options.quick ? 30 : 100); i++) {
    const t0 = performance.now();
    chain(100);
    recordUs.push(((performance.now() - t0) / 100) * 1e3);
    await ctx.sync();
  }
  const hostUs = median(recordUs);
  x0.dispose();
  options.log(`  recording only: ${hostUs.toFixed(1)} µs per tiny op`);
  const rows: Row[] = summary.results.map((r) => ({
    section: 'dispatch',
    name: r.name,
    shape: r.name.includes('tiny') ? 'addScalar on [1]' : 'bench_copy.noop, 1 workgroup',
    status: 'ok',
    medianMs: r.details.median * 1e3,
    minMs: r.details.min * 1e3,
    samples: r.samples,
    spread: r.details.median > 0 ? (r.details.max - r.details.min) / r.details.median : 0,
    foreignLoad: load,
  }));
  rows.push(
    {
      section: 'dispatch',
      name: 'per empty dispatch',
      shape: '(100 − 1) / 99',
      status: 'ok',
      note: `${perEmpty.toFixed(1)} µs/dispatch`,
      extra: { us: perEmpty },
    },
    {
      section: 'dispatch',
      name: 'per tiny-op dispatch',
      shape: '(100 − 1) / 99',
      status: 'ok',
      note: `${perTiny.toFixed(1)} µs/dispatch (target ≤ 50)`,
      extra: { us: perTiny },
    },
    {
      section: 'dispatch',
      name: 'tiny-op recording (host)',
      shape: 'median of 100 chains',
      status: 'ok',
      note: `${hostUs.toFixed(1)} µs/dispatch to record, the rest runs at submit`,
      extra: { us: hostUs },
    },
  );
  return { rows, perDispatchUs: perTiny, hostUs, emptyOpUs: ms.get('empty op')! * 1e3 };
}
