// Every kernel in kernels/ (bundled into src/generated/kernels.ts), and the bench's own in
// bench/kernels/ (registered as the bench does), parses with wgsl_reflect and compiles, entry point by entry point, into a pipeline on this
// adapter, with the layout the
// context relies on: group 0 only, at most one uniform, a workgroup size within the limits.
// Kernels that need features this device lacks (tensor cores) are skipped, saying which.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/index.js';
import { kernelSources } from '../../src/generated/kernels.js';
import {
  entryInfo,
  entryNames,
  invocationsPerWorkgroup,
  kernelConstant,
  registerKernels,
  requiredFeatures,
  workgroupArrays,
  workgroupBytes,
  workgroupSize,
} from '../../src/device/kernel-info.js';
import { benchKernelSources } from '../../bench/generated/kernels.js';
import { gpu } from '../helpers.js';

let ctx: Context;
beforeAll(async () => {
  ctx = await gpu();
});

const libraryKernels = Object.keys(kernelSources).sort();
registerKernels(benchKernelSources);
const kernels = Object.keys(kernelSources).sort();

it("kernels/ holds the core kernels, and not the bench's", () => {
  expect(libraryKernels).toEqual(expect.arrayContaining(['binary', 'map', 'random', 'reduce', 'slab']));
  expect(libraryKernels.filter((k) => k.startsWith('bench_'))).toEqual([]);
  expect(Object.keys(benchKernelSources).sort()).toEqual(['bench_copy', 'bench_fma', 'bench_fragment_loads', 'bench_naive_conv']);
  expect(() => registerKernels({ map: '// another map' })).toThrow("registerKernels: a kernel named 'map' exists already");
});

it('reads the facts a kernel states once: workgroup sizes, constants, workgroup arrays, uniform layouts', () => {
  expect(invocationsPerWorkgroup('map', 'map')).toBe(256);
  expect(invocationsPerWorkgroup('map', 'map', { WG: 64 })).toBe(64);
  expect(invocationsPerWorkgroup('conv/gemm', 'repack')).toBe(64);
  expect(kernelConstant('prelu', 'VPI')).toBe(4);
  expect(kernelConstant('reduce', 'WG')).toBe(64);
  expect(() => kernelConstant('prelu', 'NOPE')).toThrow("kernel prelu has no numeric const or override 'NOPE'");
  // A generated variant reflected as its sibling (mma.wgsl's native kernels as the emulated ones).
  expect(kernelConstant('conv/mma-native-4-2-staged', 'ROW')).toBe(40);
  expect(kernelConstant('conv/mma-emulated-2-1-staged', 'BK')).toBe(32);
  // vec4 arrays count 4 scalars an element.
  expect(workgroupArrays('conv/gemm')).toEqual({ As: 2112, Bs: 1984 });
  // Lengths stated as expressions of the overrides: with the dispatch's constants, else the defaults
  // (mma.wgsl's tile of f16 halfs, two to a u32 emulated, and its f32 scratch).
  expect(workgroupArrays('conv/mma-emulated-2-1-staged')).toEqual({ tile: 1920, scratch: 256 });
  const t128x128 = { SG_M: 2, SG_N: 4, WGS: 256 };
  expect(workgroupArrays('conv/mma-native-4-2-staged', t128x128)).toEqual({ tile: 20480, scratch: 2048 });
  expect(workgroupBytes('conv/mma-native-4-2-staged', t128x128)).toBe(49152);
  expect(workgroupBytes('conv/gemm')).toBe(16384);
  // The least the mixed precision needs of an adapter (src/device/precision.ts): one subgroup, 2 × 1 fragments.
  expect(workgroupBytes('conv/mma-native-2-1-staged')).toBe(8704);
  // A struct nested in a uniform is filled by its members' own names (the GEMM passes share one).
  const scatter = entryInfo('conv/gemm', 'scatter').uniform!.members.map((m) => `${m.name}@${m.offset}`);
  expect(scatter).toEqual([
    'M@0',
    'N@4',
    'K@8',
    'kChunk@12',
    'mTilesX@16',
    'nTiles@20',
    'chunkSize@24',
    '_pad0@28',
    'channels@32',
    'outChannels@36',
    'srcSize@48',
    'outSize@64',
  ]);
});

/** The features a kernel needs that this device lacks. */
const missing = (kernel: string): string[] => requiredFeatures(kernel).filter((f) => !ctx.device.features.has(f));

describe.each(kernels)('kernel %s', (kernel) => {
  // Error scopes keep a broken kernel's errors here instead of in the context's uncaptured-error
  // list, where they would fail the next op of an unrelated test.
  it('compiles without errors', async ({ skip }) => {
    if (missing(kernel).length) skip(`this device lacks ${missing(kernel).join(', ')}`);
    ctx.device.pushErrorScope('validation');
    const module = ctx.device.createShaderModule({ label: kernel, code: kernelSources[kernel]! });
    await ctx.device.popErrorScope();
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
    expect(errors).toEqual([]);
  });

  it('every entry point makes a valid pipeline with its default constants', async ({ skip }) => {
    if (missing(kernel).length) skip(`this device lacks ${missing(kernel).join(', ')}`);
    await ctx.sync(); // no stray error from earlier work
    const entries = entryNames(kernel);
    expect(entries.length).toBeGreaterThan(0);
    ctx.device.pushErrorScope('validation');
    const module = ctx.device.createShaderModule({ label: kernel, code: kernelSources[kernel]! });
    const moduleError = await ctx.device.popErrorScope();
    expect(moduleError?.message ?? null, `${kernel}: shader module`).toBeNull();
    for (const entry of entries) {
      const info = entryInfo(kernel, entry);
      for (const [name, b] of info.bindings) {
        expect(b.group, `${kernel}.${entry}: binding '${name}' must be in group 0`).toBe(0);
      }
      const uniforms = [...info.bindings.values()].filter((b) => b.kind === 'uniform');
      expect(uniforms.length, `${kernel}.${entry}: at most one uniform`).toBeLessThanOrEqual(1);
      if (uniforms.length) expect(info.uniform, `${kernel}.${entry}: uniform layout reflected`).toBeDefined();
      const storage = [...info.bindings.values()].filter((b) => b.kind === 'storage').length;
      expect(storage).toBeLessThanOrEqual(ctx.limits.maxStorageBuffersPerShaderStage);
      const wg = workgroupSize(info, {});
      expect(
        wg.every((n) => Number.isInteger(n) && n >= 1),
        `${kernel}.${entry}: workgroup size ${wg}`,
      ).toBe(true);
      expect(wg[0] * wg[1] * wg[2]).toBeLessThanOrEqual(ctx.limits.maxComputeInvocationsPerWorkgroup);

      ctx.device.pushErrorScope('validation');
      ctx.device.createComputePipeline({ label: `${kernel}.${entry}`, layout: 'auto', compute: { module, entryPoint: entry } });
      const error = await ctx.device.popErrorScope();
      expect(error?.message ?? null, `${kernel}.${entry}`).toBeNull();
    }
  });
});
