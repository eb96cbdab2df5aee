// init(): finds the adapter, opens its device, builds the tuner with its saved winners, and hands
// both to a new Context that every op then uses. It sits above the device layer and the tuner so
// that neither has to import the other.
import { resolveAdapterChoice, type AdapterChoice } from './device/adapter-choice.js';
import { findAdapter } from './device/adapter.js';
import { Context, limitNames, setContext } from './device/context.js';
import { tuningStorage, type TuningCache } from './tuning/storage.js';
import { Tuner } from './tuning/tuner.js';

export interface InitOptions {
  /** Which adapter to use; default: the VOXGPU_ADAPTER environment variable, else 'auto'. */
  adapter?: AdapterChoice;
  /**
   * Where autotune's winners persist. Default (true): in Node the file VOXGPU_TUNING_CACHE, else
   * $XDG_CACHE_HOME/voxgpu/tuning.json or ~/.cache/voxgpu/tuning.json; a string: that file;
   * false: this process only. Browsers keep them in memory.
   */
  tuningCache?: TuningCache;
}

/**
 * A variant replaces an op's default only when it is this much faster: medians of three runs on a
 * shared machine (llvmpipe shares the CPU with everything else) move by about as much.
 */
const tuningMinGain = 0.05;

/** Creates the GPU context and makes it the default one used by every op. */
export async function init(options: InitOptions = {}): Promise<Context> {
  const found = await findAdapter(resolveAdapterChoice(options.adapter));
  // Compatibility-level adapters start with low default limits: ask for everything the adapter has.
  const requiredLimits: Record<string, number> = {};
  for (const n of limitNames) requiredLimits[n] = found.adapter.limits[n] as number;
  const device = await found.adapter.requestDevice({ requiredLimits, label: 'voxgpu' });
  // No warm-up runs: autotune checks each variant's output first, which compiles its pipelines.
  const tuner = new Tuner({ storage: await tuningStorage(options.tuningCache, found.kind === 'browser'), minGain: tuningMinGain, warmup: 0 });
  // The cache only saves measuring time: an unreadable one counts as empty (a corrupt one parses as empty).
  await tuner.load().catch(() => undefined);
  const ctx = new Context(device, found, tuner);
  setContext(ctx);
  return ctx;
}
