// init(), getContext() and describe() on whatever adapter this machine has (llvmpipe in CI).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { add, getContext, init, zeros } from '../../src/index.js';
import { adapterChoices } from '../../src/device/adapter.js';
import { optionalFeatures } from '../../src/device/context.js';

describe('before init()', () => {
  it('getContext() says to call init()', () => {
    expect(() => getContext()).toThrow('voxgpu: no GPU context; call `await init()` first');
  });
});

describe('init()', () => {
  it('refuses an unknown adapter by name, listing the choices', async () => {
    await expect(init({ adapter: 'nonsense' as never })).rejects.toThrow(
      "init: unknown adapter 'nonsense'; expected one of auto, gpu, llvmpipe, swiftshader, browser",
    );
    expect(adapterChoices).toEqual(['auto', 'gpu', 'llvmpipe', 'swiftshader', 'browser']);
  });

  it('says when the unknown adapter came from VOXGPU_ADAPTER', async () => {
    const prev = process.env.VOXGPU_ADAPTER;
    process.env.VOXGPU_ADAPTER = 'quantum';
    try {
      await expect(init()).rejects.toThrow(
        "init: unknown adapter 'quantum' (from VOXGPU_ADAPTER); expected one of auto, gpu, llvmpipe, swiftshader, browser",
      );
    } finally {
      if (prev === undefined) delete process.env.VOXGPU_ADAPTER;
      else process.env.VOXGPU_ADAPTER = prev;
    }
  });

  it('in a browser-less Node, asking for the browser adapter says why it cannot', async () => {
    await expect(init({ adapter: 'browser' })).rejects.toThrow(
      'init: adapter "browser" asked for, but navigator.gpu is not available here',
    );
  });

  it('makes the default context; describe() reports the adapter, its kernels, features and limits', async () => {
    const ctx = await init();
    expect(getContext()).toBe(ctx);
    const d = ctx.describe();
    if (d.kind === 'llvmpipe') {
      expect(d.adapter).toMatch(/llvmpipe/);
      expect(['opengl', 'opengles']).toContain(d.backend);
      expect(d.featureLevel).toBe('compatibility');
    }
    expect(d.isSoftware).toBe(d.kind !== 'gpu' && d.kind !== 'browser');
    expect(d.kernels).toBe(d.isSoftware ? 'software' : 'gpu');
    // The optional features the device was given: those of ours the adapter has.
    expect(d.features).toEqual(optionalFeatures.filter((f) => ctx.device.features.has(f)).sort());
    expect(Object.keys(d.limits).sort()).toEqual(
      [
        'maxBufferSize',
        'maxComputeInvocationsPerWorkgroup',
        'maxComputeWorkgroupSizeX',
        'maxComputeWorkgroupSizeY',
        'maxComputeWorkgroupSizeZ',
        'maxComputeWorkgroupStorageSize',
        'maxComputeWorkgroupsPerDimension',
        'maxStorageBufferBindingSize',
        'maxStorageBuffersPerShaderStage',
        'maxUniformBufferBindingSize',
      ].sort(),
    );
    // The device got what the adapter offers, not compatibility mode's low defaults.
    for (const [name, value] of Object.entries(d.limits)) {
      expect(ctx.device.limits[name as keyof GPUSupportedLimits], name).toBe(value);
    }
    expect(d.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(d.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
    expect(d.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(d.limits.maxComputeWorkgroupsPerDimension).toBe(65535);
    console.log('describe():', JSON.stringify(d));
  });

  // Mesa's EGL registers itself with glvnd here (Debian's libegl-mesa0); a GPU machine may have none.
  it.skipIf(!existsSync('/usr/share/glvnd/egl_vendor.d/50_mesa.json'))(
    'a forced llvmpipe adapter gives an llvmpipe context (needs Mesa)',
    async () => {
      const ctx = await init({ adapter: 'llvmpipe' });
      expect(ctx.describe().kind).toBe('llvmpipe');
      expect(ctx.describe().adapter).toMatch(/llvmpipe/);
    },
  );
});

describe('device loss', () => {
  it('ops on a lost device throw, naming the op; init() again recovers', async () => {
    const ctx = await init();
    ctx.device.destroy();
    const info = await ctx.device.lost;
    expect(info.reason).toBe('destroyed');
    await new Promise((r) => setTimeout(r, 0));
    expect(() => add(zeros([2]), 1)).toThrow(/^full: the GPU device was lost \(destroyed: .*\); call init\(\) again$/);
    await init();
    expect(Array.from(await add(zeros([2]), 1).toArray())).toEqual([1, 1]);
  });
});
