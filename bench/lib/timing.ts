// Timing of GPU work: record, `await ctx.sync()`, repeat; wall-clock, and where the device has
// timestamp queries also the GPU's own time (ctx.startGpuTiming). A hand-written loop rather than
// benny here because GPU cases need what benchmark.js does not model: a first run that compiles
// pipelines (excluded), a sync that must close every sample, and cases lasting from 0.1 ms to
// minutes, where a fixed time budget and a handful of samples must do.
import type { Context } from '../../src/device/context.js';

export interface TimingOptions {
  /** Untimed runs before sampling (the first compiles pipelines and fills the buffer pool); may be 0. */
  warmup?: number;
  minSamples?: number;
  maxSamples?: number;
  /** Stop sampling once this much time was spent (after minSamples). */
  budgetMs?: number;
  /**
   * A sample repeats the case until it lasts this long, so the sync round trip (≈0.1–0.3 ms on
   * llvmpipe) and timer noise stay small next to the work being timed.
   */
  minSampleMs?: number;
}

export interface Timing {
  /** Per-run times of each sample (ms). */
  samples: number[];
  /** Runs recorded before each sync. */
  reps: number;
  medianMs: number;
  minMs: number;
  meanMs: number;
  /** Relative spread: (max − min) / median over the samples. */
  spread: number;
  /** The first untimed (compiling) run, for reference; NaN when there was none. */
  firstMs: number;
  /**
   * Per-run GPU time from timestamp queries (median over the samples), where the device has
   * `timestamp-query`: the GPU's work without the host's dispatch and sync overhead.
   */
  gpuMs?: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(samples: number[], reps: number, firstMs: number): Timing {
  const med = median(samples);
  return {
    samples,
    reps,
    medianMs: med,
    minMs: Math.min(...samples),
    meanMs: samples.reduce((a, b) => a + b, 0) / samples.length,
    spread: med > 0 ? (Math.max(...samples) - Math.min(...samples)) / med : 0,
    firstMs,
  };
}

/**
 * Times `run`, which records GPU work (dispatches) and must not wait on the GPU itself. Each sample
 * is `reps` runs followed by one sync; the per-run time is sample time / reps.
 */
export async function timeGpu(ctx: Context, run: () => void, options: TimingOptions = {}): Promise<Timing> {
  const { warmup = 1, minSamples = 3, maxSamples = 15, budgetMs = 3000, minSampleMs = 30 } = options;
  let firstMs = NaN;
  let lastMs = NaN;
  const untimed = async () => {
    const t0 = performance.now();
    run();
    await ctx.sync();
    lastMs = performance.now() - t0;
    if (Number.isNaN(firstMs)) firstMs = lastMs;
  };
  for (let i = 0; i < warmup; i++) await untimed();
  let reps = 1;
  if (minSampleMs > 0) {
    // The first run may be mostly compilation: time one more before choosing reps, unless it
    // already lasted a whole sample (then no repetition is needed, whatever compilation cost).
    if (warmup < 2 && !(lastMs >= minSampleMs)) await untimed();
    reps = Math.max(1, Math.min(1000, Math.ceil(minSampleMs / Math.max(lastMs, 1e-3))));
  }
  const samples: number[] = [];
  const gpu: number[] = [];
  const start = performance.now();
  while (samples.length < maxSamples && (samples.length < minSamples || performance.now() - start < budgetMs)) {
    const timed = ctx.startGpuTiming();
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) run();
    await ctx.sync();
    samples.push((performance.now() - t0) / reps);
    const ms = timed ? await ctx.stopGpuTiming() : null;
    if (ms !== null) gpu.push(ms / reps);
  }
  const timing = summarize(samples, reps, firstMs);
  return gpu.length === samples.length ? { ...timing, gpuMs: median(gpu) } : timing;
}
