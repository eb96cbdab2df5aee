// Node-only: Dawn through the `webgpu` package. Loaded lazily so browser builds never see it.
import { existsSync } from 'node:fs';
import { isSoftwareAdapter, type AdapterChoice, type FoundAdapter } from './adapter-choice.js';

type DawnCreate = (options: string[]) => GPU;

/**
 * Dawn instance toggles under which NVIDIA's Vulkan driver offers shader-f16 and subgroup matrices
 * (tensor cores) to WGSL; set only when the mixed precision asks for them (allow_unsafe_apis
 * exposes experimental features).
 */
const tensorCoreToggles = 'enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia,use_vulkan_memory_model';

const swiftShaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';

let dawn: { create: DawnCreate; globals: Record<string, unknown> } | undefined;
// Dawn instances must outlive their adapters and devices: a garbage-collected instance leaves
// dawn.node's event loop polling freed memory (a crash on the next mapAsync). Keep them all.
const instances: GPU[] = [];

function instance(create: DawnCreate, options: string[]): GPU {
  const gpu = create(options);
  instances.push(gpu);
  return gpu;
}

async function loadDawn(): Promise<DawnCreate> {
  if (!dawn) {
    dawn = (await import('webgpu')) as unknown as typeof dawn;
    // Dawn's enums (GPUBufferUsage, ...) are not globals in Node until installed.
    for (const [k, v] of Object.entries(dawn!.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
  }
  return dawn!.create;
}

async function tryGpu(create: DawnCreate, tensorCores: boolean): Promise<FoundAdapter | null> {
  const backend = process.platform === 'linux' ? 'vulkan' : '';
  const gpu = instance(create, [...(backend ? [`backend=${backend}`] : []), ...(tensorCores ? [tensorCoreToggles] : [])]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter || isSoftwareAdapter({ adapter, kind: 'gpu' })) return null;
  return { adapter, kind: 'gpu', backend: backend || 'default', featureLevel: 'core' };
}

async function tryLlvmpipe(create: DawnCreate): Promise<FoundAdapter | null> {
  // Mesa's EGL needs no display when told to run surfaceless; must be set before Dawn starts EGL.
  process.env.EGL_PLATFORM ??= 'surfaceless';
  for (const backend of ['opengl', 'opengles']) {
    const gpu = instance(create, [`backend=${backend}`]);
    const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions);
    if (adapter) return { adapter, kind: 'llvmpipe', backend, featureLevel: 'compatibility' };
  }
  return null;
}

async function trySwiftShader(create: DawnCreate): Promise<FoundAdapter | null> {
  if (!process.env.VK_ICD_FILENAMES && existsSync(swiftShaderIcd)) process.env.VK_ICD_FILENAMES = swiftShaderIcd;
  const gpu = instance(create, ['backend=vulkan']);
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  return { adapter, kind: 'swiftshader', backend: 'vulkan', featureLevel: 'core' };
}

const tries: Record<string, (create: DawnCreate, tensorCores: boolean) => Promise<FoundAdapter | null>> = {
  gpu: tryGpu,
  llvmpipe: tryLlvmpipe,
  swiftshader: trySwiftShader,
};

/** Real GPU first, then llvmpipe (fast software), then SwiftShader (slow software, last resort). */
export async function findNodeAdapter(choice: AdapterChoice, tensorCores: boolean): Promise<FoundAdapter | null> {
  const create = await loadDawn();
  const order = choice === 'auto' ? ['gpu', 'llvmpipe', 'swiftshader'] : [choice];
  for (const kind of order) {
    const found = await tries[kind]!(create, tensorCores);
    if (found) return found;
  }
  return null;
}
