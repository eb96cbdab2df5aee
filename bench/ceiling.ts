// The adapter's ceilings, measured in the same process as the kernels they judge:
// - FMA: bench/kernels/bench_fma.wgsl, every (ILP, workgroup size) variant; the best is the ceiling.
// - Bandwidth: a 64 MiB vec4 copy kernel (one element per invocation, and a grid-stride loop); the
//   best is the ceiling the ops' % BW refers to. copyBufferToBuffer is measured too and reported
//   beside it: on llvmpipe it is a memcpy, several times faster than any shader can stream, so it
//   bounds the memory system, not kernels. Bytes = read + written = 2 · buffer size.
import type { Context } from '../src/device/context.js';
import { timeGpu } from './lib/timing.js';
import { rates, timed, type Ceiling, type Row } from './lib/report.js';
import { foreignLoad, mark } from './lib/load.js';

const fmaInvocations = 32768;
/** Each FMA run is made to last about this long, so that launch costs vanish next to it. */
const fmaTargetMs = 60;

interface FmaVariant {
  entry: 'ilp1' | 'ilp2' | 'ilp4' | 'ilp8';
  wg: number;
}

const fmaVariants: FmaVariant[] = [
  { entry: 'ilp1', wg: 64 },
  { entry: 'ilp2', wg: 64 },
  { entry: 'ilp4', wg: 64 },
  { entry: 'ilp8', wg: 64 },
  { entry: 'ilp4', wg: 16 },
  { entry: 'ilp8', wg: 16 },
  { entry: 'ilp8', wg: 32 },
  { entry: 'ilp8', wg: 128 },
  { entry: 'ilp8', wg: 256 },
];

async function fma(ctx: Context, v: FmaVariant, quick: boolean): Promise<Row> {
  const ilp = Number(v.entry.slice(3));
  const out = ctx.pool.acquire(fmaInvocations * 16);
  const groups = fmaInvocations / v.wg;
  const dispatch = (iters: number) =>
    ctx.dispatch({
      op: 'bench.fma',
      kernel: 'bench_fma',
      entry: v.entry,
      bindings: { out },
      // m < 1 and c > 0: every chain converges to c / (1 − m) and never overflows or goes subnormal.
      params: { iters, m: 0.9999, c: 1e-4 },
      constants: { WG: v.wg },
      invocations: fmaInvocations,
    });
  // Calibrate the trip count to the target duration.
  let iters = 64;
  for (;;) {
    dispatch(iters);
    const t0 = performance.now();
    dispatch(iters);
    await ctx.sync();
    const ms = performance.now() - t0;
    if (ms >= fmaTargetMs / 2 || iters >= 1 << 20) {
      iters = Math.max(1, Math.round((iters * fmaTargetMs) / Math.max(ms, 1e-3)));
      break;
    }
    iters *= 4;
  }
  const m = mark();
  const t = await timeGpu(ctx, () => dispatch(iters), {
    minSamples: quick ? 2 : 5,
    maxSamples: quick ? 3 : 9,
    budgetMs: 800,
    minSampleMs: 0,
    warmup: 1,
  });
  ctx.pool.release(out);
  const flops = fmaInvocations * iters * ilp * 4 * 4 * 2;
  const row: Row = {
    section: 'ceiling',
    name: `fma ${v.entry}`,
    shape: `WG ${v.wg}, ${groups} groups, ${iters} iters`,
    status: 'ok',
    flops,
    kernels: [{ kernel: `bench_fma.${v.entry}`, constants: { WG: v.wg }, workgroups: [groups], count: 1 }],
  };
  return rates(timed(row, t, foreignLoad(m)), null);
}

interface CopyVariant {
  label: string;
  run: (ctx: Context, src: GPUBuffer, dst: GPUBuffer, vec4s: number) => void;
  kernel?: string;
  constants?: Record<string, number>;
}

/** One element per invocation: a vec4 (`copy`), or an f32 as the elementwise ops are written (`copyScalar`). */
function copyKernel(wg: number, entry: 'copy' | 'copyScalar' = 'copy'): CopyVariant {
  const scalar = entry === 'copyScalar';
  return {
    label: `copy kernel, 1 ${scalar ? 'f32' : 'vec4'}/invocation, WG ${wg}`,
    kernel: `bench_copy.${entry}`,
    constants: { WG: wg },
    run: (ctx, src, dst, vec4s) => {
      const n = scalar ? 4 * vec4s : vec4s;
      const bindings: Record<string, GPUBuffer> = scalar ? { srcScalar: src, dstScalar: dst } : { src, dst };
      ctx.dispatch({
        op: 'bench.copy',
        kernel: 'bench_copy',
        entry,
        bindings,
        params: { n, stride: 0 },
        constants: { WG: wg },
        invocations: n,
      });
    },
  };
}

