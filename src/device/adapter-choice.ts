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

/** An init() option, else its environment variable, else `fallback`; throws on a name not in `choices`. */
export function resolveChoice<T extends string>(
  what: string,
  option: T | undefined,
  variable: string,
  choices: readonly T[],
  fallback: T,
): T {
  const choice = option ?? (envValue(variable) as T | undefined) ?? fallback;
  if (!choices.includes(choice)) {
    throw new Error(
      `init: unknown ${what} '${String(choice)}'${option ? '' : ` (from ${variable})`}; expected one of ${choices.join(', ')}`,
    );
  }
  return choice;
}

/** The adapter asked for: the option, else VOXGPU_ADAPTER, else 'auto'. */
export const resolveAdapterChoice = (option?: AdapterChoice): AdapterChoice =>
  resolveChoice('adapter', option, 'VOXGPU_ADAPTER', adapterChoices, 'auto');

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
  return (
    found.kind === 'llvmpipe' ||
    found.kind === 'swiftshader' ||
    softwareNames.test(`${i.vendor} ${i.architecture} ${i.device} ${i.description}`)
  );
}

/** One identity per adapter and backend (the same chip through Vulkan and GL tunes differently). */
export function adapterId(d: { adapter: string; backend: string }): string {
  return `${d.adapter.replace(/\|/g, '/')} (${d.backend})`;
}
