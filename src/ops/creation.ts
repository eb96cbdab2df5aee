// Tensors made on the GPU: constants and seeded random numbers (kernels/map.wgsl `fill`,
// kernels/random.wgsl). Random streams depend only on (seed, element index).
import { empty, type Shape, type Tensor, type TensorOptions } from '../core/tensor.js';
import { runElementwise } from './util.js';

export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  const out = empty(shape, options);
  runElementwise('full', 'map', 'fill', out.size, { out }, { n: out.size, s: value });
  return out;
}

export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 0, options);
}

export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

let globalSeed = 0x5eed;
let draws = 0;

/** Seeds the random ops that are given no explicit seed, like torch.manual_seed. */
export function manualSeed(seed: number): void {
  globalSeed = seed >>> 0;
  draws = 0;
}

/** Each unseeded call gets its own stream derived from the global seed. */
function nextSeed(seed: number | undefined): number {
  if (seed !== undefined) return seed >>> 0;
  draws++;
  return (Math.imul(globalSeed ^ draws, 0x9e3779b1) + draws) >>> 0;
}

export interface RandomOptions extends TensorOptions {
  seed?: number;
}

/** Normal samples with the given mean and standard deviation. */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const out = empty(shape, options);
  runElementwise(
    'randn',
    'random',
    'randn',
    out.size,
    { out },
    { n: out.size, seed: nextSeed(options.seed), a: options.mean ?? 0, b: options.std ?? 1 },
  );
  return out;
}

/** Uniform samples in [low, high). */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const out = empty(shape, options);
  runElementwise(
    'rand',
    'random',
    'rand',
    out.size,
    { out },
    { n: out.size, seed: nextSeed(options.seed), a: options.low ?? 0, b: options.high ?? 1 },
  );
  return out;
}
