// The GPU context: one device, its buffer pool, its pipeline cache and one open command encoder
// into which every op records its dispatch. Work reaches the GPU on flush (a readback, an upload,
// or every `maxPendingDispatches`), so a training step costs a handful of queue submissions.
import { GpuTimer } from './gpu-timer.js';
import { BufferPool, type MemoryStats } from './buffer-pool.js';
import { entryInfo, invocationsPerWorkgroup, packUniform, workgroupSize, type EntryInfo } from './kernel-info.js';
import { kernelSources } from '../generated/kernels.js';
import { adapterId, adapterName, isSoftwareAdapter, type FoundAdapter } from './adapter-choice.js';
import { matrixConfigs } from './precision.js';
// Only the type: init() (src/init.ts) builds the tuner and hands it to the context.
import type { Tuner } from '../tuning/tuner.js';

export interface Description {
  adapter: string;
  kind: string;
  backend: string;
  featureLevel: string;
  isSoftware: boolean;
  /** The conv kernel family in use (init's `kernels`). */
  kernels: 'gpu' | 'software';
  /** The optional WebGPU features the device was given (those of ours the adapter has). */
  features: string[];
  /** 'fp32', or 'mixed' (convolutions on tensor cores). */
  precision: 'fp32' | 'mixed';
  /** The adapter's subgroup-matrix configurations, e.g. 'f16→f32 16×16×16' (Node asks for them only for the mixed precision). */
  tensorCores: string[];
  limits: Record<string, number>;
}

/** Something a kernel binding accepts: a GPU buffer, or any object exposing one (a Tensor). */
export type Bindable = GPUBuffer | { readonly buffer: GPUBuffer };

export interface Dispatch {
  /** The user-facing op, named in every error. */
  op: string;
  kernel: string;
  entry: string;
  /**
   * Buffers by the kernel's binding names. null: one the constants leave unread (a bias without
   * BIAS), bound to a placeholder (another for a read_write binding: one buffer may not be bound both
   * ways in a dispatch). A kernel's vec4 view `x4` of `x` gets x's buffer unless given.
   */
  bindings: Record<string, Bindable | null>;
  params?: Record<string, number | readonly number[]>;
  constants?: Record<string, number>;
  /**
   * The work, in invocations: the grid follows from the entry's workgroup size (its constants, else
   * the WGSL's defaults), 2-D where one dimension is too short (`grid()`). With `planes`, that many
   * invocations per plane, the plane on workgroup axes y/z (`planeGrid()`).
   */
  invocations?: number;
  planes?: number;
  /** Workgroup counts instead, for kernels that tile their own grid. */
  workgroups?: number | readonly [number, number?, number?];
}

/** The limits a device asks its adapter for in full (init()) and describe() reports. */
export const limitNames = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize',
] as const;

/**
 * Optional features requested when the adapter has them: `timestamp-query` times GPU work in the
 * bench; `subgroups` and `shader-f16` are reported by describe(); subgroup matrices (tensor cores)
 * are requested for the mixed precision only.
 */
export const optionalFeatures = ['timestamp-query', 'subgroups', 'shader-f16', 'chromium-experimental-subgroup-matrix'] as const;

const maxPendingDispatches = 256;
const maxCachedUniforms = 4096;
const maxCachedBindGroups = 8192;

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  /** getBindGroupLayout() is a call into the native side: asked once per pipeline. */
  layout: GPUBindGroupLayout;
  id: number;
}

export class Context {
  readonly pool: BufferPool;
  /** Adapter identity in the tuner's keys. */
  readonly adapterId: string;
  readonly limits: Record<(typeof limitNames)[number], number>;
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly uniforms = new Map<string, GPUBuffer>();
  /**
   * Bind groups by (pipeline, buffers): the pool hands a training loop the same buffers in the
   * same order every step, so after the first step nearly every dispatch finds its bind group
   * here instead of creating one (the costliest call of a dispatch on the host). A destroyed
   * buffer (pool.trim(), a retired uniform) is never bound again, so its stale entries are never
   * hit; the bound on the size frees them.
   */
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  private readonly staging: GPUBuffer[] = [];
  private encoder: GPUCommandEncoder | null = null;
  /** Times compute passes while the bench asks (startGpuTiming), on devices with timestamp queries. */
  private timer: GpuTimer | null = null;
  private timing = false;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private lastOp = '(none)';
  private errors: string[] = [];
  private lostReason: string | null = null;
  private retired: GPUBuffer[] = [];
  private dryRunObserver: ((d: Dispatch) => void) | null = null;
  /** Bound where a dispatch passes null: a binding its constants leave unread; read-only, and read_write. */
  private readonly placeholder: GPUBuffer;
  private readonly writablePlaceholder: GPUBuffer;

