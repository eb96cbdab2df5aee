// init(): finds the adapter, opens its device, builds the tuner with its saved winners, and hands
// both to a new Context that every op then uses. It sits above the device layer and the tuner so
// that neither has to import the other.
import {
  adapterName,
  isSoftwareAdapter,
  resolveAdapterChoice,
  resolveChoice,
  type AdapterChoice,
  type FoundAdapter,
} from './device/adapter-choice.js';
import { findAdapter } from './device/adapter.js';
import { Context, limitNames, optionalFeatures, setContext } from './device/context.js';
import { precisionChoices, tensorCoreProblem, type PrecisionChoice } from './device/precision.js';
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
  /**
   * Which conv kernel family runs: 'gpu' (implicit GEMM in workgroup memory, for hardware adapters),
   * 'software' (register tiles without barriers, for llvmpipe and SwiftShader), or 'auto' (by the
   * adapter). Default: the VOXGPU_KERNELS environment variable, else 'auto'.
   */
  kernels?: KernelChoice;
  /**
   * 'fp32' (default): every op in f32. 'mixed': convolutions on tensor cores, f16 operands
   * accumulated in f32 (src/device/precision.ts); init throws where the adapter cannot.
   * 'mixed-if-available': mixed where it can, else fp32 (describe() says which). Default: the
   * VOXGPU_PRECISION environment variable, else 'fp32'.
   */
  precision?: PrecisionChoice;
}

export type KernelChoice = 'auto' | 'gpu' | 'software';
export const kernelChoices: readonly KernelChoice[] = ['auto', 'gpu', 'software'];

/** The precision init gives: 'mixed' where asked for and possible; a clear error where demanded and not. */
function resolvePrecision(choice: PrecisionChoice, found: FoundAdapter, kernels: 'gpu' | 'software'): 'fp32' | 'mixed' {
  if (choice === 'fp32') return 'fp32';
  const problem = kernels === 'software' ? "the software kernels run in f32 only (kernels: 'software')" : tensorCoreProblem(found.adapter);
  if (!problem) return 'mixed';
  if (choice === 'mixed')
    throw new Error(
      `init: precision 'mixed' needs tensor cores through WGSL subgroup matrices, but ${problem} (${adapterName(found)}); use ` +
        `'fp32' or 'mixed-if-available'`,
    );
  return 'fp32';
}

/**
 * A variant replaces an op's default only when it is this much faster: medians of three runs on a
 * shared machine (llvmpipe shares the CPU with everything else) move by about as much.
 */
const tuningMinGain = 0.05;

/** Creates the GPU context and makes it the default one used by every op. */
export async function init(options: InitOptions = {}): Promise<Context> {
  const adapterChoice = resolveAdapterChoice(options.adapter);
  const kernelChoice = resolveChoice('kernels', options.kernels, 'VOXGPU_KERNELS', kernelChoices, 'auto');
  const precisionChoice = resolveChoice('precision', options.precision, 'VOXGPU_PRECISION', precisionChoices, 'fp32');
  const found = await findAdapter(adapterChoice, precisionChoice !== 'fp32');
  const kernels = kernelChoice === 'auto' ? (isSoftwareAdapter(found) ? 'software' : 'gpu') : kernelChoice;
  const precision = resolvePrecision(precisionChoice, found, kernels);
  // Compatibility-level adapters start with low default limits: ask for everything the adapter has.
  const requiredLimits: Record<string, number> = {};
  for (const n of limitNames) requiredLimits[n] = found.adapter.limits[n] as number;
  // Subgroup matrices only where the mixed precision runs: they are experimental features.
  const wanted = optionalFeatures.filter((f) => precision === 'mixed' || f !== 'chromium-experimental-subgroup-matrix');
  const requiredFeatures = wanted.filter((f) => found.adapter.features.has(f as GPUFeatureName)) as GPUFeatureName[];
  const device = await found.adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'voxgpu' });
  // No warm-up runs: autotune checks each variant's output first, which compiles its pipelines.
  const tuner = new Tuner({
    storage: await tuningStorage(options.tuningCache, found.kind === 'browser'),
    minGain: tuningMinGain,
    warmup: 0,
  });
  // The cache only saves measuring time: an unreadable one counts as empty (a corrupt one parses as empty).
  await tuner.load().catch(() => undefined);
  const ctx = new Context(device, found, tuner, kernels, precision);
  setContext(ctx);
  return ctx;
}
