// GPU tensors: float32, row-major (NCDHW for volumes), backed by a pooled GPU buffer that views
// (reshape) share. Memory is returned to the pool by dispose(), by the enclosing tidy(), or, as a
// safety net, when the JS object is garbage-collected.
import { getContext, type Context } from './device/context.js';
import type { GradNode } from './autograd.js';
import { trackInScope } from './memory.js';
// A cycle (backward needs kernels that make tensors), safe because neither side runs the other
// at load time; importing it here makes t.backward() work whichever module a user imports.
import { backward } from './ops/backward.js';

class Storage {
  private refs = 1;
  constructor(
    readonly ctx: Context,
    readonly buffer: GPUBuffer,
  ) {}
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs === 0) this.ctx.pool.release(this.buffer);
  }
  /** Whether more than one live tensor (views) holds this buffer. */
  get shared(): boolean {
    return this.refs > 1;
  }
}

const collected = new FinalizationRegistry<Storage>((s) => s.release());
let nextId = 1;

export type Shape = readonly number[];

export function shapeSize(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

function checkShape(shape: Shape, op: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${op}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

export class Tensor {
  readonly id = nextId++;
  readonly shape: Shape;
  readonly size: number;
  requiresGrad: boolean;
  /** Accumulated gradient of a leaf after backward(). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, for backward(); null for leaves and after backward. */
  node: GradNode | null = null;
  private storage: Storage | null;

  /** @internal Use tensor(), zeros(), empty() or an op to make tensors. */
  constructor(shape: Shape, storage: Storage, requiresGrad = false) {
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    this.storage = storage;
    this.requiresGrad = requiresGrad;
    collected.register(this, storage, this);
    trackInScope(this);
  }

  get ctx(): Context {
    return this.live('use').ctx;
  }

  get buffer(): GPUBuffer {
    return this.live('use').buffer;
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /** @internal Whether another live tensor (a view) uses the same buffer: writing in place would change it too. */
  get sharesBuffer(): boolean {
    return this.live('use').shared;
  }

  get isLeaf(): boolean {
    return this.node === null;
  }

  get rank(): number {
    return this.shape.length;
  }

  async toArray(): Promise<Float32Array> {
    const s = this.live('toArray');
    if (this.size === 0) return new Float32Array(0);
    return new Float32Array(await s.ctx.read(s.buffer, this.size * 4));
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item: tensor must have one element, got shape ${formatShape(this.shape)}`);
    return (await this.toArray())[0]!;
  }

  /** Back-propagates from this tensor (a one-element loss unless `gradient` is given). */
  backward(gradient?: Tensor): void {
    backward(this, gradient);
  }

  /** The same data without graph history, sharing the buffer. */
  detach(): Tensor {
    return this.viewAs(this.shape, 'detach');
  }

  /** Returns the buffer to the pool. Safe to call twice; using the tensor afterwards throws. */
  dispose(): void {
    if (!this.storage) return;
    collected.unregister(this);
    this.storage.release();
    this.storage = null;
  }

  /** A view with another shape over the same buffer (no copy), without autograd. */
  viewAs(shape: Shape, op = 'reshape'): Tensor {
    checkShape(shape, op);
    if (shapeSize(shape) !== this.size) {
      throw new Error(`${op}: cannot view shape ${formatShape(this.shape)} (${this.size} elements) as ${formatShape(shape)} (${shapeSize(shape)} elements)`);
    }
    const s = this.live(op);
    s.retain();
    return new Tensor(shape, s);
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}${this.requiresGrad ? ', requiresGrad' : ''}${this.disposed ? ', disposed' : ''})`;
  }

  private live(op: string): Storage {
    if (!this.storage) throw new Error(`${op}: tensor ${formatShape(this.shape)} was disposed`);
    return this.storage;
  }
}

export interface TensorOptions {
  requiresGrad?: boolean;
  ctx?: Context;
}

/** An uninitialised tensor (its contents are whatever the pooled buffer held). */
export function empty(shape: Shape, options: TensorOptions = {}): Tensor {
  checkShape(shape, 'empty');
  const ctx = options.ctx ?? getContext();
  const bytes = shapeSize(shape) * 4;
  if (bytes > ctx.limits.maxBufferSize) {
    throw new Error(`empty: shape ${formatShape(shape)} needs ${bytes} bytes, over the adapter's maxBufferSize (${ctx.limits.maxBufferSize})`);
  }
  return new Tensor(shape, new Storage(ctx, ctx.pool.acquire(bytes)), options.requiresGrad ?? false);
}

/** A tensor from host data; `shape` defaults to 1-D. */
export function tensor(data: ArrayLike<number>, shape?: Shape, options: TensorOptions = {}): Tensor {
  const s = shape ?? [data.length];
  checkShape(s, 'tensor');
  if (shapeSize(s) !== data.length) {
    throw new Error(`tensor: data has ${data.length} elements but shape ${formatShape(s)} needs ${shapeSize(s)}`);
  }
  const t = empty(s, options);
  if (t.size > 0) {
    const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
    t.ctx.upload(t.buffer, f32);
  }
  return t;
}