  constructor(
    readonly device: GPUDevice,
    private readonly found: FoundAdapter,
    /** The kernel variants measured fastest on this adapter (src/autotune.ts), built by init(). */
    readonly tuner: Tuner,
    /** The conv kernel family: the GEMM kernels ('gpu') or the register kernels ('software'). */
    readonly kernels: 'gpu' | 'software',
    /** 'mixed': the GEMM kernels run on tensor cores (f16 operands, f32 sums). */
    readonly precision: 'fp32' | 'mixed',
  ) {
    this.pool = new BufferPool(device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    this.limits = Object.fromEntries(limitNames.map((n) => [n, device.limits[n] as number])) as Context['limits'];
    this.placeholder = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
    this.writablePlaceholder = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
    device.addEventListener('uncapturederror', (ev) => {
      this.errors.push(`${(ev as GPUUncapturedErrorEvent).error.message} (while running ${this.lastOp})`);
    });
    void device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
    this.adapterId = adapterId(this.describe());
  }

  describe(): Description {
    return {
      adapter: adapterName(this.found),
      kind: this.found.kind,
      backend: this.found.backend,
      featureLevel: this.found.featureLevel,
      isSoftware: isSoftwareAdapter(this.found),
      kernels: this.kernels,
      features: [...this.device.features].filter((f) => (optionalFeatures as readonly string[]).includes(f)).sort(),
      precision: this.precision,
      tensorCores: matrixConfigs(this.found.adapter),
      limits: { ...this.limits },
    };
  }

  memory(): MemoryStats {
    return this.pool.memory();
  }

  /**
   * Frees the pool's idle buffers, as torch.cuda.empty_cache() does: for work whose next buffers have
   * other sizes (one layer's tiles after another's), which would leave these idle to the end.
   */
  emptyCache(): void {
    this.flush();
    this.pool.trim();
  }

  /** Splits `invocations` 1-D work items into a 2-D grid that respects the per-dimension limit. */
  grid(invocations: number, workgroupSize: number): [number, number] {
    const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
    const maxX = this.limits.maxComputeWorkgroupsPerDimension;
    if (groups <= maxX) return [groups, 1];
    const y = Math.ceil(groups / maxX);
    if (y > maxX) throw new Error(`grid: ${invocations} invocations exceed the adapter's dispatch limit (${maxX}² workgroups)`);
    return [Math.ceil(groups / y), y];
  }

  /**
   * Runs `fn` with every dispatch skipped (handed to `observe` instead): autotune's pass over a model
   * wants the ops' requests (shapes, tiles), not their work. Tensors made meanwhile hold whatever
   * their buffers held.
   */
  dryRun<T>(fn: () => T, observe: (d: Dispatch) => void = () => undefined): T {
    this.dryRunObserver = observe;
    try {
      return fn();
    } finally {
      this.dryRunObserver = null;
    }
  }

  /**
   * Workgroups for `perPlane` workgroups along x per plane of `planes`: the plane is
   * `wid.y + wid.z · nwg.y` (z only past the per-dimension limit), so kernels read it from the
   * workgroup id instead of dividing every element index. Kernels must skip planes ≥ the count
   * (y · z may overshoot).
   */
  planeGrid(perPlane: number, planes: number): [number, number, number] {
    const z = Math.ceil(planes / this.limits.maxComputeWorkgroupsPerDimension);
    return [perPlane, Math.ceil(planes / Math.max(z, 1)), z];
  }

  /** A dispatch's workgroup counts (see Dispatch). */
  workgroupsOf(d: Dispatch): [number, number, number] {
    const info = this.entry(d);
    let groups: readonly (number | undefined)[];
    if (d.workgroups !== undefined) groups = typeof d.workgroups === 'number' ? [d.workgroups] : d.workgroups;
    else if (d.invocations === undefined)
      throw new Error(`${d.op}: a dispatch of ${info.kernel}.${info.entry} needs invocations or workgroups`);
    else {
      const size = invocationsPerWorkgroup(info.kernel, info.entry, d.constants);
      groups = d.planes === undefined ? this.grid(d.invocations, size) : this.planeGrid(Math.ceil(d.invocations / size), d.planes);
    }
    const out = groups.map((g) => g ?? 1);
    while (out.length < 3) out.push(1);
    return out as [number, number, number];
  }

  /** The reflected entry point a dispatch names; an unknown one throws, naming the op. */
  private entry(d: Dispatch): EntryInfo {
    try {
      return entryInfo(d.kernel, d.entry);
    } catch (e) {
      throw new Error(`${d.op}: ${(e as Error).message}`);
    }
  }

  dispatch(d: Dispatch): void {
    const groups = this.workgroupsOf(d);
    if (this.dryRunObserver) {
      this.dryRunObserver({ ...d, workgroups: groups });
      return;
    }
    const info = this.entry(d);
    this.checkAlive(d.op);
    const constants = d.constants ?? {};
    const pipeline = this.pipeline(info, constants, d.op);
    const entries = this.bindGroupEntries(info, d);
    const maxG = this.limits.maxComputeWorkgroupsPerDimension;
    if (groups.some((g) => g > maxG || !Number.isInteger(g) || g < 0)) {
      throw new Error(`${d.op}: dispatch of [${groups.join(', ')}] workgroups exceeds maxComputeWorkgroupsPerDimension (${maxG})`);
    }
    if (groups.some((g) => g === 0)) return;
    const bindGroup = this.bindGroup(pipeline, entries);
    this.lastOp = `${d.op} (${d.kernel}.${d.entry})`;
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass({ timestampWrites: this.timing ? this.timer!.passWrites() : undefined });
    this.pass.setPipeline(pipeline.pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(groups[0]!, groups[1]!, groups[2]!);
    if (++this.pending >= maxPendingDispatches) this.flush();
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.pass?.end();
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pass = null;
    this.pending = 0;
    for (const b of this.retired) b.destroy();
    this.retired = [];
  }

  /** Writes host data into a buffer, ordered after all work recorded so far. */
  upload(buffer: GPUBuffer, data: ArrayBufferView, offsetBytes = 0): void {
    this.checkAlive('upload');
    this.flush();
    this.device.queue.writeBuffer(buffer, offsetBytes, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Buffer-to-buffer copy, ordered after all work recorded so far. */
  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number): void {
    this.checkAlive('copy');
    this.flush();
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
    this.device.queue.submit([enc.finish()]);
  }

  /** Copies `bytes` from a buffer back to the host, after all recorded work has run. */
  async read(buffer: GPUBuffer, bytes: number, op = 'toArray'): Promise<ArrayBuffer> {
    this.checkAlive(op);
    const staging = this.staging.pop() ?? null;
    const target =
      staging && staging.size >= bytes
        ? staging
        : this.device.createBuffer({ size: Math.max(bytes, 16), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    if (staging && target !== staging) this.staging.push(staging);
    this.flush();
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, 0, target, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await target.mapAsync(GPUMapMode.READ, 0, bytes);
    const out = target.getMappedRange(0, bytes).slice(0);
    target.unmap();
    this.staging.push(target);
    this.throwErrors(op);
    return out;
  }

  /**
   * Starts timing the GPU work recorded from now on (where the device has `timestamp-query`; false
   * where it has not). Work recorded before is flushed first, so it is not counted.
   */
  startGpuTiming(): boolean {
    if (!this.device.features.has('timestamp-query')) return false;
    this.flush();
    this.timer ??= new GpuTimer(this.device);
    this.timer.start();
    this.timing = true;
    return true;
  }

  /** GPU milliseconds of the work recorded since startGpuTiming(), or null when not timed. */
  async stopGpuTiming(): Promise<number | null> {
    if (!this.timing) return null;
    this.flush();
    this.timing = false;
    return this.timer!.stop((encoder) => this.device.queue.submit([encoder.finish()]));
  }

  /** Waits for all submitted work and reports any GPU error it raised. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwErrors('sync');
  }

  destroy(): void {
    this.flush();
    this.pool.trim();
    this.device.destroy();
  }

  private checkAlive(op: string): void {
    if (this.lostReason) throw new Error(`${op}: the GPU device was lost (${this.lostReason}); call init() again`);
    this.throwErrors(op);
  }

  private throwErrors(op: string): void {
    if (this.errors.length === 0) return;
    const msg = this.errors.join('\n');
    this.errors = [];
    throw new Error(`${op}: WebGPU reported an error: ${msg}`);
  }

  private pipeline(info: EntryInfo, constants: Record<string, number>, op: string): CachedPipeline {
    // Keyed in the caller's order of constants (no sort, no arrays: this runs on every dispatch);
    // the same constants given in another order only cost one more pipeline.
    let key = `${info.kernel}.${info.entry}|`;
    for (const k in constants) key += `${k}=${constants[k]},`;
    let p = this.pipelines.get(key);
    if (!p) {
      for (const k of Object.keys(constants)) {
        if (!info.overrides.has(k)) {
          throw new Error(
            `${op}: kernel ${info.kernel} has no override constant '${k}' (has: ${[...info.overrides.keys()].join(', ') || 'none'})`,
          );
        }
      }
      const wg = workgroupSize(info, constants);
      const invocations = wg[0] * wg[1] * wg[2];
      if (invocations > this.limits.maxComputeInvocationsPerWorkgroup) {
        throw new Error(
          `${op}: workgroup of ${invocations} invocations exceeds maxComputeInvocationsPerWorkgroup ` +
            `(${this.limits.maxComputeInvocationsPerWorkgroup})`,
        );
      }
      const module = this.shaderModule(info.kernel);
      const pipeline = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module, entryPoint: info.entry, constants },
      });
      p = { pipeline, layout: pipeline.getBindGroupLayout(0), id: this.nextId++ };
      this.pipelines.set(key, p);
    }
    return p;
  }

  private bindGroup(p: CachedPipeline, entries: GPUBindGroupEntry[]): GPUBindGroup {
    let key = `${p.id}`;
    for (const e of entries) {
      const buffer = (e.resource as GPUBufferBinding).buffer;
      let id = this.bufferIds.get(buffer);
      if (id === undefined) this.bufferIds.set(buffer, (id = this.nextId++));
      key += `,${e.binding}:${id}`;
    }
    let g = this.bindGroups.get(key);
    if (!g) {
      if (this.bindGroups.size >= maxCachedBindGroups) this.bindGroups.clear();
      g = this.device.createBindGroup({ layout: p.layout, entries });
      this.bindGroups.set(key, g);
    }
    return g;
  }

  private readonly modules = new Map<string, GPUShaderModule>();

  private shaderModule(kernel: string): GPUShaderModule {
    let m = this.modules.get(kernel);
    if (!m) {
      m = this.device.createShaderModule({ label: kernel, code: kernelSources[kernel]! });
      this.modules.set(kernel, m);
    }
    return m;
  }

  private bindGroupEntries(info: EntryInfo, d: Dispatch): GPUBindGroupEntry[] {
    const given = new Set(Object.keys(d.bindings));
    const entries: GPUBindGroupEntry[] = [];
    const maxBinding = this.limits.maxStorageBufferBindingSize;
    for (const [name, b] of info.bindings) {
      if (b.kind === 'uniform') {
        if (!d.params) throw new Error(`${d.op}: kernel ${info.kernel}.${info.entry} needs params for its uniform '${name}'`);
        entries.push({ binding: b.binding, resource: { buffer: this.uniform(packUniform(info, d.op, d.params)) } });
        continue;
      }
      // A vec4 view takes its scalar array's buffer.
      const viewOf = name.endsWith('4') && !(name in d.bindings) ? name.slice(0, -1) : name;
      if (!(viewOf in d.bindings))
        throw new Error(
          `${d.op}: kernel ${info.kernel}.${info.entry} needs binding '${name}' (given: ${Object.keys(d.bindings).join(', ')})`,
        );
      given.delete(viewOf);
      const v = d.bindings[viewOf] ?? (b.access === 'read_write' ? this.writablePlaceholder : this.placeholder);
      if ((v as { disposed?: boolean }).disposed) {
        const shape = (v as { shape?: readonly number[] }).shape ?? [];
        throw new Error(`${d.op}: tensor [${shape.join(', ')}] was disposed (bound as '${name}' of ${info.kernel}.${info.entry})`);
      }
      const buffer = 'buffer' in v ? v.buffer : v;
      if (buffer.size > maxBinding) {
        throw new Error(
          `${d.op}: binding '${name}' is ${buffer.size} bytes, over the adapter's maxStorageBufferBindingSize (${maxBinding} ` +
            `bytes); use a smaller batch or volume`,
        );
      }
      entries.push({ binding: b.binding, resource: { buffer } });
    }
    if (given.size > 0) {
      throw new Error(
        `${d.op}: kernel ${info.kernel}.${info.entry} has no binding ${[...given].map((g) => `'${g}'`).join(', ')} (has: ` +
          `${[...info.bindings.keys()].join(', ')})`,
      );
    }
    return entries;
  }

  /** Uniform buffers are cached by content: a training loop repeats the same shapes every step. */
  private uniform(bytes: ArrayBuffer): GPUBuffer {
    const key = Array.from(new Uint32Array(bytes)).join(',');
    let b = this.uniforms.get(key);
    if (!b) {
      if (this.uniforms.size >= maxCachedUniforms) {
        // Buffers may still be referenced by the open encoder: destroy them after the next submit.
        this.retired.push(...this.uniforms.values());
        this.uniforms.clear();
      }
      b = this.device.createBuffer({ size: bytes.byteLength, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
      new Uint8Array(b.getMappedRange()).set(new Uint8Array(bytes));
      b.unmap();
      this.uniforms.set(key, b);
    }
    return b;
  }
}

let current: Context | null = null;

/** Makes `ctx` the default context used by every op (init()), destroying the previous one. */
export function setContext(ctx: Context): void {
  if (current !== ctx) current?.destroy();
  current = ctx;
}

/** The context made by the last `init()`. */
export function getContext(): Context {
  if (!current) throw new Error('voxgpu: no GPU context; call `await init()` first');
  return current;
}
