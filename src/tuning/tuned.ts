// Ops with kernel variants ask `tuned()` which one to dispatch: synchronously, the context's cached
// winner for their key, else their default. Below the ops (they import it); autotune.ts, above them,
// fills the cache, using collectTunables() to learn what a function's ops would ask for.
import type { Context } from '../device/context.js';
import type { Tensor } from '../core/tensor.js';
import { keyString, type TuneKey, type Variant } from './tuner.js';

/** What an op hands `tuned()`: its key, its variants (default first), and how to time them. */
export interface Tunable<V extends Variant> {
  key: TuneKey;
  candidates: readonly V[];
  /** Called only while autotuning. */
  trial(): Trial<V>;
}

/** The work one timing runs: the op on random inputs of these shapes, with a given variant. */
export interface Trial<V extends Variant> {
  /** What the log calls it, e.g. "conv3d convolve [1, 16, 32, 32, 32] → 16 × 32×32×32, kernel 5×5×5, stride 1×1×1". */
  label: string;
  inputs: readonly (readonly number[])[];
  run(inputs: Tensor[], variant: V): Tensor;
}

// The requests of the dry run in progress, by key (null outside autotune).
let collecting: Map<string, Tunable<Variant>> | null = null;

/** The variant an op dispatches now; during autotune's dry run the request is also noted. */
export function tuned<V extends Variant>(ctx: Context, t: Tunable<V>): V {
  if (collecting) {
    const k = keyString(t.key);
    if (!collecting.has(k)) collecting.set(k, t as unknown as Tunable<Variant>);
  }
  return ctx.tuner.choose(t.key, t.candidates);
}

/** Runs `fn` (a dry run: see ctx.dryRun) and returns every distinct request its ops made to `tuned()`. */
export function collectTunables(fn: () => void): Tunable<Variant>[] {
  const requests = new Map<string, Tunable<Variant>>();
  collecting = requests;
  try {
    fn();
  } finally {
    collecting = null;
  }
  return [...requests.values()];
}
