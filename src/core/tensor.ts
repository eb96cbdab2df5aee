// GPU tensors: float32, row-major (NCDHW for volumes), backed by a pooled GPU buffer that views
// (reshape) share. Memory is returned to the pool by dispose(), by the enclosing tidy(), or, as a
// safety net, when the JS object is garbage-collected.
import { getContext, type Context } from '../device/context.js';
import { noGrad, runBackward, type GradNode } from './autograd.js';
import { trackInScope } from './scope.js';
import { checkShape, formatShape, type Shape, shapeSize } from './shape.js';

export { formatShape, type Shape, shapeSize };

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
    return this.withShape(this.shape, 'detach');
  }

  /** Returns the buffer to the pool. Safe to call twice; using the tensor afterwards throws. */
  dispose(): void {
    if (!this.storage) return;
    collected.unregister(this);
    this.storage.release();
    this.storage = null;
  }

  /**
   * The same data with another shape: a view over the same buffer (no copy), without autograd (for
   * that, reshape()/view()). Not PyTorch's view_as(other): this takes a shape.
   */
  withShape(shape: Shape, op = 'reshape'): Tensor {
    checkShape(shape, op);
    if (shapeSize(shape) !== this.size) {
      throw new Error(
        `${op}: cannot view shape ${formatShape(this.shape)} (${this.size} elements) as ${formatShape(shape)} ` +
          `(${shapeSize(shape)} elements)`,
      );
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
    throw new Error(
      `empty: shape ${formatShape(shape)} needs ${bytes} bytes, over the adapter's maxBufferSize (${ctx.limits.maxBufferSize})`,
    );
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

/** out += s · x over `out.size` elements, in place (kernels/map.wgsl `accumulate`). */
function accumulate(out: Tensor, x: Tensor, s = 1): void {
  const ctx = out.ctx;
  ctx.dispatch({
    op: 'backward',
    kernel: 'map',
    entry: 'accumulate',
    bindings: { x, out },
    params: { n: out.size, s },
    invocations: out.size,
  });
}

/** A tensor of `shape` filled with `value` (kernels/map.wgsl `fill`). */
function filled(shape: Shape, value: number): Tensor {
  const out = empty(shape);
  const ctx = out.ctx;
  ctx.dispatch({
    op: 'backward',
    kernel: 'map',
    entry: 'fill',
    bindings: { out },
    params: { n: out.size, s: value },
    invocations: out.size,
  });
  return out;
}

/**
 * into + g for autograd: in place when `into` is the only tensor on its buffer; otherwise (a view
 * shared with another gradient or with the caller's tensor, possibly with `g` itself) into a new tensor.
 */
function accumulateGrad(into: Tensor, g: Tensor): Tensor {
  if (!into.sharesBuffer) {
    accumulate(into, g);
    return into;
  }
  const total = filled(into.shape, 0);
  accumulate(total, into);
  accumulate(total, g);
  return total;
}

/**
 * Back-propagates from `root` (Tensor.backward()): seeds the gradient (ones for a one-element loss)
 * and runs the graph (src/core/autograd.ts), accumulating with the in-place kernel. It lives here, with
 * the two small kernels it needs, so that tensors do not depend on the ops built on top of them.
 */
export function backward(root: Tensor, gradient?: Tensor): void {
  if (!root.requiresGrad) {
    throw new Error(
      `backward: tensor ${formatShape(root.shape)} does not require grad (no input had requiresGrad, or it was made under noGrad)`,
    );
  }
  if (!gradient && root.size !== 1) {
    throw new Error(`backward: a gradient can only be implied for a one-element output, got shape ${formatShape(root.shape)}; pass one`);
  }
  if (gradient && (gradient.rank !== root.rank || gradient.shape.some((d, i) => d !== root.shape[i]))) {
    throw new Error(`backward: gradient shape ${formatShape(gradient.shape)} does not match output ${formatShape(root.shape)}`);
  }
  noGrad(() => {
    const seed = gradient ?? filled(root.shape, 1);
    try {
      runBackward(root, seed, accumulateGrad);
    } finally {
      if (!gradient) seed.dispose();
    }
  });
}