function copyLoopKernel(groups: number, wg = 256): CopyVariant {
  return {
    label: `copy kernel, grid-stride loop, ${groups}×${wg} invocations`,
    kernel: 'bench_copy.copyLoop',
    constants: { WG: wg },
    run: (ctx, src, dst, n) =>
      ctx.dispatch({
        op: 'bench.copy',
        kernel: 'bench_copy',
        entry: 'copyLoop',
        bindings: { src, dst },
        params: { n, stride: groups * wg },
        constants: { WG: wg },
        workgroups: [groups],
      }),
  };
}

const copyVariants: CopyVariant[] = [
  copyKernel(64),
  copyKernel(256),
  copyKernel(1024),
  copyKernel(256, 'copyScalar'),
  copyLoopKernel(8),
  copyLoopKernel(32),
  copyLoopKernel(128),
  { label: 'copyBufferToBuffer', run: (ctx, src, dst, n) => ctx.copy(src, dst, n * 16) },
];

async function copy(ctx: Context, v: CopyVariant, bytes: number, quick: boolean): Promise<Row> {
  const src = ctx.pool.acquire(bytes);
  const dst = ctx.pool.acquire(bytes);
  const n = bytes / 16;
  const m = mark();
  const t = await timeGpu(ctx, () => v.run(ctx, src, dst, n), {
    minSamples: quick ? 3 : 5,
    maxSamples: quick ? 5 : 11,
    budgetMs: 1000,
    minSampleMs: 40,
  });
  ctx.pool.release(src);
  ctx.pool.release(dst);
  const row: Row = {
    section: 'ceiling',
    name: 'copy',
    shape: `${bytes / 2 ** 20} MiB → ${bytes / 2 ** 20} MiB`,
    note: v.label,
    status: 'ok',
    bytes: 2 * bytes,
    kernels: v.kernel ? [{ kernel: v.kernel, constants: v.constants ?? {}, workgroups: [], count: 1 }] : [],
  };
  return rates(timed(row, t, foreignLoad(m)), null);
}

export async function measureCeiling(
  ctx: Context,
  options: { quick: boolean; log: (s: string) => void },
): Promise<{ ceiling: Ceiling; rows: Row[] }> {
  const rows: Row[] = [];
  for (const v of fmaVariants) {
    const r = await fma(ctx, v, options.quick);
    options.log(`  fma ${v.entry} WG ${v.wg}: ${r.gflops!.toFixed(1)} GFLOP/s`);
    rows.push(r);
  }
  // 64 MiB per buffer: far past the last-level cache, so this is memory bandwidth. Capped by the
  // binding-size limit (128 MiB on llvmpipe, 128 MiB minimum in WebGPU core).
  const bytes = Math.min(64 * 2 ** 20, ctx.limits.maxStorageBufferBindingSize);
  for (const v of copyVariants) {
    const r = await copy(ctx, v, bytes, options.quick);
    options.log(`  ${v.label}: ${r.gbps!.toFixed(2)} GB/s`);
    rows.push(r);
  }
  const bestFma = rows.filter((r) => r.flops).reduce((a, b) => (b.gflops! > a.gflops! ? b : a));
  const kernelCopies = rows.filter((r) => r.bytes && r.kernels?.length);
  const bestCopy = kernelCopies.reduce((a, b) => (b.gbps! > a.gbps! ? b : a));
  const memcpy = rows.find((r) => r.bytes && !r.kernels?.length)!;
  const ceiling: Ceiling = {
    fmaGflops: bestFma.gflops!,
    fmaVariant: `${bestFma.name}, ${bestFma.shape}`,
    copyGbps: bestCopy.gbps!,
    copyVariant: bestCopy.note!,
    memcpyGbps: memcpy.gbps!,
  };
  for (const r of rows) rates(r, ceiling);
  // Against itself it would read 100%, against the kernel ceiling several hundred: neither means much.
  delete memcpy.pctBw;
  return { ceiling, rows };
}
