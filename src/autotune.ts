// `autotune(fn)` fills the tuner's cache that ops read through `tuned()` (tuned.ts): a dry run of fn
// (no GPU work) collects what its ops would ask for, then every key not cached yet is timed on the
// GPU, one candidate after another, on random inputs of the request's shape (or a cut-down copy of
// it). Above the ops: it runs them.
import { getContext, type Context } from './device/context.js';
import { tidy } from './core/memory.js';
import { randn } from './ops/creation.js';
import type { Tensor } from './core/tensor.js';
import { collectTunables, type Trial, type Tunable } from './tuning/tuned.js';
import { keyString, type Measurement, type Variant } from './tuning/tuner.js';

export type { Trial, Tunable } from './tuning/tuned.js';

export interface AutotuneOptions {
  /** Receives one line per op shape measured, and a summary. */
  log?: (line: string) => void;
  /**
   * Seconds of measuring after which the op shapes not yet measured keep their defaults for now
   * (a later call measures them), so tuning stays short on a slow host. Default 30.
   */
  budgetSeconds?: number;
}

export interface TunedOp {
  key: string;
  label: string;
  winner: string;
  /** The op's default variant (its first candidate). */
  defaultVariant: string;
  /** True when the winner came from the cache and nothing was measured. */
  cached: boolean;
  /** Median time of every candidate, in candidate order (empty when cached). */
  measurements: Measurement[];
  /** Why tuning this key failed (the op keeps its default). */
  error?: string;
  /** Not measured: the time budget was spent (the op keeps its default until a later call). */
  skipped?: boolean;
}

export interface AutotuneReport {
  ops: TunedOp[];
  /** Keys measured by this call (the rest were cached, or skipped). */
  measured: number;
  /** Keys left at their defaults because the time budget was spent. */
  skipped: number;
  seconds: number;
}

/** Relative difference from which a variant's output counts as wrong (float32 sums in other orders stay far below). */
const tolerance = 1e-4;

/**
 * Tunes every op variant `fn` would use: `fn` runs once without GPU work (so it may be a whole
 * forward and backward pass: it costs only host time), then each (op, shape class) not in the
 * cache is measured — per candidate one run checked against the default's output (a tile beyond a
 * kernel's register arrays can be silently wrong; it doubles as the warm-up), then the median of
 * three timed runs, each closed by `await ctx.sync()` — and the winners cached (and saved, see init's
 * `tuningCache`). A second call with the same shapes measures nothing. `fn` must be synchronous;
 * gradients it computes land in `.grad` holding garbage: zero them after.
 */
export async function autotune(fn: () => unknown, options: AutotuneOptions = {}): Promise<AutotuneReport> {
  const ctx = getContext();
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const budget = options.budgetSeconds ?? 30;
  const requests = collect(ctx, fn);
  const ops: TunedOp[] = [];
  for (const t of requests) {
    const overBudget = (performance.now() - started) / 1000 > budget && ctx.tuner.lookup(t.key) === undefined;
    const op = overBudget ? skip(t) : await tuneOne(ctx, t);
    ops.push(op);
    if (op.error) log(`autotune: ${op.label}: failed, keeping ${op.defaultVariant}: ${op.error}`);
    else if (!op.cached && !op.skipped) log(`autotune: ${op.label}: ${describeResult(op)}`);
  }
  const skipped = ops.filter((o) => o.skipped).length;
  const measured = ops.filter((o) => !o.cached && !o.skipped).length;
  const seconds = (performance.now() - started) / 1000;
  const left = skipped ? `, ${skipped} left at their defaults (the ${budget} s budget was spent; a later call measures them)` : '';
  log(
    `autotune: ${measured} op shape${measured === 1 ? '' : 's'} measured in ${seconds.toFixed(1)} s, ` +
      `${ops.length - measured - skipped} cached${left}`,
  );
  if (ctx.tuner.lastSaveError) log(`autotune: could not save the winners: ${ctx.tuner.lastSaveError.message}`);
  return { ops, measured, skipped, seconds };
}

function collect(ctx: Context, fn: () => unknown): Tunable<Variant>[] {
  return collectTunables(() =>
    ctx.dryRun(() =>
      tidy(() => {
        if (fn() instanceof Promise) throw new Error('autotune: the function must be synchronous (it returned a Promise)');
      }),
    ),
  );
}

function skip<V extends Variant>(t: Tunable<V>): TunedOp {
  const name = t.candidates[0]!.name;
  return {
    key: keyString(t.key),
    label: t.trial().label,
    winner: name,
    defaultVariant: name,
    cached: false,
    measurements: [],
    skipped: true,
  };
}

