// What adapter.ts (browser and Node) and adapter-node.ts (Dawn) share: the choices, what a search
// returns, and which adapters count as software. Both import this file, never each other at run time.

export type AdapterChoice = 'auto' | 'gpu' | 'llvmpipe' | 'swiftshader' | 'browser';

export interface FoundAdapter {
  adapter: GPUAdapter;
  /** Which of our choices produced it ('gpu', 'llvmpipe', ...). */
  kind: Exclude<AdapterChoice, 'auto'>;
  /** Dawn backend or 'browser'. */
  backend: string;
  featureLevel: 'core' | 'compatibility';
}

export const adapterChoices: readonly AdapterChoice[] = ['auto', 'gpu', 'llvmpipe', 'swiftshader', 'browser'];

/** An environment variable in Node; undefined in a browser. */
export function envValue(name: string): string | undefined {
  return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];
}

export function envAdapterChoice(): string | undefined {
  return envValue('VOXGPU_ADAPTER');
}

/** The adapter asked for: the option, else VOXGPU_ADAPTER, else 'auto'; throws on an unknown name. */
export function resolveAdapterChoice(option?: AdapterChoice): AdapterChoice {
  const choice = option ?? (envAdapterChoice() as AdapterChoice | undefined) ?? 'auto';
  if (!adapterChoices.includes(choice)) {
    throw new Error(`init: unknown adapter '${String(choice)}'${option ? '' : ' (from VOXGPU_ADAPTER)'}; expected one of ${adapterChoices.join(', ')}`);
  }
  return choice;
}

/** The adapter's name from its info, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) / ...". */
export function adapterName(found: Pick<FoundAdapter, 'adapter'>): string {
  const i = found.adapter.info;
  return [i.description, i.device, i.vendor, i.architecture].filter(Boolean).join(' / ') || '(unnamed adapter)';
}

/** Software rasterisers by name: Mesa's llvmpipe, softpipe and lavapipe, Google's SwiftShader. */
const softwareNames = /llvmpipe|softpipe|lavapipe|swiftshader|software/i;

/** Whether an adapter is a CPU implementation, from its info and the choice that found it. */
export function isSoftwareAdapter(found: Pick<FoundAdapter, 'adapter' | 'kind'>): boolean {
  const i = found.adapter.info;
  return found.kind === 'llvmpipe' || found.kind === 'swiftshader' || softwareNames.test(`${i.vendor} ${i.architecture} ${i.device} ${i.description}`);
}

/** One identity per adapter and backend (the same chip through Vulkan and GL tunes differently). */
export function adapterId(d: { adapter: string; backend: string }): string {
  return `${d.adapter.replace(/\|/g, '/')} (${d.backend})`;
}
