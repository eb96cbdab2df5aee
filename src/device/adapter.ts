// Finding a WebGPU adapter: navigator.gpu in a browser, Dawn (the `webgpu` package) in Node.
import type { AdapterChoice, FoundAdapter } from './adapter-choice.js';

export { adapterChoices, type AdapterChoice, type FoundAdapter } from './adapter-choice.js';

const installHint =
  'On Debian/Ubuntu install Mesa for the llvmpipe software adapter: ' +
  'apt-get install libegl1 libegl-dev libegl-mesa0 libgles2 libgl1-mesa-dri ' +
  '(or run scripts/setup.sh). For SwiftShader install chromium and libvulkan1.';

/**
 * Finds the adapter for a choice already checked by resolveAdapterChoice(). `tensorCores`: ask Dawn
 * in Node for the experimental features the mixed precision uses.
 */
export async function findAdapter(choice: AdapterChoice, tensorCores = false): Promise<FoundAdapter> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu && (choice === 'auto' || choice === 'browser')) return browserAdapter(nav.gpu);
  if (typeof (globalThis as { document?: unknown }).document !== 'undefined') {
    throw new Error('init: this browser has no WebGPU (navigator.gpu is missing): use a WebGPU-capable browser over https or localhost');
  }
  if (choice === 'browser') throw new Error('init: adapter "browser" asked for, but navigator.gpu is not available here');
  // A variable specifier keeps bundlers from pulling Node-only code into a browser build.
  const nodeModule = './adapter-node.js';
  const { findNodeAdapter } = (await import(/* @vite-ignore */ nodeModule)) as typeof import('./adapter-node.js');
  const found = await findNodeAdapter(choice, tensorCores);
  if (!found) {
    throw new Error(`init: no WebGPU adapter found for '${choice}'. ${installHint}`);
  }
  return found;
}

async function browserAdapter(gpu: GPU): Promise<FoundAdapter> {
  const core = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (core) return { adapter: core, kind: 'browser', backend: 'browser', featureLevel: 'core' };
  const compat = await gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions);
  if (compat) return { adapter: compat, kind: 'browser', backend: 'browser', featureLevel: 'compatibility' };
  throw new Error('init: this browser exposes navigator.gpu but returned no adapter (WebGPU disabled or blocklisted?)');
}
