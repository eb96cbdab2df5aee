// One result row per case, the printed table and the JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KernelUse } from './recorder.js';
import type { Timing } from './timing.js';

export interface Row {
  section: 'ceiling' | 'dispatch' | 'data' | 'op' | 'vnet' | 'augment' | 'brainchop' | 'onnx';
  /** The case, e.g. "conv3d 5³ forward". */
  name: string;
  /** Human-readable shape, e.g. "16→16 @ 32×32×32". */
  shape: string;
  status: 'ok' | 'skipped' | 'failed';
  note?: string;
  medianMs?: number;
  /** GPU time of one run from timestamp queries (median), where the device has them. */
  gpuMs?: number;
  minMs?: number;
  spread?: number;
  samples?: number;
  reps?: number;
  /** Floating-point operations of one run (a multiply-add counts 2). */
  flops?: number;
  /** Bytes of one run under the byte model: every input read once, every output written once. */
  bytes?: number;
  gflops?: number;
  gbps?: number;
  /** % of the measured FMA ceiling (GFLOP/s) and of the copy ceiling (GB/s). */
  pctFma?: number;
  pctBw?: number;
  /** Kernels the case ran, as seen by the dispatch recorder. */
  kernels?: KernelUse[];
  dispatches?: number;
  /** Cores other processes kept busy while the case ran. */
  foreignLoad?: number | null;
  extra?: Record<string, number | string>;
}

/** Thrown while preparing a case that is deliberately not run (e.g. the naive reference past its size): a 'skipped' row with this note. */
export class SkippedCase extends Error {}

export interface Ceiling {
  fmaGflops: number;
  fmaVariant: string;
  /** Best WGSL copy kernel: what a kernel can stream, the reference for the ops' % BW. */
  copyGbps: number;
  copyVariant: string;
  /** copyBufferToBuffer (the driver's memcpy): the memory system's own limit, for comparison. */
  memcpyGbps: number;
}

/** Copies a timing and the foreign load measured over it into a row. */
export function timed(row: Row, t: Timing, foreignLoad: number | null): Row {
  return Object.assign(row, {
    medianMs: t.medianMs,
    gpuMs: t.gpuMs,
    minMs: t.minMs,
    spread: t.spread,
    samples: t.samples.length,
    reps: t.reps,
    foreignLoad,
  });
}

/** Fills the rate columns of a timed row. */
export function rates(row: Row, ceiling: Ceiling | null): Row {
  if (row.medianMs === undefined || row.medianMs <= 0) return row;
  const s = row.medianMs / 1000;
  if (row.flops) row.gflops = row.flops / s / 1e9;
  if (row.bytes) row.gbps = row.bytes / s / 1e9;
  if (ceiling && row.gflops !== undefined) row.pctFma = (100 * row.gflops) / ceiling.fmaGflops;
  if (ceiling && row.gbps !== undefined) row.pctBw = (100 * row.gbps) / ceiling.copyGbps;
  return row;
}

function fmt(x: number | undefined, digits = 1): string {
  if (x === undefined || !Number.isFinite(x)) return '';
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  if (Math.abs(x) >= 100) return x.toFixed(Math.max(0, digits - 1));
  if (Math.abs(x) < 1 && x !== 0) return x.toPrecision(2);
  return x.toFixed(digits);
}

export function formatRow(r: Row): string[] {
  const note = r.status === 'ok' ? (r.note ?? '') : `${r.status.toUpperCase()}: ${r.note ?? ''}`;
  return [
    r.section,
    r.name,
    r.shape,
    fmt(r.medianMs, 2),
    fmt(r.gpuMs, 2),
    fmt(r.gflops),
    fmt(r.gbps, 2),
    fmt(r.pctFma),
    fmt(r.pctBw),
    note,
  ];
}

export function table(rows: readonly Row[]): string {
  // GPU ms: timestamp queries (blank where the device has none); the rates are of the wall-clock median.
  const head = ['section', 'case', 'shape', 'median ms', 'GPU ms', 'GFLOP/s', 'GB/s', '% FMA', '% BW', 'note'];
  const body = rows.map(formatRow);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (i === head.length - 1 ? 0 : b[i]!.length))));
  const numeric = new Set([3, 4, 5, 6, 7, 8]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** A file-name-safe slug of the adapter name, e.g. "llvmpipe-llvm-15-0-6-256-bits". */
export function adapterSlug(adapter: string, kind: string): string {
  const m = /llvmpipe[^/]*|swiftshader[^/]*/i.exec(adapter);
  const base = m ? m[0] : `${kind}-${adapter}`;
  return (
    base
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || kind
  );
}

export function writeResults(dir: string, slug: string, date: Date, data: unknown): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = date
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const text = `${JSON.stringify(data, null, 2)}\n`;
  const files = [join(dir, `${slug}-${stamp}.json`), join(dir, 'latest.json')];
  for (const f of files) writeFileSync(f, text);
  return files;
}
