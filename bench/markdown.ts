// Prints a results file as the Markdown tables of BENCHMARKS.md:
//   npx tsx bench/markdown.ts [bench/results/latest.json]
import { readFileSync } from 'node:fs';
import { formatKernels, type KernelUse } from './lib/recorder.js';
import type { Ceiling, Row } from './lib/report.js';

interface Results {
  adapter: { adapter: string; backend: string };
  host: { cores: number; cpu: string; loadavg: number[]; loadavgAtEnd: number[]; node: string };
  started: string;
  revision?: string | null;
  configuration: { full: boolean; quick: boolean };
  ceiling: Ceiling | null;
  dispatch: { perDispatchUs: number; hostUs: number; emptyOpUs: number } | null;
  rows: Row[];
}

const file = process.argv[2] ?? new URL('./results/latest.json', import.meta.url).pathname;
const r = JSON.parse(readFileSync(file, 'utf8')) as Results;

const f = (x: number | undefined | null, d = 1) =>
  x === undefined || x === null || !Number.isFinite(x) ? '' : x >= 100 ? x.toFixed(0) : x.toFixed(d);
const load = (x: number | null | undefined) => (x === undefined || x === null ? '' : x.toFixed(2));
const kernels = (k: KernelUse[] | undefined) => (k?.length ? `\`${formatKernels(k)}\`` : '');

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const out: string[] = [];
out.push(
  `Adapter: ${r.adapter.adapter} (${r.adapter.backend}); host ${r.host.cores} × ${r.host.cpu}, Node ${r.host.node}; code ` +
    `${r.revision ?? '?'}, run ${r.started}, ` +
    `${r.configuration.full ? 'full' : 'small'} configuration; load average at start ${r.host.loadavg.join(' ')}, at end ` +
    `${r.host.loadavgAtEnd.join(' ')}.`,
);
if (r.ceiling) {
  out.push('', '**Ceiling**', '');
  out.push(
    table(
      ['case', 'variant', 'median ms', 'GFLOP/s', 'GB/s', 'foreign load (cores)'],
      r.rows
        .filter((x) => x.section === 'ceiling')
        .map((x) => [x.name, x.note ?? x.shape, f(x.medianMs, 2), f(x.gflops), f(x.gbps, 2), load(x.foreignLoad)]),
    ),
  );
}
if (r.dispatch) {
  out.push('', '**Dispatch overhead**', '');
  out.push(
    table(
      ['case', 'median ms', 'note'],
      r.rows.filter((x) => x.section === 'dispatch').map((x) => [x.name, f(x.medianMs, 3), x.note ?? '']),
    ),
  );
}
const ops = r.rows.filter((x) => x.section === 'op');
if (ops.length) {
  out.push('', '**Kernels**', '');
  out.push(
    table(
      ['case', 'shape', 'median ms', 'GFLOP/s', '% FMA', 'GB/s', '% BW', 'kernels (constants)', 'note'],
      ops.map((x) => [
        x.name,
        x.shape,
        x.status === 'ok' ? f(x.medianMs, 2) : x.status,
        f(x.gflops),
        f(x.pctFma),
        f(x.gbps, 2),
        f(x.pctBw),
        kernels(x.kernels),
        x.status === 'ok' ? (x.note ?? '') : (x.note ?? ''),
      ]),
    ),
  );
}
const vnet = r.rows.filter((x) => x.section === 'vnet');
if (vnet.length) {
  out.push('', '**V-Net**', '');
  out.push(
    table(
      ['case', 'shape', 'median ms', 'ms / Mvoxel', 'GFLOP/s (convs)', '% FMA', 'peak MiB', 'held MiB', 'step MiB', 'dispatches', 'note'],
      vnet.map((x) => {
        const e = (x.extra ?? {}) as Record<string, number>;
        return [
          x.name,
          x.shape,
          x.status === 'ok' ? f(x.medianMs, 0) : x.status,
          f(e.msPerMvoxel, 0),
          f(x.gflops),
          f(x.pctFma),
          f(e.peakBytes !== undefined ? e.peakBytes / 2 ** 20 : undefined, 0),
          f(e.heldBytes !== undefined ? e.heldBytes / 2 ** 20 : undefined, 0),
          f(e.stepBytes !== undefined ? e.stepBytes / 2 ** 20 : undefined, 0),
          `${x.dispatches ?? ''}`,
          x.note ?? '',
        ];
      }),
    ),
  );
}
const augment = r.rows.filter((x) => x.section === 'augment');
if (augment.length) {
  out.push('', '**Augmentation and training throughput**', '');
  out.push(
    table(
      ['case', 'shape', 'median ms (per sample)', 'foreign load (cores)', 'note'],
      augment.map((x) => [x.name, x.shape, x.status === 'ok' ? f(x.medianMs, 1) : x.status, load(x.foreignLoad), x.note ?? '']),
    ),
  );
}
console.log(out.join('\n'));
