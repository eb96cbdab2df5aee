// TensorFlow.js for the brainchop bench section, loaded only when a TF.js size is asked for: its
// layers applied as brainchop applies them (test/helpers/tfjs.ts), on its CPU backend or on its WebGPU
// backend over Dawn.
import type { Context } from '../src/device/context.js';
import { applyAsBrainchop, tf } from '../test/helpers/tfjs.js';

export { loadFromFile } from '../test/helpers/tfjs.js';

let webgpuReady: Promise<void> | null = null;

/**
 * TF.js' WebGPU backend over Dawn's `webgpu` package, on the same kind of adapter as voxgpu: Dawn's
 * OpenGL backend at compatibility level on llvmpipe (TF.js asks for a core adapter, which that
 * backend does not offer), its default backend on a GPU.
 */
function webgpu(ctx: Context): Promise<void> {
  webgpuReady ??= (async () => {
    const { create } = (await import('webgpu')) as unknown as { create: (o: string[]) => GPU };
    const software = ctx.describe().kind !== 'gpu';
    const gpu = create(software ? [`backend=${ctx.describe().backend}`] : []);
    if (software) {
      const request = gpu.requestAdapter.bind(gpu);
      gpu.requestAdapter = (o?: GPURequestAdapterOptions) => request({ ...o, featureLevel: 'compatibility' } as GPURequestAdapterOptions);
    }
    // Node has no navigator before v21; TF.js reads navigator.gpu.
    if (typeof globalThis.navigator === 'object') Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error("TF.js' webgpu backend did not initialise (no adapter or device)");
  })();
  return webgpuReady;
}

/** TF.js' labels (argmax over the classes) for one model input, and the time of a warm run. */
export async function tfjsLabels(
  model: tf.LayersModel,
  input: Float32Array,
  size: number,
  warmup: boolean,
): Promise<{ labels: Int32Array; ms: number }> {
  const run = async () => {
    const y = tf.tidy(() => tf.argMax(applyAsBrainchop(model, tf.tensor(input, [1, size, size, size, 1])), -1));
    try {
      return (await y.data()) as Int32Array;
    } finally {
      y.dispose();
    }
  };
  if (warmup) await run();
  const t0 = performance.now();
  const labels = await run();
  return { labels, ms: performance.now() - t0 };
}

export async function tfjsBackend(ctx: Context, backend: 'cpu' | 'webgpu'): Promise<void> {
  if (backend === 'webgpu') await webgpu(ctx);
  else if (!(await tf.setBackend('cpu'))) throw new Error("TF.js' cpu backend did not initialise");
}