async function tuneOne<V extends Variant>(ctx: Context, t: Tunable<V>): Promise<TunedOp> {
  const trial = t.trial();
  const base = { key: keyString(t.key), label: trial.label, defaultVariant: t.candidates[0]!.name };
  let timer: Timer<V> | null = null;
  try {
    const r = await ctx.tuner.tune(t.key, t.candidates, async (v) => {
      timer ??= await startTimer(ctx, trial, t.candidates[0]!);
      return timer.time(v);
    });
    return { ...base, winner: r.winner, cached: r.cached, measurements: r.measurements };
  } catch (e) {
    await ctx.sync().catch(() => undefined);
    return { ...base, winner: base.defaultVariant, cached: false, measurements: [], error: (e as Error).message };
  } finally {
    (timer as Timer<V> | null)?.dispose();
  }
}

interface Timer<V extends Variant> {
  time(v: V): Promise<number>;
  dispose(): void;
}

/**
 * Times a trial's variants on one set of random inputs. Variants that dispatch exactly what an
 * earlier one did (tile limits clamped to a small shape, the small-volume workgroup rule) are not
 * run again: they get the earlier one's times, and lose the tie to it.
 */
async function startTimer<V extends Variant>(ctx: Context, trial: Trial<V>, defaultVariant: V): Promise<Timer<V>> {
  const inputs = trial.inputs.map((shape, i) => randn(shape, { seed: 0x7e57 + i }));
  const run = (v: V): Tensor => tidy(() => trial.run(inputs, v));
  const readOnce = async (v: V): Promise<Float32Array> => {
    const out = run(v);
    try {
      return await out.toArray();
    } finally {
      out.dispose();
    }
  };
  // The default's output, every other variant's check; reading it also compiles the default's pipelines.
  let expected: Float32Array;
  try {
    expected = await readOnce(defaultVariant);
  } catch (e) {
    inputs.forEach((t) => t.dispose());
    throw e;
  }
  /** What a variant dispatches (kernels, constants, grids), from a dry run. */
  const signature = (v: V): string => {
    const parts: string[] = [];
    ctx.dryRun(
      () => run(v).dispose(),
      (d) => parts.push(`${d.kernel}.${d.entry}${JSON.stringify(d.constants ?? {})}${JSON.stringify(d.workgroups)}`),
    );
    return parts.join(';');
  };
  // Per signature: the variant measured for it, and its times (or its failure) in call order.
  const measured = new Map<string, { owner: string; times: number[]; error?: Error }>();
  const calls = new Map<string, number>();
  const signatures = new Map<string, string>();
  return {
    async time(v) {
      const call = calls.get(v.name) ?? 0;
      calls.set(v.name, call + 1);
      const sig = signatures.get(v.name) ?? signature(v);
      signatures.set(v.name, sig);
      let m = measured.get(sig);
      if (m && m.owner !== v.name) {
        if (m.error) throw m.error;
        return m.times[call]!;
      }
      m ??= { owner: v.name, times: [] };
      measured.set(sig, m);
      try {
        // The first run of a variant checks its output (and compiles its pipelines): the warm-up.
        if (call === 0 && v !== defaultVariant) {
          const diff = maxRelDiff(await readOnce(v), expected);
          if (!(diff <= tolerance)) throw new Error(`wrong result (max. relative difference ${diff.toExponential(1)} from the default)`);
        }
        await ctx.sync();
        const t0 = performance.now();
        const out = run(v);
        await ctx.sync();
        const ms = performance.now() - t0;
        out.dispose();
        m.times.push(ms);
        return ms;
      } catch (e) {
        m.error = e instanceof Error ? e : new Error(String(e));
        throw m.error;
      }
    },
    dispose: () => inputs.forEach((t) => t.dispose()),
  };
}

/** max |a − b| over the largest |b|: one scale for the whole output, robust near zero. */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let scale = 1e-12;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= err)) err = Number.isNaN(d) ? Infinity : d;
  }
  return err / scale;
}

function describeResult(op: TunedOp): string {
  const times = op.measurements.map((m) => `${m.name} ${m.ms === null ? `✗ (${m.error})` : m.ms.toFixed(2)}`).join(', ');
  const def = op.measurements[0]?.ms;
  const win = op.measurements.find((m) => m.name === op.winner)?.ms;
  const gain = op.winner === op.defaultVariant ? 'the default' : def && win ? `${(def / win).toFixed(2)}× the default` : '';
  return `${op.winner} (${gain}); ms: ${times}`;
}
